"""Web probes: the real app (`python app.py`, as `./run.sh app` starts it) on a free loopback port, probed over
HTTP, gradio_client and a real browser for each hardening item of the web app:

- uploads: refused without an admin login before anything is written; over MAX_DOCUMENT_MB refused (413);
- /ask: only text, cut before any work, at most the cut question echoed, a number-only question asked back;
- display: apostrophes and $$…$$ are shown as typed;
- logins: guessing locks the user and client out, the right password too, and the failures are logged;
- the process's temporary files: all gone once it stops.

The app runs with TMPDIR set to a folder of its own, so everything it writes to temporary storage is seen here.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from bench.load import AppServer
from tests.test_app import CHROMIUM, CHROMIUM_ARGS

USER, PASSWORD = "admin", "probe-only-password"
LIMIT_MB = 1  # MAX_DOCUMENT_MB for the probed app: small, so the oversized upload is quick to send
QUESTION = "到2025年要建成多少座加氢站？"


def files_under(folder: Path) -> set[str]:
    """Files under `folder`, but jieba's dictionary cache (one file all processes share and reuse)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "jieba.cache"}


@pytest.fixture(scope="module")
def web(kb, kb_dir, tmp_path_factory):
    """(server, its TMPDIR, its log) for the module; the last test stops it."""
    root = tmp_path_factory.mktemp("web")
    tmp = root / "tmp"
    tmp.mkdir()
    with pytest.MonkeyPatch.context() as mp:  # AppServer passes this process's environment on
        for k, v in {"TMPDIR": str(tmp), "MAX_DOCUMENT_MB": str(LIMIT_MB), "ADMIN_USER": USER,
                     "ADMIN_PASSWORD": PASSWORD, "LOG_LEVEL": "INFO"}.items():
            mp.setenv(k, v)
        mp.delenv("GRADIO_TEMP_DIR", raising=False)
        server = AppServer(kb_dir=kb_dir, log_path=root / "app.log", ready_timeout=300)
        server.__enter__()
    try:
        yield server, tmp, root / "app.log"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(web):
    from gradio_client import Client

    return Client(web[0].url, verbose=False)


def upload(url: str, size: int, cookies: dict | None = None, name: str = "probe.txt") -> requests.Response:
    return requests.post(url + "gradio_api/upload", files={"files": (name, b"a" * size, "text/plain")},
                         cookies=cookies or {}, timeout=60)


# ---------------------------------------------------------------- 1. uploads


def test_anonymous_upload_is_refused_and_leaves_nothing(web):
    server, tmp, _ = web
    before = files_under(tmp)
    for size in (100, 2 * LIMIT_MB * 1024 * 1024):
        r = upload(server.url, size)
        assert r.status_code == 403 and "管理员" in r.text
    r = upload(server.url, 100, cookies={"nev_upload_ticket": "guessed"})
    assert r.status_code == 403
    assert files_under(tmp) == before


# ---------------------------------------------------------------- 7. /ask input


@pytest.mark.parametrize("value, kind", [({"question": QUESTION}, "对象"), ([QUESTION], "列表"), (2025, "数字")])
def test_ask_takes_only_text(client, value, kind):
    rec = client.predict(value, api_name="/ask")
    assert rec["error"] and "文本" in rec["error"] and kind in rec["error"]
    assert rec["refused"] and rec["citations"] == [] and rec["question"] == ""


def test_ask_cuts_a_huge_question_and_echoes_only_the_cut(client):
    huge = "加氢站建设" * 1_000_000  # 5 million characters
    rec = client.predict(huge, api_name="/ask")
    assert rec["error"] is None and len(rec["question"]) == 500 and huge.startswith(rec["question"])
    assert "500" in rec["answer"]


def test_number_only_question_is_asked_back(client):
    for q in ("2025", " 60 ", "１２３"):
        rec = client.predict(q, api_name="/ask")
        assert rec["error"] and "只有数字" in rec["error"] and rec["citations"] == [], q


def test_ask_still_answers(client):
    rec = client.predict(QUESTION, api_name="/ask")
    assert rec["error"] is None and "30座" in rec["answer"] and rec["question"] == QUESTION


# ---------------------------------------------------------------- 8, 1 and 3 in a browser


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_browser_display_uploads_and_login_limit(web):
    from playwright.sync_api import sync_playwright

    server, tmp, log = web
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server.url, wait_until="load")
            question = page.locator("#question textarea")
            question.wait_for(timeout=60_000)

            # 8. Display: an apostrophe and a $$…$$ formula are shown exactly as typed.
            typed = "What's $$x_1^2$$ 加氢站建多少座？"
            question.fill(typed)
            question.press("Enter")
            page.wait_for_function("document.querySelectorAll(\"#chatbot [data-testid='bot']\").length > 0",
                                   timeout=60_000)
            user = page.locator("#chatbot [data-testid='user']").first
            assert typed in user.inner_text() and user.locator(".katex").count() == 0

            # 1. An admin may upload, but not beyond MAX_DOCUMENT_MB; logging out ends it.
            page.get_by_role("tab", name="文件库").click()
            page.get_by_label("用户名").fill(USER)
            page.get_by_label("密码").fill(PASSWORD)
            page.click("#lib-login")
            page.wait_for_selector("#library-status :text('已登录为管理员')", timeout=20_000)
            page.wait_for_function("document.cookie.includes('nev_upload_ticket=')", timeout=10_000)
            before = files_under(tmp)
            big = page.request.post(server.url + "gradio_api/upload", multipart={
                "files": {"name": "big.txt", "mimeType": "text/plain", "buffer": b"a" * (LIMIT_MB * 1024 * 1024 + 1)}})
            assert big.status == 413
            assert files_under(tmp) == before  # the part received before the refusal is gone too
            ok = page.request.post(server.url + "gradio_api/upload", multipart={
                "files": {"name": "ok.txt", "mimeType": "text/plain", "buffer": b"a" * 1000}})
            assert ok.status == 200 and len(files_under(tmp) - before) == 1
            page.get_by_role("button", name="退出").click()
            page.wait_for_selector("#library-status :text('已退出')", timeout=20_000)
            page.wait_for_function("!document.cookie.includes('nev_upload_ticket=')", timeout=10_000)
            again = page.request.post(server.url + "gradio_api/upload", multipart={
                "files": {"name": "ok2.txt", "mimeType": "text/plain", "buffer": b"a" * 1000}})
            assert again.status == 403

            # 3. Guessing: after the allowed failures even the right password is refused, and each is logged.
            def login(password: str, expect: str) -> None:
                page.get_by_role("button", name="退出").click()  # a fresh status line for each attempt
                page.wait_for_selector("#library-status :text('已退出')", timeout=20_000)
                page.get_by_label("密码").fill(password)
                page.click("#lib-login")
                page.wait_for_selector(f"#library-status :text('{expect}')", timeout=20_000)

            for i in range(5):
                login(f"guess-{i}", "用户名或密码错误")
            login(PASSWORD, "分钟后再试")
            assert "已登录为管理员" not in page.inner_text("#library-status")
        finally:
            browser.close()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert text.count("管理员登录失败") >= 5 and "锁定" in text


# ---------------------------------------------------------------- 10. nothing left behind (runs last)


def test_nothing_is_left_in_temp_after_stop(web):
    server, tmp, log = web
    assert files_under(tmp), "the running app keeps its files in its temp folder"
    assert server.stop() == 0
    left = [p.name for p in tmp.iterdir() if p.name != "jieba.cache"]
    assert left == [], f"left behind: {sorted(files_under(tmp))}\n{log.read_text()[-2000:]}"
