"""Admin credentials: only from the environment, off unless both are set, compared in full; guessing is limited
per user name and per client, with a lockout that refuses even the right password, and each failure is logged."""
import logging

import pytest

from kb.core.settings import LoginSettings
from webui.auth import Admin, LoginLocked

LIMITS = LoginSettings(max_failures=5, window_s=900, lockout_s=900)


class Clock:
    """A hand-moved clock: the lockout window is tested without waiting."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_disabled_without_credentials(monkeypatch):
    monkeypatch.delenv("ADMIN_USER", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    a = Admin()
    assert not a.enabled and "ADMIN_USER" in a.why_disabled
    assert not a.check("", "")


def test_short_password_keeps_admin_off():
    a = Admin("admin", "1234")
    assert not a.enabled and "太短" in a.why_disabled and not a.check("admin", "1234")


def test_from_environment(monkeypatch):
    monkeypatch.setenv("ADMIN_USER", "editor")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-secret")
    a = Admin()
    assert a.enabled
    assert a.check("editor", "a-long-secret")
    assert not a.check("editor", "a-long-secret ")
    assert not a.check("Editor", "a-long-secret")
    assert not a.check("editor", None)


def test_user_is_locked_after_repeated_failures_even_with_the_right_password(caplog):
    clock = Clock()
    a = Admin("admin", "a-long-secret", limits=LIMITS, clock=clock)
    with caplog.at_level(logging.WARNING, logger="webui.auth"):
        for i in range(LIMITS.max_failures):
            assert a.check("admin", f"guess-{i}", client=f"10.0.0.{i}") is False  # a new client each time
    assert sum("登录失败" in r.getMessage() for r in caplog.records) >= LIMITS.max_failures
    assert any("10.0.0.0" in r.getMessage() for r in caplog.records)  # who tried is in the log
    with pytest.raises(LoginLocked, match="分钟后再试"):
        a.check("admin", "a-long-secret", client="10.0.0.99")
    clock.t += LIMITS.lockout_s - 1
    with pytest.raises(LoginLocked):
        a.check("admin", "a-long-secret", client="10.0.0.99")
    clock.t += 2  # the lockout is over: the right password works again
    assert a.check("admin", "a-long-secret", client="10.0.0.99")


def test_client_is_locked_whatever_user_name_it_tries():
    clock = Clock()
    a = Admin("admin", "a-long-secret", limits=LIMITS, clock=clock)
    for i in range(LIMITS.max_failures):
        a.check(f"user{i}", "x", client="192.0.2.7")
    with pytest.raises(LoginLocked):
        a.check("admin", "a-long-secret", client="192.0.2.7")
    assert a.check("admin", "a-long-secret", client="192.0.2.8")  # the real admin elsewhere is not locked out


def test_failures_spread_beyond_the_window_do_not_lock():
    clock = Clock()
    a = Admin("admin", "a-long-secret", limits=LIMITS, clock=clock)
    for _ in range(3 * LIMITS.max_failures):
        assert a.check("admin", "wrong", client="198.51.100.1") is False
        clock.t += LIMITS.window_s / (LIMITS.max_failures - 1) + 1
    assert a.check("admin", "a-long-secret", client="198.51.100.1")


def test_upload_tickets_expire_and_can_be_revoked():
    clock = Clock()
    a = Admin("admin", "a-long-secret", limits=LoginSettings(session_s=60), clock=clock)
    t1, t2 = a.issue_ticket(), a.issue_ticket()
    assert t1 != t2 and a.valid_ticket(t1) and a.valid_ticket(t2)
    assert not a.valid_ticket("") and not a.valid_ticket(None) and not a.valid_ticket(t1 + "x")
    a.revoke_ticket(t1)
    assert not a.valid_ticket(t1) and a.valid_ticket(t2)
    clock.t += 61
    assert not a.valid_ticket(t2)
