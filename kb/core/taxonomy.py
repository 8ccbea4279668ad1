"""Provisions (clauses that support, relieve, fund, prefer or protect someone, in a plan, a law or a regulation) and
the taxonomy that tags them."""
from __future__ import annotations

import re
from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from kb.core.settings import DATA_DIR
from kb.core.text import normalize

# Verbs by which a clause supports someone rather than merely sets a direction (加快, 推动 …).
SUPPORT_VERBS = ("支持", "鼓励", "扶持", "给予", "优先", "试点", "示范", "培育", "引进", "引育", "招引", "奖补", "帮助")
_LATIN = re.compile(r"^[A-Za-z]|[A-Za-z]$")
TAXONOMY_FILE = DATA_DIR / "taxonomy.json"


class Provision(BaseModel):
    """One supporting clause (a sentence of the document) with whom it targets, how and on what conditions.

    `quote == document.text[start:end]`; every condition is a verbatim substring of `quote`, except `lead_in`: the
    verbatim lead-in of a list ("企业的下列支出，可以在计算应纳税所得额时加计扣除：") that an item's quote depends on.
    """

    doc_id: str
    para_index: int
    start: int
    end: int
    quote: str
    section: list[str]  # heading path, outermost first
    lead: str = ""  # the paragraph's run-in title ("重点突破动力电池"), which scopes every sentence under it
    targets: list[str] = Field(default_factory=list)  # actor types named (taxonomy actor ids)
    enterprises: list[str] = Field(default_factory=list)  # enterprises named (吉利, 三花 …)
    segments: list[str] = Field(default_factory=list)  # taxonomy segment ids named in the quote itself
    context_segments: list[str] = Field(default_factory=list)  # named only by the heading path or run-in title
    regions: list[str] = Field(default_factory=list)  # places named (cities, counties, areas such as 杭州湾)
    support_types: list[str] = Field(default_factory=list)  # 资金/专项, 金融, 用地, 试点/示范, 平台, 人才, 标准, 政策
    conditions: list[str] = Field(default_factory=list)  # verbatim: "具备行业整合能力的龙头企业", "符合条件的…项目"
    verbs: list[str] = Field(default_factory=list)  # 支持, 鼓励, 试点, 推动 … in order of appearance
    genre: str = ""  # the document's doc_type (规划, 法律, 行政法规, 地方性法规 …)
    lead_in: str = ""  # a list item's lead-in sentence, verbatim: the item is relief only under it
    classes: list[str] = Field(default_factory=list)  # classes the text names (机动车, 非道路移动机械, 可再生能源 …)
    pointer: bool = False  # only empowers another body to set relief later ("具体办法由国务院…另行制定")
    points_to: str = ""  # the verbatim phrase that says where the relief is to be set

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)


# NFKC and lower case: full-width ＩＧＢＴ, igbt and IGBT are one term (used for matching, never for quoting).
norm = normalize


class Entry(BaseModel):
    """A taxonomy entry: an id and the terms that name it; `exclude` phrases are masked before matching."""

    id: str
    terms: list[str]
    exclude: list[str] = Field(default_factory=list)
    parent: str | None = None
    related: list[str] = Field(default_factory=list)  # weaker evidence (专精特新 ~ 小巨人)
    support: str | None = None  # an activity that is a need (融资) and the support type that meets it (金融)
    relief: bool = False  # a support type that makes a clause of a law or regulation a provision (免征, 补贴, 优先 …)

    @cached_property
    def normed(self) -> list[tuple[str, str, re.Pattern[str] | None]]:
        """(term, normalised term, word pattern for Latin terms), longest first, so a term inside a longer found
        one can be skipped. Latin terms match as whole words: OTA is not in "robotaxi", SiC not in "basic"."""
        out = [(t, norm(t), re.compile(rf"(?<![a-z]){re.escape(norm(t))}(?![a-z])") if _LATIN.search(t) else None)
               for t in self.terms]
        return sorted(out, key=lambda x: len(x[1]), reverse=True)

    @cached_property
    def normed_exclude(self) -> list[str]:
        return [norm(x) for x in self.exclude]


