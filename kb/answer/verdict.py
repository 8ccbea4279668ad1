"""What the answer strategies produce: quotes (verbatim spans of a paragraph) and a verdict built from them."""
from __future__ import annotations

from dataclasses import dataclass, field

from kb.core.records import Paragraph, Span


@dataclass
class Candidate:
    para: Paragraph
    sentence: Span
    rank: int  # rank of its passage in retrieval
    score: float = 0.0
    coverage: float = 0.0
    context: str = ""  # section path + run-in title, for topic matching
    sim: float = 0.0  # cosine of the question and this sentence (e5 vectors computed at build time)
    own: float = 0.0  # coverage by the sentence alone, without its headings


@dataclass
class Quote:
    para: Paragraph
    start: int
    end: int
    text: str
    prefix: str = ""  # context such as "到2025年，" or "第五条：" put before the quote in the answer, not in it


@dataclass
class Verdict:
    quotes: list[Quote] = field(default_factory=list)
    missing: str = ""  # why the documents do not answer it; empty when they do
    conclusion: str = ""  # what follows from the quotes, e.g. "60万辆 ÷ 7.7万辆 ≈ 7.8倍"
    related: list[Quote] = field(default_factory=list)  # with a refusal: the nearest provisions, not an answer
    lead: str = ""  # said before the quotes ("共八章：")
    drew_on: list[Paragraph] = field(default_factory=list)  # the part of a document an address answer summarises


def whole(p: Paragraph, prefix: str = "") -> Quote:
    return Quote(p, p.start, p.end, p.text, prefix)
