"""Paragraphs, chunks and sentences of a loaded KB without their texts on the Python heap.

Every text they carry is a slice of their document's text (the chunker and the structure parser cut them so;
`load_passages` checks it), so a loaded Paragraph or Chunk keeps only its positions and reads `text` from the
document on access; a paragraph's `sentences` are made on access from two integer arrays. At 100k chunks the
texts held once per chunk, paragraph and sentence cost ~0.4 GB of heap; this leaves the documents' texts alone.
A chunk's `index_text` (BM25 and embedding input, needed only by builds and the Milvus sync) is read from
chunks.jsonl on access. The objects are ordinary Paragraph and Chunk instances (subclasses), created once per
load, so identity comparisons, `in` and attribute access work as before.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from kb.core.records import Chunk, Document, Paragraph, Span


class _Source:
    """Where the texts of one load come from: the documents, and chunks.jsonl for index_text, held open from the
    load on (a rebuild deletes the old build's folder while a process may still answer from it)."""

    def __init__(self, documents: dict[str, Document], chunks_file: Path):
        self.documents = documents
        self.fd = os.open(chunks_file, os.O_RDONLY)
        self.line_offsets: np.ndarray = np.zeros(1, np.int64)  # chunk row -> its line's offset; then the file's end
        self.sent_bounds: np.ndarray = np.zeros((0, 2), np.int64)  # (start, end) of every sentence, by paragraph
        self.para_sents: np.ndarray = np.zeros(1, np.int64)  # paragraph row -> its first sentence; one past the end

    def __del__(self):
        os.close(self.fd)

    def text(self, doc_id: str, start: int, end: int) -> str:
        return self.documents[doc_id].text[start:end]

    def index_text(self, row: int) -> str:
        at, end = int(self.line_offsets[row]), int(self.line_offsets[row + 1])
        return json.loads(os.pread(self.fd, end - at, at))["index_text"]


_SPAN_FIELDS = {"start", "end", "text"}


class StoredParagraph(Paragraph):
    """A loaded Paragraph: `text` and `sentences` are read from the document on access."""

    def __getattr__(self, name: str):
        d = self.__dict__
        if name == "text":
            return d["_src"].text(d["doc_id"], d["start"], d["end"])
        if name == "sentences":
            src: _Source = d["_src"]
            row = d["_row"]
            bounds = src.sent_bounds[src.para_sents[row] : src.para_sents[row + 1]].tolist()
            text = src.documents[d["doc_id"]].text
            return [_bare(Span, {"start": s, "end": e, "text": text[s:e]}, _SPAN_FIELDS) for s, e in bounds]
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
    # One shared set for all: model_construct gives every instance its own (~200 bytes each at 100k+ objects).
    object.__setattr__(obj, "__pydantic_fields_set__", fields_set)
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _construct(cls, fields: dict, src: _Source, row: int, fields_set: set):
    fields["_src"], fields["_row"] = src, row
    return _bare(cls, fields, fields_set)


def load_passages(documents: dict[str, Document], paras_file: Path,
                  chunks_file: Path) -> tuple[dict[str, list[Paragraph]], list[Chunk]]:
    """Paragraphs by document and chunks in index order, as read_jsonl would give them, minus the heap texts.
    ValueError if a text is not the slice of its document that its offsets say (it would then read differently)."""
    src = _Source(documents, chunks_file)
    strings: dict = {}  # one object per distinct doc_id, kind and heading path

    def shared(x):
        key = tuple(x) if isinstance(x, list) else x
        return strings.setdefault(key, x)

    by_doc: dict[str, list[Paragraph]] = {}
    bounds: list[tuple[int, int]] = []
    para_sents = [0]
    fields_set = set(Paragraph.model_fields)
    with open(paras_file, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            p = json.loads(line)
            text = documents[p["doc_id"]].text
            if text[p["start"] : p["end"]] != p["text"] or any(text[s["start"] : s["end"]] != s["text"]
                                                               for s in p["sentences"]):
                raise ValueError(f"段落文本与文档不符：{p['doc_id']} #{p['index']}")
            bounds += [(s["start"], s["end"]) for s in p["sentences"]]
            para_sents.append(len(bounds))
            fields = {k: shared(p[k]) for k in ("doc_id", "kind", "section")}
            fields.update(index=p["index"], lead=p.get("lead", ""), start=p["start"], end=p["end"])
            by_doc.setdefault(p["doc_id"], []).append(
                _construct(StoredParagraph, fields, src, len(para_sents) - 2, fields_set))
    src.sent_bounds = np.asarray(bounds, dtype=np.int64).reshape(-1, 2)
    src.para_sents = np.asarray(para_sents, dtype=np.int64)

    chunks: list[Chunk] = []
    offsets: list[int] = []
    fields_set = set(Chunk.model_fields)
    with open(chunks_file, "rb") as fh:
        for raw in iter(fh.readline, b""):
            at = fh.tell() - len(raw)
            if not raw.strip():
                continue
            c = json.loads(raw)
            if documents[c["doc_id"]].text[c["start"] : c["end"]] != c["text"]:
                raise ValueError(f"段落文本与文档不符：{c['chunk_id']}")
            fields = {k: shared(c[k]) for k in ("doc_id", "section")}
            fields.update(chunk_id=c["chunk_id"], para_index=c["para_index"], start=c["start"], end=c["end"])
            chunks.append(_construct(StoredChunk, fields, src, len(offsets), fields_set))
            offsets.append(at)
        offsets.append(fh.tell())  # a line runs to the next one's start (blank lines between are whitespace)
    src.line_offsets = np.asarray(offsets, dtype=np.int64)
    return by_doc, chunks


class SentenceRows(Mapping):
    """(doc_id, sentence start) -> row of the sentence vectors, answered as the dict it replaces would (same keys,
    same order, the last row of a repeated key) from integer arrays: a dict of 250k tuple keys is ~50 MB of heap."""

    def __init__(self, keys: list[list]):
        names: dict[str, int] = {}
        self._doc = np.asarray([names.setdefault(d, len(names)) for d, _ in keys], dtype=np.int32)
        self._start = np.asarray([s for _, s in keys], dtype=np.int64)
        self._names = list(names)
        self._index = {name: i for i, name in enumerate(self._names)}
        rows = np.arange(len(keys), dtype=np.int64)
        order = np.lexsort((rows, self._start, self._doc))  # by document, then start, then row
        doc, start = self._doc[order], self._start[order]
        last = np.r_[(doc[1:] != doc[:-1]) | (start[1:] != start[:-1]), True]  # last row of each key wins
        self._by_key, self._key_start, key_doc = order[last], start[last], doc[last]
        self._doc_first = np.searchsorted(key_doc, np.arange(len(self._names) + 1))
        self._len = int(last.sum())

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
        keys = ((self._names[d], s) for d, s in zip(self._doc.tolist(), self._start.tolist()))
        if self._len == len(self._doc):  # no key repeated: the rows' order is the dict's
            yield from keys
        else:
            yield from dict.fromkeys(keys)  # a repeated key where the dict listed it: at its first row

    def __len__(self) -> int:
        return self._len
