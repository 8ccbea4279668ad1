"""Extracts targets (指标), projects (重大项目) and responsibilities (责任分工) from a parsed policy document."""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kb.core.figures import FIGURE, NUM, UNIT_ALT, UNITS
from kb.core.records import Document, Paragraph
from kb.core.timeexpr import PERIOD_EXPR, TIME_ONLY, YEAR_EXPR, period_years
from kb.store.tables import Project, Responsibility, Tables, Target

# ====================================================================== figures: a number followed by a unit

# Qualifiers written right before the number, longest first (stripped repeatedly from the end of the clause).
PRE_QUALIFIERS = sorted(
    "力争达到 力争超过 力争突破 有望突破 有望达到 有望超过 预计达到 预计超过 达到 超过 突破 不低于 不少于 不高于 "
    "不超过 低于 高于 优于 少于 多于 大于 小于 至少 达 超 近 约 逾 为 累计 力争 预计 有望 共有 共计 合计 总计".split(),
    key=len, reverse=True)
# Qualifiers that open a clause (累计推广应用超过42万辆 → 累计…超过).
LEAD_QUALIFIERS = ("累计", "共计", "合计", "总计", "力争", "预计", "有望", "共有")
# Verbs and adverbs that open a clause before the measured thing (培育生态主导型企业10家 → 生态主导型企业).
LEAD_VERBS = sorted(
    "培育形成 组织实施 投入运营 累计建成 已建成 建成 培育 形成 实施 投放 建设 打造 引进 实现 完成 开通 "
    "拥有 新建 已 逐批 逐步 进一步".split(), key=len, reverse=True)
CONNECTORS = ("其中", "同时", "并且", "此外", "另外", "以及", "并", "和", "及")
TRAILING_VERBS = ("实现", "建成", "达")
SCOPE_WORDS = re.compile(r"^(全省|全市|全县|全区|全国|我国|我省|我市|本省|本市|全球)")
# Words jieba tags as places that name no particular place (以及城市公交…).
GENERIC_PLACES = {"城市", "城乡", "农村", "地区", "区域", "国家", "地方", "国内", "国际", "海外", "境外", "省内", "市内"}

HARD_BOUNDARY = set("，,；;。！？!?：:")
OPEN, CLOSE = "（(", "）)"

# ====================================================================== time expressions

FORECAST_WORDS = re.compile(r"有望|预测|预期|估计|预计将")
BASELINE_SECTION = re.compile(r"现实基础|发展基础|发展现状|现状|工作回顾|主要成效|发展成效|基本情况")
BASELINE_OPENERS = re.compile(r"^(?:已|目前|现有|截至|截止)")


@dataclass
class TimeExpr:
    start: int  # offsets relative to the paragraph text
    end: int
    text: str  # as stored in Target.year: "2025" or "“十四五”期间"
    first: int  # first and last calendar year it covers
    last: int
    setting: bool  # 到2025年 / “十四五”期间: frames a goal, so it may govern the sentences that follow


def _time_exprs(text: str, titles: list[tuple[int, int]]) -> list[TimeExpr]:
    """Years and five-year-plan periods that date a statement; dates, ranges, base years and titles are not."""
    out = []
    for m in YEAR_EXPR.finditer(text):
        a, b = m.start(), m.end()
        before, after = text[max(0, a - 2):a], text[b:b + 3]
        if re.match(r"\d{1,2}月", after):  # 2021年4月8日: a date
            continue
        if re.search(r"[比较]$", before):  # 同比2020年降低30%: a base year, not the target year
            continue
        if re.search(r"[-－—~～]$", text[max(0, m.start("y") - 1):m.start("y")]) or \
                re.match(r"[-－—~～]", text[m.start("y") + 4:m.start("y") + 5]):
            continue  # 2021—2035年: a range in a title
        if _inside(a, titles):
            continue
        y = int(m.group("y"))
        out.append(TimeExpr(a, b, m.group("y"), y, y, setting=bool(m.group("pre") and m.group("pre") in "到至")))
    for m in PERIOD_EXPR.finditer(text):
        if _inside(m.start(), titles):
            continue
        first, last = period_years(m.group("n"))
        out.append(TimeExpr(m.start(), m.end(), m.group(0), first, last, setting=True))
    return sorted(out, key=lambda t: t.start)


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _title_spans(text: str) -> list[tuple[int, int]]:
    """《…》 spans: numbers and years inside a cited title belong to the title."""
    return [(m.start(), m.end()) for m in re.finditer(r"《[^》]*》", text)]


