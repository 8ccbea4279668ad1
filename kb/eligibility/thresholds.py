"""Numeric conditions: the thresholds a clause sets (从业人数不超过300人, 应纳税所得额不超过三百万元, 浓度值低于…排放标准
百分之三十) against the figures a profile states in its own words (六十来个人, 一年应纳税所得额两百多万, 排放浓度只有排放标准
的四成左右): met, unmet, or unknown when the profile is silent or its figure straddles the threshold.

Numbers are read with the figures module (its digits, Chinese numerals and units); what is measured comes from
kb/data/measures.json.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from kb.core.figures import CN_DIGITS, NUM, UNITS, cn_to_int
from kb.core.settings import DATA_DIR

MEASURES_FILE = DATA_DIR / "measures.json"
Op = Literal["<=", "<", ">=", ">"]
Status = Literal["met", "unmet", "unknown"]


@dataclass(frozen=True)
class Measure:
    id: str
    unit: str  # 元, 人 or %: what figures are compared in
    terms: tuple[str, ...]
    count_words: tuple[str, ...] = ()  # units that alone make a profile's figure this measure (300人)
    below_standard: bool = False  # a share of a standard, which clauses state as how far below it


@dataclass(frozen=True)
class Amount:
    """A figure as a closed interval in its measure's unit (exact: lo == hi; "两百多万": 2e6…3e6)."""

    lo: float
    hi: float
    text: str  # verbatim


@dataclass(frozen=True)
class Threshold:
    measure: str
    op: Op
    value: float
    text: str  # verbatim from the clause, measure to figure: "从业人数不超过300人"


@lru_cache(maxsize=2)
def load_measures(path: str | Path = MEASURES_FILE) -> tuple[Measure, ...]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))["measures"]
    return tuple(Measure(id=m["id"], unit=m["unit"], terms=tuple(m["terms"]),
                         count_words=tuple(m.get("count_words", ())),
                         below_standard=bool(m.get("below_standard"))) for m in raw)


# ---------------------------------------------------------------- reading one figure

_NUMBER = rf"(?:{NUM}|[{CN_DIGITS}几]+)"
# A figure as texts and people write it: 300万元, 5000万元, 百分之三十, 四成, 两百多万, 一千多名, 六十来个人, 几十亿, 约80人.
FIGURE = re.compile(
    rf"(?P<pre>大约|约|近|将近|不到|不足|超过)?"
    rf"(?:百分之(?P<pct>{_NUMBER})|(?P<num>{_NUMBER})(?P<approx>多|余|来)?"
    rf"(?P<unit>万亿元|亿元|万元|千元|元|万亿|亿|万|千|%|％|成|个人|人|名)?(?P<more>多|余)?)"
    rf"(?P<post>左右|上下|以上|以下|以内)?")
_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3}


def _number(s: str) -> tuple[float, float] | None:
    """A number in digits or Chinese numerals as an interval: "几十" is 20…90, "十几" 12…19."""
    if "几" in s:
        lo, hi = _number(s.replace("几", "二")), _number(s.replace("几", "九"))
        return (lo[0], hi[1]) if lo and hi else None
    if re.fullmatch(NUM, s):
        v = float(s.replace(",", ""))
        return v, v
    head = s.rstrip("万亿")  # cn_to_int reads 两百万 as well, but the scale is applied once, below
    scale = _SCALE.get(s[len(head):], 1.0) if s != head else 1.0
    v = cn_to_int(head) if head else 0
    return (v * scale, v * scale) if v else None


def _step(v: float) -> float:
    """The place of a round number's last non-zero digit: 两百多 is 200 to 300, 一千多 1000 to 2000."""
    if v <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(v))
    while step > 1 and v % step:
        step /= 10
    return step


