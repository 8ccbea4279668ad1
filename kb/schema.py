"""Typed records passed between the stages: documents, parsed structure, chunks and answers."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SECTION_SEP = " > "


class DocMeta(BaseModel):
    """Metadata of one corpus document, as recorded in corpus/manifest.json."""

    doc_id: str
    file: str
    title: str
    issuer: str = ""
    date: str = ""
    level: str = ""
    region: str = ""
    doc_type: str = ""


class Document(BaseModel):
    """A loaded document: its metadata and its exact text (all offsets point into `text`)."""

    meta: DocMeta
    text: str


class Span(BaseModel):
    """A sentence (or clause) of a paragraph, with character offsets into the document text."""

    start: int
    end: int
    text: str


ParagraphKind = Literal["heading", "body", "item", "box_title", "notice", "title"]


class Paragraph(BaseModel):
    """One line of the source, placed in the heading tree."""

    doc_id: str
    index: int
    kind: ParagraphKind
    section: list[str]  # heading path, outermost first; a heading's own path ends with itself
    lead: str = ""  # run-in title such as "产业竞争力显著提升" or an item's title "充电设施"
    start: int
    end: int
    text: str
    sentences: list[Span] = Field(default_factory=list)

    @property
    def section_path(self) -> str:
        return SECTION_SEP.join(self.section)


class Chunk(BaseModel):
    """A retrievable passage: a paragraph or a window of its sentences."""

    chunk_id: str
    doc_id: str
    section: list[str]
    para_index: int
    start: int
    end: int
    text: str  # the original span, verbatim
    index_text: str  # what is embedded and BM25-indexed: heading path + text

    @property
    def section_path(self) -> str:
        return SECTION_SEP.join(self.section)


class Citation(BaseModel):
    doc_id: str
    doc_title: str
    section: str
    quote: str
    start: int | None = None  # offsets of the quote in the document text, for highlighting
    end: int | None = None


class Retrieved(BaseModel):
    chunk_id: str
    doc_id: str
    section: str
    text: str
    score: float


class AnswerRecord(BaseModel):
    """The answer record of ../shared/interfaces.md §2 (plus `related` and `error`)."""

    id: str | None = None
    question: str
    answer: str
    refused: bool = False
    citations: list[Citation] = Field(default_factory=list)
    related: list[Citation] = Field(default_factory=list)  # nearest provisions shown with a refusal
    retrieved: list[Retrieved] = Field(default_factory=list)
    latency_ms: float = 0.0
    error: str | None = None
