"""Provision extraction from the real plan: verbatim quotes and conditions, targets, segments and support types."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.loader import load_corpus
from indexer.provisions import extract_conditions, extract_provisions
from indexer.structure import parse
from kb.core.records import DocMeta, Document
from kb.core.taxonomy import load_taxonomy, places_in, tag

REPO = Path(__file__).resolve().parents[2]
DOC_ID = "zhejiang-nev-14th-fyp-2021"


@pytest.fixture(scope="module")
def plan() -> Document:
    return next(d for d in load_corpus(REPO / "corpus") if d.meta.doc_id == DOC_ID)


@pytest.fixture(scope="module")
def paragraphs(plan):
    return parse(plan)


@pytest.fixture(scope="module")
def provisions(plan, paragraphs):
    return extract_provisions(plan, paragraphs)


def one(provisions, needle: str):
    found = [p for p in provisions if needle in p.quote]
    assert len(found) == 1, (needle, [p.quote for p in found])
    return found[0]


def test_quotes_and_conditions_are_verbatim(plan, paragraphs, provisions):
    assert len(provisions) > 100
    by_index = {p.index: p for p in paragraphs}
    for p in provisions:
        assert plan.text[p.start:p.end] == p.quote
        assert p.doc_id == DOC_ID and p.section == by_index[p.para_index].section
        assert p.verbs and all(v in p.quote for v in p.verbs)
        assert p.support_types
        for c in p.conditions:
            assert c in p.quote, (c, p.quote)


def test_one_provision_per_sentence_so_each_has_a_vector(paragraphs, provisions):
    starts = {(s.start, s.end) for para in paragraphs for s in para.sentences}
    assert all((p.start, p.end) in starts for p in provisions)
    assert len({p.start for p in provisions}) == len(provisions)


def test_deterministic(plan, paragraphs, provisions):
    again = extract_provisions(plan, paragraphs)
    assert [p.model_dump() for p in again] == [p.model_dump() for p in provisions]


def test_background_and_preamble_give_no_provisions(provisions):
    # 现实基础 describes the past, 基本原则 principles, the notice only issues the plan
    for past in ("吉利集团连续九年入选世界五百强", "德清加快打造全省首个全域城市级自动驾驶", "以创新为第一动力", "请会同当地行业主管部门"):
        assert not any(past in p.quote for p in provisions), past


def test_conditions_of_the_plan(provisions):
    pilot = one(provisions, "重点支持具备行业整合能力的龙头企业")
    assert pilot.conditions == ["具备行业整合能力的龙头企业"]
    assert "试点/示范" in pilot.support_types and "中小企业" in pilot.targets
    h2 = one(provisions, "优先在产业基础好、氢气资源丰富")
    assert h2.conditions == ["产业基础好、氢气资源丰富、推广运营有潜力的地区"]
    assert "加氢" in h2.segments and "试点/示范" in h2.support_types
    fund = one(provisions, "省重大科技专项按规定给予优先支持")
    assert "符合条件的核心技术攻关项目" in fund.conditions and "资金/专项" in fund.support_types
    finance = one(provisions, "拓展新能源汽车企业融资渠道")
    assert "符合条件的企业" in finance.conditions and finance.support_types == ["金融"]
    assert "金融机构" in finance.targets
    region = one(provisions, "重点支持新能源汽车产业发展基础强")
    assert region.conditions == ["新能源汽车产业发展基础强、组织实施条件优的区域"]
    assert "地方政府" in region.targets
    h2_oem = one(provisions, "鼓励省内整车企业开发氢燃料电池汽车")
    assert h2_oem.conditions == ["省内整车企业", "具备国际先进水平的氢燃料电池整车企业"]
    assert {"整车企业"} <= set(h2_oem.targets) and "电池企业" not in h2_oem.targets  # 燃料电池企业 is no 电池企业


def test_condition_phrases_stop_at_the_verb():
    assert extract_conditions("鼓励有能力有条件的企业积极介入氢燃料电池行业标准制定。") == ["有能力有条件的企业"]
    assert extract_conditions("选择有条件的城市率先实施城市路网智能改造工程。") == ["有条件的城市"]
    assert extract_conditions("打造具备国际影响力的生态主导型企业。") == ["具备国际影响力的生态主导型企业"]
    assert extract_conditions("加快发展车用大功率驱动电机。") == []


def test_segments_and_their_context(provisions):
    igbt = one(provisions, "攻关高性能IGBT功率半导体器件")
    assert {"功率半导体", "电机电控"} <= set(igbt.segments)
    tank = one(provisions, "攻关70 MPa车载储氢装置技术")
    assert "车载储氢" in tank.segments and "氢燃料电池" in tank.context_segments  # from "7．车用氢燃料电池技术"
    regen = one(provisions, "优化驱动电机能量回收技术")
    assert "回收利用" not in regen.segments  # regenerative braking is not battery recycling
    recycle = one(provisions, "构建动力电池拆分回收资源利用和无害化处理体系")
    assert {"回收利用", "动力电池"} <= set(recycle.segments)
    demo = one(provisions, "“十四五”期间投放燃料电池汽车超过3000辆")
    assert demo.support_types == ["试点/示范"]  # from its box, 专栏5 …示范应用城市群建设行动


def test_regions_and_enterprises(provisions):
    fields = one(provisions, "建成德清、宁波杭州湾、嘉善等一批自动驾驶测试场")
    assert fields.regions == ["德清", "宁波", "杭州湾", "嘉善"]
    names = one(provisions, "支持万向一二三、瑞浦能源、微宏动力等电池企业做大做优")
    assert names.enterprises == ["万向", "瑞浦", "微宏动力"] and "电池企业" in names.targets


def test_taxonomy_is_consistent(plan):
    tax = load_taxonomy()
    ids = [s.id for s in tax.segments]
    assert len(ids) == len(set(ids))
    assert all(s.parent is None or s.parent in ids for s in tax.segments)
    assert all(e in plan.text for e in tax.enterprises)  # names come from the plan, not from memory
    assert "功率半导体" in tag("IGBT模块、SiC MOSFET", tax.segments)
    assert tax.ancestors("功率半导体") == ["电机电控"]
    assert list(tag("Robotaxi运营", tax.segments)) == ["自动驾驶"]  # not 智能座舱 through "OTA" inside the word
    assert list(tag("膜电极", tax.segments)) == ["膜电极"] and tax.ancestors("膜电极") == ["氢燃料电池"]
    assert places_in("浙江省嘉兴市嘉善县") == ["嘉兴", "嘉善"] and tax.place_city("嘉善") == "嘉兴"


def test_other_documents_and_kinds():
    text = "某市支持政策\n第一条 支持符合条件的企业开展氢燃料电池研发。\n第二条 本办法自发布之日起施行。\n"
    doc = Document(meta=DocMeta(doc_id="fictional-city", file="x.txt", title="某市支持政策"), text=text)
    provs = extract_provisions(doc, parse(doc))
    assert [p.quote for p in provs] == ["第一条 支持符合条件的企业开展氢燃料电池研发。"]
    p = provs[0]
    assert p.doc_id == "fictional-city" and text[p.start:p.end] == p.quote
    assert p.conditions == ["符合条件的企业"] and "氢燃料电池" in p.segments and p.verbs[0] == "支持"


# ---------------------------------------------------------------- laws and regulations (eval/corpus, real texts)
LAWS = REPO / "eval" / "corpus"


@pytest.fixture(scope="module")
def law_provisions():
    """file stem -> (document, provisions) for every real law and regulation of the multi-genre corpus."""
    out = {}
    for doc in load_corpus(LAWS):
        out[doc.meta.doc_id] = (doc, extract_provisions(doc, parse(doc)))
    return out


def law_one(law_provisions, doc_id: str, needle: str):
    found = [p for p in law_provisions[doc_id][1] if needle in p.quote]
    assert len(found) == 1, (needle, [p.quote for p in found])
    return found[0]


def test_law_provisions_are_verbatim_with_genre(law_provisions):
    for doc, provs in law_provisions.values():
        assert provs, doc.meta.doc_id
        for p in provs:
            assert doc.text[p.start:p.end] == p.quote and p.genre == doc.meta.doc_type
            assert not p.lead_in or p.lead_in in doc.text
            assert all(c in p.quote for c in p.conditions)


def test_exemptions_reductions_and_their_lists(law_provisions):
    tax_law = "enterprise-income-tax-law-2018"
    p = law_one(law_provisions, tax_law, "符合条件的小型微利企业，减按20％的税率")
    assert p.support_types[0] == "税收减免" and not p.lead_in
    # a list item is a provision under its lead-in, which states the relief
    item = law_one(law_provisions, tax_law, "开发新技术、新产品、新工艺发生的研究开发费用")
    assert item.lead_in.strip() == "第三十条 企业的下列支出，可以在计算应纳税所得额时加计扣除："
    assert item.support_types == ["税收减免"]
    mobile = law_one(law_provisions, "environmental-protection-tax-law-2018", "非道路移动机械")
    assert "暂予免征环境保护税" in mobile.lead_in and {"机动车", "非道路移动机械"} <= set(mobile.classes)
    # a list of what may NOT be deducted grants nothing: its items are not relief
    rent = [p for p in law_provisions[tax_law][1] if "以经营租赁方式租入的固定资产" in p.quote]
    assert all(p.support_types != ["税收减免"] for p in rent)


def test_subsidies_preferences_and_protections(law_provisions):
    assert "资金/专项" in law_one(law_provisions, "zhejiang-renewable-energy-regulations-2021",
                                "光伏或者光热发电项目利用太阳能的").support_types
    assert "金融" in law_one(law_provisions, "circular-economy-law-2018", "金融机构应当给予优先贷款").support_types
    assert "便利/简化" in law_one(law_provisions, "road-traffic-safety-law-2021", "免予安全技术检验").support_types
    # the items of "…招标人，不得实施下列行为：" protect the bidder
    item = law_one(law_provisions, "zhejiang-private-enterprise-promotion-regulations-2020",
                   "以在本地登记、注册或者设立分支机构等作为参与政府采购")
    assert "不得实施下列行为" in item.lead_in
    # a fund's uses are listed under "以下" as often as under "下列": each is funded under that lead-in
    fund = law_one(law_provisions, "renewable-energy-law-2009", "偏远地区和海岛可再生能源独立电力系统建设")
    assert fund.lead_in.endswith("并用于支持以下事项：")
    # a sentence of an article that protects someone, without a cue word of its own
    law_one(law_provisions, "zhejiang-private-enterprise-promotion-regulations-2020", "付款方应当自被要求确认之日起三十日内")


def test_clauses_that_only_empower_another_body_point_elsewhere(law_provisions):
    p = law_one(law_provisions, "end-of-life-vehicle-recycling-measures-2019", "老旧机动车提前报废更新")
    assert p.pointer and p.support_types[0] == "授权规定" and p.points_to.startswith("具体办法由国务院有关部门")
    assert p.points_to in p.quote
    e_bike = law_one(law_provisions, "zhejiang-electric-bicycle-regulations-2020", "可以通过补贴等方式")
    assert e_bike.pointer
    granted = law_one(law_provisions, "enterprise-income-tax-law-2018", "减按15％的税率")
    assert not granted.pointer and "授权规定" not in granted.support_types


def test_penalties_and_definitions_are_not_provisions(law_provisions):
    for doc, provs in law_provisions.values():
        assert not any("罚款" in p.quote or "法律责任" in p.section_path for p in provs), doc.meta.doc_id


# Evidence of the later held-out profiles (g-h…, g-i…, g-j…, written from the documents alone) that no extracted
# provision holds: a permission to a person (可以…临时上道路行驶), what does not count against a business (不计入…修理时间, 不重复
# 计算, …除外), a trade opened to all (驾驶培训实行社会化), fair supervision (随机抽查, 名单向社会公布) — outside what the
# extractor counts as support. Listed so that covering one shows here (then take it off the list), and so
# that no other evidence goes missing unnoticed.
KNOWN_UNEXTRACTED = {
    ("g-h08", "电动自行车驾驶人可以持有效购车发票或者其他合法来源凭证，自购车之日起十五日内临时上道路行驶"),
    ("g-i04", "但生产者已经在缺陷汽车产品召回信息管理系统上备案的信息除外"),
    ("g-i04", "发动机、变速器、动力蓄电池、行驶驱动电机的更换次数与其主要零部件的更换次数不重复计算"),
    ("g-i04", "特殊零部件和动力蓄电池的运输时间，以及外出救援路途所占用的时间，不计入本条第一款第（四）项规定的修理时间"),
    ("g-i07", "机动车的驾驶培训实行社会化，由交通运输主管部门对驾驶培训学校、驾驶培训班实行备案管理"),
    ("g-i10", "应当将本行政区域内取得资质认定的报废机动车回收企业名单及时向社会公布"),
    ("g-i10", "建立和完善以随机抽查为重点的日常监督检查制度，公布抽查事项目录，明确抽查的依据、频次、方式、内容和程序"),
    # the g-j batch: a warranty left to the parties' agreement, an authority's one-time notice of missing papers, a
    # text's own scope, a recycler's duty to the owner, a trade opened to firms registered elsewhere, market pricing
    ("g-j03", "“三包换退车”的三包责任，按照当事人约定执行。"),
    ("g-j04", "对材料不全或者不符合备案要求的，应当当场或者在五日内一次性告知需要补充的全部内容。"),
    ("g-j07", "机动车所有人自愿作报废处理的，依照本办法的规定执行。"),
    ("g-j07", "按照国家有关规定及时向公安机关交通管理部门办理注销登记，将注销证明转交机动车所有人"),
    ("g-j09", "在本市或者外地登记的企业法人、持有本市营业执照的外地企业法人分支机构"),
    ("g-j09", "网约出租车运费实行市场调节价。"),
}


def test_every_genre_scenario_expects_extracted_provisions(law_provisions, provisions):
    from eval.eligibility import GENRES_DATASET, load_scenarios

    quotes = [p.quote for _, provs in law_provisions.values() for p in provs] + [p.quote for p in provisions]
    missing = {(s.id, e) for s in load_scenarios(GENRES_DATASET) for e in s.evidence
               if not any(e in q for q in quotes)}
    assert missing == KNOWN_UNEXTRACTED


def test_duties_computations_and_paper_lists_are_not_relief(law_provisions):
    quotes = [p.quote for _, provs in law_provisions.values() for p in provs]
    # the items of "申请机动车登记，应当提交以下证明、凭证：" are papers to hand in, though one names a 免税凭证
    assert not any("车辆购置税的完税证明或者免税凭证" in q for q in quotes)
    # how the tax is computed is no relief, though it names 减免 and 抵免
    assert not any("企业的应纳税所得额乘以适用税率" in q for q in quotes)
    # a prohibition whose subject is the enterprise is its duty
    assert not any("报废机动车回收企业不得拆解" in q for q in quotes)
    # one that protects an enterprise named after the prohibition is support
    law_one(law_provisions, "zhejiang-private-enterprise-promotion-regulations-2020",
            "不得在约定的付款方式之外以承兑汇票等形式延长付款期限")


def test_support_through_another_partys_duty(law_provisions):
    def types(doc, needle):
        return law_one(law_provisions, doc, needle).support_types

    # what an authority may not demand of the governed protects whoever serves them
    assert types("road-traffic-safety-law-2021", "不得要求机动车到指定的场所进行维修、保养") == ["权益保障"]
    # a payment due to a market party, and a prohibition that names the market party it shields
    assert types("household-car-three-guarantees-rules-2021", "应当向销售者支付家用汽车产品使用补偿费") == ["权益保障"]
    assert types("household-car-three-guarantees-rules-2021", "拒绝销售者、修理者按照本规定提出的协助") == ["权益保障"]
    # a liability lifted by a lead-in: its items are the cases, with its support type
    item = law_one(law_provisions, "household-car-three-guarantees-rules-2021", "因不可抗力造成的损坏")
    assert "可以免除经营者" in item.lead_in and item.support_types == ["权益保障"]
    # a public service free of charge is a fee relief; a business's free service is its duty
    assert types("zhejiang-electric-bicycle-regulations-2020", "应当当场免费登记") == ["收费减免"]
    quotes = [p.quote for _, provs in law_provisions.values() for p in provs]
    assert not any("销售者应当及时免费补办" in q for q in quotes)
    # nor does the payment lend support to the formula that computes it, or a void exemption count
    assert not any("补偿费=车价款" in q for q in quotes)
    assert not any("免除自身责任" in q for q in quotes)
    # a lead-in's "不缴纳" relieves its items; "可以不受…限制" eases; the state may not run the trade; help and a service
    # an authority gives
    item = law_one(law_provisions, "environmental-protection-tax-law-2018", "在符合国家和地方环境保护标准的设施")
    assert "不缴纳" in item.lead_in and item.support_types == ["税收减免"]
    assert types("road-traffic-safety-law-2021", "可以不受车辆分道行驶的限制") == ["便利/简化"]
    assert types("road-traffic-safety-law-2021", "不得举办或者参与举办驾驶培训学校") == ["权益保障"]
    assert types("zhejiang-private-enterprise-promotion-regulations-2020", "帮助企业在过渡期届满前") == ["鼓励/支持"]
    assert types("zhejiang-private-enterprise-promotion-regulations-2020", "提供知识产权快速受理") == ["便利/简化"]
    # a regulatory stance that spares new business models (a term of the taxonomy's 权益保障)
    assert types("zhejiang-private-enterprise-promotion-regulations-2020", "包容审慎监管") == ["权益保障"]
    # a duty that opens the sentence stays a duty, whatever the article says of enterprises
    assert not any("不得违法作业" in q for q in quotes)


def test_denials_exceptions_and_a_duty_to_prefer_are_not_support(law_provisions):
    quotes = [p.quote for _, provs in law_provisions.values() for p in provs]
    # a denial withholds support from the enterprises it names
    assert not any("金融机构不得提供任何形式的授信支持" in q for q in quotes)
    # …and so does a relief denied ("下列支出不得扣除" and its items)
    assert not any("不得扣除" in q or q.strip() == "（六）赞助支出；" for q in quotes)
    # a sentence that only states an exception grants nothing of its own
    assert not any(q.strip() == "中小企业无法提供的商品和服务除外。" for q in quotes)
    # "应当…优先选择采用…" is a designer's duty (优先选择 is excluded from 优先/优惠), not a preference for anyone
    assert not any("优先选择采用易回收、易拆解" in q for q in quotes)
    # a preference in force ("优先调度") and a protection ("不得再违法要求…") are still support
    law_one(law_provisions, "zhejiang-renewable-energy-regulations-2021", "优先调度可再生能源发电")
    law_one(law_provisions, "zhejiang-private-enterprise-promotion-regulations-2020", "银行业金融机构不得再违法要求")


def test_a_law_clause_states_the_case_it_applies_to_as_its_condition(law_provisions):
    pv = law_one(law_provisions, "zhejiang-renewable-energy-regulations-2021", "光伏或者光热发电项目利用太阳能的")
    assert pv.conditions[0] == "建设光伏或者光热发电项目利用太阳能的"
    item = law_one(law_provisions, "environmental-protection-tax-law-2018", "非道路移动机械")
    assert item.conditions[0] == "机动车、铁路机车、非道路移动机械、船舶和航空器等流动污染源排放应税污染物的"
    # an item's own number is no part of a condition
    assert law_one(law_provisions, "enterprise-income-tax-law-2018", "符合条件的居民企业之间").conditions == [
        "符合条件的居民企业"]
    for doc, provs in law_provisions.values():
        assert all(c in p.quote for p in provs for c in p.conditions)


def test_an_authoritys_power_is_no_grant(law_provisions):
    quotes = [p.quote for _, provs in law_provisions.values() for p in provs]
    assert not any("税务机关有权按照合理方法调整" in q for q in quotes)
    assert not any("有权处理的部门应当及时依法调查处理" in q for q in quotes)
    law_one(law_provisions, "sme-promotion-law-2017", "中小企业有权要求拖欠方支付拖欠款")  # an enterprise's right is


def test_an_authoritys_remit_is_no_product_class_of_the_clause(law_provisions):
    online = law_one(law_provisions, "end-of-life-vehicle-recycling-measures-2019", "推行网上申请、网上受理等方式")
    assert "报废机动车" not in online.classes  # it is in "负责报废机动车回收管理的部门", the one who must ease applying
    parts = law_one(law_provisions, "end-of-life-vehicle-recycling-measures-2019", "以外的零部件符合保障人身")
    assert parts.classes == ["报废机动车"]
