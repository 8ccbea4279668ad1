"""Builds a knowledge base from a corpus folder into a new directory and swaps it in atomically."""
from __future__ import annotations

import dataclasses
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
VECTORS_LOCK = ".vectors.lock"  # one completion of pending vectors at a time (`complete`)


class Cancelled(Exception):
    """Raised by a progress callback to stop a build or a completion at its next step (nothing is switched)."""


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


def build(s: Settings, progress: Progress = say, force: bool = False, embedder=None, defer: bool = False,
          known: dict[str, DocArtifacts] | None = None) -> Path:
    """Build the KB for `s.corpus_dir` into `s.kb_dir` unless an up-to-date one is there; return its path.

    Each document's artifacts (text, structure, chunks, vectors, tables, provisions) come from the per-document
    cache when its content is unchanged, so adding or removing one document embeds only what is new. The
    corpus-wide parts (BM25 statistics, the FAISS matrix, the tables database) are then assembled afresh.
    Everything is written into a fresh directory under builds/; only when it is complete does the `current`
    link switch to it (an atomic rename), so a build killed midway leaves the previous KB usable.
    `embedder`: an already loaded Embedder to use instead of loading the model (tests, the running app).
    `defer` (a staged library change): a document not in the cache is analysed but not embedded, unless the vector
    memo knows all its texts; the KB lists it as pending, searchable by keywords at once, and `complete` (or any
    build without `defer`) embeds it. At least one document must have vectors, else they are computed after all.
    `known`: artifacts already made for these cache keys (the document an add has just read), used once.
    """
    with build_lock(s.kb_dir):
        if not force and status(s) == "ok" and (defer or not pending(s)):  # maybe built while we waited
            return store.current_dir(s.kb_dir)
        t0 = time.perf_counter()
        builds = s.kb_dir / "builds"
        builds.mkdir(exist_ok=True)
        for stale in builds.glob(".tmp-*"):  # left by a killed build; we hold the lock, so it is not in use
            shutil.rmtree(stale, ignore_errors=True)

        progress(0.02, "读取语料")
        chash = corpus_hash(s.corpus_dir)
        cache = DocCache(s.kb_dir / "docs", s.embed_model, artifact_version(s))
        docs = corpus_documents(s.corpus_dir, cache)
        embedder = LazyEmbedder(s, embedder)
        arts: list[DocArtifacts] = []
        for n, (path, entry, key) in enumerate(docs):
            lo, hi = 0.05 + 0.8 * n / len(docs), 0.05 + 0.8 * (n + 1) / len(docs)
            step = lambda f, m: progress(lo + (hi - lo) * f, f"{m}（{path.name}）")  # noqa: E731
            a = cache.get(key)
            cached = a is not None
            if a is None:
                a = (known or {}).get(key)
            if a is not None:
                a.document.meta = make_meta(path, entry, a.found)  # metadata edits need no re-embedding
            if a is None:
                a = analyse(path, entry, embedder, step, vectors=not defer)
            elif a.pending and not defer:
                a = with_vectors(a, embedder, step)
            if not cached and not a.pending:
                cache.put(key, a)
            arts.append(a)
        if not any(a.chunks for a in arts):
            raise CorpusError("语料中没有可索引的正文段落")
        if all(a.pending for a in arts):  # no vectors to give the rows' dimension: embed now after all
            arts = [with_vectors(a, embedder, progress) for a in arts]
            for (_, _, key), a in zip(docs, arts):
                cache.put(key, a)

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
        cache.keep_only({key for _, _, key in docs})
        waiting = f"，其中 {len(meta.pending)} 篇待计算语义向量" if meta.pending else ""
        progress(1.0, f"知识库已建立：{meta.n_docs} 篇文档，{meta.n_chunks} 个段落{waiting}，用时 {meta.build_seconds} 秒")
        return final


def corpus_documents(corpus_dir: Path, cache: DocCache) -> list[tuple[Path, dict | None, str]]:
    """(file, manifest entry, cache key) of every document of the corpus, in build order."""
    manifest = read_manifest(corpus_dir)
    files = corpus_files(corpus_dir)
    check_unique([(doc_id_of(p, manifest.get(p.name)), p.name) for p in files])
    return [(p, manifest.get(p.name), cache.key(doc_id_of(p, manifest.get(p.name)), file_sha256(p),
                                                str((manifest.get(p.name) or {}).get("title", "")))) for p in files]


def pending(s: Settings) -> list[str]:
    """The documents of the current KB whose vectors are still to be computed (none when there is no KB)."""
    try:
        return store.read_meta(s.kb_dir).pending
    except store.KBError:
        return []


