"""What a clause must contain for each kind of question (kb/answer/needs.py), and the drafting conventions of laws
the answerer relies on (kb/answer/legal.py) — on made-up 【测试数据】 clauses, with the real segmenter."""
from __future__ import annotations

import pytest

from kb.answer.legal import article_of, commencement, delegation, duty_cited, enactment, penalty_citing, records
from kb.answer.needs import duty_asked, need_for
from kb.answer.question import analyze
from kb.core.records import Paragraph, Span
from kb.core.segment import Segmenter


@pytest.fixture(scope="module")
def seg():
    return Segmenter()


@pytest.mark.parametrize("question, kind, answers, does_not_answer", [
    ("虚构条例规定电动三轮车最高时速是多少？", "unit", "最高时速不得超过二十五公里", "处五十元以上二百元以下罚款"),
    ("违法所得不足5万元的，罚多少钱？", "fine", "并处1万元以上3万元以下的罚款", "违法所得不足5万元的"),
    ("提前淘汰能拿多少补贴？", "money", "每辆补贴五百元", "处五百元罚款"),
    ("登记机关多少天内要作出决定？", "unit", "自受理之日起十五日内作出决定", "应当及时作出决定"),
    ("资质认定书有效期是几年？", "years", "有效期为五年", "自2099年起施行"),
    ("测试许可证有效期几年？", "years", "有效期六年", "应当在终止经营前三十日内告知"),  # days are no span of years
    ("测试道路上最高能开多快？", "unit", "最高时速不得超过七十公里", "应当保持安全车速"),
    # how often is answered by an interval, not by a time limit nor by 定期, which says no interval
    ("测试评估多长时间做一次？", "frequency", "每三年开展一次评估", "应当定期开展评估"),
    ("测试数据多久交送一次？是每月还是每季度？", "frequency", "测试数据按季交送测试税务局", "自收到之日起十五日内出具意见"),
    ("规划要求哪一年全部实现？", "year", "到2095年全部实现", "“十四五”期间全部实现"),
    ("由哪个部门负责登记？", "body", "由虚构省测试交通局负责登记", "国家鼓励企业登记"),
    ("没配反光标识会怎么处罚？", "penalty", "由测试交通局处警告", "所有人应当配备反光标识"),
    ("不配反光标识的，规定了什么罚则？", "penalty", "由测试交通局处警告", "所有人应当配备反光标识"),
    # a sum of money named by its noun: a tax amount or a late fee is not answered by a time limit or a fine
    ("虚构税每吨税额是多少？", "money", "每吨税额为十二元", "自收到之日起十五日内缴纳"),
    ("逾期缴纳的，按日加收多少滞纳金？", "money", "按日加收滞纳税款万分之五的滞纳金，计二十元", "处二千元罚款"),
    ("罚款是多少？", "fine", "处五元以上五十元以下罚款", "超过额定乘员百分之二十的"),
    ("销售没有标识的翻新轮胎，规定了多少罚款？", "fine", "可以处五千元以上五万元以下的罚款", "责令限期改正"),
    ("没买保险的，罚款标准是多少？", "fine", "并处保险费的二倍罚款", "扣留车辆至依照规定投保后"),
    # a party named by its role answers "由谁" as a body does
    ("虚构三轮车的包修责任由谁承担？", "who", "包修责任由销售者依法承担", "应当及时修理并保持车况良好"),
    # a count is not answered by the fine of the same article
    ("共享三轮车投放数量是多少？", "figure", "投放数量不超过三千辆", "可以并处二千元以上二万元以下罚款"),
    # a bound of one direction is not answered by a bound of the other
    ("测试道路上的最低车速是多少？", "unit", "最低车速不得低于六十公里", "最高车速不得超过一百二十公里"),
    ("测试三轮车的载重上限是多少吨？", "unit", "载重不得超过二吨", "载重不少于二吨的为重型"),
    # the criteria of something are stated by defining it or listing them, not by naming "符合条件的…"
    ("虚构小型企业要满足什么条件才算？", "criteria", "虚构小型企业是指从业人数不超过三十人的企业",
     "符合条件的虚构小型企业，减按百分之二十的税率征税"),
    ("申请登记需要具备哪些条件？", "criteria", "应当具备下列条件：（一）车辆经检验合格", "登记机关应当及时登记"),
    # a ceiling or floor is a standard too ("不得高于核定标准收费")
    ("测试服务收费按什么标准？", "criteria", "测试服务收费不得高于核定标准", "测试服务收费应当公开"),
    # the figures of a penalty answer only a question about penalties
    ("测试回收企业注册资本至少多少万元？", "unit", "注册资本不低于五十万元",
     "违法所得在5万元以上的，并处违法所得2倍罚款；违法所得不足5万元的，并处5万元以上10万元以下的罚款"),
    # the papers an application needs are given by naming papers, not by who reviews it or where it is filed
    ("申请测试资质要交哪些材料？", "papers", "应当提交身份证明和场地平面图纸", "测试交通局应当依法进行审查，推行网上申请"),
    ("去登记要带什么证件？", "papers", "凭身份证件办理登记", "当场免费登记"),
    # the steps of a procedure are given by naming steps, not by saying what a fund is for
    ("申请测试专项资金要走哪些审批程序？", "steps", "应当向测试局提出申请，测试局应当自受理之日起十日内审查",
     "测试专项资金通过资助、奖励等方式重点用于公共服务体系建设"),
    # where something is recorded or filed is a system or a body as much as a place
    ("测试处罚信息要记到哪里？", "where", "记入测试企业信用信息公示系统", "处五十元罚款"),
    ("测试税向哪儿申报？", "where", "向应税行为发生地的测试税务机关申报", "自季度终了之日起十五日内申报"),
])
def test_a_clause_answers_only_with_what_is_asked(seg, question, kind, answers, does_not_answer):
    need = need_for(analyze(question, seg))
    assert need is not None and need.kind == kind
    assert need.search(answers) and not need.search(does_not_answer)


