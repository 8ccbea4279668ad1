"""Web app: chat with cited answers and a source pane, the tables, eligibility and library tabs, the `/ask` API.

Run with `python app.py` (or `./run.sh app`): shows a progress page on 127.0.0.1:$PORT (default 7860) while
the knowledge base is opened (built first when missing; progress also in the terminal), then serves the app there.
`build_app(kb)` builds the interface for an opened `KnowledgeBase`; `launch(demo, port)` starts it.
Nothing is fetched from outside: system fonts only, analytics off, no share link.
"""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import csv  # noqa: E402
import html  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from kb.answer.conversation import FollowUpError, resolve  # noqa: E402
from kb.core.records import LEVELS, AnswerRecord, Citation  # noqa: E402
from kb.retrieval.filters import DocFilter  # noqa: E402
from kb.service import MAX_QUESTION, KnowledgeBase, QuestionError, check_question  # noqa: E402
from kb.store.tables import DISPLAY_COLUMNS, TableStore, columns  # noqa: E402
from webui import eligibility as elig_ui  # noqa: E402
from webui.auth import Admin  # noqa: E402
from webui.library import LibraryTab  # noqa: E402
from webui.startup import open_with_page  # noqa: E402

TITLE = "浙江省新能源汽车产业发展“十四五”规划 · 政策问答"
MAX_INPUT = 2000  # characters; longer messages are refused outright (the KB itself reads the first 500)
CONTEXT_CHARS = 260  # characters of paragraph shown on each side of a quoted span
EXAMPLES = [
    "到2025年全省新能源汽车产量目标是多少？",
    "到2025年要建成多少座加氢站？",
    "动力电池与管理系统领域预计完成投资多少？",
    "L2级别以上智能汽车技术新车渗透率要达到多少？",
    "2030年全省新能源汽车产量目标是多少？",
]
FOLLOW_UP_EXAMPLE = "那充电桩呢？"
PLACEHOLDER_SOURCE = ("<div class='src-empty'>点击回答中的引用编号（如 <b>[1]</b>），或在上方列表中选择条款，"
                      "即可在此查看它在原文中的位置。</div>")

CSS = """
.src-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 12px 14px;
  background: var(--background-fill-primary);}
.src-doc {font-weight: 600; font-size: 1.05em; margin-bottom: 4px;}
.src-section {color: var(--body-text-color-subdued); font-size: 0.9em; margin-bottom: 10px;}
.src-para {line-height: 1.9; white-space: pre-wrap;}
.src-para mark, mark.src-hl {background: #ffe58a; color: inherit; padding: 1px 2px; border-radius: 3px;
  box-shadow: 0 0 0 1px #f0c000 inset;}
.src-meta {color: var(--body-text-color-subdued); font-size: 0.8em; margin-top: 8px;}
.src-label {font-size: 0.85em; margin-bottom: 6px; color: var(--body-text-color-subdued);}
.src-empty {color: var(--body-text-color-subdued); padding: 18px 6px;}
.notice {color: #b45309; font-size: 0.92em; min-height: 1.2em;}
.chips {flex-wrap: wrap !important; gap: 6px !important;}
.chips button {flex: 0 1 auto !important; width: auto !important; min-width: 0 !important; font-size: 0.88em !important;
  border-radius: 999px !important; padding: 4px 12px !important;}
#chatbot sub {color: var(--body-text-color-subdued);}
.kb-status {color: var(--body-text-color-subdued); font-size: 0.88em;}
#chatbot a.cite-ref, #chatbot a[href^="#cite-"] {text-decoration: none; font-weight: 600; cursor: pointer;}
#chatbot blockquote {color: var(--body-text-color-subdued);}
footer {display: none !important;}
"""

# Clicking a citation marker in the chat ("[1]", a link to #cite-<turn>-<c|r>-<n>) puts its key in a hidden
# textbox and presses a hidden button, whose handler shows that clause in the source pane.
JS = """
() => {
  document.addEventListener('click', (ev) => {
    const a = ev.target && ev.target.closest ? ev.target.closest('a[href^="#cite-"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    const key = a.getAttribute('href').slice('#cite-'.length);
    const box = document.querySelector('#cite-pick textarea, #cite-pick input');
    const btn = document.querySelector('#cite-pick-btn');
    if (!box || !btn) return;
    box.value = key;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => btn.click(), 30);
  }, true);
}
"""


