"""Numeric conditions: thresholds in made-up clauses (marked 【测试数据】, fictional issuer) against the figures a
profile states in its own words; and the real environmental-tax steps of eval/corpus."""
from __future__ import annotations

import numpy as np
import pytest

from kb.core.taxonomy import Provision
from kb.eligibility.matcher import Matcher
from kb.eligibility.thresholds import Amount, compare, profile_figures, thresholds

SMALL = ("【测试数据】第八条 从业人数不超过300人、资产总额不超过5000万元、年度应纳税所得额不超过三百万元的企业，"
         "减按20％的税率征收企业所得税。")
RESEARCH = "【测试数据】研究开发费用占同期销售收入的比例不低于百分之三的企业，可以申请研发补助。"
BIG = "【测试数据】职工人数在1000人以上、营业收入超过2亿元的企业，可以申请技术改造贴息。"
# 环境保护税法 第十三条 (real text, eval/corpus)
EMISSION = ("第十三条 纳税人排放应税大气污染物或者水污染物的浓度值低于国家和地方规定的污染物排放标准百分之三十的，"
            "减按百分之七十五征收环境保护税。")


def by_measure(text: str) -> dict:
    return {t.measure: t for t in thresholds(text)}


def test_thresholds_are_read_verbatim_with_their_limits():
    small = by_measure(SMALL)
    assert (small["从业人数"].op, small["从业人数"].value) == ("<=", 300)
    assert (small["资产总额"].op, small["资产总额"].value) == ("<=", 5e7)
    assert (small["应纳税所得额"].op, small["应纳税所得额"].value) == ("<=", 3e6)
    assert all(t.text in SMALL for t in small.values())
    assert by_measure(RESEARCH)["研发费用占收入比例"].op == ">="
    big = by_measure(BIG)
    assert (big["从业人数"].op, big["从业人数"].value) == (">=", 1000)  # 以上 includes the figure
    assert (big["营业收入"].op, big["营业收入"].value) == (">", 2e8)  # 超过 does not
    # 低于标准百分之三十: a concentration under 70% of the standard
    e = by_measure(EMISSION)["排放浓度占标准比例"]
    assert (e.op, e.value) == ("<", 70) and e.text in EMISSION
    # a computation or a duty's share of a budget is no threshold on the enterprise
    assert thresholds("企业的应纳税所得额乘以适用税率，减除依照本法关于税收优惠的规定减免和抵免的税额后的余额，为应纳税额。") == []
    assert thresholds("向中小企业预留的采购份额应当占本部门年度政府采购项目预算总额的百分之三十以上") == []


def test_a_profile_states_figures_in_its_own_words():
    f = profile_figures("六十来个人的小公司，一年应纳税所得额两百多万，想知道税率")
    assert (f["从业人数"].lo, f["从业人数"].hi) == pytest.approx((54, 66))
    assert (f["应纳税所得额"].lo, f["应纳税所得额"].hi) == (2e6, 3e6)
    f = profile_figures("一千多名职工、年营收几十亿的企业")
    assert (f["从业人数"].lo, f["从业人数"].hi) == (1000, 2000)
    assert (f["营业收入"].lo, f["营业收入"].hi) == (2e9, 9e9)
    assert (profile_figures("排放浓度只有排放标准的四成左右")["排放浓度占标准比例"].hi == pytest.approx(44))
    assert profile_figures("想知道研发费用能不能多扣") == {}


def test_met_unmet_and_unknown():
    small = by_measure(SMALL)
    assert compare(small["从业人数"], Amount(54, 66, "六十来个人")) == "met"
    assert compare(small["从业人数"], Amount(1000, 2000, "一千多名")) == "unmet"
    assert compare(small["应纳税所得额"], Amount(2e6, 3e6, "两百多万")) == "met"
    assert compare(small["应纳税所得额"], Amount(2.5e6, 3.5e6, "两三百万")) == "unknown"  # straddles the limit
    big = by_measure(BIG)
    assert compare(big["营业收入"], Amount(2e9, 9e9, "几十亿")) == "met"
    assert compare(big["从业人数"], Amount(80, 80, "八十人")) == "unmet"
    assert compare(by_measure(EMISSION)["排放浓度占标准比例"], Amount(36, 44, "四成左右")) == "met"


@pytest.fixture(scope="module")
def fictional_matcher() -> Matcher:
    from kb.embed import NanoQueries

    provs = [Provision(doc_id="test-small-enterprise-rules", para_index=i, start=0, end=len(q), quote=q,
                       section=["【测试数据】第八条"], genre="地方性法规", support_types=["税收减免"],
                       verbs=["减按"] if "减按" in q else ["申请"], targets=["企业"])
             for i, q in enumerate([SMALL, BIG])]
    q = NanoQueries()
    return Matcher(provs, {"test-small-enterprise-rules": "【测试数据】某市小型企业扶持办法"}, q.embed_query,
                   np.zeros((0, q.dim), np.float32), {},
                   documents={"test-small-enterprise-rules": ("市级", "地方性法规")}, embed_queries=q.embed_queries)


def conditions_of(res, needle: str) -> dict[str, str]:
    m = next(x for x in res.matches if needle in x.quote)
    return {c.text: c.status for c in m.conditions}


def test_a_match_shows_each_threshold_met_unmet_or_unknown(fictional_matcher):
    small_firm = {"enterprise_type": "动力电池企业", "needs": ["税收"],
                  "description": "六十来个人的小公司，一年应纳税所得额两百多万"}
    res = fictional_matcher.match(small_firm, k=5)
    c = conditions_of(res, "从业人数不超过300人")
    assert c["从业人数不超过300人"] == "met" and c["应纳税所得额不超过三百万元"] == "met"
    assert c["资产总额不超过5000万元"] == "unknown"  # the profile is silent on its assets
    top = res.matches[0]
    assert "从业人数不超过300人" in top.quote and any("满足条款条件" in r for r in top.reasons)
    big_firm = {"enterprise_type": "动力电池企业", "needs": ["税收"], "description": "一千多名职工，年营收几十亿"}
    res = fictional_matcher.match(big_firm, k=5)
    assert res.matches[0].quote == BIG  # the clause whose thresholds it meets ranks first
    assert conditions_of(res, "营业收入超过2亿元")["营业收入超过2亿元"] == "met"
    small = [x for x in res.matches if x.quote == SMALL]  # the small firms' clause is unmet: lower, or cut
    assert not small or next(c for c in small[0].conditions if c.text == "从业人数不超过300人").status == "unmet"
