"""The chat tab: questions and follow-ups, cited answers, the source pane; and the `/ask` API behind it."""
from __future__ import annotations

import logging
import re
import threading

import gradio as gr

from kb.answer.conversation import FollowUpError, resolve
from kb.core.records import LEVELS, AnswerRecord, Citation
from kb.retrieval.filters import DocFilter
from kb.service import MAX_QUESTION, KnowledgeBase, QuestionError, check_question
from webui.examples import Examples
from webui.render import (
    PLACEHOLDER_SOURCE,
    clip,
    esc_md,
    render_answer,
    render_notice,
    render_source,
    render_user,
    short_section,
    source_context,
)

log = logging.getLogger(__name__)
MAX_INPUT = 2000  # characters; longer chat messages are refused outright (the KB itself reads the first 500)


class ChatApp:
    """The handlers behind the chat tab, separate from the layout so tests can call them directly.

    Chat state is a list of turns, one per answered question:
    {"message": what the user typed, "question": the standalone question asked, "rewritten": bool,
     "record": the answer record as JSON}. Citation keys are "<turn>-c-<n>" (the answer's [n]) and
    "<turn>-r-<n>" (the n-th related provision of a refusal), n counted from 1.
    """

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.lock = threading.Lock()  # one question at a time through the retriever and encoder

    # ------------------------------------------------ API: /ask
    def ask_record(self, question: object, filters: DocFilter | None = None) -> AnswerRecord:
        with self.lock:
            try:  # a document added or removed from the command line while the app runs: use the new KB
                self.kb.reload()
            except Exception as e:  # noqa: BLE001 - an unreadable new build must not stop answers from the old one
                log.warning("知识库重新加载失败，继续使用已加载的版本：%s", e)
            return self.kb.ask(question, filters=filters)

    def ask(self, question: str) -> dict:
        """回答一个问题，返回回答记录（JSON：answer、refused、citations、retrieved、latency_ms 等）。"""
        # Whatever arrives goes to the KB as it is: anything but text comes back as a record with `error`.
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

    # ------------------------------------------------ layout
    def render(self, examples: Examples) -> None:
        """The tab's components and events (call inside a gr.Tab of a Blocks)."""
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                # No LaTeX: "$$…$$" in a question is text, not a formula to typeset.
                chatbot = gr.Chatbot(label="对话", elem_id="chatbot", height=520, buttons=["copy", "copy_all"],
                                     latex_delimiters=[], placeholder=examples.placeholder)
                with gr.Row():
                    msg = gr.Textbox(label="问题", placeholder=examples.input_hint, lines=1, max_lines=4, scale=5,
                                     elem_id="question", autofocus=True)
                    send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="send")
                notice = gr.HTML(render_notice(""), elem_id="notice")
                with gr.Accordion("筛选文件", open=False):
                    with gr.Row():
                        f_level = gr.Dropdown([("全部层级", "")] + [(x, x) for x in LEVELS], value="",
                                              label="只依据该层级的文件", scale=2)
                        f_old = gr.Checkbox(label="包括已被替代的旧版本", value=False, scale=1)
                chips = []
                if examples.chips:
                    gr.Markdown("示例问题（点击即问）：")
                    with gr.Row(elem_classes=["chips"]):
                        chips = [gr.Button(q, size="sm", variant="secondary", scale=0, min_width=0)
                                 for q in examples.chips]
                clear_btn = gr.Button("清空对话", size="sm", variant="secondary", elem_id="clear", scale=0, min_width=0)
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### 原文出处")
                radio = gr.Radio(choices=[], label="引用条款", elem_id="cite-radio", interactive=True)
                source = gr.HTML(PLACEHOLDER_SOURCE, elem_id="source-pane")
        # Clicking a citation marker puts its key here and presses the button (webui/static/app.js).
        pick_box = gr.Textbox(visible="hidden", elem_id="cite-pick")
        pick_btn = gr.Button("显示出处", visible="hidden", elem_id="cite-pick-btn")

        out = [chatbot, turns, msg, notice, radio, source]
        gr.on([msg.submit, send.click], self.respond, [msg, turns, chatbot, f_level, f_old], out, trigger_mode="once",
              concurrency_limit=4, api_visibility="private")
        for b in chips:
            b.click(self.respond, [b, turns, chatbot, f_level, f_old], out, trigger_mode="once", concurrency_limit=4,
                    api_visibility="private")
        clear_btn.click(self.clear, None, out, api_visibility="private", queue=False)
        chatbot.clear(self.clear, None, out, api_visibility="private", queue=False)
        radio.input(self.select, [radio, turns], source, api_visibility="private")
        pick_btn.click(self.pick, [pick_box, turns], [radio, source], api_visibility="private")
