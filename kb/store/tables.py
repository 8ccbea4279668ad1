"""Structured tables of targets, projects and responsibilities: records, SQLite storage, queries and export."""
from __future__ import annotations

import csv
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal
from urllib.request import pathname2url

from pydantic import BaseModel, Field

from kb.core.text import bigrams, compact
from kb.core.timeexpr import PERIOD, YEAR_NUMBER

YEAR_NUMBER_RE = re.compile(YEAR_NUMBER)

TABLES_DB = "tables.sqlite"  # file name inside the KB directory


class Target(BaseModel):
    """A stated figure (指标): what is measured, the number as written, and where the document says it."""

    doc_id: str
    section: str  # heading path joined by " > "
    indicator: str  # e.g. 新能源汽车产量
    value: str  # the number as written: "60", "7.7", "1,500", "100-150"
    unit: str  # as written: 万辆, 亿元, %, 千瓦时/百公里
    qualifier: str = ""  # as written, "…" joining separated words: 力争达到, 达到…以上, 累计…超过
    year: str = ""  # "2025", "2020" or a period as written ("“十四五”期间"); "" when the text gives none
    kind: Literal["target", "baseline", "forecast"] = "target"
    scope: str = ""  # 全省, 杭州, 嘉善县, 吉利汽车集团 …
    quote: str  # clause-length substring of the document text containing the figure
    start: int  # offsets of `quote` in the document text
    end: int
    value_norm: float | None = None  # for arithmetic: 60万辆 → 600000 (unit_norm 辆); None for ranges
    unit_norm: str = ""


class Project(BaseModel):
    """A named project of a project list (专栏), or a field-level row carrying the field's stated investment.

    The plan states investment per field (“预计完成投资1500亿元”), never per project. So each field gets one
    row with level="field" whose `investment` is that figure, and each project row leaves `investment`
    empty (the plan does not state it) and repeats its field's figure in `field_investment`.
    """

    doc_id: str
    section: str
    name: str
    organization: str = ""
    location: str = ""
    field: str = ""  # e.g. 动力电池与管理系统领域
    capacity: str = ""  # e.g. 年产80G瓦时锂电池
    investment: str = ""  # as written, e.g. 1500亿元; only where the text attaches it to this row
    level: Literal["project", "field"] = "project"
    field_investment: str = ""  # the field's stated total investment, on project rows
    quote: str
    start: int
    end: int


class Responsibility(BaseModel):
    """Who is to do what: a department, government level, association, or a named enterprise that is supported."""

    doc_id: str
    section: str
    actor: str  # as written: 省发展改革委, 各级政府, 新能源汽车行业协会、产业联盟、专家组, 吉利集团 …
    duty: str
    role: Literal["牵头", "协同", "实施", "支持对象"] = "实施"
    cue: str = ""  # the word that signals it: 牵头, 要, 支持, 鼓励, 请 …
    quote: str
    start: int
    end: int


class Tables(BaseModel):
    targets: list[Target] = Field(default_factory=list)
    projects: list[Project] = Field(default_factory=list)
    responsibilities: list[Responsibility] = Field(default_factory=list)


KINDS = ("targets", "projects", "responsibilities")
MODELS: dict[str, type[BaseModel]] = {"targets": Target, "projects": Project, "responsibilities": Responsibility}

# ../shared/interfaces.md §2b: these columns first, in this order; the remaining model fields follow.
CONTRACT_COLUMNS: dict[str, list[str]] = {
    "targets": ["doc_id", "section", "indicator", "value", "unit", "qualifier", "year", "kind", "quote"],
    "projects": ["doc_id", "section", "name", "organization", "field", "capacity", "investment", "quote"],
    "responsibilities": ["doc_id", "section", "actor", "duty", "quote"],
}


def columns(kind: str) -> list[str]:
    """Export column order: the contract columns, then every other field of the record."""
    first = CONTRACT_COLUMNS[kind]
    return first + [f for f in MODELS[kind].model_fields if f not in first]


def merge_tables(parts: Iterable[Tables]) -> Tables:
    out = Tables()
    for t in parts:
        out.targets += t.targets
        out.projects += t.projects
        out.responsibilities += t.responsibilities
    return out


# ---------------------------------------------------------------- SQLite storage

_SQL_TYPES = {"value_norm": "REAL", "start": "INTEGER", "end": "INTEGER"}


def _create_sql(kind: str) -> str:
    cols = ", ".join(f'"{c}" {_SQL_TYPES.get(c, "TEXT")}' for c in columns(kind))
    return f'CREATE TABLE "{kind}" (id INTEGER PRIMARY KEY, {cols})'


