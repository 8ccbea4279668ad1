"""The scorer against a tiny hand-checked fixture: every expected number below is worked out by hand.

The fixture document is invented test data (测试文件, fictional issuer), not policy text.
"""
from __future__ import annotations

import json

import pytest

from eval.__main__ import main, read_corpus, run_baseline
from eval.metrics import (
    EvalItem,
    evaluate,
    has_common_run,
    key_fact_recall,
    normalize,
    overlaps,
    percentile,
)
from kb.core.records import AnswerRecord, Citation, DocMeta, Document, Retrieved

DOC_ID = "test-doc"
DOC = (
    "测试文件（虚构，仅供测试）\n"
    "第一条 到2030年，测试市新能源汽车产量力争达到99万辆，规上工业产值达到888亿元。\n"
    "第二条 建成测试加氢站 7座，由测试市虚构委员会牵头组织实施。\n"
    "第三条 本文件为测试数据，不是真实政策。\n"
)
DOCS = {DOC_ID: DOC}

ITEMS = [
    EvalItem(id="a1", category="numeric_target", question="产量和产值目标？",
             key_facts=["99万辆", "888亿元"], evidence=["产量力争达到99万辆", "规上工业产值达到888亿元"]),
    EvalItem(id="b1", category="responsibility", question="谁牵头？",
             key_facts=["测试市虚构委员会"], evidence=["由测试市虚构委员会牵头组织实施"]),
    EvalItem(id="c1", category="numeric_target", question="加氢站多少座？",
             key_facts=["7座", "测试市虚构委员会", "牵头"], evidence=["建成测试加氢站 7座，由测试市虚构委员会"]),
    EvalItem(id="e1", category="list", question="文件性质？",
             key_facts=["测试数据"], evidence=["本文件为测试数据，不是真实政策"]),
    EvalItem(id="d1", category="unanswerable", question="2031年目标？", answerable=False),
    EvalItem(id="f1", category="unanswerable", question="补贴多少？", answerable=False),  # no record: missing
]


def cit(quote: str, doc_id: str = DOC_ID) -> Citation:
    return Citation(doc_id=doc_id, doc_title="测试文件", section="第一条", quote=quote)


def ret(*texts: str) -> list[Retrieved]:
    return [Retrieved(chunk_id=f"c{i}", doc_id=DOC_ID, section="", text=t, score=1.0 / (i + 1))
            for i, t in enumerate(texts)]


RECORDS = [
    # a1: first evidence at rank 2, second only at rank 6 -> rank 2, evidence_recall@5 = 1/2.
    # Answer holds "99万辆" (after whitespace removal) but not "888亿元" -> key_fact_recall 1/2.
    # Citations: one valid (contains the evidence -> supported), one not in the document (invalid).
    AnswerRecord(id="a1", question="产量和产值目标？", answer="产量目标为99 万辆。",
                 citations=[cit("测试市新能源汽车产量力争达到99万辆"), cit("产量力争达到100万辆")],
                 retrieved=ret("第三条 本文件为测试数据，不是真实政策。", "测试市新能源汽车产量力争达到99万辆",
                               "无关一", "无关二", "无关三", "规上工业产值达到888亿元"),
                 latency_ms=10),
    # b1: a refusal on an answerable item, no citations, evidence only at rank 11 (past the cut-off).
    AnswerRecord(id="b1", question="谁牵头？", answer="文件未说明。", refused=True,
                 retrieved=ret(*[f"无关{i}" for i in range(10)], "第二条 建成测试加氢站 7座，由测试市虚构委员会牵头组织实施。"),
                 latency_ms=20),
    # c1: evidence at rank 3 (the retrieved text has the space the evidence also has; both normalised).
    # Key facts: "7座" yes, "测试市虚构委员会" yes, "牵头" no -> 2/3.
    # Citation: neither contains the other ("建成" / "牵头组织实施" differ) but they share the 17-character run
    # "测试加氢站7座,由测试市虚构委员会" -> supported; valid in the normalised document.
    AnswerRecord(id="c1", question="加氢站多少座？", answer="建成测试加氢站7座，由测试市虚构委员会负责。",
                 citations=[cit("测试加氢站7座，由测试市虚构委员会牵头组织实施")],
                 retrieved=ret("无关A", "无关B", "第二条 建成测试加氢站 7座，由测试市虚构委员会牵头组织实施。"),
                 latency_ms=30),
    # e1: hit at rank 1 (only one passage retrieved). Key fact found -> 1.
    # Citation "第三条本文件为测试数据，" is valid, but its longest common run with the evidence is
    # "本文件为测试数据，" = 9 characters < 10 and neither contains the other -> not supported.
    AnswerRecord(id="e1", question="文件性质？", answer="第三条本文件为测试数据",
                 citations=[cit("第三条 本文件为测试数据，")],
                 retrieved=ret("第三条 本文件为测试数据，不是真实政策。"),
                 latency_ms=40),
    # d1: unanswerable, refused; one valid citation and one naming an unknown document (invalid).
    AnswerRecord(id="d1", question="2031年目标？", answer="文件未说明2031年的目标。", refused=True,
                 citations=[cit("不是真实政策"), cit("不是真实政策", doc_id="no-such-doc")],
                 latency_ms=100),
    # A record whose id matches no item: ignored.
    AnswerRecord(id="zzz", question="?", answer="x", citations=[cit("编造的内容")], latency_ms=5000),
]