def test_which_article_asks_for_the_article_not_what_its_words_name(seg):
    # 费用预算 names a sum of money, but the question asks which article
    assert need_for(analyze("要求把维修费用预算写进交接单告诉车主的是第几条？", seg)) is None
    assert need_for(analyze("维修费用预算要写进交接单吗？多少钱？", seg)).kind == "money"


def test_which_few_asks_for_a_list_not_a_count(seg):
    q = analyze("销售者交车时要做到哪几件事？", seg)
    assert q.units == [] and q.intent == "list"
    assert analyze("要办几件事？", seg).units == ["件"]


def test_how_many_of_anything_asks_for_a_number_but_a_period_does_not(seg):
    q = analyze("合乘一天最多能接几单？", seg)
    assert q.intent == "figure" and q.units == ["单"]
    assert analyze("测试经营权能用几年？", seg).intent == "figure"
    assert analyze("近几年测试产业发展得怎么样？", seg).intent != "figure"
    # a count told of something done, the question going on from it: "a few", not "how many"
    told = analyze("公司在外地开了几家测试分店，所得税是分店各交各的，还是总公司一起交？", seg)
    assert told.intent != "figure" and told.units == []
    assert analyze("测试分店今年开了几家？", seg).units == ["家"]
    # a vague count of years in the story asks no span: "开了十几年的老油车"
    need = need_for(analyze("家里开了十几年的测试油车，规划鼓励换吗？", seg))
    assert need is None or need.kind != "years"


def test_a_year_or_body_inside_a_cited_title_does_not_count(seg):
    need = need_for(analyze("规划要求哪一年全部实现？", seg))
    assert not need.search("依据《虚构省交通发展纲要（2091—2095年）》，鼓励使用新能源车")


def test_the_duty_a_which_body_question_asks_about(seg):
    assert duty_asked(analyze("太阳能热水系统由哪个部门负责验收？", seg), seg.tokens) == ["验收"]
    assert duty_asked(analyze("电动三轮车由哪个部门负责？", seg), seg.tokens) == []  # any body named for it


def _paras(rows):
    out, pos = [], 0
    for i, (section, text) in enumerate(rows):
        sents, start = [], pos
        for piece in text.split("。"):
            if piece:
                sents.append(Span(start=start, end=start + len(piece) + 1, text=piece + "。"))
                start += len(piece) + 1
        out.append(Paragraph(doc_id="d", index=i, kind="item", section=section, start=pos, end=pos + len(text),
                             text=text, sentences=sents))
        pos += len(text) + 1
    return out


