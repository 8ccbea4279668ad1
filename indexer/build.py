"""Builds a knowledge base from a corpus folder into a new directory and swaps it in atomically."""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

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
from indexer.vectors import VectorMemo, document_vectors
from indexer.version import artifact_version, kb_version, status
from kb.core.settings import Settings
from kb.embed import LazyEmbedder
from kb.store import files as store
from kb.store.artifacts import DocArtifacts, DocCache, file_sha256

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


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
        cache = DocCache(s.kb_dir / "docs", s.embed_model, artifact_version(s))
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
        meta = store.write_kb(arts, tmp, s, chash, kb_version(s), t0)
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


def analyse(path: Path, entry: dict | None, embedder: LazyEmbedder, progress: Progress) -> DocArtifacts:
    """One document from file to artifacts: text and metadata, structure, chunks, vectors, tables, provisions."""
    progress(0.0, "读取文本")
    doc, found = load_document(path, entry)
    paragraphs = parse(doc)
    chunks = chunk_paragraphs(paragraphs, doc.text)
    memo = VectorMemo(embedder)
    # Sentence vectors too: a passage is as close to a question as its closest sentence (a long paragraph's
    # vector blurs the one sentence that answers), and the answerer compares sentences at query time.
    sentences = [(p, sp) for p in paragraphs if p.kind in TEXT_KINDS for sp in p.sentences]
    by_para: dict[int, list[int]] = {}
    for i, c in enumerate(chunks):
        by_para.setdefault(c.para_index, []).append(i)
    owners = [next(i for i in by_para[p.index] if chunks[i].start <= sp.start < chunks[i].end) for p, sp in sentences]
    chunk_vecs, sent_vecs = document_vectors(memo, embedder.s.passages.vectors, chunks, sentences, owners,
                                             lambda f, m: progress(0.1 + 0.85 * f, m))
    keys = [(sp.start, i) for (_, sp), i in zip(sentences, owners)]
    progress(0.95, "抽取结构化表格与条款")
    return DocArtifacts(document=doc, found=found, paragraphs=paragraphs, chunks=chunks, chunk_vectors=chunk_vecs,
                        sentence_keys=keys, sentence_vectors=sent_vecs, tables=extract_tables(doc, paragraphs),
                        provisions=extract_provisions(doc, paragraphs), model_id=memo.model_id)
