"""Searching inside documents: the words of their titles say nothing there.

A question that names a document ("按循环经济促进法，……罚多少钱？") is searched within that document only. Every
passage of it is about what its title says, so the title's words tell no passage from another; yet BM25 weighs them
by their rarity in the whole corpus, which favours the passages that repeat them (电动自行车 three times) over the
one that answers, and they pull the question's vector towards the document as a whole. Within a scope, retrieval
uses the question without them: BM25 drops the title's tokens, and a question that quotes the title (≥ 4 characters
of it) has the title's direction taken out of its vector, q − w·t renormalised (the title's vector is one encoder
call per document, cached, where encoding the question again without the title would cost one per question).
Per-document dev sets, kb: hit@5 0.868 → 0.921, key-fact recall 0.729 → 0.769 (re-encoding the question without the
title: the same hit@5, key-fact recall 0.749; w = 0.6 / 0.8 / 1.0 give hit@5 0.914 / 0.921 / 0.914).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from kb.core.text import compact
from kb.store.files import KBData

MIN_RUN = 4  # characters a question must share with a title to be the title (道交法 alone is no run of it)


@lru_cache(maxsize=64)
def scope_titles(data: KBData, docs: frozenset[str]) -> tuple[str, ...]:
    """The titles of the documents a search is restricted to."""
    return tuple(data.documents[d].meta.title for d in sorted(docs) if d in data.documents)


@lru_cache(maxsize=64)
def scope_tokens(data: KBData, docs: frozenset[str], segmenter) -> frozenset[str]:
    """The BM25 tokens a search restricted to `docs` leaves out of its query."""
    return frozenset(title_tokens(scope_titles(data, docs), segmenter))


def title_tokens(titles: Sequence[str], segmenter) -> set[str]:
    """The index tokens every one of `titles` has: the words that are the scope itself."""
    sets = [set(segmenter.tokens(t)) for t in titles]
    return set.intersection(*sets) if sets else set()


def without_titles(question: str, titles: Sequence[str], min_run: int = MIN_RUN) -> str:
    """`question` less every run of ≥ `min_run` characters that occurs in each of `titles` (whitespace ignored).
    The question is returned unchanged when nothing would be left of it."""
    keys = [compact(t) for t in titles]
    if not keys:
        return question
    out: list[str] = []
    i = 0
    while i < len(question):
        j = i
        while j < len(question) and all(question[i : j + 1] in k for k in keys):
            j += 1
        if j - i >= min_run:
            i = j
        else:
            out.append(question[i])
            i += 1
    rest = "".join(out)
    return rest if rest.strip("，。？?！!、；;：:《》“”\"' ") else question


def scoped_vector(vec, question: str, titles: Sequence[str], embed_query, weight: float) -> np.ndarray:
    """The question's vector `vec` inside one document whose title it quotes: less `weight` × the title's vector,
    renormalised. Unchanged for several documents, or a question that does not quote the title."""
    vec = np.asarray(vec, dtype=np.float32)
    if len(titles) != 1 or not weight or without_titles(question, titles) == question:
        return vec
    out = vec - weight * np.asarray(embed_query(titles[0]), dtype=np.float32)
    norm = float(np.linalg.norm(out))
    return out / norm if norm > 0 else vec
