"""Paragraphs, chunks and sentences of a loaded KB as columns of integers, made into records only when asked for.

A Python object per paragraph and per chunk (with the dict, ints, strings and lists each holds) costs ~1.7 KB: at
1M chunks, ~1.8 GB of heap. The build writes passages.npz instead (`write_passages`): per paragraph its document,
index, kind, heading path, run-in title, offsets and sentence bounds; per chunk its document, paragraph, offsets,
heading path, id and the offset of its line in chunks.jsonl; per sentence vector row its document and start; the
strings (document ids, heading labels, titles, chunk ids) once each in one UTF-8 blob, and each heading path once
as a run of label numbers. Loading it reads a
few arrays (~50 bytes per chunk) and parses nothing per record.

A paragraph or chunk is made when asked for (a few µs) and is an ordinary Paragraph or Chunk instance (a
subclass): `text` is read from its document, a paragraph's `sentences` are made at the first access and kept, a
chunk's `index_text` (needed only by the Milvus sync) is read from chunks.jsonl. Callers compare paragraphs and
chunks with `is` and `in`: a document's paragraphs are one sequence that keeps what it made while any of its
paragraphs is alive (each refers to it), and data.chunks[i] is one object while it is alive (a weak map), so two
look-ups of one paragraph or chunk during a question give the same object. When nothing refers to them any
more, they go: what stays in memory does not grow with the questions asked.
"""
from __future__ import annotations

import copy
import json
import os
import threading
import weakref
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import get_args

import numpy as np

from kb.core.records import Chunk, Document, Paragraph, ParagraphKind, Span

KINDS: tuple[str, ...] = get_args(ParagraphKind)  # a paragraph's kind is stored as its position here


class Strings:
    """Many strings in one UTF-8 blob, `strings[i]` decoded on access."""

    def __init__(self, blob: np.ndarray, bounds: np.ndarray):
        # bounds[i]:bounds[i + 1] is string i's bytes; read through a memoryview, whose items are plain ints
        # (a numpy scalar per read costs more than the decoding)
        self.blob, self.bounds = blob.tobytes(), memoryview(np.ascontiguousarray(bounds, dtype=np.int64))

    def __getitem__(self, i: int) -> str:
        return self.blob[self.bounds[i] : self.bounds[i + 1]].decode("utf-8")

    def __len__(self) -> int:
        return len(self.bounds) - 1


class _Interned:
    """Strings numbered in order of first use, each stored once (heading paths repeat for every paragraph)."""

    def __init__(self):
        self.ids: dict[str, int] = {}

    def __call__(self, s: str) -> int:
        return self.ids.setdefault(s, len(self.ids))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        raw = [s.encode("utf-8") for s in self.ids]
        bounds = np.zeros(len(raw) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in raw], out=bounds[1:])
        return np.frombuffer(b"".join(raw), dtype=np.uint8), bounds


class _Paths:
    """Heading paths numbered in order of first use, each a run of label numbers (of the strings) stored once."""

    def __init__(self, strings: _Interned):
        self.strings, self.ids = strings, {}

    def __call__(self, path: list[str]) -> int:
        return self.ids.setdefault(tuple(self.strings(label) for label in path), len(self.ids))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        bounds = np.zeros(len(self.ids) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in self.ids], out=bounds[1:])
        return np.asarray([i for p in self.ids for i in p], dtype=np.int32), bounds


