"""Which document a question names and which address (第N条/章/节/部分, 专栏N) it asks for — on made-up titles."""
from __future__ import annotations

import pytest

from kb.answer.address import AddressIndex, label_address, opening, outline, quote_scope
from kb.answer.enumeration import items_under, lead_in
from kb.answer.scope import Address, addresses, named_documents
from kb.core.records import DocMeta, Paragraph, Span

TITLES = {
    "road": "中华人民共和国虚构道路通行安全法",
    "scrap": "虚构报废机动车回收管理办法",
    "tax": "中华人民共和国虚构环境保护税法",
    "zj-energy": "虚构省可再生能源开发利用促进条例",
    "zj-private": "虚构省民营企业发展促进条例",
    "plan": "虚构省新能源汽车产业发展“十四五”规划",
}
DOCS = {d: DocMeta(doc_id=d, file=f"{d}.md", title=t) for d, t in TITLES.items()}


@pytest.mark.parametrize("question, expected", [
    ("虚构道路通行安全法第九十条规定了什么？", "road"),
    ("道路通行法第五章讲什么？", "road"),  # a short form: characters of the title, in order, ending like it
    ("报废车管理办法里哪一条要求建立信息系统？", "scrap"),
    ("环保税法第十二条列了哪些情形？", "tax"),
    ("《中华人民共和国虚构环境保护税法》一共几章？", "tax"),
    ("虚构省民营企业发展促进条例第二章主要讲什么？", "zj-private"),  # not the other 促进条例
    ("虚构省可再生能源条例第三章讲的是什么？", "zj-energy"),
    ("十四五规划的专栏3列了哪几项？", "plan"),
])
def test_named_document(question, expected):
    assert named_documents(question, DOCS)[0] == expected


@pytest.mark.parametrize("question", ["中小企业有哪些税收优惠？", "依法应当怎么办？", "这个办法什么时候施行？",
                                      "促进条例有哪些？", "本法第三条规定了什么？"])
def test_no_document_named(question):
    assert named_documents(question, DOCS) == []


def test_addresses():
    assert addresses("道路通行法第一百二十四条和第5章") == [Address("条", 124), Address("章", 5)]
    assert addresses("专栏 3 列了哪些？") == [Address("专栏", 3)]
    assert addresses("规划的第四部分讲什么") == [Address("部分", 4)]
    assert Address("条", 124).label == "第一百二十四条"
    assert label_address("第三章　法律责任", 0) == Address("章", 3)
    assert label_address("四、实施标志性重大工程", 0) == Address("部分", 4)
    # a bracketed number below the top is a section (the index keeps it only right inside a part, see below)
    assert label_address("（一）现实基础", 1) == Address("节", 1)
    assert addresses("规划第三部分第（五）节包括哪几块？") == [Address("部分", 3), Address("节", 5)]
    from kb.answer.address import COUNT_PARTS
    assert COUNT_PARTS.search("第七章一共有几条？").group(1) == "条"
    assert not COUNT_PARTS.search("第七章提了哪几条措施？")  # measures, not articles


def _para(i, kind, section, text, start):
    return Paragraph(doc_id="d", index=i, kind=kind, section=section, start=start, end=start + len(text), text=text,
                     sentences=[Span(start=start, end=start + len(text), text=text)])


def _paras(rows):
    """Paragraphs of a made-up document from (kind, section, text) rows, one line each."""
    paras, pos = [], 0
    for i, (kind, section, text) in enumerate(rows):
        paras.append(_para(i, kind, section, text, pos))
        pos += len(text) + 1
    return paras


def test_scope_quotes_an_article_and_outlines_chapters():
    rows = [("heading", ["第一章 总则"], "第一章 总则"),
            ("item", ["第一章 总则", "第一条"], "第一条 为了测试，制定本法。"),
            ("heading", ["第二章 减免"], "第二章 减免"),
            ("item", ["第二章 减免", "第二条"], "第二条 下列情形免征测试税："),
            ("item", ["第二章 减免", "第二条", "（一）"], "（一）虚构情形甲；"),
            ("body", ["第二章 减免", "第二条"], "前款规定由虚构局备案。")]
    paras = _paras(rows)
    index = AddressIndex({"d": paras})
    (art,) = index.find(Address("条", 2), None)
    quotes = quote_scope(art, budget=300)
    assert [q.text for q in quotes] == ["第二条 下列情形免征测试税：", "（一）虚构情形甲；", "前款规定由虚构局备案。"]
    v = outline(index, "d", "章", None)
    assert v.lead == "共2章：" and [q.text for q in v.quotes] == ["第一章 总则", "第二章 减免"]
    assert index.find(Address("条", 3), None) == []


