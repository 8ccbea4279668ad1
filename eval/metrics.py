"""Scoring of answer records against eval items (../shared/interfaces.md §4), as pure functions.

Every text comparison is made after `normalize` (Unicode NFKC, then all whitespace removed). Items and
answer records are joined by `id`; an item without a record is scored as an empty record (nothing
retrieved, empty answer, not refused, no citations) and counted in `n_missing`.

Which items each metric is computed over:
- hit@k, evidence_recall@5, mrr@10, key_fact_recall, answer_chars, citation_support, false_refusal_rate:
  answerable items;
- refuse_recall: unanswerable items;
- citation_validity: every citation (`citations`, not `related`) of every item with a record;
- latency p50 / p95: every item with a record;
- unasked_arithmetic: items not tagged `computation` whose answer shows arithmetic (÷ × + − = ≈ between figures):
  a count, since a computed answer nobody asked for is wrong however it scores otherwise.
A metric with nothing to average over is None (e.g. hit@k of the `unanswerable` category).
"""
from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from kb.core.records import AnswerRecord, Citation
from kb.core.text import compact

K_VALUES = (1, 3, 5, 10)
EVIDENCE_K = 5
MRR_K = 10
MIN_COMMON_RUN = 10

CATEGORIES = (
    "numeric_target",
    "project",
    "responsibility",
    "layout",
    "task",
    "list",
    "eligibility",
    "paraphrase",
    "unanswerable",
    "multi_hop",
)

_WS = re.compile(r"\s+")


class EvalItem(BaseModel):
    """One line of eval/*.jsonl (interfaces.md §3)."""

    id: str
    category: str
    question: str
    answer: str = ""
    key_facts: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    section: str = ""
    answerable: bool = True
    doc_id: str = ""  # the document a per-document set is about ("" in the plan's original dev set)
    split: str = ""  # dev (may be tuned on) or test (frozen, only reported)
    tags: list[str] = Field(default_factory=list)  # classes: article, chapter, figure_words, multi_part, …


# An answer that computes: an operator between two figures, or a computed result (how compute.py writes them).
ARITHMETIC = re.compile(r"\d\S{0,6}\s[÷×+−]\s\d|\s[=≈]\s\d")
# A question that asks for a computation (for items written before the `computation` tag existed).
COMPUTATION_ASKED = re.compile(r"合计|相差|差多少|多多少|少多少|倍|占比|占.{0,20}?(?:多少|几成)|比例|比重|增长|一共|总共|加起来|之和|对得上")


class ItemScore(BaseModel):
    """Per-item scores; answerable-only fields are None for unanswerable items."""

    id: str
    category: str
    answerable: bool
    doc_id: str = ""
    split: str = ""
    tags: list[str] = Field(default_factory=list)
    missing: bool = False  # no answer record with this id
    unasked_arithmetic: bool = False  # the answer computes although the question asks for no computation
    refused: bool = False
    first_hit_rank: int | None = None  # 1-based rank of the first retrieved text containing any evidence
    hit_at: dict[int, bool] | None = None
    evidence_recall_at_5: float | None = None
    reciprocal_rank_at_10: float | None = None
    key_fact_recall: float | None = None
    missing_key_facts: list[str] = Field(default_factory=list)
    answer_chars: int = 0
    n_citations: int = 0
    n_valid_citations: int = 0
    supported: bool | None = None  # some citation overlaps some gold evidence
    latency_ms: float | None = None
    error: str | None = None


class Metrics(BaseModel):
    """Aggregate metrics over a set of items (overall, or one category)."""

    n_items: int
    n_answerable: int
    n_unanswerable: int
    n_missing: int
    hit_at_1: float | None = None
    hit_at_3: float | None = None
    hit_at_5: float | None = None
    hit_at_10: float | None = None
    evidence_recall_at_5: float | None = None
    mrr_at_10: float | None = None
    key_fact_recall: float | None = None
    answer_chars_median: float | None = None
    n_citations: int = 0
    citation_validity: float | None = None
    citation_support: float | None = None
    refuse_recall: float | None = None
    false_refusal_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    unasked_arithmetic: int = 0


class EvalReport(BaseModel):
    overall: Metrics
    per_category: dict[str, Metrics]
    items: list[ItemScore]


# --------------------------------------------------------------------------- text helpers


# NFKC, then remove all whitespace: the form in which every text comparison is made.
normalize = compact


def contains(haystack: str, needle: str) -> bool:
    """Whether `needle` occurs in `haystack` after normalising both (an empty needle never does)."""
    n = normalize(needle)
    return bool(n) and n in normalize(haystack)


