"""The web app: the /ask API over HTTP, follow-up resolution, safe rendering, and one browser session end to end.

The browser test drives Debian's chromium (apt package `chromium`) with the `playwright` pip package; it is
skipped only when chromium is not installed. Screenshots go to artifacts/ (git-ignored).
"""
from __future__ import annotations

import csv
import shutil
import socket
import threading
from pathlib import Path

import pytest

from kb.answer.conversation import FollowUpError, resolve, topic_span
from kb.core.records import AnswerRecord, Citation
from kb.core.segment import segmenter

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

HYDROGEN = "到2025年要建成多少座加氢站？"
UNANSWERABLE = "2030年全省新能源汽车产量目标是多少？"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(kb):
    import app

    demo = app.build_app(kb)
    port = free_port()
    app.launch(demo, port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def chat(kb):
    from webui.chat import ChatApp

    return ChatApp(kb)


@pytest.fixture(scope="module")
def tables(kb, tmp_path_factory):
    from webui.tables_tab import TablesTab

    return TablesTab(kb, tmp_path_factory.mktemp("tables"))


def verbatim(kb, c: Citation) -> bool:
    return c.quote in kb.documents[c.doc_id].text


# ---------------------------------------------------------------- the /ask API (interfaces.md §2b)

def test_api_answers_with_citation(client, kb):
    out = client.predict(HYDROGEN, api_name="/ask")
    assert isinstance(out, dict)
    rec = AnswerRecord.model_validate(out)
    assert rec.question == HYDROGEN and not rec.refused and rec.error is None
    assert "30座" in rec.answer
    assert rec.citations and all(verbatim(kb, c) for c in rec.citations)
    assert len(rec.retrieved) >= 10 and rec.latency_ms > 0
    for key in ("id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"):
        assert key in out


def test_api_refuses_what_the_plan_does_not_state(client):
    rec = AnswerRecord.model_validate(client.predict(UNANSWERABLE, api_name="/ask"))
    assert rec.refused and rec.error is None
    assert "60万辆" not in rec.answer  # the 2025 figure must not be passed off as the 2030 one


def test_api_bad_input_gives_records_not_errors(client):
    empty = AnswerRecord.model_validate(client.predict("", api_name="/ask"))
    assert empty.error and "问题为空" in empty.answer
    long = AnswerRecord.model_validate(client.predict("加氢站" * 3400, api_name="/ask"))
    assert "500" in long.answer and long.error is None
    script = AnswerRecord.model_validate(client.predict("<script>alert(1)</script>加氢站建多少座？", api_name="/ask"))
    assert script.question.startswith("<script>")


def test_api_parallel_requests(client):
    results: list[dict] = []

    def one():
        results.append(client.predict(HYDROGEN, api_name="/ask"))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 4 and all("30座" in r["answer"] for r in results)


def test_only_ask_is_public(client):
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]


# ---------------------------------------------------------------- follow-up resolution (kb/conversation.py)

@pytest.fixture(scope="module")
def seg():
    return segmenter()


P_OUTPUT = "到2025年全省新能源汽车产量目标是多少？"
P_CHARGERS = "到2025年要建成多少座充电桩？"


@pytest.mark.parametrize("previous, message, expected", [
    ([P_CHARGERS], "那加氢站呢？", "到2025年要建成多少座加氢站？"),
    ([P_OUTPUT], "那加氢站呢？", "到2025年全省加氢站目标是多少？"),
    ([P_CHARGERS], "加氢站呢", "到2025年要建成多少座加氢站？"),
    ([P_OUTPUT], "这个目标是哪一年的？", "新能源汽车产量目标是哪一年的？"),
    ([P_OUTPUT], "那产值呢？", "到2025年全省新能源汽车产值目标是多少？"),  # replaces the word sharing 产
    ([P_OUTPUT], "那么2030年呢？", "到2030年全省新能源汽车产量目标是多少？"),
    ([P_OUTPUT], "那杭州呢？", "到2025年杭州新能源汽车产量目标是多少？"),
    ([HYDROGEN], "它的牵头部门是谁？", "加氢站的牵头部门是谁？"),
    ([P_OUTPUT], "具体是多少？", "新能源汽车产量具体是多少？"),
    ([P_CHARGERS], "那加氢站的牵头部门是谁？", "加氢站的牵头部门是谁？"),
    ([P_OUTPUT, P_CHARGERS], "那加氢站呢？", "到2025年要建成多少座加氢站？"),  # the latest question counts
])
def test_follow_ups_are_rewritten(seg, previous, message, expected):
    r = resolve(previous, message, seg)
    assert r.rewritten and r.previous == previous[-1]
    assert r.question == expected


