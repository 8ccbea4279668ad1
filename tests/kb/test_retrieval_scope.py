"""Searching inside named documents: their titles' words are left out of the query (kb/retrieval/scope.py)."""
from __future__ import annotations

import numpy as np
import pytest

from kb.core.segment import Segmenter
from kb.retrieval.scope import scoped_vector, title_tokens, without_titles
from tests.fixtures.docs import FICTIONAL_DOCS, write_fictional

CITY = "【测试数据】虚构市新能源汽车充电设施建设补贴办法"
GUIDE = "【测试数据】虚构国家新能源汽车电池安全测试指南"


def test_the_title_is_cut_out_of_the_question():
    assert without_titles("按虚构市充电设施建设补贴办法，交流慢充桩补多少钱？", [CITY]) == "按虚构市，交流慢充桩补多少钱？"
    # runs shorter than four characters are the question's own words, even when the title has them too
    assert without_titles("虚构市的充电桩补多少？", [CITY]) == "虚构市的充电桩补多少？"


def test_several_documents_lose_only_what_all_their_titles_share():
    assert without_titles("新能源汽车电池包要测什么？", [CITY, GUIDE]) == "电池包要测什么？"
    assert without_titles("电池安全测试指南测什么？", [CITY, GUIDE]) == "电池安全测试指南测什么？"


def test_a_question_that_is_only_the_title_is_kept():
    assert without_titles("《虚构市新能源汽车充电设施建设补贴办法》", [CITY]) == "《虚构市新能源汽车充电设施建设补贴办法》"
    assert without_titles("补多少？", []) == "补多少？"


def test_title_tokens_are_those_every_title_has():
    seg = Segmenter()
    one = title_tokens([CITY], seg)
    assert {"充电", "补贴"} <= one and "多少" not in one
    both = title_tokens([CITY, GUIDE], seg)
    assert "新能源汽车" in both and "补贴" not in both and "电池" not in both
    assert title_tokens([], seg) == set()


def test_the_title_direction_leaves_the_vector_of_a_question_that_quotes_it():
    axes = {CITY: np.array([1.0, 0.0, 0.0]), GUIDE: np.array([0.0, 1.0, 0.0])}
    q = np.array([0.6, 0.0, 0.8])
    quoting = "虚构市新能源汽车充电设施建设补贴办法里私人桩能补吗？"
    out = scoped_vector(q, quoting, [CITY], axes.__getitem__, 0.5)
    assert np.allclose(out, np.array([0.1, 0.0, 0.8]) / np.linalg.norm([0.1, 0.0, 0.8]))
    assert np.allclose(scoped_vector(q, "私人桩能补吗？", [CITY], axes.__getitem__, 0.5), q)  # no title in it
    assert np.allclose(scoped_vector(q, quoting, [CITY, GUIDE], axes.__getitem__, 0.5), q)  # not one document
    assert np.allclose(scoped_vector(q, quoting, [CITY], axes.__getitem__, 0.0), q)


@pytest.fixture(scope="module")
def fictional_kb(tmp_path_factory, kb):
    from kb.service import KnowledgeBase

    root = tmp_path_factory.mktemp("scope")
    write_fictional(root / "corpus")
    return KnowledgeBase.open(kb_dir=root / "kb", corpus_dir=root / "corpus", embedder=kb.embedder)


def test_a_question_naming_a_document_finds_the_passage_not_the_title(fictional_kb):
    from kb.core.settings import RetrievalSettings
    from kb.retrieval.hybrid import HybridRetriever

    assert "县财政按每座站30万元" in FICTIONAL_DOCS["test-county-notice-2097.txt"]
    question = "按虚构县换电站布局试点方案，换电站的钱从哪里来？"
    # (the retriever's own ranking: rec.retrieved lists first what the answerer chose to quote)
    data, seg, scoped, _ = fictional_kb._state
    top = scoped.restricted({"test-county-notice-2097"}).search(question, k=1)[0][0]
    assert top.doc_id == "test-county-notice-2097" and top.text.startswith("1．县财政按每座站30万元")
    # Without the scope the title's words win: the notice that repeats the title outranks the answer.
    unscoped = HybridRetriever(data, seg, fictional_kb._embed_query, params=RetrievalSettings(scope_titles=False))
    top = unscoped.restricted({"test-county-notice-2097"}).search(question, k=1)[0][0]
    assert "县财政" not in top.text and "换电站布局试点方案" in top.text