def esc(text: object) -> str:
    """HTML-escaped text (quotes too): every document or user string goes through this before rendering."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_md(text: object) -> str:
    """Escaped for the chat, which renders Markdown: HTML-escaped, and Markdown syntax characters made literal."""
    return re.sub(r"([\\`*_{}\[\]()#+!|~>-])", r"\\\1", esc(text)).replace("\n", "  \n")


# ---------------------------------------------------------------- rendering (pure functions, unit-tested)

def render_user(message: str) -> str:
    return esc_md(message)


def render_answer(rec: AnswerRecord | dict, turn: int, rewritten: str | None = None) -> str:
    """The assistant's message: the answer with clickable [n] markers; a refusal as a muted notice plus the
    related provisions (for reference only); and the rewritten question when a follow-up was resolved."""
    rec = rec if isinstance(rec, AnswerRecord) else AnswerRecord.model_validate(rec)
    parts: list[str] = []
    if rewritten:
        parts.append(f"<sub>按上下文理解为：{esc_md(rewritten)}</sub>\n")

    def with_markers(text: str) -> str:
        out, pos = [], 0
        for m in re.finditer(r"\[(\d+)\]", text):
            out.append(esc_md(text[pos:m.start()]))
            n = int(m.group(1))
            if 1 <= n <= len(rec.citations):
                out.append(f"<a class='cite-ref' href='#cite-{turn}-c-{n}' title='查看原文出处'>[{n}]</a>")
            else:
                out.append(esc_md(m.group()))
            pos = m.end()
        out.append(esc_md(text[pos:]))
        return "".join(out)

    if rec.error:
        parts.append(f"> **提示**：{esc_md(rec.error)}")
    elif rec.refused:
        parts.append("> **文件中未明确规定**  \n> " + with_markers(rec.answer))
        if rec.related:
            parts.append("\n**相关条款（仅供参考）**：\n")
            for i, c in enumerate(rec.related, start=1):
                parts.append(f"- <a class='cite-ref' href='#cite-{turn}-r-{i}' title='查看原文出处'>〔参考{i}〕</a> "
                             f"{esc_md(short_section(c.section))}：{esc_md(clip(c.quote, 60))}")
    else:
        parts.append(with_markers(rec.answer))
        if rec.citations:
            parts.append("\n<sub>引用：" + "　".join(
                f"<a class='cite-ref' href='#cite-{turn}-c-{i}'>[{i}]</a> {esc_md(short_section(c.section))}"
                for i, c in enumerate(rec.citations, start=1)) + "</sub>")
    return "\n".join(parts)


def render_notice(text: str) -> str:
    return f"<div class='notice'>{esc(text)}</div>" if text else ""


def short_section(section: str) -> str:
    """The last part of a heading path ("… > 4．加氢站" → "4．加氢站")."""
    return section.rsplit(" > ", 1)[-1] if section else "（无章节）"


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def render_source(title: str, section: str, before: str, quote: str, after: str, label: str = "",
                  where: str = "") -> str:
    """The source pane: document title, section path and the paragraph with the quoted span highlighted."""
    path = " › ".join(esc(p) for p in section.split(" > ")) if section else "（无章节）"
    return (
        "<div class='src-card'>"
        + (f"<div class='src-label'>{esc(label)}</div>" if label else "")
        + f"<div class='src-doc'>《{esc(title)}》</div>"
        + f"<div class='src-section'>{path}</div>"
        + f"<div class='src-para'>{esc(before)}<mark class='src-hl'>{esc(quote)}</mark>{esc(after)}</div>"
        + (f"<div class='src-meta'>{esc(where)}</div>" if where else "")
        + "</div>"
    )


def source_context(kb: KnowledgeBase, c: Citation) -> tuple[str, str, str, str]:
    """(before, quote, after, where) for a citation: the paragraph(s) around its span in the document text."""
    doc = kb.documents.get(c.doc_id)
    if doc is None:
        return "", c.quote, "", "（未找到该文档）"
    text = doc.text
    start, end = c.start, c.end
    if start is None or end is None or not (0 <= start < end <= len(text)):
        i = text.find(c.quote)
        if i < 0:
            return "", c.quote, "", "（引文未能在原文中定位）"
        start, end = i, i + len(c.quote)
    paras = [p for p in kb.data.paragraphs.get(c.doc_id, []) if p.start < end and p.end > start]
    a = min([p.start for p in paras] + [start])
    b = max([p.end for p in paras] + [end])
    a, b = max(a, start - CONTEXT_CHARS), min(b, end + CONTEXT_CHARS)
    before = ("…" if a > 0 and not any(p.start == a for p in paras) else "") + text[a:start]
    after = text[end:b] + ("…" if b < len(text) and not any(p.end == b for p in paras) else "")
    where = [doc.meta.level, f"第 {doc.page_at(start)} 页" if doc.pages else "", f"原文第 {start + 1}–{end} 字"]
    if not doc.meta.in_force:
        where.insert(0, f"该文件{doc.meta.validity}" + (f"（由 {doc.meta.replaced_by} 替代）" if doc.meta.replaced_by else ""))
    return before, text[start:end], after, " · ".join(w for w in where if w)


# ---------------------------------------------------------------- tables

KIND_LABELS = [("全部", ""), ("目标", "target"), ("基数（现状）", "baseline"), ("预测", "forecast")]
KIND_NAMES = {"target": "目标", "baseline": "基数", "forecast": "预测"}
ROLE_LABELS = [("全部", ""), ("牵头", "牵头"), ("协同", "协同"), ("实施", "实施"), ("支持对象", "支持对象")]
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


def target_pairs(targets: list) -> tuple[list[tuple], int]:
    """(2020 baseline, 2025 target) pairs of one indicator, scope and unit in one document, and the number of
    2025 targets; only pairs the text itself gives are charted, never an estimate."""
    goals = [t for t in targets if t.kind == "target" and t.year == "2025" and t.value_norm]
    bases = [t for t in targets if t.kind == "baseline" and t.year == "2020" and t.value_norm]
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
        rows.append([f"{label} 2020年", label, "2020年基数", round(b.value_norm / scale, 4), b.quote])
        rows.append([f"{label} 2025年", label, "2025年目标", round(g.value_norm / scale, 4), g.quote])
    return pd.DataFrame(rows, columns=["柱", "指标", "年份", "数值", "原文"])


# ---------------------------------------------------------------- the app

class ChatApp:
    """The handlers behind the interface, separate from the layout so tests can call them directly.

    Chat state is a list of turns, one per answered question:
    {"message": what the user typed, "question": the standalone question asked, "rewritten": bool,
     "record": the answer record as JSON}. Citation keys are "<turn>-c-<n>" (the answer's [n]) and
    "<turn>-r-<n>" (the n-th related provision of a refusal), n counted from 1.
    """

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.lock = threading.Lock()  # one question at a time through the retriever and encoder
        self.out_dir = Path(tempfile.mkdtemp(prefix="nev-app-"))
        self._store: tuple[Path, TableStore] | None = None
        self.export_paths = [str(p) for p in self.store.export(self.out_dir / "export")]

    @property
    def store(self) -> TableStore:
        """The tables of the KB as it is now (a library change rebuilds it elsewhere)."""
        path = self.kb.data.tables_path
        if self._store is None or self._store[0] != path:
            old, self._store = self._store, (path, TableStore(path))
            if old is not None:
                old[1].close()
        return self._store[1]

    # ------------------------------------------------ API: /ask
    def ask_record(self, question: str, filters: DocFilter | None = None) -> AnswerRecord:
        with self.lock:
            try:  # a document added or removed from the command line while the app runs: use the new KB
                self.kb.reload()
            except Exception as e:  # noqa: BLE001 - an unreadable new build must not stop answers from the old one
                print(f"知识库重新加载失败，继续使用已加载的版本：{e}", file=sys.stderr)
            return self.kb.ask(question, filters=filters)

    def ask(self, question: str) -> dict:
        """回答一个问题，返回回答记录（JSON：answer、refused、citations、retrieved、latency_ms 等）。"""
        if not isinstance(question, str):
            question = "" if question is None else str(question)
        return self.ask_record(question).model_dump(mode="json")

    # ------------------------------------------------ source pane
    @staticmethod
    def citation_for(turns: list[dict], key: str | None) -> tuple[Citation, str] | None:
        m = re.fullmatch(r"(\d+)-([cr])-(\d+)", (key or "").strip())
        if not m:
            return None
        t, kind, n = int(m.group(1)), m.group(2), int(m.group(3))
        if not 0 <= t < len(turns):
            return None
        rec = turns[t]["record"]
        items = rec.get("citations" if kind == "c" else "related") or []
        if not 1 <= n <= len(items):
            return None
        label = f"第 {t + 1} 问 · 引用 [{n}]" if kind == "c" else f"第 {t + 1} 问 · 相关条款（仅供参考）{n}"
        return Citation.model_validate(items[n - 1]), label

    def show_source(self, turns: list[dict], key: str | None) -> str:
        found = self.citation_for(turns or [], key)
        if not found:
            return PLACEHOLDER_SOURCE
        c, label = found
        before, quote, after, where = source_context(self.kb, c)
        return render_source(c.doc_title, c.section, before, quote, after, label=label, where=where)

    @staticmethod
    def choices_for(turns: list[dict], t: int) -> list[tuple[str, str]]:
        if not 0 <= t < len(turns):
            return []
        rec = turns[t]["record"]
        out = [(f"[{i}] {short_section(c['section'])}：{clip(c['quote'], 36)}", f"{t}-c-{i}")
               for i, c in enumerate(rec.get("citations") or [], start=1)]
        out += [(f"〔参考{i}〕{short_section(c['section'])}：{clip(c['quote'], 32)}", f"{t}-r-{i}")
                for i, c in enumerate(rec.get("related") or [], start=1)]
        return out

    def source_outputs(self, turns: list[dict], t: int, key: str | None = None):
        """(radio, source html) showing turn t's citations, `key` (default: the first) selected."""
        choices = self.choices_for(turns, t)
        if key is None:
            key = choices[0][1] if choices else None
        radio = gr.Radio(choices=choices, value=key, label=f"第 {t + 1} 问的引用条款" if choices else "引用条款")
        return radio, self.show_source(turns, key) if key else PLACEHOLDER_SOURCE

    # ------------------------------------------------ chat
    def respond(self, message: str | None, turns: list[dict], chat: list[dict], level: str = "",
                include_old: bool = False):
        """One chat turn. Returns (chat, turns, textbox, notice, radio, source). `level` and `include_old`
        are the chat's document filter: only that level's documents; superseded versions too."""
        turns, chat = list(turns or []), list(chat or [])
        message = message or ""
        keep = gr.skip(), gr.skip()  # leave the source pane as it is
        if not message.strip():
            return chat, turns, message, render_notice("请输入问题后再发送。"), *keep
        if len(message) > MAX_INPUT:
            return (chat, turns, message, render_notice(
                f"问题太长（共 {len(message)} 字）。请把问题精简到 {MAX_QUESTION} 字以内再发送。"), *keep)
        try:
            check_question(message)
        except QuestionError as e:
            return chat, turns, message, render_notice(str(e)), *keep
        chat.append({"role": "user", "content": render_user(message)})
        previous = [t["question"] for t in turns if not t["record"].get("error")]
        try:
            r = resolve(previous, message, self.kb.segmenter, self.kb.regions)
        except FollowUpError as e:
            chat.append({"role": "assistant", "content": f"> **提示**：{esc_md(str(e))}"})
            return chat, turns, "", render_notice(""), *keep
        rec = self.ask_record(r.question, DocFilter(level=level or "", validity="全部" if include_old else "现行"))
        turn = len(turns)
        turns.append({"message": message, "question": r.question, "rewritten": r.rewritten,
                      "record": rec.model_dump(mode="json")})
        chat.append({"role": "assistant", "content": render_answer(rec, turn, r.question if r.rewritten else None)})
        return chat, turns, "", render_notice(rec.error or ""), *self.source_outputs(turns, turn)

    def pick(self, key: str | None, turns: list[dict]):
        """A citation marker clicked in the chat: show that turn's citations with this one selected."""
        m = re.fullmatch(r"(\d+)-[cr]-\d+", (key or "").strip())
        if not m:
            return gr.skip(), gr.skip()
        return self.source_outputs(turns or [], int(m.group(1)), key.strip())

    def select(self, key: str | None, turns: list[dict]) -> str:
        return self.show_source(turns or [], key) if key else PLACEHOLDER_SOURCE

    @staticmethod
    def clear():
        return [], [], "", render_notice(""), gr.Radio(choices=[], value=None, label="引用条款"), PLACEHOLDER_SOURCE

    # ------------------------------------------------ tables
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


def build_app(kb: KnowledgeBase, admin: Admin | None = None) -> gr.Blocks:
    """The interface for an opened knowledge base (launch it with `launch(demo, port)`). Library changes need
    an admin login checked against `admin` (default: ADMIN_USER / ADMIN_PASSWORD from the environment)."""
    h = ChatApp(kb)
    library = LibraryTab(kb, admin or Admin())
    eligibility = elig_ui.EligibilityTab(kb)
    meta = kb.data.meta
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.Markdown(f"## {TITLE}")
        gr.HTML(f"<div class='kb-status'>知识库：{meta.n_docs} 篇文档 · {meta.n_chunks} 个检索段落 · "
                f"建立于 {esc(meta.built_at[:16].replace('T', ' '))}。回答只依据文件原文，并标注出处。</div>")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=380):
                        chatbot = gr.Chatbot(label="对话", elem_id="chatbot", height=520, buttons=["copy", "copy_all"],
                                             placeholder="请在下方输入关于规划的问题，例如“到2025年要建成多少座加氢站？”")
                        with gr.Row():
                            msg = gr.Textbox(label="问题", placeholder="输入问题，按回车发送（可追问，如“那充电桩呢？”）",
                                             lines=1, max_lines=4, scale=5, elem_id="question", autofocus=True)
                            send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="send")
                        notice = gr.HTML(render_notice(""), elem_id="notice")
                        with gr.Accordion("筛选文件", open=False):
                            with gr.Row():
                                f_level = gr.Dropdown([("全部层级", "")] + [(x, x) for x in LEVELS], value="",
                                                      label="只依据该层级的文件", scale=2)
                                f_old = gr.Checkbox(label="包括已被替代的旧版本", value=False, scale=1)
                        gr.Markdown("示例问题（点击即问）：")
                        with gr.Row(elem_classes=["chips"]):
                            chips = [gr.Button(q, size="sm", variant="secondary", scale=0, min_width=0)
                                     for q in EXAMPLES + [FOLLOW_UP_EXAMPLE]]
                        clear_btn = gr.Button("清空对话", size="sm", variant="secondary", elem_id="clear",
                                              scale=0, min_width=0)
                    with gr.Column(scale=2, min_width=320):
                        gr.Markdown("### 原文出处")
                        radio = gr.Radio(choices=[], label="引用条款", elem_id="cite-radio", interactive=True)
                        source = gr.HTML(PLACEHOLDER_SOURCE, elem_id="source-pane")
                pick_box = gr.Textbox(visible="hidden", elem_id="cite-pick")
                pick_btn = gr.Button("显示出处", visible="hidden", elem_id="cite-pick-btn")

            with gr.Tab("目标与项目表", id="tables"):
                gr.Markdown("从规划中抽取的结构化表格。每行附原文，可按条件筛选并下载 CSV；"
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
                        p_field = gr.Dropdown(h.fields(), value="", label="领域")
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
                pairs, n_goals = target_pairs(h.store.targets())
                with gr.Accordion("2025年目标与2020年基数对比", open=True):
                    gr.BarPlot(chart_frame(pairs), x="柱", y="数值", color="年份", tooltip=["指标", "年份", "数值", "原文"],
                               x_title="指标与年份", x_label_angle=0, height=280, elem_id="target-chart",
                               show_label=False, sort=None)
                    gr.Markdown(f"文件中共有 {n_goals} 项2025年目标，其中 {len(pairs)} 项给出了可比的2020年基数"
                                "（同一指标、同一范围、同一单位）；其余目标文件未给出2020年数值，不作图。")
                gr.Markdown("**全部导出**（完整表格，CSV 为 UTF-8 带 BOM，Excel 含三个工作表）：")
                with gr.Row():
                    for path in h.export_paths:
                        gr.DownloadButton(f"下载 {Path(path).name}", value=path, size="sm", variant="secondary",
                                          elem_id="export-" + Path(path).name.replace(".", "-"))

            with gr.Tab("企业政策匹配", id="eligibility"):
                eligibility.render()
            with gr.Tab("文件库", id="library"):
                library.render()

        # ------------------------------------------------ events
        chat_out = [chatbot, turns, msg, notice, radio, source]
        gr.on([msg.submit, send.click], h.respond, [msg, turns, chatbot, f_level, f_old], chat_out, trigger_mode="once",
              concurrency_limit=4, api_visibility="private")
        for b in chips:
            b.click(h.respond, [b, turns, chatbot, f_level, f_old], chat_out, trigger_mode="once", concurrency_limit=4,
                    api_visibility="private")
        clear_btn.click(h.clear, None, chat_out, api_visibility="private", queue=False)
        chatbot.clear(h.clear, None, chat_out, api_visibility="private", queue=False)
        radio.input(h.select, [radio, turns], source, api_visibility="private")
        pick_btn.click(h.pick, [pick_box, turns], [radio, source], api_visibility="private")

        t_in = [t_kind, t_ind, t_sec, t_year]
        gr.on([c.change for c in t_in], h.filter_targets, t_in, [t_df, t_count, t_dl], api_visibility="private")
        p_in = [p_kw, p_field]
        gr.on([c.change for c in p_in], h.filter_projects, p_in, [p_df, p_count, p_dl], api_visibility="private")
        r_in = [r_actor, r_role, r_duty]
        gr.on([c.change for c in r_in], h.filter_resp, r_in, [r_df, r_count, r_dl], api_visibility="private")
        demo.load(h.filter_targets, t_in, [t_df, t_count, t_dl], api_visibility="private")
        demo.load(h.filter_projects, p_in, [p_df, p_count, p_dl], api_visibility="private")
        demo.load(h.filter_resp, r_in, [r_df, r_count, r_dl], api_visibility="private")

        gr.api(h.ask, api_name="ask", concurrency_limit=4)

    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


def theme() -> gr.themes.Base:
    """System fonts only (a CJK stack), so the page never asks an outside server for a font."""
    sans = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
            "WenQuanYi Micro Hei", "system-ui", "sans-serif"]
    return gr.themes.Soft(primary_hue="teal", font=sans, font_mono=["ui-monospace", "Consolas", "monospace"])


