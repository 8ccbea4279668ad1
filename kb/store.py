"""The knowledge base on disk: its layout, its freshness check and loading it into memory."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import bm25s
import faiss
import numpy as np
from pydantic import BaseModel

from kb.config import Settings
from kb.provisions import Provision
from kb.schema import Chunk, Document, Paragraph

FORMAT = 5  # bump when the on-disk layout or chunking changes, so old KBs are rebuilt
CURRENT = "current"
META_FILE = "meta.json"
DOCS_FILE = "documents.jsonl"
PARAS_FILE = "paragraphs.jsonl"
CHUNKS_FILE = "chunks.jsonl"
BM25_DIR = "bm25"
FAISS_FILE = "faiss.index"
TABLES_FILE = "tables.sqlite"
OWNER_FILE = "vector_owner.npy"  # FAISS row -> chunk: rows are the chunks, then their sentences
SENT_KEYS_FILE = "sentences.json"
PROVISIONS_FILE = "provisions.jsonl"


class KBMeta(BaseModel):
    format: int
    corpus_hash: str
    corpus_dir: str = ""  # the folder it was built from: commands given only --kb keep using it
    pipeline: str = ""  # indexer.cache.pipeline_version(): a KB built by other extraction code is stale
    embed_model: str
    model_id: str
    dim: int
    terms: list[str]
    n_docs: int
    n_chunks: int
    built_at: str
    build_seconds: float


class KBError(RuntimeError):
    """The KB directory is missing, stale or unreadable; the message says which."""


def current_dir(kb_dir: Path) -> Path:
    return (kb_dir / CURRENT).resolve()


def switch_current(kb_dir: Path, build_dir: Path) -> None:
    """Point `current` at a finished build: a symlink created aside and renamed over the old one is atomic."""
    tmp_link = kb_dir / f".{CURRENT}.{os.getpid()}"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    tmp_link.symlink_to(build_dir.relative_to(kb_dir))
    os.replace(tmp_link, kb_dir / CURRENT)


def read_meta(kb_dir: Path) -> KBMeta:
    path = kb_dir / CURRENT / META_FILE
    if not path.exists():
        raise KBError(f"知识库不存在或不完整：{kb_dir}")
    try:
        return KBMeta.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise KBError(f"知识库元数据损坏：{path}（{e}）") from e


def status(s: Settings) -> Literal["ok", "missing", "stale", "corrupt"]:
    """Whether the KB at s.kb_dir can be used for s.corpus_dir and s.embed_model as it is."""
    from indexer.cache import pipeline_version
    from indexer.loader import corpus_hash  # the hash must be computed exactly as the build does

    if not (s.kb_dir / CURRENT / META_FILE).exists():
        return "missing"
    try:
        meta = read_meta(s.kb_dir)
    except KBError:
        return "corrupt"
    if meta.format != FORMAT or meta.embed_model != s.embed_model or meta.pipeline != pipeline_version():
        return "stale"
    if s.corpus_dir.is_dir() and meta.corpus_hash != corpus_hash(s.corpus_dir):
        return "stale"
    return "ok"


def _read_jsonl(path: Path, model):
    with open(path, encoding="utf-8") as fh:
        return [model.model_validate_json(line) for line in fh if line.strip()]


@dataclass(eq=False)  # identity hash: per-KB caches key on it
class KBData:
    """Everything a query needs, loaded from one build directory."""

    path: Path
    meta: KBMeta
    documents: dict[str, Document]
    paragraphs: dict[str, list[Paragraph]]
    chunks: list[Chunk]
    bm25: bm25s.BM25
    faiss_index: faiss.Index
    vector_owner: np.ndarray
    sentence_vectors: np.ndarray
    sentence_rows: dict[tuple[str, int], int]  # (doc_id, sentence start) -> row of sentence_vectors
    provisions: list[Provision]  # clauses that support, encourage, pilot or fund someone (eligibility)

    @property
    def tables_path(self) -> Path:
        return self.path / TABLES_FILE


def load(kb_dir: Path) -> KBData:
    """Load the current build; any unreadable part raises KBError so the caller can rebuild."""
    meta = read_meta(kb_dir)
    path = current_dir(kb_dir)
    try:
        docs = _read_jsonl(path / DOCS_FILE, Document)
        paras = _read_jsonl(path / PARAS_FILE, Paragraph)
        chunks = _read_jsonl(path / CHUNKS_FILE, Chunk)
        bm25 = bm25s.BM25.load(str(path / BM25_DIR))
        index = faiss.read_index(str(path / FAISS_FILE))
        owner = np.load(path / OWNER_FILE)
        sent_keys = json.loads((path / SENT_KEYS_FILE).read_text(encoding="utf-8"))
        provisions = _read_jsonl(path / PROVISIONS_FILE, Provision)
    except (OSError, ValueError, RuntimeError, json.JSONDecodeError) as e:
        raise KBError(f"知识库文件损坏：{path}（{type(e).__name__}: {e}）") from e
    if (len(chunks) != meta.n_chunks or index.ntotal != len(chunks) + len(sent_keys) or index.d != meta.dim
            or owner.shape != (index.ntotal,)):
        raise KBError(f"知识库文件不一致：{path}（段落 {len(chunks)}，向量 {index.ntotal}）")
    sent_vecs = index.reconstruct_n(len(chunks), len(sent_keys))
    by_doc: dict[str, list[Paragraph]] = {}
    for p in paras:
        by_doc.setdefault(p.doc_id, []).append(p)
    return KBData(path=path, meta=meta, documents={d.meta.doc_id: d for d in docs}, paragraphs=by_doc,
                  chunks=chunks, bm25=bm25, faiss_index=index, vector_owner=owner, sentence_vectors=sent_vecs,
                  sentence_rows={(d, start): i for i, (d, start) in enumerate(sent_keys)}, provisions=provisions)