def write_passages(path: Path, chunks_file: Path, documents: list[Document], paragraphs: list[Paragraph],
                   chunks: list[Chunk], sentence_keys: list[tuple[str, int]]) -> None:
    """Write chunks.jsonl and the columns of passages.npz for these records. ValueError if a text is not the slice
    of its document that its offsets say (the loaded records read their texts from the documents)."""
    texts = {d.meta.doc_id: d.text for d in documents}
    strings = _Interned()
    paths = _Paths(strings)
    docs = _Interned()  # document codes: first the documents with paragraphs, in the order they come
    for p in paragraphs:
        docs(p.doc_id)
    for doc_id in texts:
        docs(doc_id)
    # A document's paragraphs in one run of rows, in their order (stable: by document code only).
    paragraphs = sorted(paragraphs, key=lambda p: docs.ids[p.doc_id])
    n = len(paragraphs)
    cols = {name: np.zeros(n, dtype) for name, dtype in (("para_doc", np.int32), ("para_index", np.int32),
                                                          ("para_kind", np.int8), ("para_section", np.int32),
                                                          ("para_lead", np.int32), ("para_start", np.int64),
                                                          ("para_end", np.int64))}
    first_sentence, bounds = np.zeros(n + 1, dtype=np.int64), []
    for i, p in enumerate(paragraphs):
        text = texts[p.doc_id]
        if text[p.start : p.end] != p.text or any(text[s.start : s.end] != s.text for s in p.sentences):
            raise ValueError(f"段落文本与文档不符：{p.doc_id} #{p.index}")
        cols["para_doc"][i], cols["para_index"][i], cols["para_kind"][i] = docs(p.doc_id), p.index, KINDS.index(p.kind)
        cols["para_section"][i], cols["para_lead"][i] = paths(p.section), strings(p.lead)
        cols["para_start"][i], cols["para_end"][i] = p.start, p.end
        bounds += [(s.start, s.end) for s in p.sentences]
        first_sentence[i + 1] = len(bounds)
    m = len(chunks)
    cols.update({name: np.zeros(m, dtype) for name, dtype in (("chunk_doc", np.int32), ("chunk_para", np.int32),
                                                              ("chunk_section", np.int32), ("chunk_id", np.int32),
                                                              ("chunk_start", np.int64), ("chunk_end", np.int64))})
    lines = np.zeros(m + 1, dtype=np.int64)  # chunk row -> its line's offset in chunks.jsonl; then the file's end
    with open(chunks_file, "wb") as fh:
        for i, c in enumerate(chunks):
            if texts[c.doc_id][c.start : c.end] != c.text:
                raise ValueError(f"段落文本与文档不符：{c.chunk_id}")
            cols["chunk_doc"][i], cols["chunk_para"][i] = docs(c.doc_id), c.para_index
            cols["chunk_section"][i], cols["chunk_id"][i] = paths(c.section), strings(c.chunk_id)
            cols["chunk_start"][i], cols["chunk_end"][i] = c.start, c.end
            fh.write(c.model_dump_json().encode("utf-8") + b"\n")
            lines[i + 1] = fh.tell()
    path_labels, path_bounds = paths.arrays()
    blob, string_bounds = strings.arrays()
    doc_blob, doc_bounds = docs.arrays()
    np.savez(path, **cols, para_sentences=first_sentence, sentence_bounds=np.asarray(bounds, np.int64).reshape(-1, 2),
             chunk_lines=lines, sentence_doc=np.asarray([docs(d) for d, _ in sentence_keys], dtype=np.int32),
             sentence_start=np.asarray([s for _, s in sentence_keys], dtype=np.int64),
             strings=blob, string_bounds=string_bounds, path_labels=path_labels, path_bounds=path_bounds,
             docs=doc_blob, doc_bounds=doc_bounds)


class Passages:
    """The columns of one load, the documents the texts are read from, and chunks.jsonl held open from the load on
    (a rebuild deletes the old build's folder while a process may still answer from it)."""

    def __init__(self, path: Path, chunks_file: Path, documents: dict[str, Document]):
        with np.load(path) as z:
            a = {k: z[k] for k in z.files}
        self.documents = documents
        self.strings = Strings(a["strings"], a["string_bounds"])
        names = Strings(a["docs"], a["doc_bounds"])
        self.doc_ids = [names[i] for i in range(len(names))]
        self.doc_code = {d: i for i, d in enumerate(self.doc_ids)}
        self.para = {k[5:]: a[k] for k in a if k.startswith("para_")}
        self.chunk = {k[6:]: a[k] for k in a if k.startswith("chunk_")}
        self.sentence_bounds = a["sentence_bounds"]
        self.path_labels, self.path_bounds = a["path_labels"], a["path_bounds"]
        # The same columns read one item at a time (making a record): memoryviews give plain ints, no copy.
        self.para_at = {k: memoryview(v) for k, v in self.para.items()}
        self.chunk_at = {k: memoryview(v) for k, v in self.chunk.items()}
        self._labels, self._paths = memoryview(self.path_labels), memoryview(self.path_bounds)
        self._label_text: dict[int, str] = {}
        self.sentence_doc, self.sentence_start = a["sentence_doc"], a["sentence_start"]
        # A document's paragraph rows: doc_rows[code]:doc_rows[code + 1] (rows are grouped by document).
        self.doc_rows = np.searchsorted(self.para["doc"], np.arange(len(self.doc_ids) + 1)).astype(np.int64)
        # Chunks by (document, paragraph index), for the chunks of a paragraph.
        key = (self.chunk["doc"].astype(np.int64) << 32) | self.chunk["para"].astype(np.int64)
        self.chunk_order = np.argsort(key, kind="stable")
        self.chunk_keys = key[self.chunk_order]
        for col, limit in ((self.para["doc"], len(self.doc_ids)), (self.para["lead"], len(self.strings)),
                           (self.para["section"], len(self.path_bounds) - 1), (self.chunk["id"], len(self.strings)),
                           (self.path_labels, len(self.strings))):
            if len(col) and (col.min() < 0 or col.max() >= limit):
                raise ValueError("passages: a column refers past its table")
        if len(self.para["sentences"]) != len(self.para["doc"]) + 1 or len(self.chunk["lines"]) != len(self.chunk["doc"]) + 1:
            raise ValueError("passages: inconsistent columns")
        self.fd = os.open(chunks_file, os.O_RDONLY)
        self.lock = threading.Lock()  # one object per record, also when threads ask for it at once

    def __del__(self):
        if hasattr(self, "fd"):
            os.close(self.fd)

    def text(self, doc_id: str, start: int, end: int) -> str:
        return self.documents[doc_id].text[start:end]

    def section(self, path_id: int) -> list[str]:
        labels = self._labels[self._paths[path_id] : self._paths[path_id + 1]].tolist()
        try:
            return [self._label_text[i] for i in labels]
        except KeyError:  # decoded once: heading labels are few and shared by many paragraphs
            for i in labels:
                self._label_text.setdefault(i, self.strings[i])
            return [self._label_text[i] for i in labels]

    def index_text(self, row: int) -> str:
        at, end = self.chunk_at["lines"][row], self.chunk_at["lines"][row + 1]
        return json.loads(os.pread(self.fd, end - at, at))["index_text"]

    def sentence_spans(self, doc_id: str, row: int) -> list[Span]:
        first, last = self.para_at["sentences"][row], self.para_at["sentences"][row + 1]
        text = self.documents[doc_id].text
        return [_bare(Span, {"start": s, "end": e, "text": text[s:e]}, _SPAN_FIELDS)
                for s, e in self.sentence_bounds[first:last].tolist()]


