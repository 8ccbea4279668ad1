"""Admin credentials for the library's write actions: from the environment only, never from the code."""
from __future__ import annotations

import hmac
import os
import time

USER_VAR, PASSWORD_VAR = "ADMIN_USER", "ADMIN_PASSWORD"
MIN_PASSWORD = 8  # a shorter password is treated as not configured: admin actions stay off


class Admin:
    """Checks a login against ADMIN_USER / ADMIN_PASSWORD; with either unset, admin actions are disabled."""

    def __init__(self, user: str | None = None, password: str | None = None):
        self.user = os.environ.get(USER_VAR, "") if user is None else user
        self.password = os.environ.get(PASSWORD_VAR, "") if password is None else password

    @property
    def enabled(self) -> bool:
        return bool(self.user) and len(self.password) >= MIN_PASSWORD

    @property
    def why_disabled(self) -> str:
        if not self.user or not self.password:
            return f"未配置管理员账号：设置环境变量 {USER_VAR} 和 {PASSWORD_VAR} 后重启，才能上传、替换和删除文档。"
        return f"管理员密码太短（至少 {MIN_PASSWORD} 位），上传、替换和删除已停用。"

    def check(self, user: str | None, password: str | None) -> bool:
        if not self.enabled:
            return False
        # Compare both in constant time (and both always), so timing tells nothing about either.
        ok_user = hmac.compare_digest((user or "").encode(), self.user.encode())
        ok_pw = hmac.compare_digest((password or "").encode(), self.password.encode())
        if not (ok_user and ok_pw):
            time.sleep(0.5)  # slows guessing from one session
            return False
        return True