def test_a_lead_in_brings_its_items_and_an_item_its_siblings():
    from kb.answer.enumeration import list_items
    from kb.answer.verdict import whole

    rows = [("item", ["第二条"], "第二条 下列情形免征测试税："),
            ("item", ["第二条", "（一）"], "（一）虚构情形甲；"),
            ("item", ["第二条", "（二）"], "（二）虚构情形乙，且不超过规定标准的；"),
            ("body", ["第二条"], "前款规定由虚构局备案。"),
            ("item", ["第三条"], "第三条 本法自2099年施行。")]
    paras = _paras(rows)
    assert [q.text for q in list_items(whole(paras[0]), paras, False, 260)] == [
        "（一）虚构情形甲；", "（二）虚构情形乙，且不超过规定标准的；"]
    assert [q.text for q in list_items(whole(paras[2]), paras, True, 260)] == ["（一）虚构情形甲；"]
    assert list_items(whole(paras[2]), paras, False, 260) == []  # not a list question: the item alone
    assert list_items(whole(paras[4]), paras, True, 260) == []


def test_a_lead_in_cut_before_its_colon_still_brings_its_items_and_articles_are_not_list_siblings():
    from kb.answer.enumeration import list_items
    from kb.answer.verdict import Quote

    rows = [("item", ["第一章", "第二条"], "第二条 基金用于下列事项："),
            ("item", ["第一章", "第二条", "（一）"], "（一）虚构事项甲；"),
            ("item", ["第一章", "第二条", "（二）"], "（二）虚构事项乙。"),
            ("item", ["第一章", "第三条"], "第三条 本法自2099年施行。")]
    paras = _paras(rows)
    cut = Quote(paras[0], paras[0].start, paras[0].end - 1, paras[0].text[:-1])  # "…用于下列事项"
    assert [q.text for q in list_items(cut, paras, True, 260)] == ["（一）虚构事项甲；", "（二）虚构事项乙。"]
    # an article quoted for a list question does not bring the other articles of its chapter
    assert list_items(Quote(paras[3], paras[3].start, paras[3].end, paras[3].text), paras, True, 260) == []



def test_a_lead_in_without_numbered_items_lists_the_paragraphs_of_its_article():
    rows = [("item", ["第六章 附则", "第四十条"], "第四十条 本规定下列用语的含义："),
            ("body", ["第六章 附则", "第四十条"], "虚构产品，指测试用的产品。"),
            ("body", ["第六章 附则", "第四十条"], "虚构时间，指测试开始之时。"),
            ("item", ["第六章 附则", "第四十一条"], "第四十一条 本规定自2099年施行。")]
    paras = _paras(rows)
    assert [p.text for p in items_under(paras[0], paras)] == ["虚构产品，指测试用的产品。", "虚构时间，指测试开始之时。"]
    assert items_under(paras[1], paras) == []  # a paragraph that introduces nothing has no entries


def test_an_articles_opening_ends_on_a_clause_that_says_something():
    s = "第九条 虚构测试设备的价格，由虚构价格局根据不同地区的情况确定，并适时调整。"
    assert opening(s, 16) == "第九条 虚构测试设备的价格，由虚构价格局根据不同地区的情况确定"  # too short to say anything
    assert opening("第十条 排放低于标准百分之三十的，减按百分之七十五征收虚构税，另行公布。", 8) == \
        "第十条 排放低于标准百分之三十的，减按百分之七十五征收虚构税"  # a condition "…的，" is never the end
    assert opening(s, 0) == s and opening(s, 200) == s
    # a clause that only frames the next one (by what, with whom, under which condition) is never the end either
    framed = "第七条 虚构能源局应当会同有关部门和机构，按照虚构技术规范和要求，对本区域虚构资源进行调查，并公布结果。"
    assert opening(framed, 10) == "第七条 虚构能源局应当会同有关部门和机构，按照虚构技术规范和要求，对本区域虚构资源进行调查"
    assert opening("第八条 虚构车辆应当按照交通信号通行，遇有指挥时服从指挥。", 10) == "第八条 虚构车辆应当按照交通信号通行"


def test_a_chapter_is_outlined_by_every_articles_opening_within_the_budget():
    rows = [("heading", ["第一章 测试"], "第一章 测试")]
    for n, name in enumerate("一二三四", 1):
        rows.append(("item", ["第一章 测试", f"第{name}条"],
                     f"第{name}条 虚构事项{name}由虚构局负责办理，并在虚构期限内向社会公布办理结果。"))
    paras = _paras(rows)
    (chapter,) = AddressIndex({"d": paras}).find(Address("章", 1), None)
    whole_sentences = quote_scope(chapter, budget=90)
    openings = quote_scope(chapter, budget=90, clause=12)
    assert len(whole_sentences) == 3  # the heading and two whole articles
    assert [q.text for q in openings[1:]] == [f"第{n}条 虚构事项{n}由虚构局负责办理" for n in "一二三四"]
    assert all(q.start == q.para.start for q in openings[1:])  # quotes point at the article's own text


