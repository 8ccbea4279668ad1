"""Hybrid retrieval: BM25 over jieba tokens and FAISS over e5 vectors, fused by reciprocal rank."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

import faiss
import numpy as np

from kb.core.records import Chunk
from kb.core.segment import Segmenter
from kb.core.settings import IndexSettings, RetrievalSettings
from kb.core.timeexpr import expand_years
from kb.retrieval.expand import query_tokens, query_vector
from kb.retrieval.scope import scope_titles, scope_tokens, scoped_vector
from kb.store.files import KBData

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")


class HybridRetriever:
    """Our retriever over the chunks; `search` is the typed entry point. `retrieve` gives the same ranking as
    llama-index nodes (kb.retrieval.llama, imported only then: answering a question never loads llama-index)."""

    def __init__(self, data: KBData, segmenter: Segmenter, embed_query, mode: Mode = "hybrid",
                 params: RetrievalSettings | None = None, index: IndexSettings | None = None):
        self.p = params or RetrievalSettings()
        self.ip = index or IndexSettings()  # an approximate index's search breadth (a flat index ignores it)
        self.data = data
        self.segmenter = segmenter
        self.embed_query = embed_query  # str -> normalised vector; injected so tests can share one model
        self.mode = mode
        self.top_k = self.p.top_k
        self.docs: frozenset[str] | None = None  # restrict to these documents (see `restricted`); None = all

    def restricted(self, docs: set[str] | frozenset[str] | None, filters=None) -> "HybridRetriever":
        """The same retriever over only these documents: a light copy, so concurrent questions never share it.
        (`filters`, the DocFilter that chose `docs`, is for backends that filter by metadata; here docs say it all.)"""
        other = HybridRetriever(self.data, self.segmenter, self.embed_query, self.mode, self.p, self.ip)
        other.docs = frozenset(docs) if docs is not None else None
        return other

    def bm25_ranking(self, question: str, depth: int | None = None) -> list[tuple[int, float]]:
        # everyday words also search for the documents' terms (kb/retrieval/expand.py), in every backend alike
        tokens = query_tokens(question, self.segmenter, self.data.bm25.vocab_dict, self.p.expand)
        if self.p.scope_titles and self.docs:  # inside documents their titles' words tell no passage apart
            shared = scope_tokens(self.data, self.docs, self.segmenter)
            tokens = [t for t in tokens if t not in shared] or tokens
        if not tokens:
            return []
        k = min(depth or self.p.depth, len(self.data.chunks))
        mask = _chunk_mask(self.data, self.docs) if self.docs is not None else None
        # n_threads=0: bm25s scores in this thread (any other value starts a thread pool for each question).
        ids, scores = self.data.bm25.retrieve([tokens], k=k, show_progress=False, n_threads=0, weight_mask=mask)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]

    def query_vector(self, question: str):
        """The question's vector as dense retrieval uses it (the injected encoder caches it for the answerer)."""
        return query_vector(question, self.embed_query, self.p.rewrite_weight, self.segmenter.words)

    def dense_ranking(self, question: str, depth: int | None = None) -> list[tuple[int, float]]:
        """Chunks by their best vector: their own or one of their sentences' (several rows per chunk)."""
        depth = depth or self.p.depth
        vec = self.query_vector(question)
        if self.p.scope_titles and self.docs:  # inside the document it names, the question less its title
            vec = scoped_vector(vec, question, scope_titles(self.data, self.docs), self.embed_query, self.p.title_weight)
        vec = np.asarray(vec, dtype=np.float32).reshape(1, -1)
        index = self.data.faiss_index
        n = index.ntotal
        sel = None
        docs = self.docs
        if self.data.pending:  # documents whose vectors are still being computed have zero rows: never theirs
            docs = (docs if docs is not None else frozenset(self.data.documents)) - self.data.pending
            if not docs:
                return []
        if docs is not None:
            # FAISS skips the other documents' rows during the scan, so a small document is never crowded out.
            sel = faiss.IDSelectorBatch(_vector_rows(self.data, docs))
        ivf = isinstance(index, faiss.IndexIVF)
        params = faiss.SearchParametersIVF(sel=sel, nprobe=self.ip.nprobe) if ivf else (
            faiss.SearchParameters(sel=sel) if sel is not None else None)
        # Several rows per chunk (its sentences): 4 rows per wanted chunk; more for IVF, whose rows are re-scored.
        sims, rows = index.search(vec, min(depth * (self.ip.rescore_rows_per_chunk if ivf else 4), n), params=params)
        if ivf:  # quantised scores: re-score the candidates exactly from the memory-mapped rows, then re-sort
            found = rows[0][rows[0] >= 0]
            exact = np.asarray(self.data.vectors[np.sort(found)] @ vec[0], dtype=np.float32)
            order = np.argsort(-exact, kind="stable")
            rows, sims = np.sort(found)[order][None], exact[order][None]
        best: dict[int, float] = {}
        for row, sim in zip(rows[0], sims[0]):
            if row < 0:
                break
            chunk = int(self.data.vector_owner[int(row)])
            best.setdefault(chunk, float(sim))  # rows come best first: the first seen is the chunk's max
        return list(best.items())[:depth]

    def search(self, question: str, k: int = 10, mode: Mode | None = None) -> list[tuple[Chunk, float]]:
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"未知的检索模式 {mode!r}，可选：{', '.join(MODES)}")
        question = expand_years(question)  # "到25年" finds "到2025年" in every mode
        bm25 = self.bm25_ranking(question) if mode != "dense" else []
        # Dense also pads a BM25 list that is short (a question with no known words), so callers get k passages.
        dense = self.dense_ranking(question) if mode != "bm25" or len(bm25) < k else []
        fused = fuse([bm25, stand_in(dense, bm25, self.data)], self.p.rrf_k) if mode == "hybrid" else []
        ranked = {"bm25": bm25, "dense": dense, "hybrid": fused}[mode]
        if len(ranked) < k:
            seen = {i for i, _ in ranked}
            ranked += [(i, 0.0) for i, _ in dense if i not in seen]
        return [(self.data.chunks[i], score) for i, score in ranked[:k]]

    def retrieve(self, query):
        """llama-index's BaseRetriever.retrieve over this retriever: a list of NodeWithScore."""
        from kb.retrieval.llama import (
            LlamaRetriever,  # llama-index only for callers that want its API
        )

        return LlamaRetriever(self).retrieve(query)


