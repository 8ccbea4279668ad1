"""A loaded KB's paragraphs, chunks, sentence rows and vector rows, kept as columns and made on access
(kb/store/passages.py, rows.py), are the records the build wrote: compared field by field, on the real plan and
fictional documents parsed and chunked by the indexer (no model needed)."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.chunker import chunk_paragraphs
from indexer.loader import load_document
from indexer.structure import parse
from kb.core.records import Chunk, Paragraph
from kb.store.passages import (
    ChunkList,
    ParagraphMap,
    SentenceRows,
    StoredChunk,
    StoredParagraph,
    load_passages,
    write_passages,
)
from kb.store.rows import Rows
from tests.conftest import REPO
from tests.fixtures.docs import PLAN, write_fictional


LAW = REPO / "eval" / "corpus" / "road-traffic-safety-law-2021.md"  # real chapters and articles


def _records(root):
    write_fictional(root / "corpus")
    docs, paras, chunks = {}, [], []
    for path in [PLAN, LAW, *sorted((root / "corpus").glob("*.txt"))]:
        doc, _ = load_document(path)
        ps = parse(doc)
        docs[doc.meta.doc_id] = doc
        paras += ps
        chunks += chunk_paragraphs(ps, doc.text)
    return docs, paras, chunks


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("passages")
    docs, paras, chunks = _records(root)
    keys = [(p.doc_id, s.start) for p in paras for s in p.sentences]
    write_passages(root / "passages.npz", root / "chunks.jsonl", list(docs.values()), paras, chunks, keys)
    return root, docs, paras, chunks, keys


def test_loaded_records_equal_the_written_ones(written):
    root, docs, whole_paras, whole_chunks, keys = written
    by_doc, chunks, rows = load_passages(root / "passages.npz", root / "chunks.jsonl", docs)
    assert isinstance(by_doc, ParagraphMap) and isinstance(chunks, ChunkList)
    lazy_paras = [p for ps in by_doc.values() for p in ps]
    assert len(lazy_paras) == len(whole_paras) > 100 and len(chunks) == len(whole_chunks) > 100
    assert list(by_doc) == list(dict.fromkeys(p.doc_id for p in whole_paras))
    for lazy, whole in zip(lazy_paras, whole_paras):
        assert isinstance(lazy, StoredParagraph) and isinstance(lazy, Paragraph)
        assert "text" not in lazy.__dict__ and "sentences" not in lazy.__dict__  # not held: read on access
        assert Paragraph(**{f: getattr(lazy, f) for f in Paragraph.model_fields}) == whole, whole.index
        assert lazy.sentences is lazy.sentences  # made once, then kept with the paragraph
    for lazy, whole in zip(chunks, whole_chunks):
        assert isinstance(lazy, StoredChunk) and "text" not in lazy.__dict__
        assert Chunk(**{f: getattr(lazy, f) for f in Chunk.model_fields}) == whole, whole.chunk_id
    assert chunks[-1].chunk_id == whole_chunks[-1].chunk_id and [c.chunk_id for c in chunks[2:4]] == \
        [c.chunk_id for c in whole_chunks[2:4]]
    assert dict(rows) == {k: i for i, k in enumerate(keys)} and rows.rows == len(keys)
    with pytest.raises(AttributeError):
        lazy_paras[0].no_such_field
    with pytest.raises(KeyError):
        by_doc["no-such-document"]


def test_lookups_by_paragraph_kind_and_document(written):
    root, docs, whole_paras, whole_chunks, _ = written
    by_doc, chunks, _ = load_passages(root / "passages.npz", root / "chunks.jsonl", docs)
    heads = [(p.doc_id, p.index) for p in by_doc.of_kind(("heading", "box_title"))]
    assert heads == [(p.doc_id, p.index) for p in whole_paras if p.kind in ("heading", "box_title")] and heads
    plan = next(iter(by_doc))
    assert [(p.doc_id, p.index) for p in by_doc.of_kind(("item",), [plan])] == \
        [(p.doc_id, p.index) for p in whole_paras if p.kind == "item" and p.doc_id == plan]
    assert list(by_doc[plan].sections()) == [p.section for p in whole_paras if p.doc_id == plan]
    for p in whole_paras[:80]:
        assert [c.chunk_id for c in chunks.of_paragraph(p.doc_id, p.index)] == \
            [c.chunk_id for c in whole_chunks if (c.doc_id, c.para_index) == (p.doc_id, p.index)]
    assert chunks.of_paragraph("no-such-document", 0) == []
    mask = chunks.in_documents([plan])
    assert mask.tolist() == [c.doc_id == plan for c in whole_chunks]


def test_one_object_per_record_while_it_is_in_use(written):
    """Callers compare paragraphs and chunks with `is` and `in` within a question; afterwards they are let go."""
    import gc
    import weakref

    root, docs, *_ = written
    by_doc, chunks, _ = load_passages(root / "passages.npz", root / "chunks.jsonl", docs)
    plan = next(iter(by_doc))
    p = by_doc[plan][5]
    assert by_doc[plan][5] is p and p in by_doc[plan] and by_doc[plan][4] != p
    c = chunks[7]
    assert chunks[7] is c and chunks.of_paragraph(c.doc_id, c.para_index)[0] is chunks[
        next(i for i in range(len(chunks)) if chunks[i].para_index == c.para_index and chunks[i].doc_id == c.doc_id)]
    gone_p, gone_c = weakref.ref(p), weakref.ref(c)
    del p, c
    gc.collect()
    assert gone_p() is None and gone_c() is None


def test_a_text_that_is_not_its_documents_slice_is_refused(tmp_path):
    docs, paras, chunks = _records(tmp_path)
    chunks[3] = chunks[3].model_copy(update={"text": "改" + chunks[3].text})
    with pytest.raises(ValueError):
        write_passages(tmp_path / "p.npz", tmp_path / "c.jsonl", list(docs.values()), paras, chunks, [])


def test_sentence_rows_answer_as_the_dict_they_replace():
    keys = [["a", 5], ["b", 0], ["a", 0], ["a", 9], ["b", 0], ["c", 3]]  # ("b", 0) twice: the last row wins
    ref = {(d, s): i for i, (d, s) in enumerate(keys)}
    rows = SentenceRows.from_keys(keys)
    assert list(rows.items()) == list(ref.items()) and len(rows) == len(ref)
    assert all(rows[k] == v for k, v in ref.items())
    assert rows.get(("a", 1)) is None and ("z", 0) not in rows and ("a", 9) in rows
    with pytest.raises(KeyError):
        rows["c", 4]


def test_sentence_rows_without_a_pending_document_answer_as_if_it_had_none():
    """A pending document's sentences have zero rows: left out of the keys, they read as sentences without a row."""
    keys = [["a", 5], ["b", 0], ["a", 0], ["b", 7], ["b", 0], ["c", 3]]
    rows = SentenceRows.from_keys(keys)
    hidden = rows.without({"b", "not-in-the-kb"})
    ref = {(d, s): i for i, (d, s) in enumerate(keys) if d != "b"}
    assert list(hidden.items()) == list(ref.items()) and len(hidden) == len(ref)
    assert hidden.get(("b", 0)) is None and ("b", 7) not in hidden and hidden["c", 3] == 5
    assert hidden.rows == rows.rows == len(keys)  # the rows stay: the vector matrix keeps its shape
    assert rows.get(("b", 0)) == 4  # the original is unchanged
    assert rows.without([]) is rows and hidden.without({"b"}) is hidden
    assert list(hidden.without({"a"}).items()) == [(("c", 3), 5)]


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

    root, docs, _, whole, _ = written
    for name in ("passages.npz", "chunks.jsonl"):
        shutil.copy(root / name, tmp_path / name)
    np.save(tmp_path / "v.npy", np.eye(4, dtype=np.float32))
    _, chunks, _ = load_passages(tmp_path / "passages.npz", tmp_path / "chunks.jsonl", docs)
    rows = Rows(tmp_path / "v.npy")
    shutil.rmtree(tmp_path)
    assert [c.index_text for c in chunks] == [c.index_text for c in whole]
    assert np.array_equal(rows[np.array([1, 2])], np.eye(4, dtype=np.float32)[1:3])


