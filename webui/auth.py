"""Admin credentials for the library's write actions (from the environment only, never from the code), a limit on
password guessing, and the upload tickets that let only a logged-in admin's browser send files to the server."""
from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from kb.core.settings import LoginSettings, env

log = logging.getLogger(__name__)
USER_VAR, PASSWORD_VAR = "ADMIN_USER", "ADMIN_PASSWORD"
MIN_PASSWORD = 8  # a shorter password is treated as not configured: admin actions stay off


class LoginLocked(Exception):
    """Too many wrong logins for this user name or client; str(e) says when to try again (Chinese)."""


class Admin:
    """Checks a login against ADMIN_USER / ADMIN_PASSWORD; with either unset, admin actions are disabled.

    Wrong logins are counted per user name and per client address; past `max_failures` within `window_s`, every
    login of that name or from that client is refused for `lockout_s`, the right password too, so guessing in
    parallel gains nothing. Each failure is logged with its client."""

    def __init__(self, user: str | None = None, password: str | None = None, limits: LoginSettings | None = None,
                 clock: Callable[[], float] = time.monotonic):
        e = env()  # the one place environment variables are read
        self.user = e.ADMIN_USER if user is None else user
        self.password = e.ADMIN_PASSWORD if password is None else password
        self.limits = limits or LoginSettings()
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}  # "user:<name>" / "client:<address>" → failure times
        self._locked_until: dict[str, float] = {}
        self._tickets: dict[str, float] = {}  # upload ticket → expiry

    @property
    def enabled(self) -> bool:
        return bool(self.user) and len(self.password) >= MIN_PASSWORD

    @property
    def why_disabled(self) -> str:
        if not self.user or not self.password:
            return f"未配置管理员账号：设置环境变量 {USER_VAR} 和 {PASSWORD_VAR} 后重启，才能上传、替换和删除文档。"
        return f"管理员密码太短（至少 {MIN_PASSWORD} 位），上传、替换和删除已停用。"

    def check(self, user: str | None, password: str | None, client: str = "") -> bool:
        """True for the right user name and password; False for a wrong one. Raises LoginLocked while this user
        name or client is locked out (checked before the password, so a locked-out guess learns nothing)."""
        if not self.enabled:
            return False
        keys = [f"user:{user or ''}", f"client:{client or '?'}"]
        now = self.clock()
        with self._lock:
            until = max((self._locked_until.get(k, 0.0) for k in keys), default=0.0)
            if until > now:
                raise LoginLocked(f"登录失败次数过多，已暂时锁定，请 {max(1, round((until - now) / 60))} 分钟后再试。")
        # Compare both in constant time (and both always), so timing tells nothing about either.
        ok_user = hmac.compare_digest((user or "").encode(), self.user.encode())
        ok_pw = hmac.compare_digest((password or "").encode(), self.password.encode())
        if ok_user and ok_pw:
            return True
        with self._lock:
            counts = []
            for k in keys:
                times = self._failures.setdefault(k, deque())
                times.append(now)
                while times and times[0] <= now - self.limits.window_s:
                    times.popleft()
                counts.append(len(times))
                if len(times) >= self.limits.max_failures:
                    self._locked_until[k] = now + self.limits.lockout_s
                    times.clear()
        log.warning("管理员登录失败：用户名 %r，客户端 %s（%d 分钟内第 %d 次）", user or "", client or "?",
                    round(self.limits.window_s / 60), max(counts))
        if max(counts) >= self.limits.max_failures:
            log.warning("登录失败次数过多，锁定 %d 分钟：用户名 %r，客户端 %s", round(self.limits.lockout_s / 60),
                        user or "", client or "?")
        return False

    # ------------------------------------------------ upload tickets
    def issue_ticket(self) -> str:
        """A random ticket for a session that has just logged in; the page keeps it as a cookie (see uploads.py)."""
        ticket = secrets.token_urlsafe(32)
        with self._lock:
            now = self.clock()
            self._tickets = {t: exp for t, exp in self._tickets.items() if exp > now}
            self._tickets[ticket] = now + self.limits.session_s
        return ticket

    def valid_ticket(self, ticket: str | None) -> bool:
        if not ticket:
            return False
        with self._lock:
            exp = self._tickets.get(ticket)
            return exp is not None and exp > self.clock()

    def revoke_ticket(self, ticket: str | None) -> None:
        with self._lock:
            self._tickets.pop(ticket or "", None)
