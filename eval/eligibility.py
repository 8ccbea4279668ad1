"""Eligibility scenarios: Recall@10 of the evidence strings, labelled precision@10 and warm latency per profile.

    python -m eval.eligibility [--kb DIR] [--dataset eval/eligibility.jsonl] [-k 10] [--out eval/reports]

Each line of the dataset is a profile with `evidence` (verbatim substrings of the plan that must be among the
quotes of the top-k matches) and relevance labels written by reading the output: `relevant` / `not_relevant`,
verbatim substrings that mark a returned quote as relevant or not for that profile (evidence counts as relevant).
Recall@10 = evidence strings found in some top-k quote / all evidence strings. Labelled precision@10 = returned
matches marked relevant / returned matches (an unlabelled match counts as not relevant and is listed, so the
labels can be completed). Every evidence and label string is checked against the documents first: one that is
not verbatim in a document, or not inside a single provision, stops the run (exit status 2).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from pydantic import BaseModel, Field

from kb.core.logs import configure as configure_logging

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO / "eval" / "eligibility.jsonl"


class Scenario(BaseModel):
    id: str
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

    @property
    def recall(self) -> float:
        n = len(self.found) + len(self.missing)
        return len(self.found) / n if n else 1.0


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


def check_grounded(scenarios: list[Scenario], texts: list[str], quotes: list[str]) -> list[str]:
    """Problems: a string that is not verbatim in any document, or (evidence) not inside any single provision."""
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
                    problems.append(f"{s.id}: {kind} not inside any single provision: {e!r}")
    return problems


def score_scenario(s: Scenario, quotes: list[str], latency_ms: float) -> ScenarioScore:
    found = [e for e in s.evidence if any(e in q for q in quotes)]
    good = s.evidence + s.relevant
    relevant = [q for q in quotes if any(g in q for g in good)]
    unlabelled = [q for q in quotes if q not in relevant and not any(b in q for b in s.not_relevant)]
    return ScenarioScore(id=s.id, found=found, missing=[e for e in s.evidence if e not in found],
                         returned=len(quotes), relevant=len(relevant), unlabelled=unlabelled,
                         latency_ms=round(latency_ms, 2))


def run(matcher, scenarios: list[Scenario], k: int = 10, allowed_docs=None) -> Report:
    """Match every profile (after one warm-up call) and score it."""
    if scenarios:
        matcher.match(scenarios[0].profile, k=k, allowed_docs=allowed_docs)  # first call pays one-off costs
    scores = []
    for s in scenarios:
        t0 = time.perf_counter()
        res = matcher.match(s.profile, k=k, allowed_docs=allowed_docs)
        scores.append(score_scenario(s, [m.quote for m in res.matches], (time.perf_counter() - t0) * 1000))
    n_ev = sum(len(s.found) + len(s.missing) for s in scores)
    returned = sum(s.returned for s in scores)
    lat = [s.latency_ms for s in scores] or [0.0]
    return Report(k=k, n_profiles=len(scores), n_evidence=n_ev,
                  recall_at_k=round(sum(len(s.found) for s in scores) / n_ev, 4) if n_ev else 1.0,
                  labelled_precision_at_k=round(sum(s.relevant for s in scores) / returned, 4) if returned else 1.0,
                  unlabelled=sum(len(s.unlabelled) for s in scores),
                  latency_p50_ms=round(statistics.median(lat), 2), latency_max_ms=round(max(lat), 2),
                  scenarios=scores)


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
    for s in r.scenarios:
        lines += [f"unlabelled [{s.id}]: {q[:60]}" for q in s.unlabelled]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.eligibility", description=__doc__.splitlines()[0])
    ap.add_argument("--kb", help="knowledge-base directory (default data/kb or KB_DIR)")
    ap.add_argument("--dataset", type=Path, default=DATASET)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--out", type=Path, default=REPO / "eval" / "reports", help="where eligibility.json is written")
    args = ap.parse_args(argv)
    configure_logging()

    from kb.eligibility.matcher import Matcher
    from kb.service import KnowledgeBase

    scenarios = load_scenarios(args.dataset)
    kb = KnowledgeBase.open(kb_dir=args.kb, warm=True)
    matcher = Matcher.from_kb(kb)
    problems = check_grounded(scenarios, [d.text for d in kb.documents.values()],
                              [it.prov.quote for it in matcher.items])
    if problems:
        print("eligibility dataset is not grounded in the documents:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    report = run(matcher, scenarios, k=args.k, allowed_docs=kb.allowed(None) if hasattr(kb, "allowed") else None)
    print(format_report(report))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eligibility.json").write_text(report.model_dump_json(indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