def has_common_run(a: str, b: str, min_len: int = MIN_COMMON_RUN) -> bool:
    """Whether the normalised texts share a run of at least `min_len` consecutive characters."""
    a, b = normalize(a), normalize(b)
    if len(a) < min_len or len(b) < min_len:
        return False
    if len(a) > len(b):
        a, b = b, a
    grams = {b[i : i + min_len] for i in range(len(b) - min_len + 1)}
    return any(a[i : i + min_len] in grams for i in range(len(a) - min_len + 1))


def overlaps(quote: str, evidence: str, min_len: int = MIN_COMMON_RUN) -> bool:
    """Citation support test: one contains the other, or they share a run of ≥ `min_len` characters."""
    q, e = normalize(quote), normalize(evidence)
    if not q or not e:
        return False
    return q in e or e in q or has_common_run(q, e, min_len)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0–100) with linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(values)
    if not xs:
        return None
    pos = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return sum(xs) / len(xs) if xs else None


# --------------------------------------------------------------------------- per-item metrics


def first_hit_rank(evidence: Sequence[str], retrieved_texts: Sequence[str], k: int = MRR_K) -> int | None:
    """1-based rank of the first of the top-k texts that contains any evidence string, else None."""
    ev = [normalize(e) for e in evidence if normalize(e)]
    for rank, text in enumerate(retrieved_texts[:k], start=1):
        t = normalize(text)
        if any(e in t for e in ev):
            return rank
    return None


def hit_at_k(evidence: Sequence[str], retrieved_texts: Sequence[str], k: int) -> bool:
    return first_hit_rank(evidence, retrieved_texts, k) is not None


def reciprocal_rank(evidence: Sequence[str], retrieved_texts: Sequence[str], k: int = MRR_K) -> float:
    rank = first_hit_rank(evidence, retrieved_texts, k)
    return 1.0 / rank if rank else 0.0


def evidence_recall(evidence: Sequence[str], retrieved_texts: Sequence[str], k: int = EVIDENCE_K) -> float:
    """Share of the evidence strings each contained in some top-k text (0 for an item without evidence)."""
    if not evidence:
        return 0.0
    top = [normalize(t) for t in retrieved_texts[:k]]
    found = sum(1 for e in evidence if normalize(e) and any(normalize(e) in t for t in top))
    return found / len(evidence)


def key_fact_recall(key_facts: Sequence[str], answer: str) -> float:
    """Share of key facts contained in the answer (0 for an item without key facts)."""
    if not key_facts:
        return 0.0
    return sum(1 for f in key_facts if contains(answer, f)) / len(key_facts)


def citation_is_valid(citation: Citation, documents: Mapping[str, str]) -> bool:
    """The quote is non-empty and occurs (normalised) in the text of the cited document."""
    doc = documents.get(citation.doc_id)
    return doc is not None and contains(doc, citation.quote)


def citation_supported(citations: Sequence[Citation], evidence: Sequence[str]) -> bool:
    return any(overlaps(c.quote, e) for c in citations for e in evidence)


def score_item(
    item: EvalItem,
    record: AnswerRecord | None,
    documents: Mapping[str, str],
    normalized_documents: Mapping[str, str] | None = None,
) -> ItemScore:
    """Score one item; `record` None means the system returned nothing for it."""
    missing = record is None
    rec = record or AnswerRecord(id=item.id, question=item.question, answer="")
    texts = [r.text for r in rec.retrieved]
    ndocs = normalized_documents if normalized_documents is not None else {k: normalize(v) for k, v in documents.items()}
    n_valid = 0
    for c in rec.citations:
        q = normalize(c.quote)
        if q and c.doc_id in ndocs and q in ndocs[c.doc_id]:
            n_valid += 1
    score = ItemScore(
        id=item.id,
        category=item.category,
        answerable=item.answerable,
        missing=missing,
        refused=rec.refused,
        answer_chars=len(normalize(rec.answer)),
        n_citations=len(rec.citations),
        n_valid_citations=n_valid,
        latency_ms=None if missing else rec.latency_ms,
        error=rec.error,
        doc_id=item.doc_id,
        split=item.split,
        tags=item.tags,
        unasked_arithmetic=not asks_computation(item) and not rec.refused and bool(ARITHMETIC.search(rec.answer)),
    )
    if item.answerable:
        rank = first_hit_rank(item.evidence, texts, max(max(K_VALUES), MRR_K))
        score.first_hit_rank = rank
        score.hit_at = {k: rank is not None and rank <= k for k in K_VALUES}
        score.reciprocal_rank_at_10 = 1.0 / rank if rank and rank <= MRR_K else 0.0
        score.evidence_recall_at_5 = evidence_recall(item.evidence, texts, EVIDENCE_K)
        score.key_fact_recall = key_fact_recall(item.key_facts, rec.answer)
        score.missing_key_facts = [f for f in item.key_facts if not contains(rec.answer, f)]
        score.supported = citation_supported(rec.citations, item.evidence)
    return score


