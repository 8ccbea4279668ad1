"""Table extraction measured against tests/fixtures/gold_tables.json, a hand-made reading of the plan."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.loader import load_corpus
from indexer.structure import parse
from indexer.tables import extract_tables
from kb.core.records import DocMeta, Document

REPO = Path(__file__).resolve().parents[2]
GOLD = json.loads((REPO / "tests" / "fixtures" / "gold_tables.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan() -> Document:
    return next(d for d in load_corpus(REPO / "corpus") if d.meta.doc_id == GOLD["doc_id"])


@pytest.fixture(scope="module")
def extracted(plan):
    return extract_tables(plan, parse(plan))


# ---------------------------------------------------------------- matching (as described in the gold file)

def _spans(text: str, quote: str) -> list[tuple[int, int]]:
    out, i = [], text.find(quote)
    while i >= 0:
        out.append((i, i + len(quote)))
        i = text.find(quote, i + 1)
    return out


def _overlaps(row, gold_spans) -> bool:
    return any(row.start < b and a < row.end for a, b in gold_spans)


def _bigram_recall(gold: str, got: str) -> float:
    g = {gold[i:i + 2] for i in range(len(gold) - 1)}
    return len(g & {got[i:i + 2] for i in range(len(got) - 1)}) / len(g) if g else 1.0


def _target_match(row, g, text) -> bool:
    return (row.value == g["value"] and row.unit == g["unit"] and row.year == g["year"]
            and _overlaps(row, _spans(text, g["quote"])) and _bigram_recall(g["indicator"], row.indicator) >= 0.5)


def _contains_either(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a in b or b in a)


def _project_match(row, g, text) -> bool:
    return row.level == g["level"] and row.field == g["field"] and _contains_either(row.name, g["name"])


def _resp_match(row, g, text) -> bool:
    return _contains_either(row.actor, g["actor"]) and _overlaps(row, _spans(text, g["quote"]))


def _pairs(rows, golds, match, text):
    """Greedy one-to-one matching in gold order: each gold row takes the first unmatched extracted row it matches."""
    used, pairs = set(), []
    for g in golds:
        for i, r in enumerate(rows):
            if i not in used and match(r, g, text):
                used.add(i)
                pairs.append((r, g))
                break
    return pairs


def _pr(rows, golds, match, text) -> tuple[float, float, list]:
    pairs = _pairs(rows, golds, match, text)
    precision = len(pairs) / len(rows) if rows else 1.0
    recall = len(pairs) / len(golds) if golds else 1.0
    return precision, recall, pairs


# ---------------------------------------------------------------- the gold file itself

def test_gold_quotes_occur_verbatim(plan):
    for kind in ("targets", "projects", "responsibilities"):
        for g in GOLD[kind]:
            assert g["quote"] in plan.text, g


# ---------------------------------------------------------------- precision and recall

def test_targets_precision_recall(plan, extracted):
    p, r, _ = _pr(extracted.targets, GOLD["targets"], _target_match, plan.text)
    print(f"targets: precision {p:.3f} recall {r:.3f} ({len(extracted.targets)} extracted, {len(GOLD['targets'])} gold)")
    assert p >= 0.95 and r >= 0.95


def test_projects_precision_recall(plan, extracted):
    p, r, _ = _pr(extracted.projects, GOLD["projects"], _project_match, plan.text)
    print(f"projects: precision {p:.3f} recall {r:.3f} ({len(extracted.projects)} extracted)")
    assert p >= 0.95 and r >= 0.95


def test_responsibilities_precision_recall(plan, extracted):
    p, r, _ = _pr(extracted.responsibilities, GOLD["responsibilities"], _resp_match, plan.text)
    print(f"responsibilities: precision {p:.3f} recall {r:.3f} ({len(extracted.responsibilities)} extracted)")
    assert p >= 0.9 and r >= 0.9


# ---------------------------------------------------------------- field accuracy on matched rows

def test_target_kind_and_qualifier_of_matched_rows(plan, extracted):
    _, _, pairs = _pr(extracted.targets, GOLD["targets"], _target_match, plan.text)
    assert all(r.kind == g["kind"] for r, g in pairs), [(r.quote, r.kind, g["kind"]) for r, g in pairs if r.kind != g["kind"]]
    assert all(r.qualifier == g["qualifier"] for r, g in pairs), \
        [(r.quote, r.qualifier, g["qualifier"]) for r, g in pairs if r.qualifier != g["qualifier"]]
    scope_ok = sum(r.scope == g["scope"] for r, g in pairs) / len(pairs)
    print(f"target scope accuracy {scope_ok:.3f}")
    assert scope_ok >= 0.9


def test_project_attributes(plan, extracted):
    _, _, pairs = _pr(extracted.projects, GOLD["projects"], _project_match, plan.text)
    assert all(r.investment == g["investment"] for r, g in pairs)
    assert all(r.name == g["name"] for r, g in pairs)
    for attr in ("organization", "location", "capacity"):
        acc = sum(getattr(r, attr) == g[attr] for r, g in pairs) / len(pairs)
        print(f"project {attr} accuracy {acc:.3f}")
        assert acc >= 0.9, attr
    # Each project row repeats its field's stated investment; the plan gives none per project.
    fields = {r.field: r.investment for r in extracted.projects if r.level == "field"}
    assert all(r.field_investment == fields[r.field] and r.investment == ""
               for r in extracted.projects if r.level == "project")


def test_responsibility_roles(plan, extracted):
    _, _, pairs = _pr(extracted.responsibilities, GOLD["responsibilities"], _resp_match, plan.text)
    assert all(r.role == g["role"] for r, g in pairs), [(r.actor, r.role, g["role"]) for r, g in pairs if r.role != g["role"]]
    assert all(r.duty for r in extracted.responsibilities)


# ---------------------------------------------------------------- provenance and parsing

def test_every_quote_is_verbatim_at_its_offsets(plan, extracted):
    for row in [*extracted.targets, *extracted.projects, *extracted.responsibilities]:
        assert row.doc_id == plan.meta.doc_id
        assert row.quote and plan.text[row.start:row.end] == row.quote, row
        assert row.section


def test_every_target_quote_contains_its_figure(extracted):
    for t in extracted.targets:
        assert t.value + t.unit in t.quote.replace(" ", "") or t.value in t.quote, t


def test_values_units_and_normalisation(extracted):
    def one(quote_part, value):
        rows = [t for t in extracted.targets if quote_part in t.quote and t.value == value]
        assert len(rows) == 1, (quote_part, rows)
        return rows[0]

    t = one("新能源汽车产量力争达到60万辆", "60")
    assert (t.unit, t.qualifier, t.year, t.kind, t.value_norm, t.unit_norm) == ("万辆", "力争达到", "2025", "target", 600000, "辆")
    assert t.section == "二、总体思路与发展目标 > （三）发展目标"
    t = one("规上工业产值力争达到1500亿元", "1500")
    assert (t.unit, t.value_norm, t.unit_norm) == ("亿元", 150_000_000_000, "元")
    t = one("优于12千瓦时/百公里", "12")
    assert (t.unit, t.qualifier, t.value_norm, t.unit_norm) == ("千瓦时/百公里", "优于", 12, "千瓦时/百公里")
    t = one("渗透率达到60%以上", "60")
    assert (t.indicator, t.unit, t.qualifier) == ("L2级别以上智能汽车技术新车渗透率", "%", "达到…以上")
    t = one("产量达7.7万辆", "7.7")
    assert (t.kind, t.year, t.value_norm) == ("baseline", "2020", 77000)
    t = one("有望突破500万辆", "500")
    assert (t.kind, t.year, t.scope) == ("forecast", "2025", "我国")
    t = one("投放燃料电池汽车超过3000辆", "3000")
    assert (t.year, t.kind, t.qualifier) == ("“十四五”期间", "target", "超过")
    t = one("建成加氢站30座", "30")
    assert t.quote == "到2025年，建成加氢站30座"  # the quote carries the year clause before it


def test_specifications_and_project_capacities_are_not_targets(extracted):
    quotes = " ".join(t.quote for t in extracted.targets)
    for spec in ("98MPa", "100-150kW", "70 MPa", "80G瓦时", "20GWh", "15万吨", "130万台", "20000台", "1550万件"):
        assert spec not in quotes, spec
    assert not any(t.value in ("2021", "2035", "2.0") for t in extracted.targets)


# ---------------------------------------------------------------- invented documents (测试文件)

FICTIONAL = """各测试单位：
现将《测试市新能源示范工作方案》印发给你们，请认真组织实施。
某某测试局
2021年4月8日
测试市新能源示范工作方案（测试文件）
本文件为测试文件，由某某测试局虚构，文号为测试〔2021〕12号，不是真实政策。
第一章 总则
第1条 本方案依据《测试条例（2019年修订）》第3条制定。
第2条 自印发之日起30日内报送材料，整改期限为3个月，每年2次抽查时间另行通知。
第二章 目标
第3条 到2025年，测试市示范车辆力争达到1200辆，建成测试充电站15座以上。
第4条 由某某测试局牵头，负责组织协调。联系电话：0571-12345678。
1．第一项任务。
2．开展5G网络和L3级别测试，完成第2批次评估。
"""


def _doc(text: str, title: str = "测试市新能源示范工作方案（测试文件）") -> Document:
    meta = DocMeta(doc_id="test-fictional", file="test.txt", title=title, issuer="某某测试局", date="2021-04-08",
                   level="市级")
    return Document(meta=meta, text=text)


def test_fictional_document_dates_numbers_ordinals_are_not_targets():
    doc = _doc(FICTIONAL)
    t = extract_tables(doc, parse(doc))
    assert sorted((x.value, x.unit, x.qualifier, x.year, x.kind) for x in t.targets) == [
        ("1200", "辆", "力争达到", "2025", "target"), ("15", "座", "以上", "2025", "target")]
    for row in t.targets + t.responsibilities:
        assert doc.text[row.start:row.end] == row.quote
    actors = {(r.actor, r.role) for r in t.responsibilities}
    assert ("某某测试局", "牵头") in actors and ("各测试单位", "实施") in actors
    assert t.projects == []


def test_document_without_figures_gives_empty_tables():
    doc = _doc("测试文件（测试文件）\n这是一份由某某测试局编写的测试文件，只有文字说明，没有任何数字指标。\n", title="测试文件（测试文件）")
    t = extract_tables(doc, parse(doc))
    assert (t.targets, t.projects, t.responsibilities) == ([], [], [])


def test_project_list_in_a_fictional_document():
    text = ("测试产业规划（测试文件）\n专栏1 测试重大项目\n1．测试电池领域。实施某某测试公司年产5万吨测试材料、"
            "测试市甲乙测试科技研发中心等重大项目，预计完成投资12亿元。\n")
    doc = _doc(text, title="测试产业规划（测试文件）")
    t = extract_tables(doc, parse(doc))
    names = [(p.level, p.name, p.capacity, p.investment) for p in t.projects]
    assert names == [("field", "测试电池领域", "", "12亿元"),
                     ("project", "某某测试公司年产5万吨测试材料", "年产5万吨测试材料", ""),
                     ("project", "测试市甲乙测试科技研发中心", "", "")]
    assert [(x.value, x.unit) for x in t.targets] == [("12", "亿元")]  # 5万吨 is a capacity inside a project name
