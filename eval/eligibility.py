"""Eligibility scenarios: Recall@10 of the evidence strings, labelled precision@10 and warm latency per profile.

    python -m eval.eligibility [--kb DIR] [--dataset FILE …] [-k 10] [--out eval/reports]

By default both eval/eligibility.jsonl (the plan's scenarios) and eval/eligibility_genres.jsonl (profiles whose
expected provisions come from the laws and regulations of eval/corpus, with a frozen dev/test `split`) are scored;
a dataset whose documents are not in the KB is skipped with a note (build the multi-genre KB: README, "Evaluation").
Scores are reported per dataset, per split and per document genre (the doc_type of the document an evidence string
or a returned match comes from).

Each line of the dataset is a profile with `evidence` (verbatim substrings of the plan that must be among the
quotes of the top-k matches) and relevance labels written by reading the output: `relevant` / `not_relevant`,
verbatim substrings that mark a returned quote as relevant or not for that profile (evidence counts as relevant).
Recall@10 = evidence strings found in some top-k quote / all evidence strings. Labelled precision@10 = returned
matches marked relevant / returned matches (an unlabelled match counts as not relevant and is listed, so the
labels can be completed). Every evidence and label string is checked against the documents first: one that is
not verbatim in a document stops the run (exit status 2); evidence not inside any single provision is reported
(it cannot be found: a recall miss of the extractor) and a label not inside one is harmless.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from pydantic import BaseModel, Field

from kb.core.logs import configure as configure_logging

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO / "eval" / "eligibility.jsonl"
GENRES_DATASET = REPO / "eval" / "eligibility_genres.jsonl"
DATASETS = (DATASET, GENRES_DATASET)


class Scenario(BaseModel):
    id: str
    split: str = "dev"  # the plan's scenarios were tuned on: dev
    genres: list[str] = Field(default_factory=list)
    profile: dict
    evidence: list[str]
    relevant: list[str] = Field(default_factory=list)
    not_relevant: list[str] = Field(default_factory=list)
    note: str = ""


class ScenarioScore(BaseModel):
    id: str
    found: list[str]
    missing: list[str]
    returned: int
    relevant: int
    unlabelled: list[str]  # quotes of returned matches no label covers
    latency_ms: float
    split: str = "dev"
    evidence_genres: dict[str, str] = Field(default_factory=dict)  # evidence string -> genre of its document
    returned_genres: list[tuple[str, bool]] = Field(default_factory=list)  # per returned match: genre, relevant

    @property
    def recall(self) -> float:
        n = len(self.found) + len(self.missing)
        return len(self.found) / n if n else 1.0


class Breakdown(BaseModel):
    """Scores of a subset: a split, a genre, or a split and a genre."""

    n_evidence: int
    recall_at_k: float
    returned: int
    labelled_precision_at_k: float


class Report(BaseModel):
    k: int
    n_profiles: int
    n_evidence: int
    recall_at_k: float
    labelled_precision_at_k: float  # micro: relevant returned / returned
    unlabelled: int
    latency_p50_ms: float
    latency_max_ms: float
    scenarios: list[ScenarioScore]
    by_split: dict[str, Breakdown] = Field(default_factory=dict)
    by_genre: dict[str, Breakdown] = Field(default_factory=dict)  # keys "genre" and "split/genre"


class DatasetError(ValueError):
    """The scenario file is malformed or not grounded in the documents; the message lists every problem."""


def load_scenarios(path: Path = DATASET) -> list[Scenario]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                out.append(Scenario.model_validate_json(line))
            except ValueError as e:
                raise DatasetError(f"{path}:{n}: {e}") from e
    return out


def check_grounded(scenarios: list[Scenario], texts: list[str], quotes: list[str],
                   notes: list[str] | None = None) -> list[str]:
    """Problems: a string that is not verbatim in any document. Evidence not inside any single provision goes to
    `notes` when given (a miss the extractor must answer for), else it is a problem too, as are such labels."""
    problems = []
    ids = [s.id for s in scenarios]
    problems += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for s in scenarios:
        if not s.evidence:
            problems.append(f"{s.id}: no evidence")
        for kind, strings in (("evidence", s.evidence), ("relevant", s.relevant), ("not_relevant", s.not_relevant)):
            for e in strings:
                if not any(e in t for t in texts):
                    problems.append(f"{s.id}: {kind} not verbatim in any document: {e!r}")
                elif not any(e in q for q in quotes):
                    if notes is None:
                        problems.append(f"{s.id}: {kind} not inside any single provision: {e!r}")
                    elif kind == "evidence":
                        notes.append(f"{s.id}: evidence not inside any single provision: {e!r}")
    return problems


def score_scenario(s: Scenario, quotes: list[str], latency_ms: float, genres: list[str] | None = None,
                   evidence_genres: dict[str, str] | None = None) -> ScenarioScore:
    """`genres`: the doc_type of each returned match; `evidence_genres`: of each evidence string's document."""
    found = [e for e in s.evidence if any(e in q for q in quotes)]
    good = s.evidence + s.relevant
    relevant = [q for q in quotes if any(g in q for g in good)]
    unlabelled = [q for q in quotes if q not in relevant and not any(b in q for b in s.not_relevant)]
    genres = genres or [""] * len(quotes)
    return ScenarioScore(id=s.id, found=found, missing=[e for e in s.evidence if e not in found],
                         returned=len(quotes), relevant=len(relevant), unlabelled=unlabelled,
                         latency_ms=round(latency_ms, 2), split=s.split, evidence_genres=evidence_genres or {},
                         returned_genres=[(g, q in relevant) for g, q in zip(genres, quotes)])


