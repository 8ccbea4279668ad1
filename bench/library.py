"""Library benchmark: add and remove one document (CLI wall time and in-process), and PDF/DOCX ingestion speed.

`python -m bench library [--out FILE]`. The 40,000-character document is SYNTHETIC: the plan's text repeated
to that length (only the plan exists here), labelled as such; the PDF and DOCX are the plan laid out by the
test fixtures' generators. Everything runs in a temporary corpus and KB, never the project's own.
An add is staged (LibrarySettings.staged_add): it is timed until the document is searchable (its first stage, the
transaction) and until it is complete (its vectors embedded and the KB switched again); so is a replace.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"add_s": 20.0, "add_searchable_s": 20.0, "remove_s": 2.0}


def log(msg: str) -> None:
    print(f"[bench library {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _cli(args: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "indexer", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return time.perf_counter() - t0


def _cli_add(args: list[str], env: dict, log_file: Path) -> tuple[float | None, float]:
    """Wall seconds of `indexer add …` until it prints that the document is searchable (None: it never does, as
    when nothing is pending or staging is off) and until it ends."""
    from indexer.library import SEARCHABLE

    t0, searchable = time.perf_counter(), None
    with open(log_file, "w") as err:
        p = subprocess.Popen([sys.executable, "-m", "indexer", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                             stderr=err, text=True)
        for line in p.stdout:
            if line.strip() == SEARCHABLE:
                searchable = time.perf_counter() - t0
        if p.wait() != 0:
            raise RuntimeError(log_file.read_text(encoding="utf-8"))
    return searchable, time.perf_counter() - t0


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def synthetic_text(tag: str, chars: int = 40_000) -> str:
    """SYNTHETIC: the plan repeated to `chars`, every line marked with `tag` and its copy number, so no paragraph
    repeats another (an identical paragraph's vector would be reused, flattering the timing)."""
    from tests.fixtures.docs import plan_text

    text, copy = "", 0
    while len(text) < chars:
        copy += 1
        text += "\n".join(f"{ln}（{tag}{copy}）" if ln.strip() else ln for ln in plan_text().split("\n")) + "\n"
    return text[:chars]


class Stages:
    """A progress callback that keeps the time of each message: where an in-process add spends its time."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.marks: list[tuple[float, str]] = []

    def __call__(self, fraction: float, message: str) -> None:
        self.marks.append((time.perf_counter() - self.t0, message))

    def seconds(self, end: float) -> dict[str, float]:
        """Seconds per kind of step: embedding (the "计算…向量" batches), reading and parsing, the rest."""
        out: dict[str, float] = {}
        for (t, msg), nxt in zip(self.marks, [m[0] for m in self.marks[1:]] + [end]):
            kind = ("embed" if msg.startswith("计算") else "read + parse" if msg.startswith("读取文本")
                    else "tables + provisions" if msg.startswith("抽取") else "build KB (BM25, FAISS, write)"
                    if msg.startswith(("读取语料", "合并索引")) else "other")
            out[kind] = round(out.get(kind, 0.0) + nxt - t, 2)
        return out


def run(chars: int = 40_000) -> dict:
    sys.path.insert(0, str(REPO))
    from indexer.formats import extract
    from tests.fixtures.docs import FICTIONAL_DOCS, plan_text, write_docx, write_pdf

    res: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Ingestion throughput: reading the file into text (no embedding).
        write_docx(plan_text(), tmp / "plan.docx")
        write_pdf(plan_text(), tmp / "plan.pdf")
        for ext in ("docx", "pdf"):
            t0 = time.perf_counter()
            n = len(extract(tmp / f"plan.{ext}").text)
            dt = time.perf_counter() - t0
            res[f"{ext}_chars_per_s"] = round(n / dt)
            log(f"{ext}: {n} characters in {dt:.2f} s")

        corpus, kb = tmp / "corpus", tmp / "kb"
        corpus.mkdir()
        for name, text in FICTIONAL_DOCS.items():
            (corpus / name).write_text(text, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        where = ["--corpus", str(corpus), "--kb", str(kb)]
        log("building the starting KB (fictional documents)")
        _cli(["build", *where], env)
        big = tmp / "synthetic-40k.txt"
        big.write_text(synthetic_text("甲", chars), encoding="utf-8")
        res["add_chars"] = chars
        searchable, total = _cli_add(["add", str(big), *where], env, tmp / "add.log")
        res["add_searchable_s"], res["add_s"] = _round(searchable), _round(total)
        log(f"CLI add of {chars} characters (SYNTHETIC): searchable after {res['add_searchable_s']} s, complete "
            f"after {res['add_s']} s, model load included")
        res["remove_s"] = round(_cli(["remove", "synthetic-40k", *where], env), 2)
        log(f"CLI remove: {res['remove_s']} s")

        # In-process, as the web app does it: the model is already loaded.
        from indexer.build import complete
        from indexer.library import add_document, remove_document
        from kb.core.settings import settings
        from kb.embed import Encoder

        s = settings(kb_dir=kb, corpus_dir=corpus)
        # What the app holds. What embeds passages loads once, not timed here (in the app, the warm-up has loaded
        # ONNX Runtime's engine for questions already, and passages share it).
        emb = Encoder(s)
        res["passage_engine"] = type(emb.passages).__name__  # OnnxEncoder, or Embedder (sentence-transformers)
        quiet = lambda f, m: None  # noqa: E731
        big_b = tmp / "synthetic-40k-b.txt"  # other text than the CLI's: known paragraphs would not be re-embedded
        big_b.write_text(synthetic_text("乙", chars), encoding="utf-8")
        stages = Stages()
        t0 = time.perf_counter()
        add_document(s, big_b, progress=stages, embedder=emb, finish=False)  # the transaction: searchable
        res["add_inproc_searchable_s"] = round(time.perf_counter() - t0, 2)
        complete(s, stages, emb)  # what the app does next, in a background thread
        res["add_inproc_s"] = round(time.perf_counter() - t0, 2)
        res["add_inproc_stages_s"] = stages.seconds(res["add_inproc_s"])
        res["add_embedded"] = [m for _, m in stages.marks if "向量完成" in m]
        # A revised version: one paragraph in ten changed (SYNTHETIC), the rest as before.
        lines = big_b.read_text(encoding="utf-8").split("\n")
        revised = tmp / "synthetic-40k-rev.txt"
        revised.write_text("\n".join(ln + "（修订）" if i % 10 == 5 and ln.strip() else ln
                                     for i, ln in enumerate(lines)), encoding="utf-8")
        t0 = time.perf_counter()
        add_document(s, revised, progress=quiet, replace="synthetic-40k-b", embedder=emb, finish=False)
        res["replace_inproc_searchable_s"] = round(time.perf_counter() - t0, 2)
        complete(s, quiet, emb)
        res["replace_inproc_s"] = round(time.perf_counter() - t0, 2)
        remove_document(s, "synthetic-40k-rev", progress=quiet, embedder=emb)
        t0 = time.perf_counter()
        remove_document(s, "synthetic-40k-b", progress=quiet, embedder=emb)
        res["remove_inproc_s"] = round(time.perf_counter() - t0, 2)
        log(f"in-process add: searchable {res['add_inproc_searchable_s']} s, complete {res['add_inproc_s']} s "
            f"({res['add_inproc_stages_s']}; {res['add_embedded']}), remove {res['remove_inproc_s']} s")
    res["staged_add"] = s.library.staged_add
    res["pass"] = {k: res[k] is not None and res[k] <= v for k, v in TARGETS.items()}
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench library", description=__doc__.splitlines()[0])
    p.add_argument("--out", help="write the results as JSON to this file")
    p.add_argument("--chars", type=int, default=40_000, help="size of the SYNTHETIC document added")
    args = p.parse_args(argv)
    res = run(args.chars)
    print("| measure | value | target |\n|---|---|---|")
    for key, label, unit in [("docx_chars_per_s", "DOCX ingestion", "chars/s"), ("pdf_chars_per_s", "PDF ingestion",
                             "chars/s"), ("add_searchable_s", "add 40k chars (CLI, SYNTHETIC): searchable", "s"),
                             ("add_s", "add 40k chars (CLI, SYNTHETIC): complete", "s"),
                             ("add_inproc_searchable_s", "add 40k chars (in-process): searchable", "s"),
                             ("add_inproc_s", "add 40k chars (in-process): complete", "s"),
                             ("replace_inproc_searchable_s", "replace by a revision (in-process): searchable", "s"),
                             ("replace_inproc_s", "replace by a revision (in-process): complete", "s"),
                             ("remove_s", "remove (CLI)", "s"), ("remove_inproc_s", "remove (in-process)", "s")]:
        target = TARGETS.get(key) or TARGETS.get(key.replace("_inproc", ""))
        print(f"| {label} | {res[key]} {unit} | {f'≤ {target} s' if target else ''} |")
    if args.out:
        Path(args.out).write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
