"""Arithmetic on stated figures, answered from the target table with every operand cited and labelled."""
import pytest

from tests.kb.test_answer import assert_verbatim


@pytest.mark.parametrize("question, expected, operands", [
    ("2025年的新能源汽车产量目标大约是2020年实际产量的多少倍？", "60万辆 ÷ 7.7万辆 ≈ 7.8倍", ["60万辆", "7.7万辆"]),
    ("专栏7四个领域的预计投资加起来是多少？", "300亿元 + 1500亿元 + 360亿元 + 1000亿元 = 3160亿元",
     ["300亿元", "1500亿元", "360亿元", "1000亿元"]),
    ("2025年自用充电桩目标比公共领域充电桩目标多多少个？", "35万个 − 8万个 = 27万个", ["35万个", "8万个"]),
    ("2025年智能公用充电桩目标占公共领域充电桩目标的比例是多少？", "5万个 ÷ 8万个 ≈ 62.5%", ["5万个", "8万个"]),
    ("2025年全省加氢站目标数是嘉善县已建成加氢站数量的多少倍？", "30座 ÷ 2座 ≈ 15倍", ["30座", "2座"]),
])
def test_computed_answers_cite_every_operand(kb, question, expected, operands):
    rec = kb.ask(question)
    assert not rec.refused and expected in rec.answer
    assert len(rec.citations) == len(operands)
    for c, figure in zip(rec.citations, operands):
        assert figure in c.quote
    assert_verbatim(kb, rec)


def test_targets_and_baselines_are_labelled(kb):
    rec = kb.ask("2025年的新能源汽车产量目标大约是2020年实际产量的多少倍？")
    assert "2025年目标：" in rec.answer and "2020年现状：" in rec.answer


def test_a_stated_share_is_read_not_computed(kb):
    rec = kb.ask("2020年浙江新能源汽车产量是多少？占全省汽车产量的比重是多少？")
    assert "7.7万辆" in rec.answer and "6.1%" in rec.answer and "÷" not in rec.answer


def test_a_stated_total_is_read_not_summed(kb):
    rec = kb.ask("这五年浙江新能源汽车重大项目一共要投多少钱？")
    assert "3000亿元" in rec.answer and "+" not in rec.answer


def test_stated_and_unstated_years(kb):
    rec = kb.ask("2025年和2030年全省新能源汽车产量目标分别是多少？")
    assert not rec.refused
    assert "60万辆" in rec.answer and "文件中未找到2030年" in rec.answer


def test_who_issued_the_plan(kb):
    rec = kb.ask("这份规划是由哪个单位印发的？")
    assert "浙江省发展和改革委员会" in rec.answer and rec.citations[0].section == "印发通知"
    assert_verbatim(kb, rec)
