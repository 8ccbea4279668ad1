"""Enterprise eligibility: which provisions support an enterprise profile, why, and the conditions each sets."""
from __future__ import annotations

import bisect
import copy
import math
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kb.core.figures import MONEY_AMOUNT
from kb.core.settings import EligibilitySettings
from kb.core.taxonomy import (
    SUPPORT_VERBS,
    Entry,
    ProductClass,
    Provision,
    Taxonomy,
    find_terms,
    load_taxonomy,
    norm,
    places_in,
    tag,
    tag_outermost,
)
from kb.core.timeexpr import PERIOD_NAME, YEAR_NUMBER
from kb.eligibility.thresholds import (
    Amount,
    Threshold,
    compare,
    describe,
    load_measures,
    profile_figures,
    thresholds,
)

NOTE = "本规划为方向性支持，具体申报条件以实施细则为准。"
# What a match from each genre is, honestly: a plan directs, a law or regulation states the rule but its application
# (rates, lists, procedures) is decided by the competent authority under implementing rules.
NOTES = {
    "规划": NOTE,
    "法律": "法律条款规定的是一般规则，是否适用、具体标准和办理程序以主管部门（如税务机关）的认定和国务院及有关部门的实施规定为准。",
    "行政法规": "行政法规条款规定的是一般规则，是否适用及办理程序以主管部门的认定和配套规定为准。",
    "地方性法规": "地方性法规条款仅在本省（市）适用，是否适用及具体办法以主管部门的认定和配套规定为准。",
}
OTHER_NOTE = "条款是否适用、具体条件和程序以发文机关和主管部门的解释与实施细则为准。"
POINTER_NOTE = "本条只授权其他机关另行规定（{0}），本身不给予任何减免或支持，须查阅据此制定的具体办法。"
# A figure in a plan's clause is a plan-wide target or investment, a year a target year: never a grant or a deadline.
# A year or a quoted period in a clause: a plan target year, never a deadline (see CAVEAT_YEAR).
YEAR = re.compile(rf"{YEAR_NUMBER}年|“{PERIOD_NAME}”")
CAVEAT_MONEY = "条款中的金额是规划层面的投资或产值目标，不是对单个企业的补贴或资助额度。"
CAVEAT_YEAR = "条款中的年份是规划目标年份，不是申报截止时间。"
EMPTY_PROFILE = ("企业档案为空：请至少填写 enterprise_type（企业类型）、products（产品）、activities（业务活动）"
                 "或 description（企业简介）之一；region（所在地区）和 qualifications（资质）用于判断条款条件是否满足。")

# Pilots and platforms are topical: a need for them counts half unless the provision also matches on segment,
# enterprise type or region, or names a rare activity verbatim (上路测试) — a 换电 pilot is no answer to a hydrogen
# truck maker's 示范应用 — whereas 融资, 人才, 用地, 标准 apply whatever the segment. (Weights: EligibilitySettings.)
TOPICAL_SUPPORT = ("试点/示范", "平台")
POINTER_TYPE = "授权规定"

Status = Literal["met", "unmet", "unknown"]
SPLIT = re.compile(r"[、,，;；/|\n]+")


