"""Starting `python app.py`: on an empty KB it serves a progress page on its port, which turns into the app; a
library change killed midway is undone first; with the KB in place, the app itself is served at once."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.fixtures.docs import write_fictional
from tests.test_app import CHROMIUM, CHROMIUM_ARGS, REPO, free_port
from webui.startup import APP_MARKER, PAGE_TITLE, PageProgress


def test_progress_render_escapes_and_clamps():
    p = PageProgress()
    p(1.7, "<b>读取</b>")
    html = p.render()
    assert "&lt;b&gt;" in html and "aria-valuenow='100'" in html
    p.error = "失败<script>"
    assert "&lt;script&gt;" in p.render()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_first_start_shows_build_progress_then_the_app(tmp_path):
    from playwright.sync_api import sync_playwright

    write_fictional(tmp_path / "corpus")
    # What a killed `indexer add` leaves: its proposal, without the intent to commit it. Undone at start.
    dead = tmp_path / "corpus" / ".staging" / "999999"
    dead.mkdir(parents=True)
    (dead / "half-added.txt").write_text("【测试数据】未完成的加入", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "KB_DIR": str(tmp_path / "kb"), "CORPUS_DIR": str(tmp_path / "corpus"),
           "PYTHONPATH": str(REPO)}
    env.pop("ADMIN_USER", None)
    tmp = tmp_path / "tmp"  # the app's only temporary files go here, and are gone after it stops
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        first = _wait_for_page(url, proc)
        assert PAGE_TITLE in first  # the progress page answers before the KB exists
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url, wait_until="load")
            page.wait_for_selector("#boot-progress [role=progressbar]", timeout=60_000)
            # The same tab reloads into the app once the KB is ready.
            page.wait_for_selector("#question textarea", timeout=300_000)
            # Several fictional documents: the title names the library, not any one document (nor the NEV plan).
            assert "政策文件问答" in page.title() and "新能源汽车产业发展" not in page.title()
            browser.close()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "知识库已建立" in out and "网页已启动" in out
    assert "撤销了被中断的文档库更改" in out and not (tmp_path / "corpus" / ".staging").exists()
    assert not (tmp_path / "corpus" / "half-added.txt").exists()
    # jieba's dictionary cache is one file every process shares and reuses, not something a start leaves behind.
    left = [p.name for p in tmp.iterdir() if p.name != "jieba.cache"]
    assert proc.returncode == 0 and left == [], "the app left temporary files behind"


def _wait_for_page(url: str, proc: subprocess.Popen, timeout: float = 180) -> str:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited early:\n{proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read().decode("utf-8", "replace")
        except OSError:
            time.sleep(0.5)
    pytest.fail("no page was served")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_with_the_kb_in_place_the_app_is_served_without_the_progress_page(tmp_path):
    write_fictional(tmp_path / "corpus")
    env = {**os.environ, "KB_DIR": str(tmp_path / "kb"), "CORPUS_DIR": str(tmp_path / "corpus"), "PYTHONPATH": str(REPO)}
    built = subprocess.run([sys.executable, "-m", "indexer", "build"], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=900)
    assert built.returncode == 0, built.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env={**env, "PORT": str(port)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = _wait_for_page(f"http://127.0.0.1:{port}/", proc)
        assert PAGE_TITLE not in first and APP_MARKER in first  # the first page served is the app
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    # (not "网页已启动": Gradio serves the page before launch() returns and the app logs that line, so a page
    # fetched at once can come first — the race made this test fail on a loaded machine)
    assert "知识库已建立" not in out  # the KB in place was opened, not rebuilt