def breakdown(scores: list[ScenarioScore], split: str | None = None, genre: str | None = None) -> Breakdown:
    """Recall and labelled precision over the evidence strings and returned matches of a split and/or a genre."""
    scores = [s for s in scores if split is None or s.split == split]
    ev = [(e, e in s.found) for s in scores for e in s.evidence_genres or [*s.found, *s.missing]
          if genre is None or s.evidence_genres.get(e) == genre]
    ret = [rel for s in scores for g, rel in s.returned_genres if genre is None or g == genre]
    return Breakdown(n_evidence=len(ev), recall_at_k=round(sum(f for _, f in ev) / len(ev), 4) if ev else 1.0,
                     returned=len(ret),
                     labelled_precision_at_k=round(sum(ret) / len(ret), 4) if ret else 1.0)


def run(matcher, scenarios: list[Scenario], k: int = 10, allowed_docs=None,
        texts: dict[str, tuple[str, str]] | None = None) -> Report:
    """Match every profile (after one warm-up call) and score it. `texts`: doc_id -> (text, genre), for the
    per-genre scores."""
    if scenarios:
        if hasattr(matcher, "warm_up"):
            matcher.warm_up()
        matcher.match(scenarios[0].profile, k=k, allowed_docs=allowed_docs)  # first call pays one-off costs
    texts = texts or {}
    scores = []
    for s in scenarios:
        t0 = time.perf_counter()
        res = matcher.match(s.profile, k=k, allowed_docs=allowed_docs)
        ms = (time.perf_counter() - t0) * 1000
        ev_genres = {e: next((g for text, g in texts.values() if e in text), "") for e in s.evidence}
        scores.append(score_scenario(s, [m.quote for m in res.matches], ms,
                                     [m.doc_type or texts.get(m.doc_id, ("", ""))[1] for m in res.matches],
                                     ev_genres if texts else None))
    n_ev = sum(len(s.found) + len(s.missing) for s in scores)
    returned = sum(s.returned for s in scores)
    lat = [s.latency_ms for s in scores] or [0.0]
    splits = sorted({s.split for s in scores})
    genres = sorted({g for s in scores for g in [*s.evidence_genres.values(), *(g for g, _ in s.returned_genres)]
                     if g})
    by_genre = {g: breakdown(scores, genre=g) for g in genres}
    # (a split with neither evidence nor a returned match of a genre has no score for it, not a perfect one)
    by_genre.update({f"{sp}/{g}": b for sp in splits for g in genres
                     if (b := breakdown(scores, sp, g)).n_evidence or b.returned})
    return Report(k=k, n_profiles=len(scores), n_evidence=n_ev,
                  recall_at_k=round(sum(len(s.found) for s in scores) / n_ev, 4) if n_ev else 1.0,
                  labelled_precision_at_k=round(sum(s.relevant for s in scores) / returned, 4) if returned else 1.0,
                  unlabelled=sum(len(s.unlabelled) for s in scores),
                  latency_p50_ms=round(statistics.median(lat), 2), latency_max_ms=round(max(lat), 2),
                  scenarios=scores, by_split={sp: breakdown(scores, sp) for sp in splits}, by_genre=by_genre)


