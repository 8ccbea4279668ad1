"""Lists: a quote that introduces a list ("…应当具备下列条件：") is answered with the list's items; for a list
question, a quote that is one item of a numbered list ((一) (二) …) brings its sibling items."""
from __future__ import annotations

import re

from kb.answer.legal import ARTICLE_LABEL
from kb.answer.verdict import Quote
from kb.core.records import Paragraph, Span
from kb.core.text import clauses

LIST_WORDS = re.compile(r"下列|以下|如下")  # "有下列情形之一的", "用于支持以下事项"
ITEM_WHOLE = 80  # characters: an item this short is quoted whole, a longer one by its first clause


def lead_in(item: Paragraph, paragraphs: list[Paragraph]) -> tuple[Paragraph, Span] | None:
    """The sentence that introduces the list `item` is an entry of ("有下列行为之一的，…处一万元以上五万元以下罚款："):
    what it says (the penalty, the relief, the duty) holds for every entry."""
    if item.kind != "item" or len(item.section) < 2 or ARTICLE_LABEL.fullmatch(item.section[-1]):
        return None
    parent = item.section[:-1]
    for p in reversed(paragraphs[:item.index]):
        if p.section == parent and p.sentences:
            s = p.sentences[-1]
            return (p, s) if s.text.rstrip().endswith(("：", ":")) or LIST_WORDS.search(s.text) else None
        if len(p.section) < len(parent) or p.section[:len(parent)] != parent:
            return None
    return None


def items_under(para: Paragraph, paragraphs: list[Paragraph]) -> list[Paragraph]:
    """The list entries directly below `para` in the document's structure ((一) (二) … of its article), else those
    of a lead-in that ends in a colon and is followed by paragraphs of its own part."""
    depth, items = len(para.section), []
    for nxt in paragraphs[para.index + 1:]:
        if nxt.section[:depth] != para.section or len(nxt.section) <= depth:
            break
        if nxt.kind == "item" and len(nxt.section) == depth + 1:
            items.append(nxt)
    if items or not para.text.rstrip().endswith(("：", ":")):
        return items
    # A lead-in whose entries are the unnumbered paragraphs that follow it in its article or section ("本规定下列用语
    # 的含义：" then "家用汽车产品，指…" "乘用车，指…"): those paragraphs, up to the next part.
    for nxt in paragraphs[para.index + 1:]:
        if nxt.section != para.section or nxt.kind not in ("body", "item"):
            break
        items.append(nxt)
    return items


def list_items(first: Quote, paragraphs: list[Paragraph], list_question: bool, budget: int) -> list[Quote]:
    """The items to quote after `first` (none when it introduces no list), within `budget` characters."""
    para = first.para
    items: list[Paragraph] = []
    # A lead-in ends in a colon; the quote may have been cut just before it ("…并用于支持以下事项").
    rest = para.text[first.end - para.start:].lstrip("。；; ")
    lead_in = first.text.rstrip().endswith(("：", ":")) or (rest[:1] in ("：", ":") and len(rest.strip()) <= 1)
    if lead_in or (list_question and LIST_WORDS.search(first.text)):
        items = items_under(para, paragraphs)
    elif (list_question and para.kind == "item" and not para.lead and len(para.section) > 1
          and not ARTICLE_LABEL.match(para.section[-1])):  # articles are items of a law, not entries of a list
        parent = para.section[:-1]
        items = [p for p in paragraphs if p.kind == "item" and not p.lead and p.section[:-1] == parent
                 and len(p.section) == len(para.section) and p is not para]
    if not items:
        return []
    out: list[Quote] = []
    used = len(first.text)
    for p in items:
        if not p.sentences:
            continue
        text = p.text if len(p.text) <= ITEM_WHOLE else clauses(p.sentences[0])[0].text
        start = p.start + p.text.index(text)
        if used + len(text) > budget and out:
            break
        out.append(Quote(p, start, start + len(text), text))
        used += len(text)
    return out
