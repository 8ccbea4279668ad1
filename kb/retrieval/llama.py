"""HybridRetriever behind llama-index's BaseRetriever API, for code that composes llama-index pipelines. Kept apart
so that answering a question never imports llama-index (a second or more of start-up)."""
from __future__ import annotations

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from kb.retrieval.hybrid import HybridRetriever


class LlamaRetriever(BaseRetriever):
    def __init__(self, retriever: HybridRetriever):
        super().__init__()
        self.inner = retriever

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [
            NodeWithScore(node=TextNode(id_=c.chunk_id, text=c.text,
                                        metadata={"doc_id": c.doc_id, "section": c.section_path}), score=score)
            for c, score in self.inner.search(query_bundle.query_str, k=self.inner.top_k)
        ]
