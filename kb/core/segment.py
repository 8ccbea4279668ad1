"""Chinese segmentation for BM25: NFKC, jieba precise mode with a domain dictionary, stopwords, whole abbreviations."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from functools import lru_cache

import jieba

from kb.core.settings import DATA_DIR
from kb.core.text import CJK, normalize

jieba.setLogLevel(logging.WARNING)

DATA = DATA_DIR
# Abbreviations and codes (BMS, V2G, SiC, L2, 5G-V2X, 70MPa, DC/DC) must stay one token, whatever jieba thinks.
ASCII_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9+\-/.]*[A-Za-z0-9+]|[A-Za-z0-9]")
# Corpus terms worth adding to the dictionary: quoted names (“万亩千亿”) and named enterprises (三花集团).
QUOTED = re.compile(r"“([\u4e00-\u9fff0-9A-Za-z]{2,10})”")
# Two-character brand + a suffix that only companies take; longer prefixes would swallow the verb before it.
ENTERPRISE = re.compile(r"([\u4e00-\u9fff]{2}(?:集团|股份|钴业|光学|威视))")

STOPWORDS = frozenset(
    """的 了 和 与 及 以及 或 等 在 是 为 对 将 把 被 由 从 向 于 中 上 下 内 其 之 也 都 并 而 且 即 则
    我 我们 你 你们 他们 这 那 这个 那个 这些 那些 哪 哪个 哪些 哪里 什么 怎么 怎样 如何 多少 几 几个 几座 吗 呢 吧 啊
    有 有没有 是否 是不是 会 能 能否 可以 要 需要 请问 请 一下 关于 规定 提到 提出 说 讲 有关 相关 方面 情况
    ？ ? ， , 。 、 ； ; ： : ！ ! “ ” ‘ ’ （ ） ( ) 《 》 — - … · /""".split()
)


def corpus_terms(texts: list[str]) -> list[str]:
    """Domain terms found in the corpus itself, to add to jieba's dictionary at build time."""
    found: set[str] = set()
    for t in texts:
        found.update(QUOTED.findall(t))
        found.update(ENTERPRISE.findall(t))
    return sorted(found)


def base_terms() -> list[str]:
    lines = (DATA / "nev_terms.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


class Segmenter:
    """jieba with our dictionary; one instance per term list, since jieba's dictionary is global state.

    `dictionary`: jieba's word frequencies with these terms already added, and their total (`dictionary()` of a
    Segmenter built from the same terms), e.g. a lookup table stored in the KB: questions then need not load
    jieba's 350,000-word dictionary (~1 s) for the few hundred words they look up.
    `base`: jieba's own table without our terms (a writable mapping and its total), to which the terms are added
    as they would be to jieba's loaded dictionary (a build then need not load it either)."""

    def __init__(self, extra_terms: list[str] = (), dictionary: tuple[Mapping[str, int], int] | None = None,
                 base: tuple[MutableMapping[str, int], int] | None = None):
        self.terms = sorted(set(base_terms()) | set(extra_terms))
        self._jieba = jieba.Tokenizer()
        if dictionary is not None or base is not None:
            self._jieba.FREQ, self._jieba.total = dictionary if dictionary is not None else base
            self._jieba.initialized = True
        if dictionary is not None:
            return
        for term in self.terms:
            # A high frequency makes jieba prefer the whole term over its parts in precise mode.
            self._jieba.add_word(normalize(term), freq=100000)

    def dictionary(self) -> tuple[dict[str, int], int]:
        """jieba's word → frequency table (prefixes at 0) with our terms added, and the frequencies' total."""
        self._jieba.check_initialized()
        return self._jieba.FREQ, self._jieba.total

    def words(self, text: str) -> list[str]:
        """Precise-mode words, stopwords and punctuation kept: for display and question analysis."""
        out: list[str] = []
        pos = 0
        text = normalize(text)
        for m in ASCII_TERM.finditer(text):
            out += self._jieba.lcut(text[pos : m.start()], HMM=True)
            out.append(m.group())
            pos = m.end()
        out += self._jieba.lcut(text[pos:], HMM=True)
        return [w for w in (w.strip() for w in out) if w]

    def tokens(self, text: str) -> list[str]:
        """Index tokens: precise-mode words minus stopwords, plus the dictionary sub-words of long words.

        Sub-words (加氢站 → 加氢) let a question that names part of a compound still match it, as jieba's
        search mode does; the whole word is kept so exact matches score higher.
        """
        out: list[str] = []
        for w in self.words(text):
            if w in STOPWORDS or not (CJK.search(w) or w[0].isalnum()):
                continue
            out.append(w)
            if len(w) > 2 and CJK.search(w):
                out += [w[i : i + n] for n in range(2, len(w)) for i in range(len(w) - n + 1)
                        if w[i : i + n] != w and self._jieba.FREQ.get(w[i : i + n])]
        return out


@lru_cache(maxsize=4)
def segmenter(extra_terms: tuple[str, ...] = ()) -> Segmenter:
    return Segmenter(list(extra_terms))
