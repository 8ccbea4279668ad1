"""The answer strategies on a made-up law (【测试数据】, fictional issuer) next to the real plan: a named document
scopes the answer, articles and chapters are answered from the structure, a missing article is refused, figures
written in Chinese numerals count, a list lead-in brings its items, a multi-part question gets each part."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.build import build
from kb.core.settings import settings
from kb.service import KnowledgeBase

LAW = """# 【测试数据】虚构省电动三轮车管理条例

2099年1月1日 虚构省测试人民代表大会常务委员会通过

2099年6月1日 虚构省测试人民代表大会常务委员会修正

## 第一章 总 则

第一条 为了规范虚构省电动三轮车的管理，制定本条例。

第二条 虚构省测试交通局负责本省电动三轮车的登记工作。

## 第二章 登记与罚则

第三条 申请登记电动三轮车，应当具备下列条件：
（一）车辆经检验合格；
（二）所有人提供身份证明；
（三）已投保第三者责任保险；
（四）测试交通局规定的其他条件。

第四条 未登记上路行驶的，由虚构省测试交通局责令改正，处二百元以上二千元以下罚款。

第五条 登记机关应当自受理申请之日起十五日内作出决定。

第六条 电动三轮车的最高时速应当符合强制性国家标准。改装限速装置的，处五十元以上二百元以下罚款。

第七条 无资质从事电动三轮车回收的，没收违法所得；违法所得不足5万元的，并处1万元以上3万元以下的罚款。

第八条 所有人可以向测试交通局申请变更登记。测试交通局应当自收到申请之日起七日内办结。

第九条 依据《虚构省交通发展纲要（2091—2095年）》，鼓励使用新能源电动三轮车。

第十条 对提前淘汰电动三轮车的，给予补贴。具体办法由测试交通局另行制定。

第十一条 所有人应当为电动三轮车配备反光标识。

第十二条 违反本条例第十一条规定的，由测试交通局处警告或者五十元罚款。

第十三条 本条例自2099年3月1日起施行。

第十四条 有下列行为之一的，由测试交通局责令改正，处三百元以上三千元以下罚款：
（一）出售翻新电动三轮车未标明翻新标识的；
（二）涂改电动三轮车号牌的。

第十五条 所有人未按照本条例规定为电动三轮车投保第三者责任保险的，由测试交通局扣留车辆至依照规定投保后，并处依照规定投保最低责任限额应缴纳的保险费的二倍罚款。依照前款缴纳的罚款全部纳入虚构救助基金，用于测试目的，具体使用办法由测试交通局另行制定，并向社会公布。

第十六条 违反本条例规定，测试回收企业拒不接收报废电动三轮车的，由测试交通局责令限期改正；造成损失的，依法承担赔偿责任。

第十七条 违反本条例规定，测试回收企业拆解报废电动三轮车不符合技术规范的，由测试交通局处一千元以上一万元以下罚款。

第十八条 所有人应当保持车身整洁。所有人不得擅自改变车身的外观颜色。

第十九条 违反本条例第十八条规定，私自给车身喷涂其他颜色的，由测试交通局予以警告。
"""


def built_kb(root, kb, documents: list[tuple[str, str, dict]]) -> KnowledgeBase:
    """A KB over `documents` (file name, text, manifest entry), built with the session KB's embedder."""
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text, _ in documents:
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps([{"file": name, **entry} for name, _, entry in documents],
                                                     ensure_ascii=False), encoding="utf-8")
    s = settings(kb_dir=root / "kb", corpus_dir=corpus)
    build(s, progress=lambda f, m: None, embedder=kb.embedder)
    return KnowledgeBase.open(kb_dir=s.kb_dir, corpus_dir=corpus, embedder=kb.embedder)


@pytest.fixture(scope="module")
def law_kb(tmp_path_factory, kb):
    plan = (kb.settings.corpus_dir / "zhejiang-nev-14th-fyp-2021.txt").read_text("utf-8")
    return built_kb(tmp_path_factory.mktemp("law"), kb, [
        ("plan.txt", plan, {"doc_id": "plan", "title": "浙江省新能源汽车产业发展“十四五”规划", "level": "省级",
                            "region": "浙江省", "doc_type": "规划"}),
        ("law.md", LAW, {"doc_id": "law", "title": "【测试数据】虚构省电动三轮车管理条例", "level": "省级",
                         "region": "虚构省", "doc_type": "地方性法规"})])