def write_tables(tables: Tables | Iterable[Tables], db_path: str | Path) -> Path:
    """Write the tables (one Tables or several, e.g. one per document) to SQLite, atomically.

    The file holds exactly what is passed: call it once with the tables of every document
    (`write_tables([extract_tables(d, parse(d)) for d in docs], kb_dir / TABLES_DB)`), not once per document.

    The database is written to a temporary file in the same directory and moved into place with
    os.replace, so a reader never sees a half-written file.
    """
    merged = tables if isinstance(tables, Tables) else merge_tables(tables)
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tables-", suffix=".sqlite.tmp", dir=db_path.parent)
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            for kind in KINDS:
                cols = columns(kind)
                con.execute(_create_sql(kind))
                marks = ", ".join("?" for _ in cols)
                names = ", ".join(f'"{c}"' for c in cols)
                rows = [[r.model_dump()[c] for c in cols] for r in getattr(merged, kind)]
                con.executemany(f'INSERT INTO "{kind}" ({names}) VALUES ({marks})', rows)
            con.commit()
        finally:
            con.close()
        os.replace(tmp, db_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return db_path


# ---------------------------------------------------------------- queries

_QUOTES = "“”\"'‘’「」"
# Bigrams that say nothing about which figure is wanted.
_STOP_CHARS = set("的了吗呢是有和与及在到年多少几个什么哪目标指标要求达规划全省我省期间计划预期会将")


def _question_terms(question: str) -> set[str]:
    """Bigrams of the question, minus those made only of function/generic characters and years."""
    terms = {t for t in bigrams(question) if not all(c in _STOP_CHARS for c in t)}
    return {t for t in terms if not YEAR_NUMBER_RE.fullmatch(t)}


class TableStore:
    """Read-only access to tables.sqlite: filtered listings, a question helper, export and terminal display."""

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        if not self.db_path.is_file():
            raise FileNotFoundError(str(self.db_path))
        # Read-only; usable from the web app's worker threads since nothing is written.
        uri = "file:" + pathname2url(str(self.db_path.resolve())) + "?mode=ro"
        self._con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._con.row_factory = sqlite3.Row

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> TableStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _select(self, kind: str, where: list[tuple[str, object]]) -> list:
        sql = f'SELECT * FROM "{kind}"'
        if where:
            sql += " WHERE " + " AND ".join(w for w, _ in where)
        rows = self._con.execute(sql + " ORDER BY id", [v for _, v in where]).fetchall()
        model = MODELS[kind]
        return [model(**{k: r[k] for k in r.keys() if k != "id"}) for r in rows]

    @staticmethod
    def _like(col: str, value: str | None) -> list[tuple[str, object]]:
        return [(f'"{col}" LIKE ?', f"%{value}%")] if value else []

    def targets(self, indicator_like: str | None = None, year: str | int | None = None, kind: str | None = None,
                section_like: str | None = None, doc_id: str | None = None) -> list[Target]:
        """Targets filtered by substring of indicator/section, year (2025, "2025" or "十四五"), kind, doc."""
        where = self._like("indicator", indicator_like) + self._like("section", section_like)
        if kind:
            where.append(('"kind" = ?', kind))
        if doc_id:
            where.append(('"doc_id" = ?', doc_id))
        rows = self._select("targets", where)
        if year is not None:
            y = str(year).strip(_QUOTES)
            # A period is stored as written (“十四五”期间); compare without its quote marks.
            rows = [r for r in rows if r.year == y or (y and y in r.year.translate({ord(c): None for c in _QUOTES}))]
        return rows

    def projects(self, name_like: str | None = None, organization_like: str | None = None,
                 field_like: str | None = None, level: str | None = None, doc_id: str | None = None) -> list[Project]:
        where = (self._like("name", name_like) + self._like("organization", organization_like)
                 + self._like("field", field_like))
        if level:
            where.append(('"level" = ?', level))
        if doc_id:
            where.append(('"doc_id" = ?', doc_id))
        return self._select("projects", where)

    def responsibilities(self, actor_like: str | None = None, role: str | None = None,
                         doc_id: str | None = None) -> list[Responsibility]:
        where = self._like("actor", actor_like)
        if role:
            where.append(('"role" = ?', role))
        if doc_id:
            where.append(('"doc_id" = ?', doc_id))
        return self._select("responsibilities", where)

    def all(self) -> Tables:
        return Tables(targets=self.targets(), projects=self.projects(), responsibilities=self.responsibilities())

    def find_targets_for_question(self, question: str | Sequence[str], limit: int = 5,
                                  kind: str | None = None) -> list[tuple[float, Target]]:
        """Targets ranked for a question such as “2025年加氢站建成多少座”, best first, with their scores.

        `question` is the question text, or a list of keywords chosen by the caller. Scoring, kept simple:
        - terms: the keywords as given, or the question's character bigrams minus generic ones (多少, 目标 …);
        - each term found in the indicator scores 2, in the quote, scope or section only 1;
        - a year/period named in the question (2025, 十四五) multiplies the score by 1.5 when the row has it
          and by 0.5 when the row states a different one;
        - rows scoring 0 are dropped; ties keep document order.
        """
        if isinstance(question, str):
            text, terms = question, _question_terms(question)
        else:
            text, terms = "".join(question), {compact(k) for k in question if k.strip()}
        years = set(YEAR_NUMBER_RE.findall(compact(text))) | set(PERIOD.findall(text))
        scored: list[tuple[float, int, Target]] = []
        for i, t in enumerate(self.targets(kind=kind)):
            ind, ctx = compact(t.indicator), compact(t.quote + t.scope + t.section)
            score = float(sum(2 if term in ind else 1 if term in ctx else 0 for term in terms))
            if score and years:
                row_year = t.year.strip(_QUOTES)
                if any(y in t.year for y in years):
                    score *= 1.5
                elif row_year:
                    score *= 0.5
            if score > 0:
                scored.append((score, i, t))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [(s, t) for s, _, t in scored[:limit]]

    def export(self, out_dir: str | Path) -> list[Path]:
        """targets.csv, projects.csv, responsibilities.csv (UTF-8 with BOM) and tables.xlsx with the same sheets."""
        return export_tables(self.all(), out_dir)

    def format_table(self, kind: str, max_width: int = 28) -> str:
        return format_table(self.all(), kind, max_width=max_width)


# ---------------------------------------------------------------- export

def export_tables(tables: Tables, out_dir: str | Path) -> list[Path]:
    from openpyxl import Workbook

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    wb = Workbook()
    wb.remove(wb.active)
    for kind in KINDS:
        cols = columns(kind)
        rows = [[r.model_dump()[c] for c in cols] for r in getattr(tables, kind)]
        path = out / f"{kind}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM so Excel reads UTF-8
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows(["" if v is None else v for v in row] for row in rows)
        paths.append(path)
        ws = wb.create_sheet(kind)
        ws.append(cols)
        for row in rows:
            ws.append(row)
    xlsx = out / "tables.xlsx"
    wb.save(xlsx)
    paths.append(xlsx)
    return paths


# ---------------------------------------------------------------- terminal display

DISPLAY_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "targets": [("indicator", "指标"), ("value", "数值"), ("unit", "单位"), ("qualifier", "限定"),
                ("year", "年份"), ("kind", "类型"), ("scope", "范围"), ("section", "章节")],
    "projects": [("field", "领域"), ("name", "项目"), ("organization", "单位"), ("location", "地点"),
                 ("capacity", "产能"), ("investment", "投资"), ("field_investment", "领域投资")],
    "responsibilities": [("actor", "主体"), ("role", "角色"), ("duty", "职责"), ("section", "章节")],
}
KIND_NAMES = {"targets": "目标指标", "projects": "重大项目", "responsibilities": "责任分工"}


