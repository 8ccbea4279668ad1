"""Typed records passed between the stages: documents, parsed structure, chunks and answers."""
from __future__ import annotations

import bisect
from typing import Literal

from pydantic import BaseModel, Field

SECTION_SEP = " > "
# The section of text before a document's first heading: a law's legislative history (题注), a plan's 前言.
PREAMBLE = "前言"


LEVELS = ("国家级", "省级", "市级", "县级")
VALIDITIES = ("现行", "废止", "被替代")
# What people write for a level → the form the library stores.
_LEVEL_ALIASES = {"国家": "国家级", "中央": "国家级", "全国": "国家级", "国家级": "国家级", "部委": "国家级",
                  "省": "省级", "省级": "省级", "市": "市级", "市级": "市级", "地市": "市级",
                  "县": "县级", "县级": "县级", "区": "县级", "区县": "县级", "县区": "县级"}


def normalize_level(value: str) -> str:
    """"省", "省级" → "省级"; "" for anything that is not a level."""
    return _LEVEL_ALIASES.get(value.strip(), "")


class DocMeta(BaseModel):
    """Metadata of one corpus document: corpus/manifest.json where it says, else what the text says."""

    doc_id: str
    file: str
    title: str
    issuer: str = ""
    doc_number: str = ""  # 文号, e.g. 国办发〔2020〕39号
    date: str = ""  # ISO YYYY-MM-DD
    level: str = ""  # one of LEVELS when known
    region: str = ""
    doc_type: str = ""  # 规划 / 通知 / 意见 / 办法 …
    validity: str = "现行"  # one of VALIDITIES
    replaced_by: str = ""  # doc_id of the version that replaces this one

    @property
    def in_force(self) -> bool:
        return self.validity == "现行"


class Document(BaseModel):
    """A loaded document: its metadata and its exact text (all offsets point into `text`)."""

    meta: DocMeta
    text: str
    pages: list[int] = Field(default_factory=list)  # PDF: offset where page i+1 starts; empty for other formats
    headings: list[tuple[int, int]] = Field(default_factory=list)  # .docx heading styles: (line offset, level)

    def page_at(self, offset: int) -> int | None:
        """1-based page of a text offset (PDF only)."""
        if not self.pages:
            return None
        return bisect.bisect_right(self.pages, offset)


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
    level: str = ""  # the document's level (国家级/省级/…), so answers from several documents say whose each is
    page: int | None = None  # 第N页 for PDF sources
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