_SPAN_FIELDS = {"start", "end", "text"}
_PARAGRAPH_FIELDS = set(Paragraph.model_fields)
_CHUNK_FIELDS = set(Chunk.model_fields)


class StoredParagraph(Paragraph):
    """A loaded Paragraph: `text` is read from the document on access, `sentences` made at the first access."""

    def __getattr__(self, name: str):
        d = self.__dict__
        if name == "text":
            return d["_src"].text(d["doc_id"], d["start"], d["end"])
        if name == "sentences":
            spans = d["sentences"] = d["_src"].sentence_spans(d["doc_id"], d["_row"])
            return spans
        return super().__getattr__(name)


class StoredChunk(Chunk):
    """A loaded Chunk: `text` is read from the document, `index_text` from chunks.jsonl, on access."""

    def __getattr__(self, name: str):
        d = self.__dict__
        if name == "text":
            return d["_src"].text(d["doc_id"], d["start"], d["end"])
        if name == "index_text":
            return d["_src"].index_text(d["_row"])
        return super().__getattr__(name)


def _bare(cls, fields: dict, fields_set: set):
    """An instance holding exactly `fields`, made as model_construct makes one (no validation) minus its default
    filling, which inspects each default factory's signature (~1 ms per object) and would set the lazy fields."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", fields)
    # One shared set for all: model_construct gives every instance its own (~200 bytes each).
    object.__setattr__(obj, "__pydantic_fields_set__", fields_set)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


class _Records(Sequence):
    """Records made on access, indexed and sliced as a list is; each item comes from `_item(i)`, 0 ≤ i < len."""

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i) + (len(self) if i < 0 else 0)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._item(i)

    @abstractmethod
    def _item(self, i: int): ...


class DocParagraphs(_Records):
    """One document's paragraphs in order, each made at its first access and kept as long as this sequence lives
    (every paragraph made refers to it, so it lives while any of them does)."""

    def __init__(self, src: Passages, code: int):
        self._src, self.doc_id = src, src.doc_ids[code]
        self._first, self._end = int(src.doc_rows[code]), int(src.doc_rows[code + 1])
        self._made: list[StoredParagraph | None] = [None] * (self._end - self._first)

    def __len__(self) -> int:
        return self._end - self._first

    def _item(self, i: int) -> StoredParagraph:
        p = self._made[i]
        if p is None:
            with self._src.lock:
                p = self._made[i] = self._made[i] or self._make(self._first + i)
        return p

    def __iter__(self) -> Iterator[Paragraph]:
        return (self[i] for i in range(len(self)))

    def _make(self, row: int) -> StoredParagraph:
        src, col = self._src, self._src.para_at
        fields = {"doc_id": self.doc_id, "index": col["index"][row], "kind": KINDS[col["kind"][row]],
                  "section": src.section(col["section"][row]), "lead": src.strings[col["lead"][row]],
                  "start": col["start"][row], "end": col["end"][row],
                  "_src": src, "_row": row, "_doc": self}
        return _bare(StoredParagraph, fields, _PARAGRAPH_FIELDS)

    def sections(self) -> Iterator[list[str]]:
        """Every paragraph's heading path, in order, without making the paragraphs."""
        ids = self._src.para["section"][self._first : self._end].tolist()
        last, path = None, []
        for i in ids:
            if i != last:  # consecutive paragraphs mostly share their heading path
                last, path = i, self._src.section(i)
            yield path

    def heading_labels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, Strings]:
        """Every (paragraph, level) of the heading paths, in order: the paragraph's position, the level, and the
        label's number in the returned Strings. Made from the columns alone (no paragraph is made)."""
        src = self._src
        paths = src.para["section"][self._first : self._end]
        starts, lengths = src.path_bounds[paths], src.path_bounds[paths + 1] - src.path_bounds[paths]
        pos = np.repeat(np.arange(len(paths)), lengths)
        depth = np.arange(len(pos)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return pos, depth, src.path_labels[np.repeat(starts, lengths) + depth], src.strings

    def positions(self, kinds: Iterable[str]) -> list[int]:
        """Positions of the paragraphs of these kinds, in order."""
        codes = [KINDS.index(k) for k in kinds]
        return np.flatnonzero(np.isin(self._src.para["kind"][self._first : self._end], codes)).tolist()


class ParagraphMap(Mapping):
    """doc_id -> its paragraphs (a DocParagraphs), for the documents that have paragraphs, in the build's order."""

    def __init__(self, src: Passages):
        self._src = src
        self._docs: weakref.WeakValueDictionary[int, DocParagraphs] = weakref.WeakValueDictionary()
        self._ids = [d for c, d in enumerate(src.doc_ids) if src.doc_rows[c + 1] > src.doc_rows[c]]
        self._kind_rows: dict[tuple[str, ...], np.ndarray] = {}

    def __getitem__(self, doc_id: str) -> DocParagraphs:
        code = self._src.doc_code.get(doc_id)
        if code is None or self._src.doc_rows[code + 1] == self._src.doc_rows[code]:
            raise KeyError(doc_id)
        with self._src.lock:
            seq = self._docs.get(code)
            if seq is None:
                seq = self._docs[code] = DocParagraphs(self._src, code)
        return seq

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def of_kind(self, kinds: Iterable[str], docs: Iterable[str] | None = None) -> Iterator[Paragraph]:
        """The paragraphs of these kinds (e.g. the headings), document by document in order, making only them."""
        src = self._src
        rows = self._rows_of_kind(tuple(kinds))
        if docs is not None:
            rows = rows[np.isin(src.para["doc"][rows], [src.doc_code[d] for d in docs if d in src.doc_code])]
        for row in rows.tolist():
            code = src.para_at["doc"][row]
            yield self[src.doc_ids[code]][row - src.doc_rows[code]]

    def _rows_of_kind(self, kinds: tuple[str, ...]) -> np.ndarray:
        rows = self._kind_rows.get(kinds)
        if rows is None:  # a few kinds of question ask for these: kept (headings are a small share of the rows)
            rows = self._kind_rows[kinds] = np.flatnonzero(np.isin(self._src.para["kind"], [KINDS.index(k) for k in kinds]))
        return rows


class ChunkList(_Records):
    """The chunks in index order (data.chunks[i] for FAISS/BM25 row i), each made on access; one object per chunk
    while it is alive."""

    def __init__(self, src: Passages):
        self._src = src
        self._made: weakref.WeakValueDictionary[int, StoredChunk] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._src.chunk["doc"])

    def _item(self, i: int) -> StoredChunk:
        with self._src.lock:
            c = self._made.get(i)
            if c is None:
                c = self._made[i] = self._make(i)
        return c

    def __iter__(self) -> Iterator[Chunk]:
        return (self[i] for i in range(len(self)))

    def _make(self, row: int) -> StoredChunk:
        src, col = self._src, self._src.chunk_at
        fields = {"chunk_id": src.strings[col["id"][row]], "doc_id": src.doc_ids[col["doc"][row]],
                  "section": src.section(col["section"][row]), "para_index": col["para"][row],
                  "start": col["start"][row], "end": col["end"][row], "_src": src, "_row": row}
        return _bare(StoredChunk, fields, _CHUNK_FIELDS)

    def of_paragraph(self, doc_id: str, para_index: int) -> list[Chunk]:
        """The chunks cut from one paragraph, in index order."""
        code = self._src.doc_code.get(doc_id)
        if code is None:
            return []
        key = (code << 32) | para_index
        lo, hi = np.searchsorted(self._src.chunk_keys, [key, key + 1])
        return [self[int(r)] for r in self._src.chunk_order[lo:hi]]

    def in_documents(self, docs: Iterable[str]) -> np.ndarray:
        """Per chunk, whether its document is one of `docs` (boolean array)."""
        codes = [self._src.doc_code[d] for d in docs if d in self._src.doc_code]
        return np.isin(self._src.chunk["doc"], codes)