LAW = _paras([(["第一章", "第十条"], "第十条 对提前淘汰的，给予补贴。具体办法由测试交通局另行制定。"),
              (["第一章", "第十条之一"], "第十条之一 测试车辆实行登记。测试车辆的分类目录，由测试交通局规定。"),
              (["第一章", "第十一条"], "第十一条 所有人应当配备反光标识。"),
              (["第一章", "第十二条"], "第十二条 违反本条例第十一条规定的，处警告或者五十元罚款。"),
              (["第一章", "第一百一十一条"], "第一百一十一条 违反本条例第十一条之一规定的，处一百元罚款。"),
              (["第一章", "第十三条"], "第十三条 本条例自2099年3月1日起施行。")])


def test_drafting_conventions():
    assert article_of(LAW[2]) == "第十一条"
    p, s = penalty_citing(LAW, LAW[2])
    assert p is LAW[3] and "五十元罚款" in s.text
    assert penalty_citing(LAW, LAW[3]) is None  # nothing cites the penalty article itself
    p, s = delegation(LAW, LAW[0])
    assert s.text == "具体办法由测试交通局另行制定。"
    assert delegation(LAW, LAW[2]) is None
    # a rule that names what it leaves to another body counts only when that is what was asked
    assert delegation(LAW, LAW[1]) is None
    p, s = delegation(LAW, LAW[1], about=lambda text: "分类目录" in text)
    assert s.text == "测试车辆的分类目录，由测试交通局规定。"
    p, s = commencement(LAW)
    assert "2099年3月1日" in s.text
    assert enactment(LAW) is None  # no clause of it says why it was made


def test_the_enacting_clause_says_why_and_on_what_basis():
    law = _paras([(["第一章", "第一条"], "第一条 为了规范测试车辆的管理，根据《虚构省交通条例》，结合本省实际，制定本办法。"),
                  (["第一章", "第二条"], "第二条 为了保障安全，测试车辆应当配备反光标识。")])
    assert enactment(law)[0] is law[0]
    # a plan's preamble states it with 特制定 and the plan's own title
    plan = _paras([(["前言"], "发展测试车辆是重要举措。为贯彻落实《虚构纲要》精神，特制定《虚构省测试车辆规划》。")])
    assert enactment(plan)[1].text.startswith("为贯彻落实")


def test_a_detail_left_to_a_standard_or_other_laws_is_a_delegation():
    law = _paras([(["第六章", "第四十一条"], "第四十一条 测试车辆的主要零部件的种类范围，按照有关国家标准确定。"),
                  (["第六章", "第四十二条"], "第四十二条 经营者破产的，其包修责任按照有关法律、法规的规定执行。"),
                  (["第六章", "第四十三条"], "第四十三条 测试车辆的延续管理办法由测试交通局制定。"),
                  (["第六章", "第四十四条"], "第四十四条 所有人应当按照国家有关规定配备反光标识，保持车况良好。"),
                  (["第六章", "第四十五条"], "第四十五条 测试交通局应当制定、公布测试车辆的安全技术标准。"),
                  (["第六章", "第四十六条"], "第四十六条 逾期缴纳测试费的，应当补缴，并按照国务院规定加收利息。"),
                  (["第六章", "第四十七条"], "第四十七条 测试罐车罐体的维修适用其他特别规定。")])
    for para in law[:3] + law[4:]:
        assert delegation(law, para) is None  # each names what it leaves out: only when that was asked
        assert delegation(law, para, about=lambda text: True)[1].text == para.sentences[0].text
    # a duty to follow the rules is no detail left out ("按照国家有关规定配备…" goes on to say what to do)
    assert delegation(law, law[3], about=lambda text: True) is None
    # (a body's duty to write the standard leaves its content out of this text just as well)


@pytest.mark.parametrize("question, answers, does_not_answer", [
    # the enterprises a governing verb's clause names are whom the duty is done to, not who does it
    ("谁来监督测试销售企业按照规定销售测试燃料？", "虚构省测试商务局应当做好组织工作",
     "监督测试销售企业按照规定销售测试燃料"),
    ("哪个部门负责督促测试回收企业整改？", "由虚构省测试交通局负责", "督促测试回收企业限期整改"),
])
def test_who_asks_for_the_doer_not_the_party_done_to(seg, question, answers, does_not_answer):
    need = need_for(analyze(question, seg))
    assert need.search(answers) and not need.search(does_not_answer)


