"""The library and eligibility tabs: admin-only writes checked on the server, and a real browser session that logs
in, uploads a (fictional) document, asks about it, deletes it, and checks an enterprise profile."""
from __future__ import annotations

import pytest

from kb.eligibility.matcher import eligibility
from kb.service import KnowledgeBase
from tests.fixtures.docs import FICTIONAL_DOCS, write_fictional
from tests.test_app import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, free_port
from webui.auth import Admin
from webui.library import LibraryTab

USER, PASSWORD = "admin", "test-only-password"
NEW_DOC = """【测试数据】虚构区氢能车辆示范运营方案
本文件为虚构的测试数据，不是真实政策，仅用于软件测试。
一、示范目标
到2099年，虚构区投放氢能示范公交车77辆，建成示范加氢站2座。

虚构区测试办公室
2099年5月1日
"""


@pytest.fixture(scope="module")
def lib_kb(tmp_path_factory, kb):
    root = tmp_path_factory.mktemp("libtab")
    write_fictional(root / "corpus")
    return KnowledgeBase.open(kb_dir=root / "kb", corpus_dir=root / "corpus", embedder=kb.embedder)


def test_writes_need_a_login_checked_on_the_server(lib_kb, tmp_path):
    tab = LibraryTab(lib_kb, Admin(USER, PASSWORD))
    src = tmp_path / "new.txt"
    src.write_text(NEW_DOC, encoding="utf-8")
    docs = set(lib_kb.documents)
    msg, *_ = tab.upload(str(src), "", "", "", "", "", "", "", "", False)
    assert "需要管理员登录" in msg
    msg, *_ = tab.delete(next(iter(docs)), True, False)
    assert "需要管理员登录" in msg
    assert set(lib_kb.documents) == docs and not (lib_kb.settings.corpus_dir / "new.txt").exists()
    ok, msg, _, ticket = tab.login(USER, "wrong-password")
    assert ok is False and "错误" in msg and ticket == ""
    ok, msg, _, ticket = tab.login(USER, PASSWORD)
    assert ok is True and tab.admin.valid_ticket(ticket)
    assert tab.logout(ticket)[3] == "" and not tab.admin.valid_ticket(ticket)


def test_an_uploaded_file_is_removed_once_used(lib_kb, tmp_path):
    """Whatever the outcome, the copy Gradio stored on upload goes; nothing outside its upload folder is touched."""
    root = tmp_path / "uploads"
    tab = LibraryTab(lib_kb, Admin(USER, PASSWORD), upload_root=root)
    refused = root / "a1" / "new.txt"
    refused.parent.mkdir(parents=True)
    refused.write_text(NEW_DOC, encoding="utf-8")
    msg, *_ = tab.upload(str(refused), "", "", "", "", "", "", "", "", False)  # not logged in
    assert "需要管理员登录" in msg and not refused.exists() and not refused.parent.exists()
    bad = root / "b2" / "empty.txt"
    bad.parent.mkdir(parents=True)
    bad.write_text("", encoding="utf-8")
    msg, *_ = tab.upload(str(bad), "", "", "", "", "", "", "", "", True)  # rejected by the library
    assert "未加入" in msg and not bad.exists()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("", encoding="utf-8")
    tab.upload(str(outside), "", "", "", "", "", "", "", "", True)
    assert outside.exists() and root.exists()


def test_upload_and_delete_use_the_apps_encoder(lib_kb, tmp_path, monkeypatch):
    """The app's encoder already holds the full model (it built the KB): an upload embeds with it instead of
    loading the model again for every document."""
    from kb.embed.encoder import Embedder

    loads = []
    real = Embedder.from_settings.__func__
    monkeypatch.setattr(Embedder, "from_settings", classmethod(lambda cls, s: loads.append(s) or real(cls, s)))
    tab = LibraryTab(lib_kb, Admin(USER, PASSWORD))
    src = tmp_path / "encoder-check-2099.txt"
    src.write_text(NEW_DOC.replace("77辆", "66辆").replace("2座", "3座"), encoding="utf-8")
    msg, *_ = tab.upload(str(src), "", "", "", "", "", "", "", "", True)
    assert "已加入" in msg and "encoder-check-2099" in lib_kb.documents
    tab.vectors.wait()  # embedded in the background, with the app's encoder too
    msg, *_ = tab.delete("encoder-check-2099", True, True)
    assert "已删除" in msg and "encoder-check-2099" not in lib_kb.documents
    assert loads == []


def test_an_upload_is_searchable_at_once_and_completed_in_the_background(lib_kb, tmp_path):
    """Staged: the upload returns once the document is found by keywords; a background thread embeds it and swaps
    the app's KB. A KB left with pending documents (an app stopped midway) is completed the same way at start."""
    from indexer.build import pending
    from indexer.library import add_document, remove_document

    tab = LibraryTab(lib_kb, Admin(USER, PASSWORD))
    src = tmp_path / "staged-check-2099.txt"
    src.write_text(NEW_DOC.replace("77辆", "55辆").replace("2座", "4座"), encoding="utf-8")
    q = "虚构区要投放多少辆氢能示范公交车？"
    msg, *_ = tab.upload(str(src), "", "", "", "", "", "", "", "", True)
    assert "已加入" in msg and "已可检索（关键词检索），正在计算语义向量" in msg
    assert "55辆" in lib_kb.ask(q).answer  # at once, whether or not the vectors are there yet
    tab.vectors.wait()
    assert not lib_kb.data.pending and not pending(lib_kb.settings)
    assert "语义向量已完成" in tab.vectors_view()[0]
    assert lib_kb.data.chunks[lib_kb.retriever.dense_ranking(q)[0][0]].doc_id == "staged-check-2099"
    tab.delete("staged-check-2099", True, True)

    # As a stopped app leaves it: the document in the KB, its vectors pending; the app's start completes them.
    src.write_text(NEW_DOC.replace("77辆", "44辆"), encoding="utf-8")
    m = add_document(lib_kb.settings, src, embedder=lib_kb.embedder, finish=False)
    assert pending(lib_kb.settings) == [m.doc_id]
    lib_kb.reload()
    restarted = LibraryTab(lib_kb, Admin(USER, PASSWORD))
    restarted.complete_pending()
    restarted.vectors.wait()
    assert not lib_kb.data.pending and "44辆" in lib_kb.ask(q).answer
    remove_document(lib_kb.settings, m.doc_id, embedder=lib_kb.embedder)
    lib_kb.reload()


