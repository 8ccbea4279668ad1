"""Who may send files to the server: Gradio's upload endpoint accepts files from anyone who can reach the page,
so the app puts this guard in front of it. A request without a valid admin upload ticket (a cookie the page sets
after an admin login, webui/auth.py) is refused before its body is read, so nothing it sends touches the disk."""
from __future__ import annotations

import logging
import shutil
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

from starlette.responses import PlainTextResponse

from webui.auth import Admin

log = logging.getLogger(__name__)
COOKIE = "nev_upload_ticket"
# Gradio routes that write a request body to disk.
WRITING_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording")
# Sets (or clears, for an empty ticket) the cookie in the admin's browser; run by the login and logout events.
SET_COOKIE_JS = f"""
(ticket) => {{
  document.cookie = '{COOKIE}=' + (ticket || '') + '; path=/; SameSite=Strict' + (ticket ? '' : '; max-age=0');
  return [];
}}
"""


def ticket_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"cookie":
            try:
                jar = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


class UploadGuard:
    """ASGI middleware: POSTs to Gradio's writing routes need a valid upload ticket of `admin` (none: refused)."""

    def __init__(self, app, admin: Admin | None = None):
        self.app = app
        self.admin = admin

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and \
                scope["path"].rstrip("/").endswith(WRITING_ROUTES):
            if self.admin is None or not self.admin.valid_ticket(ticket_of(scope.get("headers", []))):
                client = (scope.get("client") or ("?",))[0]
                log.warning("拒绝未登录的上传请求：%s %s", client, scope["path"])
                await PlainTextResponse("上传文件需要管理员登录。", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def discard_upload(path: str | Path, upload_root: str | Path) -> None:
    """Remove an uploaded file and the folder Gradio made for it, once the library has its own copy."""
    p, root = Path(path).resolve(), Path(upload_root).resolve()
    if root not in p.parents:
        return  # never delete anything outside the upload folder
    folder = p.parent if p.parent != root else p
    shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