def test_the_procedure_a_how_to_question_asks_about(seg):
    from kb.answer.needs import procedure_asked

    assert procedure_asked(analyze("测试号牌丢了怎么补领？要多少天？", seg), seg.tokens) == ["补领"]
    assert set(procedure_asked(analyze("对鉴定结论不服，怎么申请重新鉴定？", seg), seg.tokens)) >= {"重新", "鉴定"}
    assert procedure_asked(analyze("测试交通局怎么处理投诉举报？", seg), seg.tokens) == []  # how a body acts, no procedure
    # the papers of a named procedure: a list of papers for the first application does not give them
    assert set(procedure_asked(analyze("测试车卖了，去办过户要带哪些材料？", seg), seg.tokens)) == {"过户"}
    assert set(procedure_asked(analyze("办备案变更要提交什么材料？", seg), seg.tokens)) == {"备案", "变更"}


def test_who_a_rule_encourages_is_the_object_of_its_verb(seg):
    need = need_for(analyze("虚构规划鼓励由谁来牵头探索建设测试换电站？", seg))
    assert need.search("鼓励以测试整车企业为主体探索建设一批测试换电站")
    # the object of 支持 is who does what follows it: the question asks that, not who supports
    need = need_for(analyze("虚构规划希望由哪些机构为测试企业提供优惠贷款？", seg))
    assert need.search("支持测试银行、测试保险公司等机构对测试企业提供优惠贷款")


def test_counts_and_negations_are_no_topic_words():
    from kb.answer.answerer import NOT_TOPIC

    assert all(NOT_TOPIC.match(w) for w in ["第一次", "一次", "五万", "30", "不到", "没到", "未满"])
    assert not any(NOT_TOPIC.match(w) for w in ["车速", "楼道", "货款", "一次性", "不到位", "万元户"])


def test_a_question_asking_what_may_not_be_done():
    from kb.answer.answerer import _negation_asked

    assert all(_negation_asked(q) for q in ["哪些支出是不能扣除的？", "哪些情况不用交测试税？", "禁止做什么？"])
    # "能不能", "可不可以", "要不要" ask both ways: no side is preferred
    assert not any(_negation_asked(q) for q in ["能不能扣除？", "可不可以晚点交？", "要不要交测试税？", "是不是要登记？"])


def test_an_enterprise_the_question_names_is_found(seg):
    assert analyze("规划对比亚迪在本省的项目有什么安排？", seg).names == ["比亚迪"]
    assert analyze("规划对整车企业有什么安排？", seg).names == []


def test_records_are_the_history_lines_and_the_commencement_article():
    from kb.core.records import PREAMBLE

    paras = _paras([([PREAMBLE], "2099年1月1日 虚构省测试人民代表大会常务委员会通过"),
                    ([PREAMBLE], "为了测试而写的前言，不是记录"), *[(p.section, p.text) for p in LAW]])
    assert [p.text for p in paras if p.index in records(paras)] == [paras[0].text, paras[-1].text]


def test_the_duty_a_penalty_cites_by_article_and_paragraph():
    law = _paras([(["第一章", "第二十三条"], "第二十三条 经营者应当标识价格。"),
                  (["第一章", "第二十三条"], "使用旧配件的，应当征得书面同意。"),
                  (["第一章", "第二十三条", "（一）"], "（一）旧配件；"),
                  (["第一章", "第二十四条"], "第二十四条 违反第二十三条第二款规定，未征得同意使用旧配件的，处罚款。")])
    assert duty_cited(law, law[3].text) == law[1:3]  # the second 款, with the entry under it
    assert duty_cited(law, "违反本条例第二十三条规定的，处罚款。") == law[:3]  # the whole article
    assert duty_cited(law, "违反本条例规定的，处罚款。") == []


def test_the_claim_a_question_attributes_to_a_document():
    from kb.answer.question import premise

    assert premise("三包规定是不是要求车企提供8年或15万公里的质保？") == "车企提供8年或15万公里的质保"
    assert premise("规划提出2025年起全面停售燃油车，那之后还能上牌吗？") == "2025年起全面停售燃油车"
    assert premise("规划里说要建30座加氢站，那杭州要建几座？") == "要建30座加氢站"
    assert premise("到2025年要建成多少座加氢站？") == ""
    assert premise("三包规定要求厂家提供终身质保，这个质保怎么申请？") == "厂家提供终身质保"
    assert premise("银行违法要求老板个人担保，条例规定多少天内整改？") == ""  # 违法 names no document
    assert premise("道交法规定的强制保险，责任限额是多少？") == ""  # a reference, no claim
    assert premise("规划提出要建设加氢站，共建成了多少座？") == "要建设加氢站"
    assert premise("规划要求产量达到一百万辆，比2020年翻了几番？") == "产量达到一百万辆"  # 几 asks with any counter
    assert premise("测试法允许境外亏损抵减境内盈利，那这笔亏损怎么填报？") == "境外亏损抵减境内盈利"
    assert premise("条例规定要配备反光标识，也要保持车身整洁。") == ""  # nothing asked after it


