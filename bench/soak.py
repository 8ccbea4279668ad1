"""Soak run of the web app: `python -m bench soak [--clients 20] [--minutes 5] [--out FILE]`.

The real app (`python app.py`, loopback only, a free port) serves a KB of its own in a temporary folder: the
plan plus one regulation, and over the run, real regulations from eval/corpus that a churn loop removes and adds
with `python -m indexer add/remove` processes (at most `--max-extra` of them in the corpus at once); the app picks
up each new KB between questions. Meanwhile `--clients` gradio_client users ask dev-set questions without pause.

Checked: no request fails (an exception, a timeout, an invalid record or one with `error` set), every answer
record is the answer to the question sent, every add/remove succeeds, the app's resident memory stays flat
(no more than 10% growth from the sample a minute in, when the clients are connected and warm, to the last;
the growth from the very first sample is reported too), and at the end the KB is up to date with the
corpus, lists exactly the documents the churn left, the corpus holds no leftovers, and the app answers from it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from bench.load import (
    API_NAME,
    WARMUP_QUESTION,
    AppServer,
    check,
    log,
    memory_mb,
    ms_stats,
    new_client,
    question_pool,
)

REPO = Path(__file__).resolve().parent.parent
EVAL_CORPUS = REPO / "eval" / "corpus"
# Regulations of moderate length (10-16k characters), so one add takes a model load and a few seconds of embedding.
CHURN = ("end-of-life-vehicle-recycling-measures-2019", "environmental-protection-tax-law-2018",
         "zhejiang-renewable-energy-regulations-2021", "renewable-energy-law-2009",
         "zhejiang-electric-bicycle-regulations-2020")
META_OPTIONS = ("title", "issuer", "date", "level", "region", "doc_type")
RSS_GROWTH_LIMIT = 0.10


@dataclass
class Op:
    kind: str  # add | remove
    doc_id: str
    seconds: float
    ok: bool
    detail: str = ""
    done_at: float = 0.0  # seconds since the clients started


@dataclass
class SoakResult:
    started: str
    clients: int
    seconds: float
    requests: int
    failed: int
    error_kinds: dict[str, int]
    wrong_question: int  # records whose question is not the one sent (a crossed response)
    latency_ms: dict[str, float]
    ops: list[dict]
    ops_failed: int
    rss_mb: list[tuple[float, float]]  # (seconds since the clients started, app RSS with children)
    rss_start_mb: float
    rss_warmed_mb: float
    rss_end_mb: float
    rss_max_mb: float
    rss_growth_from_start: float  # (end - start) / start
    rss_growth: float  # (end - warm) / warm: the flatness criterion
    final_docs: list[str]
    expected_docs: list[str]
    consistency: dict[str, bool]
    errors_detail: list[str] = field(default_factory=list)

    @property
    def passed(self) -> dict[str, bool]:
        return {"no failed request": self.failed == 0 and self.wrong_question == 0,
                "every add/remove succeeded": self.ops_failed == 0,
                f"RSS growth from warm < {RSS_GROWTH_LIMIT:.0%}": self.rss_growth < RSS_GROWTH_LIMIT,
                "KB and corpus consistent": all(self.consistency.values())}


def indexer(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=1800)


def prepare(root: Path, seed_cache: Path | None = None) -> tuple[Path, Path]:
    """A corpus with the plan and its manifest plus the last churn document (so the run's first change is a
    quick remove), and its KB built (the per-document cache of `seed_cache`, a KB directory built with the same
    model and code, spares embedding the plan again)."""
    corpus, kb = root / "corpus", root / "kb"
    corpus.mkdir(parents=True)
    for p in (REPO / "corpus").iterdir():
        if p.is_file() and not p.name.startswith("."):
            shutil.copy2(p, corpus / p.name)
    first = eval_entry(CHURN[-1])
    shutil.copy2(EVAL_CORPUS / first["file"], corpus / first["file"])
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest.append({k: first[k] for k in ("file", "doc_id", *META_OPTIONS) if first.get(k)})
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    if seed_cache is not None and (seed_cache / "docs").is_dir():
        shutil.copytree(seed_cache / "docs", kb / "docs")
    out = indexer("build", "--corpus", str(corpus), "--kb", str(kb))
    if out.returncode != 0:
        raise RuntimeError(f"building the soak KB failed:\n{out.stderr[-2000:]}")
    return corpus, kb


def eval_entry(doc_id: str) -> dict:
    return next(e for e in json.loads((EVAL_CORPUS / "manifest.json").read_text(encoding="utf-8"))
                if e["doc_id"] == doc_id)


def churn_args(doc_id: str) -> list[str]:
    """`indexer add` arguments for one eval document, its metadata from eval/corpus/manifest.json."""
    entry = eval_entry(doc_id)
    args = [str(EVAL_CORPUS / entry["file"]), "--doc-id", doc_id]
    for key in META_OPTIONS:
        if entry.get(key):
            args += [f"--{key.replace('_', '-')}", str(entry[key])]
    return args


def churn(where: list[str], stop: threading.Event, ops: list[Op], present: list[str], max_extra: int,
          t_start: float) -> None:
    """Add the churn documents in turn, removing the oldest once `max_extra` are in; until `stop` is set."""
    i = 0
    while not stop.is_set():
        if len(present) >= max_extra or (present and not ops):  # the first change: a quick remove
            kind, doc_id, args = "remove", present[0], ["remove", present[0]]
        else:
            doc_id = next(d for d in (CHURN[(i + k) % len(CHURN)] for k in range(len(CHURN))) if d not in present)
            i += 1
            kind, args = "add", ["add", *churn_args(doc_id)]
        t0 = time.perf_counter()
        out = indexer(*args, *where)
        op = Op(kind, doc_id, round(time.perf_counter() - t0, 1), out.returncode == 0,
                "" if out.returncode == 0 else out.stderr[-500:], round(time.perf_counter() - t_start, 1))
        ops.append(op)
        log(f"{kind} {doc_id}: {'ok' if op.ok else 'FAILED'} in {op.seconds} s")
        if op.ok and kind == "remove":
            present.remove(doc_id)
        elif op.ok:
            present.append(doc_id)
        else:
            stop.wait(5)


def ask_loop(i: int, url: str, questions: list[str], stop: threading.Event, timeout: float,
             results: list[tuple[float, str | None]], lock: threading.Lock) -> None:
    """One user asking without pause until `stop`; (seconds, error or None) per request."""
    try:
        client = new_client(url)
    except Exception as e:  # noqa: BLE001 - a client that cannot connect is a failed request, counted
        with lock:
            results.append((0.0, f"connect: {type(e).__name__}: {e}"[:300]))
        return
    n = i * 7  # clients start at different places of the question pool
    while not stop.is_set():
        q = questions[n % len(questions)]
        n += 1
        t = time.perf_counter()
        try:
            error, _ = check(client.submit(q, api_name=API_NAME).result(timeout=timeout), q)
        except Exception as e:  # noqa: BLE001 - every failure of a request is what this run counts
            error = f"{type(e).__name__}: {e}"[:300]
        with lock:
            results.append((time.perf_counter() - t, error))
    try:
        client.close()
    except Exception:  # noqa: BLE001 - nothing left to measure
        pass


def final_checks(server: AppServer, corpus: Path, kb: Path, expected: set[str]) -> tuple[dict[str, bool], list[str]]:
    from indexer.loader import corpus_files, doc_id_of, read_manifest
    from indexer.version import status
    from kb.core.settings import settings

    s = settings(kb_dir=kb, corpus_dir=corpus)
    fresh = status(s) == "ok"  # before `indexer list`, which would rebuild a stale KB
    out = indexer("list", "--json", "--corpus", str(corpus), "--kb", str(kb))
    listed = {d["doc_id"] for d in json.loads(out.stdout)} if out.returncode == 0 else set()
    manifest = read_manifest(corpus)
    in_corpus = {doc_id_of(p, manifest.get(p.name)) for p in corpus_files(corpus)}
    # The app answers from the final KB: a question on each churn document cites only documents still there.
    client = new_client(server.url)
    cited: set[str] = set()
    for doc_id in CHURN:
        rec = client.predict(f"《{eval_entry(doc_id)['title']}》的立法目的是什么？", api_name=API_NAME)
        cited |= {c["doc_id"] for c in rec.get("citations", [])} | {r["doc_id"] for r in rec.get("retrieved", [])}
    client.close()
    checks = {
        "KB up to date with the corpus": fresh,
        "indexer list = the documents the churn left": listed == expected,
        "corpus files = the documents the churn left": in_corpus == expected,
        "no leftovers in the corpus folder": not [p for p in corpus.iterdir() if p.name.startswith(".")],
        "the app answers only from documents still there": bool(cited) and cited <= expected,
    }
    return checks, sorted(listed)


def run_soak(server: AppServer, corpus: Path, kb: Path, clients: int = 20, seconds: float = 300.0,
             max_extra: int = 2, timeout: float = 180.0) -> SoakResult:
    assert server.proc is not None
    pid, started = server.proc.pid, datetime.now().isoformat(timespec="seconds")
    warm = new_client(server.url)
    error, _ = check(warm.predict(WARMUP_QUESTION, api_name=API_NAME), WARMUP_QUESTION)
    warm.close()
    if error:
        raise RuntimeError(f"warm-up question failed: {error}")
    questions = [q.text for q in question_pool()]
    in_corpus = {p.stem for p in corpus_files_of(corpus)}
    base = in_corpus - set(CHURN)
    where = ["--corpus", str(corpus), "--kb", str(kb)]

    stop_asking, stop_churn = threading.Event(), threading.Event()
    results: list[tuple[float, str | None]] = []
    lock = threading.Lock()
    ops: list[Op] = []
    present = [d for d in CHURN if d in in_corpus]
    askers = [threading.Thread(target=ask_loop, args=(i, server.url, questions, stop_asking, timeout, results, lock),
                               name=f"client-{i}", daemon=True) for i in range(clients)]
    t0 = time.perf_counter()
    churner = threading.Thread(target=churn, args=(where, stop_churn, ops, present, max_extra, t0), daemon=True)
    for t in askers:
        t.start()
    churner.start()
    rss: list[tuple[float, float]] = []
    interval, settle_until = min(5.0, max(0.5, seconds / 60)), None
    while settle_until is None or time.perf_counter() < settle_until:
        rss.append((round(time.perf_counter() - t0, 1), memory_mb(pid)["rss_mb"]))
        if not stop_churn.is_set() and time.perf_counter() - t0 >= seconds:
            stop_churn.set()
            log("time is up: waiting for the add/remove in progress, the clients keep asking meanwhile …")
        if stop_churn.is_set() and settle_until is None and not churner.is_alive():
            settle_until = time.perf_counter() + 15  # questions after the last change: the app reloads it once more
        time.sleep(interval)
    churner.join()
    stop_asking.set()
    for t in askers:
        t.join(timeout=timeout + 30)
    wall = time.perf_counter() - t0
    rss.append((round(wall, 1), memory_mb(pid)["rss_mb"]))

    expected = base | set(present)
    consistency, final_docs = final_checks(server, corpus, kb, expected)
    with lock:
        done = list(results)
    errors = [e for _, e in done if e]
    kinds = Counter("answer to another question" if e == "answer to another question" else
                    "record error" if e.startswith("record error") else e.split(":", 1)[0] for e in errors)
    # Two baselines: the first sample, as the clients connect; and "warm", the first sample a minute in (a fifth
    # of a short run), when every client has its session and the answer caches are in use. The app's RSS climbs
    # for that first minute whatever happens after; flat means no growth from the warm baseline to the end.
    start = rss[0][1]
    warmed = next((r for t, r in rss if t >= min(60.0, seconds / 5)), start)
    return SoakResult(
        started=started, clients=clients, seconds=round(wall, 1), requests=len(done), failed=len(errors),
        error_kinds=dict(kinds), wrong_question=kinds.get("answer to another question", 0),
        latency_ms=ms_stats([s * 1000 for s, e in done if not e]), ops=[asdict(o) for o in ops],
        ops_failed=sum(not o.ok for o in ops), rss_mb=rss, rss_start_mb=start, rss_warmed_mb=warmed,
        rss_end_mb=rss[-1][1], rss_max_mb=max(r for _, r in rss),
        rss_growth_from_start=round((rss[-1][1] - start) / start, 4), rss_growth=round((rss[-1][1] - warmed) / warmed, 4),
        final_docs=final_docs, expected_docs=sorted(expected), consistency=consistency,
        errors_detail=sorted(set(errors))[:20])


def corpus_files_of(corpus: Path) -> list[Path]:
    from indexer.loader import corpus_files

    return corpus_files(corpus)


def report(r: SoakResult) -> str:
    lat = r.latency_ms
    adds = [o for o in r.ops if o["kind"] == "add"]
    removes = [o for o in r.ops if o["kind"] == "remove"]
    rows = [
        ("clients × duration", f"{r.clients} × {r.seconds:.0f} s"),
        ("requests / failed", f"{r.requests} / {r.failed}" + (f"  {r.error_kinds}" if r.failed else "")),
        ("answers to another question", f"{r.wrong_question}"),
        ("latency p50 / p95 / max (client wall)", f"{lat['p50']:.0f} / {lat['p95']:.0f} / {lat['max']:.0f} ms"),
        ("adds / removes (CLI processes)", f"{len(adds)} / {len(removes)}, failed {r.ops_failed}; "
                                           f"mean {_mean(adds):.0f} s / {_mean(removes):.0f} s"),
        ("app RSS first / warm (1 min in) / last / max",
         f"{r.rss_start_mb:.0f} / {r.rss_warmed_mb:.0f} / {r.rss_end_mb:.0f} / {r.rss_max_mb:.0f} MB"),
        ("app RSS growth from first / from warm", f"{r.rss_growth_from_start:+.1%} / {r.rss_growth:+.1%}"),
        *((f"check: {k}", "yes" if v else "NO") for k, v in r.consistency.items()),
        *((f"PASS: {k}", "yes" if v else "NO") for k, v in r.passed.items()),
    ]
    w = max(len(k) for k, _ in rows)
    head = f"Soak run {r.started}: {os.cpu_count()} CPUs, final documents {', '.join(r.final_docs)}"
    return "\n".join([head, "-" * min(len(head), 100), *(f"{k.ljust(w)}  {v}" for k, v in rows)])


def _mean(ops: list[dict]) -> float:
    return sum(o["seconds"] for o in ops) / len(ops) if ops else 0.0


def soak(clients: int, seconds: float, max_extra: int = 2, seed_cache: Path | None = None,
         log_path: Path | None = None) -> SoakResult:
    """Prepare a corpus and KB in a temporary folder, start the app on it, run, stop the app, clean up."""
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        log("building the soak KB (the plan and one regulation) …")
        corpus, kb = prepare(Path(tmp), seed_cache)
        server = AppServer(kb_dir=kb, log_path=log_path or Path(tmp) / "app.log")
        with server:
            log(f"app on {server.url} after {server.startup_s:.1f} s; {clients} clients for {seconds:.0f} s …")
            return run_soak(server, corpus, kb, clients, seconds, max_extra)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=20, help="concurrent gradio_client users")
    p.add_argument("--minutes", type=float, default=5.0, help="how long the clients ask and the churn runs")
    p.add_argument("--max-extra", type=int, default=2, help="churn documents in the corpus at most at once")
    p.add_argument("--seed-cache", help="a KB directory whose per-document cache spares embedding the plan again")
    p.add_argument("--out", help="also write the results as JSON to this file (and the app's log beside it)")
    a = p.parse_args(argv)
    if a.clients < 1 or a.minutes <= 0 or a.max_extra < 1:
        p.error("--clients and --max-extra must be at least 1, --minutes positive")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the `with`: the app is stopped
    try:
        r = soak(a.clients, a.minutes * 60, a.max_extra, Path(a.seed_cache) if a.seed_cache else None,
                 Path(a.out).with_suffix(".app.log") if a.out else None)
    except KeyboardInterrupt:
        log("interrupted; app.py stopped")
        return 130
    print(report(r))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps({**asdict(r), "passed": r.passed}, ensure_ascii=False, indent=1),
                               encoding="utf-8")
        log(f"written {a.out}")
    return 0 if all(r.passed.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
