"""Policy structure parser: places every line of a document in its heading tree (一、/（一）/1．/专栏N/章/节/条)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import cn2an

from kb.core.figures import cn_to_int
from kb.core.records import PREAMBLE, Document, Paragraph, Span
from kb.core.text import SENTENCE_END, compact, split_sentences

CN_NUM = "零〇一二三四五六七八九十百两"

# Heading patterns, outermost first. The rank orders the levels; the two families (章/节/条 and 一、/（一）/1．)
# share one scale so a 办法 with chapters and a 规划 with 一、 headings both nest correctly.
HEADINGS: list[tuple[str, int, re.Pattern[str]]] = [
    ("chapter", 0, re.compile(rf"^第([{CN_NUM}\d]+)章\s*(.*)$")),
    ("part", 1, re.compile(rf"^第([{CN_NUM}\d]+)节\s*(.*)$")),
    ("article", 2, re.compile(rf"^第([{CN_NUM}\d]+)条\s*(.*)$")),
    ("cn", 3, re.compile(rf"^([{CN_NUM}]+)、\s*(.*)$")),
    ("paren", 4, re.compile(rf"^[（(]([{CN_NUM}]+)[）)]\s*(.*)$")),
    ("num", 5, re.compile(r"^(\d{1,2})[．.、]\s*(.*)$")),
    ("paren_num", 6, re.compile(r"^[（(](\d{1,2})[）)]\s*(.*)$")),
]
BOX = re.compile(r"^专栏\s*(\d+)\s*(.*)$")
ENUM_MARK = re.compile(rf"^(?:[{CN_NUM}]是|首先|其次|再次|最后|第[{CN_NUM}]，)")
ITEM_END = ("。", "；", ";", "：", ":", "，", ",")  # a line ending so is a clause of content, not a title
MAX_HEADING = 40  # a heading line is short and has no sentence end; longer lines are body text with a run-in title
MAX_LEAD = 20  # a run-in title ("产业竞争力显著提升。") is a short phrase before the first 。
MAX_BARE = 12  # a chapter title that lost its "第N章" in the source ("经营行为" between 第十一条 and 第十二条)
BARE_TITLE = re.compile(r"^[\u4e00-\u9fff]+$")  # Chinese characters only: no number, punctuation or sentence end


def _lead(text: str) -> str:
    """The run-in title of a paragraph: a short phrase ending in 。 followed by more text."""
    head, sep, rest = text.partition("。")
    if sep and rest and len(head) <= MAX_LEAD and not re.search(r"[，,；;]", head):
        return head
    return ""


@dataclass
class _Level:
    kind: str
    rank: float
    ordinal: int
    label: str
    entry: bool = False  # a numbered entry of content without a run-in title (an article, a list entry)


@dataclass
class _Box:
    label: str
    depth: int  # length of the main stack when the box opened
    inner: list[_Level] = field(default_factory=list)
    last: dict[str, int] = field(default_factory=dict)  # last ordinal per heading kind inside the box


def _match_heading(line: str) -> tuple[str, int, int, str] | None:
    for kind, rank, pat in HEADINGS:
        m = pat.match(line)
        if m:
            return kind, rank, cn_to_int(m.group(1)), m.group(2)
    return None


def _is_title_line(line: str, title: str) -> bool:
    return bool(title) and compact(line).strip("《》") == compact(title).strip("《》")


def parse(doc: Document) -> list[Paragraph]:
    """Every non-empty line of the document as a Paragraph with its heading path and sentence offsets."""
    text, doc_id = doc.text, doc.meta.doc_id
    lines: list[tuple[int, int, str]] = []  # (start, end, stripped line) with offsets of the stripped text
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            s = pos + raw.index(stripped)
            lines.append((s, s + len(stripped), stripped))
        pos += len(raw) + 1

    bare = _bare_chapters(lines)
    title_at = next((i for i, (_, _, ln) in enumerate(lines) if _is_title_line(ln, doc.meta.title)), None)
    # Word heading styles (.docx): a styled line without a number ("总则") is a heading too. Its rank is the rank
    # numbered headings of the same style level have in this document, else it sits outside all numbered levels.
    styled = dict(doc.headings)
    style_rank: dict[int, float] = {}
    stack: list[_Level] = []
    box: _Box | None = None
    out: list[Paragraph] = []

    def emit(kind: str, section: list[str], start: int, end: int, line: str, lead: str = "") -> None:
        sentences = split_sentences(line, start)
        if lead and len(sentences) > 1 and len(sentences[0].text) <= len(lead) + 6:
            # "一湾：环杭州湾汽车产业集群。" only titles what follows: keep it with its first sentence
            first, second = sentences[0], sentences[1]
            sentences[:2] = [Span(start=first.start, end=second.end, text=first.text + second.text)]
        out.append(Paragraph(doc_id=doc_id, index=len(out), kind=kind, section=section, lead=lead,
                             start=start, end=end, text=line, sentences=sentences))

    for i, (start, end, line) in enumerate(lines):
        if title_at is not None and i < title_at:
            emit("notice", ["印发通知"], start, end, line)
            continue
        if i == title_at:
            emit("title", ["标题"], start, end, line)
            continue

        m_box = BOX.match(line)
        heading = None if m_box else _match_heading(line) or bare.get(i)
        level = styled.get(_line_start(text, start))
        if heading and level:
            style_rank.setdefault(level, heading[1])
        elif level and not m_box and len(line) <= MAX_HEADING:
            heading = ("styled", style_rank.get(level, level - 1.5), 0, line)
        if heading:
            kind, rank, ordinal, rest = heading
            # Articles have no run-in titles: "第八条 国家对机动车实行登记制度。…" opens with a short sentence of the
            # rule itself, and taking it for a title would misname the article ("第八条国家对…").
            lead = _lead(rest) if kind != "article" else ""
            # A heading is a short title. An article (第N条) is content, and so is a numbered line that ends like
            # a clause ("（一）具有企业法人资格；", "第六条 …应当具备下列条件："): both are items, whatever their length.
            is_heading = kind == "styled" or (kind != "article" and len(line) <= MAX_HEADING
                                              and not any(c in rest for c in SENTENCE_END)
                                              and not line.endswith(ITEM_END))
        if m_box:
            label = " ".join(["专栏" + m_box.group(1), *m_box.group(2).split()])
            if box:
                del stack[box.depth:]
            box = _Box(label=label, depth=len(stack))
            emit("box_title", _path(stack, box), start, end, line)
            continue
        if heading:
            kind, rank, ordinal, rest = heading
            if box and not _continues_box(box, kind, rank, ordinal):
                box = None
            # a heading is labelled as written (spaces collapsed); an item by its number and run-in title
            label = " ".join(line.split()) if is_heading else line[: len(line) - len(rest)].strip() + lead
            if i in bare and ordinal:  # the number the source left out, so the chapter can be addressed
                label = f"第{cn2an.an2cn(str(ordinal), 'low')}章 {line}"
            levels = box.inner if box else stack
            while levels and levels[-1].rank >= rank:
                levels.pop()
            levels.append(_Level(kind, rank, ordinal, label, entry=not is_heading and not lead))
            if box:
                box.last[kind] = ordinal
            section = _path(stack, box)
            if is_heading:
                emit("heading", section, start, end, line)
            else:
                emit("item", section, start, end, line, lead=lead)
            continue

        # Unnumbered text after a list entry belongs to what encloses the list ("前款第五项…" after "（五）…。"), not
        # to the last entry; an article's further paragraphs stay with it, and so does text after a titled item
        # ("7．车用氢燃料电池技术。…" continued on the next line).
        levels = box.inner if box else stack
        while levels and levels[-1].entry and levels[-1].kind != "article":
            levels.pop()
        section = _path(stack, box) or [PREAMBLE]
        emit("body", section, start, end, line, lead=_lead(line))
    return out


def _bare_chapters(lines: list[tuple[int, int, str]]) -> dict[int, tuple[str, int, int, str]]:
    """Chapter titles printed without their number, as some published texts have them: in a text of 第N章 and
    第N条, a line of a few Chinese characters alone between an article and the next 第N条 ("经营行为" after 第十一条,
    before 第十二条) is a chapter heading. When such lines exactly fill a gap in the chapters' numbering (two of
    them between 第二章 and 第五章) they are 第三章 and 第四章, so "第三章讲什么" finds them; otherwise they are
    chapters without a number. The line's text itself is never changed: only its place in the heading tree."""
    found = [(i, _match_heading(ln)) for i, (_, _, ln) in enumerate(lines)]
    kinds = [h[0] if h else "" for _, h in found]
    if "chapter" not in kinds or "article" not in kinds:
        return {}
    bare = [i for i, (_, _, ln) in enumerate(lines)
            if 0 < i < len(lines) - 1 and len(ln) <= MAX_BARE and BARE_TITLE.match(ln)
            and kinds[i + 1] == "article" and "article" in kinds[:i] and kinds[i - 1] not in ("chapter", "part")]
    out: dict[int, tuple[str, int, int, str]] = {}
    chapters = [(i, h[2]) for i, h in found if h and h[0] == "chapter"]
    for i in bare:
        before = max((c for c in chapters if c[0] < i), default=None)
        after = min((c for c in chapters if c[0] > i), default=None)
        run = [j for j in bare if (before is None or j > before[0]) and (after is None or j < after[0])]
        gap = (after[1] - before[1] - 1) if before and after else -1
        ordinal = before[1] + 1 + run.index(i) if gap == len(run) else 0
        out[i] = ("chapter", 0, ordinal, lines[i][2])
    return out


def _line_start(text: str, offset: int) -> int:
    """Offset of the start of the line containing `offset` (heading styles are recorded per line)."""
    return text.rfind("\n", 0, offset) + 1


def _continues_box(box: _Box, kind: str, rank: int, ordinal: int) -> bool:
    """A heading inside a box belongs to it only if it continues the box's own numbering.

    Numbering may run on across the box's sub-headings (专栏1 numbers its items 1-9 under 一、二、三、)
    or restart at 1 right under a new sub-heading; anything else (e.g. the main text's next （二）) ends the box.
    """
    if ordinal == box.last.get(kind, 0) + 1:
        return True
    return ordinal == 1 and bool(box.inner) and box.inner[-1].rank < rank


def _path(stack: list[_Level], box: _Box | None) -> list[str]:
    path = [lv.label for lv in stack]
    if box:
        path = path[: box.depth] + [box.label] + [lv.label for lv in box.inner]
    return path
