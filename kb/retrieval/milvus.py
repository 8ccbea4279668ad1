"""Hybrid retrieval served by Milvus (KB_BACKEND=milvus): the same rankings as kb.retrieval.hybrid, from a collection
that kb.store.milvus keeps in step with the KB. Chunk texts still come from the KB files; Milvus does the search."""
from __future__ import annotations

from functools import lru_cache

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from kb.core.records import Chunk
from kb.core.segment import Segmenter
from kb.core.settings import MilvusSettings, RetrievalSettings
from kb.core.timeexpr import expand_years
from kb.retrieval.expand import query_tokens, query_vector
from kb.retrieval.filters import ALL_VALIDITY, DocFilter
from kb.retrieval.hybrid import MODES, Mode, fuse, stand_in
from kb.retrieval.scope import scope_titles, scope_tokens, scoped_vector
from kb.store.files import KBData
from kb.store.milvus import MilvusStore, bm25_query_weights, kb_idf, quote


def expression(f: DocFilter) -> str:
    """A DocFilter as a Milvus boolean expression over the rows' metadata fields (empty: no restriction)."""
    parts = []
    if f.validity not in ALL_VALIDITY:
        parts.append(f"validity == {quote(f.validity)}")
    for key in ("level", "doc_id"):
        if value := getattr(f, key):
            parts.append(f"{key} == {quote(value)}")
    for key in ("region", "issuer", "doc_type"):  # substring matches, as DocFilter.accepts
        if value := getattr(f, key):
            parts.append(f"{key} like {_like_pattern(value)}")
    if f.date_from or f.date_to:
        parts.append('date != ""')  # an undated document is in no date range
    if f.date_from:
        parts.append(f"date >= {quote(f.date_from)}")
    if f.date_to:
        # "2021" includes all of 2021: the date's prefix of that length ≤ 2021, i.e. date < "2021~" ("~" sorts
        # after the digits and "-" of an ISO date).
        parts.append(f"date < {quote(f.date_to + '~')}")
    return " and ".join(parts)


def _like_pattern(value: str) -> str:
    # In a `like` pattern % and _ are wildcards; a backslash makes them literal (and is itself escaped in the literal).
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return quote("%" + escaped + "%")


