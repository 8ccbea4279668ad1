"""Figures in digits and in words: what counts as a figure, an amount of money, a time limit."""
from __future__ import annotations

import pytest

from kb.core.figures import DURATION, MONEY_AMOUNT, QUANTITY, cn_to_int


@pytest.mark.parametrize("text, found", [
    ("处二万元以上二十万元以下罚款", ["二万元", "二十万元"]),
    ("应当在十五日内办理", ["十五日内"]),
    ("减按百分之七十五征收", ["百分之七十五"]),
    ("到2025年产量达到60万辆", ["60万辆"]),
    ("统一规划，第一条，一是加快", []),
    ("“十四五”期间", []),
])
def test_quantities(text, found):
    assert [m.group() for m in QUANTITY.finditer(text)] == found


def test_money_and_durations():
    assert MONEY_AMOUNT.search("处以二倍以上五倍以下罚款") and MONEY_AMOUNT.search("5万元") and MONEY_AMOUNT.search("二千元")
    assert not MONEY_AMOUNT.search("按照国家规定缴纳")
    assert [m.group() for m in DURATION.finditer("自收到之日起三十日内，5个工作日内，连续两年")] == ["三十日内", "5个工作日内", "两年"]
    assert not DURATION.search("2021年")


def test_chinese_numerals():
    assert [cn_to_int(s) for s in ("一百二十四", "二〇二一", "十", "两", "7", "甲")] == [124, 2021, 10, 2, 7, 0]


def test_figure_values_compare_whatever_the_numerals():
    from kb.core.figures import figure_values

    assert figure_values("提供8年或15万公里的质保") == {(8.0, "年"), (150000.0, "公里")}
    assert figure_values("三包有效期不得低于2年或者行驶里程50,000公里") == {(2.0, "年"), (50000.0, "公里")}
    assert figure_values("自受理之日起十五日内") == figure_values("15天内") == {(15.0, "日")}
    assert figure_values("百分之二十") == figure_values("减按20％的税率") == {(20.0, "%")}
    assert figure_values("处二万元以上二十万元以下罚款") == {(20000.0, "元"), (200000.0, "元")}
    # years and ordinals are no figures of a rule
    assert figure_values("2025年起，二〇三五年前，第三条") == set()