# Per filter a mask over the chunks and the vector rows it allows (at 1M chunks ~4 MB and up to ~28 MB): the
# filters in use are few (the default "in force", a level, a region), and a miss costs a few ms to recompute.
@lru_cache(maxsize=16)
def _chunk_mask(data: KBData, docs: frozenset[str]) -> np.ndarray:
    return data.chunks.in_documents(docs).astype(np.float32)


@lru_cache(maxsize=16)
def _vector_rows(data: KBData, docs: frozenset[str]) -> np.ndarray:
    return np.flatnonzero(_chunk_mask(data, docs)[data.vector_owner]).astype(np.int64)


def stand_in(dense: list[tuple[int, float]], bm25: list[tuple[int, float]], data: KBData) -> list[tuple[int, float]]:
    """The dense ranking for fusion: a chunk of a pending document (no vectors yet) placed at its BM25 rank, as if
    its vector ranked it where its words do. Reciprocal-rank fusion would otherwise bury it for missing from one
    list: found first by BM25 alone it scores 1/61, under chunks found at rank 20 by both (2/80)."""
    if not data.pending:
        return dense
    out = list(dense)
    mine = _chunk_mask(data, data.pending)
    for rank, (i, score) in enumerate(bm25):  # in rank order, so each lands at its own rank
        if mine[i]:
            out.insert(rank, (i, score))
    return out


def fuse(rankings: list[list[tuple[int, float]]], k: int = RetrievalSettings().rrf_k) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: score(d) = Σ 1 / (k + rank of d in each list)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (i, _) in enumerate(ranking, start=1):
            scores[i] = scores.get(i, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])
