"""Enterprise eligibility on the real KB: grounded matches, condition statuses, honesty, bad input, scenario recall."""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from eval.eligibility import check_grounded, load_scenarios, run
from kb.cli.eligibility import add_eligibility_parser, run_eligibility
from kb.core.figures import cn_to_int
from kb.core.taxonomy import load_taxonomy
from kb.eligibility.matcher import (
    NOTE,
    Matcher,
    Profile,
    evaluate,
    matcher_for,
    understand,
)

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = load_scenarios()
LEADER_CONDITION = "具备行业整合能力的龙头企业"


@pytest.fixture(scope="module")
def matcher(kb) -> Matcher:
    return matcher_for(kb)


def quotes(res) -> list[str]:
    return [m.quote for m in res.matches]


def test_the_kb_stores_provisions(kb, matcher):
    stored = getattr(kb.data, "provisions", None)
    if stored is not None:  # built by indexer/build.py; older KBs are extracted on the fly
        assert [p.quote for p in stored] == [it.prov.quote for it in matcher.items]
    assert len(matcher.items) > 100
    assert all(it.row is not None for it in matcher.items)  # every provision has its stored sentence vector


def test_every_match_is_verbatim_with_verbatim_conditions(kb, matcher):
    for s in SCENARIOS:
        res = matcher.match(s.profile)
        assert res.matches, s.id
        assert res.note == NOTE
        for m in res.matches:
            doc = kb.documents[m.doc_id]
            assert doc.text[m.start:m.end] == m.quote
            assert m.doc_title == doc.meta.title and m.section
            assert m.reasons and m.support_type
            assert all(c.text in m.quote and c.status in ("met", "unmet", "unknown") for c in m.conditions)
        scores = [m.score for m in res.matches]
        assert scores == sorted(scores, reverse=True)


def test_no_amount_year_or_eligibility_beyond_the_quote(matcher):
    """Every number the checker writes comes from the quote it explains or from the profile itself."""
    for s in SCENARIOS:
        res = matcher.match(s.profile)
        profile_text = json.dumps(s.profile, ensure_ascii=False)
        assert not re.search(r"\d", res.note + "".join(res.warnings))
        for m in res.matches:
            written = " ".join(m.reasons + [c.basis for c in m.conditions] + [m.support_type])
            for number in re.findall(r"\d+(?:\.\d+)?", written):
                assert number in m.quote or number in profile_text, (s.id, number, written)
            if re.search(r"\d+(?:\.\d+)?\s*(?:亿元|万元)", m.quote):
                assert any("不是对单个企业的补贴" in c for c in m.caveats)
            if "2025年" in m.quote:
                assert any("不是申报截止时间" in c for c in m.caveats)


def test_hydrogen_fuel_cell_company_gets_the_hydrogen_provisions(matcher):
    res = matcher.match({"enterprise_type": "氢燃料电池企业", "products": ["燃料电池电堆", "膜电极"]})
    top = quotes(res)[:5]
    assert all("燃料电池" in q or "氢" in q for q in top), top
    assert any("积极引进和培育氢燃料电池催化剂、双极板、膜电极" in q for q in top)
    assert any("突破高比功率低贵金属用量膜电极组件" in q for q in quotes(res))
    first = res.matches[0]
    assert any("燃料电池" in r or "膜电极" in r or "电堆" in r for r in first.reasons)


def test_leader_condition_met_unknown_unmet(matcher):
    tax = load_taxonomy()
    cases = [({"enterprise_type": "整车企业", "qualifications": ["龙头企业"]}, "met"),
             ({"enterprise_type": "整车企业"}, "unknown"),
             ({"enterprise_type": "零部件企业", "qualifications": ["专精特新"]}, "unmet"),
             ({"enterprise_type": "地方政府"}, "unmet")]
    for raw, want in cases:
        p = Profile.model_validate(raw)
        got = evaluate(LEADER_CONDITION, p, understand(p, tax), tax)
        assert got.status == want, (raw, got)
        assert got.basis
    # and through matching: the leader's pilot is found, with its condition met
    res = matcher.match({"enterprise_type": "整车企业", "products": ["纯电动乘用车"], "qualifications": ["龙头企业"]})
    pilot = next(m for m in res.matches if LEADER_CONDITION in m.quote)
    assert [(c.text, c.status) for c in pilot.conditions] == [(LEADER_CONDITION, "met")]
    assert any("龙头企业" in r for r in pilot.reasons) and "试点/示范" in pilot.support_types