def load_passages(path: Path, chunks_file: Path,
                  documents: dict[str, Document]) -> tuple[ParagraphMap, ChunkList, SentenceRows]:
    """Paragraphs by document, chunks in index order and the sentence rows' keys, as written by write_passages."""
    src = Passages(path, chunks_file, documents)
    if set(src.doc_ids) != set(documents):
        raise ValueError(f"passages: written for other documents ({len(src.doc_ids)} vs {len(documents)})")
    return ParagraphMap(src), ChunkList(src), SentenceRows(src.sentence_doc, src.sentence_start, src.doc_ids)


class SentenceRows(Mapping):
    """(doc_id, sentence start) -> row of the sentence vectors, answered as the dict it replaces would (same keys,
    same order, the last row of a repeated key) from integer arrays: a dict of 250k tuple keys is ~50 MB of heap.
    `doc` holds each row's document as a number of `names`."""

    def __init__(self, doc: np.ndarray, start: np.ndarray, names: list[str]):
        self._doc, self._start = np.asarray(doc, dtype=np.int32), np.asarray(start, dtype=np.int64)
        self._names = list(names)
        self._index = {name: i for i, name in enumerate(self._names)}
        rows = np.arange(len(self._doc), dtype=np.int64)
        order = np.lexsort((rows, self._start, self._doc))  # by document, then start, then row
        doc, start = self._doc[order], self._start[order]
        last = np.r_[(doc[1:] != doc[:-1]) | (start[1:] != start[:-1]), True] if len(doc) else np.zeros(0, bool)
        self._by_key, self._key_start, key_doc = order[last], start[last], doc[last]  # last row of each key wins
        self._doc_first = np.searchsorted(key_doc, np.arange(len(self._names) + 1))
        self._len = int(last.sum())
        self._hidden: frozenset[int] = frozenset()  # documents whose keys are left out (see `without`)

    def without(self, docs: Iterable[str]) -> SentenceRows:
        """The same rows with these documents' keys left out (their rows stay, unreachable by key). A document whose
        vectors are pending has zero rows, and a sentence without a row is what every reader already treats as one
        without a vector (the answerer's similarity 0, the eligibility matcher's "no semantic evidence")."""
        hidden = self._hidden | {self._index[d] for d in docs if d in self._index}
        if hidden == self._hidden:
            return self
        other = copy.copy(self)
        other._hidden = hidden
        other._index = {name: i for name, i in self._index.items() if i not in hidden}
        other._len = self._len - sum(int(self._doc_first[d + 1] - self._doc_first[d]) for d in hidden - self._hidden)
        return other

    @classmethod
    def from_keys(cls, keys: list[list]) -> SentenceRows:
        names: dict[str, int] = {}
        return cls([names.setdefault(d, len(names)) for d, _ in keys], [s for _, s in keys], list(names))

    def __getitem__(self, key: tuple[str, int]) -> int:
        doc_id, start = key
        d = self._index.get(doc_id)
        if d is None:
            raise KeyError(key)
        lo, hi = self._doc_first[d], self._doc_first[d + 1]
        i = lo + int(np.searchsorted(self._key_start[lo:hi], start))
        if i == hi or self._key_start[i] != start:
            raise KeyError(key)
        return int(self._by_key[i])

    def __iter__(self) -> Iterator[tuple[str, int]]:
        keys = ((self._names[d], s) for d, s in zip(self._doc.tolist(), self._start.tolist()) if d not in self._hidden)
        if self._len == len(self._doc) - self._hidden_rows():  # no key repeated: the rows' order is the dict's
            yield from keys
        else:
            yield from dict.fromkeys(keys)  # a repeated key where the dict listed it: at its first row

    def __len__(self) -> int:
        return self._len

    def _hidden_rows(self) -> int:
        return int(np.isin(self._doc, list(self._hidden)).sum()) if self._hidden else 0

    @property
    def rows(self) -> int:
        """Sentence vector rows (a repeated key has several)."""
        return len(self._doc)
