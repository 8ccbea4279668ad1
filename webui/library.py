"""The library tab: every document with its metadata; upload, replace and delete for a logged-in admin."""
from __future__ import annotations

import html
from pathlib import Path

import gradio as gr
import pandas as pd

from indexer.formats import SUPPORTED
from indexer.library import LibraryError, add_document, remove_document
from kb.core.records import LEVELS
from kb.service import KnowledgeBase
from webui.auth import Admin, LoginLocked
from webui.uploads import SET_COOKIE_JS, discard_upload

COLUMNS = [("doc_id", "文档标识"), ("title", "标题"), ("level", "层级"), ("doc_number", "文号"), ("issuer", "发文机关"),
           ("date", "日期"), ("doc_type", "文种"), ("region", "地区"), ("validity", "效力"), ("replaced_by", "被替代为")]
META_FIELDS = [("title", "标题"), ("issuer", "发文机关"), ("doc_number", "文号"), ("date", "日期（如 2021-04-08）"),
               ("region", "地区"), ("doc_type", "文种")]


def _msg(text: str, ok: bool = True) -> str:
    cls = "lib-ok" if ok else "lib-err"
    return f"<div class='{cls}'>{html.escape(text)}</div>"


class LibraryTab:
    """Handlers of the tab; every write action checks the session's login on the server, whatever the page shows."""

    def __init__(self, kb: KnowledgeBase, admin: Admin, on_change=lambda: None, upload_root: Path | None = None):
        self.kb = kb
        self.admin = admin
        self.on_change = on_change  # e.g. the tables tab re-reading its store
        self.upload_root = upload_root  # Gradio's upload folder: an uploaded file is removed from it once used

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
                             progress=lambda f, msg: progress(f, desc=msg), embedder=self.kb.embedder)
        except LibraryError as e:
            return self._refreshed(_msg(f"未加入：{e}（文档库和索引均未改变）", ok=False))
        except Exception as e:  # the library rolled back; say so rather than show a stack trace
            return self._refreshed(_msg(f"加入失败（{type(e).__name__}: {e}），文档库和索引均未改变。", ok=False))
        self._reloaded()
        done = f"已加入《{m.title}》（{m.doc_id}）" + (f"，并将 {replace} 标记为被替代。" if replace else "。")
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

    def _reloaded(self) -> None:
        self.kb.reload()
        self.on_change()

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
        outputs = [status, table, replace, victim]
        login_btn.click(self.login, [user, pw], [is_admin, status, admin_panel, ticket], api_visibility="private",
                        concurrency_limit=1, concurrency_id="login").then(
            None, ticket, None, js=SET_COOKIE_JS, api_visibility="private")
        logout_btn.click(self.logout, ticket, [is_admin, status, admin_panel, ticket], api_visibility="private").then(
            None, ticket, None, js=SET_COOKIE_JS, api_visibility="private")
        add_btn.click(self.upload, [upload, replace, level, *values, is_admin], outputs, api_visibility="private",
                      concurrency_limit=1, concurrency_id="library")
        del_btn.click(self.delete, [victim, confirm, is_admin], outputs, api_visibility="private",
                      concurrency_limit=1, concurrency_id="library")
