"""The per-document question sets and the multi-genre corpus keep their promises: every key fact and evidence
string is verbatim in its document, ids are unique, splits and categories are valid, sources are recorded, and
no reserved text is anywhere in the project's corpora."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.metrics import normalize

REPO = Path(__file__).resolve().parents[2]
CATEGORIES = {"numeric_target", "project", "responsibility", "layout", "task", "list", "eligibility", "paraphrase",
              "unanswerable", "multi_hop"}
RESERVED = ("大气污染防治法", "节约能源法", "车辆购置税法", "车船税法", "浙江省大气污染防治条例")
MANIFEST = json.loads((REPO / "eval" / "corpus" / "manifest.json").read_text(encoding="utf-8"))
FILES = {e["doc_id"]: REPO / "eval" / "corpus" / e["file"] for e in MANIFEST}
FILES["zhejiang-nev-14th-fyp-2021"] = REPO / "corpus" / "zhejiang-nev-14th-fyp-2021.txt"
SETS = sorted((REPO / "eval" / "questions").glob("*.jsonl"))


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.stem)
def test_items_are_grounded_verbatim(path):
    text = normalize(FILES[path.stem].read_text(encoding="utf-8"))
    ids, bad = set(), []
    for line in path.read_text(encoding="utf-8").splitlines():
        it = json.loads(line)
        assert it["doc_id"] == path.stem and it["id"] not in ids, it["id"]
        ids.add(it["id"])
        assert it["split"] in ("dev", "test") and it["category"] in CATEGORIES, it["id"]
        assert it["answerable"] == (it["category"] != "unanswerable"), it["id"]
        bad += [f"{it['id']}: {s}" for s in it["key_facts"] + it["evidence"] if normalize(s) not in text]
    assert not bad, "not verbatim in the document:\n" + "\n".join(bad)


def test_every_document_has_dev_and_test_items():
    assert {p.stem for p in SETS} == set(FILES)
    for path in SETS:
        splits = {json.loads(line)["split"] for line in path.read_text(encoding="utf-8").splitlines()}
        assert splits == {"dev", "test"}, path.stem


def test_sources_are_recorded_and_files_verbatim_sized():
    for e in MANIFEST:
        src = e["source"]
        assert src["repository"] and src["path"] and len(src["commit"]) == 40, e["doc_id"]
        assert (REPO / "eval" / "corpus" / e["file"]).stat().st_size > 1000


def test_no_reserved_text_in_any_corpus():
    titles = [e["title"] for e in MANIFEST] + [e["title"] for e in
                                                json.loads((REPO / "corpus" / "manifest.json").read_text("utf-8"))]
    for title in titles:
        assert not any(r in title for r in RESERVED), title
    for folder in (REPO / "corpus", REPO / "eval" / "corpus"):
        for f in folder.iterdir():
            assert not any(r in f.name for r in RESERVED), f