def test_conditions_nobody_can_show_stay_unknown(matcher):
    tax = load_taxonomy()
    p = Profile.model_validate({"enterprise_type": "整车企业", "region": "杭州市"})
    f = understand(p, tax)
    assert evaluate("具备国际竞争力的整车企业", p, f, tax).status == "unknown"  # 国际竞争力 is not in a profile
    assert evaluate("产业基础好、氢气资源丰富、推广运营有潜力的地区", p, f, tax).status == "unknown"
    assert evaluate("符合条件的核心技术攻关项目", p, f, tax).status == "unknown"
    assert evaluate("省内整车企业", p, f, tax).status == "met"
    std = "主导或参与国际、国家和行业标准制定、关键核心零部件国产化配套的企业"
    p2 = Profile.model_validate({"enterprise_type": "零部件企业", "activities": ["标准制定"]})
    assert evaluate(std, p2, understand(p2, tax), tax).status == "met"


def test_empty_profile_says_which_fields_to_fill(matcher):
    res = matcher.match({})
    assert res.matches == [] and res.note == NOTE
    assert any("enterprise_type" in w and "products" in w and "description" in w for w in res.warnings)
    only_name = matcher.match({"name": "某某科技有限公司"})
    assert any("enterprise_type" in w for w in only_name.warnings)


def test_contradictions_are_answered_and_pointed_out(matcher):
    res = matcher.match({"enterprise_type": "地方政府", "qualifications": ["专精特新"], "region": "嘉兴市"})
    assert any("矛盾" in w and "专精特新" in w for w in res.warnings)
    assert res.matches  # still answered
    outside = matcher.match({"enterprise_type": "整车企业", "products": ["乘用车"], "region": "上海市"})
    assert any("不在浙江省内" in w for w in outside.warnings) and outside.matches
    province_only = [c for m in outside.matches for c in m.conditions if c.text.startswith("省内")]
    assert province_only and all(c.status == "unmet" for c in province_only)


def test_unknown_region_and_segment_still_searched_semantically(matcher):
    res = matcher.match({"region": "火星基地", "products": ["量子飞行器"],
                         "description": "研发生产新能源汽车用驱动电机"})
    assert any("未识别的地区" in w for w in res.warnings)
    assert any("量子飞行器" in w and "语义" in w for w in res.warnings)
    assert any("驱动电机" in q for q in quotes(res)[:3])


def test_region_counts(matcher):
    deqing = matcher.match({"enterprise_type": "自动驾驶企业", "products": ["Robotaxi"], "region": "湖州市德清县"})
    assert "德清" in deqing.matches[0].quote
    assert any("德清" in r for r in deqing.matches[0].reasons)


def test_scenario_set_recall_at_10(kb, matcher):
    """The quality gate of eval/eligibility.jsonl: Recall@10 ≥ 0.9, every string grounded in the plan."""
    assert len(SCENARIOS) >= 15
    problems = check_grounded(SCENARIOS, [d.text for d in kb.documents.values()],
                              [it.prov.quote for it in matcher.items])
    assert not problems, problems
    report = run(matcher, SCENARIOS, k=10)
    assert report.recall_at_k >= 0.9, [(s.id, s.missing) for s in report.scenarios if s.missing]
    assert report.labelled_precision_at_k >= 0.6


# ---------------------------------------------------------------- the command line (in-process, with the session KB)


def cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m kb")
    add_eligibility_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["eligibility", *argv])


@pytest.fixture
def open_session_kb(kb, monkeypatch):
    from kb.service import KnowledgeBase

    monkeypatch.setattr(KnowledgeBase, "open", classmethod(lambda cls, *a, **k: kb))


def test_cli_json_contract(open_session_kb, tmp_path, capsys):
    f = tmp_path / "profile.json"
    f.write_text(json.dumps({"enterprise_type": "电池企业", "products": ["锂离子电池"], "region": "湖州市"},
                            ensure_ascii=False), encoding="utf-8")
    assert run_eligibility(cli(["--profile", str(f), "--json"])) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["note"] == NOTE and out["matches"]
    for m in out["matches"]:
        assert {"doc_id", "section", "quote", "reasons", "conditions", "support_type"} <= set(m)
        assert all(set(c) >= {"text", "status"} for c in m["conditions"])
    assert "电池企业" in out["matches"][0]["quote"]


