"""The knowledge base on disk: its layout, writing a build from per-document artifacts, and loading it."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
import zipfile
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import bm25s
import faiss
import jieba
import numpy as np
from pydantic import BaseModel

from kb.core.records import Document
from kb.core.segment import Segmenter, corpus_terms
from kb.core.settings import IndexSettings, Settings
from kb.core.taxonomy import Provision
from kb.store.artifacts import DocArtifacts
from kb.store.jsonl import read_jsonl, write_jsonl
from kb.store.passages import ChunkList, ParagraphMap, load_passages, write_passages
from kb.store.rows import Rows
from kb.store.tables import write_tables

FORMAT = 7  # bump when the on-disk layout or chunking changes, so old KBs are rebuilt
CURRENT = "current"
META_FILE = "meta.json"
DOCS_FILE = "documents.jsonl"
PASSAGES_FILE = "passages.npz"  # paragraphs, chunks and sentence keys as columns (kb/store/passages.py)
CHUNKS_FILE = "chunks.jsonl"  # the chunks whole: index_text is read from here by line offset
BM25_DIR = "bm25"
FAISS_FILE = "faiss.index"
TABLES_FILE = "tables.sqlite"
VECTORS_FILE = "vectors.npy"  # every vector row, float32, read by row at query time (the answerer reads a few)
OWNER_FILE = "vector_owner.npy"  # FAISS row -> chunk: rows are the chunks, then their sentences
PROVISIONS_FILE = "provisions.jsonl"
DICT_FILE = "jieba.sqlite"  # jieba's dictionary with the KB's terms added: looked up per word, never loaded whole
BASE_DICT_FILE = "jieba-base.sqlite"  # in the KB folder, beside builds/: jieba's own table, copied by each build


class KBMeta(BaseModel):
    format: int
    corpus_hash: str
    corpus_dir: str = ""  # the folder it was built from: commands given only --kb keep using it
    pipeline: str = ""  # indexer.version.kb_version(): a KB built by other code or dictionaries is stale
    embed_model: str
    model_id: str
    dim: int
    terms: list[str]
    n_docs: int
    n_chunks: int
    built_at: str
    build_seconds: float
    # Documents whose dense vectors are still being computed (a staged add, indexer/library.py): their rows are
    # zeros, the dense search leaves them out, and the next build or `indexer.build.complete` embeds them.
    pending: list[str] = []


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


class WordFrequencies:
    """jieba's word → frequency table as jieba reads it (`in`, `[]`, `get`), answered from SQLite with a memo in
    front: a question looks up a few hundred prefixes, instead of unmarshalling 350,000 words (~1 s) per process."""

    def __init__(self, path: Path):
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()  # the web app answers in threads; one connection, one query at a time
        self._memo: dict[str, int | None] = {}

    def get(self, word: str, default=None):
        try:
            n = self._memo[word]
        except KeyError:
            with self._lock:
                row = self._db.execute("SELECT n FROM freq WHERE word = ?", (word,)).fetchone()
            n = self._memo[word] = row[0] if row else None
        return default if n is None else n

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        n = self.get(word)
        if n is None:
            raise KeyError(word)
        return n


class _Added:
    """A word table being extended: reads from jieba's table in SQLite, keeps what is written (the words a build
    adds and their prefixes) apart, so that only those need writing into the KB's copy of the table."""

    def __init__(self, base: WordFrequencies):
        self.base, self.added = base, {}

    def get(self, word: str, default=None):
        return self.added[word] if word in self.added else self.base.get(word, default)

    def __contains__(self, word: str) -> bool:
        return word in self.added or word in self.base

    def __getitem__(self, word: str) -> int:
        return self.added[word] if word in self.added else self.base[word]

    def __setitem__(self, word: str, n: int) -> None:
        self.added[word] = n