def display_width(s: str) -> int:
    """Terminal columns: wide (W) and full-width (F) East Asian characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _fit(s: str, width: int) -> str:
    """Truncate to `width` columns (with …) and pad with spaces to exactly `width`."""
    if display_width(s) > width:
        out, w = "", 0
        for c in s:
            cw = display_width(c)
            if w + cw > width - 1:
                break
            out, w = out + c, w + cw
        s = out + "…"
    return s + " " * (width - display_width(s))


def format_table(tables: Tables, kind: str, max_width: int = 28) -> str:
    """A readable, aligned table of one kind; cells longer than `max_width` columns are truncated."""
    if kind not in KINDS:
        raise ValueError(f"未知的表：{kind}（可选：{', '.join(KINDS)}）")
    spec = DISPLAY_COLUMNS[kind]
    rows = [[str(r.model_dump()[c] or "") for c, _ in spec] for r in getattr(tables, kind)]
    if kind == "targets":  # the section path is long; its last part says enough on a terminal
        rows = [row[:-1] + [row[-1].rsplit(" > ", 1)[-1]] for row in rows]
    header = [h for _, h in spec]
    widths = [min(max_width, max([display_width(h)] + [display_width(r[i]) for r in rows])) for i, h in
              enumerate(header)]
    lines = [f"{KIND_NAMES[kind]}（{len(rows)} 条）", "  ".join(_fit(h, w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(_fit(c, w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)