def launch(demo: gr.Blocks, port: int | None = None, **kwargs: Any):
    """Serve on 127.0.0.1 (never shared), with the app's theme, CSS and citation-click script."""
    port = int(port if port is not None else os.environ.get("PORT", 7860))
    return demo.launch(server_name="127.0.0.1", server_port=port, share=False, theme=theme(), css=CSS + elig_ui.CSS, js=JS,
                       footer_links=[], ssr_mode=False, mcp_server=False, pwa=False, **kwargs)


class TerminalProgress:
    """A one-line progress bar on stderr for the first build of the knowledge base."""

    def __init__(self, width: int = 30):
        self.width = width

    def __call__(self, fraction: float, message: str) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        done = int(round(f * self.width))
        bar = "█" * done + "░" * (self.width - done)
        line = f"建立知识库 [{bar}] {f * 100:5.1f}%  {message}"
        if sys.stderr.isatty():  # redraw one line; in a log file, one line per step
            print(f"\r{line}\033[K", end="\n" if f >= 1.0 else "", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)


def main() -> int:
    from kb.core.settings import settings

    port = int(os.environ.get("PORT", 7860))
    print(f"正在打开知识库 {settings().kb_dir} …（不存在或已过期时会先建立，约一两分钟）", file=sys.stderr, flush=True)
    try:
        # The port first serves a progress page while the KB is built or loaded; then the app takes it over.
        kb = open_with_page(lambda page, **kw: launch(page, port, **kw), TITLE, terminal=TerminalProgress(),
                            warm=True)
        admin = Admin()
        if not admin.enabled:
            print(f"提示：{admin.why_disabled}", file=sys.stderr)
        demo = build_app(kb, admin)
        launch(demo, port, prevent_thread_lock=True, quiet=True)
    except OSError:
        print(f"无法在端口 {port} 启动：端口已被占用或不可用。请换一个端口，例如 PORT={port + 1} ./run.sh app",
              file=sys.stderr)
        return 1
    print(f"网页已启动：http://127.0.0.1:{port}  （按 Ctrl+C 停止）", file=sys.stderr, flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
