"""The tables tab: targets, projects and responsibilities with filters and CSV downloads, and a chart of the
targets next to the baselines the documents state for them."""
from __future__ import annotations

import csv
import threading
import uuid
from collections import Counter
from pathlib import Path

import gradio as gr
import pandas as pd

from kb.service import KnowledgeBase
from kb.store.tables import DISPLAY_COLUMNS, KINDS, TableStore, columns

KIND_LABELS = [("全部", ""), ("目标", "target"), ("基数（现状）", "baseline"), ("预测", "forecast")]
KIND_NAMES = {"target": "目标", "baseline": "基数", "forecast": "预测"}
ROLE_LABELS = [("全部", ""), ("牵头", "牵头"), ("协同", "协同"), ("实施", "实施"), ("支持对象", "支持对象")]
# The files kb.store.tables.export_tables writes (its test checks these names).
EXPORT_FILES = tuple(f"{kind}.csv" for kind in KINDS) + ("tables.xlsx",)
EXTRA_COLUMNS = {"targets": [("quote", "原文")], "projects": [("quote", "原文")], "responsibilities": [("quote", "原文")]}


def table_frame(kind: str, rows: list) -> pd.DataFrame:
    spec = DISPLAY_COLUMNS[kind] + EXTRA_COLUMNS[kind]

    def cell(r, c: str) -> str:
        v = getattr(r, c)
        v = "" if v is None else str(v)
        if c == "kind":
            return KIND_NAMES.get(v, v)
        return " > ".join(v.split(" > ")[-2:]) if c == "section" else v  # the full path is in the CSV

    data = [[cell(r, c) for c, _ in spec] for r in rows]
    return pd.DataFrame(data, columns=[h for _, h in spec])


