"""Web app entry point: wires the tabs of webui/ into one page and serves it; the `/ask` API.

Run with `python app.py` (or `./run.sh app`): shows a progress page on 127.0.0.1:$PORT (default 7860) while
the knowledge base is opened (built first when missing; progress also in the terminal), then serves the app there.
`build_app(kb)` builds the interface for an opened `KnowledgeBase`; `launch(demo, port)` starts it.
Nothing is fetched from outside: system fonts only, analytics off, no share link. Uploads need an admin login and
are capped at MAX_DOCUMENT_MB; every file the app stores lives in one private temporary folder removed at exit.
"""
from __future__ import annotations

from webui.gradio_stubs import skip_stub_writing
from webui.workdir import new_folder, private_tempdir, upload_folder

private_tempdir()  # before Gradio is imported: it reads its cache folder from the environment
skip_stub_writing()  # before Gradio is imported: its editor stubs cost ~45% of the import (webui/gradio_stubs.py)

import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from indexer.formats.common import max_bytes  # noqa: E402
from kb.core.logs import configure  # noqa: E402
from kb.core.settings import env  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402
from webui import eligibility as elig_ui  # noqa: E402
from webui.auth import Admin  # noqa: E402
from webui.chat import ChatApp  # noqa: E402
from webui.examples import app_title, examples  # noqa: E402
from webui.library import LibraryTab  # noqa: E402
from webui.render import esc  # noqa: E402
from webui.startup import APP_MARKER, TerminalProgress, open_with_page  # noqa: E402
from webui.tables_tab import TablesTab  # noqa: E402
from webui.uploads import UploadGuard  # noqa: E402

log = logging.getLogger("app")
STATIC = Path(__file__).resolve().parent / "webui" / "static"
APP_NAME = "政策文件问答"  # heads the start-up page, before the KB (and so its documents' title) is known
# Gradio's cache sweep (seconds): every 10 minutes, files older than 30 minutes (downloads, unused uploads) go.
CACHE_SWEEP = (600, 1800)


def build_app(kb: KnowledgeBase, admin: Admin | None = None) -> gr.Blocks:
    """The interface for an opened knowledge base (launch it with `launch(demo, port)`). Library changes need
    an admin login checked against `admin` (default: ADMIN_USER / ADMIN_PASSWORD from the environment)."""
    admin = admin or Admin()
    chat = ChatApp(kb)
    tables = TablesTab(kb, new_folder("tables-"))
    library = LibraryTab(kb, admin, upload_root=upload_folder())
    library.complete_pending()  # documents a stopped app or a killed add left without vectors: in the background
    eligibility = elig_ui.EligibilityTab(kb)
    title, meta = app_title(kb), kb.data.meta
    with gr.Blocks(title=title, analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown(f"## {esc(title)}")
        gr.HTML(f"<div class='kb-status'>知识库：{meta.n_docs} 篇文档 · {meta.n_chunks} 个检索段落 · "
                f"建立于 {esc(meta.built_at[:16].replace('T', ' '))}。回答只依据文件原文，并标注出处。</div>",
                elem_id=APP_MARKER)
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chat.render(examples(kb, tables.store))
            with gr.Tab("目标与项目表", id="tables"):
                tables.render(demo)
            with gr.Tab("企业政策匹配", id="eligibility"):
                eligibility.render()
            with gr.Tab("文件库", id="library"):
                library.render()
        gr.api(chat.ask, api_name="ask", concurrency_limit=4)
    demo.queue(default_concurrency_limit=4, max_size=64)
    demo.admin = admin  # for launch(): the upload guard accepts this admin's tickets
    demo.vectors = library.vectors  # main() stops its background embedding before the process ends
    return demo


def theme() -> gr.themes.Base:
    """System fonts only (a CJK stack), so the page never asks an outside server for a font."""
    sans = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
            "WenQuanYi Micro Hei", "system-ui", "sans-serif"]
    return gr.themes.Soft(primary_hue="teal", font=sans, font_mono=["ui-monospace", "Consolas", "monospace"])


def launch(demo: gr.Blocks, port: int | None = None, **kwargs: Any):
    """Serve on 127.0.0.1 (never shared), with the app's theme, CSS and citation-click script; uploads only from
    a logged-in admin and at most MAX_DOCUMENT_MB (larger ones are refused while they arrive)."""
    port = int(port if port is not None else env().PORT)
    guard = Middleware(UploadGuard, admin=getattr(demo, "admin", None))
    return demo.launch(server_name="127.0.0.1", server_port=port, share=False, theme=theme(),
                       css=(STATIC / "app.css").read_text(encoding="utf-8"),
                       js=(STATIC / "app.js").read_text(encoding="utf-8"), max_file_size=max_bytes(),
                       app_kwargs={"middleware": [guard]}, footer_links=[], ssr_mode=False, mcp_server=False,
                       pwa=False, **kwargs)


def _stop(signum, frame):  # noqa: ARG001 - SIGTERM ends the app as Ctrl+C does, so the temp folder is removed
    raise KeyboardInterrupt


def main() -> int:
    from kb.core.settings import settings

    configure()
    signal.signal(signal.SIGTERM, _stop)
    port = env().PORT
    log.info("正在打开知识库 %s …（不存在或已过期时会先建立，约一两分钟）", settings().kb_dir)
    try:
        # The port first serves a progress page while the KB is built or loaded; then the app takes it over.
        kb = open_with_page(lambda page, **kw: launch(page, port, **kw), APP_NAME, terminal=TerminalProgress(),
                            warm=True)
        admin = Admin()
        if not admin.enabled:
            log.info("提示：%s", admin.why_disabled)
        demo = build_app(kb, admin)
        launch(demo, port, prevent_thread_lock=True, quiet=True)
    except OSError:
        log.error("无法在端口 %s 启动：端口已被占用或不可用。请换一个端口，例如 PORT=%s ./run.sh app", port, port + 1)
        return 1
    except KeyboardInterrupt:
        return 0
    log.info("网页已启动：http://127.0.0.1:%s  （按 Ctrl+C 停止）", port)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.vectors.stop()  # at its next batch: the documents stay pending, completed at the next start
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
