"""The KB's search indexes in Milvus: one collection per KB, kept in step with the KB files document by document.

One row per vector, as in the embedded FAISS index: a row per chunk (its e5 vector, its sparse BM25 vector and the
document metadata the filters need) and a row per sentence (its e5 vector; `chunk_id` names the chunk it belongs
to, so a grouped search ranks a chunk by its best vector). Primary keys are deterministic (the chunk id, or
doc_id#s<sentence start>), so writing a document twice leaves one copy.

BM25 is computed here, not by Milvus's BM25 function: the document side of the score (the saturated term frequency,
normalised by length) is stored as the chunk's sparse vector, the query side (IDF × count) is made at query time
from the KB's own BM25 statistics, so a sparse inner product is exactly the embedded backend's BM25 score. Milvus
Lite keeps BM25 statistics per segment and does not update them on delete, so its own function would drift after
documents are added or removed; its analyzers also cannot split text the way our jieba segmenter does.

`sync` makes the collection match a loaded KB: rows of documents no longer in it (or changed) are deleted, and every
document whose rows are not all there is written (delete-then-upsert by doc_id). A sync killed midway is finished by
the next one; a document added to or removed from the library costs one document's rows, not a rebuild.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from kb.core.settings import MilvusSettings
from kb.store.files import KBData

log = logging.getLogger(__name__)
SCHEMA = 1  # bump when the fields or what they hold change: an older collection is dropped and rebuilt
K1, B = 1.5, 0.75  # bm25s's defaults, which the embedded index uses
LAYOUT_PROPERTY = "kb_layout"  # collection property: the schema version, dimension and model it was made for
EMPTY_TERM = 0  # Milvus refuses an empty sparse vector: rows without terms get this id, which no token hashes to
META_FIELDS = ("level", "region", "issuer", "doc_type", "validity", "date")


class MilvusStoreError(RuntimeError):
    """Milvus cannot be reached or opened; the message says what to do."""


def term_id(token: str) -> int:
    """A token's sparse dimension: a stable hash, so adding a document never renumbers the others' terms.
    (Two tokens may share a dimension with probability ~ vocabulary² / 2³³; their weights then add up.)"""
    return zlib.crc32(token.encode("utf-8")) or 1


def bm25_doc_weights(tokens: list[str], avgdl: float) -> dict[int, float]:
    """The document side of bm25s's BM25 (Lucene variant): tf / (tf + k1·(1 − b + b·|d|/avgdl)) per term."""
    if not tokens:
        return {EMPTY_TERM: 1e-9}
    norm = K1 * (1 - B + B * len(tokens) / avgdl)
    weights: dict[int, float] = {}
    for tok, tf in Counter(tokens).items():
        tid = term_id(tok)
        weights[tid] = weights.get(tid, 0.0) + tf / (tf + norm)
    return weights


def bm25_query_weights(tokens: list[str], idf: dict[str, float]) -> dict[int, float]:
    """The query side: IDF per occurrence of each known token (bm25s sums a repeated query token twice)."""
    weights: dict[int, float] = {}
    for tok in tokens:
        if tok in idf:
            tid = term_id(tok)
            weights[tid] = weights.get(tid, 0.0) + idf[tok]
    return weights


@lru_cache(maxsize=8)
def kb_idf(data: KBData) -> dict[str, float]:
    """IDF of every token of the KB, from the embedded BM25 index's document frequencies (bm25s's Lucene IDF)."""
    bm = data.bm25
    indptr = bm.scores["indptr"]
    n = len(data.chunks)
    return {tok: float(np.log(1 + (n - (indptr[v + 1] - indptr[v]) + 0.5) / (indptr[v + 1] - indptr[v] + 0.5)))
            for tok, v in bm.vocab_dict.items() if v + 1 < len(indptr) and tok}


@dataclass
class SyncReport:
    written: list[str] = field(default_factory=list)  # doc_ids whose rows were (re)written
    deleted_rows: int = 0
    rows: int = 0  # rows in the collection afterwards