def write_csv(kind: str, rows: list, path: Path) -> Path:
    """The rows in the export format (interfaces.md §2b): contract columns first, UTF-8 with BOM."""
    cols = columns(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            d = r.model_dump()
            w.writerow(["" if d[c] is None else d[c] for c in cols])
    return path


def target_year(targets: list) -> str | None:
    """The year most targets are set for (the latest on a tie), or None when no target has a calendar year."""
    years = Counter(t.year for t in targets if t.kind == "target" and t.year.isdigit() and t.value_norm)
    return max(years, key=lambda y: (years[y], y)) if years else None


def target_pairs(targets: list) -> tuple[list[tuple], int]:
    """(baseline, target) pairs for the targets of the main target year, and the number of those targets.

    A pair is the latest earlier-year baseline of the same indicator, scope and unit in the same document: only
    pairs the text itself gives are charted, never an estimate."""
    year = target_year(targets)
    if year is None:
        return [], 0
    goals = [t for t in targets if t.kind == "target" and t.year == year and t.value_norm]
    bases = sorted((t for t in targets if t.kind == "baseline" and t.year.isdigit() and t.year < year and t.value_norm),
                   key=lambda t: t.year, reverse=True)
    pairs, seen = [], set()
    for g in goals:
        b = next((b for b in bases if (b.doc_id, b.scope, b.unit_norm, b.indicator) ==
                  (g.doc_id, g.scope, g.unit_norm, g.indicator)), None)
        if b is not None and (g.doc_id, g.indicator) not in seen:
            seen.add((g.doc_id, g.indicator))
            pairs.append((b, g))
    return pairs, len({(g.doc_id, g.indicator) for g in goals})


def chart_frame(pairs: list[tuple]) -> pd.DataFrame:
    """Both figures of each pair in the target's unit as written (7.7万辆 and 60万辆)."""
    rows = []
    for b, g in pairs:
        scale = g.value_norm / float(g.value.replace(",", ""))
        label = f"{g.indicator}（{g.unit}）"
        # One bar per figure (a bar per indicator would stack the two figures and show their sum).
        rows.append([f"{label} {b.year}年", label, f"{b.year}年基数", round(b.value_norm / scale, 4), b.quote])
        rows.append([f"{label} {g.year}年", label, f"{g.year}年目标", round(g.value_norm / scale, 4), g.quote])
    return pd.DataFrame(rows, columns=["柱", "指标", "年份", "数值", "原文"])


class TablesTab:
    """Handlers and layout of the tab; downloads are written under `out_dir` (the app's private temp folder)."""

    def __init__(self, kb: KnowledgeBase, out_dir: Path):
        self.kb = kb
        self.out_dir = Path(out_dir)
        self._store: tuple[Path, TableStore] | None = None
        self._exported: list[str] | None = None
        self._export_lock = threading.Lock()

    @property
    def export_paths(self) -> list[str]:
        """The complete tables as files (EXPORT_FILES), written when the first page asks for them: the workbook
        (openpyxl) is not written on the app's way to its first answer."""
        with self._export_lock:  # pages load in threads
            if self._exported is None:
                self._exported = [str(p) for p in self.store.export(self.out_dir / "export")]
            return self._exported

    def export_files(self) -> tuple[str, ...]:
        """The export buttons' files, in EXPORT_FILES order (set when a page loads)."""
        by_name = {Path(p).name: p for p in self.export_paths}
        return tuple(by_name[name] for name in EXPORT_FILES)

    @property
    def store(self) -> TableStore:
        """The tables of the KB as it is now (a library change rebuilds it elsewhere)."""
        path = self.kb.data.tables_path
        if self._store is None or self._store[0] != path:
            old, self._store = self._store, (path, TableStore(path))
            if old is not None:
                old[1].close()
        return self._store[1]

    def export_filtered(self, kind: str, rows: list) -> str:
        return str(write_csv(kind, rows, self.out_dir / uuid.uuid4().hex / f"{kind}_筛选结果.csv"))

    def filter_targets(self, kind: str | None, indicator: str | None, section: str | None, year: str | None):
        rows = self.store.targets(indicator_like=(indicator or "").strip() or None, kind=kind or None,
                                  section_like=(section or "").strip() or None, year=(year or "").strip() or None)
        return table_frame("targets", rows), f"共 {len(rows)} 条", self.export_filtered("targets", rows)

    def filter_projects(self, keyword: str | None, field: str | None):
        kw = (keyword or "").strip()
        rows = [p for p in self.store.projects(field_like=field or None)
                if not kw or kw in p.name or kw in p.organization or kw in p.capacity or kw in p.location]
        return table_frame("projects", rows), f"共 {len(rows)} 条", self.export_filtered("projects", rows)

    def filter_resp(self, actor: str | None, role: str | None, duty: str | None):
        kw = (duty or "").strip()
        rows = [r for r in self.store.responsibilities(actor_like=(actor or "").strip() or None, role=role or None)
                if not kw or kw in r.duty]
        return (table_frame("responsibilities", rows), f"共 {len(rows)} 条",
                self.export_filtered("responsibilities", rows))

    def fields(self) -> list[tuple[str, str]]:
        return [("全部", "")] + [(f, f) for f in dict.fromkeys(p.field for p in self.store.projects() if p.field)]

    def render(self, demo: gr.Blocks) -> None:
        """The tab's components and events (call inside a gr.Tab of `demo`)."""
        gr.Markdown("从文件中抽取的结构化表格。每行附原文，可按条件筛选并下载 CSV；"
                    "下方“全部导出”提供三张完整表格（CSV，UTF-8 带 BOM）和 Excel 文件。")
        with gr.Tab("目标指标"):
            with gr.Row():
                t_kind = gr.Dropdown(KIND_LABELS, value="", label="类型")
                t_ind = gr.Textbox(label="指标关键词", placeholder="如：充电桩")
                t_sec = gr.Textbox(label="章节关键词", placeholder="如：发展目标")
                t_year = gr.Textbox(label="年份", placeholder="如：2025 或 十四五")
            t_count = gr.Markdown()
            t_df = gr.Dataframe(interactive=False, wrap=True, elem_id="targets-table", max_height=560,
                                column_widths=["14%", "6%", "7%", "7%", "8%", "7%", "7%", "19%", "25%"])
            t_dl = gr.DownloadButton("下载当前筛选结果（CSV）", elem_id="targets-csv")
        with gr.Tab("重大项目"):
            with gr.Row():
                p_kw = gr.Textbox(label="项目 / 单位关键词", placeholder="如：电池")
                p_field = gr.Dropdown(self.fields(), value="", label="领域")
            p_count = gr.Markdown()
            p_df = gr.Dataframe(interactive=False, wrap=True, max_height=560, elem_id="projects-table",
                                column_widths=["12%", "20%", "12%", "7%", "12%", "7%", "7%", "23%"])
            p_dl = gr.DownloadButton("下载当前筛选结果（CSV）")
        with gr.Tab("责任分工"):
            with gr.Row():
                r_actor = gr.Textbox(label="责任主体关键词", placeholder="如：发展改革委")
                r_role = gr.Dropdown(ROLE_LABELS, value="", label="角色")
                r_duty = gr.Textbox(label="职责关键词", placeholder="如：充电")
            r_count = gr.Markdown()
            r_df = gr.Dataframe(interactive=False, wrap=True, max_height=560, elem_id="resp-table",
                                column_widths=["16%", "7%", "30%", "17%", "30%"])
            r_dl = gr.DownloadButton("下载当前筛选结果（CSV）")
        self.render_chart()
        gr.Markdown("**全部导出**（完整表格，CSV 为 UTF-8 带 BOM，Excel 含三个工作表）：")
        with gr.Row():  # the files are set when a page loads (a value given here would be written at start)
            exports = [gr.DownloadButton(f"下载 {name}", size="sm", variant="secondary",
                                         elem_id="export-" + name.replace(".", "-")) for name in EXPORT_FILES]

        t_in = [t_kind, t_ind, t_sec, t_year]
        gr.on([c.change for c in t_in], self.filter_targets, t_in, [t_df, t_count, t_dl], api_visibility="private")
        p_in = [p_kw, p_field]
        gr.on([c.change for c in p_in], self.filter_projects, p_in, [p_df, p_count, p_dl], api_visibility="private")
        r_in = [r_actor, r_role, r_duty]
        gr.on([c.change for c in r_in], self.filter_resp, r_in, [r_df, r_count, r_dl], api_visibility="private")
        demo.load(self.filter_targets, t_in, [t_df, t_count, t_dl], api_visibility="private")
        demo.load(self.filter_projects, p_in, [p_df, p_count, p_dl], api_visibility="private")
        demo.load(self.filter_resp, r_in, [r_df, r_count, r_dl], api_visibility="private")
        demo.load(self.export_files, None, exports, api_visibility="private")

    def render_chart(self) -> None:
        targets = self.store.targets()
        pairs, n_goals = target_pairs(targets)
        year = target_year(targets)
        if year is None:
            return  # no dated targets (laws, regulations): nothing to chart
        base_years = sorted({b.year for b, _ in pairs})
        base = "、".join(f"{y}年" for y in base_years) or "更早年份"
        with gr.Accordion(f"{year}年目标与{base}基数对比", open=True):
            if pairs:
                gr.BarPlot(chart_frame(pairs), x="柱", y="数值", color="年份", tooltip=["指标", "年份", "数值", "原文"],
                           x_title="指标与年份", x_label_angle=0, height=280, elem_id="target-chart",
                           show_label=False, sort=None)
            gr.Markdown(f"文件中共有 {n_goals} 项{year}年目标，其中 {len(pairs)} 项给出了可比的早年基数"
                        "（同一指标、同一范围、同一单位）；其余目标文件未给出基数，不作图。")
