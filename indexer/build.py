"""Builds a knowledge base from a corpus folder into a new directory and swaps it in atomically."""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np

from indexer.chunker import TEXT_KINDS, chunk_paragraphs
from indexer.loader import (
    CorpusError,
    check_unique,
    corpus_files,
    corpus_hash,
    doc_id_of,
    load_document,
    make_meta,
    read_manifest,
)
from indexer.provisions import extract_provisions
from indexer.structure import parse
from indexer.tables import extract_tables
from indexer.version import artifact_version, kb_version, status
from kb.core.settings import Settings
from kb.embed import LazyEmbedder
from kb.store import files as store
from kb.store.artifacts import DocArtifacts, DocCache, file_sha256

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
EMBED_BATCH = 64
VECTORS_MEMO = "passage-vectors.sqlite"


def say(fraction: float, message: str) -> None:
    """The default progress report: a log line per step (stderr, through kb.core.logs)."""
    log.info("[%4.0f%%] %s", fraction * 100, message)


@contextmanager
def build_lock(kb_dir: Path, name: str = ".lock"):
    """One build at a time per KB directory (the app and a CLI may both decide to build); `name` gives another
    lock of the same kind (the library's, held around a build)."""
    kb_dir.mkdir(parents=True, exist_ok=True)
    with open(kb_dir / name, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(s: Settings, progress: Progress = say, force: bool = False, embedder=None) -> Path:
    """Build the KB for `s.corpus_dir` into `s.kb_dir` unless an up-to-date one is there; return its path.

    Each document's artifacts (text, structure, chunks, vectors, tables, provisions) come from the per-document
    cache when its content is unchanged, so adding or removing one document embeds only what is new. The
    corpus-wide parts (BM25 statistics, the FAISS matrix, the tables database) are then assembled afresh.
    Everything is written into a fresh directory under builds/; only when it is complete does the `current`
    link switch to it (an atomic rename), so a build killed midway leaves the previous KB usable.
    `embedder`: an already loaded Embedder to use instead of loading the model (tests, the running app).
    """
    with build_lock(s.kb_dir):
        if not force and status(s) == "ok":  # another process may have built it while we waited
            return store.current_dir(s.kb_dir)
        t0 = time.perf_counter()
        builds = s.kb_dir / "builds"
        builds.mkdir(exist_ok=True)
        for stale in builds.glob(".tmp-*"):  # left by a killed build; we hold the lock, so it is not in use
            shutil.rmtree(stale, ignore_errors=True)

        progress(0.02, "读取语料")
        chash = corpus_hash(s.corpus_dir)
        manifest = read_manifest(s.corpus_dir)
        files = corpus_files(s.corpus_dir)
        check_unique([(doc_id_of(p, manifest.get(p.name)), p.name) for p in files])
        cache = DocCache(s.kb_dir / "docs", s.embed_model, artifact_version())
        embedder = LazyEmbedder(s, embedder)
        arts: list[DocArtifacts] = []
        keys: set[str] = set()
        for n, path in enumerate(files):
            entry = manifest.get(path.name)
            key = cache.key(doc_id_of(path, entry), file_sha256(path), str((entry or {}).get("title", "")))
            keys.add(key)
            a = cache.get(key)
            if a is None:
                lo, hi = 0.05 + 0.8 * n / len(files), 0.05 + 0.8 * (n + 1) / len(files)
                a = analyse(path, entry, embedder, lambda f, m: progress(lo + (hi - lo) * f, f"{m}（{path.name}）"))
                cache.put(key, a)
            else:
                a.document.meta = make_meta(path, entry, a.found)  # metadata edits need no re-embedding
            arts.append(a)
        if not any(a.chunks for a in arts):
            raise CorpusError("语料中没有可索引的正文段落")

        tmp = builds / f".tmp-{os.getpid()}-{int(time.time())}"
        tmp.mkdir()
        progress(0.86, "合并索引")
        meta = store.write_kb(arts, tmp, s, chash, kb_version(), t0)
        stamp = f"{datetime.now():%Y%m%d-%H%M%S}-{chash[:8]}-{os.getpid()}"
        final, n = builds / stamp, 1
        while final.exists():  # two builds of one corpus within a second (every vector known): never the live one
            final, n = builds / f"{stamp}-{n}", n + 1
        tmp.rename(final)
        store.switch_current(s.kb_dir, final)
        for old in builds.iterdir():
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
        cache.keep_only(keys)
        progress(1.0, f"知识库已建立：{meta.n_docs} 篇文档，{meta.n_chunks} 个段落，用时 {meta.build_seconds} 秒")
        return final


class VectorMemo:
    """Passage vectors already computed for this KB, by text: a revised document (most of a policy is unchanged),
    a repeated paragraph or a rebuilt cache entry re-embeds only new text; when every text is known the model is
    not even loaded (its id comes from its folder's files, kb.embed.model_id). Kept in
    <kb>/passage-vectors.sqlite, for one model: cleared when the model or its files change."""

    def __init__(self, embedder: LazyEmbedder):
        self.embedder = embedder
        s = embedder.s
        s.kb_dir.mkdir(parents=True, exist_ok=True)
        self.model_id: str = embedder.model_id
        self.db = sqlite3.connect(s.kb_dir / VECTORS_MEMO)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        self.db.execute("CREATE TABLE IF NOT EXISTS model (id TEXT NOT NULL)")
        row = self.db.execute("SELECT id FROM model").fetchone()
        if not row or row[0] != self.model_id:  # another model (or its files changed): nothing here is valid
            with self.db:
                self.db.execute("DELETE FROM vec")
                self.db.execute("DELETE FROM model")
                self.db.execute("INSERT INTO model VALUES (?)", (self.model_id,))
        self._salt = f"{s.embed_model}\0{s.passage_prefix}\0".encode()

    def embed(self, texts: list[str], what: str, progress: Progress) -> np.ndarray:
        """Vectors of `texts` (passage prefix), computing only unknown texts, shortest first in batches of
        EMBED_BATCH (little padding), with a progress message per batch."""
        keys = [hashlib.sha256(self._salt + t.encode()).digest()[:16] for t in texts]
        known: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self.db.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part)
            known.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        todo = sorted({k: i for i, k in enumerate(keys) if k not in known}.values(), key=lambda i: len(texts[i]))
        reused = len(texts) - len(todo)
        for b in range(0, len(todo), EMBED_BATCH):
            progress(b / max(1, len(todo)), f"计算{what}向量 {b}/{len(todo)}（其余 {reused} 个沿用已有向量）")
            batch = todo[b : b + EMBED_BATCH]
            vecs = self.embedder.get().embed_passages([texts[i] for i in batch], batch_size=EMBED_BATCH)
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                    [(keys[i], v.astype(np.float32).tobytes()) for i, v in zip(batch, vecs)])
            known.update((keys[i], v) for i, v in zip(batch, vecs))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        progress(1.0, f"{what}向量完成：计算 {len(todo)} 个，沿用 {reused} 个")
        return np.stack([known[k] for k in keys]).astype(np.float32)

    @property
    def dim(self) -> int:
        row = self.db.execute("SELECT v FROM vec LIMIT 1").fetchone()
        return len(row[0]) // 4 if row else self.embedder.get().dim


