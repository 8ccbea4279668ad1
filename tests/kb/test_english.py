"""English questions: the documents are Chinese. Abbreviations the documents use (BMS, V2G) are matched; a
question whose words no document uses is told plainly to ask in Chinese instead of being answered at random."""
from __future__ import annotations


def test_english_words_no_document_uses_ask_for_chinese(kb):
    rec = kb.ask("How many hydrogen refueling stations will be built?")
    assert rec.refused and "请用中文提问" in rec.answer and rec.error is None
    assert "hydrogen refueling" in rec.answer  # the user's words, not a mangled token


def test_abbreviations_the_documents_use_are_answered(kb):
    rec = kb.ask("V2G")
    assert not rec.refused and rec.citations
    assert all(kb.documents[c.doc_id].text[c.start : c.end] == c.quote for c in rec.citations)
    assert any("V2G" in c.quote for c in rec.citations)
