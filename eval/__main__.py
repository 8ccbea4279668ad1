"""Runs the eval sets through the knowledge base (and retrieval-only baselines) and reports the metrics.

    python -m eval [--out eval/reports]                       # everything, in one run (what ./run.sh eval does)
    python -m eval --dataset eval/dev.jsonl [--kb DIR]        # one set on one KB
    python -m eval --dataset eval/dev.jsonl --answers answers.jsonl [--corpus corpus/]

Everything = the plan's original dev set (eval/dev.jsonl) on the default KB (corpus/), and the per-document sets
(eval/questions/*.jsonl, dev and test splits) on the evaluation KB: corpus/ plus the real texts of eval/corpus/,
as a user who added them would have it. Dev and test are reported side by side, overall, per document, per
category and per tag (article, figure_words, multi_part …); test items are frozen and only reported.

Systems: `kb` (KnowledgeBase.ask); `top` (the top passage of the same hybrid retrieval, cited, never refusing:
what the answerer must beat); `bm25` and `dense` (the top passage of that retriever alone). The second form scores an existing answers.jsonl (as written by
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
    grouped,
    load_items,
    load_records,
)
from kb.core.logs import configure as configure_logging
from kb.core.records import AnswerRecord, Citation

REPO = Path(__file__).resolve().parent.parent
BASELINE_MODES = {"top": "hybrid", "bm25": "bm25", "dense": "dense"}  # system → retrieval mode
QUESTIONS = REPO / "eval" / "questions"
EVAL_CORPUS = REPO / "eval" / "corpus"

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
    ("arith", "unasked_arithmetic", "d"),
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
    "cit.valid: all citations; latency: all items; arith: answers computing what nobody asked for (count). "
    "– = nothing to average."
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


# --------------------------------------------------------------------------- the evaluation KB


def assemble_eval_corpus(out: Path) -> Path:
    """corpus/ plus eval/corpus/ in one folder with one manifest: the library a user who added the real texts
    would have. Files are rewritten only when they differ, so the KB's corpus hash (and cache) stays valid."""
    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict] = []
    wanted: set[str] = {"manifest.json"}
    for src in (REPO / "corpus", EVAL_CORPUS):
        entries = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
        for e in entries:
            data = (src / e["file"]).read_bytes()
            target = out / e["file"]
            if not target.exists() or target.read_bytes() != data:
                target.write_bytes(data)
            wanted.add(e["file"])
        manifest += entries
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    if not (out / "manifest.json").exists() or (out / "manifest.json").read_text(encoding="utf-8") != text:
        (out / "manifest.json").write_text(text, encoding="utf-8")
    for f in out.iterdir():  # documents removed from the sources leave the assembled corpus too
        if f.is_file() and f.name not in wanted:
            f.unlink()
    return out


def load_question_sets() -> list[EvalItem]:
    items: list[EvalItem] = []
    for path in sorted(QUESTIONS.glob("*.jsonl")):
        items += load_items(path)
    return items


# --------------------------------------------------------------------------- runs


def run_systems(kb, items: list[EvalItem], baselines: bool) -> tuple[dict, dict]:
    documents = {doc_id: doc.text for doc_id, doc in kb.documents.items()}
    records = {"kb": run_kb(kb, items)}
    if baselines:
        for name, mode in BASELINE_MODES.items():
            records[name] = run_baseline(kb, items, mode)
    return records, {name: evaluate(items, recs, documents) for name, recs in records.items()}


def split_rows(report: EvalReport, key, splits=("dev", "test")) -> list[tuple[str, Metrics]]:
    """Rows "<group> dev", "<group> test" for each group of `key` (document, category, tag)."""
    rows = []
    by_split = {sp: grouped([sc for sc in report.items if sc.split == sp], key) for sp in splits}
    groups = list(dict.fromkeys(g for sp in splits for g in by_split[sp]))
    for g in groups:
        rows += [(f"{g} {sp}", by_split[sp][g]) for sp in splits if g in by_split[sp]]
    return rows


