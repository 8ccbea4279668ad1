"""Eligibility over the real laws and regulations of eval/corpus: field evidence only (no stored sentence vectors),
with the real query encoder for products the taxonomy's words do not place."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from indexer.loader import load_corpus
from indexer.provisions import extract_provisions
from indexer.structure import parse
from kb.core.taxonomy import load_taxonomy
from kb.eligibility.matcher import Matcher, Profile, understand

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def law_inputs():
    from kb.embed import NanoQueries

    docs = load_corpus(REPO / "eval" / "corpus")
    return docs, [p for d in docs for p in extract_provisions(d, parse(d))], NanoQueries()


def new_matcher(law_inputs) -> Matcher:
    docs, provisions, q = law_inputs
    return Matcher(provisions, {d.meta.doc_id: d.meta.title for d in docs}, q.embed_query,
                   np.zeros((0, q.dim), np.float32), {},
                   documents={d.meta.doc_id: (d.meta.level, d.meta.doc_type) for d in docs},
                   embed_queries=q.embed_queries)


@pytest.fixture(scope="module")
def law_matcher(law_inputs) -> Matcher:
    return new_matcher(law_inputs)


@pytest.fixture(scope="module")
def law_matcher_warm(law_matcher) -> Matcher:
    """With the taxonomy's words embedded (seconds on a quiet machine): for products they do not place."""
    law_matcher.warm_up()
    return law_matcher


def scored(m: Matcher, profile: dict, needle: str):
    """The match whose quote contains `needle`, from all the matches of the profile (k large)."""
    res = m.match(profile, k=200)
    found = [x for x in res.matches if needle in x.quote]
    return found[0] if found else None


def test_a_class_named_inside_a_longer_class_term_is_not_the_values():
    tax = load_taxonomy()
    f = understand(Profile(enterprise_type="报废机动车回收拆解企业"), tax)
    assert "报废机动车" in f.classes and "机动车" not in f.classes
    assert "机动车" in understand(Profile(products=["纯电动轻型厢式物流车"]), tax).classes


def test_an_encouragement_counts_only_for_the_class_it_names_by_the_profiles_word(law_matcher):
    # "太阳能光伏发电系统" names the photovoltaic builder's own word; "废物" names a lithium recycler's field only broadly
    pv = scored(law_matcher, {"enterprise_type": "光伏工程企业", "products": ["屋顶光伏"]}, "太阳能光伏发电系统")
    assert pv is not None and any(r.startswith("条款鼓励或支持可再生能源") for r in pv.reasons)
    waste = scored(law_matcher, {"enterprise_type": "资源综合利用企业", "products": ["电池级碳酸锂"]},
                   "国家鼓励和推进废物回收体系建设")
    assert waste is None or not any(r.startswith("条款鼓励或支持") for r in waste.reasons)


def test_the_case_a_law_clause_applies_to_is_judged_against_the_profile():
    from kb.eligibility.matcher import analyse, judge

    tax = load_taxonomy()
    case = analyse("机动车、铁路机车、非道路移动机械、船舶和航空器等流动污染源排放应税污染物的", tax, own=True)
    fleet = Profile(enterprise_type="物流运输企业", products=["纯电动轻型厢式物流车"])
    assert judge(case, fleet, understand(fleet, tax)).status == "met"
    cells = Profile(enterprise_type="电池企业", products=["磷酸铁锂动力电芯"])
    c = judge(case, cells, understand(cells, tax))
    assert c.status == "unmet" and "不属于" in c.basis
    silent = Profile(description="想了解环保税")
    assert judge(case, silent, understand(silent, tax)).status == "unknown"


def test_a_clause_for_another_class_ranks_below_the_one_for_the_profiles(law_matcher):
    """The environmental-tax exemption for mobile sources is the fleet's case and not a battery maker's."""
    needle = "流动污染源排放应税污染物的"
    fleet = scored(law_matcher, {"enterprise_type": "物流运输企业", "products": ["纯电动轻型厢式物流车"],
                                 "needs": ["税收"]}, needle)
    cells = scored(law_matcher, {"enterprise_type": "电池企业", "products": ["磷酸铁锂动力电芯"],
                                 "needs": ["税收"]}, needle)
    assert fleet is not None and any(c.status == "met" and needle in c.text for c in fleet.conditions)
    assert cells is None or cells.score < fleet.score