def test_cli_human_readable(open_session_kb, tmp_path, capsys):
    f = tmp_path / "profile.json"
    f.write_text(json.dumps({"enterprise_type": "整车企业", "qualifications": ["龙头企业"]}, ensure_ascii=False),
                 encoding="utf-8")
    assert run_eligibility(cli(["--profile", str(f), "-k", "3"])) == 0
    out = capsys.readouterr().out
    assert NOTE in out and "[1] 《浙江省新能源汽车产业发展“十四五”规划》" in out and "[4]" not in out
    assert "匹配理由：" in out and "支持方式：" in out


@pytest.mark.parametrize("content, message", [
    ("{not json", "不是有效的 JSON"),
    ("[1, 2]", "应为 JSON 对象"),
    ('{"products": 5}', "字段类型不对"),
    ("{}", "企业档案为空"),
])
def test_cli_bad_profile_is_a_clear_error(tmp_path, capsys, content, message):
    f = tmp_path / "profile.json"
    f.write_text(content, encoding="utf-8")
    assert run_eligibility(cli(["--profile", str(f)])) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_missing_profile_file(tmp_path, capsys):
    assert run_eligibility(cli(["--profile", str(tmp_path / "nope.json")])) == 2
    assert "找不到企业档案文件" in capsys.readouterr().err