def analyse(path: Path, entry: dict | None, embedder: LazyEmbedder, progress: Progress) -> DocArtifacts:
    """One document from file to artifacts: text and metadata, structure, chunks, vectors, tables, provisions."""
    progress(0.0, "读取文本")
    doc, found = load_document(path, entry)
    paragraphs = parse(doc)
    chunks = chunk_paragraphs(paragraphs, doc.text)
    memo = VectorMemo(embedder)
    chunk_vecs = memo.embed([c.index_text for c in chunks], "段落",
                            lambda f, m: progress(0.1 + 0.5 * f, m))
    # Sentence vectors too: a passage is as close to a question as its closest sentence (a long paragraph's
    # vector blurs the one sentence that answers), and the answerer compares sentences at query time.
    sentences = [(p, sp) for p in paragraphs if p.kind in TEXT_KINDS for sp in p.sentences]
    sent_vecs = memo.embed([f"{p.section[-1]}：{sp.text}" for p, sp in sentences], "句子",
                           lambda f, m: progress(0.6 + 0.35 * f, m))
    by_para: dict[int, list[int]] = {}
    for i, c in enumerate(chunks):
        by_para.setdefault(c.para_index, []).append(i)
    keys = [(sp.start, next(i for i in by_para[p.index] if chunks[i].start <= sp.start < chunks[i].end))
            for p, sp in sentences]
    progress(0.95, "抽取结构化表格与条款")
    return DocArtifacts(document=doc, found=found, paragraphs=paragraphs, chunks=chunks, chunk_vectors=chunk_vecs,
                        sentence_keys=keys, sentence_vectors=sent_vecs, tables=extract_tables(doc, paragraphs),
                        provisions=extract_provisions(doc, paragraphs), model_id=memo.model_id)
