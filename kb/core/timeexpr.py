"""Time expressions: years, five-year-plan periods ("十四五") and the phrases that date a statement.

One definition of each, shared by the indexer (table extraction), the answerer, the tables and eligibility.
"""
from __future__ import annotations

import re

from kb.core.text import normalize

YEAR_NUMBER = r"(?:19|20)\d{2}"
PERIOD_NAME = r"十[一二三四五六七八九]五"  # 十一五 … 十九五
_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")}

# A year as written in text or questions: "2025年", "2025 年", or a bare "2025".
YEAR = re.compile(rf"({YEAR_NUMBER})\s*年?")
# A year that dates a statement, with what frames it: "到2025年底", "截至2020年", "于2021年前".
YEAR_EXPR = re.compile(rf"(?P<pre>到|至|截至|截止到|截止|于)?(?P<y>{YEAR_NUMBER})年(?P<post>底|末|前)?")
# A period that dates a statement: "“十四五”期间", "十三五末".
PERIOD_EXPR = re.compile(rf"[“\"‘]?(?P<n>{PERIOD_NAME})[”\"’]?(?:期间|时期|期末|末)")
TIME_ONLY = re.compile(rf"^(?:{YEAR_EXPR.pattern}|{PERIOD_EXPR.pattern})$")
# The phrase put before a figure to say which year it is for ("到2025年，"): a year target or a period.
YEAR_PHRASE = re.compile(rf"(?:到|至|在)?20\d{{2}}年|“?{PERIOD_NAME}”?期间")
PERIOD = re.compile(PERIOD_NAME)


def period_years(name: str) -> tuple[int, int]:
    """“十四五” → (2021, 2025): the 11th plan began in 2006 and each plan lasts five years."""
    k = 10 + _CN_DIGIT[name[1]]
    first = 2006 + 5 * (k - 11)
    return first, first + 4


CITED_TITLE = re.compile(r"《[^《》]*》")


def years_in(text: str) -> set[str]:
    """Years a text speaks of, a five-year-plan period standing for its years. A year inside a cited title
    (《…二○三五年远景目标纲要》, 《…（2021—2035年）》) names that document, not a date the text sets."""
    text = CITED_TITLE.sub(" ", text)
    ys = set(YEAR.findall(normalize(text)))
    for name in PERIOD.findall(text):
        first, last = period_years(name)
        ys.update(str(y) for y in range(first, last + 1))
    return ys


def expand_years(text: str) -> str:
    """Colloquial two-digit years ("到25年") written out, so they match the documents' "2025年"."""
    return re.sub(r"(?<=[到至在截])([12]\d)年", r"20\1年", text)
