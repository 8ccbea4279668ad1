"""Document filters for retrieval (level, region, issuer, type, date range, validity), parsed from `key=value`."""
from __future__ import annotations

from pydantic import BaseModel

from kb.core.records import LEVELS, VALIDITIES, DocMeta, normalize_level

ALL_VALIDITY = ("全部", "all")
KEYS = {"level": "层级", "region": "地区", "issuer": "发文机关", "doc_type": "文种", "date_from": "起始日期",
        "date_to": "截止日期", "validity": "效力", "doc_id": "文档"}
_KEY_ALIASES = {"type": "doc_type", "from": "date_from", "to": "date_to", "date>": "date_from",
                **{v: k for k, v in KEYS.items()}}


class FilterError(ValueError):
    """A filter that cannot be applied; the message lists the valid choices."""


class DocFilter(BaseModel):
    """Which documents may answer. By default only documents in force: a superseded version answers only when asked."""

    level: str = ""
    region: str = ""
    issuer: str = ""
    doc_type: str = ""
    date_from: str = ""  # ISO dates compare as strings
    date_to: str = ""
    validity: str = "现行"  # or 被替代 / 废止 / 全部
    doc_id: str = ""

    @property
    def is_default(self) -> bool:
        return self == DocFilter()

    def accepts(self, m: DocMeta) -> bool:
        if self.validity not in ALL_VALIDITY and (m.validity or "现行") != self.validity:
            return False
        if self.level and m.level != self.level:
            return False
        # Substring matches: "杭州" finds 杭州市; "发展改革" finds 浙江省发展和改革委员会 only if written so.
        if self.region and self.region not in m.region:
            return False
        if self.issuer and self.issuer not in m.issuer:
            return False
        if self.doc_type and self.doc_type not in m.doc_type:
            return False
        if self.doc_id and m.doc_id != self.doc_id:
            return False
        if (self.date_from or self.date_to) and not m.date:
            return False  # an undated document cannot be said to fall in a date range
        if self.date_from and m.date < self.date_from:
            return False
        if self.date_to and m.date[: len(self.date_to)] > self.date_to:  # "2021" includes all of 2021
            return False
        return True

    def allowed(self, docs: dict[str, DocMeta]) -> set[str] | None:
        """The doc_ids that pass, or None when every document passes (no restriction needed)."""
        ok = {d for d, m in docs.items() if self.accepts(m)}
        return None if len(ok) == len(docs) else ok

    def describe(self) -> str:
        parts = [f"{KEYS[k]}={v}" for k, v in self.model_dump().items() if v and not (k == "validity" and v == "现行")]
        return "，".join(parts)


def parse_filters(items: list[str] | None) -> DocFilter:
    """`["level=省级", "date_from=2020-01-01"]` → DocFilter; unknown keys or values say what is allowed."""
    values: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        key = _KEY_ALIASES.get(key, key)
        if not sep or not value:
            raise FilterError(f"过滤条件应写成 键=值，例如 level=省级（收到“{item}”）")
        if key not in KEYS:
            raise FilterError(f"未知的过滤键“{key}”，可选：{', '.join(KEYS)}")
        if key == "level":
            value = normalize_level(value) or _fail(f"未知的层级“{value}”，可选：{'、'.join(LEVELS)}")
        if key == "validity" and value not in VALIDITIES + ALL_VALIDITY:
            _fail(f"未知的效力“{value}”，可选：{'、'.join(VALIDITIES + ALL_VALIDITY)}")
        if key in ("date_from", "date_to"):
            value = _iso_date(value)
        values[key] = value
    return DocFilter(**values)


def _iso_date(value: str) -> str:
    """2020, 2020-03 or 2020-03-01 (also with / or .) → a comparable ISO prefix."""
    v = value.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").replace("日", "").strip("-")
    parts = v.split("-")
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3 or len(parts[0]) != 4:
        _fail(f"日期“{value}”无法识别，请写成 2021-04-08、2021-04 或 2021")
    return "-".join([parts[0]] + [p.zfill(2) for p in parts[1:]])


def _fail(message: str):
    raise FilterError(message)