# --------------------------------------------------------------------------- aggregation


def aggregate(scores: Sequence[ItemScore]) -> Metrics:
    """Aggregate item scores into the metrics of interfaces.md §4."""
    ans = [s for s in scores if s.answerable]
    una = [s for s in scores if not s.answerable]
    present = [s for s in scores if not s.missing]
    n_cit = sum(s.n_citations for s in present)
    lat = [s.latency_ms for s in present if s.latency_ms is not None]
    m = Metrics(
        n_items=len(scores),
        n_answerable=len(ans),
        n_unanswerable=len(una),
        n_missing=sum(1 for s in scores if s.missing),
        n_citations=n_cit,
        citation_validity=(sum(s.n_valid_citations for s in present) / n_cit) if n_cit else None,
        refuse_recall=_mean(1.0 if s.refused else 0.0 for s in una),
        latency_p50_ms=percentile(lat, 50),
        latency_p95_ms=percentile(lat, 95),
        unasked_arithmetic=sum(s.unasked_arithmetic for s in present),
    )
    if ans:
        for k in K_VALUES:
            setattr(m, f"hit_at_{k}", _mean(1.0 if s.hit_at and s.hit_at[k] else 0.0 for s in ans))
        m.evidence_recall_at_5 = _mean(s.evidence_recall_at_5 or 0.0 for s in ans)
        m.mrr_at_10 = _mean(s.reciprocal_rank_at_10 or 0.0 for s in ans)
        m.key_fact_recall = _mean(s.key_fact_recall or 0.0 for s in ans)
        m.answer_chars_median = float(statistics.median(s.answer_chars for s in ans))
        m.citation_support = _mean(1.0 if s.supported else 0.0 for s in ans)
        m.false_refusal_rate = _mean(1.0 if s.refused else 0.0 for s in ans)
    return m


def evaluate(
    items: Sequence[EvalItem],
    records: Iterable[AnswerRecord],
    documents: Mapping[str, str],
) -> EvalReport:
    """Join records to items by id and compute overall and per-category metrics.

    `documents` maps doc_id → document text (for citation_validity). Records whose id matches no item
    are ignored; when several records share an id the last one counts.
    """
    by_id: dict[str, AnswerRecord] = {}
    for r in records:
        if r.id is not None:
            by_id[str(r.id)] = r
    ndocs = {k: normalize(v) for k, v in documents.items()}
    scores = [score_item(it, by_id.get(it.id), documents, ndocs) for it in items]
    cats = [c for c in CATEGORIES if any(s.category == c for s in scores)]
    cats += sorted({s.category for s in scores} - set(cats))
    return EvalReport(
        overall=aggregate(scores),
        per_category={c: aggregate([s for s in scores if s.category == c]) for c in cats},
        items=scores,
    )


def asks_computation(item: EvalItem) -> bool:
    """Tagged so, or (an untagged item) worded so."""
    return "computation" in item.tags or (not item.tags and bool(COMPUTATION_ASKED.search(item.question)))


def grouped(scores: Sequence[ItemScore], key) -> dict[str, Metrics]:
    """Metrics per value of `key(score)` (a document, a split, a tag), in first-seen order."""
    groups: dict[str, list[ItemScore]] = {}
    for sc in scores:
        for k in ([key(sc)] if isinstance(key(sc), str) else key(sc)):
            groups.setdefault(k, []).append(sc)
    return {k: aggregate(v) for k, v in groups.items()}


# --------------------------------------------------------------------------- loading


def load_items(path: str | Path) -> list[EvalItem]:
    """Read eval items from a JSONL file (blank lines skipped)."""
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            items.append(EvalItem.model_validate_json(line))
    return items


def load_records(path: str | Path) -> list[AnswerRecord]:
    """Read answer records from a JSONL file; a line that is not a valid record is skipped."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            records.append(AnswerRecord.model_validate(json.loads(line)))
        except (ValueError, TypeError):
            continue
    return records
