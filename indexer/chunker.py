"""Chunks aligned with the structure: a paragraph, or windows of whole sentences for a long one."""
from __future__ import annotations

import re

from kb.core.records import SECTION_SEP, Chunk, Paragraph, Span

MAX_CHARS = 320  # ~250-350 tokens for e5 with the heading prefix: well inside its 512-token window
TEXT_KINDS = ("body", "item", "notice")
# "一是…。……二是…。": an enumeration item runs from its marker to the next one and is never split.
YEAR_SCOPE = re.compile(r"^(?:到|至|截至)?20\d{2}年")
ENUM_MARK = re.compile(r"^(?:[一二三四五六七八九十]是|首先|其次|再次|最后)")


def _units(sentences: list[Span]) -> list[list[Span]]:
    """Group sentences into units a window may not cut: each enumeration item stays whole."""
    units: list[list[Span]] = []
    in_enum = False
    for s in sentences:
        starts_item = bool(ENUM_MARK.match(s.text))
        if starts_item or not in_enum or not units:
            units.append([s])
        else:
            units[-1].append(s)
        in_enum = in_enum or starts_item
    return units


def _windows(units: list[list[Span]], max_chars: int) -> list[list[Span]]:
    """Greedy windows of whole units, each window overlapping the previous one by its last unit."""
    if sum(s.end - s.start for u in units for s in u) <= max_chars:
        return [[s for u in units for s in u]]
    windows: list[list[list[Span]]] = []
    cur: list[list[Span]] = []
    for u in units:
        size = sum(s.end - s.start for x in cur + [u] for s in x)
        if cur and size > max_chars:
            windows.append(cur)
            # overlap by one unit so a fact spanning the boundary is still found whole, unless that unit is huge
            cur = [cur[-1]] if sum(s.end - s.start for s in cur[-1]) < max_chars // 2 else []
        cur.append(u)
    if cur and (not windows or cur != windows[-1][-1:]):
        windows.append(cur)
    return [[s for u in w for s in u] for w in windows]


def _scopes(paragraphs: list[Paragraph]) -> dict[int, str]:
    """The time scope a section opens with ("到2025年，全省…" above its targets), for each later paragraph of it."""
    opening: dict[tuple[str, ...], str] = {}
    out: dict[int, str] = {}
    for p in paragraphs:
        if p.kind not in TEXT_KINDS:
            continue
        m = YEAR_SCOPE.match(p.text)
        key = tuple(p.section)
        if key not in opening:
            opening[key] = m.group() if m else ""
        elif not YEAR_SCOPE.search(p.text):
            out[p.index] = next((opening[tuple(p.section[:d])] for d in range(len(p.section), 0, -1)
                                 if opening.get(tuple(p.section[:d]))), "")
    return out


def chunk_paragraphs(paragraphs: list[Paragraph], doc_text: str, max_chars: int = MAX_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    scopes = _scopes(paragraphs)
    for p in paragraphs:
        if p.kind not in TEXT_KINDS or not p.sentences:
            continue
        for k, window in enumerate(_windows(_units(p.sentences), max_chars)):
            start, end = window[0].start, window[-1].end
            text = doc_text[start:end]
            chunks.append(Chunk(
                chunk_id=f"{p.doc_id}:{p.index}:{k}",
                doc_id=p.doc_id,
                section=p.section,
                para_index=p.index,
                start=start,
                end=end,
                text=text,
                # The heading path (and the run-in title, for later windows) makes "专栏7" or "保障措施"
                # findable, and the section's time scope makes "2025年…产量" find the targets listed under
                # "到2025年，…"; citations never quote any of it.
                index_text=SECTION_SEP.join(p.section + ([p.lead] if k and p.lead else []))
                + "\n" + (f"（{scopes[p.index]}）" if scopes.get(p.index) else "") + text,
            ))
    return chunks