def test_a_claim_is_stated_only_by_a_clause_that_forbids_as_it_does():
    from kb.answer.answerer import Answerer

    words = {"境外": ["境外"], "亏损": ["亏损"], "抵减": ["抵减"], "盈利": ["盈利"]}
    assert not Answerer._same_polarity("境外亏损抵减境内盈利", "在汇总计算时，其境外营业机构的亏损不得抵减境内营业机构的盈利", words)
    assert Answerer._same_polarity("境外亏损不得抵减境内盈利", "其境外营业机构的亏损不得抵减境内营业机构的盈利", words)
    assert Answerer._same_polarity("排放浓度低于标准的减征", "浓度值不低于标准的，减征", {"浓度": ["浓度"]})  # 不低于 forbids nothing


def test_a_question_about_another_version_of_a_text():
    from kb.answer.legal import version_asked

    assert version_asked("2005年可再生能源法刚通过时是怎么规定的？") == "earlier"
    assert version_asked("老版三包规定的包修期是多久？") == "earlier"
    assert version_asked("条例后来修改以后，罚款调到多少了？") == "later"
    assert version_asked("2018年那次修正，具体改了哪些条文？") == "changes"
    assert version_asked("那次修正具体改了测试条例的哪几条？") == "changes"  # the text named in between
    assert version_asked("第十条改动前是怎么写的？") == "earlier"
    assert version_asked("2002年最早通过的那版一共有几章？") == "earlier"
    assert version_asked("测试条例2020年施行以后修改过吗？") == "later"
    assert version_asked("规划做完中期评估以后，目标调到多少？") == "later"
    assert version_asked("条例草案征求意见稿里写的是多少天？") == "draft"
    assert version_asked("修订后的中小企业促进法从什么时候施行？") == ""  # the revised text is the one at hand
    assert version_asked("条例修改前是哪年通过的？") == ""  # when a version was adopted: the history lines say


def test_quoted_names_not_quoted_speech():
    from kb.answer.question import quoted_terms

    assert quoted_terms("外商投资企业还能享受“两免三减半”吗？") == ["两免三减半"]
    assert quoted_terms("合同里写着“出了问题本店概不负责”，算数吗？") == []  # words someone wrote
    assert quoted_terms("店里贴着“概不退换”，合法吗？") == []
    assert quoted_terms("“新能源汽车产业发展规划”里说了什么？") == []  # too long to be a coined name


def test_a_year_of_the_askers_story_is_no_scope(seg):
    # "2019年才拿到的经营权" dates the asker's case; "到2025年" asks what the text sets for that year
    assert analyze("2019年才在测试市拿到的经营权能不能转让？", seg).years == []
    assert analyze("2020年8月新买的测试车能不能上路？", seg).years == []
    assert analyze("到2025年测试产量是多少？", seg).years == ["2025"]
    assert "2019" not in analyze("2019年才拿到的经营权能不能转让？", seg).terms


def test_a_quoted_short_name_stands_for_the_longer_one_in_order():
    from kb.answer.answerer import _abbreviation

    assert _abbreviation("备案非标车").search("备案非标电动自行车（以下简称…）")
    assert not _abbreviation("两免三减半").search("减按百分之二十的税率征收企业所得税")
    assert not _abbreviation("备案非标车").search("备案。非标准的车")  # not across a sentence


def test_the_thing_a_measure_is_asked_of(seg):
    from kb.answer.needs import measured_thing

    assert measured_thing(analyze("报废测试车回收企业的资质认定书有效期是几年？", seg)) == "认定书"
    assert measured_thing(analyze("测试高速公路上的最高时速是多少？", seg)) == "高速公路"
    # a duration asked with a verb ("能用几年", "可以保留多久") is the 有效期 of the thing before it
    assert measured_thing(analyze("测试车辆经营权能用几年？", seg)) == "经营权"
    assert measured_thing(analyze("测试号牌可以保留多久？", seg)) == "号牌"
    assert measured_thing(analyze("测试车辆经营权怎么转让？", seg)) == ""  # no measure asked