@pytest.fixture(scope="module")
def report():
    return evaluate(ITEMS, RECORDS, DOCS)


def test_hand_counts_of_answer_lengths():
    # The normalised lengths used for answer_chars below, counted by hand.
    assert [len(normalize(r.answer)) for r in RECORDS[:4]] == [10, 6, 22, 11]


def test_overall(report):
    m = report.overall
    assert (m.n_items, m.n_answerable, m.n_unanswerable, m.n_missing) == (6, 4, 2, 1)
    # first-hit ranks of a1, b1, c1, e1: 2, none (11 > 10), 3, 1
    assert m.hit_at_1 == pytest.approx(1 / 4)  # e1
    assert m.hit_at_3 == pytest.approx(3 / 4)  # a1, c1, e1
    assert m.hit_at_5 == pytest.approx(3 / 4)
    assert m.hit_at_10 == pytest.approx(3 / 4)
    # evidence_recall@5: a1 1/2, b1 0, c1 1, e1 1 -> 2.5 / 4
    assert m.evidence_recall_at_5 == pytest.approx(0.625)
    # mrr@10: (1/2 + 0 + 1/3 + 1) / 4 = 11/24
    assert m.mrr_at_10 == pytest.approx(11 / 24)
    # key_fact_recall: (1/2 + 0 + 2/3 + 1) / 4 = 13/24
    assert m.key_fact_recall == pytest.approx(13 / 24)
    # answer_chars: median of 10, 6, 22, 11 -> (10 + 11) / 2
    assert m.answer_chars_median == pytest.approx(10.5)
    # citations of items with records: a1 2 (1 valid), c1 1 (valid), e1 1 (valid), d1 2 (1 valid); zzz ignored
    assert m.n_citations == 6
    assert m.citation_validity == pytest.approx(4 / 6)
    # citation_support: a1 yes, b1 no (no citations), c1 yes (run of 17), e1 no (run of 9) -> 2/4
    assert m.citation_support == pytest.approx(0.5)
    # refuse_recall: d1 refused, f1 missing (counted as not refused) -> 1/2
    assert m.refuse_recall == pytest.approx(0.5)
    # false_refusal_rate: b1 -> 1/4
    assert m.false_refusal_rate == pytest.approx(0.25)
    # latency of records present: 10, 20, 30, 40, 100. p50 = 30; p95 at position 3.8 -> 40 + 0.8 * 60 = 88
    assert m.latency_p50_ms == pytest.approx(30.0)
    assert m.latency_p95_ms == pytest.approx(88.0)


def test_per_category(report):
    assert list(report.per_category) == ["numeric_target", "responsibility", "list", "unanswerable"]
    num = report.per_category["numeric_target"]  # a1 (rank 2), c1 (rank 3)
    assert num.n_items == 2 and num.n_unanswerable == 0
    assert num.hit_at_1 == 0.0 and num.hit_at_3 == 1.0
    assert num.mrr_at_10 == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert num.evidence_recall_at_5 == pytest.approx(0.75)
    assert num.key_fact_recall == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert num.answer_chars_median == pytest.approx(16.0)
    assert num.citation_validity == pytest.approx(2 / 3)
    assert num.citation_support == 1.0
    assert num.refuse_recall is None
    assert num.false_refusal_rate == 0.0
    assert num.latency_p50_ms == pytest.approx(20.0)

    resp = report.per_category["responsibility"]  # b1: refused, nothing cited, no hit in the top 10
    assert resp.hit_at_10 == 0.0 and resp.mrr_at_10 == 0.0
    assert resp.false_refusal_rate == 1.0
    assert resp.citation_validity is None and resp.n_citations == 0
    assert resp.citation_support == 0.0

    una = report.per_category["unanswerable"]  # d1 refused, f1 missing
    assert (una.n_items, una.n_answerable, una.n_missing) == (2, 0, 1)
    assert una.hit_at_1 is None and una.key_fact_recall is None and una.answer_chars_median is None
    assert una.refuse_recall == pytest.approx(0.5)
    assert una.citation_validity == pytest.approx(0.5)
    assert una.latency_p50_ms == pytest.approx(100.0)


