"""Text utilities every layer uses: the normal forms text is compared in, sentence splitting, bigram keys.

Matching always happens on a normal form; quoting always uses the original text and its offsets.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from kb.core.records import Span

SENTENCE_END = "。！？!?"
CLAUSE_END = "。，,；;：:"
CLOSERS = "”’」』）)》"
CJK = re.compile(r"[\u3400-\u9fff]")
QUOTE_MARKS = "“”\"'‘’「」"
_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters → ASCII) and lower-cased Latin: the form terms are matched in.
    Length may change (NFKC), so offsets into it are not offsets into the original."""
    # The answerer normalises the same sentences and headings for every candidate of every question: short texts
    # are remembered (a bounded cache; whole documents are not kept).
    return _normalize_short(text) if len(text) <= 512 else unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=4096)
def _normalize_short(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def compact(text: str) -> str:
    """NFKC with all whitespace removed (case kept): the form quotes and headings are compared in."""
    return _WS.sub("", unicodedata.normalize("NFKC", text or ""))


def nfkc_keep_punct(text: str) -> str:
    """NFKC for letters and digits only, so a user's “？” or ，stays as typed (follow-up rewriting shows it)."""
    return "".join(c if unicodedata.category(c).startswith("P") else unicodedata.normalize("NFKC", c) for c in text)


def unquote(text: str) -> str:
    """The text without quotation marks or whitespace (“十四五” and 十四五 compare equal)."""
    return re.sub(rf"[{QUOTE_MARKS}\s]", "", text)


def split_sentences(text: str, offset: int, ends: str = SENTENCE_END) -> list[Span]:
    """Split at sentence ends, keeping a closing quote or bracket with its sentence; offsets are absolute."""
    spans, start, i = [], 0, 0
    while i < len(text):
        if text[i] in ends:
            j = i + 1
            while j < len(text) and text[j] in CLOSERS:
                j += 1
            if text[start:j].strip():
                spans.append(Span(start=offset + start, end=offset + j, text=text[start:j]))
            start = i = j
            continue
        i += 1
    if text[start:].strip():
        spans.append(Span(start=offset + start, end=offset + len(text), text=text[start:]))
    return spans


def clauses(s: Span) -> list[Span]:
    """A sentence's clauses (split at ，；： too); the sentence itself when it has no inner break."""
    return split_sentences(s.text, s.start, ends=CLAUSE_END) or [s]


def bigrams(s: str) -> set[str]:
    """Character bigrams of each CJK run plus whole ASCII words/numbers: a tokenizer-free match key."""
    s = compact(s)
    out: set[str] = set(re.findall(r"[A-Za-z0-9.]+", s))
    for run in re.findall(r"[\u3400-\u9fff]+", s):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            out.add(run)
    return out
