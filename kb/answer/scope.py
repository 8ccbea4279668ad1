"""What a question pins down about *where* the answer must come from: a document it names, and an address inside
it (第N条 / 第N章 / 第N节 / 专栏N / 第N部分).

A document is named the way people name it: its full title, the title without 中华人民共和国, or a short form whose
characters occur in the title in order and that ends like the title (道交法 → 道路交通安全法, 环保税法 → 环境保护税法,
报废车管理办法 → 报废机动车回收管理办法). Nothing here knows any particular document: titles come from the KB.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Mapping
from functools import lru_cache

from kb.core.figures import cn_to_int
from kb.core.national import country
from kb.core.records import DocMeta
from kb.core.settings import DATA_DIR
from kb.core.text import compact, unquote

CN_NUM = "零〇一二两三四五六七八九十百千"
# A document's genre word at the end of its title; a short form must end with the same word.
GENRE_ENDS = ("实施条例", "条例", "办法", "规定", "细则", "规划", "纲要", "意见", "通知", "方案", "决定", "法")
# A number is written in one script: "专栏7四个领域" is 专栏7 followed by 四个, not 专栏74. (A section's number may
# be in brackets, as its heading writes it: 第（五）节.)
ADDRESS = re.compile(rf"第\s*[（(]?([{CN_NUM}]+|\d+)[）)]?\s*(条|章|节|部分)|专栏\s*(\d+|[{CN_NUM}]+)")
MIN_SHORT = 3  # characters a short form must have (道交法); "本法", "该法" name nothing
MIN_SHARE = 0.3  # and the share of the title it must spell out ("促进条例" names no one of several 促进条例)


@dataclass(frozen=True)
class Address:
    kind: str  # 条 / 章 / 节 / 部分 / 专栏
    number: int

    @property
    def label(self) -> str:
        return f"专栏{self.number}" if self.kind == "专栏" else f"第{_cn(self.number)}{self.kind}"


def addresses(question: str) -> list[Address]:
    out = []
    for m in ADDRESS.finditer(compact(question)):
        if m.group(3):
            out.append(Address("专栏", cn_to_int(m.group(3))))
        else:
            out.append(Address(m.group(2), cn_to_int(m.group(1))))
    return [a for a in dict.fromkeys(out) if a.number > 0]


def _genre(title: str) -> str:
    return next((g for g in GENRE_ENDS if title.endswith(g)), "")


def _subsequence(short: str, title: str) -> bool:
    it = iter(title)
    return all(ch in it for ch in short)


def spells_title(fragment: str, title: str) -> bool:
    """`fragment` is an in-order piece of `title` (道交 of 道路交通安全法): a word of a question naming it."""
    return _subsequence(unquote(compact(fragment)), unquote(compact(title)))


def named_documents(question: str, docs: dict[str, DocMeta], texts: Mapping[str, str] | None = None) -> list[str]:
    """The doc_ids the question names, best first ([] when it names none). A name in 《》 must match a title;
    otherwise the longest fragment of the question that is an in-order short form of a title wins; failing that
    (with `texts`), a short form with the document's own key word in it (三包规定 for a 规定 on 修理更换退货 that
    says 三包 throughout)."""
    q = unquote(compact(question))
    titles = {d: unquote(compact(m.title)) for d, m in docs.items()}
    quoted = re.findall(r"《([^》]+)》", q)
    scored: dict[str, float] = {}
    for name in quoted:
        for d, t in titles.items():
            core = t.removeprefix(country())
            if name in (t, core) or (name.endswith(_genre(t) or "\0") and _subsequence(name, t) and len(name) >= MIN_SHORT):
                scored[d] = max(scored.get(d, 0.0), 10.0 + len(name) / max(1, len(core)))
    if not scored:
        for d, t in titles.items():
            genre, core = _genre(t), t.removeprefix(country())
            if not genre:
                continue
            best = 0.0
            for end in (m.end() for m in re.finditer(re.escape(genre), q)):
                # grow the fragment leftwards while it stays an in-order short form of the title
                start = end - len(genre)
                while start > 0 and _subsequence(q[start - 1 : end], core):
                    start -= 1
                frag = q[start:end]
                if len(frag) >= MIN_SHORT and len(_distinctive(frag)) >= 2:
                    # share of the title the fragment spells out; a contiguous piece of it counts more
                    best = max(best, len(frag) / len(core) + (0.5 if frag in core else 0.0))
            if best >= MIN_SHARE:
                scored[d] = best
    if not scored and texts:
        scored = _named_by_key_word(q, docs, texts)
    return [d for d, _ in sorted(scored.items(), key=lambda kv: -kv[1])]


KEY_WORD_USES = 5  # times a document must use a word for the word to name it


def _named_by_key_word(q: str, docs: dict[str, DocMeta], texts: Mapping[str, str]) -> dict[str, float]:
    """"家用汽车三包规定": characters of a title in order (家用汽车…规定) around one word that is not in the title but
    that the document itself uses throughout (三包)."""
    scored: dict[str, float] = {}
    for d, meta in docs.items():
        core = unquote(compact(meta.title)).removeprefix(country())
        genre = _genre(core)
        if not genre or d not in texts:
            continue
        for m in re.finditer(re.escape(genre), q):
            run = re.search(r"[\u4e00-\u9fff]{0,14}$", q[:m.start()]).group()
            run = run[next((i for i, ch in enumerate(run) if ch in core), len(run)):]
            # greedy in-order match against the title; what the title lacks must be one contiguous word
            matched, pos, pieces = 0, 0, [""]
            for ch in run:
                k = core.find(ch, pos)
                if k >= 0:
                    matched, pos = matched + 1, k + 1
                    if pieces[-1]:
                        pieces.append("")
                else:
                    pieces[-1] += ch
            words = [w for w in pieces if w]
            if matched >= 4 and len(words) == 1 and 2 <= len(words[0]) <= 4 \
                    and texts[d].count(words[0]) >= KEY_WORD_USES:
                scored[d] = max(scored.get(d, 0.0), (matched + len(genre)) / len(core))
    return scored


@lru_cache(maxsize=1)
def _title_words() -> tuple[str, ...]:
    lines = (DATA_DIR / "title_words.txt").read_text(encoding="utf-8").splitlines()
    return tuple(sorted((w.strip() for w in lines if w.strip() and not w.startswith("#")), key=len, reverse=True))


def _distinctive(fragment: str) -> str:
    """The fragment without the words every title uses: what is left must say which document is meant."""
    for w in _title_words():
        fragment = fragment.replace(w, "")
    return fragment


def _cn(n: int) -> str:
    """124 → 一百二十四 (how article numbers are written)."""
    import cn2an

    return cn2an.an2cn(str(n), "low")