def test_python_m_kb_eligibility(kb, kb_dir, tmp_path):
    import os
    import subprocess
    import sys

    f = tmp_path / "profile.json"
    f.write_text(json.dumps({"enterprise_type": "充电运营企业", "products": ["充电桩"]}, ensure_ascii=False),
                 encoding="utf-8")
    env = dict(os.environ, KB_DIR=str(kb_dir), PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-m", "kb", "eligibility", "--profile", str(f), "--json"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert any("充电" in m["quote"] for m in json.loads(out.stdout)["matches"][:3])


def test_weights_come_from_the_settings(kb, matcher):
    from kb.core.settings import EligibilitySettings

    profile = {"enterprise_type": "电池企业", "products": ["锂离子电池"]}
    assert matcher.match(profile).matches
    strict = Matcher.from_kb(kb)
    strict.w = EligibilitySettings(min_score=1000.0)  # nothing scores that much: the floor is the setting's
    assert strict.match(profile).matches == []
    assert EligibilitySettings().model_dump() == kb.settings.parameters()["eligibility"]


def test_plan_matches_carry_level_genre_and_note(matcher):
    res = matcher.match({"enterprise_type": "电池企业", "products": ["锂离子电池"], "needs": ["融资"]})
    assert "融资" in res.recognized["needs"]
    for m in res.matches:
        assert m.doc_level == "省级" and m.doc_type == "规划" and m.note == NOTE and not m.pointer


def test_a_pointer_is_labelled_in_the_cli_and_never_relief_granted():
    """The CLI's rendering of a clause that only empowers another body (real text of 报废机动车回收管理办法 第三条)."""
    from kb.cli.eligibility import format_result
    from kb.eligibility.matcher import (
        POINTER_NOTE,
        EligibilityResult,
        Match,
        overall_note,
    )

    quote = "第三条 国家鼓励特定领域的老旧机动车提前报废更新，具体办法由国务院有关部门另行制定。"
    m = Match(doc_id="end-of-life-vehicle-recycling-measures-2019", doc_title="报废机动车回收管理办法",
              doc_level="国家级", doc_type="行政法规", section="第三条", quote=quote, start=0, end=len(quote),
              reasons=["关注购置"], conditions=[], support_type="授权规定、优先/优惠",
              support_types=["授权规定", "优先/优惠"], pointer=True, points_to="具体办法由国务院有关部门另行制定",
              note=POINTER_NOTE.format("具体办法由国务院有关部门另行制定"), score=3.0)
    res = EligibilityResult(matches=[m], note=overall_note([m]))
    out = format_result(res)
    assert "【授权规定】本条只授权其他机关另行规定（具体办法由国务院有关部门另行制定）" in out
    assert "（国家级·行政法规）" in out and "行政法规条款" in res.note and "授权规定" in res.note
    assert json.loads(res.model_dump_json())["matches"][0]["pointer"] is True


def test_products_take_the_class_a_law_names():
    """By the taxonomy's words: a product of another segment names a part, not the class."""
    tax = load_taxonomy()
    truck = understand(Profile(products=["纯电动轻型厢式物流车"]), tax)
    assert "机动车" in truck.classes and "物流车" in truck.classes["机动车"]
    housing = understand(Profile(products=["新能源汽车电机壳体"]), tax)
    assert "机动车" not in housing.classes  # a motor housing is no 汽车
    # the description names customers and settings, not what the enterprise makes
    roof = understand(Profile(enterprise_type="光伏工程企业", description="在汽车零部件厂房屋顶建光伏"), tax)
    assert set(roof.classes) == {"可再生能源"}
    # nor does the kind of enterprise when it is of another segment: an automotive software house makes no 汽车
    software = understand(Profile(enterprise_type="汽车软件企业", activities=["汽车电子零部件研发"]), tax)
    assert "机动车" not in software.classes
    assert "机动车" in understand(Profile(enterprise_type="新能源汽车整车制造企业"), tax).classes


def test_a_term_read_across_two_words_of_the_profile_is_not_taken():
    from kb.core.segment import Segmenter

    tax, words = load_taxonomy(), Segmenter().words
    taxi = understand(Profile(enterprise_type="巡游出租车企业", products=["纯电动巡游出租车"]), tax, words=words)
    assert "整车企业" not in taxi.actors  # the 车企 of 出租车|企业
    assert "共享出行" not in taxi.segments  # a taxi is no 租车 (the taxonomy excludes 出租车)
    assert "整车企业" in understand(Profile(enterprise_type="新能源车企"), tax, words=words).actors
    # without a segmenter the substring match stands
    assert "整车企业" in understand(Profile(enterprise_type="巡游出租车企业"), tax).actors


def test_an_unplaced_product_takes_the_class_of_the_nearest_taxonomy_word(matcher):
    """By e5 similarity, with the nearest word as the reason; a product the words place is left as it is."""
    matcher.warm_up()
    p = Profile(products=["废钢"])
    f = understand(p, matcher.tax)
    assert not f.classes
    matcher.classes_by_similarity(p, f)
    assert "资源综合利用" in f.classes and "e5 相似度" in f.classes["资源综合利用"]
    assert "资源综合利用" in matcher.match({"products": ["废钢"]}).recognized.get("classes", [])


def test_whom_a_law_clause_relieves_by_name():
    """Real clauses of eval/corpus: the actor a clause obliges (…应当…) is not the one it relieves."""
    from kb.eligibility.matcher import beneficiaries

    tax = load_taxonomy()
    assert beneficiaries("国家鼓励机动车生产企业从事报废机动车回收活动。", tax) == ["整车企业"]
    assert beneficiaries("电网企业应当与可再生能源发电企业签订并网协议，优先调度可再生能源发电。", tax) == []
    assert "中小企业" in beneficiaries("国家完善中小企业研究开发费用加计扣除政策，支持中小企业技术创新。", tax)


def test_the_description_is_searched_as_the_chat_searches_a_question(kb, matcher):
    """A clause in a passage the KB's hybrid search returns for the description gains w.retrieved × (1 − rank/k), with
    the rank as its reason; without the signal the same clause scores exactly that much less."""
    profile = {"enterprise_type": "充电设施运营商",
               "description": "想在商场、车站这些公共停车场多装公用充电桩，省里有什么安排？"}
    p = Profile.model_validate(profile)
    text = Matcher.profile_text(p)
    passages = matcher.search(p.description, matcher.w.retrieved_k, matcher.encode([text])[text])
    assert len(passages) == matcher.w.retrieved_k
    res = matcher.match(profile, k=50)
    ranked = [m for m in res.matches if any(r.startswith("以企业简介为问题检索") for r in m.reasons)]
    assert ranked
    for m in ranked:
        rank = cn_to_int(re.search(r"排第(\w+?)位", next(r for r in m.reasons if "排第" in r)).group(1))
        doc, start, end = passages[rank - 1]
        assert m.doc_id == doc and start <= m.start < end
    plain = Matcher.from_kb(kb)
    plain.w = matcher.w.model_copy(update={"retrieved": 0.0})
    before = {m.quote: m for m in plain.match(profile, k=200).matches}
    first = next(m for m in ranked if "排第一位" in " ".join(m.reasons))
    assert first.quote in before and not any("检索" in r for r in before[first.quote].reasons)
    assert first.score == pytest.approx(before[first.quote].score + matcher.w.retrieved, abs=1e-3)