@pytest.mark.parametrize("message", [
    HYDROGEN,
    "该规划的总体目标是什么？",  # 该 + 规划 refers to the document, not to the conversation
    "<script>alert(1)</script>",
    "动力电池与管理系统领域预计完成投资多少？",
])
def test_standalone_questions_are_kept(seg, message):
    r = resolve([P_OUTPUT], message, seg)
    assert not r.rewritten and r.question == message


def test_follow_up_without_previous_question(seg):
    with pytest.raises(FollowUpError, match="上一个问题"):
        resolve([], "那加氢站呢？", seg)
    with pytest.raises(FollowUpError, match="上一个问题"):
        resolve(["", "  "], "这个目标是哪一年的？", seg)
    assert resolve([], HYDROGEN, seg).question == HYDROGEN


def test_follow_up_with_nothing_to_go_on(seg):
    with pytest.raises(FollowUpError, match="补充"):
        resolve([P_OUTPUT], "还有呢？", seg)


def test_topic_span(seg):
    a, b = topic_span(P_OUTPUT, seg)
    assert P_OUTPUT[a:b] == "新能源汽车产量"
    assert topic_span("是多少？", seg) is None


def test_full_width_digits_are_normalised(seg):
    r = resolve(["到２０２５年要建成多少座充电桩？"], "那加氢站呢？", seg)
    assert r.question == "到2025年要建成多少座加氢站？"


# ---------------------------------------------------------------- rendering: everything is text, never markup

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_user_message_is_escaped():
    from webui import render

    out = render.render_user(XSS)
    assert "<script" not in out and "<img" not in out and "&lt;script&gt;" in out


def test_answer_rendering_escapes_and_links_markers():
    from webui import render

    c = Citation(doc_id="d", doc_title=XSS, section="一、<b>章</b> > 4．加氢站", quote=XSS, start=0, end=5)
    rec = AnswerRecord(question=XSS, answer=f"到2025年，建成加氢站30座[1]。{XSS}[7]", citations=[c])
    out = render.render_answer(rec, turn=3, rewritten=XSS)
    assert "<script" not in out and "<img" not in out and "<b>" not in out
    assert "href='#cite-3-c-1'" in out and "#cite-3-c-7" not in out  # no marker for a citation that does not exist
    assert "按上下文理解为" in out


def test_refusal_rendering():
    from webui import render

    rel = Citation(doc_id="d", doc_title="t", section="二、总体思路与发展目标 > （三）发展目标",
                   quote="到2025年，全省新能源汽车产业规模持续做大", start=0, end=10)
    rec = AnswerRecord(question=UNANSWERABLE, answer="文件中未找到2030年新能源汽车的相关内容。", refused=True,
                       related=[rel])
    out = render.render_answer(rec, turn=0)
    assert "文件中未明确规定" in out and "相关条款（仅供参考）" in out and "#cite-0-r-1" in out
    assert out.lstrip().startswith(">")  # a muted block quote, not an ordinary answer


def test_source_pane_escapes_and_highlights():
    from webui import render

    out = render.render_source(XSS, "一、<i>x</i> > （三）发展目标", "前文<b>", XSS, "后文</div>", label="引用 [1]")
    assert "<script" not in out and "<img" not in out and "<i>" not in out and "<b>" not in out
    assert out.count("<mark") == 1 and "&lt;script&gt;" in out and "（三）发展目标" in out


def test_source_context_of_a_real_citation(client, kb):
    from webui import render

    rec = AnswerRecord.model_validate(client.predict(HYDROGEN, api_name="/ask"))
    c = rec.citations[0]
    before, quote, after, where = render.source_context(kb, c)
    assert quote == kb.documents[c.doc_id].text[c.start:c.end] and "30座" in quote
    assert "加氢" in before  # the paragraph around the quote is shown
    # Without offsets the quote is found in the text.
    before2, quote2, _, _ = render.source_context(kb, c.model_copy(update={"start": None, "end": None}))
    assert quote2 == c.quote


# ---------------------------------------------------------------- chat handler: bad input, follow-ups, tables

