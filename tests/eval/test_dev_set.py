"""The dev set is well formed and its gold is grounded in the document (nothing invented)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.metrics import CATEGORIES, EvalItem, normalize

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "eval" / "dev.jsonl"
DOC_ID = "zhejiang-nev-14th-fyp-2021"
DOC = normalize((REPO / "corpus" / f"{DOC_ID}.txt").read_text(encoding="utf-8"))


def _lines() -> list[str]:
    return [line for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


ITEMS = [EvalItem.model_validate(json.loads(line)) for line in _lines()]


def test_every_line_parses_with_all_fields():
    required = {"id", "category", "question", "answer", "key_facts", "evidence", "section", "answerable"}
    for line in _lines():
        raw = json.loads(line)
        assert required <= set(raw), raw.get("id")
        assert isinstance(raw["answerable"], bool)
        assert isinstance(raw["key_facts"], list) and isinstance(raw["evidence"], list)


def test_ids_unique_and_size():
    ids = [it.id for it in ITEMS]
    assert len(ids) == len(set(ids))
    assert len(ITEMS) >= 80


def test_categories():
    counts = Counter(it.category for it in ITEMS)
    assert set(counts) == set(CATEGORIES)
    for cat in CATEGORIES:
        assert counts[cat] >= 6, (cat, counts[cat])


@pytest.mark.parametrize("item", ITEMS, ids=lambda it: it.id)
def test_item_grounded(item: EvalItem):
    assert item.question.strip() and item.answer.strip()
    if item.category == "unanswerable":
        assert not item.answerable
    else:
        assert item.answerable
    if not item.answerable:
        assert item.key_facts == [] and item.evidence == []
        return
    assert item.key_facts and item.evidence
    for e in item.evidence:
        assert normalize(e) in DOC, f"evidence not verbatim in the document: {e}"
    if item.category != "multi_hop":  # multi_hop key facts may be computed values
        evidence = "".join(normalize(e) for e in item.evidence)
        for f in item.key_facts:
            assert normalize(f) in DOC or normalize(f) in evidence, f"key fact not in the document: {f}"
    for f in item.key_facts:  # the gold answer itself passes key_fact_recall
        assert normalize(f) in normalize(item.answer), f"key fact missing from gold answer: {f}"