def verbatim(k, rec):
    return all(k.documents[c.doc_id].text[c.start : c.end] == c.quote for c in rec.citations)


def test_an_article_is_answered_whole_from_the_named_document(law_kb):
    rec = law_kb.ask("电动三轮车管理条例第三条规定了什么？")
    assert not rec.refused and {c.doc_id for c in rec.citations} == {"law"} and verbatim(law_kb, rec)
    for fact in ("应当具备下列条件", "车辆经检验合格", "所有人提供身份证明", "第三者责任保险"):
        assert fact in rec.answer


def test_a_chapter_and_the_list_of_chapters(law_kb):
    rec = law_kb.ask("电动三轮车管理条例第二章讲什么？")
    assert "登记与罚则" in rec.answer and not rec.refused
    rec = law_kb.ask("电动三轮车管理条例一共分几章？")
    assert "共2章" in rec.answer and "总 则" in rec.answer and "登记与罚则" in rec.answer


def test_how_many_articles_a_chapter_has_lists_their_openings(law_kb):
    rec = law_kb.ask("电动三轮车管理条例第二章一共有几条？分别管什么？")
    assert rec.answer.startswith("第二章 登记与罚则共17条：第三条 申请登记电动三轮车") and verbatim(law_kb, rec)
    assert len(rec.answer) < 400  # the openings the outline budget holds, not every article whole


def test_an_article_the_document_does_not_have_is_refused(law_kb):
    rec = law_kb.ask("电动三轮车管理条例第三十条规定了什么？")
    assert rec.refused and "第三十条" in rec.answer


def test_figures_in_chinese_numerals_answer_a_how_much_question(law_kb):
    rec = law_kb.ask("电动三轮车没登记就上路，按电动三轮车管理条例罚多少？")
    assert not rec.refused and "二百元以上二千元以下" in rec.answer and verbatim(law_kb, rec)
    rec = law_kb.ask("按电动三轮车管理条例，登记机关多少天内要作出决定？")
    assert not rec.refused and "十五日内" in rec.answer