def test_item_scores(report):
    by_id = {s.id: s for s in report.items}
    assert by_id["a1"].first_hit_rank == 2
    assert by_id["a1"].missing_key_facts == ["888亿元"]
    assert by_id["b1"].first_hit_rank is None and by_id["b1"].refused
    assert by_id["c1"].supported and not by_id["e1"].supported
    assert by_id["f1"].missing and by_id["f1"].latency_ms is None
    assert by_id["d1"].supported is None and by_id["d1"].hit_at is None


def test_helpers():
    assert normalize("ＡＢ　1 ２\n３") == "AB123"
    assert has_common_run("甲乙丙丁戊己庚辛壬癸子", "X甲乙丙丁戊己庚辛壬癸Y")  # 10-char run
    assert not has_common_run("甲乙丙丁戊己庚辛壬子", "X甲乙丙丁戊己庚辛壬Y")  # 9-char run only
    assert overlaps("60万辆", "新能源汽车产量力争达到60万辆")  # evidence contains the quote
    assert not overlaps("", "任何证据")
    assert key_fact_recall([], "x") == 0.0
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)


def test_identical_gold_answers_score_perfectly():
    # Records built from the gold: every answerable metric 1, every citation valid and supporting.
    items = [it for it in ITEMS if it.answerable]
    recs = [AnswerRecord(id=it.id, question=it.question, answer="；".join(it.key_facts),
                         citations=[cit(e) for e in it.evidence], retrieved=ret(*it.evidence)) for it in items]
    m = evaluate(items, recs, DOCS).overall
    assert m.hit_at_1 == m.mrr_at_10 == m.key_fact_recall == m.evidence_recall_at_5 == 1.0
    assert m.citation_validity == m.citation_support == 1.0
    assert m.false_refusal_rate == 0.0


class StubKB:
    """Stands in for kb.service.KnowledgeBase in the baseline runner."""

    documents = {DOC_ID: Document(meta=DocMeta(doc_id=DOC_ID, file="t.txt", title="测试文件"), text=DOC)}

    def search(self, question, k=10, mode="hybrid"):
        return ret("第二条 建成测试加氢站 7座，由测试市虚构委员会牵头组织实施。", "无关")[:k]


def test_baseline_records():
    recs = run_baseline(StubKB(), ITEMS[:3], "bm25")
    assert [r.id for r in recs] == ["a1", "b1", "c1"]
    r = recs[2]
    assert r.answer == r.citations[0].quote == r.retrieved[0].text
    assert r.citations[0].doc_title == "测试文件" and not r.refused
    m = evaluate(ITEMS[:3], recs, DOCS).overall
    assert m.citation_validity == 1.0
    assert m.hit_at_1 == pytest.approx(2 / 3)  # b1 and c1 evidence are in the top passage, a1's is not


def test_cli_scores_answers_file(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "t.txt").write_text(DOC, encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps([{"file": "t.txt", "doc_id": DOC_ID, "title": "测试文件"}]),
                                          encoding="utf-8")
    assert read_corpus(corpus) == DOCS
    dataset = tmp_path / "mini.jsonl"
    dataset.write_text("".join(it.model_dump_json() + "\n" for it in ITEMS), encoding="utf-8")
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(r.model_dump_json() + "\n" for r in RECORDS) + "not json\n", encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["--dataset", str(dataset), "--answers", str(answers), "--corpus", str(corpus),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "answers" in printed and "unanswerable" in printed
    data = json.loads((out / "mini.json").read_text(encoding="utf-8"))
    assert data["systems"]["answers"]["overall"]["citation_validity"] == pytest.approx(4 / 6)
    assert (out / "mini.md").read_text(encoding="utf-8").startswith("# Evaluation")
