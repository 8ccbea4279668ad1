"""A part of a document (章, 节, a numbered part "四、…", a box) as one passage: its heading, then the first sentence
of each article or item under it, the way a reader skims a chapter to say what it is about.

The KB indexes paragraphs, and a heading is no paragraph of text: "第五章讲什么" / "哪一章规定了…" is answered from
the heading and its parts, yet no retrieved passage held them together. `part_unit` builds that passage from the
KB's paragraphs (nothing is stored); its span is the heading's, so a citation of it quotes the heading.
"""
from __future__ import annotations

from kb.core.records import Chunk, Paragraph
from kb.core.settings import RetrievalSettings

TEXT_KINDS = ("body", "item", "notice")
PART_KINDS = ("heading", "box_title")


def part_paragraphs(paragraphs: list[Paragraph], heading: Paragraph) -> list[Paragraph]:
    """The paragraphs under `heading` (their heading path starts with its own), in document order; `paragraphs` are
    its document's, in order."""
    depth = len(heading.section)
    out = []
    for p in paragraphs:
        if p.index <= heading.index or p.doc_id != heading.doc_id:
            continue
        if len(p.section) < depth or p.section[:depth] != heading.section:
            break  # the next part of the same or a higher level: this one has ended
        out.append(p)
    return out


def part_unit(paragraphs: list[Paragraph], heading: Paragraph,
              max_chars: int = RetrievalSettings().part_chars) -> Chunk | None:
    """The part under `heading` as one passage: the heading, then the first sentence of the first text paragraph of
    each of its children (an article, an item; a sub-part by its heading), joined by spaces, within `max_chars`.
    None when `heading` is not a heading or has no text under it."""
    if heading.kind not in PART_KINDS:
        return None
    depth = len(heading.section)
    firsts: dict[str, str] = {}  # child label (or the paragraph itself, for text directly under the heading)
    for p in part_paragraphs(paragraphs, heading):
        key = p.section[depth] if len(p.section) > depth else f"#{p.index}"
        if p.kind in PART_KINDS and len(p.section) == depth + 1:
            firsts.setdefault(key, p.text.strip())  # a sub-part is named by its own heading
        elif p.kind in TEXT_KINDS and p.sentences:
            firsts.setdefault(key, p.sentences[0].text.strip())
    if not firsts:
        return None
    text = heading.text.strip()
    for sentence in firsts.values():
        if len(text) + 1 + len(sentence) > max_chars:
            break
        text += " " + sentence
    return Chunk(chunk_id=f"{heading.doc_id}:{heading.index}:part", doc_id=heading.doc_id, section=heading.section,
                 para_index=heading.index, start=heading.start, end=heading.end, text=text,
                 index_text=text)
