"""Builds a knowledge base from a corpus folder into a new directory and swaps it in atomically."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import bm25s
import faiss
import numpy as np

from indexer.chunker import TEXT_KINDS, chunk_paragraphs
from indexer.loader import corpus_hash, load_corpus
from indexer.structure import parse
from indexer.tables import extract_tables
from kb import store
from kb.config import Settings
from kb.segment import Segmenter, corpus_terms
from kb.tables import write_tables

Progress = Callable[[float, str], None]


def _say(fraction: float, message: str) -> None:
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


@contextmanager
def build_lock(kb_dir: Path):
    """One build at a time per KB directory (the app and a CLI may both decide to build)."""
    kb_dir.mkdir(parents=True, exist_ok=True)
    with open(kb_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_jsonl(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(r.model_dump_json() + "\n")


def build(s: Settings, progress: Progress = _say, force: bool = False) -> Path:
    """Build the KB for `s.corpus_dir` into `s.kb_dir` unless an up-to-date one is there; return its path.

    Everything is written into a fresh directory under builds/; only when it is complete does the
    `current` link switch to it (an atomic rename), so a build killed midway leaves the previous KB usable.
    """
    with build_lock(s.kb_dir):
        if not force and store.status(s) == "ok":  # another process may have built it while we waited
            return store.current_dir(s.kb_dir)
        t0 = time.perf_counter()
        builds = s.kb_dir / "builds"
        builds.mkdir(exist_ok=True)
        for stale in builds.glob(".tmp-*"):  # left by a killed build; we hold the lock, so it is not in use
            shutil.rmtree(stale, ignore_errors=True)
        tmp = builds / f".tmp-{os.getpid()}-{int(time.time())}"
        tmp.mkdir()

        progress(0.02, "读取语料")
        docs = load_corpus(s.corpus_dir)
        chash = corpus_hash(s.corpus_dir)
        progress(0.05, f"解析文档结构（{len(docs)} 篇）")
        paragraphs = {d.meta.doc_id: parse(d) for d in docs}
        chunks = [c for d in docs for c in chunk_paragraphs(paragraphs[d.meta.doc_id], d.text)]
        if not chunks:
            raise ValueError("语料中没有可索引的正文段落")

        progress(0.10, f"分词并建立 BM25 索引（{len(chunks)} 段）")
        terms = corpus_terms([d.text for d in docs])
        seg = Segmenter(terms)
        retriever = bm25s.BM25()
        retriever.index([seg.tokens(c.index_text) or [""] for c in chunks], show_progress=False)
        retriever.save(str(tmp / store.BM25_DIR))

        progress(0.20, "加载向量模型")
        from kb.embed import Embedder  # heavy import (torch): only when a build really happens

        embedder = Embedder.from_settings(s)
        parts, batch = [], 64
        for i in range(0, len(chunks), batch):
            progress(0.25 + 0.6 * i / len(chunks), f"计算段落向量 {i}/{len(chunks)}")
            parts.append(embedder.embed_passages([c.index_text for c in chunks[i : i + batch]]))
        vectors = np.concatenate(parts)
        # Sentence vectors too: a passage is as close to a question as its closest sentence (a long paragraph's
        # vector blurs the one sentence that answers), and the answerer compares sentences at query time.
        sentences = [(p, sp) for d in docs for p in paragraphs[d.meta.doc_id] if p.kind in TEXT_KINDS
                     for sp in p.sentences]
        progress(0.85, f"计算句子向量（{len(sentences)} 句）")
        sent_vecs = embedder.embed_passages([f"{p.section[-1]}：{sp.text}" for p, sp in sentences], batch_size=64)
        first_chunk = {}
        for i, c in enumerate(chunks):
            first_chunk.setdefault((c.doc_id, c.para_index), []).append(i)
        owner = list(range(len(chunks))) + [
            next(i for i in first_chunk[(p.doc_id, p.index)] if chunks[i].start <= sp.start < chunks[i].end)
            for p, sp in sentences]
        index = faiss.IndexFlatIP(embedder.dim)  # inner product on L2-normalised vectors = cosine
        index.add(vectors)
        index.add(sent_vecs)
        faiss.write_index(index, str(tmp / store.FAISS_FILE))
        np.save(tmp / store.OWNER_FILE, np.asarray(owner, dtype=np.int64))
        dump = [[p.doc_id, sp.start] for p, sp in sentences]
        (tmp / store.SENT_KEYS_FILE).write_text(json.dumps(dump), encoding="utf-8")

        progress(0.92, "抽取结构化表格")
        _write_tables(docs, paragraphs, tmp)

        progress(0.95, "写入知识库")
        _write_jsonl(tmp / store.DOCS_FILE, docs)
        _write_jsonl(tmp / store.PARAS_FILE, [p for d in docs for p in paragraphs[d.meta.doc_id]])
        _write_jsonl(tmp / store.CHUNKS_FILE, chunks)
        meta = store.KBMeta(
            format=store.FORMAT,
            corpus_hash=chash,
            embed_model=s.embed_model,
            model_id=embedder.model_id,
            dim=embedder.dim,
            terms=terms,
            n_docs=len(docs),
            n_chunks=len(chunks),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - t0, 2),
        )
        # meta.json is written last inside the build: a directory without it is never switched to.
        (tmp / store.META_FILE).write_text(meta.model_dump_json(indent=1), encoding="utf-8")

        final = builds / f"{datetime.now():%Y%m%d-%H%M%S}-{chash[:8]}-{os.getpid()}"
        tmp.rename(final)
        store.switch_current(s.kb_dir, final)
        for old in builds.iterdir():
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
        progress(1.0, f"知识库已建立：{len(docs)} 篇文档，{len(chunks)} 个段落，用时 {meta.build_seconds} 秒")
        return final


def _write_tables(docs, paragraphs, out_dir: Path) -> None:
    """Targets, projects and responsibilities of every document into tables.sqlite."""
    write_tables([extract_tables(d, paragraphs[d.meta.doc_id]) for d in docs], out_dir / store.TABLES_FILE)