def test_sections_are_numbered_afresh_in_each_chapter():
    rows = [("heading", ["第一章 甲"], "第一章 甲"),
            ("heading", ["第一章 甲", "第一节 甲一"], "第一节 甲一"),
            ("item", ["第一章 甲", "第一节 甲一", "第一条"], "第一条 虚构甲一的规定。"),
            ("heading", ["第二章 乙"], "第二章 乙"),
            ("heading", ["第二章 乙", "第一节 乙一"], "第一节 乙一"),
            ("item", ["第二章 乙", "第一节 乙一", "第二条"], "第二条 虚构乙一的规定。"),
            ("heading", ["第二章 乙", "第二节 乙二"], "第二节 乙二"),
            ("item", ["第二章 乙", "第二节 乙二", "第三条"], "第三条 虚构乙二的规定。")]
    paras = _paras(rows)
    index = AddressIndex({"d": paras})
    first = index.find(Address("节", 1), None)
    assert {sc.title for sc in first} == {"第一节 甲一", "第一节 乙一"}  # one per chapter, never merged
    (chapter2,) = index.find(Address("章", 2), None)
    assert [sc.title for sc in index.parts("d", "节", chapter2)] == ["第一节 乙一", "第二节 乙二"]
    (inner,) = index.find(Address("节", 1), None, within=chapter2)
    assert [p.text for p in inner.paragraphs][-1] == "第二条 虚构乙一的规定。"
    assert [h.text for h in index.containers(paras[5], {"章", "节"})] == ["第二章 乙", "第一节 乙一"]


def test_a_parts_bracketed_sections_are_addresses_and_outlined_by_their_run_in_titles():
    part, sub = "三、虚构新生态", "（二）完善虚构服务"
    rows = [("heading", [part], part),
            ("heading", [part, "（一）提升虚构能力"], "（一）提升虚构能力"),
            ("body", [part, "（一）提升虚构能力"], "虚构甲。发展虚构甲业务。"),
            ("heading", [part, sub], sub),
            ("body", [part, sub], "发展共享虚构。推动虚构企业转型，培育虚构新业态。"),
            ("body", [part, sub], "优化后虚构服务。完善虚构展示、物流和维修保养。"),
            ("item", ["第二条"], "第二条 下列情形免征测试税："),
            ("item", ["第二条", "（二）"], "（二）虚构情形乙；")]
    paras = _paras(rows)
    for p, lead in ((paras[2], "虚构甲"), (paras[4], "发展共享虚构"), (paras[5], "优化后虚构服务")):
        p.lead = lead
    index = AddressIndex({"d": paras})
    (part3,) = index.find(Address("部分", 3), None)
    (second,) = index.find(Address("节", 2), None, within=part3)  # not the (二) entry of 第二条
    assert second.title == sub and index.find(Address("节", 2), None) == [second]
    assert [q.text for q in quote_scope(second, budget=300, clause=12)] == [sub, "发展共享虚构", "优化后虚构服务"]


def test_a_list_entry_takes_what_its_lead_in_says():
    rows = [("item", ["第一章 测试", "第九条"], "第九条 有下列行为之一的，由虚构局责令改正，处一千元以上五千元以下罚款："),
            ("item", ["第一章 测试", "第九条", "（一）"], "（一）未取得虚构运输证从事经营的；"),
            ("item", ["第一章 测试", "第九条", "（二）"], "（二）擅自转让虚构经营权的。"),
            ("item", ["第一章 测试", "第十条"], "第十条 本条例自2099年1月1日起施行。")]
    paras = _paras(rows)
    p, s = lead_in(paras[2], paras)
    assert p is paras[0] and "一千元以上五千元以下罚款" in s.text
    assert lead_in(paras[0], paras) is None and lead_in(paras[3], paras) is None  # articles are no list entries


def test_a_document_named_by_its_own_key_word():
    docs = dict(DOCS, cars=DocMeta(doc_id="cars", file="cars.md", title="虚构家用汽车产品修理更换退货责任规定"))
    texts = {d: "" for d in docs} | {"cars": "虚构三包责任由销售者承担。" * 6}
    assert named_documents("虚构家用汽车三包规定第五十条规定了什么？", docs, texts) == ["cars"]
    assert named_documents("虚构家用汽车三包规定第五十条规定了什么？", docs) == []  # without the texts: unknown
    assert named_documents("三包规定里谁承担责任？", docs, texts) == []  # too little of the title to name it
    assert named_documents("虚构家用汽车保修规定是什么？", docs, texts) == []  # a word the document never uses