PROFILES = [
    {"enterprise_type": "物流运输企业", "products": ["纯电动轻型厢式物流车"], "needs": ["税收", "运营"]},
    {"enterprise_type": "民营中小企业", "region": "台州市温岭市", "activities": ["融资"],
     "description": "想拿应收账款做抵押贷款"},
    {"enterprise_type": "资源综合利用企业", "products": ["电池级碳酸锂", "硫酸镍"], "qualifications": ["高新技术企业"]},
    {"enterprise_type": "地方政府", "region": "湖州市"},
    {"products": ["纯电动重卡"], "description": "一千多名职工"},
]


def test_only_provisions_a_fact_can_reach_are_scored_and_nothing_changes(law_matcher):
    """The candidate index is exact: scoring every provision gives the same matches, scores and reasons."""
    everything = copy.copy(law_matcher)
    everything._candidates = lambda f, similar: set(range(len(everything.items)))
    for profile in PROFILES:
        fast, full = law_matcher.match(profile, k=50), everything.match(profile, k=50)
        assert [(m.quote, m.score, m.reasons) for m in fast.matches] == \
               [(m.quote, m.score, m.reasons) for m in full.matches]


def test_a_profiles_text_and_unplaced_products_are_encoded_in_two_calls_by_length_and_kept(law_matcher_warm):
    law_matcher = law_matcher_warm
    calls = []
    real = law_matcher.embed_queries
    law_matcher.embed_queries = lambda texts: calls.append(list(texts)) or real(texts)
    try:
        profile = {"enterprise_type": "港口装卸企业", "products": ["正面吊"], "description": "想换电动的"}
        law_matcher.match(profile)
        # the profile's text and its unplaced products, in at most two calls: the texts over half the longest's
        # length, and the shorter ones (a batch is padded to its longest text)
        text = law_matcher.profile_text(Profile.model_validate(profile))
        encoded = [t for c in calls for t in c]
        assert text in encoded and "正面吊" in encoded and len(encoded) == len(set(encoded)) and len(calls) <= 2
        longest = max(map(len, encoded))
        assert all(len({2 * len(t) > longest for t in c}) == 1 for c in calls)
        n = len(calls)
        law_matcher.match(profile)
        assert len(calls) == n  # kept for the next request on this KB
    finally:
        law_matcher.embed_queries = real


def test_a_class_term_inside_a_longer_one_names_only_the_longer_class():
    from kb.core.taxonomy import tag_outermost

    tax = load_taxonomy()
    assert set(tag_outermost("拆解的报废机动车“五大总成”", tax.classes)) == {"报废机动车"}
    assert "机动车" in tag_outermost("机动车、铁路机车、非道路移动机械", tax.classes)


DISMANTLER = {"enterprise_type": "报废机动车回收拆解企业", "products": ["报废机动车回用件"],
              "activities": ["报废机动车拆解", "整车制造"]}
FLEET = {"enterprise_type": "物流运输企业", "products": ["纯电动轻型厢式物流车"], "activities": ["车队运营"]}


def test_an_encouragement_of_another_kind_of_operator_is_not_the_profiles(law_matcher):
    # the 生产 of "机动车生产企业" is part of a name, not the activity 制造; the clause encourages carmakers
    m = scored(law_matcher, DISMANTLER, "国家鼓励机动车生产企业从事报废机动车回收活动")
    assert m is not None
    assert not any("条款涉及“生产”" in r or r.startswith("条款鼓励或支持") for r in m.reasons)