def test_chat_handler_bad_input(chat):
    from webui.chat import MAX_INPUT

    chatlog, turns, box, notice, *_ = chat.respond("   ", [], [])
    assert chatlog == [] and "请输入问题" in notice
    chatlog, turns, box, notice, *_ = chat.respond("加" * 10_000, [], [])
    assert chatlog == [] and "问题太长" in notice and "10000" in notice
    chatlog, turns, box, notice, *_ = chat.respond("？？！", [], [])
    assert chatlog == [] and "标点" in notice
    chatlog, turns, box, notice, *_ = chat.respond("那加氢站呢？", [], [])
    assert turns == [] and "上一个问题" in chatlog[-1]["content"]
    chatlog, turns, *_ = chat.respond(XSS + "加氢站建多少座？", [], [])
    assert "<script" not in chatlog[0]["content"] and "<img" not in chatlog[0]["content"]
    assert MAX_INPUT >= 500


def test_chat_handler_follow_up_and_source(chat):
    chatlog, turns, box, notice, radio, source = chat.respond(P_CHARGERS, [], [])
    assert box == "" and len(turns) == 1 and "<mark" in source
    chatlog, turns, box, notice, radio, source = chat.respond("那加氢站呢？", turns, chatlog)
    assert turns[1]["question"] == HYDROGEN and turns[1]["rewritten"]
    assert "按上下文理解为" in chatlog[-1]["content"] and "30座" in chatlog[-1]["content"]
    assert "建成加氢站30座</mark>" in source
    # A marker of the first answer, clicked later, shows the first answer's clause.
    radio, html = chat.pick("0-c-1", turns)
    assert "第 1 问" in html and "<mark" in html
    assert chat.pick("99-c-1", turns)[1] is not None and "<mark" not in chat.show_source(turns, "99-c-1")


def test_tables_filter_and_export(tables):
    df, count, path = tables.filter_targets("target", "充电桩", "", "2025")
    assert len(df) >= 1 and all("充电桩" in v for v in df["指标"])
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:9] == ["doc_id", "section", "indicator", "value", "unit", "qualifier", "year", "kind", "quote"]
    assert len(rows) == len(df) + 1
    df, count, _ = tables.filter_projects("电池", "")
    assert len(df) >= 1
    df, count, _ = tables.filter_resp("发展改革委", "", "")
    assert len(df) >= 1
    names = {Path(p).name for p in tables.export_paths}
    assert names == {"targets.csv", "projects.csv", "responsibilities.csv", "tables.xlsx"}


# ---------------------------------------------------------------- a real browser, end to end