class MilvusRetriever(BaseRetriever):
    """HybridRetriever's public API (search, bm25_ranking, dense_ranking, query_vector, restricted) over Milvus."""

    def __init__(self, data: KBData, segmenter: Segmenter, embed_query, store: MilvusStore, milvus: MilvusSettings,
                 mode: Mode = "hybrid", params: RetrievalSettings | None = None):
        super().__init__()
        self.p = params or RetrievalSettings()
        self.data = data
        self.segmenter = segmenter
        self.embed_query = embed_query
        self.store = store
        self.milvus = milvus
        self.mode = mode
        self.top_k = self.p.top_k
        self.docs: frozenset[str] | None = None
        self.expr = ""  # the Milvus filter expression that selects `docs`

    def restricted(self, docs: set[str] | frozenset[str] | None, filters: DocFilter | None = None) -> "MilvusRetriever":
        """The same retriever over only these documents: the filter that chose them, as a Milvus expression (or,
        without it, the document ids)."""
        other = MilvusRetriever(self.data, self.segmenter, self.embed_query, self.store, self.milvus, self.mode, self.p)
        if docs is not None:
            other.docs = frozenset(docs)
            other.expr = expression(filters) if filters is not None else \
                f"doc_id in [{', '.join(quote(d) for d in sorted(docs))}]"
        return other

    def _where(self, *parts: str) -> str:
        return " and ".join(f"({p})" for p in (*parts, self.expr) if p)

    def _dense_where(self) -> str:
        """The dense search's filter: also never a document whose vectors are pending (its rows are zeros)."""
        pending = self.data.pending
        return self._where(f"doc_id not in [{', '.join(quote(d) for d in sorted(pending))}]" if pending else "")

    def _sparse_query(self, question: str) -> dict[int, float]:
        tokens = query_tokens(question, self.segmenter, self.data.bm25.vocab_dict, self.p.expand)
        if self.p.scope_titles and self.docs:  # as the embedded backend: no title words inside the documents
            shared = scope_tokens(self.data, self.docs, self.segmenter)
            tokens = [t for t in tokens if t not in shared] or tokens
        return bm25_query_weights(tokens, kb_idf(self.data))

    def bm25_ranking(self, question: str, depth: int | None = None) -> list[tuple[int, float]]:
        q = self._sparse_query(question)
        if not q:
            return []
        hits = self.store.client.search(self.store.name, data=[q], anns_field="sparse", limit=depth or self.p.depth,
                                        filter=self._where("is_chunk"), output_fields=["chunk_id"])[0]
        return self._ranked(hits, positive=True)

    def query_vector(self, question: str):
        return query_vector(question, self.embed_query, self.p.rewrite_weight, self.segmenter.words)

    def _scoped_vector(self, question: str) -> list[float]:
        vec = self.query_vector(question)
        if self.p.scope_titles and self.docs:  # as the embedded backend: the question less its document's title
            vec = scoped_vector(vec, question, scope_titles(self.data, self.docs), self.embed_query, self.p.title_weight)
        return [float(x) for x in vec]

    def dense_ranking(self, question: str, depth: int | None = None) -> list[tuple[int, float]]:
        """Chunks by their best vector (their own or a sentence's): the rows grouped by chunk_id."""
        vec = self._scoped_vector(question)
        hits = self.store.client.search(self.store.name, data=[vec], anns_field="dense", limit=depth or self.p.depth,
                                        filter=self._dense_where(), group_by_field="chunk_id",
                                        search_params={"params": {"ef": self.milvus.ef}},
                                        output_fields=["chunk_id"])[0]
        return self._ranked(hits)

    def _server_hybrid(self, question: str) -> list[tuple[int, float]]:
        """One hybrid_search fused by Milvus's RRFRanker (MilvusSettings.fusion = "server")."""
        from pymilvus import AnnSearchRequest, RRFRanker

        q = self._sparse_query(question)
        vec = self._scoped_vector(question)
        depth = self.p.depth
        # Each request carries the filter itself: hybrid_search(filter=…) is ignored by Milvus Lite.
        reqs = [AnnSearchRequest([vec], "dense", {"ef": self.milvus.ef}, depth * 4, expr=self._dense_where())]
        if q:
            reqs.insert(0, AnnSearchRequest([q], "sparse", {}, depth, expr=self._where("is_chunk")))
        hits = self.store.client.hybrid_search(self.store.name, reqs, RRFRanker(self.p.rrf_k), limit=depth,
                                               group_by_field="chunk_id", output_fields=["chunk_id"])[0]
        return self._ranked(hits)

    def _ranked(self, hits, positive: bool = False) -> list[tuple[int, float]]:
        index = _chunk_index(self.data)
        out = []
        for h in hits:
            i = index.get(h["entity"]["chunk_id"])
            if i is not None and (h["distance"] > 0 or not positive):
                out.append((i, float(h["distance"])))
        return out

    def search(self, question: str, k: int = 10, mode: Mode | None = None) -> list[tuple[Chunk, float]]:
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"未知的检索模式 {mode!r}，可选：{', '.join(MODES)}")
        question = expand_years(question)
        # With documents pending, fused here: Milvus's own RRF would bury them for their missing vectors (stand_in).
        if mode == "hybrid" and self.milvus.fusion == "server" and not self.data.pending:
            ranked = self._server_hybrid(question)
            dense = []
        else:
            bm25 = self.bm25_ranking(question) if mode != "dense" else []
            dense = self.dense_ranking(question) if mode != "bm25" or len(bm25) < k else []
            fused = fuse([bm25, stand_in(dense, bm25, self.data)], self.p.rrf_k) if mode == "hybrid" else []
            ranked = {"bm25": bm25, "dense": dense, "hybrid": fused}[mode]
        if len(ranked) < k:
            seen = {i for i, _ in ranked}
            ranked += [(i, 0.0) for i, _ in (dense or self.dense_ranking(question)) if i not in seen]
        return [(self.data.chunks[i], score) for i, score in ranked[:k]]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(id_=c.chunk_id, text=c.text,
                                        metadata={"doc_id": c.doc_id, "section": c.section_path}), score=score)
            for c, score in self.search(query_bundle.query_str, k=self.top_k)
        ]


@lru_cache(maxsize=8)
def _chunk_index(data: KBData) -> dict[str, int]:
    return {c.chunk_id: i for i, c in enumerate(data.chunks)}