def read_amount(m: re.Match, unit: str) -> Amount | None:
    """A FIGURE match in `unit` (元, 人, %), or None when its own unit says it is something else."""
    text = m.group(0)
    if m.group("pct"):
        n = _number(m.group("pct"))
        if not n or unit != "%":
            return None
        lo, hi = n
    else:
        n = _number(m.group("num"))
        if not n:
            return None
        lo, hi = n
        u = m.group("unit") or ""
        if u in ("%", "％", "成"):
            if unit != "%":
                return None
            lo, hi = (lo * 10, hi * 10) if u == "成" else (lo, hi)
            if m.group("approx") or m.group("more"):
                hi += 10 if u == "成" else _step(hi)
        elif u in ("个人", "人", "名"):
            if unit != "人":
                return None
        elif unit in ("%", "人"):
            return None  # 300万元 is no headcount
        if u not in ("%", "％", "成"):
            if m.group("approx") in ("多", "余") or m.group("more"):
                hi += _step(hi)  # 两百多 → 200 … 300 (the scale applies after: 两百多万)
            base = u.removesuffix("元")
            scale = UNITS[u][1] if u in UNITS and UNITS[u][2] == "元" else _SCALE.get(base, 1.0)
            lo, hi = lo * scale, hi * scale
    if m.group("approx") == "来" or m.group("post") in ("左右", "上下") or m.group("pre") in ("约", "大约", "近", "将近"):
        lo, hi = lo * 0.9, hi * 1.1
    if m.group("pre") in ("不到", "不足"):
        lo = 0.0
    if m.group("pre") == "超过" or m.group("post") == "以上":
        hi = math.inf
    if m.group("post") in ("以下", "以内"):
        lo = 0.0
    return Amount(lo, hi, text)


# ---------------------------------------------------------------- a clause's thresholds

# How a law states a limit (以上、以下、以内 include the figure; 超过、低于、不足 do not).
AT_MOST = ("不超过", "不高于", "不多于", "不大于", "以下", "以内")
BELOW = ("低于", "少于", "不足", "不满", "未达到")
AT_LEAST = ("不低于", "不少于", "不小于", "达到", "以上")
ABOVE = ("超过", "高于", "多于", "大于")
_CMP = "|".join(sorted(AT_MOST + BELOW + AT_LEAST + ABOVE, key=len, reverse=True))
# From the measure to its figure inside one clause part ("从业人数不超过300人、资产总额不超过5000万元" has two).
_SPAN = r"[^，。；、：]{0,30}?"


_WITH_CMP = re.compile(rf"{_SPAN}(?P<cmp>{_CMP}){_SPAN}(?P<fig>{FIGURE.pattern})")
_FIGURE_ONLY = re.compile(rf"{_SPAN}(?P<cmp>)(?P<fig>{FIGURE.pattern})")


def _op(word: str) -> Op:
    return ("<=" if word in AT_MOST else "<" if word in BELOW else ">=" if word in AT_LEAST else ">")


def thresholds(text: str, measures: tuple[Measure, ...] | None = None) -> list[Threshold]:
    """The thresholds `text` sets on the measures it names, each with its verbatim phrase."""
    out: list[Threshold] = []
    for ms in measures or load_measures():
        for term in ms.terms:
            for t in re.finditer(re.escape(term), text):
                found = _threshold_after(text, t.start(), t.end(), ms)
                if found and not any(found.text in o.text or o.text in found.text for o in out):
                    out.append(found)
    return out


def _threshold_after(text: str, start: int, end: int, ms: Measure) -> Threshold | None:
    m = _WITH_CMP.match(text, end) or _FIGURE_ONLY.match(text, end)
    if not m:
        return None
    fig = FIGURE.fullmatch(m.group("fig"))
    if not fig or not (fig.group("pct") or fig.group("unit")):
        return None  # a bare numeral ("一定比例") is no figure
    amount = read_amount(fig, ms.unit)
    if amount is None:
        return None
    in_term = re.search(_CMP, text[start:end])  # "浓度值低于…": the comparison is part of the measure's words
    word = m.group("cmp") or fig.group("post") or (in_term.group(0) if in_term else "")
    if not word:
        return None  # a figure without a limit ("应纳税所得额乘以适用税率") sets no threshold
    if fig.group("post") in ("以上", "以下", "以内"):
        word = fig.group("post")
    value = amount.lo if amount.lo > 0 else amount.hi
    op = _op(word)
    if ms.below_standard:  # "低于…排放标准百分之三十": a share of the standard under 70%
        if word not in BELOW or "标准" not in m.group(0):
            return None
        value, op = 100.0 - value, "<"
    return Threshold(ms.id, op, value, text[start:m.end()])


