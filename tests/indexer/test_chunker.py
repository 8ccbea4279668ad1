"""Chunks follow the structure, quote the source exactly and never cut an enumeration item."""
from pathlib import Path

from indexer.chunker import MAX_CHARS, chunk_paragraphs
from indexer.loader import load_corpus
from indexer.structure import parse

REPO = Path(__file__).resolve().parents[2]


def plan_chunks():
    doc = load_corpus(REPO / "corpus")[0]
    return doc, chunk_paragraphs(parse(doc), doc.text)


def test_chunks_are_verbatim_spans_with_heading_paths():
    doc, chunks = plan_chunks()
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.index_text.endswith(c.text) and c.index_text.startswith(c.section[0])


def test_every_body_sentence_is_in_some_chunk():
    doc, chunks = plan_chunks()
    for p in parse(doc):
        if p.kind in ("body", "item", "notice"):
            for s in p.sentences:
                assert any(c.start <= s.start and s.end <= c.end for c in chunks), s.text


def test_long_paragraph_windows_keep_enumeration_items_whole():
    doc, chunks = plan_chunks()
    windows = [c for c in chunks if c.text.startswith("全球汽车产业发展格局") or "是产业进入加速发展新阶段" in c.text
               or "是智能网联化成为新特征" in c.text or "是产业重塑竞争新格局" in c.text]
    assert len(windows) >= 2
    for mark in ("一是", "二是", "三是"):
        item_start = doc.text.index(mark + ("产业进入" if mark == "一是" else "智能网联化" if mark == "二是" else "产业重塑"))
        next_marks = [doc.text.find(m, item_start + 2) for m in ("二是", "三是") if doc.text.find(m, item_start + 2) > 0]
        item_end = min(next_marks) if next_marks else doc.text.index("\n", item_start)
        assert any(c.start <= item_start and item_end <= c.end for c in windows), mark
    assert all(len(c.text) <= MAX_CHARS for c in windows)