def test_multi_part_question_answers_each_part(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，谁负责登记？没登记上路罚多少？")
    assert "测试交通局负责" in rec.answer and "二百元以上二千元以下" in rec.answer


def test_plan_questions_are_not_scoped_to_the_law(law_kb):
    rec = law_kb.ask("到2025年要建成多少座加氢站？")
    assert not rec.refused and rec.citations[0].doc_id == "plan" and "30座" in rec.answer


def test_the_commencement_article_answers_when_the_document_takes_effect(law_kb):
    rec = law_kb.ask("电动三轮车管理条例从哪天起施行？")
    assert not rec.refused and "2099年3月1日" in rec.answer and verbatim(law_kb, rec)
    # …also as one part of a question that asks something else too
    rec = law_kb.ask("电动三轮车管理条例从哪天起施行？没配反光标识的罚不罚？")
    assert not rec.refused and "2099年3月1日" in rec.answer and "五十元罚款" in rec.answer and verbatim(law_kb, rec)


def test_why_the_document_was_made_is_its_enacting_clause(law_kb):
    rec = law_kb.ask("制定电动三轮车管理条例是为了什么？")
    assert not rec.refused and rec.citations[0].quote.startswith("第一条 为了规范") and verbatim(law_kb, rec)
    # a purpose said of something inside the document is not the document's
    rec = law_kb.ask("按电动三轮车管理条例，罚款纳入救助基金是用于什么目的？")
    assert "第一条" not in rec.answer


def test_a_figure_of_another_measure_does_not_answer(law_kb):
    # 第六条 speaks of the top speed but gives only a fine: a speed question is refused, not answered in 元.
    rec = law_kb.ask("按电动三轮车管理条例，电动三轮车最高时速是多少？")
    assert rec.refused and "元" not in rec.answer.split("。")[0]


def test_a_fine_question_gets_the_fine_not_the_amount_in_the_condition(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，无资质回收电动三轮车、违法所得不足5万元的，罚多少钱？")
    assert not rec.refused and "1万元以上3万元以下" in rec.answer and verbatim(law_kb, rec)


def test_the_sentence_after_the_matching_one_is_in_reach(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，申请变更登记，多少天内办结？")
    assert not rec.refused and "七日内" in rec.answer


def test_a_year_inside_a_cited_title_is_no_target_year(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，到2095年电动三轮车要达到什么目标？")
    assert rec.refused and "2095" in rec.answer


def test_a_body_named_for_another_duty_does_not_answer_which_body(law_kb):
    # 测试交通局 registers; nobody is named for making the plates.
    rec = law_kb.ask("按电动三轮车管理条例，电动三轮车号牌由哪个部门制作？")
    assert rec.refused
    rec = law_kb.ask("按电动三轮车管理条例，电动三轮车由哪个部门负责登记？")
    assert not rec.refused and "测试交通局" in rec.answer


def test_a_detail_left_to_another_body_is_refused_with_the_clause_that_leaves_it(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，提前淘汰电动三轮车具体能补贴哪些车型？")
    assert rec.refused and any("另行制定" in c.quote for c in rec.related)
    # what the document does say on the point is said, by article and verbatim
    assert "第十条规定“具体办法由测试交通局另行制定”" in rec.answer
    # a subsidy amount is not answered by the fine of some breach (第四条, 第七条)
    rec = law_kb.ask("按电动三轮车管理条例，提前淘汰电动三轮车能拿多少补贴？")
    assert rec.refused and "罚款" not in rec.answer


def test_a_penalty_question_is_answered_by_the_article_citing_the_duty(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，电动三轮车没配反光标识会怎么处罚？")
    assert not rec.refused and "五十元罚款" in rec.answer and verbatim(law_kb, rec)


def test_a_part_that_only_frames_the_question_is_not_answered_on_its_own(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，登记机关多少天内要作出决定？条例里有没有写明？")
    assert not rec.refused and "十五日内" in rec.answer
    rec = law_kb.ask("按电动三轮车管理条例，办变更登记要交多少钱？条例里有没有写明？")
    assert rec.refused


def test_which_chapter_holds_a_provision(law_kb):
    rec = law_kb.ask("电动三轮车管理条例里，登记要具备哪些条件规定在哪一章？")
    assert not rec.refused and rec.answer.startswith("第二章 登记与罚则")
    assert rec.citations[0].quote.startswith("第二章")  # the heading is quoted and cited like any clause
    assert "车辆经检验合格" in rec.answer


def test_a_document_the_kb_does_not_hold_is_not_compared_with(law_kb):
    rec = law_kb.ask("电动三轮车管理条例和《虚构摩托车管理条例》在登记条件上有什么区别？")
    assert rec.refused and "《虚构摩托车管理条例》" in rec.answer
    assert rec.related  # the nearest clauses of the document it does hold are still offered


def test_a_law_named_without_brackets_that_the_kb_does_not_hold_is_not_answered_from_another(law_kb):
    # 个人所得税法 is in kb/data/document_names.txt (the national laws' names), not in this KB
    rec = law_kb.ask("电动三轮车管理条例的罚款和个人所得税法的罚款相比，哪个高？")
    assert rec.refused and "《个人所得税法》" in rec.answer


def test_comparing_with_a_document_the_clause_only_cites_is_refused_but_citing_it_is_fine(law_kb):
    rec = law_kb.ask("电动三轮车管理条例和《虚构省交通发展纲要（2091—2095年）》相比，对新能源车的态度有何不同？")
    assert rec.refused and "虚构省交通发展纲要" in rec.answer and "知识库中没有" in rec.answer
    rec = law_kb.ask("电动三轮车管理条例依据《虚构省交通发展纲要（2091—2095年）》鼓励使用什么车？")
    assert not rec.refused and "新能源电动三轮车" in rec.answer


def test_a_domain_term_the_named_document_never_uses_is_refused(law_kb):
    rec = law_kb.ask("电动三轮车管理条例对氢燃料电池汽车的登记有什么条件？")  # the plan uses the term, the law never does
    assert rec.refused and "“氢燃料电池汽车”" in rec.answer and "电动三轮车管理条例》" in rec.answer
    assert rec.related  # the nearest clauses are still offered


def test_a_list_entry_is_fined_by_its_lead_in_not_by_another_article(law_kb):
    for question in ("电动三轮车管理条例规定，卖翻新三轮车不标明翻新标识，罚多少钱？",
                     "按电动三轮车管理条例，卖翻新过的车没告诉人家，会被罚多少钱？"):  # little of it in the text
        rec = law_kb.ask(question)
        assert not rec.refused and "三百元以上三千元以下罚款" in rec.answer and "翻新标识" in rec.answer
        assert verbatim(law_kb, rec)


def test_the_clause_with_the_fine_is_reached_through_the_clause_between(law_kb):
    rec = law_kb.ask("电动三轮车管理条例规定，所有人没给三轮车投保第三者责任保险的，罚款标准是多少？")
    assert not rec.refused and "二倍罚款" in rec.answer and verbatim(law_kb, rec)


def test_a_narrower_class_of_what_the_document_rules_on_is_not_off_topic():
    from kb.retrieval.expand import broader

    # kb/data/broader.txt: a law on 机动车 addresses 新能源汽车; an 电动自行车 is no 机动车
    assert "机动车" in broader("新能源汽车") and "机动车" not in broader("电动自行车")


def test_an_enterprise_no_clause_names_is_refused(law_kb):
    rec = law_kb.ask("电动三轮车管理条例对比亚迪生产的电动三轮车登记有什么特别规定？")
    assert rec.refused and "比亚迪" in rec.answer


def test_a_kind_of_vehicle_no_document_mentions_is_refused_for_the_named_one(law_kb):
    # kb/data/categories.txt: 电动滑板车 is a kind of vehicle; neither document uses it, the law does not address it
    rec = law_kb.ask("电动三轮车管理条例对电动滑板车的登记有什么条件？")
    assert rec.refused and "“电动滑板车”" in rec.answer
    rec = law_kb.ask("电动三轮车管理条例对有轨电车的登记有什么条件？")
    assert rec.refused and "“有轨电车”" in rec.answer
    rec = law_kb.ask("电动三轮车管理条例对电动三轮车的登记有什么条件？")  # the kind it rules on
    assert not rec.refused and "车辆经检验合格" in rec.answer
    # an example the question itself generalises is asked of as that class: "电动滑板车这类电动车"
    rec = law_kb.ask("电动三轮车管理条例对电动滑板车这类电动三轮车的登记有什么条件？")
    assert not rec.refused and "车辆经检验合格" in rec.answer


def test_another_version_of_a_named_document_is_refused_when_the_kb_holds_one_text(law_kb):
    # the KB holds one text of the law, amended since adopted: what it said as first adopted, or after a later
    # change, is not in it
    rec = law_kb.ask("电动三轮车管理条例刚通过时，对登记机关作出决定的期限是怎么规定的？")
    assert rec.refused and "修改前的文本" in rec.answer
    rec = law_kb.ask("电动三轮车管理条例后来修改以后，未登记上路罚多少？")
    assert rec.refused and "此后修改" in rec.answer
    assert not law_kb.ask("电动三轮车管理条例对登记机关作出决定的期限是怎么规定的？").refused
    # when a version was adopted is what its history line records
    rec = law_kb.ask("电动三轮车管理条例最初是哪天通过的？")
    assert not rec.refused and "2099年1月1日" in rec.answer


def test_a_catch_all_item_asked_to_be_spelled_out_is_left_to_its_body(law_kb):
    # 第三条（四）"测试交通局规定的其他条件": the law does not say what they are
    rec = law_kb.ask("电动三轮车管理条例第三条说的“测试交通局规定的其他条件”具体包括哪些？")
    assert rec.refused and "“测试交通局规定的其他条件”" in rec.answer and "由测试交通局另行规定" in rec.answer
    # the list itself, catch-all and all, is answered
    rec = law_kb.ask("电动三轮车管理条例规定申请登记要具备哪些条件？包括测试交通局规定的其他条件吗？")
    assert not rec.refused and "车辆经检验合格" in rec.answer


def test_a_place_the_question_sets_holds_for_each_of_its_parts(law_kb):
    # the made-up law never names 杭州: neither part is answered for it
    rec = law_kb.ask("在杭州，按电动三轮车管理条例申请登记要具备哪些条件？登记机关多少天内作出决定？")
    assert rec.refused and "杭州" in rec.answer


def test_the_provinces_standing_in_the_country_is_said_of_the_province(law_kb):
    # the plan's goal opens "智能网联发展水平全国领先": a rank of the province, not a statement about the country
    rec = law_kb.ask("按浙江省新能源汽车“十四五”规划，到2025年L2级别以上智能汽车技术的新车渗透率要达到多少？")
    assert not rec.refused and "60%以上" in rec.answer


def test_an_event_or_remedy_the_named_document_never_mentions_is_refused(law_kb):
    # kb/data/occasions.txt: the law says nothing of 春运; the same question without it is answered
    rec = law_kb.ask("电动三轮车管理条例对春运期间电动三轮车的登记有什么特别规定？")
    assert rec.refused and "“春运”" in rec.answer
    # kb/data/remedies.txt: nor a legal remedy it never provides for
    rec = law_kb.ask("电动三轮车管理条例规定不予登记的，多少天内可以申请行政复议？")
    assert rec.refused and "“行政复议”" in rec.answer
    assert not law_kb.ask("电动三轮车管理条例对电动三轮车的登记有什么规定？").refused


def test_the_documents_own_record_answers_only_questions_about_it(law_kb):
    # the history line shares the question's words, but says nothing about what the law requires of anyone
    rec = law_kb.ask("电动三轮车管理条例对测试人民代表大会常务委员会有什么要求？")
    assert "2099年1月1日" not in rec.answer
    rec = law_kb.ask("电动三轮车管理条例是哪天由测试人民代表大会常务委员会通过的？")
    assert not rec.refused and "2099年1月1日" in rec.answer and verbatim(law_kb, rec)


def test_a_breach_whose_article_sets_no_fine_is_not_fined_by_another_article(law_kb):
    rec = law_kb.ask("测试回收企业拒不接收报废电动三轮车的，按电动三轮车管理条例要罚多少钱？")
    # (第十七条 fines the same enterprise for another breach about the same vehicles)
    assert rec.refused and "一千元以上一万元以下" not in rec.answer
    assert any("责令限期改正" in r.quote for r in rec.related)  # what the article does say is offered


def test_whether_something_is_allowed_is_answered_by_the_duty_the_penalty_cites(law_kb):
    rec = law_kb.ask("按电动三轮车管理条例，私自给车身喷涂其他颜色，这样可以吗？")
    assert not rec.refused and verbatim(law_kb, rec)
    # the duty first (the sentence of 第十八条 the penalty restates), then the penalty that cites it
    assert rec.citations[0].quote == "所有人不得擅自改变车身的外观颜色。" and "予以警告" in rec.answer


def test_a_quoted_term_the_named_document_never_writes_is_refused(law_kb):
    # “反光标识” is in 第十一条; “夜间行驶” is nowhere in the made-up law (unquoted, 第三条 is offered as nearest)
    rec = law_kb.ask("电动三轮车管理条例对“反光标识”有什么要求？")
    assert not rec.refused and "配备反光标识" in rec.answer
    assert not law_kb.ask("电动三轮车管理条例对夜间行驶的电动三轮车有什么要求？").refused
    rec = law_kb.ask("电动三轮车管理条例对“夜间行驶”的电动三轮车有什么要求？")
    assert rec.refused and "“夜间行驶”" in rec.answer
    # a count the question asks to unfold is its own shorthand: the plan's 电动化、网联化… is “四化”
    rec = law_kb.ask("规划的指导思想要顺应哪“四化”发展趋势？")
    assert not rec.refused and "网联化" in rec.answer


def test_a_claim_the_document_does_not_make_is_refused(law_kb):
    # 第十一条 makes the claim; 第五条 says 十五日, which 15日 restates and 三十日 contradicts
    rec = law_kb.ask("电动三轮车管理条例是不是规定所有人必须为电动三轮车配备反光标识？")
    assert not rec.refused and "反光标识" in rec.answer
    assert not law_kb.ask("电动三轮车管理条例是不是规定登记机关要在15日内作出决定？").refused
    rec = law_kb.ask("电动三轮车管理条例是不是规定登记机关要在三十日内作出决定？")
    assert rec.refused and "前提" in rec.answer
    rec = law_kb.ask("电动三轮车管理条例要求电动三轮车必须安装行车记录仪，那没装的怎么罚？")
    assert rec.refused and "行车记录仪" in rec.answer
    # the claim, then any question on it (no 那)
    assert not law_kb.ask("电动三轮车管理条例规定所有人应当配备反光标识，没配的怎么处理？").refused
    rec = law_kb.ask("电动三轮车管理条例规定所有人必须给电动三轮车加装行车记录仪，没装的怎么罚？")
    assert rec.refused and "前提" in rec.answer
    # a compound's parts (氢燃料电池汽车 → 燃料, 电池, 汽车 …) do not outweigh the rest of the claim: the plan speaks
    # of 氢燃料电池公交车 but never has all new buses be fuel-cell ones
    rec = law_kb.ask("规划要求全省新增公交车全部使用氢燃料电池汽车，这个要求先在哪些城市执行？")
    assert rec.refused and "前提" in rec.answer


def test_the_same_question_of_two_things_is_answered_for_each(law_kb):
    # 第六条 fines a changed speed limiter, 第十四条's lead-in an altered plate: one fine each
    rec = law_kb.ask("电动三轮车管理条例里，改装限速装置和涂改号牌分别罚多少？")
    assert not rec.refused and verbatim(law_kb, rec)
    assert "五十元以上二百元以下" in rec.answer and "三百元以上三千元以下" in rec.answer


REPEALING = """# 【测试数据】虚构市停车场管理条例

## 第一章 总 则

第一条 为了规范虚构市停车场的管理，制定本条例。

第二条 停车场经营者应当在入口处公示收费标准。

第三条 本条例自2099年3月1日起施行。2090年发布的《虚构市停车场管理办法》同时废止。
"""


@pytest.fixture(scope="module")
def repealing_kb(tmp_path_factory, kb):
    return built_kb(tmp_path_factory.mktemp("repealing"), kb, [
        ("law.md", REPEALING, {"doc_id": "parking", "title": "【测试数据】虚构市停车场管理条例", "level": "市级",
                               "region": "虚构市", "doc_type": "地方性法规"})])


def test_a_repealed_text_is_not_answered_by_the_line_that_repeals_it(repealing_kb):
    """The KB holds only the line that repeals 《虚构市停车场管理办法》: what that text said is not there; when it was
    repealed is."""
    rec = repealing_kb.ask("2090年的《虚构市停车场管理办法》对停车场收费实行审批还是备案？")
    assert rec.refused and "《虚构市停车场管理办法》" in rec.answer
    rec = repealing_kb.ask("《虚构市停车场管理办法》是什么时候废止的？")
    assert not rec.refused and "同时废止" in rec.answer and verbatim(repealing_kb, rec)


def test_a_comparison_with_something_no_document_holds_is_refused(law_kb):
    rec = law_kb.ask("电动三轮车管理条例的登记条件，和欧盟的规定比，哪个更严？")
    assert rec.refused and "欧盟" in rec.answer
    # both sides in the regulation: compared from it, not refused as outside
    rec = law_kb.ask("电动三轮车管理条例里，改装限速装置的罚款和未登记上路的罚款比，哪个高？")
    assert not rec.refused and verbatim(law_kb, rec)
    # "比X高多少" compares as "和X比" does
    rec = law_kb.ask("电动三轮车管理条例对未登记上路的罚款，比欧盟的罚款高多少？")
    assert rec.refused and "欧盟" in rec.answer


def test_for_example_is_no_comparison():
    from kb.answer.answerer import COMPARED_WITH

    assert COMPARED_WITH.search("入园条件是什么？比如亩均税收要达到多少？") is None
    assert COMPARED_WITH.search("比越南的税率高几个百分点？").group("than") == "越南的税率"
    assert COMPARED_WITH.search("比普通火电多出来的那部分钱由谁出？") is None  # not asking how much more


NATIONAL = """# 【测试数据】虚构国测试税法

## 第一章 总 则

第一条 为了规范测试税的征收，制定本法。

第二条 在虚构国境内设立两个以上机构的企业，可以选择由其主要机构汇总缴纳测试税。

第三条 测试税的税率为百分之七。

第四条 本法自2099年1月1日起施行。
"""


@pytest.fixture(scope="module")
def national_kb(tmp_path_factory, kb):
    return built_kb(tmp_path_factory.mktemp("national"), kb, [
        ("tax.md", NATIONAL, {"doc_id": "tax", "title": "【测试数据】虚构国测试税法", "level": "国家级",
                              "region": "全国", "doc_type": "法律"})])


def test_where_the_asker_is_does_not_limit_a_national_rule(national_kb):
    # the asker's company is in 上海 and 深圳: the national law's rule holds there, no clause need name them
    rec = national_kb.ask("我们公司在上海和深圳各设了一个机构，按测试税法能不能选一个机构汇总缴纳测试税？")
    assert not rec.refused and "汇总缴纳测试税" in rec.answer and verbatim(national_kb, rec)
    # …but a rule asked to single the place out, or a figure asked for the place, is limited to it
    assert national_kb.ask("测试税法对上海的企业有什么特别规定？").refused
    assert national_kb.ask("上海的测试税税率是多少？").refused


def real_kb(tmp_path_factory, kb, doc_id: str) -> KnowledgeBase:
    """A KB of one real text of eval/corpus (verbatim from LawRefBook/Laws) alone."""
    corpus = Path(__file__).parents[2] / "eval" / "corpus"
    entry = next(e for e in json.loads((corpus / "manifest.json").read_text("utf-8")) if e["doc_id"] == doc_id)
    return built_kb(tmp_path_factory.mktemp(doc_id), kb, [
        (entry["file"], (corpus / entry["file"]).read_text("utf-8"),
         {k: v for k, v in entry.items() if k in ("doc_id", "title", "level", "region", "doc_type", "date")})])


@pytest.fixture(scope="module")
def ebike_kb(tmp_path_factory, kb):
    return real_kb(tmp_path_factory, kb, "zhejiang-electric-bicycle-regulations-2020")


ROADS = """# 【测试数据】虚构省道路测试条例

第一条 为了测试道路通行，制定本条例。

第二条 测试车辆在高速公路上行驶，最高时速不得超过一百二十公里。

第三条 测试车辆在城市道路上行驶，应当遵守限速标志，保持安全车速。
"""


def test_a_figure_of_one_kind_does_not_answer_for_another(tmp_path_factory, kb):
    roads = built_kb(tmp_path_factory.mktemp("roads"), kb, [
        ("roads.md", ROADS, {"doc_id": "roads", "title": "【测试数据】虚构省道路测试条例", "level": "省级",
                             "region": "虚构省", "doc_type": "地方性法规"})])
    rec = roads.ask("按道路测试条例，高速公路上最高时速多少公里？")
    assert not rec.refused and "一百二十公里" in rec.answer
    # kb/data/categories.txt: 城市道路 and 高速公路 are kinds of road; the figure is said of the other one
    rec = roads.ask("按道路测试条例，城市道路上最高时速不得超过多少公里？")
    assert rec.refused and "城市道路" in rec.answer


@pytest.fixture(scope="module")
def scrap(tmp_path_factory, kb):
    return real_kb(tmp_path_factory, kb, "end-of-life-vehicle-recycling-measures-2019")


def _gain(k, questions, preferred: str, other: str) -> list[float]:
    """Per question, how much more the sentence holding `preferred` scores than the one holding `other`, both
    given the same similarity and retrieval rank: what the question's words make of them."""
    from kb.answer.needs import need_for
    from kb.answer.question import analyze
    from kb.answer.verdict import Candidate

    ans, paras = k.answerer, k.data.paragraphs[next(iter(k.documents))]
    found = {s.text: (p, s) for p in paras for s in p.sentences}
    pair = [next(v for t, v in found.items() if key in t) for key in (preferred, other)]
    out = []
    for question in questions:
        q = analyze(question, k.segmenter, ans.regions)
        cands = [Candidate(p, s, 0, sim=0.9) for p, s in pair]
        for c in cands:
            ans._score(q, need_for(q), c, 0.8, 1.0)
        out.append(cands[0].score - cands[1].score)
    return out


def test_what_a_term_means_is_answered_by_the_clause_that_defines_it(scrap):
    defined, plain = _gain(scrap, ["报废机动车指的是什么？", "报废机动车要怎么处理？"],
                           "本办法所称报废机动车，是指", "回收的报废机动车必须按照有关规定予以拆解")
    assert defined > plain + 0.1


def test_whether_the_text_covers_a_case_is_answered_by_its_scope_clause(scrap):
    rec = scrap.ask("部队的车辆报废了，也按《报废机动车回收管理办法》这套规矩回收吗？")
    assert not rec.refused and verbatim(scrap, rec) and "依照国家和军队有关规定执行" in rec.answer
    # of two sentences of one article, equally near, the one that sets the text's scope answers "也按…管吗"
    covered, plain = _gain(scrap, ["报废车也按报废机动车回收管理办法管吗？", "报废车的回收管理有什么规定？"],
                           "依照国家和军队有关规定执行", "另行制定管理规定")
    assert covered > plain + 0.1


def test_a_penalty_is_quoted_with_every_sanction_it_is_stated_with(ebike_kb):
    # 第二十六条 is long and trimmed to the clause with the fine; the confiscation stated with it is part of it
    rec = ebike_kb.ask("浙江修车铺帮人把电瓶车的限速拆掉，会被罚多少钱？")
    assert not rec.refused and verbatim(ebike_kb, rec)
    assert "没收违法所得，并处二万元以上十万元以下罚款" in rec.answer


def test_the_steps_of_a_procedure_are_answered_only_where_that_procedure_is(law_kb):
    # 第八条 names 申请变更登记: its steps are there
    rec = law_kb.ask("按电动三轮车管理条例，所有人怎么申请变更登记？")
    assert not rec.refused and "申请变更登记" in rec.answer and verbatim(law_kb, rec)
    # no article names 补领: one that speaks of the plate (涂改号牌) does not describe it
    rec = law_kb.ask("按电动三轮车管理条例，电动三轮车号牌丢了怎么补领？")
    assert rec.refused and "补领" in rec.answer


@pytest.fixture(scope="module")
def guarantees(tmp_path_factory, kb):
    return real_kb(tmp_path_factory, kb, "household-car-three-guarantees-rules-2021")


def test_a_part_asking_what_a_term_means_is_answered_by_the_clause_defining_it(guarantees):
    from kb.answer.needs import DEFINES

    # a glossary entry "X，指…" defines as "X是指…" does; a clause that only uses X does not
    assert DEFINES.search("严重安全性能故障，指家用汽车产品存在的危及人身、财产安全…")
    assert not DEFINES.search("因严重安全性能故障累计进行2次修理，但仍未排除该故障的")
    # the passages retrieved for the whole question use the term (第二十四条) without defining it: the part "…指什么"
    # is looked up on its own and answered by 第四十条's definition, the other part still by 第二十四条
    rec = guarantees.ask("三包规定里说的“严重安全性能故障”指什么？这类故障在三包有效期内修了几次还没排除，就可以要求换车或退货？")
    assert not rec.refused and verbatim(guarantees, rec)
    assert "危及人身、财产安全" in rec.answer and "累计进行2次修理" in rec.answer
