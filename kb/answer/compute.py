"""Arithmetic on stated figures (倍数, 合计, 相差, 占比) from the target table, every operand a cited row."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.core.figures import cn_to_int
from kb.core.text import bigrams
from kb.store.tables import TableStore, Target

RATIO = re.compile(r"多少倍|几倍|的倍数|是.{0,12}的.{0,4}倍")
DIFF = re.compile(r"多多少|少多少|相差多少|差多少|增加多少|增长多少|提高多少|多出多少|差距")
SHARE = re.compile(r"占.{0,30}?(?:比例|比重|百分之|多少|几成)")
SUM = re.compile(r"加起来|合计|一共|总共|总计|共计|加总|之和")
COUNTS_PARTS = re.compile(r"(?:几|多少)(?:条|章|节|部分|项|个方面|方面|类|点|大块)")
PARTS = re.compile(r"[和与及、]")
MONEY = re.compile(r"钱|元|投资|资金|金额")
COUNT_UNITS = {"个", "根"}  # 8万个 and 4万根 count the same things (charging piles) in the plan's own usage
CANDIDATES = 12  # rows considered for the operands


@dataclass
class Computation:
    operands: list[Target]
    expression: str  # e.g. "60万辆 ÷ 7.7万辆 ≈ 7.8倍"


def _compatible(a: Target, b: Target) -> bool:
    if a.value_norm is None or b.value_norm is None or a is b:
        return False
    return a.unit_norm == b.unit_norm or {a.unit_norm, b.unit_norm} <= COUNT_UNITS


def _fmt(x: float) -> str:
    """7.79 → "7.8", 2.0 → "2", 62.5 → "62.5": one decimal at most, no trailing zero."""
    s = f"{x:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _as_written(t: Target) -> str:
    return f"{t.value}{t.unit}"


def _in_unit_of(t: Target, value_norm: float) -> str:
    """A computed amount in the unit the operands are written in (万辆, 亿元, 万个 …)."""
    scale = t.value_norm / float(t.value.replace(",", "")) if t.value_norm else 1.0
    return f"{_fmt(value_norm / scale)}{t.unit}"


class Calculator:
    def __init__(self, store: TableStore):
        self.store = store
        # find_targets_for_question returns fresh objects on each call; key rows by their quote offsets
        self._rows = {(t.doc_id, t.start, t.indicator): t for t in store.targets()}

    def _ranked(self, text: str, docs: frozenset[str] | None = None) -> list[tuple[float, Target]]:
        """Rows matching the question, best first; only amounts of money when it asks about money; only rows of
        the documents a filter allows."""
        out = []
        for s, t in self.store.find_targets_for_question(text, limit=len(self._rows)):
            if (MONEY.search(text) and t.unit_norm != "元") or (docs is not None and t.doc_id not in docs):
                continue
            out.append((s, self._rows.get((t.doc_id, t.start, t.indicator), t)))
        return out[:CANDIDATES]

    def _part_scores(self, text: str) -> dict[tuple, float]:
        """How well each row fits one operand phrase; the scope it names (杭州 vs 全省) counts as much as a word."""
        scores = {(t.doc_id, t.start, t.indicator): s for s, t in self.store.find_targets_for_question(text, limit=200)}
        for key, t in self._rows.items():
            if t.scope and t.scope in text:
                scores[key] = scores.get(key, 0.0) + 2.0
        return scores

    def compute(self, question: str, docs: frozenset[str] | None = None) -> Computation | None:
        q = question
        if RATIO.search(q):
            op = "ratio"
        elif DIFF.search(q):
            op = "diff"
        elif SUM.search(q):
            op = "sum"
        elif SHARE.search(q):
            op = "share"
        else:
            return None
        if op == "sum":
            # "一共有几条/几章/几项" counts parts of a document, it asks for no sum of figures
            if COUNTS_PARTS.search(q) and "多少" not in q:
                return None
            return self._sum(q, docs)
        readings = self._split(q, op)
        if op == "share" and readings:
            base = {(t.doc_id, t.start) for _, t in self.store.find_targets_for_question(readings[0][1], limit=200)}
            if any(t.unit_norm == "%" and "占" in t.quote and (t.doc_id, t.start) in base
                   for _, t in self._ranked(q, docs)):
                return None  # the share is stated ("占全省汽车产量的6.1%"): read it, don't compute it
        pair = next((p for first, second in readings if (p := self._pair(q, first, second, op, docs))), None)
        if pair is None:
            return None
        a, b = pair
        if op == "ratio" and a.value_norm < b.value_norm:
            a, b = b, a  # "几倍" asks how many times the smaller the larger is, however the sentence is turned
        if op == "ratio":
            r = a.value_norm / b.value_norm
            return Computation([a, b], f"{_as_written(a)} ÷ {_as_written(b)} ≈ {_fmt(r)}倍")
        if op == "share":
            r = 100 * a.value_norm / b.value_norm
            return Computation([a, b], f"{_as_written(a)} ÷ {_as_written(b)} ≈ {_fmt(r)}%")
        big, small = (a, b) if a.value_norm >= b.value_norm else (b, a)
        return Computation([big, small], f"{_as_written(big)} − {_as_written(small)} = "
                                         f"{_in_unit_of(big, big.value_norm - small.value_norm)}")

    @staticmethod
    def _split(q: str, op: str) -> list[tuple[str, str]]:
        """Readings of the two operand phrases, most specific first: "A是B的多少倍", "A比B多多少",
        "A占B的比例", "按B算，A占多少", "A与B相比", "A和B相差多少"."""
        out = []
        if op == "share":
            a, _, b = q.partition("占")
            b = re.split(r"的?(?:比例|比重|百分之|多少|几成|多大)", b)[0]
            base = re.search(r"按(.+?)(?:算|计算)", a)
            if not b.strip() and base:
                a, b = a.replace(base.group(0), ""), base.group(1)
            out.append((a, b))
        if op == "ratio" and "是" in q:
            a, _, b = q.rpartition("是")
            out.append((a, re.split(r"的?(?:多少|几)倍", b)[0]))
        m = re.search(r"(.+?)[与和跟同](.+?)相比", q)
        if m:
            out.append((m.group(1), m.group(2)))
        if "比" in q and not m:
            a, _, b = q.partition("比")
            out.append((a, DIFF.split(b)[0]))
        parts = [p for p in PARTS.split(DIFF.split(q)[0]) if p.strip()]
        if len(parts) >= 2:
            out.append((parts[0], parts[1]))
        return [(a, b) for a, b in out if a.strip() and b.strip()]

    def _pair(self, q: str, first: str, second: str, op: str,
              docs: frozenset[str] | None) -> tuple[Target, Target] | None:
        """The two compatible rows that best match each phrase, among the rows that match the whole question."""
        cands = [t for _, t in self._ranked(q, docs)]
        s1, s2 = self._part_scores(first), self._part_scores(second)
        key = lambda t: (t.doc_id, t.start, t.indicator)  # noqa: E731
        best, best_score = None, 0.0
        for a in cands:
            for b in cands:
                if not _compatible(a, b) or (a.value == b.value and a.unit == b.unit):
                    continue
                if op in ("share", "ratio") and a.unit_norm == "%":
                    continue  # a share of percentages means nothing; "占…的比重" of a stated % is read, not computed
                # the two figures of a comparison usually measure the same thing (推广应用 and 推广应用)
                ia, ib = bigrams(a.indicator), bigrams(b.indicator)
                same = len(ia & ib) / max(1, min(len(ia), len(ib)))
                score = s1.get(key(a), 0) + s2.get(key(b), 0) + 6.0 * same
                if s1.get(key(a), 0) and s2.get(key(b), 0) and score > best_score:
                    best, best_score = (a, b), score
        return best

    def _sum(self, q: str, docs: frozenset[str] | None) -> Computation | None:
        """"A和B一共" sums the rows for each part; "四个领域…加起来" sums a group of rows listed together."""
        head = SUM.split(q)[0]
        parts = [p for p in PARTS.split(head) if len(p.strip()) >= 2]
        ranked = self._ranked(q, docs)
        if len(parts) >= 2:
            picked: list[Target] = []
            for p in parts:
                scores = self._part_scores(p)
                options = [t for _, t in ranked if scores.get((t.doc_id, t.start, t.indicator))
                           and t not in picked and (not picked or _compatible(picked[0], t))]
                if options:
                    picked.append(max(options, key=lambda t: scores[(t.doc_id, t.start, t.indicator)]))
            if len(picked) == len(parts):
                return self._total(picked)
        want = re.search(r"([两二三四五六七八九十\d])(?:个|项|类|层级|大)", q)
        stated = next((t for _, t in ranked[:3] if "总" in t.indicator), None)
        if stated and not want:
            return Computation([stated], "")  # the total is stated ("投资总额超3000亿元"): read it, don't compute it
        # A group: rows of one list (one box, or one section) of the same unit, kind and year, each matching the
        # question reasonably, as many as the question says if it says ("四个领域")
        groups: dict[tuple, list[tuple[float, Target]]] = {}
        top = ranked[0][0] if ranked else 0.0
        for s, t in ranked:
            if s < 0.3 * top:
                continue
            path = t.section.split(" > ")
            box = next((i for i, part in enumerate(path) if part.startswith("专栏")), None)
            parent = " > ".join(path[: box + 1]) if box is not None else t.section
            groups.setdefault((parent, t.unit_norm, t.kind, t.year), []).append((s, t))
        n = cn_to_int(want.group(1)) if want else None
        best = None
        for rows in groups.values():
            uniq = list({(t.value, t.indicator): t for _, t in rows}.values())
            if len(uniq) < 2 or (n and len(uniq) != n):
                continue
            score = sum(s for s, _ in rows)
            if best is None or score > best[0]:
                best = (score, uniq)
        return self._total(best[1]) if best else None

    @staticmethod
    def _total(rows: list[Target]) -> Computation | None:
        if any(r.value_norm is None for r in rows) or not all(_compatible(rows[0], r) for r in rows[1:]):
            return None
        if rows[0].unit_norm in ("%", "个百分点"):
            return None  # shares of different wholes do not add up (6.1% of the province's output + 5.3% of the nation's)
        total = sum(r.value_norm for r in rows)
        return Computation(rows, " + ".join(_as_written(r) for r in rows) + f" = {_in_unit_of(rows[0], total)}")