# ====================================================================== clause segmentation

def _match_paren(s: str, i: int, step: int) -> int:
    """Index of the bracket matching s[i] (step +1 for an opening one, -1 for a closing one), or -1."""
    depth, j = 0, i
    while 0 <= j < len(s):
        if s[j] in OPEN:
            depth += step
        elif s[j] in CLOSE:
            depth -= step
        if depth == 0:
            return j
        j += step
    return -1


def _has_figure(spans: list[tuple[int, int]], a: int, b: int) -> bool:
    return any(a <= s < b for s, _ in spans)


def _clause_bounds(s: str, a: int, b: int, figs: list[tuple[int, int]]) -> tuple[int, int]:
    """The clause of s around the figure s[a:b].

    Commas, semicolons and colons end a clause. A 、 ends it only where it separates figures
    (建成综合供能服务站800座以上、公共领域充电桩8万个以上), not inside a noun list
    (“单项冠军”、“隐形冠军”和专精特新“小巨人”企业100家). A parenthesis is its own clause when it states a
    figure (（其中智能公用充电桩5万个以上）) and is part of the words otherwise (加油（气）站).
    """
    def seg_start(i: int) -> int:  # start of the 、-segment ending just before i
        while i > 0 and s[i - 1] not in HARD_BOUNDARY and s[i - 1] not in "、" + OPEN + CLOSE:
            i -= 1
        return i

    def seg_end(i: int) -> int:  # end of the 、-segment starting at i
        while i < len(s) and s[i] not in HARD_BOUNDARY and s[i] not in "、" + OPEN + CLOSE:
            i += 1
        return i

    start, i = 0, a - 1
    while i >= 0:
        c = s[i]
        if c in HARD_BOUNDARY or c in OPEN:
            start = i + 1
            break
        if c in CLOSE:
            j = _match_paren(s, i, -1)
            if j < 0 or _has_figure(figs, j, i):
                start = i + 1
                break
            i = j - 1
            continue
        if c == "、" and _has_figure(figs, seg_start(i), i):
            start = i + 1
            break
        i -= 1
    end, i = len(s), b
    while i < len(s):
        c = s[i]
        if c in HARD_BOUNDARY or c in CLOSE:
            end = i
            break
        if c in OPEN:
            j = _match_paren(s, i, 1)
            if j < 0 or _has_figure(figs, i, j):
                end = i
                break
            i = j + 1
            continue
        if c == "、" and _has_figure(figs, i + 1, seg_end(i + 1)):
            end = i
            break
        i += 1
    return start, end


def _clause_starts(s: str, upto: int) -> list[int]:
    """Start offsets of the comma-separated clauses of s before position `upto`, nearest first."""
    starts = [0] + [i + 1 for i, c in enumerate(s[:upto]) if c in HARD_BOUNDARY]
    return sorted({x for x in starts if x < upto}, reverse=True)


# ====================================================================== scope (whose figure)

ORG_SUFFIX = r"(?:集团|公司|股份|实验室|大学|研究院|协会|联盟)"
SUPPORTED_ORG = re.compile(rf"^(?:重点|大力|积极)?(?:支持|推动|鼓励)([\u4e00-\u9fffA-Za-z0-9]{{2,10}}?{ORG_SUFFIX})")


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, str]:
    """jieba's dictionary as word → POS tag (ns place, nt organisation, nr/nrt/nz names, n noun …).

    Only the tags are needed, at a few positions (the first word of a clause or of a list item), so the
    dictionary file is read directly: about 0.3 s, where initialising jieba.posseg takes several times that.
    """
    spec = importlib.util.find_spec("jieba")
    if not spec or not spec.origin:
        return {}
    text = (Path(spec.origin).parent / "dict.txt").read_text(encoding="utf-8")
    return dict(re.findall(r"^(\S{2,6}) \d+ (\w+)$", text, re.M))


