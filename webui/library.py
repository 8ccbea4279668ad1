"""The library tab: every document with its metadata; upload, replace and delete for a logged-in admin."""
from __future__ import annotations

import html
import logging
import threading
from pathlib import Path

import gradio as gr
import pandas as pd

from indexer.formats import SUPPORTED
from indexer.build import Cancelled, complete
from indexer.library import SEARCHABLE, LibraryError, add_document, remove_document
from kb.core.records import LEVELS
from kb.service import KnowledgeBase
from webui.auth import Admin, LoginLocked
from webui.uploads import SET_COOKIE_JS, discard_upload

log = logging.getLogger(__name__)
COLUMNS = [("doc_id", "文档标识"), ("title", "标题"), ("level", "层级"), ("doc_number", "文号"), ("issuer", "发文机关"),
           ("date", "日期"), ("doc_type", "文种"), ("region", "地区"), ("validity", "效力"), ("replaced_by", "被替代为")]
META_FIELDS = [("title", "标题"), ("issuer", "发文机关"), ("doc_number", "文号"), ("date", "日期（如 2021-04-08）"),
               ("region", "地区"), ("doc_type", "文种")]


def _msg(text: str, ok: bool = True) -> str:
    cls = "lib-ok" if ok else "lib-err"
    return f"<div class='{cls}'>{html.escape(text)}</div>"