# ---------------------------------------------------------------- a profile's figures

def profile_figures(text: str, measures: tuple[Measure, ...] | None = None) -> dict[str, Amount]:
    """Measure id -> the figure the profile's text states for it: after the measure's word ("应纳税所得额两百多万"),
    or with the measure's own count word ("六十来个人的小公司", "一千多名职工"); a share of a standard as the text
    puts it ("只有排放标准的四成左右", "比排放标准低六成")."""
    out: dict[str, Amount] = {}
    for ms in measures or load_measures():
        if ms.below_standard:
            a = _share_of_standard(text, ms)
            if a:
                out[ms.id] = a
            continue
        for term in ms.terms:
            i = text.find(term)
            if i < 0:
                continue
            m = re.compile(rf"[^，。；]{{0,6}}?({FIGURE.pattern})").match(text, i + len(term))
            a = read_amount(FIGURE.fullmatch(m.group(1)), ms.unit) if m else None
            if a:
                out[ms.id] = a
                break
        if ms.id not in out and ms.count_words:
            for m in FIGURE.finditer(text):
                if m.group("num") and (m.group("unit") or "") in ms.count_words + ("个人",):
                    a = read_amount(m, ms.unit)
                    if a:
                        out[ms.id] = a
                        break
    return out


def _share_of_standard(text: str, ms: Measure) -> Amount | None:
    if not any(t in text for t in ms.terms):
        return None
    m = re.search(rf"标准的?({FIGURE.pattern})", text)
    if m:
        return read_amount(FIGURE.fullmatch(m.group(1)), ms.unit)
    m = re.search(rf"低于[^，。；]{{0,12}}标准({FIGURE.pattern})", text)
    if m:
        a = read_amount(FIGURE.fullmatch(m.group(1)), ms.unit)
        return Amount(max(0.0, 100 - a.hi), 100 - a.lo, m.group(0)) if a else None
    return None


# ---------------------------------------------------------------- comparing

def compare(t: Threshold, a: Amount) -> Status:
    """met when the whole of the profile's figure satisfies the threshold, unmet when none of it does."""
    ok = {"<=": lambda x: x <= t.value, "<": lambda x: x < t.value,
          ">=": lambda x: x >= t.value, ">": lambda x: x > t.value}[t.op]
    lo_ok, hi_ok = ok(a.lo), ok(a.hi)
    if lo_ok and hi_ok:
        return "met"
    if not lo_ok and not hi_ok and not (a.lo < t.value < a.hi):
        return "unmet"
    return "unknown"


def describe(t: Threshold, a: Amount | None, unit: str) -> str:
    """The basis shown with a numeric condition, in Chinese."""
    if a is None:
        return f"档案未说明{t.measure}，无法判断"
    return f"档案所述“{a.text}”（约{_fmt(a.lo, unit)}至{_fmt(a.hi, unit)}），条款要求{_OP_CN[t.op]}{_fmt(t.value, unit)}"


_OP_CN = {"<=": "不超过", "<": "低于", ">=": "不低于", ">": "超过"}


def _fmt(v: float, unit: str) -> str:
    if math.isinf(v):
        return "以上"
    if unit == "元" and v >= 1e8:
        return f"{v / 1e8:g}亿元"
    if unit == "元" and v >= 1e4:
        return f"{v / 1e4:g}万元"
    return f"{v:g}{unit}"