def _prefix_word(text: str, tags: set[str] | None = None) -> str:
    """The longest dictionary word (2–6 characters) that `text` starts with, optionally only with one of `tags`."""
    lex = _lexicon()
    for n in range(min(6, len(text)), 1, -1):
        tag = lex.get(text[:n])
        if tag and (tags is None or tag in tags):
            return text[:n]
    return ""


def _strip_time(s: str) -> str:
    m = YEAR_EXPR.match(s) or PERIOD_EXPR.match(s)
    return s[m.end():].lstrip("，, ") if m else s


def _clause_scope(clause: str) -> str:
    """The place, level or organisation a clause opens with: 全省…, 杭州…, 嘉善县…, 支持吉利汽车集团…"""
    c = _strip_time(clause)
    for w in CONNECTORS:
        if c.startswith(w):
            c = c[len(w):]
            break
    m = SCOPE_WORDS.match(c)
    if m:
        return m.group(1)
    m = SUPPORTED_ORG.match(c)
    if m:
        return m.group(1)
    # A place or organisation word (jieba's ns/nt/nrt) at the very start of the clause, where the subject stands.
    w = _prefix_word(c, {"ns", "nt", "nrt"})
    return w if w and len(c) > len(w) and w not in GENERIC_PLACES else ""


# ====================================================================== targets

@dataclass
class _Context:
    doc: Document
    doc_year: int | None
    default_scope: str
    section_frames: dict[tuple[str, ...], TimeExpr] = field(default_factory=dict)


def _doc_year(doc: Document, paragraphs: list[Paragraph]) -> int | None:
    if re.match(r"\d{4}", doc.meta.date or ""):
        return int(doc.meta.date[:4])
    for p in paragraphs:  # the signature date of the issuing notice
        m = re.fullmatch(r"((?:19|20)\d{2})年\d{1,2}月\d{1,2}日", p.text.strip())
        if m:
            return int(m.group(1))
    return None


def _default_scope(doc: Document) -> str:
    level = doc.meta.level or ""
    for key, scope in (("省", "全省"), ("市", "全市"), ("县", "全县"), ("国", "全国")):
        if key in level:
            return scope
    return ""


def _strip_lead_words(s: str, pos: int, quals: list[tuple[int, str]], may_empty: bool) -> tuple[str, int, str]:
    """Remove time, connectors, scope, leading qualifiers and verbs from the start of a clause's words.

    Returns the rest, its offset, and the scope found. Qualifiers removed are recorded in `quals`.
    Unless the counted noun follows the figure (`may_empty`: 培育10家生态主导型企业), words are removed only
    while something remains, so 推广应用 stays when it is all there is.
    """
    scope = ""
    changed = True
    while changed and s:
        changed = False
        m = YEAR_EXPR.match(s) or PERIOD_EXPR.match(s)
        if m:
            s, pos, changed = s[m.end():], pos + m.end(), True
            continue
        m = SCOPE_WORDS.match(s)
        if m:
            scope = scope or m.group(1)
            s, pos, changed = s[m.end():], pos + m.end(), True
            continue
        for group, record in ((CONNECTORS, False), (LEAD_QUALIFIERS, True), (LEAD_VERBS, False)):
            w = next((w for w in group if s.startswith(w) and (may_empty or len(s) > len(w))), None)
            if w:
                if record:
                    quals.append((pos, w))
                s, pos, changed = s[len(w):], pos + len(w), True
                break
    return s, pos, scope


