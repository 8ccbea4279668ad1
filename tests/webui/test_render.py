"""Chat rendering: text is shown as typed (escaped once, Markdown made literal), markup never becomes markup."""
import html

from kb.core.records import AnswerRecord
from webui.render import esc_md, render_answer, render_user


def test_apostrophes_and_quotes_are_escaped_once():
    out = render_user("L2's \"level\" & <b>")
    # html.escape's entities are never escaped a second time ("&\\#x27;" showed in the chat as text).
    assert "&\\#" not in out and "&amp;amp;" not in out
    assert "'" in out and '"' in out and "&lt;b&gt;" in out and "&amp;" in out


def test_markdown_syntax_is_literal_and_entities_survive():
    out = esc_md("# 标题 *粗* [链接](x) 1. 2025年")
    assert "\\#" in out and "\\*" in out and "\\[" in out and "\\(" in out
    # What the chat shows after Markdown unescapes \x and the browser decodes entities: the text as typed.
    shown = html.unescape(out.replace("\\", ""))
    assert shown == "# 标题 *粗* [链接](x) 1. 2025年"


def test_dollar_signs_pass_through_as_text():
    assert "$$x_1$$" in html.unescape(render_user("$$x_1$$").replace("\\_", "_"))


def test_answer_with_apostrophe_keeps_markers():
    rec = AnswerRecord(question="q", answer="It's 30座[1]。", citations=[])
    out = render_answer(rec, turn=0)
    assert "It's" in out and "&#x27;" not in out
