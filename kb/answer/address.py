"""Address lookup: "第N条规定了什么", "第N章讲什么", "专栏N列了哪些", "一共分几章" are answered from the document's
structure, not from whatever passage retrieval ranks first.

Every paragraph's heading path already says where it sits (第一章 总则 > 第十二条 > （一）, 四、… > 专栏3 …); this
module indexes those labels as addresses and quotes what lies under one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.answer.scope import Address
from kb.answer.verdict import Quote, Verdict, whole
from kb.core.figures import cn_to_int
from kb.core.records import Paragraph
from kb.core.text import compact

LABEL = re.compile(r"^第([零〇一二两三四五六七八九十百千\d]+)(章|节|条)")
BOX = re.compile(r"^专栏\s*(\d+)")
PART = re.compile(r"^([一二三四五六七八九十]+)、")
# "一共分几章", "各章是什么", "分为几节", "哪几部分": the question asks for the list of parts of some kind.
COUNT_PARTS = re.compile(r"(?<!第)(?:几|多少|哪几|各)个?(章|节|部分)")
# "在哪一章", "第几部分", "哪个节": the question asks where something is, i.e. which container holds it.
WHICH_PART = re.compile(r"(?:第几|哪一?个?)(章|节|部分)")
TEXT_KINDS = ("body", "item", "notice")
CONTAINERS = ("章", "节", "部分", "专栏")


def label_address(label: str, depth: int) -> Address | None:
    """The address a heading-path label stands for: 第十二条 → (条, 12); 专栏3 … → (专栏, 3); a top-level 四、… → (部分, 4)."""
    if m := LABEL.match(label):
        return Address(m.group(2), cn_to_int(m.group(1)))
    if m := BOX.match(label):
        return Address("专栏", int(m.group(1)))
    if depth == 0 and (m := PART.match(label)):
        return Address("部分", cn_to_int(m.group(1)))
    return None


@dataclass
class Scope:
    """The paragraphs under one address of one document, in document order."""

    doc_id: str
    address: Address
    depth: int  # index of the address's label in the heading path
    paragraphs: list[Paragraph]

    @property
    def heading(self) -> Paragraph | None:
        return next((p for p in self.paragraphs if len(p.section) == self.depth + 1
                     and p.kind in ("heading", "box_title")), None)

    @property
    def title(self) -> str:
        return " ".join(self.paragraphs[0].section[self.depth].split()) if self.paragraphs else ""


class AddressIndex:
    def __init__(self, paragraphs: dict[str, list[Paragraph]]):
        # Keyed by the path above the label too: sections are numbered afresh in each chapter (第二章 and 第三章
        # may both have a 第一节), while articles, numbered through the document, still get one scope each.
        self._scopes: dict[tuple[str, tuple[str, ...], Address], Scope] = {}
        for doc_id, paras in paragraphs.items():
            for p in paras:
                for depth, label in enumerate(p.section):
                    a = label_address(label, depth)
                    if a is None:
                        continue
                    above = tuple(p.section[:depth]) if a.kind == "节" else ()
                    sc = self._scopes.setdefault((doc_id, above, a), Scope(doc_id, a, depth, []))
                    if sc.depth == depth:
                        sc.paragraphs.append(p)

    def find(self, address: Address, docs: list[str] | frozenset[str] | None,
             within: Scope | None = None) -> list[Scope]:
        """Every scope with this address in `docs` (several 第一节 of one document, one per chapter); inside
        `within` only, if given."""
        out = [sc for (d, _, a), sc in self._scopes.items() if a == address and (docs is None or d in docs)]
        return [sc for sc in out if _inside(sc, within)] if within is not None else out

    def containers(self, p: Paragraph, kinds: set[str]) -> list[Paragraph]:
        """The headings of the containers of `kinds` (章/节/部分) that hold `p`, outermost first."""
        out = []
        for depth, label in enumerate(p.section):
            a = label_address(label, depth)
            if a is None or a.kind not in kinds:
                continue
            sc = self._scopes.get((p.doc_id, tuple(p.section[:depth]) if a.kind == "节" else (), a))
            if sc is not None and sc.depth == depth and (head := sc.heading) is not None:
                out.append(head)
        return out

    def parts(self, doc_id: str, kind: str, within: Scope | None = None) -> list[Scope]:
        """The document's containers of one kind (章/节/部分/专栏), in order; inside `within` if given."""
        out = [sc for (d, _, a), sc in self._scopes.items() if d == doc_id and a.kind == kind]
        if within is not None:
            out = [sc for sc in out if _inside(sc, within)]
        return sorted(out, key=lambda sc: sc.paragraphs[0].start if sc.paragraphs else 0)