def _indicator_parts(s: str, start: int, a: int, b_end: int, end: int, unit_cat: str,
                     quals: list[tuple[int, str]]) -> tuple[str, str, str]:
    """(words before the figure, words after it, scope) of the clause s[start:end], qualifiers recorded."""
    after = s[b_end:end].strip()
    if unit_cat == "count":
        # 7家省级制造业创新中心等新能源汽车产业创新载体: the counted thing is the example before 等.
        after = re.split(r"等(?=.)", after, maxsplit=1)[0]
    before, bpos, scope = _strip_lead_words(s[start:a], start, quals, may_empty=bool(after) and unit_cat == "count")
    # Qualifiers right before the number: 力争达到, 优于, 超, 近 …
    changed = True
    while changed:
        changed = False
        for q in PRE_QUALIFIERS:
            if before.endswith(q) and len(before) >= len(q):
                quals.append((bpos + len(before) - len(q), q))
                before, changed = before[: -len(q)], True
                break
    before = before.rstrip("的")
    for v in TRAILING_VERBS:
        if before.endswith(v) and len(before) > len(v):
            before = before[: -len(v)]
    return before.strip(), after, scope


def _join_qualifiers(quals: list[tuple[int, str]]) -> str:
    """Qualifiers in text order; adjacent ones joined directly, separated ones with …"""
    out, last_end = "", None
    for pos, q in sorted(set(quals)):
        if last_end is not None:
            out += "" if pos == last_end else "…"
        out += q
        last_end = pos + len(q)
    return out


def _normalise(value: str, unit: str) -> tuple[float | None, str]:
    cat, mult, base = UNITS[unit]
    if re.search(r"[-－~～—]", value):
        return None, base  # a range has no single value
    v = float(value.replace(",", "")) * mult
    return (int(v) if v.is_integer() else round(v, 6)), base


def _kind(clause: str, year: TimeExpr | None, section: list[str], doc_year: int | None) -> str:
    if FORECAST_WORDS.search(clause):
        return "forecast"
    in_base_section = any(BASELINE_SECTION.search(h) for h in section)
    if year and doc_year:
        if year.last < doc_year:
            return "baseline"
        return "forecast" if in_base_section else "target"
    if in_base_section or BASELINE_OPENERS.match(_strip_time(clause)):
        return "baseline"
    return "target"


def _section_frame(ctx: _Context, section: list[str]) -> TimeExpr | None:
    for n in range(len(section), 0, -1):
        frame = ctx.section_frames.get(tuple(section[:n]))
        if frame:
            return frame
    return None


def _indicator(s: str, m: re.Match, start: int, end: int, cat: str, quals: list[tuple[int, str]],
               previous: list[tuple[Target, bool]]) -> tuple[str, str, bool]:
    """(indicator, scope said in the clause, whether it is a share 占…) of the figure m in clause s[start:end]."""
    before, after, scope = _indicator_parts(s, start, m.start("value"), m.end(), end, cat, quals)
    if cat == "count" and after:
        indicator = before + after  # 已建成19个省级重点企业研究院 → 省级重点企业研究院
    elif cat == "percent" and after and before:
        indicator = before + after  # 主城区公交车实现100%清洁能源化
    else:
        indicator = before or after
    is_share = indicator.startswith("占")
    if previous and previous[-1][1] and not is_share and s[start - 1:start] == "、":
        # 占全省汽车产量的6.1%、全国新能源汽车产量的5.3%: 占 carries over to the next figure, and so does the
        # subject's scope; 全国 here names what the share is of, so it stays in the indicator.
        raw = s[start:m.start("value")]
        for q in PRE_QUALIFIERS:
            raw = raw[: -len(q)] if raw.endswith(q) and len(raw) > len(q) else raw
        indicator, is_share, scope = "占" + raw.rstrip("的"), True, previous[-1][0].scope
    if is_share:  # a share of the subject measured just before: 新能源汽车产量 + 占全省汽车产量
        indicator = next((t.indicator for t, share in reversed(previous) if not share), "") + indicator
    return indicator, scope, is_share


def _quote_start(s: str, start: int) -> int:
    """Start the quote at a bare time clause just before the figure's clause (到2025年，培育10家…)."""
    if start == 0 or s[start - 1] not in "，,":
        return start
    k = max((i + 1 for i, c in enumerate(s[: start - 1]) if c in HARD_BOUNDARY), default=0)
    return k if TIME_ONLY.match(s[k:start - 1].strip()) else start