def test_a_clause_for_the_dismantlers_case_is_not_a_fleets(law_matcher):
    from kb.eligibility.matcher import analyse, judge

    tax = load_taxonomy()
    case = analyse("拆解的报废机动车“五大总成”以外的零部件符合保障人身和财产安全等强制性国家标准，能够继续使用的", tax,
                   own=True)
    fleet = Profile.model_validate(FLEET)
    c = judge(case, fleet, understand(fleet, tax))
    assert c.status == "unmet" and "回收利用" in c.basis
    needle = "拆解的报废机动车“五大总成”以外的零部件"
    dismantler = scored(law_matcher, DISMANTLER, needle)
    assert dismantler is not None
    assert next(x for x in dismantler.conditions if x.text.startswith("拆解的报废机动车")).status == "met"
    for_fleet = scored(law_matcher, FLEET, needle)
    assert for_fleet is None or for_fleet.score < dismantler.score  # cut, or well below


def test_a_duty_of_the_profiles_kind_is_not_support_for_it(law_matcher):
    from kb.eligibility.matcher import obliged

    tax = load_taxonomy()
    assert obliged("第四条 中小企业应当依法经营，遵守国家劳动用工、安全生产、职业卫生、社会保障、资源环境、质量标准、"
                   "知识产权、财政税收等方面的法律、法规，遵循诚信原则，规范内部管理，提高经营管理水平；不得损害劳动者合法权益，"
                   "不得损害社会公共利益。", tax) == ["中小企业"]
    assert obliged("国家鼓励中小企业及付款方通过应收账款融资服务平台确认债权债务关系，提高融资效率，降低融资成本。", tax) == []
    sme = {"enterprise_type": "民营中小企业", "products": ["新能源汽车电机壳体"]}
    duty = scored(law_matcher, sme, "中小企业应当依法经营")
    assert duty is None or not any("条款面向中小企业" in r for r in duty.reasons)


def test_a_veterans_clause_is_no_recycling_clause():
    tax = load_taxonomy()
    from kb.core.taxonomy import tag

    assert "回收利用" not in tag("高等学校毕业生、退役军人和失业人员、残疾人员等创办小型微型企业", tax.segments)
    assert "回收利用" in tag("强化锂电池等退役动力电池在储能、备能、充换电等领域梯次利用", tax.segments)


def test_a_class_the_profile_only_buys_counts_where_the_clause_is_about_acquiring_it(law_matcher):
    buyer = {"enterprise_type": "电池企业", "products": ["磷酸铁锂动力电芯"], "activities": ["购置NMP回收装置"]}
    credit = scored(law_matcher, buyer, "企业购置用于环境保护、节能节水、安全生产等专用设备的投资额")
    assert credit is not None and any("条款适用于环境保护专用设备" in r for r in credit.reasons)
    # public procurement prefers the makers of such products, not their buyers
    procurement = scored(law_matcher, buyer, "使用财政性资金进行采购的，应当优先采购节能")
    assert procurement is None or not any("条款适用于环境保护专用设备" in r for r in procurement.reasons)
    maker = {"products": ["废气处理设备"]}
    sold = scored(law_matcher, maker, "使用财政性资金进行采购的，应当优先采购节能")
    assert sold is not None and any("条款适用于环境保护专用设备" in r for r in sold.reasons)


def test_a_threshold_decides_the_case_it_is_part_of_and_every_match_is_its_own_clause(law_matcher):
    """环境保护税法 第十三条: the case "…浓度值低于…排放标准百分之三十的" is decided by the profile's figure, shown once."""
    emitter = {"enterprise_type": "电池企业", "products": ["磷酸铁锂动力电芯"], "needs": ["税收"],
               "description": "废气排放浓度只有排放标准的四成左右，环保税能不能少交"}
    res = law_matcher.match(emitter, k=50)
    step = next(m for m in res.matches if "百分之三十的，减按百分之七十五" in m.quote)
    assert [c.status for c in step.conditions] == ["met"] and "条款要求低于70%" in step.conditions[0].basis
    for profile in [*PROFILES, emitter]:
        for m in law_matcher.match(profile, k=50).matches:
            provision = next(it.prov for it in law_matcher.items if it.prov.doc_id == m.doc_id and it.prov.start == m.start)
            assert m.quote == provision.quote
            assert all(c.text in m.quote or c.text == m.lead_in.strip() for c in m.conditions)