class Profile(BaseModel):
    """An enterprise profile (every field optional): interfaces.md §2b. Lists may also be given as "a、b" strings."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    name: str | None = None
    region: str | None = None
    enterprise_type: str | None = None
    products: list[str] = Field(default_factory=list)
    activities: list[str] = Field(default_factory=list)
    qualifications: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)  # what it cares about: 税收, 补贴, 购置, 运营, 融资, 用地 …
    description: str | None = None

    @field_validator("products", "activities", "qualifications", "needs", mode="before")
    @classmethod
    def _as_list(cls, v):
        if v is None:
            return []
        if isinstance(v, str):
            return [x.strip() for x in SPLIT.split(v) if x.strip()]
        if isinstance(v, list):
            return [x.strip() for x in v if isinstance(x, str) and x.strip()]
        return v

    def is_empty(self) -> bool:
        return not any([self.name, self.region, self.enterprise_type, self.products, self.activities,
                        self.qualifications, self.needs, self.description])

    def has_content(self) -> bool:
        """Anything besides the name and the region to match on."""
        return any([self.enterprise_type, self.products, self.activities, self.qualifications, self.needs,
                    self.description])


class Condition(BaseModel):
    text: str  # verbatim from the quote
    status: Status
    basis: str = ""  # why this status, in Chinese


class Match(BaseModel):
    doc_id: str
    doc_title: str = ""
    doc_level: str = ""  # 国家级 / 省级 / …
    doc_type: str = ""  # the genre: 规划, 法律, 行政法规, 地方性法规 …
    section: str
    quote: str
    start: int
    end: int
    reasons: list[str]
    conditions: list[Condition]
    support_type: str  # the support types joined with 、 (e.g. "资金/专项、政策"); 方向引导 when none is named
    support_types: list[str]
    caveats: list[str] = Field(default_factory=list)  # what the quote's figures and years are not
    lead_in: str = ""  # a list item's lead-in, verbatim: the item is relief only under it
    pointer: bool = False  # the clause only empowers another body to set relief later: not relief granted
    points_to: str = ""  # verbatim: where the relief is to be set ("具体办法由国务院规定")
    note: str = ""  # what a clause of this genre is (NOTES), or POINTER_NOTE
    score: float


class EligibilityResult(BaseModel):
    matches: list[Match] = Field(default_factory=list)
    note: str = NOTE
    warnings: list[str] = Field(default_factory=list)
    recognized: dict[str, list[str]] = Field(default_factory=dict)  # what the profile was understood as
    latency_ms: float = 0.0


# ====================================================================== the profile, understood


@dataclass
class Region:
    raw: str
    kind: Literal["city", "county", "area", "province", "outside", "unknown"]
    city: str | None = None
    place: str | None = None  # the most specific known name: the county if given, else the city


@dataclass
class Facts:
    """A profile mapped onto the taxonomy, each item with the profile value that produced it (for the reasons)."""

    segments: dict[str, float] = field(default_factory=dict)  # segment -> weight (1 named, 0.8 child, 0.6 parent)
    on_topic: set[str] = field(default_factory=set)  # segments named or below a named one (not merely a parent)
    terms: dict[str, str] = field(default_factory=dict)  # normalised taxonomy term -> the profile value naming it
    # segment -> (field label, profile value, the segment that value named)
    segment_source: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    actors: dict[str, str] = field(default_factory=dict)  # actor -> profile value
    activities: dict[str, str] = field(default_factory=dict)
    qualifications: dict[str, str] = field(default_factory=dict)
    related_qualifications: dict[str, str] = field(default_factory=dict)  # term -> the qualification it relates to
    names: list[str] = field(default_factory=list)  # enterprises named in the plan that the profile's name contains
    needs: dict[str, str] = field(default_factory=dict)  # need id -> the profile words that state it
    classes: dict[str, str] = field(default_factory=dict)  # product class -> why ("产品“柴油集卡”含“集卡”")
    class_values: dict[str, list[str]] = field(default_factory=dict)  # product class -> the profile values in it
    figures: dict[str, Amount] = field(default_factory=dict)  # measure -> the figure the profile states (六十来个人)
    made: set[str] = field(default_factory=set)  # classes of what it is or makes; the others it buys or handles
    stated: set[str] = field(default_factory=set)  # the support types its stated needs ask for
    asked: dict[str, float] = field(default_factory=dict)  # the description's rare words -> their rarity
    region: Region | None = None
    government: bool = False
    enterprise: bool | None = None  # None: the profile does not say


# What the profile was understood to say, by field, as the answer labels it.
RECOGNIZED_CN = {"segments": "产业链环节", "actors": "企业类型", "activities": "业务活动", "qualifications": "资质",
                 "needs": "关注的支持", "classes": "产品类别", "region": "地区", "named_enterprises": "规划点名的企业"}
FIELD_LABELS = {"enterprise_type": "企业类型", "products": "产品", "activities": "业务活动",
                "qualifications": "资质", "description": "企业简介", "name": "企业名称"}


def _values(p: Profile) -> list[tuple[str, str]]:
    """(field, value) pairs in the order that best describes the enterprise."""
    out = [("enterprise_type", p.enterprise_type)] if p.enterprise_type else []
    out += [("products", v) for v in p.products]
    out += [("activities", v) for v in p.activities]
    if p.description:
        out.append(("description", p.description))
    return out


def _region(raw: str, tax: Taxonomy) -> Region:
    r = norm(raw)
    outside = next((o for o in tax.regions.outside if norm(o) in r), None)
    places = places_in(raw, tax)
    if places:
        # the most specific name: a county over its city ("嘉兴市嘉善县" → 嘉善), a city over an area
        place = min(places, key=lambda x: (x in tax.regions.areas, tax.place_city(x) == x))
        city = tax.place_city(place)
        if city is None:  # an area such as 杭州湾
            return Region(raw, "area", None, place)
        return Region(raw, "city" if place == city else "county", city, place)
    if outside:
        return Region(raw, "outside", place=outside)
    if any(norm(t) in r for t in tax.regions.province_terms):
        return Region(raw, "province")
    return Region(raw, "unknown")


def _whole_words(hits: dict[str, list[str]], value: str,
                 words: Callable[[str], list[str]] | None) -> dict[str, list[str]]:
    """`hits` (tag's) without the terms found only across a word boundary of `value` — starting inside one word and
    ending inside the next: the 车企 of 出租车|企业 is no carmaker. Unchanged without a segmenter."""
    if words is None or not hits:
        return hits
    t = norm(value)
    cuts, at = {0, len(t)}, 0
    for w in words(t):
        i = t.find(w, at)
        if i >= 0:
            cuts |= {i, i + len(w)}
            at = i + len(w)

    def whole(term: str) -> bool:
        term, i = norm(term), t.find(norm(term))
        while i >= 0:
            j = i + len(term)
            if i in cuts or j in cuts or not any(i < c < j for c in cuts):
                return True
            i = t.find(term, i + 1)
        return False

    out = {e: [x for x in ts if whole(x)] for e, ts in hits.items()}
    return {e: ts for e, ts in out.items() if ts}


def understand(p: Profile, tax: Taxonomy, description_factor: float = 0.6,
               words: Callable[[str], list[str]] | None = None) -> Facts:
    """Map the profile's free text onto segments, actor types, activities, qualifications, needs, product classes
    and a region. `words` segments a value (precise mode) so that a term read across two words is not taken."""
    f = Facts()
    # Segments: each value's own segments weigh 1; their sub-segments 0.8; their parents 0.6 (× 0.6 from the
    # description, which also names customers: "为整车厂配套" does not make a carmaker).
    for fld, value in _values(p):
        scale = description_factor if fld == "description" else 1.0
        for seg, terms in _whole_words(tag(value, tax.segments), value, words).items():
            _add_segment(f, tax, seg, scale, (FIELD_LABELS[fld], value, seg))
            if fld == "products":
                for t in terms:
                    f.terms.setdefault(norm(t), value)
    # Actor types from the type; from the name or the description only without a type, or a size (中小企业).
    for actor in _whole_words(tag(p.enterprise_type or "", tax.actors), p.enterprise_type or "", words):
        f.actors.setdefault(actor, p.enterprise_type or "")
    for value in (p.name, p.description):
        for actor in _whole_words(tag(value or "", tax.actors), value or "", words):
            if not p.enterprise_type or actor == "中小企业":
                f.actors.setdefault(actor, value or "")
    for v in p.activities + ([p.description] if p.description else []):
        for act in tag(v, tax.activities):
            f.activities.setdefault(act, v)
    # Qualifications only as stated: a description's "争创专精特新" is an aim, not a title.
    for v in p.qualifications:
        for q in tag(v, tax.qualifications):
            f.qualifications.setdefault(q, v)
    for v in p.qualifications:  # a title says what kind of enterprise it is: 科技型中小企业, 小型微利企业 are SMEs
        for actor in tag(v, tax.actors):
            if actor != "企业":
                f.actors.setdefault(actor, v)
    for q in list(f.qualifications):
        for rel in _entry(tax.qualifications, q).related:
            f.related_qualifications.setdefault(rel, q)
    # Needs: stated in the needs field, the activities or the description ("想知道…能不能少交税").
    for v in p.needs + ([p.description] if p.description else []):
        for need in tag(v, tax.needs):
            f.needs.setdefault(need, v)
        for n in tax.needs:  # the needs field may name a need by its id or a support type it asks for
            if v in p.needs and (norm(n.id) in norm(v) or any(norm(s) in norm(v) for s in n.serves)):
                f.needs.setdefault(n.id, v)
    # Classes from what the enterprise is and makes, not from the description, which names customers and settings
    # ("在汽车零部件厂房屋顶建光伏" does not make a photovoltaic builder's products 机动车); activities name what it
    # buys or handles ("购置NMP回收装置").
    for fld, value in _values(p):
        if fld == "description":
            continue
        # A class named only inside another class's longer term is not the value's: "报废机动车回收拆解企业" handles
        # 报废机动车, it does not make 机动车.
        named, outermost = tag(value, tax.classes), tag_outermost(value, tax.classes)
        for c in tax.classes:
            if c.id in named and c.id not in outermost:
                continue
            why = _class_evidence(value, c, f, tax, product=fld == "products", whole=fld == "enterprise_type")
            if why:
                f.classes.setdefault(c.id, f"{FIELD_LABELS[fld]}“{_short(value)}”{why}")
                f.class_values.setdefault(c.id, []).append(norm(value))
                if fld != "activities":
                    f.made.add(c.id)
    # Figures as the profile states them (the description, or an activity such as "年营收5亿元"), for thresholds.
    f.figures = profile_figures("；".join([*p.activities, *p.qualifications, p.description or ""]))
    if p.name:
        f.names = [e for e in tax.enterprises if norm(e) in norm(p.name)]
    if p.region:
        f.region = _region(p.region, tax)
    typ = norm(p.enterprise_type or "")
    f.government = bool(typ) and any(norm(g) in typ for g in tax.government)
    if f.government:
        f.actors = {"地方政府": p.enterprise_type or ""}
    if p.enterprise_type:
        f.enterprise = not f.government
    elif f.actors or p.products:
        f.enterprise = True
    if f.enterprise:
        f.actors.setdefault("企业", p.enterprise_type or "")
    return f


def _class_evidence(value: str, c: ProductClass, f: Facts, tax: Taxonomy, product: bool = False,
                    whole: bool = False) -> str:
    """Why a profile value belongs to a class the texts name, or "": its own terms, a member word, a member segment.
    A product of a segment outside the class's names a part, not the class: "新能源汽车电机壳体" is no 汽车; so does
    any value of such a segment — "汽车软件企业" writes software, "汽车热管理零部件研发" develops parts."""
    v = norm(value)
    hit = find_terms(value, c)
    if hit and c.segments:
        segs = tag(value, tax.segments)
        if segs and not set(segs) & set(c.segments):
            hit = []
    if hit:
        return f"即条款所说的“{hit[0]}”"
    for x in c.normed_exclude:  # "NMP回收装置" is equipment, not 回收 of resources
        v = v.replace(x, "□")
    member = next((m for m in c.members if norm(m) in v), None)
    if member:
        return f"含“{member}”，属于{c.id}"
    if not product and not whole:
        return ""  # an activity's segment is what it works on ("以旧换新回收" → 回收利用), not what it makes
    seg = next((s for s in tag(value, tax.segments) if s in c.segments), None)
    return f"属于{seg}，即{c.id}" if seg else ""


def _add_segment(f: Facts, tax: Taxonomy, seg: str, scale: float, source: tuple[str, str, str]) -> None:
    def put(s: str, weight: float, broader: bool) -> None:
        if weight > f.segments.get(s, 0):
            f.segments[s] = weight
            f.segment_source[s] = source
        if not broader:
            f.on_topic.add(s)

    put(seg, scale, False)
    for child in (e.id for e in tax.segments if seg in tax.ancestors(e.id)):
        put(child, 0.8 * scale, False)
    for parent in tax.ancestors(seg):
        put(parent, 0.6 * scale, True)


def _entry(entries: list[Entry], id_: str) -> Entry:
    return next(e for e in entries if e.id == id_)


def check_profile(p: Profile, f: Facts, tax: Taxonomy) -> list[str]:
    """Warnings: unrecognised values (still searched semantically) and contradictions (still answered)."""
    out = []
    unknown = [v for fld, v in _values(p) if fld != "description" and not _recognised(v, tax)]
    if unknown:
        out.append("未能在产业链分类中识别：" + "、".join(f"“{v}”" for v in unknown) + "，已按语义检索相近条款。")
    unknown_q = [v for v in p.qualifications if not tag(v, tax.qualifications)]
    if unknown_q:
        out.append("未识别的资质：" + "、".join(f"“{v}”" for v in unknown_q) + "，相关条件按“未知”处理。")
    if f.region and f.region.kind == "unknown":
        out.append(f"未识别的地区“{f.region.raw}”：不按地区加权，仅按其他字段和语义检索。")
    if f.region and f.region.kind == "outside":
        out.append(f"所填地区“{f.region.raw}”不在浙江省内：本规划是浙江省规划，条款原则上面向省内企业和地区，"
                   "以下结果仅供参考，“省内”类条件判为不满足。")
    if f.government:
        enterprise_only = [v for v in p.qualifications if tag(v, tax.qualifications)]
        if enterprise_only:
            out.append(f"档案矛盾：企业类型为“{p.enterprise_type}”（政府部门），但资质"
                       + "、".join(f"“{v}”" for v in enterprise_only)
                       + "只授予企业，请核对；以下仍按所填字段分别匹配。")
        if p.products:
            out.append(f"档案提示：企业类型为“{p.enterprise_type}”（政府部门），却填写了产品，已按产业方向匹配。")
    small = {"中小企业"} & set(f.actors)
    big = {q for q in f.qualifications if "龙头" in q or "主导" in q}  # the leading kinds of enterprise
    if small and big:
        out.append(f"档案矛盾：企业类型“{p.enterprise_type}”为中小企业，资质却含"
                   + "、".join(f"“{q}”" for q in sorted(big)) + "，请核对；以下按两者分别匹配。")
    return out


def _recognised(value: str, tax: Taxonomy) -> bool:
    return any(tag(value, entries) for entries in (tax.segments, tax.actors, tax.activities, tax.qualifications)) \
        or any(norm(g) in norm(value) for g in tax.government)


# ====================================================================== conditions


# What is left of a condition after its checkable terms are removed; any of these means a requirement we cannot
# check from a profile ("具备国际竞争力", "有能力有条件", "基础好"), so the condition is at best unknown.
UNCHECKABLE = re.compile(r"能力|条件|水平|影响力|竞争力|优势|基础|潜力|丰富|含量|作用|效益|稳定|引领|前瞻|标志|低效|规定")
PLACE_HEADS = ("地区", "区域", "城市", "开发区", "园区", "平台", "路线", "项目")


@dataclass
class CondSpec:
    """A condition analysed once: the checkable requirements it names and what it asks that no profile can show."""

    text: str
    qualifications: list[str]
    actors: list[str]
    segments: list[str]
    activities: list[str]
    province: bool  # "省内…": only enterprises in Zhejiang
    uncheckable: str  # e.g. "具备国际竞争力"; "" when every requirement is checkable
    classes: list[str] = field(default_factory=list)  # product classes, alternatives ("机动车、…非道路移动机械…的")
    own: bool = False  # a law's clause applies only in this case ("X的，可以…", a list item): who or what it is for

    @property
    def specific(self) -> bool:
        """Asks more than "an enterprise in the province"."""
        return bool(self.qualifications or self.segments or self.activities or self.classes
                    or set(self.actors) - {"企业", "地方政府"})

    @property
    def decisive(self) -> bool:
        """Met, it makes the clause the profile's: a specific condition; for a law's own case, what kind of product,
        title or operator it names (its activity, "企业生产的机动车型", is often someone else's)."""
        if self.own:
            return bool(self.qualifications or self.classes or set(self.actors) - {"企业", "地方政府"})
        return self.specific


def analyse(cond: str, tax: Taxonomy, own: bool = False) -> CondSpec:
    if cond.endswith(PLACE_HEADS):
        # about the place or project itself ("产业基础好、氢气资源丰富…的地区"), not about the enterprise's segments
        return CondSpec(text=cond, qualifications=[], actors=[], segments=[], activities=[], province=False,
                        uncheckable=cond)
    rest = cond
    found = {}
    for kind, entries in (("qualifications", tax.qualifications), ("actors", tax.actors),
                          ("segments", tax.segments), ("activities", tax.activities)):
        hits = tag(rest, entries)  # on what is left: "行业整合能力" is 龙头企业's, not the activity 整合
        found[kind] = list(hits)
        for terms in hits.values():
            for t in terms:
                rest = rest.replace(t, "")
    actors = found["actors"]
    if "企业" in actors and len(actors) > 1:
        actors.remove("企业")  # "省内整车企业": the specific type decides
    rest = rest.replace("省内", "")
    m = UNCHECKABLE.search(rest)
    return CondSpec(text=cond, qualifications=found["qualifications"], actors=actors, segments=found["segments"],
                    activities=found["activities"], province="省内" in cond,
                    uncheckable=_clean(rest) if m else "", classes=list(tag_outermost(cond, tax.classes)), own=own)


def judge(c: CondSpec, p: Profile, f: Facts) -> Condition:
    """met / unmet / unknown: unknown whenever the profile lacks what the condition asks (or nobody could show it)."""
    return _judge(c, p, f)[0]


def _judge(c: CondSpec, p: Profile, f: Facts) -> tuple[Condition, bool, bool]:
    """The condition judged; whether it is unmet on a hard ground (qualification, 政府 vs 企业, outside the
    province) rather than on the enterprise type, which a sentence naming several actors varies clause by clause;
    and whether all it asks that a profile can show is met (true also when the rest stays unknown)."""
    parts: list[tuple[Status, str]] = []
    hard = False
    for q in c.qualifications:
        if q in f.qualifications:
            parts.append(("met", f"资质“{f.qualifications[q]}”"))
        elif f.government:
            parts.append(("unmet", "政府部门不适用企业资质"))
            hard = True
        elif p.qualifications:
            parts.append(("unmet", f"所填资质中没有“{q}”"))
            hard = True
        else:
            parts.append(("unknown", f"档案未填资质，无法判断是否为{q}"))
    for a in c.actors:
        if a == "地方政府":
            continue  # 区域/地区/城市 conditions are about the place itself
        if a in f.actors:
            parts.append(("met", f"企业类型“{p.enterprise_type or f.actors[a]}”"))
        elif f.government:
            parts.append(("unmet", "条件面向企业，档案为政府部门"))
            hard = True
        elif p.enterprise_type:
            parts.append(("unmet", f"企业类型“{p.enterprise_type}”不是{a}"))
        else:
            parts.append(("unknown", "档案未填企业类型"))
    for s in c.segments:
        if s in f.segments:
            parts.append(("met", f"档案涉及{s}"))
        elif f.segments:
            parts.append(("unmet", f"档案未涉及{s}"))
            hard = hard or c.own  # "拆解的报废机动车…零部件…可以出售" is a case of 回收利用, not of a fleet
        else:
            parts.append(("unknown", f"档案未说明是否涉及{s}"))
    if c.activities:  # alternatives ("主导或参与…标准制定、…国产化配套"): one is enough
        hit = [a for a in c.activities if a in f.activities]
        if hit:
            parts.append(("met", "业务活动“" + "、".join(dict.fromkeys(f.activities[a] for a in hit)) + "”"))
        elif p.activities:
            parts.append(("unmet", "所填业务活动不含" + "、".join(c.activities)))
        else:
            parts.append(("unknown", "档案未填业务活动"))
    if c.classes:  # alternatives ("机动车、铁路机车、非道路移动机械…排放应税污染物的"): one is enough
        hit = [x for x in c.classes if x in f.classes]
        if hit:
            parts.append(("met", f"档案的产品属于{hit[0]}"))
        elif p.products or f.classes:
            parts.append(("unmet", "档案的产品不属于" + "、".join(c.classes)))
            hard = hard or c.own  # "拆解的报废机动车…零部件…可以出售" is for whoever handles 报废机动车
        else:
            parts.append(("unknown", "档案未说明产品类别"))
    if c.province:
        parts.append(_in_province(f))
        hard = hard or parts[-1][0] == "unmet"
    status, basis = _combine(parts)
    checked = status == "met"  # everything the profile can show is met
    if status == "met" and c.uncheckable:
        status, basis = "unknown", f"{basis}；但“{c.uncheckable}”无法从档案判断"
    if not parts:
        basis = ("条件针对地区、平台或项目本身，需对照实际情况" if c.text.endswith(PLACE_HEADS)
                 else "条件无法从档案判断，以实施细则为准")
    return Condition(text=c.text, status=status, basis=basis), hard and status == "unmet", checked


# A law's clause opens with its article label or a list item's number before the case it applies to.
OPENING = re.compile(r"^\s*(?:第[一二三四五六七八九十百零〇]+条\s*|[（(][一二三四五六七八九十]+[）)]\s*)?(?:但是，)?")


def _is_own(cond: str, prov: Provision) -> bool:
    """Whether a condition is the case a law's clause applies to: its opening words ("X的，…", a list item)."""
    return bool(prov.genre) and prov.genre != "规划" and prov.quote[OPENING.match(prov.quote).end():].startswith(cond)


def _figure_condition(t: Threshold, f: Facts) -> Condition:
    amount = f.figures.get(t.measure)
    unit = next((m.unit for m in load_measures() if m.id == t.measure), "")
    status = compare(t, amount) if amount else "unknown"
    return Condition(text=t.text, status=status, basis=describe(t, amount, unit))


def evaluate(cond: str, p: Profile, f: Facts, tax: Taxonomy) -> Condition:
    return judge(analyse(cond, tax), p, f)


def _in_province(f: Facts) -> tuple[Status, str]:
    if f.region is None:
        return "unknown", "档案未填地区"
    if f.region.kind == "outside":
        return "unmet", f"地区“{f.region.raw}”不在浙江省内"
    if f.region.kind == "unknown":
        return "unknown", f"无法识别地区“{f.region.raw}”"
    return "met", f"地区“{f.region.raw}”在浙江省内"


def _combine(parts: list[tuple[Status, str]]) -> tuple[Status, str]:
    if not parts:
        return "unknown", ""
    for want in ("unmet", "unknown"):
        if any(s == want for s, _ in parts):
            return want, "；".join(dict.fromkeys(b for s, b in parts if s == want))
    return "met", "；".join(dict.fromkeys(b for _, b in parts))


def _clean(text: str) -> str:
    """A leftover condition fragment made readable: "具备国际竞争力的" → "具备国际竞争力"."""
    return re.sub(r"^[的、和或及与]+|[的、和或及与]+$", "", text) or text


# ====================================================================== matching


@dataclass
class _Indexed:
    """A provision with what matching needs precomputed: vector row, activity/qualification tags, conditions."""

    prov: Provision
    row: int | None
    norm_quote: str
    activities: dict[str, list[str]]
    qualifications: dict[str, list[str]]
    cities: set[str]  # Zhejiang cities named through an area ("~宁波" for 杭州湾)
    conditions: list[CondSpec]
    strong: bool
    spread: float  # 1 + focus·(distinct chains named − 1)
    lead_row: int | None = None  # a list item's lead-in sentence vector
    need_words: dict[str, list[str]] = field(default_factory=dict)  # need id -> its words in the clause
    beneficiaries: list[str] = field(default_factory=list)  # a law's clause: the kinds of actor it relieves by name
    obliged: list[str] = field(default_factory=list)  # a law's clause: the kinds of actor it only obliges (…应当…)
    procures: bool = False  # public procurement: the state buys (its preference is for the makers)
    class_words: dict[str, list[str]] = field(default_factory=dict)  # class -> the normalised words naming it here
    thresholds: list[Threshold] = field(default_factory=list)  # numeric conditions ("从业人数不超过300人")
    support_types: frozenset[str] = frozenset()


@dataclass
class _Scored:
    score: float
    index: int
    reasons: list[str]
    conditions: list[Condition]
    needs: tuple[str, ...] = ()  # the stated needs of the profile the clause offers support for
    others: bool = False  # the clause is for another kind of actor, product class, title or case than the profile's


class Matcher:
    """Profile → ranked provisions: taxonomy and field evidence plus e5 similarity to the profile's text."""

    def __init__(self, provisions: list[Provision], titles: dict[str, str], embed_query: Callable[[str], np.ndarray],
                 sentence_vectors: np.ndarray, sentence_rows: dict[tuple[str, int], int],
                 taxonomy: Taxonomy | None = None, settings: EligibilitySettings | None = None,
                 documents: dict[str, tuple[str, str]] | None = None,
                 embed_queries: Callable[[list[str]], np.ndarray] | None = None,
                 tokens: Callable[[str], list[str]] | None = None,
                 words: Callable[[str], list[str]] | None = None,
                 word_frequency: Callable[[str], int] | None = None,
                 search: Callable[[str, int, np.ndarray], list[tuple[str, int, int]]] | None = None):
        self.tax = tax = taxonomy or load_taxonomy()
        self.search = search  # the KB's hybrid search: question, k, its vector -> passages (doc_id, start, end)
        self.tokens = tokens  # the KB's segmenter: the description's words found in a clause
        self.words = words  # …in precise mode: a profile's term read across two of its words is not taken
        self.word_frequency = word_frequency  # the segmenter's general-language word counts (jieba's dictionary)
        self._words: tuple[list[frozenset[str]], dict[str, float], dict[str, set[int]]] | None = None
        self.embed_queries = embed_queries or (lambda texts: np.stack([embed_query(t) for t in texts]))
        self._anchor_words: list[str] = []
        self._anchor_labels: list[str | None] = []
        self._anchor_vectors: np.ndarray | None = None
        self._encoded: OrderedDict[str, np.ndarray] = OrderedDict()  # query text -> vector, most recent last
        self._encoded_lock = threading.Lock()
        self.w = w = settings or EligibilitySettings()
        self.titles = titles
        self.documents = documents or {}  # doc_id -> (level, doc_type)
        self.embed_query = embed_query
        self.vectors = sentence_vectors
        self.items = [
            _Indexed(prov=p, row=sentence_rows.get((p.doc_id, p.start)), norm_quote=norm(p.quote),
                     activities=tag(_without_actors(p.quote, tax), tax.activities), qualifications=self._quals(p.quote),
                     cities=self._cities(p.regions),
                     conditions=[analyse(c, tax, own=_is_own(c, p)) for c in p.conditions],
                     strong=any(v in SUPPORT_VERBS for v in p.verbs),
                     spread=1 + w.focus * max(0, len({self._root(s) for s in p.segments}) - 1),
                     need_words=tag(p.quote, tax.needs),
                     beneficiaries=beneficiaries(p.quote, tax) if p.genre and p.genre != "规划" else [],
                     obliged=obliged(p.quote, tax) if p.genre and p.genre != "规划" else [],
                     procures="政府采购" in p.support_types, support_types=frozenset(p.support_types),
                     class_words={c: [norm(t) for t in ts]
                                  for c, ts in tag_outermost(p.quote + p.lead_in, tax.classes).items()},
                     thresholds=thresholds(p.quote))
            for p in provisions]
        by_quote = {(it.prov.doc_id, it.prov.quote): it.row for it in self.items}
        index_of = {(it.prov.doc_id, it.prov.quote): i for i, it in enumerate(self.items)}
        self.items_of: dict[int, list[int]] = {}  # a lead-in's provision -> its items' provisions
        for i, it in enumerate(self.items):
            if it.prov.lead_in:
                it.lead_row = by_quote.get((it.prov.doc_id, it.prov.lead_in))
                j = index_of.get((it.prov.doc_id, it.prov.lead_in))
                if j is not None:
                    self.items_of.setdefault(j, []).append(i)
        # A law's article that opens with support lends it to its next sentences ("…可以要求付款方予以确认。付款方应当
        # 自被要求确认之日起三十日内予以确认。"): such a sentence is read with its article's opening sentence.
        self.opener_of: dict[int, int] = {}
        first: dict[tuple[str, int], int] = {}
        for i, it in enumerate(self.items):
            if not it.prov.genre or it.prov.genre == "规划" or it.prov.lead_in:
                continue
            key = (it.prov.doc_id, it.prov.para_index)
            if key in first:
                self.opener_of[i] = first[key]
            else:
                first[key] = i
        self.rows = np.array([it.row for it in self.items if it.row is not None], dtype=np.int64)
        self._by_doc: dict[str, list[tuple[int, int]]] = {}  # doc_id -> (start, item index), by start
        for i, it in enumerate(self.items):
            self._by_doc.setdefault(it.prov.doc_id, []).append((it.prov.start, i))
        for v in self._by_doc.values():
            v.sort()
        self.rarity = _rarity([[*it.prov.segments, *it.prov.context_segments] for it in self.items])
        self.rarity.update(_rarity([list(it.activities) for it in self.items]))
        self.actor_rarity = _rarity([it.prov.targets for it in self.items])
        self.support_rarity = _rarity([it.prov.support_types for it in self.items])
        self.needs = {a.id: a.support for a in tax.activities if a.support}
        self.needs_served = {n.id: n.serves for n in tax.needs}
        # Which provisions each fact of a profile can give evidence on: a profile's candidates are the union over its
        # facts (plus the semantically close ones), so the ~60% of provisions without any evidence are not scored.
        self._index: dict[tuple[str, str], set[int]] = {}
        for i, it in enumerate(self.items):
            prov = it.prov
            keys = [("segment", x) for x in [*prov.segments, *prov.context_segments]]
            keys += [("actor", x) for x in prov.targets] + [("qualification", x) for x in it.qualifications]
            keys += [("activity", x) for x in it.activities] + [("support", x) for x in prov.support_types]
            keys += [("class", x) for x in prov.classes] + [("enterprise", x) for x in prov.enterprises]
            keys += [("need", x) for x in it.need_words]
            if prov.regions:
                keys.append(("region", ""))
            if it.conditions or it.thresholds:
                keys.append(("conditions", ""))
            for key in keys:
                self._index.setdefault(key, set()).add(i)

    @classmethod
    def from_kb(cls, kb, provisions: list[Provision] | None = None) -> Matcher:
        """From an open KnowledgeBase and its stored provisions (or those given)."""
        data = kb.data
        provisions = provisions if provisions is not None else data.provisions
        titles = {d: doc.meta.title for d, doc in data.documents.items()}
        documents = {d: (doc.meta.level, doc.meta.doc_type) for d, doc in data.documents.items()}
        settings = getattr(getattr(kb, "settings", None), "eligibility", None)
        embedder = getattr(kb, "embedder", None)
        seg = getattr(kb, "segmenter", None)
        retriever = getattr(kb, "retriever", None)

        def search(question: str, k: int, vector: np.ndarray) -> list[tuple[str, int, int]]:
            # The retriever's own light copy reading the vector the matcher has already computed: encoding is most
            # of a profile's time, and the profile's text is the query.
            own = copy.copy(retriever)
            own.embed_query = lambda _text: vector
            return [(c.doc_id, c.start, c.end) for c, _ in own.search(question, k=k)]
        return cls(provisions, titles, kb._embed_query, data.sentence_vectors, data.sentence_rows,
                   settings=settings, documents=documents,
                   embed_queries=getattr(embedder, "embed_queries", None),
                   tokens=getattr(seg, "tokens", None), words=getattr(seg, "words", None),
                   word_frequency=seg.dictionary()[0].get if seg is not None else None,
                   search=search if retriever is not None else None)

    def _root(self, seg: str) -> str:
        return ([seg] + self.tax.ancestors(seg))[-1]

    def _quals(self, quote: str) -> dict[str, list[str]]:
        out = tag(quote, self.tax.qualifications)
        for e in self.tax.qualifications:  # related terms ("~小巨人") count half for the qualifications they relate to
            for rel in e.related:
                if norm(rel) in norm(quote):
                    out.setdefault("~" + rel, [rel])
        return out

    def _cities(self, regions: list[str]) -> set[str]:
        return {"~" + c for r in regions for c in self.tax.regions.areas.get(r, [])}

    # ------------------------------------------------------------------ scoring

    def match(self, profile: Profile | dict, k: int = 10,
              allowed_docs: frozenset[str] | None = None) -> EligibilityResult:
        """The k best provisions for the profile, best first, with reasons and evaluated conditions.

        score = field evidence (segments, product terms, enterprise type, qualifications, needs and activities,
                region, name, conditions met or unmet, stated needs the clause answers, product classes it names;
                the weights of EligibilitySettings)
                + semantic × the provision sentence's e5 similarity to the profile text, rescaled so the median
                provision gets 0 and the best 1 (a list item: also its lead-in's). Only provisions with field
                evidence or above-median similarity are returned, at most per_paragraph sentences of one paragraph.
        """
        t0 = time.perf_counter()
        p = profile if isinstance(profile, Profile) else Profile.model_validate(profile)
        if p.is_empty():
            return EligibilityResult(warnings=[EMPTY_PROFILE], latency_ms=_ms(t0))
        f = understand(p, self.tax, self.w.description_factor, self.words)
        f.stated = {s for n in f.needs for s in self.needs_served[n]}
        f.asked = self._asked(p.description)
        text, todo = self.profile_text(p), self.unplaced(p, f)
        vectors = self.encode([*([text] if text else []), *todo])
        self.classes_by_similarity(p, f, vectors)
        warnings = check_profile(p, f, self.tax)
        if p.model_extra:
            warnings.append("已忽略未知字段：" + "、".join(p.model_extra) + "（可用字段：name、region、enterprise_type、"
                            "products、activities、qualifications、needs、description）。")
        if not p.has_content() and not f.names:
            warnings.append(EMPTY_PROFILE)
        sem = self._semantic(vectors.get(text))
        similar = {}
        for i, it in enumerate(self.items):
            if sem is not None and it.row is not None:
                s = float(sem[it.row])
                if it.lead_row is not None:  # "（二）机动车…排放应税污染物的；" means little without "暂予免征环境保护税"
                    s = max(s, (1 - self.w.lead_in_share) * s + self.w.lead_in_share * float(sem[it.lead_row]))
                similar[i] = s
        # (the type and products searched with the description: "可再生能源独立电力系统运营企业" is the texts' own term
        # for what the description calls "还没接上大电网的小岛上建风机、光伏")
        found = self._retrieved("；".join(x for x in [p.enterprise_type or "", text] if x)[:500] if p.description else "",
                                vectors.get(text))
        scored = []
        for i in sorted(self._candidates(f, {i for i, s in similar.items() if s >= 0.5} | set(found))):
            it = self.items[i]
            if allowed_docs is not None and it.prov.doc_id not in allowed_docs:
                continue
            sc = self._field_score(i, it, p, f)
            if i in similar:
                s = similar[i]
                law = bool(it.prov.genre) and it.prov.genre != "规划"
                sc.score += (self.w.semantic_law if law else self.w.semantic) * s
                if s >= 0.5:
                    sc.reasons.append("企业简介与条款内容语义相近" if p.description else "档案内容与条款语义相近")
            if i in found and not sc.others:
                # (a clause for another kind of actor, class or case is not the profile's however near its words are:
                # "电动自行车…提前淘汰" for a fleet retiring diesel trucks)
                rank = found[i]
                sc.score += self.w.retrieved * (1 - rank / self.w.retrieved_k)
                # (the rank in Chinese numerals: a reason states no figure the quote or profile does not)
                sc.reasons.append(f"以企业简介为问题检索，本条所在段落排第{_chinese_number(rank + 1)}位")
            scored.append(sc)
        self._lead_ins_follow_items(scored)
        scored = [sc for sc in scored if sc.score > 0 and sc.reasons]
        scored.sort(key=lambda x: (-x.score, x.index))
        relative = self.w.min_relative_needs if f.needs else self.w.min_relative
        top = scored[0].score if scored else 0.0
        floor = max(self.w.min_score, relative * top)
        # A profile that states several needs (以旧换新 and 政府采购) is asked several questions: each need's own best
        # clauses pass a floor relative to that need's best one, so one well-served need does not crowd out the rest.
        # A need whose best clause scores under need_min_relative of the top one has no clause worth offering.
        need_best: dict[str, float] = {}
        for sc in scored:
            for n in sc.needs:
                need_best.setdefault(n, sc.score)
        need_floor = {n: max(self.w.min_score, relative * b) for n, b in need_best.items()
                      if b >= self.w.need_min_relative * top}
        matches, per_para = [], {}
        for sc in (x for x in scored
                   if x.score >= min([floor, *(need_floor[n] for n in x.needs if n in need_floor)])):
            prov = self.items[sc.index].prov
            key = (prov.doc_id, prov.para_index)
            if per_para.get(key, 0) >= self.w.per_paragraph:
                continue
            per_para[key] = per_para.get(key, 0) + 1
            level, genre = self.documents.get(prov.doc_id, ("", prov.genre))
            genre = genre or prov.genre
            matches.append(Match(doc_id=prov.doc_id, doc_title=self.titles.get(prov.doc_id, ""), doc_level=level,
                                 doc_type=genre, section=prov.section_path, quote=prov.quote, start=prov.start,
                                 end=prov.end, reasons=sc.reasons, conditions=sc.conditions,
                                 support_type="、".join(prov.support_types), support_types=prov.support_types,
                                 caveats=caveats(prov.quote, genre), lead_in=prov.lead_in, pointer=prov.pointer,
                                 points_to=prov.points_to,
                                 note=POINTER_NOTE.format(prov.points_to) if prov.pointer else note_for(genre),
                                 score=round(float(sc.score), 3)))
            if len(matches) == k:
                break
        if not matches and p.has_content():
            warnings.append("未找到与档案相符的条款，请补充产品、业务活动或企业简介。")
        return EligibilityResult(matches=matches, note=overall_note(matches), warnings=warnings,
                                 recognized=_recognized(f), latency_ms=_ms(t0))

    def _retrieved(self, text: str, vector: np.ndarray | None) -> dict[int, int]:
        """Provision index -> rank of the best passage holding it, among the passages the KB's hybrid search returns
        for the description: what the enterprise asks, found the way the chat finds answers (BM25 with the
        colloquial lexicon and e5), a signal independent of the taxonomy's words."""
        if not text or vector is None or self.search is None or self.w.retrieved <= 0:
            return {}
        out: dict[int, int] = {}
        for rank, (doc, start, end) in enumerate(self.search(text, self.w.retrieved_k, vector)):
            items = self._by_doc.get(doc, [])
            for pos in range(bisect.bisect_left(items, (start, -1)), len(items)):
                s, i = items[pos]
                if s >= end:
                    break
                out.setdefault(i, rank)
        return out

    def _candidates(self, f: Facts, similar: set[int]) -> set[int]:
        """The provisions on which the profile's facts can give evidence (a reason), and those semantically close:
        the others would score nothing to show and are left out before scoring. A sentence whose article's opening
        is a candidate is one too (it may follow that opening)."""
        keys = [("segment", x) for x in f.segments] + [("actor", x) for x in f.actors]
        keys += [("qualification", x) for x in f.qualifications]
        keys += [("qualification", "~" + x) for x in f.related_qualifications]
        keys += [("activity", x) for x in f.activities] + [("support", self.needs[a]) for a in f.activities
                                                           if a in self.needs]
        keys += [("support", x) for n in f.needs for x in self.needs_served[n]] + [("need", n) for n in f.needs]
        keys += [("class", x) for x in f.classes] + [("enterprise", x) for x in f.names] + [("conditions", "")]
        if f.region and f.region.place and f.region.kind != "outside":
            keys.append(("region", ""))
        out = set(similar)
        for key in keys:
            out |= self._index.get(key, set())
        if f.terms:
            out |= {i for i, it in enumerate(self.items) if any(t in it.norm_quote for t in f.terms)}
        if f.asked:
            where = self._word_index()[2]
            out |= {i for t in f.asked for i in where.get(t, ())}
        out |= {i for i, j in self.opener_of.items() if j in out}
        return out

    def _lead_ins_follow_items(self, scored: list[_Scored]) -> None:
        """A lead-in ("企业的下列所得，可以免征、减征企业所得税：") relieves only through its items: it ranks just after
        its best item, and at half its own score when none of them is for the profile. A sentence its article's
        opening lends support to ranks at least just after that opening."""
        by_index = {sc.index: sc for sc in scored}
        for i, j in self.opener_of.items():
            sc, opener = by_index.get(i), by_index.get(j)
            if sc is None or opener is None or not opener.reasons:
                continue
            follow = self.w.lead_in_follow * opener.score
            if follow > sc.score:
                sc.score = follow
                sc.reasons.append("与本条前句一并适用：" + opener.reasons[0])
        for j, items in self.items_of.items():
            lead = by_index.get(j)
            if lead is None:
                continue
            best = max((by_index[i].score for i in items if i in by_index and by_index[i].reasons), default=0.0)
            lead.score = min(lead.score, self.w.lead_in_follow * best) if best > 0 else lead.score * 0.5

    def _word_index(self) -> tuple[list[frozenset[str]], dict[str, float], dict[str, set[int]]]:
        """Each provision's words (the KB's segmenter, two characters or more), their rarity over the provisions,
        and the provisions each word occurs in: made once, on the first description that needs them."""
        if self._words is None:
            sets = [frozenset(t for t in self.tokens(it.prov.quote) if len(t) >= 2) for it in self.items]
            where: dict[str, set[int]] = {}
            for i, words in enumerate(sets):
                for t in words:
                    where.setdefault(t, set()).add(i)
            self._words = (sets, _rarity([list(x) for x in sets]), where)
        return self._words

    def _asked(self, description: str | None) -> dict[str, float]:
        """The description's words that are rare among the provisions (限行, 折旧): the enterprise's question in
        the texts' own words. Words no provision uses tell nothing."""
        if not description or self.tokens is None:
            return {}
        rarity = self._word_index()[1]
        common = (lambda t: (self.word_frequency(t) or 0) > self.w.asked_common) if self.word_frequency else None
        # (rare in formal clauses is not enough: 以后, 不能, 处理 are everyday words that ask nothing)
        return {t: rarity[t] for t in dict.fromkeys(self.tokens(description))
                if rarity.get(t, 0.0) >= self.w.asked_rarity and not (common and common(t))}

    def warm_up(self) -> None:
        """Embed the taxonomy's words and index the provisions' words now (a few seconds once) rather than in the
        first profile that needs them."""
        self._anchors()
        if self.tokens is not None:
            self._word_index()

    def _anchors(self) -> tuple[list[str], list[str | None], np.ndarray]:
        """The taxonomy's words with the class each names (its terms and member words; None: a segment's words),
        embedded once: the known words a product name is compared with."""
        if self._anchor_vectors is None:
            labels: dict[str, str | None] = {}
            for c in self.tax.classes:
                for w in (c.id, *c.terms, *c.members):
                    labels.setdefault(w, c.id)
            for seg in self.tax.segments:  # a segment's words name parts and topics (变速器, 充电): no class
                for w in (seg.id, *seg.terms):
                    labels.setdefault(w, None)
            self._anchor_words, self._anchor_labels = list(labels), list(labels.values())
            self._anchor_vectors = np.asarray(self.embed_queries(self._anchor_words), dtype=np.float32)
        return self._anchor_words, self._anchor_labels, self._anchor_vectors

    def unplaced(self, p: Profile, f: Facts) -> list[str]:
        """The type and products that neither a segment nor a class's words place: compared with the taxonomy's
        words by e5 (classes_by_similarity)."""
        if not self.tax.classes:
            return []
        # An enterprise type that names a kind of operator ("民营中小企业", "地方政府") says who, not what it makes.
        typ = p.enterprise_type if p.enterprise_type and not (set(tag(p.enterprise_type, self.tax.actors)) - {"企业"}
                                                              or f.government) else None
        return [v for v in ([typ] if typ else []) + p.products
                if not tag(v, self.tax.segments)
                and not any(_class_evidence(v, c, f, self.tax, product=v in p.products, whole=v == p.enterprise_type)
                            for c in self.tax.classes)]

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Query vectors of `texts`, those not cached in one batch (the encoder reads its weights once per call, so a
        profile's text and its products cost one call); the last `encode_cache` texts are kept per KB."""
        with self._encoded_lock:  # the web app matches profiles in several threads
            out = {t: self._encoded[t] for t in texts if t in self._encoded}
        todo = list(dict.fromkeys(t for t in texts if t not in out))
        # Short names (products) apart from the long profile text: a batch is padded to its longest text, so three
        # texts of ~80 and ~8 tokens cost three long ones together and about one apart (ONNX: 180 → 85 ms).
        longest = max(map(len, todo), default=0)
        for batch in ([t for t in todo if 2 * len(t) > longest], [t for t in todo if 2 * len(t) <= longest]):
            if batch:
                out.update(zip(batch, np.asarray(self.embed_queries(batch), dtype=np.float32)))
        with self._encoded_lock:
            for t in dict.fromkeys(texts):
                self._encoded[t] = out[t]
                self._encoded.move_to_end(t)
            while len(self._encoded) > self.w.encode_cache:
                self._encoded.popitem(last=False)
        return out

    def classes_by_similarity(self, p: Profile, f: Facts, vectors: dict[str, np.ndarray] | None = None) -> None:
        """Item 3 of issue 14: a product the taxonomy's words do not place ("柴油叉车和正面吊", "硫酸镍") takes the
        class of the nearest taxonomy word by e5 similarity, when that word is close enough and belongs to a class
        the texts name; the nearest word is the reason shown. Products already placed by a segment are left.
        `vectors`: the products' query vectors when already encoded."""
        todo = self.unplaced(p, f)
        if not todo:
            return
        given = vectors or self.encode(todo)
        words, labels, anchors = self._anchors()
        for v in todo:
            sims = anchors @ given[v]
            best = int(np.argmax(sims))
            cls = labels[best]
            if cls and sims[best] >= self.w.class_similarity:
                label = "企业类型" if v == p.enterprise_type else "产品"
                f.classes.setdefault(cls, f"{label}“{_short(v)}”与“{words[best]}”语义最接近（e5 相似度"
                                          f"{sims[best]:.2f}），属于{cls}")
                f.class_values.setdefault(cls, []).append(norm(v))
                f.made.add(cls)

    @staticmethod
    def profile_text(p: Profile) -> str:
        """What the profile's e5 similarity is computed from. With a description: the products, activities and the
        description — the type, titles and needs are matched field by field (actor, qualification, need), and the
        encoding, proportional to the tokens, is most of the time a profile takes (genre profiles: 76 -> 70 tokens;
        dev 0.846 / 0.817 -> 0.821, plan profiles 0.957 / 0.735 -> 0.739). Without one, every field but the name and
        the region."""
        if p.description:
            parts = ["、".join(p.products), "、".join(p.activities), p.description]
        else:
            parts = [p.enterprise_type, "、".join(p.products), "、".join(p.activities), "、".join(p.qualifications),
                     "、".join(p.needs)]
        return "；".join(x for x in parts if x)[:500]

    def _semantic(self, query: np.ndarray | None) -> np.ndarray | None:
        """Per stored sentence: similarity rescaled to 0 at the median provision and 1 at the best (None: no text)."""
        if query is None or not len(self.rows):
            return None
        sims = self.vectors @ query
        ref = sims[self.rows]
        lo, hi = float(np.median(ref)), float(ref.max())
        return np.clip((sims - lo) / max(hi - lo, 1e-6), 0.0, 1.0)

    def _field_score(self, i: int, it: _Indexed, p: Profile, f: Facts) -> _Scored:
        prov, score, reasons, w = it.prov, 0.0, [], self.w
        for_others = False
        # segments named in the sentence (else only by its heading or run-in title), weighted by rarity
        hits = sorted(((f.segments[s] * self.rarity.get(s, 1.0), s) for s in prov.segments if s in f.segments),
                      reverse=True)
        ctx = sorted(((0.5 * f.segments[s] * self.rarity.get(s, 1.0), s) for s in prov.context_segments
                      if s in f.segments), reverse=True)
        if hits:
            score += w.segment * hits[0][0] / it.spread + w.segment_extra * min(2, len(hits) - 1)
            reasons += self._segment_reasons([s for _, s in hits], f, prov.quote)
        elif ctx:
            score += w.segment * ctx[0][0]
            where = prov.lead or prov.section[-1]
            reasons.append(f"条款所在部分“{where}”涉及{ctx[0][1]}（{self._source(ctx[0][1], f)}）")
        terms = [t for t in f.terms if t in it.norm_quote][:2]
        if terms:
            score += w.term * len(terms)
            reasons.append("产品用语“" + "、".join(terms) + "”见于条款原文")
        if f.asked:
            words = self._word_index()[0][i]
            asked = sorted(((r, t) for t, r in f.asked.items() if t in words), reverse=True)[:2]
            if asked:
                score += w.asked_word * sum(r for r, _ in asked)
                reasons.append("企业简介所问的“" + "、".join(t for _, t in asked) + "”见于条款原文")
        # whom it names
        specific = [a for a in prov.targets if a != "企业"]
        # a law's "中小企业应当依法经营，遵守…" is the profile's duty, not support for it
        matched = [a for a in specific if a in f.actors and a not in it.obliged]
        # On topic: the provision names one of the profile's segments or a sub-segment (its parent alone — 整车 for a
        # 港口牵引车 maker — is not enough), or the profile names no segment at all.
        topical = not f.segments or any(s in f.on_topic for s in [*prov.segments, *prov.context_segments])
        if matched:
            score += w.actor * max(self.actor_rarity.get(a, 1.0) for a in matched) * (1.0 if topical else 0.5)
            reasons.append(f"企业类型“{p.enterprise_type or f.actors[matched[0]]}”：条款面向{'、'.join(matched)}")
        elif "企业" in prov.targets and f.enterprise:
            score += w.enterprise
        elif specific and f.government and "地方政府" not in specific:
            score += w.actor_mismatch
        elif it.beneficiaries and f.actors and not set(it.beneficiaries) & set(f.actors):
            score += w.beneficiary_mismatch  # "国家鼓励机动车生产企业从事报废机动车回收" is not for an independent dismantler
            for_others = True
        for q, v in f.qualifications.items():
            if q in it.qualifications:
                score += w.qualification
                reasons.append(f"资质“{v}”：条款提及“{it.qualifications[q][0]}”")
                break
        else:
            rel = next((r for r in f.related_qualifications if "~" + r in it.qualifications), None)
            if rel:
                score += w.qualification * 0.5
                reasons.append(f"资质“{f.qualifications[f.related_qualifications[rel]]}”：条款提及相关的“{rel}”")
            if prov.genre and prov.genre != "规划" and any(not q.startswith("~") for q in it.qualifications):
                # a law relieving 高新技术企业 or 退役军人 relieves them, not an enterprise that lists other titles
                # (half when the profile lists none: unknown)
                score += w.qualification_unmet * (1.0 if p.qualifications else 0.5)
                for_others = for_others or bool(p.qualifications)
        region = self._region_score(it, f, reasons)
        score += region
        # Needs and activities: per activity the better of "the provision offers the support it needs" and "the
        # provision names the activity" (both usually rest on the same word: 示范, 融资), the two best activities.
        # A topical support (pilots, platforms) counts fully only when the provision also matches on segment,
        # enterprise type or region.
        on_topic = bool(topical and f.segments or matched or region)
        gains = []
        stated = f.stated
        for a, value in f.activities.items():
            need, act = 0.0, 0.0
            support = self.needs.get(a)
            if support in stated:
                continue  # an activity that is a need the profile also states (融资 from "贷款") counts once, as stated
            if support in prov.support_types:
                # a rare activity named verbatim ("上路测试") is itself on topic; 示范/试点 words are not
                named = a in it.activities and self.rarity.get(a, 1.0) >= w.specific_activity
                full = on_topic or named or support not in TOPICAL_SUPPORT
                need = w.need * self.support_rarity.get(support, 1.0) * (1.0 if full else 0.5)
            if a in it.activities:
                act = w.activity * self.rarity.get(a, 1.0) ** 4
            if need or act:
                why = (f"业务需求“{_short(value)}”：条款涉及{support}支持" if need >= act
                       else f"业务活动“{_short(value)}”：条款涉及“{it.activities[a][0]}”")
                gains.append((max(need, act), why))
        for gain, why in sorted(gains, reverse=True)[:2]:
            score += gain
            reasons.append(why)
        gain, needs, others = self._need_and_class_score(it, f, reasons)
        score += gain
        names = [e for e in f.names if e in prov.enterprises]
        if names:
            score += w.name
            reasons.append(f"企业名称“{p.name}”：条款点名{names[0]}")
        judged = [_judge(c, p, f) for c in it.conditions]
        conditions = [c for c, _, _ in judged]
        if prov.lead_in:  # the list item is relief only as its lead-in says ("企业的下列支出，可以…加计扣除：")
            conditions.insert(0, Condition(text=prov.lead_in.strip(), status="unknown",
                                           basis="本项适用于引导语所述情形，须同时符合引导语的条件"))
        met = [c for (c, _, _), spec in zip(judged, it.conditions) if c.status == "met" and spec.decisive]
        # a case met on all the profile can show, the rest unknown ("拆解的报废机动车…具备再制造条件的") counts half
        partly = [c for (c, _, checked), spec in zip(judged, it.conditions)
                  if checked and c.status == "unknown" and spec.decisive and spec.own]
        # Thresholds (从业人数不超过300人, 浓度值低于…标准百分之三十) against the figures the profile states: a figure on
        # the wrong side is a hard condition; none stated, unknown.
        figures = [_figure_condition(t, f) for t in it.thresholds]
        for fig in figures:
            # a threshold inside a condition the profile's fields cannot decide ("纳税人排放…浓度值低于…标准百分之三十
            # 的") decides it; otherwise it is listed on its own
            own = len(conditions) - len(judged)  # the clause's own conditions follow a lead-in's
            at = next((j for j, spec in enumerate(it.conditions)
                       if fig.text in spec.text and not spec.specific and not spec.province), None)
            if at is None:
                conditions.append(fig)
            else:
                conditions[own + at] = fig.model_copy(update={"text": it.conditions[at].text})
        met += [c for c in figures if c.status == "met"]
        if met:
            score += w.condition_met
            reasons.append(f"满足条款条件“{met[0].text}”（{met[0].basis}）")
        elif partly:
            score += 0.5 * w.condition_met
            reasons.append(f"符合条款条件“{partly[0].text}”中可从档案判断的部分（{partly[0].basis}）")
        if any(hard and spec.own for (_, hard, _), spec in zip(judged, it.conditions)) \
                or any(c.status == "unmet" for c in figures):
            score += w.case_unmet  # the clause is for a case the profile is not in: another kind of operator
            for_others = True
        elif any(hard for _, hard, _ in judged):
            score += w.condition_unmet
        if reasons and it.strong:
            score += w.support_verb
        return _Scored(score, i, reasons, conditions, needs, others=for_others or others)

    def _region_score(self, it: _Indexed, f: Facts, reasons: list[str]) -> float:
        if not it.prov.regions or not f.region or not f.region.place or f.region.kind == "outside":
            return 0.0
        named = [r for r in it.prov.regions if r in (f.region.place, f.region.city)]
        if named:
            reasons.append(f"地区“{f.region.raw}”：条款点名{named[0]}")
            return self.w.region
        # a county of the profile's city (not a sibling county of the profile's own county)
        inside = [r for r in it.prov.regions if f.region.kind == "city" and self.tax.place_city(r) == f.region.city]
        if inside:
            reasons.append(f"地区“{f.region.raw}”：条款点名的{inside[0]}属于{f.region.city}")
            return self.w.region * 0.8
        if f.region.city and "~" + f.region.city in it.cities:
            area = next(r for r in it.prov.regions if f.region.city in self.tax.regions.areas.get(r, []))
            reasons.append(f"地区“{f.region.raw}”：条款点名的{area}包括{f.region.city}")
            return self.w.region * 0.6
        return 0.0

    def _need_and_class_score(self, it: _Indexed, f: Facts,
                              reasons: list[str]) -> tuple[float, tuple[str, ...], bool]:
        """The needs the profile states that the clause answers, and the classes of its products the clause names;
        with the stated needs the clause offers support for, and whether it names only classes not the profile's."""
        w, prov, score = self.w, it.prov, 0.0
        offered = [n for n in f.needs if not it.support_types.isdisjoint(self.needs_served[n])] if f.needs else []
        if offered:
            n = offered[0]
            kind = next(s for s in prov.support_types if s in self.needs_served[n])
            score += w.stated_need * (0.5 if prov.pointer else 1.0)
            reasons.append(f"关注{n}（“{_short(f.needs[n])}”）：条款涉及{kind}")
        elif (said := next(((n, t) for n in f.needs for t in it.need_words.get(n, []) if len(t) >= 3), None)) \
                and prov.genre == "规划":
            # A plan's support types are coarse (方向引导): the need's own words in the clause answer it
            # ("推动老旧汽车更新换代为新能源汽车" for a fleet that wants to replace its old trucks); words of three
            # characters or more, as 检验 inside 检验检测 is no vehicle inspection.
            score += w.stated_need
            reasons.append(f"关注{said[0]}（“{_short(f.needs[said[0]])}”）：条款提及“{said[1]}”")
            offered = [said[0]]
        elif f.needs and prov.genre and prov.genre != "规划" and not it.strong:
            score += w.unmet_need  # a law's clause offering nothing the profile asks about (鼓励/支持 may: general)
        elif f.needs and prov.support_types == [self.tax.default_support_type]:
            score += w.unmet_need_plan  # a plan's bare direction ("培育1000家科技型中小企业") for a profile asking for tax
        # A class the profile only buys, uses or handles (from an activity: "购置NMP回收装置", "车队运营") is not its
        # business in public procurement, which prefers the makers' products (使用财政性资金进行采购的，应当优先采购…).
        classes = [c for c in prov.classes if c in f.classes and (c in f.made or not it.procures)]
        if classes:
            score += w.product_class
            reasons.append(f"{f.classes[classes[0]]}：条款适用于{classes[0]}")
            # A clause that encourages the class by the profile's own word ("国家鼓励单位和个人安装和使用…太阳能光伏发电
            # 系统" for a 光伏 builder) counts more; one that names it only by a broader word ("国家鼓励和推进废物回收体系
            # 建设" for a lithium recycler: 废物) encourages a whole field, not this enterprise.
            said = [c for c in classes if any(t in v for t in it.class_words.get(c, ()) for v in f.class_values.get(c, ()))]
            # (not when it encourages another kind of operator by name: "国家鼓励机动车生产企业从事报废机动车回收活动")
            other = bool(it.beneficiaries) and bool(f.actors) and not set(it.beneficiaries) & set(f.actors)
            if it.strong and not offered and said and not other:
                score += w.encouraged_class
                reasons.append(f"条款鼓励或支持{said[0]}")
        elif prov.classes and prov.genre != "规划" and (f.classes or f.segments or f.actors):
            score += w.class_mismatch  # "电动自行车…以旧换新" is not for a battery maker
            return score, tuple(offered), True
        return score, tuple(offered), False

    def _source(self, seg: str, f: Facts) -> str:
        label, value, _ = f.segment_source[seg]
        return f"{label}“{_short(value)}”"

    def _segment_reasons(self, segs: list[str], f: Facts, quote: str) -> list[str]:
        """One reason per profile value: the best segment it reaches in the quote, and which words show it."""
        out, seen = [], set()
        for seg in segs:
            label, value, named = f.segment_source[seg]
            if value in seen:
                continue
            seen.add(value)
            terms = find_terms(quote, self.tax.segments_by_id[seg])
            said = "、".join(f"“{t}”" for t in terms[:2]) or seg
            if seg == named:
                out.append(f"{label}“{_short(value)}”属于{seg}：条款提及{said}")
            else:
                relation = "细分环节" if named in self.tax.ancestors(seg) else "上级环节"
                out.append(f"{label}“{_short(value)}”属于{named}：条款提及其{relation}{seg}（{said}）")
        return out


_MATCHERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def matcher_for(kb) -> Matcher:
    """The Matcher of a KnowledgeBase's current data, built once per loaded KB (a reload gets a new one)."""
    data = kb.data
    m = _MATCHERS.get(data)
    if m is None:
        m = _MATCHERS[data] = Matcher.from_kb(kb)
    return m


def eligibility(kb, profile: Profile | dict, k: int = 10) -> EligibilityResult:
    """Match a profile against the documents in force (as `kb.ask` answers from them): for the CLI and the app."""
    allowed = kb.allowed(None) if hasattr(kb, "allowed") else None
    return matcher_for(kb).match(profile, k=k, allowed_docs=allowed)


def caveats(quote: str, genre: str = "规划") -> list[str]:
    """What a plan's figures and years are not (a law's rates and years are the rule itself)."""
    if genre and genre != "规划":
        return []
    out = [CAVEAT_MONEY] if MONEY_AMOUNT.search(quote) else []
    return out + ([CAVEAT_YEAR] if YEAR.search(quote) else [])


def note_for(genre: str) -> str:
    return NOTES.get(genre, OTHER_NOTE) if genre else NOTE


def overall_note(matches: list[Match]) -> str:
    """The honesty note of the result: one per genre among the matches (the plan's when there are none)."""
    genres = list(dict.fromkeys(m.doc_type for m in matches)) or ["规划"]
    notes = list(dict.fromkeys(note_for(g) for g in genres))
    if any(m.pointer for m in matches):
        notes.append("标为“授权规定”的条款只授权其他机关另行规定，本身不给予减免或支持。")
    return "".join(notes)


# Who a clause obliges rather than relieves: the actor is the subject of 应当/不得/必须 ("电网企业应当…全额收购" relieves
# the generator, not the grid company). Actors that a law's clause addresses only as the obliged or the helper.
OBLIGED = "[^，。；：、]{0,8}?(?:应当|不得|必须)"
NOT_BENEFICIARIES = {"企业", "地方政府", "金融机构", "高校院所", "行业组织"}


def _without_actors(quote: str, tax: Taxonomy) -> str:
    """The quote with the names of kinds of actor masked: the 生产 of "机动车生产企业" is a name, not an activity."""
    for terms in tag(quote, tax.actors).values():
        for t in terms:
            quote = quote.replace(t, "□" * len(t))
    return quote


def obliged(quote: str, tax: Taxonomy) -> list[str]:
    """The kinds of actor a law's clause names only as the subject of a duty (应当/不得/必须)."""
    return [actor for actor, terms in tag(quote, tax.actors).items()
            if actor != "企业" and all(re.search(re.escape(t) + OBLIGED, quote) for t in terms if t in quote)]


def beneficiaries(quote: str, tax: Taxonomy) -> list[str]:
    """The specific kinds of actor a law's clause relieves or supports by name (not those it obliges)."""
    out = []
    for actor, terms in tag(quote, tax.actors).items():
        if actor in NOT_BENEFICIARIES:
            continue
        if any(not re.search(re.escape(t) + OBLIGED, quote) for t in terms if t in quote):
            out.append(actor)
    return out


def _rarity(tag_lists: list[list[str]]) -> dict[str, float]:
    """0.5 + 0.5·log(N/df)/log(N) per tag: 1 for a tag on one provision, 0.5 for one on all of them."""
    n = len(tag_lists)
    df: dict[str, int] = {}
    for tags in tag_lists:
        for t in set(tags):
            df[t] = df.get(t, 0) + 1
    if n < 2:
        return {t: 1.0 for t in df}
    return {t: 0.5 + 0.5 * math.log(n / d) / math.log(n) for t, d in df.items()}


def _chinese_number(n: int) -> str:
    """12 → 十二 (cn2an, imported on first use: it costs ~0.3 s)."""
    import cn2an

    return cn2an.an2cn(n)


def _short(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def _recognized(f: Facts) -> dict[str, list[str]]:
    named = dict.fromkeys(src[2] for src in f.segment_source.values())
    out = {"segments": list(named), "actors": [a for a in f.actors if a != "企业"],
           "activities": list(f.activities), "qualifications": list(f.qualifications), "needs": list(f.needs),
           "classes": list(f.classes)}
    if f.region:
        out["region"] = list(dict.fromkeys(x for x in (f.region.place, f.region.city) if x)) or [f.region.raw]
    if f.names:
        out["named_enterprises"] = f.names
    return {k: v for k, v in out.items() if v}
