"""The one place the search backend is chosen (Settings.backend, from KB_BACKEND): the embedded BM25 + FAISS
indexes of the KB files, or a Milvus collection kept in step with them."""
from __future__ import annotations

import logging

from kb.core.segment import Segmenter
from kb.core.settings import Settings
from kb.retrieval.hybrid import HybridRetriever
from kb.store.files import KBData

log = logging.getLogger(__name__)


def make_retriever(s: Settings, data: KBData, segmenter: Segmenter, embed_query):
    """A retriever for this KB: HybridRetriever, or MilvusRetriever after bringing the collection up to date."""
    if s.backend != "milvus":
        return HybridRetriever(data, segmenter, embed_query, params=s.retrieval, index=s.index)
    from kb.retrieval.milvus import MilvusRetriever
    from kb.store.milvus import open_store

    store = open_store(s.milvus)
    rep = store.sync(data, segmenter.tokens)
    if rep.written or rep.deleted_rows:
        log.info("Milvus 集合 %s 已更新：写入 %d 篇文档，删除 %d 行，共 %d 行", store.name, len(rep.written),
                 rep.deleted_rows, rep.rows)
    return MilvusRetriever(data, segmenter, embed_query, store, s.milvus, params=s.retrieval)