def complete(s: Settings, progress: Progress = say, embedder=None) -> list[str]:
    """The second stage of a staged library change: embed the documents the current KB lists as pending, then
    switch to a KB with their vectors (assembled from the cache, so the same as a full build's). The embedding runs
    outside the build lock, so a library change meanwhile is not held up by it; one completion runs at a time.
    The doc_ids completed (none when nothing was pending)."""
    with build_lock(s.kb_dir, VECTORS_LOCK):
        waiting = pending(s)
        if not waiting:
            return []
        cache = DocCache(s.kb_dir / "docs", s.embed_model, artifact_version(s))
        lazy = LazyEmbedder(s, embedder)
        try:
            docs = corpus_documents(s.corpus_dir, cache)
        except CorpusError:
            docs = []
        todo = [(p, e, k) for p, e, k in docs if doc_id_of(p, e) in waiting and cache.get(k) is None]
        for n, (path, entry, key) in enumerate(todo):
            lo, hi = 0.9 * n / len(todo), 0.9 * (n + 1) / len(todo)
            a = analyse(path, entry, lazy, lambda f, m: progress(lo + (hi - lo) * f, f"{m}（{path.name}）"))
            with build_lock(s.kb_dir):  # a build meanwhile prunes the cache: never under a half-written entry
                cache.put(key, a)
        # Only assembles (every vector is cached now); a document changed meanwhile is embedded here.
        build(s, progress=lambda f, m: progress(0.9 + 0.1 * f, m), embedder=embedder)
        return waiting


def analyse(path: Path, entry: dict | None, embedder: LazyEmbedder, progress: Progress,
            vectors: bool = True) -> DocArtifacts:
    """One document from file to artifacts: text and metadata, structure, chunks, tables, provisions, vectors.
    `vectors=False`: pending artifacts (no vectors), unless the vector memo already knows every text."""
    progress(0.0, "读取文本")
    doc, found = load_document(path, entry)
    paragraphs = parse(doc)
    chunks = chunk_paragraphs(paragraphs, doc.text)
    sentences, owners = _sentences(paragraphs, chunks)
    keys = [(sp.start, i) for (_, sp), i in zip(sentences, owners)]
    progress(0.05, "抽取结构化表格与条款")
    a = DocArtifacts(document=doc, found=found, paragraphs=paragraphs, chunks=chunks, chunk_vectors=None,
                     sentence_keys=keys, sentence_vectors=None, tables=extract_tables(doc, paragraphs),
                     provisions=extract_provisions(doc, paragraphs), model_id=embedder.model_id)
    if vectors:
        return with_vectors(a, embedder, lambda f, m: progress(0.1 + 0.9 * f, m))
    try:  # a document whose every text is known (a version put back, an unchanged replacement) is complete at once
        return with_vectors(a, _MemoOnly(embedder), lambda f, m: None)
    except _NotInMemo:
        return a


def with_vectors(a: DocArtifacts, embedder, progress: Progress) -> DocArtifacts:
    """`a` with its chunk and sentence vectors (computed as PassageSettings.vectors says; known texts not again)."""
    memo = VectorMemo(embedder)
    # Sentence vectors too: a passage is as close to a question as its closest sentence (a long paragraph's
    # vector blurs the one sentence that answers), and the answerer compares sentences at query time.
    sentences, owners = _sentences(a.paragraphs, a.chunks)
    chunk_vecs, sent_vecs = document_vectors(memo, embedder.s.passages.vectors, a.chunks, sentences, owners,
                                             progress)
    return dataclasses.replace(a, chunk_vectors=chunk_vecs, sentence_vectors=sent_vecs, model_id=memo.model_id)


def _sentences(paragraphs, chunks) -> tuple[list, list[int]]:
    """The sentences of the text paragraphs, and for each the chunk it is keyed to (the first that holds it)."""
    sentences = [(p, sp) for p in paragraphs if p.kind in TEXT_KINDS for sp in p.sentences]
    by_para: dict[int, list[int]] = {}
    for i, c in enumerate(chunks):
        by_para.setdefault(c.para_index, []).append(i)
    owners = [next(i for i in by_para[p.index] if chunks[i].start <= sp.start < chunks[i].end) for p, sp in sentences]
    return sentences, owners


class _NotInMemo(Exception):
    pass


class _MemoOnly:
    """An embedder without a model: the vector memo answers every text, or _NotInMemo is raised."""

    def __init__(self, embedder: LazyEmbedder):
        self.s, self.model_id = embedder.s, embedder.model_id

    def get(self):
        raise _NotInMemo
