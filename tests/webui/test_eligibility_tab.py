"""The eligibility tab's rendering: a clause that only empowers another body carries the 授权规定 badge and never
reads as support granted; a list item shows its lead-in; the needs offered are the taxonomy's."""
from __future__ import annotations

from kb.core.taxonomy import load_taxonomy
from kb.eligibility.matcher import POINTER_NOTE, EligibilityResult, Match, overall_note
from webui.eligibility import NEEDS, render

# Real text: 报废机动车回收管理办法 第三条 and 环境保护税法 第十二条 (eval/corpus).
POINTER_QUOTE = "第三条 国家鼓励特定领域的老旧机动车提前报废更新，具体办法由国务院有关部门另行制定。"
ITEM_QUOTE = "（二）机动车、铁路机车、非道路移动机械、船舶和航空器等流动污染源排放应税污染物的；"
LEAD_IN = "第十二条 下列情形，暂予免征环境保护税："


def _match(quote: str, **kw) -> Match:
    base = dict(doc_id="d", doc_title="某法规", doc_level="国家级", doc_type="行政法规", section="第三条",
                quote=quote, start=0, end=len(quote), reasons=["关注购置"], conditions=[], score=3.0)
    return Match(**(base | kw))


def test_a_pointer_has_its_badge_and_no_support_line():
    to = "具体办法由国务院有关部门另行制定"
    m = _match(POINTER_QUOTE, support_type="授权规定、优先/优惠", support_types=["授权规定", "优先/优惠"],
               pointer=True, points_to=to, note=POINTER_NOTE.format(to))
    html = render(EligibilityResult(matches=[m], note=overall_note([m])), {})
    assert "【授权规定】" in html and POINTER_NOTE.format(to) in html
    assert "支持方式" not in html  # never presented as relief granted
    assert "（国家级·行政法规）" in html


def test_a_granted_item_shows_its_lead_in_and_support():
    m = _match(ITEM_QUOTE, doc_type="法律", section="第十二条", support_type="税收减免", support_types=["税收减免"],
               lead_in=LEAD_IN)
    html = render(EligibilityResult(matches=[m], note=overall_note([m])), {})
    assert "【授权规定】" not in html and "支持方式：</b>税收减免" in html
    assert "本项所属引导语：" + LEAD_IN in html


def test_needs_offered_are_the_taxonomys():
    assert NEEDS == [n.id for n in load_taxonomy().needs] and "税收" in NEEDS
