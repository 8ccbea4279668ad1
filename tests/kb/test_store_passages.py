"""A loaded KB's paragraphs, chunks, sentence rows and vector rows read lazily (kb/store/passages.py, rows.py) are
what the files hold: compared field by field with the records read whole, on the real plan and fictional documents
parsed and chunked by the indexer (no model needed)."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.chunker import chunk_paragraphs
from indexer.loader import load_document
from indexer.structure import parse
from kb.core.records import Chunk, Paragraph
from kb.store.jsonl import read_jsonl, write_jsonl
from kb.store.passages import SentenceRows, StoredChunk, StoredParagraph, load_passages
from kb.store.rows import Rows
from tests.fixtures.docs import PLAN, write_fictional


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("passages")
    write_fictional(root / "corpus")
    docs, paras, chunks = {}, [], []
    for path in [PLAN, *sorted((root / "corpus").glob("*.txt"))]:
        doc, _ = load_document(path)
        ps = parse(doc)
        docs[doc.meta.doc_id] = doc
        paras += ps
        chunks += chunk_paragraphs(ps, doc.text)
    write_jsonl(root / "paragraphs.jsonl", paras)
    write_jsonl(root / "chunks.jsonl", chunks)
    return root, docs


def test_loaded_records_equal_the_stored_ones(written):
    root, docs = written
    by_doc, chunks = load_passages(docs, root / "paragraphs.jsonl", root / "chunks.jsonl")
    whole_paras = read_jsonl(root / "paragraphs.jsonl", Paragraph)
    whole_chunks = read_jsonl(root / "chunks.jsonl", Chunk)
    lazy_paras = [p for ps in by_doc.values() for p in ps]
    assert len(lazy_paras) == len(whole_paras) > 100 and len(chunks) == len(whole_chunks) > 100
    assert list(by_doc) == list(dict.fromkeys(p.doc_id for p in whole_paras))
    for lazy, whole in zip(lazy_paras, whole_paras):
        assert isinstance(lazy, StoredParagraph) and isinstance(lazy, Paragraph)
        assert "text" not in lazy.__dict__ and "sentences" not in lazy.__dict__  # not held: read on access
        assert Paragraph(**{f: getattr(lazy, f) for f in Paragraph.model_fields}) == whole, whole.index
    for lazy, whole in zip(chunks, whole_chunks):
        assert isinstance(lazy, StoredChunk) and "text" not in lazy.__dict__
        assert Chunk(**{f: getattr(lazy, f) for f in Chunk.model_fields}) == whole, whole.chunk_id
    # Identity is stable (callers compare paragraphs with `is` and `in`), and a missing attribute is still an error.
    first = next(iter(by_doc.values()))
    assert first[0] is first[0] and first[0] in first and first[0] != first[1]
    with pytest.raises(AttributeError):
        first[0].no_such_field


def test_a_text_that_is_not_its_documents_slice_is_refused(written, tmp_path):
    root, docs = written
    lines = (root / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"text":"', '"text":"改', 1)
    (tmp_path / "chunks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_passages(docs, root / "paragraphs.jsonl", tmp_path / "chunks.jsonl")


def test_sentence_rows_answer_as_the_dict_they_replace():
    keys = [["a", 5], ["b", 0], ["a", 0], ["a", 9], ["b", 0], ["c", 3]]  # ("b", 0) twice: the last row wins
    ref = {(d, s): i for i, (d, s) in enumerate(keys)}
    rows = SentenceRows(keys)
    assert list(rows.items()) == list(ref.items()) and len(rows) == len(ref)
    assert all(rows[k] == v for k, v in ref.items())
    assert rows.get(("a", 1)) is None and ("z", 0) not in rows and ("a", 9) in rows
    with pytest.raises(KeyError):
        rows["c", 4]


def test_rows_read_what_the_array_holds(tmp_path):
    a = np.random.default_rng(0).standard_normal((1000, 16)).astype(np.float32)
    np.save(tmp_path / "v.npy", a)
    r = Rows(tmp_path / "v.npy")
    assert r.shape == a.shape and len(r) == 1000
    ids = np.array([0, 1, 2, 7, 8, 500, 999])
    assert np.array_equal(r[ids], a[ids]) and np.array_equal(r[3], a[3]) and np.array_equal(r[-1], a[-1])
    view = r[100:]
    assert view.shape == (900, 16) and np.array_equal(view[np.array([0, 5])], a[[100, 105]])
    assert np.allclose(view @ a[0], a[100:] @ a[0]) and np.array_equal(np.ascontiguousarray(r[10:20]), a[10:20])
    with pytest.raises(IndexError):
        r[np.array([1000])]


def test_texts_stay_readable_when_the_build_folder_is_deleted(written, tmp_path):
    """A rebuild deletes the old build's folder while a process may still answer from the KB it loaded."""
    import shutil

    root, docs = written
    for name in ("paragraphs.jsonl", "chunks.jsonl"):
        shutil.copy(root / name, tmp_path / name)
    np.save(tmp_path / "v.npy", np.eye(4, dtype=np.float32))
    _, chunks = load_passages(docs, tmp_path / "paragraphs.jsonl", tmp_path / "chunks.jsonl")
    rows = Rows(tmp_path / "v.npy")
    whole = read_jsonl(tmp_path / "chunks.jsonl", Chunk)
    shutil.rmtree(tmp_path)
    assert [c.index_text for c in chunks] == [c.index_text for c in whole]
    assert np.array_equal(rows[np.array([1, 2])], np.eye(4, dtype=np.float32)[1:3])