@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_browser_end_to_end(app_url, tables):
    from webui.examples import examples

    later_year = examples(tables.kb, tables.store).questions[-1]  # the chip about a year no target is set for
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # a missing requirement is a failure, not a reason to skip
        pytest.fail("the playwright pip package is missing: it is in requirements.txt (never run `playwright install`)")
    ARTIFACTS.mkdir(exist_ok=True)
    origin = app_url.rstrip("/")
    outside: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((origin, "data:", "blob:")) else None)
            page.on("dialog", lambda d: (outside.append("dialog:" + d.message), d.dismiss()))
            page.goto(app_url, wait_until="load")
            question = page.locator("#question textarea")
            question.wait_for(timeout=60_000)
            bots = page.locator("#chatbot [data-testid='bot']")
            users = page.locator("#chatbot [data-testid='user']")

            def ask(text: str, n_before: int):
                question.fill(text)
                question.press("Enter")
                page.wait_for_function(
                    f"document.querySelectorAll(\"#chatbot [data-testid='bot']\").length > {n_before}",
                    timeout=60_000)
                return bots.nth(n_before)

            # 1. An empty message: a notice, nothing sent.
            question.fill("")
            page.click("#send")
            page.wait_for_selector("#notice :text('请输入问题')", timeout=20_000)

            # 2. A question: an answer with a citation marker; the source pane highlights the clause.
            answer = ask(HYDROGEN, 0)
            assert "30座" in answer.inner_text()
            assert answer.locator("a.cite-ref").count() >= 1
            page.wait_for_selector("#source-pane mark", timeout=20_000)
            assert "30座" in page.inner_text("#source-pane mark")
            page.screenshot(path=str(ARTIFACTS / "app-1-answer.png"), full_page=True)

            # 3. A follow-up, resolved against the first question.
            follow = ask("那充电桩呢？", 1)
            assert "按上下文理解为" in follow.inner_text()
            page.screenshot(path=str(ARTIFACTS / "app-2-follow-up.png"), full_page=True)

            # 4. Clicking the first answer's [1] shows that clause again.
            bots.nth(0).locator("a.cite-ref").first.click()
            page.wait_for_selector("#source-pane :text('第 1 问')", timeout=20_000)
            assert "30座" in page.inner_text("#source-pane mark")
            page.screenshot(path=str(ARTIFACTS / "app-3-citation-click.png"), full_page=True)

            # 5. An unanswerable question, asked with an example chip: the muted refusal.
            page.get_by_role("button", name=later_year).click()
            page.wait_for_function("document.querySelectorAll(\"#chatbot [data-testid='bot']\").length > 2",
                                   timeout=60_000)
            refusal = bots.nth(2).inner_text()
            assert "文件中未明确规定" in refusal and "相关条款（仅供参考）" in refusal
            assert bots.nth(2).locator("blockquote").count() == 1
            page.screenshot(path=str(ARTIFACTS / "app-4-refusal.png"), full_page=True)

            # 6. Markup in a question is shown as text and never runs; a double submit asks once.
            n_users = users.count()
            question.fill("<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">加氢站建多少座？")
            question.press("Enter")
            question.press("Enter")
            page.wait_for_function("document.querySelectorAll(\"#chatbot [data-testid='bot']\").length > 3",
                                   timeout=60_000)
            page.wait_for_timeout(1500)
            assert users.count() == n_users + 1
            assert "<script>window.__xss=1</script>" in users.nth(n_users).inner_text()
            assert page.evaluate("window.__xss === undefined")
            page.screenshot(path=str(ARTIFACTS / "app-5-escaped.png"), full_page=True)

            # 6b. Apostrophes and $$…$$ are shown as typed: no entity text, no formula typesetting.
            typed = "L2's $$x_1 + y^2$$ 与 \\frac{a}{b} 加氢站建多少座？"
            ask(typed, 4)
            shown = users.nth(n_users + 1).inner_text()
            assert typed in shown and "&#x27;" not in shown and "&amp;" not in shown
            assert users.nth(n_users + 1).locator(".katex").count() == 0

            # 7. The tables tab: filter, then download the CSV.
            page.get_by_role("tab", name="目标与项目表").click()
            page.get_by_label("指标关键词").fill("充电桩")
            page.wait_for_function(
                "(() => { const t = document.querySelector('#targets-table');"
                " return t && t.innerText.includes('充电桩') && !t.innerText.includes('加氢站'); })()",
                timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "app-6-tables.png"), full_page=True)
            with page.expect_download(timeout=30_000) as dl:
                page.click("#targets-csv")
            target = ARTIFACTS / "targets_filtered.csv"
            dl.value.save_as(target)
            text = target.read_bytes().decode("utf-8-sig")
            assert text.startswith("doc_id,section,indicator,value,unit,qualifier,year,kind,quote")
            rows = list(csv.DictReader(text.splitlines()))
            assert rows and all("充电桩" in r["indicator"] for r in rows)
            # The complete tables, written when the page first loaded (not at the app's start).
            with page.expect_download(timeout=30_000) as dl:
                page.click("#export-tables-xlsx")
            assert dl.value.suggested_filename == "tables.xlsx"
        finally:
            browser.close()
    assert not [u for u in outside if u.startswith("dialog:")], "a script in the page ran"
    assert outside == [], f"the page fetched something from outside: {outside}"


def test_target_chart_pairs_only_stated_baselines(tables):
    from webui.tables_tab import chart_frame, target_pairs

    pairs, n_goals = target_pairs(tables.store.targets())
    assert n_goals > len(pairs) >= 1
    assert all(b.kind == "baseline" and b.year == "2020" and g.kind == "target" and g.year == "2025"
               and b.indicator == g.indicator and b.unit_norm == g.unit_norm for b, g in pairs)
    frame = chart_frame(pairs)
    prod = frame[frame["指标"] == "新能源汽车产量（万辆）"]
    assert sorted(prod["数值"]) == [7.7, 60.0] and set(prod["年份"]) == {"2020年基数", "2025年目标"}
    assert prod["柱"].nunique() == 2  # one bar per figure: never stacked into a sum
