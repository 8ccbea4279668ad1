"""What the chat and the source pane show: pure functions from records to Markdown/HTML, every string escaped."""
from __future__ import annotations

import html
import re

from kb.core.records import AnswerRecord, Citation
from kb.service import KnowledgeBase

CONTEXT_CHARS = 260  # characters of paragraph shown on each side of a quoted span
PLACEHOLDER_SOURCE = ("<div class='src-empty'>点击回答中的引用编号（如 <b>[1]</b>），或在上方列表中选择条款，"
                      "即可在此查看它在原文中的位置。</div>")
# Markdown's syntax characters; ">" is not here because it becomes "&gt;" (an entity never starts a quote), and
# a backslash before that entity would show as text.
MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+!|~-])")


def esc(text: object) -> str:
    """HTML-escaped text (quotes too, for attributes): every document or user string in raw HTML goes through this."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_md(text: object) -> str:
    """Text for the chat, which renders Markdown: Markdown syntax made literal first, then HTML-escaped.

    In this order the entities html.escape writes are never touched again (escaping them after turned
    `&#x27;` into `&\\#x27;`, which the chat showed as text); quotes are left alone, as no attribute holds this.
    """
    md = MARKDOWN_SYNTAX.sub(r"\\\1", "" if text is None else str(text))
    return html.escape(md, quote=False).replace("\n", "  \n")


def render_user(message: str) -> str:
    return esc_md(message)


def short_section(section: str) -> str:
    """The last part of a heading path ("… > 4．加氢站" → "4．加氢站")."""
    return section.rsplit(" > ", 1)[-1] if section else "（无章节）"


def clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


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