def suite_text(title: str, reports: dict[str, EvalReport], per_split: bool) -> list[tuple[str, list]]:
    """(heading, rows) blocks of one suite, for the terminal and the markdown report."""
    blocks = []
    if per_split:
        rows = []
        for name, r in reports.items():
            rows += [(f"{name} {sp}", m) for sp, m in grouped(r.items, lambda sc: sc.split).items()]
        blocks.append((f"{title}: overall (dev and test)", rows))
        kb = reports["kb"]
        blocks.append((f"{title}: kb per document", split_rows(kb, lambda sc: sc.doc_id)))
        blocks.append((f"{title}: kb per category", split_rows(kb, lambda sc: sc.category)))
        blocks.append((f"{title}: kb per tag", split_rows(kb, lambda sc: sc.tags)))
        if "top" in reports:
            blocks.append((f"{title}: top passage per document", split_rows(reports["top"], lambda sc: sc.doc_id)))
    else:
        blocks.append((f"{title}: overall", [(name, r.overall) for name, r in reports.items()]))
        for name, r in reports.items():
            blocks.append((f"{title}: {name} per category", list(r.per_category.items())))
    return blocks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default=None, help="one eval set (JSONL); default: every set, in one run")
    ap.add_argument("--kb", default=None, help="knowledge base for --dataset (default: KB_DIR or the repo default)")
    ap.add_argument("--out", default="eval/reports", help="where the report files go (default eval/reports)")
    ap.add_argument("--answers", default=None, help="score this answers.jsonl instead of running the KB")
    ap.add_argument("--corpus", default="corpus", help="corpus folder for citation validity with --answers")
    ap.add_argument("--no-baselines", action="store_true", help="score only the full assistant")
    ap.add_argument("--limit", type=int, default=None, help="only the first N items of each set (quick checks)")
    ap.add_argument("--backend", choices=("embedded", "milvus"), default=None,
                    help="search backend (default: KB_BACKEND or embedded); python -m eval.backends compares both")
    args = ap.parse_args(argv)
    configure_logging()
    from kb.core.settings import settings

    out = Path(args.out)
    blocks: list[tuple[str, list]] = []
    summary: dict = {"parameters": settings().parameters()}
    if args.answers:
        dataset = Path(args.dataset or "eval/dev.jsonl")
        items = load_items(dataset)[: args.limit]
        corpus_dir = Path(args.corpus) if Path(args.corpus).is_dir() else REPO / args.corpus
        reports = {Path(args.answers).stem: evaluate(items, load_records(args.answers), read_corpus(corpus_dir))}
        blocks += suite_text(str(dataset), reports, per_split=False)
        write_outputs(out, dataset.stem, dataset, reports, {}, items)
    else:
        from kb.service import KnowledgeBase

        suites = []
        if args.dataset:
            suites.append((Path(args.dataset).stem, load_items(Path(args.dataset)), args.kb, None))
        else:
            suites.append(("dev", load_items(REPO / "eval" / "dev.jsonl"), None, REPO / "corpus"))
            suites.append(("documents", load_question_sets(), str(REPO / "data" / "eval-kb"),
                           assemble_eval_corpus(REPO / "data" / "eval-corpus")))
        for name, items, kb_dir, corpus_dir in suites:
            items = items[: args.limit]
            kb = KnowledgeBase.open(kb_dir=kb_dir, corpus_dir=corpus_dir, warm=True, backend=args.backend)
            # Every question through one engine (the warm one loads in the background), named in the summary.
            summary["question_engine"] = kb.embedder.engine(wait=True)
            records, reports = run_systems(kb, items, not args.no_baselines)
            per_split = any(it.split for it in items)
            blocks += suite_text(name, reports, per_split)
            write_outputs(out, name, Path(name), reports, records, items)
            summary[name] = {sys_: r.overall.model_dump() for sys_, r in reports.items()}
    for heading, rows in blocks:
        print(f"\n{heading}")
        print(text_table(rows))
    print("\n" + LEGEND)
    (out / "summary.md").write_text("\n".join(f"## {h}\n\n{md_table(rows)}\n" for h, rows in blocks)
                                   + "\n" + LEGEND + "\n\nParameters: `" + json.dumps(summary["parameters"],
                                                                                         ensure_ascii=False) + "`\n",
                                   encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {out}/summary.md and the per-set reports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
