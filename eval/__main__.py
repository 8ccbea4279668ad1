"""Runs the dev set through the knowledge base (and two retrieval-only baselines) and reports the metrics.

    python -m eval --dataset eval/dev.jsonl [--kb DIR] [--out eval/reports]
    python -m eval --dataset eval/dev.jsonl --answers answers.jsonl [--corpus corpus/]

The first form opens (building if needed) the knowledge base and scores three systems on every item:
`kb` (KnowledgeBase.ask), `bm25` and `dense` (the top passage of that retriever given as the answer,
cited, never refusing). The second form scores an existing answers.jsonl (as written by
`python -m kb ask --batch`) without loading the KB; citation validity then uses the documents of --corpus.
Both print the metrics table overall and per category, and write <out>/<dataset>.md (the tables and the
items each system got wrong) and <out>/<dataset>.json (every metric and per-item score, per system), plus
the answer records of each system run (<out>/<dataset>.<system>.answers.jsonl).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from eval.metrics import (
    EvalItem,
    EvalReport,
    Metrics,
    evaluate,
    load_items,
    load_records,
)
from kb.core.logs import configure as configure_logging
from kb.core.records import AnswerRecord, Citation

REPO = Path(__file__).resolve().parent.parent
BASELINE_MODES = ("bm25", "dense")

# (column header, Metrics field, format)
COLUMNS: list[tuple[str, str, str]] = [
    ("n", "n_items", "d"),
    ("hit@1", "hit_at_1", "pct"),
    ("hit@3", "hit_at_3", "pct"),
    ("hit@5", "hit_at_5", "pct"),
    ("hit@10", "hit_at_10", "pct"),
    ("evR@5", "evidence_recall_at_5", "pct"),
    ("mrr@10", "mrr_at_10", "f3"),
    ("keyfact", "key_fact_recall", "pct"),
    ("chars", "answer_chars_median", "f0"),
    ("cit.valid", "citation_validity", "pct"),
    ("cit.supp", "citation_support", "pct"),
    ("refuseR", "refuse_recall", "pct"),
    ("falseRef", "false_refusal_rate", "pct"),
    ("p50ms", "latency_p50_ms", "f1"),
    ("p95ms", "latency_p95_ms", "f1"),
]


# --------------------------------------------------------------------------- running systems


def run_kb(kb, items: list[EvalItem]) -> list[AnswerRecord]:
    """Answer every item with the full assistant; an exception becomes a record with `error` set."""
    records = []
    for it in items:
        t0 = time.perf_counter()
        try:
            rec = kb.ask(it.question, id=it.id)
        except Exception as e:  # noqa: BLE001 - one failing question must not stop the run
            rec = AnswerRecord(id=it.id, question=it.question, answer="", error=f"{type(e).__name__}: {e}",
                               latency_ms=(time.perf_counter() - t0) * 1000)
        if rec.id is None:
            rec.id = it.id
        records.append(rec)
    return records


def run_baseline(kb, items: list[EvalItem], mode: str, k: int = 10) -> list[AnswerRecord]:
    """Retrieval-only baseline: answer = text of the top passage of `mode`, cited; never refuses."""
    titles = {doc_id: doc.meta.title for doc_id, doc in kb.documents.items()}
    records = []
    for it in items:
        t0 = time.perf_counter()
        try:
            hits = kb.search(it.question, k=k, mode=mode)
        except Exception as e:  # noqa: BLE001
            records.append(AnswerRecord(id=it.id, question=it.question, answer="",
                                        error=f"{type(e).__name__}: {e}",
                                        latency_ms=(time.perf_counter() - t0) * 1000))
            continue
        latency = (time.perf_counter() - t0) * 1000
        top = hits[0] if hits else None
        citations = (
            [Citation(doc_id=top.doc_id, doc_title=titles.get(top.doc_id, ""), section=top.section, quote=top.text)]
            if top else []
        )
        records.append(AnswerRecord(
            id=it.id,
            question=it.question,
            answer=top.text if top else "",
            refused=False,
            citations=citations,
            retrieved=list(hits),
            latency_ms=latency,
        ))
    return records


def read_corpus(corpus_dir: Path) -> dict[str, str]:
    """doc_id → text for the documents of a corpus folder (manifest.json maps file → metadata)."""
    manifest_path = corpus_dir / "manifest.json"
    entries = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else []
    by_file = {e["file"]: e for e in entries if isinstance(e, dict) and "file" in e}
    docs: dict[str, str] = {}
    for p in sorted(corpus_dir.iterdir()):
        if p.suffix.lower() not in (".txt", ".md") or p.name == "README.md":
            continue
        doc_id = by_file.get(p.name, {}).get("doc_id") or p.stem
        docs[doc_id] = p.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    return docs


# --------------------------------------------------------------------------- formatting


def fmt(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "d":
        return str(int(value))
    if kind == "pct":
        return f"{100 * value:.1f}"
    return f"{value:.{int(kind[1:])}f}"


def table_rows(rows: list[tuple[str, Metrics]]) -> tuple[list[str], list[list[str]]]:
    header = [""] + [c[0] for c in COLUMNS]
    body = [[name] + [fmt(getattr(m, field), kind) for _, field, kind in COLUMNS] for name, m in rows]
    return header, body


def text_table(rows: list[tuple[str, Metrics]]) -> str:
    header, body = table_rows(rows)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [header] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(rows: list[tuple[str, Metrics]]) -> str:
    header, body = table_rows(rows)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(out)


LEGEND = (
    "Percentages except mrr@10 (0–1), chars (median answer length, normalised), latency (ms). "
    "hit@k, evR@5, mrr@10, keyfact, chars, cit.supp, falseRef: answerable items; refuseR: unanswerable items; "
    "cit.valid: all citations; latency: all items. – = nothing to average."
)


def failures_md(report: EvalReport, items: dict[str, EvalItem], limit: int = 40) -> str:
    """The answerable items a system got wrong (no hit in top 10, or missing key facts, or refused)."""
    lines = []
    for s in report.items:
        it = items[s.id]
        problems = []
        if s.error:
            problems.append(f"error: {s.error}")
        if s.answerable:
            if s.first_hit_rank is None:
                problems.append("no evidence in top 10")
            if s.missing_key_facts:
                problems.append("missing key facts: " + "、".join(s.missing_key_facts))
            if s.refused:
                problems.append("refused")
            if not s.supported:
                problems.append("no supporting citation")
        elif not s.refused:
            problems.append("answered an unanswerable question")
        if problems:
            lines.append(f"- **{s.id}** ({s.category}) {it.question} — " + "; ".join(problems))
    more = f"\n- … and {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more if lines else "(none)"


def write_outputs(out_dir: Path, stem: str, dataset: Path, reports: dict[str, EvalReport],
                  records: dict[str, list[AnswerRecord]], items: list[EvalItem]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    by_id = {it.id: it for it in items}
    md = [f"# Evaluation: {dataset}", "", f"Run at {stamp}; {len(items)} items.", "", "## Overall", "",
          md_table([(name, r.overall) for name, r in reports.items()]), "", LEGEND, ""]
    for name, r in reports.items():
        md += [f"## {name}: per category", "", md_table([("overall", r.overall)] + list(r.per_category.items())), ""]
    for name, r in reports.items():
        md += [f"## {name}: items with problems", "", failures_md(r, by_id), ""]
    md_path = out_dir / f"{stem}.md"
    md_path.write_text("\n".join(md), encoding="utf-8")
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps({
        "dataset": str(dataset),
        "run_at": stamp,
        "systems": {name: r.model_dump(mode="json") for name, r in reports.items()},
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    paths = [md_path, json_path]
    for name, recs in records.items():
        p = out_dir / f"{stem}.{name}.answers.jsonl"
        p.write_text("".join(r.model_dump_json() + "\n" for r in recs), encoding="utf-8")
        paths.append(p)
    return paths


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="eval/dev.jsonl", help="eval items (JSONL), default eval/dev.jsonl")
    ap.add_argument("--kb", default=None, help="knowledge base directory (default: KB_DIR or the repo default)")
    ap.add_argument("--out", default="eval/reports", help="where the report files go (default eval/reports)")
    ap.add_argument("--answers", default=None, help="score this answers.jsonl instead of running the KB")
    ap.add_argument("--corpus", default="corpus", help="corpus folder for citation validity with --answers")
    ap.add_argument("--no-baselines", action="store_true", help="score only the full assistant")
    ap.add_argument("--limit", type=int, default=None, help="only the first N items (quick checks)")
    ap.add_argument("--backend", choices=("embedded", "milvus"), default=None,
                    help="search backend (default: KB_BACKEND or embedded); python -m eval.backends compares both")
    args = ap.parse_args(argv)
    configure_logging()

    dataset = Path(args.dataset)
    items = load_items(dataset)
    if args.limit:
        items = items[: args.limit]
    reports: dict[str, EvalReport] = {}
    records: dict[str, list[AnswerRecord]] = {}

    if args.answers:
        corpus_dir = Path(args.corpus)
        if not corpus_dir.is_dir():
            corpus_dir = REPO / args.corpus
        documents = read_corpus(corpus_dir)
        name = Path(args.answers).stem
        reports[name] = evaluate(items, load_records(args.answers), documents)
    else:
        from kb.service import KnowledgeBase

        kb = KnowledgeBase.open(kb_dir=args.kb, warm=True, backend=args.backend)
        documents = {doc_id: doc.text for doc_id, doc in kb.documents.items()}
        records["kb"] = run_kb(kb, items)
        if not args.no_baselines:
            for mode in BASELINE_MODES:
                records[mode] = run_baseline(kb, items, mode)
        for name, recs in records.items():
            reports[name] = evaluate(items, recs, documents)

    print(f"dataset: {dataset} ({len(items)} items)\n")
    print("overall")
    print(text_table([(name, r.overall) for name, r in reports.items()]))
    for name, r in reports.items():
        print(f"\n{name}: per category")
        print(text_table(list(r.per_category.items())))
    print("\n" + LEGEND)
    paths = write_outputs(Path(args.out), dataset.stem, dataset, reports, records, items)
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