class Need(Entry):
    """What a profile says it cares about (税, 贷款, 用地 …) and the support types that answer it."""

    serves: list[str] = Field(default_factory=list)  # support types that answer the need


class ProductClass(Entry):
    """A class the texts name (机动车, 非道路移动机械): its own terms, and the segments and product words of its
    members, since a profile names a product ("换电重型集卡") more specifically than a clause names its class."""

    segments: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)


class Regions(BaseModel):
    province: str
    province_terms: list[str]
    cities: dict[str, list[str]]  # city -> its counties and districts
    areas: dict[str, list[str]]  # named area (杭州湾, 温台 …) -> the cities it spans
    outside: list[str]  # provinces and cities outside Zhejiang


class Taxonomy(BaseModel):
    segments: list[Entry]
    actors: list[Entry]
    government: list[str]
    activities: list[Entry]
    qualifications: list[Entry]
    support_types: list[Entry]
    needs: list[Need] = Field(default_factory=list)
    classes: list[ProductClass] = Field(default_factory=list)
    default_support_type: str
    regions: Regions
    enterprises: list[str]

    @cached_property
    def segments_by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.segments}

    def ancestors(self, seg_id: str) -> list[str]:
        """Parent, grandparent … of a segment (the taxonomy is a forest)."""
        by_id, out = self.segments_by_id, []
        cur = by_id[seg_id].parent
        while cur and cur not in out:
            out.append(cur)
            cur = by_id[cur].parent
        return out

    def place_city(self, place: str) -> str | None:
        """The Zhejiang city a city or county name belongs to."""
        if place in self.regions.cities:
            return place
        return next((c for c, counties in self.regions.cities.items() if place in counties), None)

    @cached_property
    def place_names(self) -> list[tuple[str, str]]:
        """Every Zhejiang place and area name with its normalised form, longest first (杭州湾 before 杭州)."""
        names = set(self.regions.cities) | set(self.regions.areas)
        names |= {c for counties in self.regions.cities.values() for c in counties}
        return sorted(((n, norm(n)) for n in names), key=lambda x: len(x[1]), reverse=True)


@lru_cache(maxsize=4)
def load_taxonomy(path: str | Path = TAXONOMY_FILE) -> Taxonomy:
    return Taxonomy.model_validate_json(Path(path).read_text(encoding="utf-8"))


def find_terms(text: str, entry: Entry, normalised: bool = False) -> list[str]:
    """The entry's terms found in `text` (longest first), after masking its exclude phrases; a term inside a
    longer found term adds nothing ("电池" inside "动力电池")."""
    t = text if normalised else norm(text)
    for x in entry.normed_exclude:
        t = t.replace(x, "□" * len(x))
    found: list[tuple[str, str]] = []
    for term, n, word in entry.normed:
        if n in t and (word is None or word.search(t)) and not any(n in g for _, g in found):
            found.append((term, n))
    return [term for term, _ in found]


def tag(text: str, entries: list[Entry]) -> dict[str, list[str]]:
    """Entry id -> the terms of it found in `text`, for every entry that matches."""
    t = norm(text)
    out = {}
    for e in entries:
        hits = find_terms(t, e, normalised=True)
        if hits:
            out[e.id] = hits
    return out


def tag_outermost(text: str, entries: list[Entry]) -> dict[str, list[str]]:
    """`tag`, without the entries named only inside another entry's longer term: "报废机动车" is the class
    报废机动车, not also 机动车."""
    hits = tag(text, entries)
    return {e: ts for e, ts in hits.items()
            if not all(any(norm(t) in norm(u) and t != u for d, us in hits.items() if d != e for u in us) for t in ts)}


def places_in(text: str, tax: Taxonomy | None = None) -> list[str]:
    """Zhejiang places and areas named in `text`, in order of appearance (杭州 inside 杭州湾 is not counted)."""
    tax = tax or load_taxonomy()
    t, taken, found = norm(text), [], []
    for name, n in tax.place_names:  # longest first
        i = t.find(n)
        while i >= 0:
            if not any(a <= i < b for a, b in taken):
                taken.append((i, i + len(n)))
                found.append((i, name))
            i = t.find(n, i + 1)
    return list(dict.fromkeys(name for _, name in sorted(found)))