def test_address_index_from_the_columns_is_the_one_from_the_records(written):
    """kb.answer.address indexes a loaded KB's documents from the label columns; the result is what the heading
    paths of the records say (reference: the scopes built paragraph by paragraph, as the index once was; a 节 is
    keyed by the path above it, since sections are numbered afresh in each chapter)."""
    from kb.answer.address import CONTAINERS, AddressIndex, label_address

    root, docs, whole_paras, _, _ = written
    by_doc, _, _ = load_passages(root / "passages.npz", root / "chunks.jsonl", docs)
    plain: dict[str, list[Paragraph]] = {}
    for p in whole_paras:
        plain.setdefault(p.doc_id, []).append(p)
    reference: dict = {}
    for doc_id, paras in plain.items():
        for at, p in enumerate(paras):
            for depth, label in enumerate(p.section):
                if (a := label_address(label, depth)) is not None:
                    above = tuple(p.section[:depth]) if a.kind == "节" else ()
                    d, positions = reference.setdefault((doc_id, a, above), (depth, []))
                    if d == depth:
                        positions.append(at)
    assert len(reference) > 100 and {a.kind for _, a, _ in reference} >= {"章", "条", "部分", "节"}
    for index in (AddressIndex(by_doc), AddressIndex(plain)):
        got = {}
        for doc_id in plain:
            for kind in (*CONTAINERS, "条"):
                for sc in index.parts(doc_id, kind):
                    above = tuple(sc.paragraphs[0].section[:sc.depth]) if sc.address.kind == "节" else ()
                    got[(doc_id, sc.address, above)] = (sc.depth, sc.positions.tolist())
                    assert [p.index for p in sc.paragraphs] == [plain[doc_id][i].index for i in sc.positions]
        assert got == reference
        some = next(a for (_, a, _) in reference)
        assert [(sc.doc_id, sc.address) for sc in index.find(some, None)] == [k[:2] for k in reference if k[1] == some]
