"""A progress page served while the knowledge base is built or loaded at start-up; the app takes the port after."""
from __future__ import annotations

import html
import logging
import sys
import threading
from collections.abc import Callable

import gradio as gr

from indexer.library import recover
from indexer.version import status
from kb.core.settings import settings
from kb.service import KnowledgeBase

log = logging.getLogger(__name__)

PAGE_TITLE = "正在准备知识库"
APP_MARKER = "kb-status"  # elem_id of an element only the app has (its knowledge-base status line)

# The page polls the port; when what answers there is the app itself (its config has an element with the marker
# as elem_id), it reloads. The text searched for is built here, so this page's own config never contains it.
RELOAD_JS = """
(marker) => {
  const wanted = '"elem_id":"' + marker + '"';
  const poll = () => fetch('/', {cache: 'no-store'}).then(r => r.text()).then(t => {
      if (t.includes(wanted)) { location.reload(); } else { setTimeout(poll, 1000); }
    }).catch(() => setTimeout(poll, 1000));
  setTimeout(poll, 1500);
}
"""


class PageProgress:
    """The build's progress callback: keeps the latest step for the page and passes it on to the terminal."""

    def __init__(self, terminal: Callable[[float, str], None] | None = None):
        self.fraction, self.message, self.error = 0.0, "正在加载知识库与向量模型…", ""
        self.terminal = terminal
        self.lock = threading.Lock()

    def __call__(self, fraction: float, message: str) -> None:
        with self.lock:
            self.fraction, self.message = min(max(float(fraction), 0.0), 1.0), message
        if self.terminal:
            self.terminal(fraction, message)

    def render(self) -> str:
        with self.lock:
            f, msg, err = self.fraction, self.message, self.error
        if err:
            return f"<div style='color:#b91c1c'>知识库建立失败：{html.escape(err)}</div>"
        # Inline styles: the page is served with the app's own CSS, which knows nothing of it.
        return (f"<div>{html.escape(msg)}</div>"
                f"<div role='progressbar' aria-valuenow='{f * 100:.0f}' aria-valuemin='0' aria-valuemax='100' "
                "style='height:14px;border-radius:7px;background:#e5e7eb;overflow:hidden;margin:10px 0'>"
                f"<div style='height:100%;width:{f * 100:.1f}%;background:#0d9488'></div></div>"
                f"<div style='color:#6b7280'>{f * 100:.0f}%</div>")


def open_with_page(launch: Callable[..., object], app_title: str, terminal=None, **open_kwargs) -> KnowledgeBase:
    """Open the KB (building it when missing or stale) while a page on the app's port shows the progress.

    First, what a library change killed midway left behind is undone or finished, as the command line does
    (indexer.library.recover). A KB that is there and up to date opens in about a second: then no page is served
    (it would only flash, and serving it costs the app's start as much again). Otherwise `app_title` heads the
    page (the KB, and so its documents' title, is not known yet); `launch(blocks, **kw)` serves a Blocks on the
    app's address; the page is closed before this returns, so the caller can launch the app on the same port, and
    the open page then reloads into it."""
    s = settings(kb_dir=open_kwargs.get("kb_dir"), corpus_dir=open_kwargs.get("corpus_dir"))
    recover(s)  # says on the terminal what it undid or finished
    if status(s) == "ok":
        return KnowledgeBase.open(progress=terminal, **open_kwargs)  # a failed load still rebuilds, on the terminal
    progress = PageProgress(terminal)
    with gr.Blocks(title=PAGE_TITLE, analytics_enabled=False) as page:
        gr.Markdown(f"## {app_title}\n首次启动需要建立知识库（读取文件、计算向量），完成后本页会自动进入问答界面。")
        bar = gr.HTML(progress.render(), elem_id="boot-progress")
        gr.Timer(0.5).tick(progress.render, None, bar, show_progress="hidden")
        marker = gr.Textbox(APP_MARKER, visible=False)
        page.load(None, marker, None, js=RELOAD_JS)
    launch(page, prevent_thread_lock=True, quiet=True)
    try:
        kb = KnowledgeBase.open(progress=progress, **open_kwargs)
    except Exception as e:
        progress.error = str(e)
        log.error("知识库建立失败：%s", e)
        page.close()
        raise
    progress(1.0, "知识库已就绪，正在打开问答界面…")
    page.close()
    return kb


class TerminalProgress:
    """The first build's progress in the terminal: one redrawn bar on a terminal, one log line per step otherwise."""

    def __init__(self, width: int = 30):
        self.width = width

    def __call__(self, fraction: float, message: str) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        done = int(round(f * self.width))
        line = f"建立知识库 [{'█' * done}{'░' * (self.width - done)}] {f * 100:5.1f}%  {message}"
        if sys.stderr.isatty():  # a live display, not a log record
            sys.stderr.write(f"\r{line}\033[K" + ("\n" if f >= 1.0 else ""))
            sys.stderr.flush()
        else:
            log.info("%s", line)