def _paragraph_targets(ctx: _Context, p: Paragraph, masks: list[tuple[int, int]]) -> list[Target]:
    text, off = p.text, p.start
    titles = _title_spans(text)
    times = _time_exprs(text, titles)
    body_start = text.find("。") + 1 if p.lead else 0  # after the run-in title (产业链竞争力不断增强。)
    # A time expression opening the paragraph's body (2020年，全省… / “十三五”期间，…) dates the whole paragraph.
    para_frame = next((t for t in times if t.start == body_start), None)
    section_frame = _section_frame(ctx, p.section)
    out: list[Target] = []
    for sent in p.sentences:
        s0 = sent.start - off
        s = text[s0: sent.end - off]
        matches = list(FIGURE.finditer(s))
        figs = [(m.start(), m.end()) for m in matches]
        rows: list[tuple[Target, bool]] = []  # the sentence's figures so far, with whether each is a share
        for m in matches:
            a, b, unit = m.start(), m.end(), m.group("unit")
            cat = UNITS[unit][0]
            if _inside(s0 + a, titles) or _inside(off + s0 + a, masks):
                continue  # in a cited title, or a capacity inside a project name (年产80G瓦时锂电池)
            if cat == "spec" and re.match(r"[\u4e00-\u9fffA-Za-z]", s[b:b + 1]):
                continue  # 98MPa高压储氢罐, 100-150kW金属双极板电堆: a specification, not a figure
            start, end = _clause_bounds(s, a, b, figs)
            while start < a and s[start] in "、 ":  # （…5万个以上）、自用充电桩35万个以上
                start += 1
            quals = [(m.start(g), m.group(g)) for g in ("approx", "suffix") if m.group(g)]
            indicator, scope, is_share = _indicator(s, m, start, end, cat, quals, rows)
            if len(indicator) <= 2 and p.lead:
                indicator = p.lead + indicator  # 预计完成投资300亿元 in item 整车制造领域 → 整车制造领域投资
            # The year: the nearest one before the figure in its sentence, else the paragraph's, else the section's.
            year = next((t for t in reversed(times) if s0 <= t.start and t.end <= s0 + a), None)
            year = year or para_frame or section_frame
            # Whose figure: said in this clause, else by the nearest clause of the sentence that opens with one.
            scope = scope or next((sc for cs in [start, *_clause_starts(s, start)] if (sc := _clause_scope(s[cs:a]))),
                                  "")
            q0 = _quote_start(s, start)
            quote = s[q0:end].strip()
            qs = off + s0 + q0 + (len(s[q0:end]) - len(s[q0:end].lstrip()))
            value_norm, unit_norm = _normalise(m.group("value"), unit)
            row = Target(
                doc_id=p.doc_id, section=p.section_path, indicator=indicator, value=m.group("value"), unit=unit,
                qualifier=_join_qualifiers(quals), year=year.text if year else "",
                kind=_kind(s[start:end], year, p.section, ctx.doc_year), scope=scope or ctx.default_scope,
                quote=quote, start=qs, end=qs + len(quote), value_norm=value_norm, unit_norm=unit_norm)
            rows.append((row, is_share))
        out += [t for t, _ in rows]
    return out


def _section_frames(paragraphs: list[Paragraph]) -> dict[tuple[str, ...], TimeExpr]:
    """到2025年 / “十四五”期间 opening a sentence of a section's first untitled body paragraph frames that section.

    发展目标 starts “到2025年，全省…” and lists its targets in the paragraphs after it; “百项千亿” opens with
    “‘十四五’期间组织实施…” and its 专栏7 gives the fields' shares of that period's investment.
    """
    frames: dict[tuple[str, ...], TimeExpr] = {}
    seen: set[tuple[str, ...]] = set()
    for p in paragraphs:
        key = tuple(p.section)
        if p.kind != "body" or key in seen:
            continue
        seen.add(key)
        if p.lead:
            continue
        titles = _title_spans(p.text)
        starts = {s.start - p.start for s in p.sentences}
        for t in _time_exprs(p.text, titles):
            if t.setting and t.start in starts:
                frames[key] = t
                break
    return frames


# ====================================================================== projects

