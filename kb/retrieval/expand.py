"""Query expansion for paraphrases: everyday words ("电瓶车", "开车的", "充电的地方") also search for the standard
terms the documents use (kb/data/colloquial.txt). Only terms the index knows are added, so the expansion can
neither add noise from words no document uses nor change a question that already uses the documents' words."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from kb.core.settings import DATA_DIR
from kb.core.text import normalize
from kb.core.timeexpr import expand_years


def _entries(file: str) -> list[tuple[str, tuple[str, ...]]]:
    """A word → terms file (one entry per line: the word, a tab, terms separated by spaces; # comments), in normal
    form."""
    out = []
    for line in (DATA_DIR / file).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        word, terms = line.split("\t", 1)
        out.append((normalize(word.strip()), tuple(normalize(t) for t in terms.split() if t)))
    return out


@lru_cache(maxsize=1)
def lexicon() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted(_entries("colloquial.txt"), key=lambda e: -len(e[0])))  # longest everyday phrase first


@lru_cache(maxsize=1)
def _by_first_char() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    out: dict[str, list] = {}
    for word, terms in lexicon():  # longest first within each first character
        out.setdefault(word[:1], []).append((word, terms))
    return {c: tuple(v) for c, v in out.items()}


def everyday_words(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """The everyday words of `text` (in normal form) read left to right, the longest at each position: (start, end,
    standard terms). "不烧油的车" is 不烧油 (新能源汽车) then 车, not 烧油的车 (燃油汽车) inside it; 充电的地方 is not
    also 充电."""
    first = _by_first_char()
    out, i = [], 0
    while i < len(text):
        hit = next(((w, t) for w, t in first.get(text[i], ()) if text.startswith(w, i)), None)
        if hit:
            out.append((i, i + len(hit[0]), hit[1]))
            i += len(hit[0])
        else:
            i += 1
    return out


def expansions(question: str) -> list[str]:
    """Standard terms for the everyday words of `question` that the question does not already contain (the
    retriever keeps only the tokens of them its index knows)."""
    q = normalize(question)
    out = [t for _, _, terms in everyday_words(q) for t in terms if t not in q]
    return list(dict.fromkeys(out))


def forms_in(question: str, term: str) -> list[str]:
    """`term` and the standard terms for it: its own, and those of the everyday word of `question` it is part of
    (烧油 in "不烧油的车" is 新能源汽车, not 燃油)."""
    q = normalize(question)
    at = q.find(term)
    around = [t for s, e, terms in everyday_words(q) if at >= 0 and s <= at and at + len(term) <= e for t in terms]
    return list(dict.fromkeys([term, *(around or expansions(term))]))


def rewritten(question: str, words) -> str:
    """The question in the documents' words: each everyday word replaced by its first standard term ("电瓶车能带人
    吗" → "电动自行车能带人吗"), unless the question already names one of its terms. In normal form. Only a word
    that is whole words of the question (`words`: precise-mode segmentation): the 卖电 of 卖电瓶车 is no 卖电."""
    q = normalize(question)
    cuts, pos = {0}, 0
    for w in words(q):
        at = q.find(w, pos)
        if at >= 0:
            cuts |= {at, at + len(w)}
            pos = at + len(w)
    spans: list[tuple[int, int, str]] = []  # (start, end, term), the longest everyday words first
    for word, terms in lexicon():
        if not terms or any(t in q for t in terms):
            continue
        for i in _positions(q, word):
            end = i + len(word)
            if i in cuts and end in cuts and not any(i < e and s < end for s, e, _ in spans):
                spans.append((i, end, terms[0]))
    out, pos = [], 0
    for start, end, term in sorted(spans):
        out += [q[pos:start], term]
        pos = end
    return "".join(out) + q[pos:]


def _positions(text: str, word: str) -> list[int]:
    out, i = [], text.find(word)
    while i >= 0:
        out.append(i)
        i = text.find(word, i + 1)
    return out


def query_vector(question: str, embed, weight: float, words):
    """The question's vector for dense retrieval and for the answerer's similarity: a question in everyday words
    is embedded again in the documents' words and the two vectors mixed (`weight` the rewritten one's share), since
    e5-small places "电瓶车" far from "电动自行车" (dev paraphrases hit@5 0.788 → 0.848 at 0.5). One more encoding,
    only for a question with an everyday word of the lexicon."""
    vec = embed(expand_years(question))
    other = rewritten(question, words)
    if weight <= 0 or other == normalize(question):
        return vec
    mixed = (1 - weight) * np.asarray(vec, dtype=np.float32) + weight * np.asarray(embed(expand_years(other)),
                                                                                  dtype=np.float32)
    return mixed / np.linalg.norm(mixed)


def query_tokens(question: str, segmenter, vocab, expand: bool = True) -> list[str]:
    """The BM25 query tokens every backend uses: the question's index tokens the index knows, then (with `expand`)
    those of the standard terms for its everyday words."""
    tokens = [t for t in segmenter.tokens(question) if t in vocab]
    if expand:
        extra = " ".join(expansions(question))
        tokens += [t for t in dict.fromkeys(segmenter.tokens(extra)) if t in vocab and t not in tokens]
    return tokens


@lru_cache(maxsize=1)
def _broader() -> dict[str, tuple[str, ...]]:
    return dict(_entries("broader.txt"))


def broader(term: str) -> tuple[str, ...]:
    """The broader classes a text may name `term` by (新能源汽车 → 汽车 机动车 车辆; kb/data/broader.txt)."""
    return _broader().get(normalize(term), ())