def format_report(r: Report) -> str:
    lines = [f"{'id':<20} {'recall':>7} {'prec':>6} {'ret':>4} {'ms':>7}  missing evidence"]
    for s in r.scenarios:
        prec = s.relevant / s.returned if s.returned else 1.0
        lines.append(f"{s.id:<20} {s.recall:>7.2f} {prec:>6.2f} {s.returned:>4} {s.latency_ms:>7.1f}  "
                     + " | ".join(s.missing))
    lines += ["", f"profiles {r.n_profiles}, evidence strings {r.n_evidence}",
              f"Recall@{r.k}: {r.recall_at_k:.3f}",
              f"labelled precision@{r.k}: {r.labelled_precision_at_k:.3f}"
              + (f"  ({r.unlabelled} unlabelled matches counted as not relevant)" if r.unlabelled else ""),
              f"latency per profile (warm): p50 {r.latency_p50_ms:.1f} ms, max {r.latency_max_ms:.1f} ms"]
    if len(r.by_split) > 1 or r.by_genre:
        lines += ["", f"{'subset':<16} {'evidence':>8} {'recall':>7} {'returned':>8} {'prec':>6}"]
        for name, b in [*r.by_split.items(), *r.by_genre.items()]:
            lines.append(f"{name:<16} {b.n_evidence:>8} {b.recall_at_k:>7.3f} {b.returned:>8} "
                         f"{b.labelled_precision_at_k:>6.3f}")
    for s in r.scenarios:
        lines += [f"unlabelled [{s.id}]: {q[:60]}" for q in s.unlabelled]
    return "\n".join(lines)


def evaluate(kb, matcher, datasets: list[Path], k: int = 10) -> tuple[dict[str, Report], list[str], list[str]]:
    """Score each dataset whose documents the KB holds: (reports by dataset name, problems, notes)."""
    texts = {d: (doc.text, doc.meta.doc_type) for d, doc in kb.documents.items()}
    quotes = [it.prov.quote for it in matcher.items]
    allowed = kb.allowed(None) if hasattr(kb, "allowed") else None
    reports, problems, notes = {}, [], []
    for path in datasets:
        scenarios = load_scenarios(path)
        evidence = [e for s in scenarios for e in s.evidence]
        absent = [e for e in evidence if not any(e in t for t, _ in texts.values())]
        if evidence and len(absent) > len(evidence) / 2:
            notes.append(f"{path.name}: skipped, {len(absent)} of {len(evidence)} evidence strings are in no document "
                         "of this KB (build the multi-genre KB: README, “Evaluation”)")
            continue
        found = check_grounded(scenarios, [t for t, _ in texts.values()], quotes, notes)
        if found:
            problems += [f"{path.name}: {x}" for x in found]
            continue
        reports[path.stem] = run(matcher, scenarios, k=k, allowed_docs=allowed, texts=texts)
    return reports, problems, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.eligibility", description=__doc__.splitlines()[0])
    ap.add_argument("--kb", help="knowledge-base directory (default data/kb or KB_DIR)")
    ap.add_argument("--corpus", help="the corpus that KB was built from (default corpus/ or CORPUS_DIR); a KB "
                                     "opened against another corpus is found stale and rebuilt from it")
    ap.add_argument("--dataset", type=Path, action="append",
                    help="scenario file (repeatable; default eval/eligibility.jsonl and eval/eligibility_genres.jsonl)")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--out", type=Path, default=REPO / "eval" / "reports", help="where eligibility.json is written")
    args = ap.parse_args(argv)
    configure_logging()

    from kb.eligibility.matcher import Matcher
    from kb.service import KnowledgeBase

    kb = KnowledgeBase.open(kb_dir=args.kb, corpus_dir=args.corpus, warm=True)
    engine = kb.embedder.engine(wait=True)  # every profile through one engine (the warm one loads in the background)
    matcher = Matcher.from_kb(kb)
    reports, problems, notes = evaluate(kb, matcher, args.dataset or list(DATASETS), k=args.k)
    if problems:
        print("eligibility dataset is not grounded in the documents:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    for name, report in reports.items():
        print(f"==== {name}\n{format_report(report)}\n")
    for n in notes:
        print(f"note: {n}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = {"parameters": kb.settings.parameters() if hasattr(kb, "settings") else {}, "question_engine": engine,
           "reports": {name: r.model_dump() for name, r in reports.items()}}
    (args.out / "eligibility.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