PROJECT_LIST = re.compile(
    # 实施A、B、C等重大项目 / 组织A、B建设等重大项目: a list of named projects closed by 等…项目.
    r"(?<![^，。；：])(?:加快推进|加快建设|实施|组织|推进|建设|开工|谋划|推动)(?P<body>[^。；;，,]+?)"
    r"等(?:一批)?(?:重大|重点|标志性)?(?:产业)?(?:项目|工程)"
)
FIELD_LEAD = re.compile(r"(?:领域|方向|板块|产业链)$")
INVESTMENT = re.compile(rf"投资[^，。；]{{0,6}}?(?:超过|超|达到|达|约|近)?(?P<fig>{NUM}(?:万亿元|亿元|万元))")
ORG_END = re.compile(r"(?:新增)?年产|\d|新能源汽车|智能|汽车|锂电|动力|核心|并购|整车|电池|项目|基地|研发|生产")
CAPACITY = re.compile(rf"(?:新增)?年产|{NUM}\s?(?:{UNIT_ALT})")
FACILITY = re.compile(r"(?:智能化|数字化)?(?:(?:生产研发|研发生产|生产|研发)?基地|生产线|产业园|工厂)")


def _split_items(body: str) -> list[tuple[int, int]]:
    """Spans of the 、-separated items of a list, ignoring 、 inside parentheses."""
    spans, depth, start = [], 0, 0
    for i, c in enumerate(body):
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
            depth = max(0, depth - 1)
        elif c == "、" and depth == 0:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(body)))
    return [(a, b) for a, b in spans if body[a:b].strip()]


def _project_fields(name: str) -> tuple[str, str, str]:
    """(organization, location, capacity) of a project name such as 华金新能源材料（衢州）年产15万吨…"""
    m = ORG_END.search(name, 2)
    org = name[: m.start()] if m else ""
    location = ""
    pm = re.search(r"[（(]([^（）()]{2,6})[）)]$", org)
    if pm and _lexicon().get(pm.group(1)) == "ns":
        location, org = pm.group(1), org[: pm.start()]  # 明电舍（杭州） → 明电舍, 杭州
    elif org:
        w = _prefix_word(org, {"ns"})
        if w and len(org) > len(w):
            location = w  # 宁波容百新能源 → 宁波 (the organisation keeps it, as written)
    capacity = ""
    cm = CAPACITY.search(name)
    if cm:
        fm = FACILITY.search(name, cm.end())
        capacity = name[cm.start(): fm.start() if fm else len(name)]
    return org, location, capacity


def _extract_projects(paragraphs: list[Paragraph]) -> tuple[list[Project], list[tuple[int, int]]]:
    """Project rows (and field-level rows with their investment) plus the spans of project names."""
    rows: list[Project] = []
    masks: list[tuple[int, int]] = []
    for p in paragraphs:
        if p.kind not in ("body", "item"):
            continue
        field_name = p.lead if p.lead and FIELD_LEAD.search(p.lead) else ""
        inv = INVESTMENT.search(p.text) if field_name else None
        investment = inv.group("fig") if inv else ""
        found: list[Project] = []
        for m in PROJECT_LIST.finditer(p.text):
            body_off = m.start("body")
            body = m.group("body")
            for a, b in _split_items(body):
                name_a, name_b = body_off + a, body_off + b
                name = p.text[name_a:name_b]
                if name.endswith("建设"):  # …智能化生产线建设等重大项目: 建设 is the list's verb, not the name
                    name, name_b = name[:-2], name_b - 2
                if len(name) < 4:
                    continue
                org, location, capacity = _project_fields(name)
                found.append(Project(
                    doc_id=p.doc_id, section=p.section_path, name=name, organization=org, location=location,
                    field=field_name, capacity=capacity, level="project", field_investment=investment,
                    quote=name, start=p.start + name_a, end=p.start + name_b))
                masks.append((p.start + name_a, p.start + name_b))
        # A 专栏 item titled …项目/…工程 is itself a project (other plans list them one per line).
        if p.kind == "item" and p.lead.endswith(("项目", "工程")) and any("专栏" in h for h in p.section):
            a = p.text.find(p.lead)
            found.append(Project(doc_id=p.doc_id, section=p.section_path, name=p.lead, field=field_name,
                                 quote=p.lead, start=p.start + a, end=p.start + a + len(p.lead)))
        if field_name and (inv or found):
            # One row for the field itself, quoting the clause of its investment (预计完成投资1500亿元).
            if inv:
                qa = max((i + 1 for i, c in enumerate(p.text[: inv.start()]) if c in HARD_BOUNDARY), default=0)
                qb = inv.end()
            else:
                qa = p.text.find(p.lead)
                qb = qa + len(p.lead)
            rows.append(Project(doc_id=p.doc_id, section=p.section_path, name=field_name, field=field_name,
                                investment=investment, level="field", quote=p.text[qa:qb], start=p.start + qa,
                                end=p.start + qb))
        rows += found
    return rows, masks