class MilvusStore:
    """One Milvus collection holding a KB's vectors; opened once per URI and process (see `open_store`)."""

    def __init__(self, p: MilvusSettings):
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        self.p = p
        self.name = p.collection
        local = not p.uri.startswith(("http://", "https://", "tcp://", "grpc://"))
        if local:
            Path(p.uri).parent.mkdir(parents=True, exist_ok=True)
            if _lite_locked(p.uri):  # said plainly here, before milvus-lite logs a traceback about it
                raise MilvusStoreError(_locked_message(p.uri))
        try:
            self.client = MilvusClient(p.uri)
        except MilvusException as e:
            raise MilvusStoreError(_open_error(p.uri, local, e)) from e

    # --- schema ---------------------------------------------------------------------------------------------
    def _layout(self, dim: int, model_id: str) -> str:
        return json.dumps({"schema": SCHEMA, "dim": dim, "model": model_id})

    def ensure_collection(self, dim: int, model_id: str) -> None:
        """Create the collection, or drop and recreate one made for another schema, model or dimension."""
        from pymilvus import DataType

        c, want = self.client, self._layout(dim, model_id)
        if c.has_collection(self.name):
            if (c.describe_collection(self.name).get("properties") or {}).get(LAYOUT_PROPERTY) == want:
                c.load_collection(self.name)  # a reopened collection starts released
                return
            log.info("Milvus 集合 %s 的结构或模型已变化，重新建立", self.name)
            c.drop_collection(self.name)
        s = c.create_schema(auto_id=False)
        s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=512)
        s.add_field("chunk_id", DataType.VARCHAR, max_length=512)
        s.add_field("doc_id", DataType.VARCHAR, max_length=256)
        s.add_field("doc_key", DataType.VARCHAR, max_length=64)  # fingerprint of what the document's rows hold
        s.add_field("is_chunk", DataType.BOOL)
        for f in META_FIELDS:
            s.add_field(f, DataType.VARCHAR, max_length=1024)
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        ip = c.prepare_index_params()
        ip.add_index("dense", index_type="HNSW", metric_type="IP",  # IP on normalised vectors = cosine
                     params={"M": self.p.hnsw_m, "efConstruction": self.p.hnsw_ef_construction})
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        for f in ("doc_id", "doc_key"):
            ip.add_index(f, index_type="INVERTED")
        c.create_collection(self.name, schema=s, consistency_level="Strong")
        # sync=False: waiting for the index uses an RPC Milvus Lite lacks (and an empty collection's index is ready)
        c.create_index(self.name, ip, sync=False)
        c.load_collection(self.name)
        c.alter_collection_properties(self.name, properties={LAYOUT_PROPERTY: want})  # last: marks it complete

    # --- writing --------------------------------------------------------------------------------------------
    def count(self, expr: str = "") -> int:
        res = self.client.query(self.name, filter=expr, output_fields=["count(*)"])
        return int(res[0]["count(*)"]) if res else 0

    def write_document(self, doc_id: str, rows: list[dict]) -> None:
        """Add or replace one document: its old rows go, the new ones are upserted (safe to repeat)."""
        self.remove_document(doc_id, keep_key=rows[0]["doc_key"] if rows else None)
        for i in range(0, len(rows), self.p.batch_rows):
            self.client.upsert(self.name, rows[i : i + self.p.batch_rows])
            log.debug("Milvus upsert %s: %d/%d rows", doc_id, min(i + self.p.batch_rows, len(rows)), len(rows))

    def remove_document(self, doc_id: str, keep_key: str | None = None) -> int:
        """Delete a document's rows (except those of version `keep_key`, which an upsert will overwrite)."""
        expr = f"doc_id == {quote(doc_id)}" + (f" and doc_key != {quote(keep_key)}" if keep_key else "")
        return self._delete(expr)

    def _delete(self, expr: str) -> int:
        res = self.client.delete(self.name, filter=expr)
        # {"delete_count": n} (omitted when 0), or the deleted primary keys themselves (Milvus Lite, some versions)
        return len(res) if isinstance(res, list) else int(res.get("delete_count", 0))

    def sync(self, data: KBData, tokens_of) -> SyncReport:
        """Make the collection hold exactly the KB's documents; `tokens_of(text)` is the KB's segmenter."""
        rep = SyncReport()
        self.ensure_collection(data.meta.dim, data.meta.model_id)
        plan = _doc_plan(data)
        expected = sum(n for _, n in plan.values())
        keys = [key for key, _ in plan.values()]
        # The quick check on every open: every row is of a current document version, and none is missing.
        if self.count() == expected and self.count(f"doc_key in {json.dumps(keys, ensure_ascii=False)}") == expected:
            rep.rows = expected
            return rep
        rep.deleted_rows = self._delete(f"doc_key not in {json.dumps(keys, ensure_ascii=False)}") if keys else 0
        rows_of = None
        for doc_id, (key, n) in plan.items():
            if self.count(f"doc_key == {quote(key)}") == n:
                continue  # written completely by an earlier sync
            rows_of = rows_of or _RowMaker(data, tokens_of)
            self.write_document(doc_id, rows_of.rows(doc_id, key))
            rep.written.append(doc_id)
            log.info("Milvus：已写入文档 %s（%d 行）", doc_id, n)
        self.client.flush(self.name)
        rep.rows = self.count()
        return rep

    def close(self) -> None:
        self.client.close()


