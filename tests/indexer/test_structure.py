"""The policy structure parser on the real plan and on small fictional test documents."""
from pathlib import Path

import pytest

from indexer.loader import load_corpus
from indexer.structure import parse
from kb.core.figures import cn_to_int
from kb.core.records import DocMeta, Document
from kb.core.text import split_sentences

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan():
    doc = next(d for d in load_corpus(REPO / "corpus") if d.meta.doc_id == "zhejiang-nev-14th-fyp-2021")
    return doc, parse(doc)


def section_of(paras, needle):
    p = next(p for p in paras if needle in p.text)
    return " > ".join(p.section)


def test_offsets_are_exact(plan):
    doc, paras = plan
    for p in paras:
        assert doc.text[p.start:p.end] == p.text
        for s in p.sentences:
            assert doc.text[s.start:s.end] == s.text
        assert "".join(s.text for s in p.sentences).replace(" ", "") == p.text.replace(" ", "")


@pytest.mark.parametrize("needle, path", [
    ("现将《浙江省新能源汽车产业发展“十四五”规划》印发给你们", "印发通知"),
    ("2021年4月8日", "印发通知"),
    ("加快发展新能源汽车产业，是我国有效缓解能源和环境压力", "前言"),
    ("新能源汽车产量力争达到60万辆", "二、总体思路与发展目标 > （三）发展目标"),
    ("2020年，全省新能源汽车产量达7.7万辆", "一、现实基础与发展形势 > （一）现实基础"),
    ("一湾：环杭州湾汽车产业集群", "二、总体思路与发展目标 > （四）总体布局"),
    ("突破整车设计、仿真、标定", "四、实施标志性重大工程 > （一）“三纵三横”研发创新工程 > 专栏1 “三纵三横”核心技术攻关行动"
                          " > 一、整车集成核心技术 > 1．整车架构技术"),
    # numbering runs on across the box's sub-headings: 3． still belongs to 专栏1 under 二、
    ("云端BMS等电池管理技术", "四、实施标志性重大工程 > （一）“三纵三横”研发创新工程 > 专栏1 “三纵三横”核心技术攻关行动"
                         " > 二、关键零部件核心技术 > 3．动力电池与管理技术"),
    ("开发“人—车—路—云”多层数据融合", "四、实施标志性重大工程 > （一）“三纵三横”研发创新工程 > 专栏1 “三纵三横”核心技术攻关行动"
                               " > 三、智慧交通核心技术 > 9．交通基础设施智能化技术"),
    # the box ends at the main text's next heading
    ("引导省内整车企业及大型零部件企业加大开放合作", "四、实施标志性重大工程 > （二）“生态主导”企业培育工程"),
    ("到2025年，建成加氢站30座。", "四、实施标志性重大工程 > （七）“智慧高效”基建补强工程 > 专栏6 基础设施补强行动 > 4．加氢站"),
    ("“十四五”期间投放燃料电池汽车超过3000辆", "四、实施标志性重大工程 > （六）“低碳智能”应用推广工程"
                                 " > 专栏5 杭州湾燃料电池汽车示范应用城市群建设行动"),
    ("万向创新聚能城年产80G瓦时锂电池", "四、实施标志性重大工程 > （八）“百项千亿”项目投资工程 > 专栏7 重大产业项目建设行动"
                             " > 2．动力电池与管理系统领域"),
    ("由省发展改革委牵头", "五、保障措施 > （一）加强组织协同"),
])
def test_heading_paths_of_the_plan(plan, needle, path):
    assert section_of(plan[1], needle) == path


def test_run_in_titles_and_kinds(plan):
    _, paras = plan
    p = next(p for p in paras if p.text.startswith("产业竞争力显著提升。"))
    assert p.lead == "产业竞争力显著提升" and p.kind == "body"
    item = next(p for p in paras if p.text.startswith("4．加氢站。"))
    assert item.kind == "item" and item.lead == "加氢站"
    assert sum(p.kind == "box_title" for p in paras) == 7
    title = [p for p in paras if p.kind == "title"]
    assert [p.text for p in title] == ["浙江省新能源汽车产业发展“十四五”规划"]


def test_articles_and_chapters_of_a_fictional_regulation():
    text = ("某某测试局关于印发测试办法的通知\n测试办法（测试文件，虚构）\n第一章 总则\n"
            "第一条 为规范测试工作，制定本办法。\n第二条 本办法适用于测试。\n第二章 附则\n第三条 本办法自发布之日起施行。\n")
    doc = Document(meta=DocMeta(doc_id="t", file="t.txt", title="测试办法（测试文件，虚构）"), text=text)
    paras = parse(doc)
    got = {p.text: " > ".join(p.section) for p in paras}
    assert got["某某测试局关于印发测试办法的通知"] == "印发通知"
    assert got["第一条 为规范测试工作，制定本办法。"] == "第一章 总则 > 第一条"
    assert got["第三条 本办法自发布之日起施行。"] == "第二章 附则 > 第三条"


def test_no_title_line_means_no_notice():
    doc = Document(meta=DocMeta(doc_id="t", file="t.txt", title="不在正文中的标题"),
                   text="测试文件的开头一段。\n一、第一部分\n正文。\n")
    assert [" > ".join(p.section) for p in parse(doc)] == ["前言", "一、第一部分", "一、第一部分"]


