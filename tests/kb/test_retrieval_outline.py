"""A part of a document (章, a numbered part) as one passage: its heading and its children's first sentences."""
from __future__ import annotations

from indexer.loader import load_document
from indexer.structure import parse
from kb.retrieval.outline import part_paragraphs, part_unit

LAW = """【测试数据】虚构省电动三轮车管理条例

2099年1月1日 虚构省测试人民代表大会常务委员会通过

第一章 总 则

第一条 为了规范虚构省电动三轮车的管理，制定本条例。本条例为虚构的测试数据。

第二条 虚构省测试交通局负责本省电动三轮车的登记工作。

第二章 登记与罚则

第三条 申请登记电动三轮车，应当具备下列条件：
（一）车辆经检验合格；
（二）所有人提供身份证明。

第四条 未登记上路行驶的，由虚构省测试交通局责令改正，处二百元以上二千元以下罚款。逾期不改正的，扣留车辆。

第三章 附 则

第五条 本条例自2099年3月1日起施行。
"""

PLAN = """【测试数据】虚构县换电站试点方案

一、试点目标

到2097年底，全县建成虚构换电站6座。服务出租车不少于300辆。

二、主要任务

（一）站点布局

1．在县城主干道沿线布设换电站4座。

（二）资金保障

1．县财政按每座站30万元安排试点资金。
"""


def paragraphs(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc, _ = load_document(path)
    return doc, parse(doc)


def heading(paras, text):
    return next(p for p in paras if p.kind == "heading" and p.text.replace(" ", "").startswith(text))


def test_a_chapter_is_its_heading_and_its_articles_first_sentences(tmp_path):
    doc, paras = paragraphs(tmp_path, LAW, "law.txt")
    ch2 = heading(paras, "第二章")
    unit = part_unit(paras, ch2)
    assert unit.text.startswith(ch2.text)
    assert "第三条 申请登记电动三轮车，应当具备下列条件：" in unit.text
    assert "第四条 未登记上路行驶的" in unit.text
    assert "逾期不改正" not in unit.text  # only an article's first sentence
    assert "（一）车辆经检验合格" not in unit.text  # the article is named by its opening, not its items
    assert "第五条" not in unit.text and "第二条" not in unit.text  # the chapter ends at the next one
    # its span is the heading's: a citation of it quotes the heading, verbatim
    assert doc.text[unit.start:unit.end] == ch2.text and unit.para_index == ch2.index


def test_a_part_with_sub_parts_lists_their_headings(tmp_path):
    _, paras = paragraphs(tmp_path, PLAN, "plan.txt")
    tasks = heading(paras, "二、主要任务")
    unit = part_unit(paras, tasks)
    assert unit.text == "二、主要任务 （一）站点布局 （二）资金保障"
    assert [p.text for p in part_paragraphs(paras, tasks)][-1].startswith("1．县财政")
    assert part_unit(paras, heading(paras, "一、试点目标")).text == "一、试点目标 到2097年底，全县建成虚构换电站6座。"


def test_only_a_heading_with_text_under_it_is_a_part(tmp_path):
    _, paras = paragraphs(tmp_path, LAW, "law.txt")
    article = next(p for p in paras if p.text.startswith("第四条"))
    assert part_unit(paras, article) is None
    assert len(part_unit(paras, heading(paras, "第一章"), max_chars=40).text) <= 40