class Vectors:
    """The second stage of staged adds in the app (indexer.build.complete): a background thread embeds the KB's
    pending documents and swaps the app's KB when they are done, while questions go on being answered (the new
    document by keywords meanwhile). One thread at a time; a request during a run makes it look again after."""

    def __init__(self, kb: KnowledgeBase, on_change=lambda: None):
        self.kb, self.on_change = kb, on_change
        self.lock = threading.Lock()
        self.running = self.again = self.stopping = False
        self.thread: threading.Thread | None = None
        self.message = ""

    def start(self) -> None:
        with self.lock:
            self.again = True
            if not self.running and not self.stopping:
                self.running, self.message = True, "正在后台计算语义向量…"
                # A daemon, so that a test or an app that ends mid-run is not held up; the app stops it first.
                self.thread = threading.Thread(target=self._run, name="kb-vectors", daemon=True)
                self.thread.start()

    def wait(self, timeout: float | None = None) -> None:
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end at its next step (the documents stay pending, completed at the next start)."""
        self.stopping = True
        self.wait(timeout)

    def _progress(self, fraction: float, message: str) -> None:
        if self.stopping:
            raise Cancelled
        self.message = f"正在后台计算语义向量（{fraction * 100:.0f}%）：{message}"

    def _run(self) -> None:
        while True:
            with self.lock:
                if not self.again or self.stopping:
                    self.running = False
                    return
                self.again = False
            try:
                done = complete(self.kb.settings, self._progress, self.kb.embedder)
                if done:
                    self.kb.reload()
                    self.on_change()
                    self.message = f"语义向量已完成（{'、'.join(done)}），问答已使用完整索引。"
            except Cancelled:
                self.message = ""
            except Exception as e:  # the KB stays valid, its new documents found by keywords; a restart retries
                log.exception("语义向量计算失败")
                self.message = (f"语义向量计算失败（{type(e).__name__}: {e}）；新文档仍可按关键词检索，"
                                "重新启动应用或运行 indexer build 将再次计算。")


class LibraryTab:
    """Handlers of the tab; every write action checks the session's login on the server, whatever the page shows."""

    def __init__(self, kb: KnowledgeBase, admin: Admin, on_change=lambda: None, upload_root: Path | None = None):
        self.kb = kb
        self.admin = admin
        self.on_change = on_change  # e.g. the tables tab re-reading its store
        self.upload_root = upload_root  # Gradio's upload folder: an uploaded file is removed from it once used
        self.vectors = Vectors(kb, on_change)

    def frame(self) -> pd.DataFrame:
        metas = [d.meta for d in self.kb.documents.values()]
        return pd.DataFrame([[getattr(m, k) or "" for k, _ in COLUMNS] for m in metas],
                            columns=[h for _, h in COLUMNS])

    def doc_choices(self) -> list[tuple[str, str]]:
        return [(f"{m.doc_id}《{m.title}》", m.doc_id) for m in (d.meta for d in self.kb.documents.values())]

    def _refreshed(self, message: str):
        choices = self.doc_choices()
        return (message, self.frame(), gr.Dropdown(choices=[("（不替换，作为新文档）", "")] + choices, value=""),
                gr.Dropdown(choices=choices, value=None))

    def login(self, user: str, password: str, request: gr.Request | None = None):
        """(is_admin, status, admin panel, upload ticket); the page stores the ticket as a cookie for uploads."""
        closed = gr.Column(visible=False)
        if not self.admin.enabled:
            return False, _msg(self.admin.why_disabled, ok=False), closed, ""
        client = request.client.host if request is not None and request.client else ""
        try:
            ok = self.admin.check(user, password, client=client)
        except LoginLocked as e:
            return False, _msg(str(e), ok=False), closed, ""
        if ok:
            return True, _msg("已登录为管理员。"), gr.Column(visible=True), self.admin.issue_ticket()
        return False, _msg("用户名或密码错误。", ok=False), closed, ""

    def logout(self, ticket: str | None = None):
        self.admin.revoke_ticket(ticket)
        return False, _msg("已退出管理员登录。"), gr.Column(visible=False), ""

    def upload(self, file, replace: str, level: str, *values_and_admin, progress=gr.Progress()):
        path = Path(file if isinstance(file, str) else file.name) if file else None
        try:
            return self._upload(path, replace, level, *values_and_admin, progress=progress)
        finally:  # the library keeps its own copy; the uploaded one goes, whatever happened
            if path is not None and self.upload_root is not None:
                discard_upload(path, self.upload_root)

    def _upload(self, path: Path | None, replace: str, level: str, *values_and_admin, progress):
        *values, is_admin = values_and_admin
        if not is_admin:
            return self._refreshed(_msg("上传、替换和删除需要管理员登录。", ok=False))
        if path is None:
            return self._refreshed(_msg("请先选择要上传的文件。", ok=False))
        meta = {k: (v or "").strip() for (k, _), v in zip(META_FIELDS, values)} | {"level": level or ""}
        try:
            # The app's own encoder: its full model loads at the first upload and stays for the next ones.
            m = add_document(self.kb.settings, path, name=path.name, meta=meta, replace=replace or None,
                             progress=lambda f, msg: progress(f, desc=msg), embedder=self.kb.embedder, finish=False)
        except LibraryError as e:
            return self._refreshed(_msg(f"未加入：{e}（文档库和索引均未改变）", ok=False))
        except Exception as e:  # the library rolled back; say so rather than show a stack trace
            return self._refreshed(_msg(f"加入失败（{type(e).__name__}: {e}），文档库和索引均未改变。", ok=False))
        waiting = self._reloaded()
        done = f"已加入《{m.title}》（{m.doc_id}）" + (f"，并将 {replace} 标记为被替代。" if replace else "。")
        if m.doc_id in waiting:
            done += SEARCHABLE + "完成后自动用于问答。"
        return self._refreshed(_msg(done))

    def delete(self, doc_id: str, confirm: bool, is_admin: bool, progress=gr.Progress()):
        if not is_admin:
            return self._refreshed(_msg("上传、替换和删除需要管理员登录。", ok=False))
        if not doc_id:
            return self._refreshed(_msg("请先选择要删除的文档。", ok=False))
        if not confirm:
            return self._refreshed(_msg("请勾选“确认删除”后再删除。", ok=False))
        try:
            m = remove_document(self.kb.settings, doc_id, progress=lambda f, msg: progress(f, desc=msg),
                                embedder=self.kb.embedder)
        except LibraryError as e:
            return self._refreshed(_msg(f"未删除：{e}", ok=False))
        except Exception as e:
            return self._refreshed(_msg(f"删除失败（{type(e).__name__}: {e}），文档库和索引均未改变。", ok=False))
        self._reloaded()
        return self._refreshed(_msg(f"已删除《{m.title}》（{m.doc_id}）；原文件保存在知识库目录的 removed/ 中。"))

    def _reloaded(self) -> frozenset[str]:
        """Swap in the changed KB; the documents it holds without vectors (now being embedded in the background)."""
        self.kb.reload()
        waiting = self.kb.data.pending
        self.on_change()
        self.complete_pending()
        return waiting

    def complete_pending(self) -> None:
        """Start the background embedding when the KB has documents without vectors (after an add; at start)."""
        if self.kb.data.pending:
            self.vectors.start()

    def vectors_view(self):
        """The background embedding's state, and its timer: polling only while it runs."""
        text = self.vectors.message
        return (f"<div class='lib-ok'>{html.escape(text)}</div>" if text else "", gr.Timer(active=self.vectors.running))

    def render(self) -> None:
        """The tab's components and events (call inside a gr.Tab)."""
        is_admin = gr.State(False)
        gr.Markdown("知识库中的全部文档及其元数据。被替代的旧版本仍保留，但默认不参与回答。")
        table = gr.Dataframe(self.frame(), interactive=False, wrap=True, elem_id="library-table")
        status = gr.HTML(_msg(self.admin.why_disabled, ok=False) if not self.admin.enabled else "",
                         elem_id="library-status")
        with gr.Accordion("管理员登录", open=True):
            with gr.Row():
                user = gr.Textbox(label="用户名", interactive=self.admin.enabled)
                pw = gr.Textbox(label="密码", type="password", interactive=self.admin.enabled)
            with gr.Row():
                login_btn = gr.Button("登录", variant="primary", interactive=self.admin.enabled, elem_id="lib-login")
                logout_btn = gr.Button("退出", variant="secondary", interactive=self.admin.enabled)
        with gr.Column(visible=False) as admin_panel:
            gr.Markdown(f"**上传文档**（支持 {' '.join(SUPPORTED)}；元数据留空时从正文识别，之后可在 corpus/manifest.json 中修改）")
            upload = gr.File(label="文件", file_types=list(SUPPORTED), type="filepath", elem_id="lib-file")
            replace = gr.Dropdown([("（不替换，作为新文档）", "")] + self.doc_choices(), value="",
                                  label="替换旧版本（旧版本保留并标记为“被替代”）")
            level = gr.Dropdown([("（从正文识别）", "")] + [(x, x) for x in LEVELS], value="", label="层级")
            with gr.Row():
                values = [gr.Textbox(label=label) for _, label in META_FIELDS]
            add_btn = gr.Button("上传并更新索引", variant="primary", elem_id="lib-add")
            gr.Markdown("**删除文档**（原文件移到知识库目录的 removed/ 中，不会直接丢弃）")
            with gr.Row():
                victim = gr.Dropdown(self.doc_choices(), label="要删除的文档")
                confirm = gr.Checkbox(label="确认删除")
            del_btn = gr.Button("删除并更新索引", variant="stop")
        ticket = gr.Textbox(visible="hidden", elem_id="lib-ticket")
        vectors = gr.HTML("", elem_id="library-vectors")
        timer = gr.Timer(2.0, active=self.vectors.running)
        timer.tick(self.vectors_view, None, [vectors, timer], show_progress="hidden", api_visibility="private")
        outputs = [status, table, replace, victim]
        login_btn.click(self.login, [user, pw], [is_admin, status, admin_panel, ticket], api_visibility="private",
                        concurrency_limit=1, concurrency_id="login").then(
            None, ticket, None, js=SET_COOKIE_JS, api_visibility="private")
        logout_btn.click(self.logout, ticket, [is_admin, status, admin_panel, ticket], api_visibility="private").then(
            None, ticket, None, js=SET_COOKIE_JS, api_visibility="private")
        add_btn.click(self.upload, [upload, replace, level, *values, is_admin], outputs, api_visibility="private",
                      concurrency_limit=1, concurrency_id="library").then(
            self.vectors_view, None, [vectors, timer], show_progress="hidden", api_visibility="private")
        del_btn.click(self.delete, [victim, confirm, is_admin], outputs, api_visibility="private",
                      concurrency_limit=1, concurrency_id="library").then(
            self.vectors_view, None, [vectors, timer], show_progress="hidden", api_visibility="private")
