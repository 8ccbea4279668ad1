"""Admin credentials: only from the environment, off unless both are set, compared in full."""
from webui.auth import Admin


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