class _RowMaker:
    """The rows of each document of a loaded KB: its chunks' and sentences' vectors, BM25 weights and metadata."""

    def __init__(self, data: KBData, tokens_of):
        self.data = data
        self.tokens = [tokens_of(c.index_text) for c in data.chunks]
        # Average length over the whole KB, as bm25s uses it (an empty chunk counts as one token, as indexed there)
        self.avgdl = float(np.mean([max(1, len(t)) for t in self.tokens])) if self.tokens else 1.0
        n = len(data.chunks)
        # Exact float32 rows: the KB's memory-mapped vector file where it keeps one (an IVF index holds only
        # quantised codes and cannot reconstruct rows), else the flat FAISS index's own rows.
        exact = getattr(data, "vectors", None)
        self.chunk_vecs = exact[:n] if exact is not None else data.faiss_index.reconstruct_n(0, n)
        self.by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(data.chunks):
            self.by_doc.setdefault(c.doc_id, []).append(i)
        self.sentences: dict[str, list[tuple[int, int]]] = {}  # doc_id -> (sentence start, row)
        for (doc_id, start), row in data.sentence_rows.items():
            self.sentences.setdefault(doc_id, []).append((start, row))

    def rows(self, doc_id: str, key: str) -> list[dict]:
        data, m = self.data, self.data.documents[doc_id].meta
        base = {"doc_id": doc_id, "doc_key": key, **doc_fields(m)}
        out = []
        for i in self.by_doc.get(doc_id, []):
            c = data.chunks[i]
            out.append(dict(base, pk=c.chunk_id, chunk_id=c.chunk_id, is_chunk=True,
                            sparse=bm25_doc_weights(self.tokens[i], self.avgdl), dense=self.chunk_vecs[i].tolist()))
        n = len(data.chunks)
        for start, row in self.sentences.get(doc_id, []):
            c = data.chunks[int(data.vector_owner[n + row])]
            out.append(dict(base, pk=f"{doc_id}#s{start}", chunk_id=c.chunk_id, is_chunk=False,
                            sparse={EMPTY_TERM: 1e-9}, dense=data.sentence_vectors[row].tolist()))
        return out


def doc_fields(m) -> dict[str, str]:
    """The metadata the filters test, as stored: an unset validity means in force, as DocFilter reads it."""
    return {"level": m.level, "region": m.region, "issuer": m.issuer, "doc_type": m.doc_type,
            "validity": m.validity or "现行", "date": m.date or ""}


def _doc_plan(data: KBData) -> dict[str, tuple[str, int]]:
    """doc_id -> (fingerprint of its rows' content, number of rows). The fingerprint covers the chunks, the model,
    the indexing code, the metadata and the dictionary terms it contains, so a change to any of them rewrites the
    document. Not the KB's average chunk
    length: BM25 normalises by it, but rewriting every document when one is added would be a rebuild; the other
    documents keep the average of when they were written until the collection is rebuilt (README)."""
    n_chunks = Counter(c.doc_id for c in data.chunks)
    n_sents = Counter(doc_id for doc_id, _ in data.sentence_rows)
    texts: dict[str, list[str]] = {}
    for c in data.chunks:
        texts.setdefault(c.doc_id, []).append(f"{c.chunk_id}\0{c.index_text}")
    plan = {}
    for doc_id, doc in data.documents.items():
        # The corpus-wide dictionary terms (quoted names) that occur in this document decide how it is segmented:
        # a document that brings a new one re-segments the others that contain it, and only those.
        terms = [t for t in data.meta.terms if t in doc.text]
        # A pending document (no vectors yet: zero dense rows, no sentence rows) is rewritten once it has them.
        raw = json.dumps([SCHEMA, data.meta.model_id, data.meta.pipeline, doc_fields(doc.meta), texts.get(doc_id, []),
                          n_sents[doc_id], terms] + (["pending"] if doc_id in data.pending else []),
                         ensure_ascii=False)
        plan[doc_id] = (hashlib.sha256(raw.encode()).hexdigest()[:32], n_chunks[doc_id] + n_sents[doc_id])
    return {d: v for d, v in plan.items() if v[1]}


def quote(value: str) -> str:
    """A string literal for a Milvus expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lite_locked(uri: str) -> bool:
    """Whether another process holds Milvus Lite's lock on this data folder (pymilvus does not say why it failed)."""
    lock = Path(uri) / "LOCK"
    if not lock.exists():
        return False
    with open(lock, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def _locked_message(uri: str) -> str:
    return (f"Milvus Lite 数据文件 {uri} 正被另一个进程使用（Milvus Lite 只允许一个进程打开同一个文件）。"
            "请先关闭那个进程，或把 MILVUS_URI 设为 Milvus 服务的地址（如 http://主机:19530）。")


def _open_error(uri: str, local: bool, e: Exception) -> str:
    chain, cause = [], e
    while cause is not None:
        chain.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    if local and _lite_locked(uri):
        return _locked_message(uri)
    where = f"Milvus Lite 数据文件 {uri}" if local else f"Milvus 服务 {uri}"
    return f"无法打开{where}：{chain[-1] if chain else e}"


_STORES: dict[str, MilvusStore] = {}


def open_store(p: MilvusSettings) -> MilvusStore:
    """One client per URI and process (a Milvus Lite file can be opened only once); a store per collection."""
    key = f"{p.uri}\0{p.collection}"
    if key not in _STORES:
        _STORES[key] = MilvusStore(p)
    return _STORES[key]