def _create_dictionary(path: Path, freq, total: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
        db.execute("CREATE TABLE total (n INTEGER NOT NULL)")
        db.execute("INSERT INTO total VALUES (?)", (total,))
    db.close()


def _jieba_source() -> str:
    """What jieba's own dictionary is: its version and the digest of its word list."""
    with jieba.get_dict_file() as fh:
        return f"{jieba.__version__}:{hashlib.sha256(fh.read()).hexdigest()[:16]}"


def base_dictionary(folder: Path) -> Path:
    """jieba's own word table (no terms added) in SQLite, kept in `folder` (the KB's) and made once per jieba
    dictionary: a build adds its terms to a copy of it instead of loading jieba's dictionary (~1 s) and writing
    its 350,000 words (~1.5 s) every time."""
    path = folder / BASE_DICT_FILE
    source = _jieba_source()
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if db.execute("SELECT source FROM made_from").fetchone() == (source,):
                return path
    except sqlite3.Error:  # missing, or unreadable: made again
        pass
    tok = jieba.Tokenizer()
    tok.check_initialized()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    _create_dictionary(tmp, tok.FREQ, tok.total)
    with closing(sqlite3.connect(tmp)) as db, db:
        db.execute("CREATE TABLE made_from (source TEXT NOT NULL)")
        db.execute("INSERT INTO made_from VALUES (?)", (source,))
    os.replace(tmp, path)
    return path


def write_dictionary(path: Path, terms: list[str], base_dir: Path) -> Segmenter:
    """The KB's word table at `path` (jieba's with the terms added, as Segmenter(terms) has it) and a Segmenter
    reading it. The table is a copy of base_dictionary(base_dir) plus the few words adding the terms changed."""
    base = base_dictionary(base_dir)
    freq, total = read_dictionary(base)
    added = _Added(freq)
    seg = Segmenter(terms, base=(added, total))
    shutil.copyfile(base, path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP TABLE made_from")
        db.executemany("INSERT OR REPLACE INTO freq VALUES (?, ?)", added.added.items())
        db.execute("UPDATE total SET n = ?", (seg.dictionary()[1],))
    return seg


def read_dictionary(path: Path) -> tuple[WordFrequencies, int]:
    freq = WordFrequencies(path)
    with freq._lock:
        (total,) = freq._db.execute("SELECT n FROM total").fetchone()
    return freq, total


@dataclass(eq=False)  # identity hash: per-KB caches key on it
class KBData:
    """Everything a query needs, loaded from one build directory."""

    path: Path
    meta: KBMeta
    documents: dict[str, Document]
    paragraphs: ParagraphMap  # doc_id -> its paragraphs, made on access (kb/store/passages.py)
    chunks: ChunkList  # in index order, made on access
    bm25: bm25s.BM25
    faiss_index: faiss.Index
    vector_owner: np.ndarray
    vectors: Rows  # every row of faiss_index, exact, read on demand (an approximate index is re-scored from it)
    sentence_vectors: Rows  # the sentence rows of `vectors` (a view, not a copy)
    sentence_rows: Mapping[tuple[str, int], int]  # (doc_id, sentence start) -> row of sentence_vectors
    provisions: list[Provision]  # clauses that support, encourage, pilot or fund someone (eligibility)
    dictionary: tuple[WordFrequencies, int]  # the segmenter's word table (see kb.core.segment.Segmenter)
    pending: frozenset[str] = frozenset()  # documents without vectors yet (KBMeta.pending): keyword search only

    @property
    def tables_path(self) -> Path:
        return self.path / TABLES_FILE


def load(kb_dir: Path) -> KBData:
    """Load the current build; any unreadable part raises KBError so the caller can rebuild."""
    meta = read_meta(kb_dir)
    path = current_dir(kb_dir)
    try:
        documents = {d.meta.doc_id: d for d in read_jsonl(path / DOCS_FILE, Document)}
        # Paragraphs and chunks are columns, made into records on access; their texts are read from the documents.
        paragraphs, chunks, sentence_rows = load_passages(path / PASSAGES_FILE, path / CHUNKS_FILE, documents)
        bm25 = bm25s.BM25.load(str(path / BM25_DIR))
        index = faiss.read_index(str(path / FAISS_FILE))
        vectors = Rows(path / VECTORS_FILE)  # read by row on demand (kb/store/rows.py says why not a memory map)
        owner = np.load(path / OWNER_FILE)
        provisions = read_jsonl(path / PROVISIONS_FILE, Provision)
        dictionary = read_dictionary(path / DICT_FILE)
    except (OSError, ValueError, RuntimeError, json.JSONDecodeError, sqlite3.Error, TypeError, KeyError,
            EOFError, zipfile.BadZipFile) as e:
        raise KBError(f"知识库文件损坏：{path}（{type(e).__name__}: {e}）") from e
    if (len(chunks) != meta.n_chunks or index.ntotal != len(chunks) + sentence_rows.rows or index.d != meta.dim
            or owner.shape != (index.ntotal,) or vectors.shape != (index.ntotal, index.d)):
        raise KBError(f"知识库文件不一致：{path}（段落 {len(chunks)}，向量 {index.ntotal}）")
    pending = frozenset(meta.pending)
    return KBData(path=path, meta=meta, documents=documents, paragraphs=paragraphs,
                  chunks=chunks, bm25=bm25, faiss_index=index, vector_owner=owner, vectors=vectors,
                  sentence_vectors=vectors[len(chunks):], sentence_rows=sentence_rows.without(pending),
                  provisions=provisions, dictionary=dictionary, pending=pending)


def dense_index(vectors: np.ndarray, p: IndexSettings) -> faiss.Index:
    """Exact inner product (cosine on normalised rows) up to `p.flat_max_rows`; above it an IVF index with 8-bit
    scalar-quantised rows (a quarter of the memory), whose candidates the retriever re-scores exactly."""
    n, dim = vectors.shape
    if n <= p.flat_max_rows:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    nlist = max(1, int(p.ivf_lists_per_sqrt * n ** 0.5))
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(n, size=min(n, p.ivf_train_per_list * nlist), replace=False)
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    for start in range(0, n, 100_000):  # in blocks: a memory-mapped matrix is never copied whole
        index.add(np.ascontiguousarray(vectors[start : start + 100_000]))
    index.nprobe = p.nprobe
    return index


def write_vectors(out: Path, vectors: np.ndarray, owner: np.ndarray, p: IndexSettings) -> None:
    """The dense part of a KB: the exact rows (memory-mapped at load), the FAISS index chosen by size, row → chunk."""
    np.save(out / VECTORS_FILE, np.asarray(vectors, dtype=np.float32))
    faiss.write_index(dense_index(np.load(out / VECTORS_FILE, mmap_mode="r"), p), str(out / FAISS_FILE))
    np.save(out / OWNER_FILE, owner)


def write_kb(arts: list[DocArtifacts], out: Path, s: Settings, chash: str, version: str, t0: float) -> KBMeta:
    """Write a KB into the empty folder `out` from per-document artifacts. The corpus-wide indexes: BM25 needs corpus-wide term statistics, so it
    is re-indexed (milliseconds); FAISS rows are the cached vectors, chunks first, then sentences. A pending
    document (no vectors yet) gets zero rows and is listed in the meta's `pending`; at least one must have vectors
    (they give the dimension)."""
    docs = [a.document for a in arts]
    chunks = [c for a in arts for c in a.chunks]
    terms = corpus_terms([d.text for d in docs])
    seg = write_dictionary(out / DICT_FILE, terms, s.kb_dir)
    retriever = bm25s.BM25()
    retriever.index([seg.tokens(c.index_text) or [""] for c in chunks], show_progress=False)
    retriever.save(str(out / BM25_DIR))

    dim = next((a.chunk_vectors.shape[1] for a in arts if not a.pending and a.chunk_vectors.size), None)
    if dim is None:
        raise ValueError("write_kb: no document with vectors (the dimension is unknown)")
    owner, sent_keys, offset = list(range(len(chunks))), [], 0
    for a in arts:
        owner += [offset + local for _, local in a.sentence_keys]
        sent_keys += [[a.document.meta.doc_id, start] for start, _ in a.sentence_keys]
        offset += len(a.chunks)
    # Rows: every chunk, then every sentence (a chunk scores as its best row).
    chunk_rows = [a.chunk_vectors if not a.pending else np.zeros((len(a.chunks), dim), np.float32) for a in arts]
    sent_rows = [a.sentence_vectors if not a.pending else np.zeros((len(a.sentence_keys), dim), np.float32)
                 for a in arts]
    rows = [r for r in chunk_rows + sent_rows if r.size]
    write_vectors(out, np.concatenate(rows), np.asarray(owner, dtype=np.int64), s.index)

    write_tables([a.tables for a in arts], out / TABLES_FILE)
    write_jsonl(out / PROVISIONS_FILE, [p for a in arts for p in a.provisions])
    write_jsonl(out / DOCS_FILE, docs)
    write_passages(out / PASSAGES_FILE, out / CHUNKS_FILE, docs, [p for a in arts for p in a.paragraphs], chunks,
                   sent_keys)
    meta = KBMeta(
        format=FORMAT,
        corpus_hash=chash,
        corpus_dir=str(s.corpus_dir.resolve()),
        pipeline=version,
        embed_model=s.embed_model,
        model_id=arts[0].model_id,
        dim=dim,
        terms=terms,
        n_docs=len(docs),
        n_chunks=len(chunks),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - t0, 2),
        pending=[a.document.meta.doc_id for a in arts if a.pending],
    )
    # meta.json is written last inside the build: a directory without it is never switched to.
    (out / META_FILE).write_text(meta.model_dump_json(indent=1), encoding="utf-8")
    return meta