# ====================================================================== responsibilities

ACTOR_SUFFIX = r"(?:委员会|领导小组|办公室|管委会|委|厅|局|办|部门|政府|地方|各地|协会|联盟|专家组|商会|中心)"
# 省级各部门要… / 各级政府要… / 新能源汽车行业协会、产业联盟、专家组要…: an actor opening a clause with a duty.
_ACTOR = rf"[^，。；：\s][^，。；：]{{0,28}}?{ACTOR_SUFFIX}"
_MODAL_CUE = r"要|应当|应(?![用对])|须|必须|负责"
# The duty runs to the end of the sentence, or to the next clause that opens with another actor
# (市经信局负责制定实施细则，市财政局、市交通局要积极配合: two rows).
MODAL = re.compile(rf"(?<![^，。；：])(?P<actor>{_ACTOR})(?P<cue>{_MODAL_CUE})"
                   rf"(?P<duty>[^。；]+?)(?=[，,](?:{_ACTOR})(?:{_MODAL_CUE})|[。；]|$)")
# 由省发展改革委牵头，统筹推进…
LEAD_BY = re.compile(r"由(?P<actor>[^，。；]{2,30}?)(?P<cue>牵头|负责|主导)[，,]?(?P<duty>[^。；]*)")
# 牵头单位：省发展改革委；配合单位：省经信厅、省科技厅 (the table layout of 实施方案)
UNIT_LABEL = re.compile(r"(?P<label>牵头单位|牵头部门|责任单位|责任部门|配合单位|协同单位|参与单位|配合部门)[:：]"
                        r"(?P<actor>[^；;。\n]+)")
COLLAB_WORDS = re.compile(r"协作|协同|配合|桥梁|会同")
SUPPORT = re.compile(r"(?<![^，。；：])(?P<cue>(?:重点|大力|积极|优先|继续)?(?:支持|鼓励|推动|引导|扶持))(?P<rest>[^。]+)")
GOV_LEVEL = re.compile(r"^(?:各级地方政府|各级政府|各设区市|地方|各地|市县|各市)")
NAMED_LIST = re.compile(r"^(?P<names>[^，；、。]{1,20}(?:、[^，；、。]{1,20})+)等"
                        r"(?P<cat>[^，；、。与和及]{0,8}(?:企业|新势力|机构|院所|高校|单位|集团|公司))")
NAMED_ONE = re.compile(rf"^[\u4e00-\u9fffA-Za-z0-9]{{2,10}}?{ORG_SUFFIX}(?:集团|公司|有限公司)?")
PROPER_TAGS = {"nr", "nrt", "ns", "nt", "nz"}
GENERIC_WORDS = {"科研院所", "高校", "企业", "单位", "机构", "银行", "政府", "院所"}


def _is_named(text: str) -> bool:
    """Whether a list of actors names someone (吉利集团; 三花、华友钴业…), not only categories (银行、保险企业…).

    An item is a name when it starts with a dictionary place/organisation/name word (吉利, 华友, 浙江大学)
    or with no dictionary word at all: brands such as 威马, 瑞浦, 三花 are not in jieba's dictionary,
    while category words (银行, 保险, 社会, 企事业, 重点) are.
    """
    for item in re.split(r"[、与和及]", text):
        item = item.strip("“”\"")
        if len(item) < 2:
            continue
        w = _prefix_word(item, PROPER_TAGS)
        if w and w not in GENERIC_WORDS:
            return True
        if re.match(r"[A-Za-z]", item) or (re.match(r"[\u4e00-\u9fff]{2}", item) and not _prefix_word(item)):
            return True
    return False