def _inside(sc: Scope, within: Scope) -> bool:
    return bool(sc.paragraphs) and sc.doc_id == within.doc_id and any(p is sc.paragraphs[0] for p in within.paragraphs)


def quote_scope(sc: Scope, budget: int, clause: int = 0) -> list[Quote]:
    """What an address says: an article's paragraphs (whole sentences, within `budget` characters); a container's
    title, then its sub-parts' titles, or the opening of each of its articles/paragraphs — the opening sentence,
    cut after a clause once it has `clause` characters (0: never cut; see `opening`), so that a chapter is
    summarised by all its articles rather than by the first two quoted whole."""
    if sc.address.kind == "条":
        return _sentences([p for p in sc.paragraphs if p.kind in TEXT_KINDS], budget, prefix=sc.title + "：")
    out: list[Quote] = []
    head = sc.heading
    if head is not None:
        out.append(whole(head))
    sub = [p for p in sc.paragraphs if p.kind in ("heading", "box_title") and len(p.section) == sc.depth + 2]
    items = [p for p in sc.paragraphs if p.kind == "item" and p.lead and len(p.section) == sc.depth + 2]
    if len(sub) >= 2:
        out += [whole(p) for p in sub]
    elif len(items) >= 2:
        out += [Quote(p, p.start + p.text.index(p.lead), p.start + p.text.index(p.lead) + len(p.lead), p.lead)
                for p in items]
    else:
        # a law's chapter: the opening sentence of each article (or paragraph) in turn, as far as the budget goes
        firsts = [p for p in sc.paragraphs if p.kind in TEXT_KINDS and (p.kind == "item" or len(p.section) == sc.depth + 1)]
        seen: set[str] = set()
        used = 0
        for p in firsts:
            # one opening sentence per article (its list entries belong to it), else per paragraph
            key = next((lbl for lbl in p.section[sc.depth + 1:] if LABEL.match(lbl) and lbl.endswith("条")),
                       p.section_path)
            if key in seen or not p.sentences:
                continue
            seen.add(key)
            s = p.sentences[0]
            text = opening(s.text, clause)
            if used + len(text) > budget and used:
                break
            out.append(Quote(p, s.start, s.start + len(text), text))
            used += len(text)
    return out


CLAUSE_END = re.compile(r"[，；：,;:]")


def opening(sentence: str, least: int) -> str:
    """The opening of `sentence` that says something: clause by clause until at least `least` characters, and
    never ending on a condition or topic clause ("…的，", which only says of whom or what the rest speaks); the
    whole sentence when it is no longer, or when `least` is 0."""
    if not least or len(sentence) <= least:
        return sentence
    for m in CLAUSE_END.finditer(sentence):
        b = m.start()
        if b >= least and not sentence[:b].endswith("的"):
            return sentence[:b]
    return sentence


def _sentences(paras: list[Paragraph], budget: int, prefix: str = "") -> list[Quote]:
    """Whole sentences of the paragraphs, in order, until `budget` characters (at least one sentence)."""
    out: list[Quote] = []
    used = 0
    for p in paras:
        spans = [s for s in p.sentences]
        if not spans:
            continue
        take = []
        for s in spans:
            if used + len(s.text) > budget and (out or take):
                break
            take.append(s)
            used += len(s.text)
        if take:
            out.append(Quote(p, take[0].start, take[-1].end, "".join(
                p.text[s.start - p.start : s.end - p.start] for s in take) if len(take) > 1 else take[0].text))
        if len(take) < len(spans):
            break
    if out and prefix:
        out[0].prefix = prefix
    return out


def outline(index: AddressIndex, doc_id: str, kind: str, within: Scope | None) -> Verdict | None:
    """"一共分几章？各章是什么" → 共N章 and their titles (inside `within` for "第四章分为几节")."""
    parts = index.parts(doc_id, kind, within)
    if not parts:
        return None
    quotes = [whole(sc.heading) if sc.heading is not None else whole(sc.paragraphs[0]) for sc in parts]
    where = f"{within.title}" if within is not None else ""
    return Verdict(quotes=quotes, lead=f"{where}共{len(parts)}{'个' if kind in ('部分', '专栏') else ''}{kind}：")


def names_only_structure(question: str, doc_words: list[str], address_labels: list[str]) -> str:
    """The question minus its document name and addresses: what is left says whether it asks about something
    inside the address ("专栏6里德清要实现什么") or about the address as a whole ("第五章讲什么")."""
    q = compact(question)
    for w in doc_words + address_labels:
        q = q.replace(w, " ")
    return q