@pytest.fixture(scope="module")
def worded_matcher(law_inputs) -> Matcher:
    """With the segmenter: the description's rare words count where a clause uses them."""
    from kb.core.segment import segmenter

    docs, provisions, q = law_inputs
    return Matcher(provisions, {d.meta.doc_id: d.meta.title for d in docs}, q.embed_query,
                   np.zeros((0, q.dim), np.float32), {},
                   documents={d.meta.doc_id: (d.meta.level, d.meta.doc_type) for d in docs},
                   embed_queries=q.embed_queries, tokens=segmenter().tokens)


def test_a_rare_word_of_the_description_counts_where_the_clause_uses_it(law_matcher, worded_matcher):
    profile = {"enterprise_type": "电池材料企业", "products": ["三元正极材料"],
               "description": "今年换了一批新设备，想知道折旧上有什么说法。"}
    needle = "加速折旧"
    plain, worded = scored(law_matcher, profile, needle), scored(worded_matcher, profile, needle)
    assert worded is not None and any("“折旧”见于条款原文" in r for r in worded.reasons)
    assert plain is None or worded.score > plain.score
    # common words (企业, 设备 in many clauses) are no evidence of what is asked
    asked = worded_matcher._asked("企业想知道设备折旧")
    assert "折旧" in asked and "企业" not in asked


def test_each_stated_need_gets_its_own_floor(worded_matcher):
    """Two needs, one served far better: the other need's best clauses are still offered, below the shared floor."""
    profile = {"enterprise_type": "电动自行车生产企业", "products": ["新国标电动自行车"],
               "description": "想配合政府做超标车以旧换新，也想去外地参加政府采购投标。"}
    res = worded_matcher.match(profile, k=10)
    top = res.matches[0].score
    bought = [m for m in res.matches if "政府采购" in m.support_types]
    assert bought, [m.quote[:30] for m in res.matches]
    assert min(m.score for m in bought) < worded_matcher.w.min_relative_needs * top



def test_a_retrieved_clause_for_another_kind_of_actor_gains_nothing_from_retrieval(law_inputs):
    """The description's retrieval lifts a clause for the profile, not one that relieves another kind of actor by
    name whose words are as near (the grid company's 接网费用 for a photovoltaic builder)."""
    docs, provisions, _ = law_inputs
    grid = next(p for p in provisions if "电网企业不能通过销售电价回收的" in p.quote)
    solar = next(p for p in provisions if "太阳能光伏发电系统" in p.quote)
    m = new_matcher(law_inputs)
    m.search = lambda question, k, vector: [(grid.doc_id, grid.start, grid.end), (solar.doc_id, solar.start, solar.end)]
    # every scored clause returned (no relative floors), so the one for another actor is seen unlifted
    m.w = m.w.model_copy(update={"min_score": 0.0, "min_relative": 0.0, "min_relative_needs": 0.0})
    profile = {"enterprise_type": "光伏工程企业", "products": ["屋顶光伏"],
               "description": "在厂房屋顶建分布式光伏，余电卖给电网，有没有补助？"}
    found = {x.quote: x for x in m.match(profile, k=200).matches}
    lifted = [q for q, x in found.items() if any(r.startswith("以企业简介为问题检索") for r in x.reasons)]
    assert grid.quote in found  # returned for its words and the subsidy asked about, but not lifted
    assert solar.quote in lifted and grid.quote not in lifted


def test_the_description_is_searched_with_what_the_enterprise_is_and_makes(law_inputs):
    """The type and products name the texts' own terms ("独立电力系统") that an everyday description paraphrases
    ("还没接上大电网的小岛上建风机"): the search for the description carries them."""
    m = new_matcher(law_inputs)
    asked = []
    m.search = lambda question, k, vector: asked.append(question) or []
    m.match({"enterprise_type": "可再生能源独立电力系统运营企业", "products": ["风光储离网微电网"],
             "description": "我们在还没接上大电网的小岛上建风机和光伏，想知道有没有资金扶持。"})
    assert len(asked) == 1
    assert all(w in asked[0] for w in ("独立电力系统", "离网微电网", "还没接上大电网"))
    # without a description nothing is searched (the fields are matched one by one)
    asked.clear()
    m.match({"enterprise_type": "可再生能源独立电力系统运营企业", "products": ["风光储离网微电网"]})
    assert asked == []