def test_admin_is_off_without_credentials(lib_kb):
    tab = LibraryTab(lib_kb, Admin("", ""))
    ok, msg, _, ticket = tab.login("", "")
    assert ok is False and "ADMIN_USER" in msg and ticket == ""


def test_bad_upload_changes_nothing(lib_kb, tmp_path):
    tab = LibraryTab(lib_kb, Admin(USER, PASSWORD))
    bad = tmp_path / "empty.txt"
    bad.write_text("", encoding="utf-8")
    before = lib_kb.data.path
    msg, *_ = tab.upload(str(bad), "", "", "", "", "", "", "", "", True)
    assert "未加入" in msg and "为空" in msg and lib_kb.data.path == before


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_browser_library_and_eligibility(lib_kb, tmp_path, kb):
    from playwright.sync_api import sync_playwright

    import app

    demo = app.build_app(lib_kb, Admin(USER, PASSWORD))
    port = free_port()
    app.launch(demo, port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    upload = tmp_path / "test-district-hydrogen-2099.txt"
    upload.write_text(NEW_DOC, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(url, wait_until="load")
            page.get_by_role("tab", name="文件库").click()
            table = page.locator("#library-table")
            table.wait_for(timeout=30_000)
            for name in FICTIONAL_DOCS:
                assert name.removesuffix(".txt") in table.inner_text()
            assert page.locator("#lib-add").count() == 0 or not page.locator("#lib-add").is_visible()

            page.get_by_label("用户名").fill(USER)
            page.get_by_label("密码").fill("not-the-password")
            page.click("#lib-login")
            page.wait_for_selector("#library-status :text('用户名或密码错误')", timeout=20_000)
            page.get_by_label("密码").fill(PASSWORD)
            page.click("#lib-login")
            page.wait_for_selector("#library-status :text('已登录为管理员')", timeout=20_000)
            page.locator("#lib-file input[type=file]").set_input_files(str(upload))
            page.wait_for_timeout(1000)
            page.click("#lib-add")
            page.wait_for_selector("#library-status :text('已加入')", timeout=180_000)
            assert "test-district-hydrogen-2099" in table.inner_text()
            page.screenshot(path=str(ARTIFACTS / "app-7-library.png"), full_page=True)

            # The chat answers from the new document at once.
            page.get_by_role("tab", name="问答").click()
            q = page.locator("#question textarea")
            q.fill("虚构区要投放多少辆氢能示范公交车？")
            q.press("Enter")
            page.wait_for_function("document.querySelectorAll(\"#chatbot [data-testid='bot']\").length > 0",
                                   timeout=60_000)
            assert "77辆" in page.locator("#chatbot [data-testid='bot']").first.inner_text()

            # Delete it again: gone from the table and from answers.
            page.get_by_role("tab", name="文件库").click()
            page.get_by_label("要删除的文档").click()
            page.get_by_role("option", name="test-district-hydrogen-2099", exact=False).click()
            page.get_by_label("确认删除").check()
            page.get_by_role("button", name="删除并更新索引").click()
            page.wait_for_selector("#library-status :text('已删除')", timeout=180_000)
            assert "test-district-hydrogen-2099" not in table.inner_text()
            assert "77辆" not in lib_kb.ask("虚构区要投放多少辆氢能示范公交车？").answer

            # Eligibility: the example profile gives cards with the honesty note and condition statuses.
            page.get_by_role("tab", name="企业政策匹配").click()
            page.get_by_label("企业类型").fill("零部件企业")
            page.get_by_label("企业简介").fill("从事动力电池包安全测试设备研发制造")
            page.locator("#elig-needs").get_by_label("税收").check()  # the needs reach the matcher
            page.click("#elig-go")
            page.wait_for_selector("#elig-result .elig-note", timeout=60_000)
            result = page.inner_text("#elig-result")
            # the honesty note for the genres of the documents matched (these fictional 办法 are no plan)
            expected = eligibility(lib_kb, {"enterprise_type": "零部件企业", "needs": ["税收"],
                                            "description": "从事动力电池包安全测试设备研发制造"})
            assert expected.note.split("\n")[0].rstrip("。") in result
            assert "关注的支持：税收" in result and "税收" in expected.recognized["needs"]
            page.screenshot(path=str(ARTIFACTS / "app-8-eligibility.png"), full_page=True)
            page.set_viewport_size({"width": 390, "height": 844})  # phone width: still laid out, no overflow
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            page.screenshot(path=str(ARTIFACTS / "app-9-phone.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
