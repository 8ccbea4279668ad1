"""Compares the Milvus backend with the embedded one on an eval set: the same KB, the same questions, both answered.

    python -m eval.backends [--dataset eval/dev.jsonl] [--kb DIR] [--fusion client|server] [--out eval/reports]

Prints hit@5 and key-fact recall of each backend, the share of questions answered with the same text, and the
questions where they differ; writes <out>/<dataset>.backends.json. The Milvus collection is the one KB_BACKEND=milvus
would use (MILVUS_URI, by default Milvus Lite inside the KB directory).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval.__main__ import run_kb
from eval.metrics import evaluate, load_items
from kb.core.logs import configure as configure_logging


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.backends", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="eval/dev.jsonl")
    ap.add_argument("--kb", default=None, help="knowledge base directory (default: KB_DIR or the repo default)")
    ap.add_argument("--corpus", default=None, help="corpus folder (default: the one the KB was built from)")
    ap.add_argument("--fusion", choices=("client", "server"), default="client",
                    help="Milvus fusion: two searches fused here (default) or Milvus's hybrid_search with RRFRanker")
    ap.add_argument("--out", default="eval/reports")
    args = ap.parse_args(argv)
    configure_logging()
    from kb.service import KnowledgeBase

    items = load_items(Path(args.dataset))
    embedded = KnowledgeBase.open(kb_dir=args.kb, corpus_dir=args.corpus, warm=True, backend="embedded")
    embedded.embedder.engine(wait=True)  # both backends' questions through the same engine
    milvus = KnowledgeBase.open(kb_dir=args.kb, corpus_dir=args.corpus, embedder=embedded.embedder, backend="milvus")
    milvus.settings.milvus.fusion = args.fusion  # the retriever reads it at each search
    documents = {doc_id: doc.text for doc_id, doc in embedded.documents.items()}
    records = {"embedded": run_kb(embedded, items), "milvus": run_kb(milvus, items)}
    reports = {name: evaluate(items, recs, documents) for name, recs in records.items()}

    same = [a.answer == b.answer for a, b in zip(records["embedded"], records["milvus"])]
    differ = [{"id": a.id, "question": a.question, "embedded": a.answer, "milvus": b.answer}
              for a, b in zip(records["embedded"], records["milvus"]) if a.answer != b.answer]
    summary = {name: {"hit_at_5": r.overall.hit_at_5, "key_fact_recall": r.overall.key_fact_recall,
                      "latency_p50_ms": r.overall.latency_p50_ms} for name, r in reports.items()}
    result = {"dataset": args.dataset, "n_items": len(items), "fusion": args.fusion, "systems": summary,
              "same_answer_share": sum(same) / len(same) if same else None, "different_answers": differ}

    print(f"dataset: {args.dataset} ({len(items)} items), Milvus fusion: {args.fusion}")
    for name, m in summary.items():
        print(f"  {name:9s} hit@5 {m['hit_at_5']:.3f}  key-fact recall {m['key_fact_recall']:.3f}  "
              f"p50 {m['latency_p50_ms']:.1f} ms")
    print(f"  same answer text: {sum(same)}/{len(same)} = {result['same_answer_share']:.3f}")
    for d in differ:
        print(f"  - {d['id']} {d['question']}\n      embedded: {d['embedded'][:80]}\n      milvus:   {d['milvus'][:80]}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{Path(args.dataset).stem}.backends.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
