"""Figures: numbers with their units as policy texts write them, Chinese numerals, money amounts.

One definition of "a figure with a unit", shared by the table extractor, the answerer and eligibility.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Units as policy texts write them, with (category, multiplier, base unit) for normalisation.
# "count" units count things (the counted noun may follow: 19个省级重点企业研究院); "spec" units are
# physical quantities, which directly before a noun are a product specification (98MPa高压储氢罐), not a figure.
_COUNT = "辆 台 套 件 个 家 座 根 项 条 所 处 名 人 户 款 艘 架 张 吨 亩".split()
_SPEC = ("千瓦时/百公里 kW/L kWh MWh GWh G瓦时 千瓦时 瓦时 万千瓦 千瓦 兆瓦 kW MW GW MPa 公里 千米 "
         "平方米 万平方米 立方米").split()
UNITS: dict[str, tuple[str, float, str]] = {}
for _u in _COUNT:
    UNITS[_u] = ("count", 1, _u)
    UNITS["万" + _u] = ("count", 1e4, _u)
for _u in _SPEC:
    UNITS.setdefault(_u, ("spec", 1, _u))
UNITS.update({"万亿元": ("money", 1e12, "元"), "亿元": ("money", 1e8, "元"), "万元": ("money", 1e4, "元"),
              "元": ("money", 1, "元"), "%": ("percent", 1, "%"), "％": ("percent", 1, "%"),
              "个百分点": ("percent", 1, "个百分点")})
UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
FIGURE = re.compile(
    # Not after a digit, letter or 第: that keeps G60, L2, 5G, V2X and ordinals (第5条) out.
    rf"(?<![\d.,A-Za-z第])(?P<value>{NUM}(?:\s*[-－~～—]\s*{NUM})?)(?P<approx>多|余)?\s?"
    # 个月/个工作日 are durations and 年 is no unit at all, so dates and time limits never become figures.
    rf"(?P<unit>{UNIT_ALT})(?!月|工作日|小时)(?P<suffix>以上|以下|左右|以内|上下)?"
)
# Numbers as laws write them in words: 二万元以上二十万元以下, 十五日内, 百分之三十, 两倍, 五年.
CN_DIGITS = "零〇○一二两三四五六七八九十百千万亿"  # ○ (U+25CB) is written for zero in years: 二○三五年
CN_NUMBER = rf"(?<![第{CN_DIGITS}])[{CN_DIGITS}]+(?:点[{CN_DIGITS}]+)?"
# A time span: 十五日, 三十日内, 5个工作日, 六个月, 两年 (not a date: 2021年 is a year, see kb.core.timeexpr).
# A year count in words is one or two digits (五年, 两年, 三十年); 二○三五年 is a year, not a span.
_CN_YEARS = "(?<![零〇○一二两三四五六七八九十百千])(?:[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])年"
# A span of years, or of months (a question asking "几年" is answered by "六个月" too, not by "三十日内").
YEAR_SPAN = re.compile(rf"(?:{_CN_YEARS}|(?<![\d.])\d{{1,2}}\s*年(?!\d))|(?:{CN_NUMBER}|(?<![\d.])\d{{1,3}})\s*个月")
DURATION = re.compile(rf"(?:{CN_NUMBER}|(?<![\d.])\d{{1,3}})\s*(?:个)?(?:工作日|日|天|小时|个月|月|周)(?:内|以内|之内)?"
                      rf"|(?:{_CN_YEARS}|(?<![\d.])\d{{1,2}}\s*年(?!\d))(?:内|以内|之内)?")
_QTY_UNITS = "辆|元|座|个|家|项|台|套|根|吨|件|千瓦时|瓦时|GWh|kW|MPa|倍|条|种|人|名|次|公里|千米|米|周岁|岁"
# A number with a unit, loosely: what an answer to "多少…" must contain (digits or words, or a percentage).
QUANTITY = re.compile(rf"\d+(?:\.\d+)?\s*(?:%|％|[万亿千百]?(?:{_QTY_UNITS}))"
                      rf"|百分之[{CN_DIGITS}]+(?:点[{CN_DIGITS}]+)?|{CN_NUMBER}(?:{_QTY_UNITS})|{DURATION.pattern}")
# An amount of money: 5000元, 1.5亿元, 二万元以上二十万元以下, or a multiple of a base (一倍以上五倍以下罚款).
MONEY_AMOUNT = re.compile(rf"\d[\d.,]*\s*(?:万亿|亿|万|千)?元|{CN_NUMBER}元|(?:{CN_NUMBER}|\d+)倍")


@lru_cache(maxsize=4096)
def cn_to_int(s: str) -> int:
    """A Chinese or Arabic ordinal or count as an integer: '十四' → 14, '一百二十四' → 124, '二〇二一' → 2021, '7' → 7.
    Unreadable input gives 0 (a heading ordinal that cannot be read orders first rather than failing)."""
    s = s.strip()
    if s.isdigit():
        return int(s)
    import cn2an  # a kept library for Chinese numerals; imported on first use (it costs ~0.3 s)

    try:
        return int(cn2an.cn2an(s.replace("○", "〇"), "smart"))
    except (ValueError, KeyError):
        return 0


# A figure a sentence states, for comparing two texts' figures whatever numerals they use: 15万公里 = 150,000公里,
# 八年 = 8年, 百分之二十 = 20%. Units are those a claim about a rule states (spans, distances, money, shares, counts).
_VALUE_UNITS = {"年": "年", "个月": "月", "月": "月", "日": "日", "天": "日", "公里": "公里", "千米": "公里", "米": "米",
                "元": "元", "%": "%", "％": "%", "辆": "辆", "吨": "吨", "倍": "倍", "人": "人", "家": "家", "座": "座"}
_VALUE = re.compile(rf"(?<![\d.第])(\d+(?:,\d{{3}})*(?:\.\d+)?|[{CN_DIGITS}]+)\s*([万亿])?\s*"
                    rf"({'|'.join(sorted(_VALUE_UNITS, key=len, reverse=True))})")
_SHARE = re.compile(rf"百分之([{CN_DIGITS}]+)")


def figure_values(text: str) -> set[tuple[float, str]]:
    """(value, unit) of each figure the text writes, in digits or Chinese numerals (not dates: 2025年 is a year)."""
    out: set[tuple[float, str]] = set()
    for m in _VALUE.finditer(text):
        number, scale, unit = m.groups()
        value = float(number.replace(",", "")) if number[0].isdigit() else float(cn_to_int(number))
        if value and not (unit == "年" and value >= 1000):  # 2025年, 二〇二五年: a year, not a span of years
            out.add((value * {"万": 1e4, "亿": 1e8}.get(scale or "", 1), _VALUE_UNITS[unit]))
    out |= {(float(cn_to_int(m.group(1))), "%") for m in _SHARE.finditer(text)}
    return out