def _resp(p: Paragraph, actor: str, duty: str, role: str, cue: str, qa: int, qb: int) -> Responsibility:
    quote = p.text[qa:qb].rstrip("，,；; ")
    return Responsibility(doc_id=p.doc_id, section=p.section_path, actor=actor.strip(), duty=duty.strip("，,；; "),
                          role=role, cue=cue, quote=quote, start=p.start + qa, end=p.start + qa + len(quote))


def _extract_responsibilities(paragraphs: list[Paragraph]) -> list[Responsibility]:
    rows: list[Responsibility] = []
    # The issuing notice: its salutation names who is to implement (请…组织实施), 会同 whom.
    notice = [p for p in paragraphs if p.kind == "notice"]
    addressee = next((p.text.rstrip("：:") for p in notice if p.text.endswith(("：", ":"))), "")
    for p in notice:
        for m in re.finditer(r"请(?:(?P<with>会同(?P<partner>[^，。；]+))[，,])?(?P<duty>[^。；]+)", p.text):
            if addressee:
                rows.append(_resp(p, addressee, m.group(0)[1:], "实施", "请", m.start(), m.end()))
            if m.group("partner"):
                rows.append(_resp(p, m.group("partner"), m.group("duty"), "协同", "会同", m.start("with"), m.end()))
    for p in paragraphs:
        if p.kind not in ("body", "item"):
            continue
        t = p.text
        for m in LEAD_BY.finditer(t):
            role = "实施" if m.group("cue") == "负责" else "牵头"
            rows.append(_resp(p, m.group("actor"), m.group("duty"), role, m.group("cue"), m.start(), m.end()))
        for m in MODAL.finditer(t):
            duty = m.group("duty")
            role = "协同" if COLLAB_WORDS.search(duty) else "实施"
            rows.append(_resp(p, m.group("actor"), duty, role, m.group("cue"), m.start(), m.end()))
        for m in UNIT_LABEL.finditer(t):
            role = "牵头" if m.group("label").startswith("牵头") else \
                "实施" if m.group("label").startswith("责任") else "协同"
            duty = p.lead or t[: m.start()].rstrip("（(：: ")
            rows.append(_resp(p, m.group("actor"), duty, role, m.group("label"), m.start(), m.end()))
        for m in SUPPORT.finditer(t):
            rest, rs = m.group("rest"), m.start("rest")
            g = GOV_LEVEL.match(rest)
            if g:  # 鼓励地方在…给予政策支持: a government level is asked to act
                actor, role = g.group(0), "实施"
            else:
                nm = NAMED_LIST.match(rest) or NAMED_ONE.match(rest)
                if not nm:
                    continue
                names = nm.groupdict().get("names") or nm.group(0)
                if not _is_named(names):
                    continue  # 支持银行、保险企业、社会资本等机构…: categories, not named actors
                actor, role = nm.group(0), "支持对象"
            duty = rest[len(actor):]
            rows.append(_resp(p, actor, duty, role, m.group("cue"), m.start(), rs + len(rest)))
    seen, out = set(), []
    for r in rows:
        if (r.actor, r.start) not in seen:
            seen.add((r.actor, r.start))
            out.append(r)
    return out


# ====================================================================== entry point

def extract_tables(doc: Document, paragraphs: list[Paragraph]) -> Tables:
    """Targets, projects and responsibilities of one document; quotes are verbatim with offsets into doc.text."""
    ctx = _Context(doc=doc, doc_year=_doc_year(doc, paragraphs), default_scope=_default_scope(doc),
                   section_frames=_section_frames(paragraphs))
    projects, masks = _extract_projects(paragraphs)
    targets: list[Target] = []
    for p in paragraphs:
        if p.kind in ("body", "item"):
            targets += _paragraph_targets(ctx, p, masks)
    return Tables(targets=targets, projects=projects, responsibilities=_extract_responsibilities(paragraphs))