def test_sentences_keep_closing_quotes():
    spans = split_sentences("他说：“好。”然后走了。", 10)
    assert [s.text for s in spans] == ["他说：“好。”", "然后走了。"]
    assert spans[0].start == 10


@pytest.mark.parametrize("s, n", [("一", 1), ("十", 10), ("十四", 14), ("二十", 20), ("二十三", 23), ("7", 7)])
def test_chinese_ordinals(s, n):
    assert cn_to_int(s) == n


def test_word_heading_styles_without_numbers_are_headings():
    """A .docx heading style marks "总则" as a heading although it has no number (fictional text)."""
    text = "【测试数据】虚构办法\n总则\n本办法适用于虚构市。\n一、目标\n到2099年建成10座。\n附则\n本办法自发布之日起施行。"
    at = {line: text.index(line) for line in ("总则", "一、目标", "附则")}
    doc = Document(meta=DocMeta(doc_id="t", file="t.docx", title="【测试数据】虚构办法"), text=text,
                   headings=[(at["总则"], 1), (at["一、目标"], 2), (at["附则"], 1)])
    sections = {p.text: p.section for p in parse(doc)}
    assert sections["本办法适用于虚构市。"] == ["总则"]
    assert sections["到2099年建成10座。"] == ["总则", "一、目标"]
    assert sections["本办法自发布之日起施行。"] == ["附则"]
    plain = {p.text: p.section for p in parse(doc.model_copy(update={"headings": []}))}
    assert plain["本办法自发布之日起施行。"] == ["一、目标"]  # without the styles "附则" is just a line


# A law-shaped 【测试数据】 text: chapters, articles whose lists end in ；/。, a paragraph after the list, and article
# numbers past one hundred.
LAW = """【测试数据】虚构省测试条例
## 第一章 总 则
第一条 为了测试，制定本条例。
第二条 下列情形，暂予免征测试费：
（一）虚构情形甲的；
（二）虚构情形乙，且不超过规定标准的；
（三）其他情形。
前款第三项的规定，由虚构省测试局备案。
## 第二章 附则
第一百二十四条 本条例自2099年1月1日起施行。
"""


def law_paras():
    import tempfile

    from indexer.formats.markdown import read_markdown  # noqa: PLC0415 - the .md reader feeds the parser here

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "law.md"
        path.write_text(LAW, encoding="utf-8")
        ex = read_markdown(path, path.name)
    doc = Document(meta=DocMeta(doc_id="law", file="law.md", title="【测试数据】虚构省测试条例"), text=ex.text,
                   headings=ex.headings)
    return parse(doc)


def test_articles_and_list_entries_are_items_not_headings():
    paras = law_paras()
    kind = {p.text[:3]: p.kind for p in paras}
    assert kind["第二条"] == "item"  # short and ends in "：", still content
    assert kind["（一）"] == kind["（三）"] == "item"
    assert [p.kind for p in paras if p.text.startswith("##")] == []  # Markdown markers are gone
    assert section_of(paras, "第一章") == "第一章 总 则"


def test_list_entries_are_siblings_and_text_after_the_list_returns_to_the_article():
    paras = law_paras()
    assert section_of(paras, "（二）虚构情形乙") == "第一章 总 则 > 第二条 > （二）"
    assert section_of(paras, "前款第三项") == "第一章 总 则 > 第二条"


def test_article_numbers_past_one_hundred():
    assert section_of(law_paras(), "本条例自2099年") == "第二章 附则 > 第一百二十四条"
    assert cn_to_int("一百二十四") == 124 and cn_to_int("二〇二一") == 2021 and cn_to_int("十四") == 14


def _fictional_law(body: str):
    text = "测试条例（测试文件，虚构）\n" + body
    return parse(Document(meta=DocMeta(doc_id="t", file="t.txt", title="测试条例（测试文件，虚构）"), text=text))


def test_chapter_titles_printed_without_their_number_fill_the_gap_in_the_numbering():
    paras = _fictional_law("第一章 总则\n第一条 为测试，制定本条例。\n经营行为\n第二条 虚构经营者应当测试。\n"
                           "质量管理\n第三条 虚构质量应当合格。\n第四章 附则\n第四条 本条例自公布之日起施行。\n")
    got = {p.text: " > ".join(p.section) for p in paras}
    assert got["第二条 虚构经营者应当测试。"] == "第二章 经营行为 > 第二条"
    assert got["第三条 虚构质量应当合格。"] == "第三章 质量管理 > 第三条"
    heading = next(p for p in paras if p.text == "经营行为")
    assert heading.kind == "heading" and heading.section == ["第二章 经营行为"]  # the line's own text is unchanged


def test_a_bare_title_that_does_not_fill_a_gap_is_an_unnumbered_chapter_and_short_body_lines_stay_body():
    paras = _fictional_law("第一章 总则\n第一条 为测试，制定本条例。\n经营行为\n第二条 虚构经营者应当测试。\n"
                           "第二章 附则\n第三条 虚构的内容。\n特此说明\n")
    got = {p.text: (p.kind, " > ".join(p.section)) for p in paras}
    assert got["第二条 虚构经营者应当测试。"] == ("item", "经营行为 > 第二条")  # no gap: no number is made up
    assert got["特此说明"][0] == "body"  # not followed by an article
    assert [p.kind for p in _fictional_law("一、总体要求\n经营行为\n（一）虚构内容。\n")] == ["title", "heading", "body", "item"]
