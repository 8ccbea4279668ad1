"""Load benchmark of the web app: `python -m bench load [--clients 20] [--questions 10] [--out FILE]`."""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.probes import percentiles

REPO = Path(__file__).resolve().parent.parent
DATASET = REPO / "eval" / "dev.jsonl"
# Asked once before the clock starts, so Gradio's and the KB's lazy first-request costs are not measured.
WARMUP_QUESTION = "到2025年要建成多少座加氢站？"
API_NAME = "/ask"


def log(msg: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- questions


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    answerable: bool
    text: str


def question_pool(path: Path = DATASET) -> list[Question]:
    """Dev-set questions, round-robin over categories, so any run of consecutive questions is varied.

    "unanswerable" is taken second in each round so even a two-question client asks one the plan does not answer.
    """
    by_cat: dict[str, list[Question]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                d = json.loads(line)
                q = Question(d.get("id", ""), d.get("category", ""), bool(d.get("answerable", True)), d["question"])
                by_cat.setdefault(q.category, []).append(q)
    first = next(iter(by_cat))
    cats = sorted(by_cat, key=lambda c: (c != first, c != "unanswerable"))  # stable: the rest keep file order
    pool: list[Question] = []
    for i in range(max(len(v) for v in by_cat.values())):
        pool += [by_cat[c][i] for c in cats if i < len(by_cat[c])]
    return pool


def assign(pool: list[Question], clients: int, per_client: int) -> list[list[Question]]:
    """Client i asks the next `per_client` questions of the pool from offset i × per_client (wrapping)."""
    return [[pool[(i * per_client + j) % len(pool)] for j in range(per_client)] for i in range(clients)]


# --------------------------------------------------------------------------- the server process


def _proc_status(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:  # exited meanwhile
        return {}
    return dict(line.split(":", 1) for line in lines if ":" in line)


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, recursively (from /proc/PID/task/*/children)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
        for k in kids:
            out += [k, *descendants(k)]
    return out


def memory_mb(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of `pid` plus its children, in MB.

    Peaks of separate processes need not coincide, so the summed peak is an upper bound of the true joint peak.
    """
    hwm = rss = 0
    for p in [pid, *descendants(pid)]:
        st = _proc_status(p)
        hwm += int(st.get("VmHWM", "0 kB").split()[0])
        rss += int(st.get("VmRSS", "0 kB").split()[0])
    return {"peak_rss_mb": round(hwm / 1024, 1), "rss_mb": round(rss / 1024, 1)}


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (threads included; /proc/PID/stat fields 14 and 15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """User + system CPU seconds of this process, all threads (the clients)."""
    t = os.times()
    return t.user + t.system


def busy_cpu_s() -> float:
    """Seconds of CPU the whole machine has spent busy since boot (/proc/stat, all CPUs)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def listening_sockets(port: int) -> set[str]:
    """The TCP sockets listening on `port` (any address) as "socket:[inode]", from /proc/net/tcp{,6}."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                out.add(f"socket:[{f[9]}]")
    return out


def owns_listener(pid: int, port: int) -> bool:
    """Whether `pid` (or a child) holds the socket listening on `port`: the answer on it is then really ours."""
    sockets = listening_sockets(port)
    for p in [pid, *descendants(pid)] if sockets else []:
        try:
            if any(os.readlink(fd) in sockets for fd in Path(f"/proc/{p}/fd").iterdir()):
                return True
        except OSError:  # a descriptor closed meanwhile
            continue
    return False


class AppServer:
    """`python app.py` on a free loopback port, as `./run.sh app` starts it; stopped on exit from the `with`."""

    def __init__(self, port: int | None = None, kb_dir: Path | None = None, ready_timeout: float = 600.0,
                 log_path: Path | None = None, command: list[str] | None = None):
        self.command = command or [sys.executable, "app.py"]  # another launcher only to try app variants
        self.fixed_port = port is not None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.kb_dir = kb_dir
        # Generous: a missing or stale KB is built by the app before it listens (about a minute here).
        self.ready_timeout = ready_timeout
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="load-")) / "app.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0

    def __enter__(self) -> AppServer:
        # Other sessions on this machine also take free ports: if one grabs ours before the app binds it, the app
        # exits with "port in use" and we try again on another port.
        for _attempt in range(3):
            self.start()
            try:
                if self.wait_ready():
                    return self
            except BaseException:
                self.stop()
                raise
            if self.fixed_port:
                break
            log(f"port {self.port} was taken by another process; retrying on another port")
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}/"
        raise RuntimeError(f"app.py could not listen on port {self.port}:\n{self.log_tail()}")

    def start(self) -> None:
        env = dict(os.environ, PORT=str(self.port), PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False",
                   HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        if self.kb_dir is not None:
            env["KB_DIR"] = str(self.kb_dir)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as fh:
            # Own session: a Ctrl-C in the terminal reaches only us, and we stop the server in order in __exit__.
            # SIGINT back to default: a shell's background job inherits it ignored, and app.py stops on Ctrl-C.
            self.proc = subprocess.Popen(self.command, cwd=REPO, env=env, stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_ready(self) -> bool:
        """True once the app answers on its port; False if it exited because another process holds the port."""
        assert self.proc is not None
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < self.ready_timeout:
            if self.proc.poll() is not None:
                if listening_sockets(self.port):
                    return False
                raise RuntimeError(f"app.py exited with {self.proc.returncode} before serving:\n{self.log_tail()}")
            # The app first serves a progress page on its port while it opens the KB: ready means /ask is listed.
            if owns_listener(self.proc.pid, self.port) and self.serves_ask():
                self.startup_s = round(time.perf_counter() - t0, 2)
                return True
            time.sleep(0.5)
        raise TimeoutError(f"app.py did not answer on {self.url} within {self.ready_timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def serves_ask(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "gradio_api/info", timeout=5) as r:
                return API_NAME in json.load(r).get("named_endpoints", {})
        except (urllib.error.URLError, OSError, ValueError):  # not up yet, or the progress page's own answer
            return False

    def stop(self, grace: float = 30.0) -> int | None:
        """Ctrl-C (what a user does), then SIGTERM, then SIGKILL; leftover children of the app get SIGTERM."""
        p = self.proc
        if p is None or p.poll() is not None:
            return None if p is None else p.returncode
        kids = descendants(p.pid)
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            try:
                p.send_signal(sig)
                p.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                log(f"app.py (pid {p.pid}) still running after {sig.name}")
        for k in kids:
            try:
                os.kill(k, signal.SIGTERM)
            except ProcessLookupError:
                pass
        return p.returncode


# --------------------------------------------------------------------------- clients


@dataclass
class Request:
    client: int
    qid: str
    category: str
    seconds: float
    error: str | None = None
    refused: bool | None = None
    server_ms: float | None = None  # the record's latency_ms: the KB's own time, without queueing or HTTP


def check(out: Any, question: str) -> tuple[str | None, dict | None]:
    """(why the response is not a good answer record, or None; the record) — a record with `error` set counts."""
    from pydantic import ValidationError

    from kb.core.records import (
        AnswerRecord,  # pydantic only: cheap, and keeps the contract in one place
    )

    if not isinstance(out, dict):
        return f"not a record: {type(out).__name__}", None
    try:
        rec = AnswerRecord.model_validate(out)
    except ValidationError as e:
        return f"invalid record: {e.errors()[0]['loc']} {e.errors()[0]['msg']}", None
    if rec.error:
        return f"record error: {rec.error}", out
    if rec.question != question:  # under concurrency, a crossed response would show up here
        return "answer to another question", out
    if not rec.answer.strip():
        return "empty answer", out
    return None, out


def new_client(url: str) -> Any:
    from gradio_client import Client

    # No analytics, no file downloads; two workers are plenty for one sequential caller.
    return Client(url, verbose=False, analytics_enabled=False, download_files=False, max_workers=2)


def run_client(i: int, url: str, questions: list[Question], start: threading.Barrier, timeout: float,
               out: list[Request], answers: dict[str, set[str]], lock: threading.Lock,
               connect_s: list[float]) -> None:
    """One user: connect, wait for the others, then ask its questions one after another, timing each."""
    client, failure = None, None
    t = time.perf_counter()
    try:
        client = new_client(url)
    except Exception as e:  # counted below as an error for each of its questions
        failure = f"connect: {type(e).__name__}: {e}"
    connect_s[i] = time.perf_counter() - t
    try:
        start.wait()
    except threading.BrokenBarrierError:  # a client took over 300 s to connect: the others go ahead anyway
        pass
    for q in questions:
        if client is None:
            with lock:
                out.append(Request(i, q.id, q.category, 0.0, failure))
            continue
        t = time.perf_counter()
        try:
            raw = client.submit(q.text, api_name=API_NAME).result(timeout=timeout)
            error, rec = check(raw, q.text)
        except Exception as e:
            error, rec = f"{type(e).__name__}: {e}"[:300], None
        dt = time.perf_counter() - t
        with lock:
            out.append(Request(i, q.id, q.category, round(dt, 4), error, rec and rec.get("refused"),
                               rec and rec.get("latency_ms")))
            if rec is not None and error is None:
                answers.setdefault(q.text, set()).add(rec["answer"])
    if client is not None:
        try:
            client.close()
        except Exception:  # nothing left to measure; a failed close must not turn into an error count
            pass


# --------------------------------------------------------------------------- the run


@dataclass
class LoadResult:
    url: str
    clients: int
    questions_per_client: int
    requests: int
    errors: int
    error_kinds: dict[str, int]
    latency_ms: dict[str, float]  # client-side wall time per request: p50, p95, mean, max
    server_latency_ms: dict[str, float]  # the KB's own latency_ms from the records
    wall_s: float
    throughput_rps: float
    refused: int
    inconsistent_questions: int  # questions asked more than once that got different answers
    connect_s: dict[str, float]
    startup_s: float
    memory_before: dict[str, float]
    memory_after: dict[str, float]
    server_cpu_cores: float  # the app's CPU use during the run, in cores (2 = both cores of this machine)
    clients_cpu_cores: float  # this process's: the gradio_client users compete with the app for the same cores
    others_cores: float  # CPU the rest of the machine used meanwhile
    loadavg_before: list[float]
    loadavg_after: list[float]
    started: str = ""
    requests_detail: list[dict] = field(default_factory=list)


def run_load(server: AppServer, clients: int = 20, per_client: int = 10, timeout: float = 120.0,
             dataset: Path = DATASET) -> LoadResult:
    """Run `clients` concurrent users against a serving `server`; every request timed and checked."""
    assert server.proc is not None
    pid, started = server.proc.pid, datetime.now().isoformat(timespec="seconds")
    plan = assign(question_pool(dataset), clients, per_client)
    warm = new_client(server.url)
    error, _ = check(warm.predict(WARMUP_QUESTION, api_name=API_NAME), WARMUP_QUESTION)
    warm.close()
    if error:
        raise RuntimeError(f"warm-up question failed: {error}")

    done: list[Request] = []
    answers: dict[str, set[str]] = {}
    lock = threading.Lock()
    connect = [0.0] * clients
    # The clock starts when every client is connected, so the run measures answering, not connecting.
    barrier = threading.Barrier(clients + 1, timeout=300)
    threads = [threading.Thread(target=run_client, name=f"client-{i}", daemon=True,
                                args=(i, server.url, plan[i], barrier, timeout, done, answers, lock, connect))
               for i in range(clients)]
    for t in threads:
        t.start()
    mem_before, load_before = memory_mb(pid), [round(x, 2) for x in os.getloadavg()]
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass  # a client took over 300 s to connect: measure the others anyway
    t0, cpu0, busy0, own0 = time.perf_counter(), cpu_s(pid), busy_cpu_s(), own_cpu_s()
    for t in threads:
        t.join(timeout=timeout * per_client + 60)
    wall = time.perf_counter() - t0
    server_cpu, own = cpu_s(pid) - cpu0, own_cpu_s() - own0
    others = max(0.0, busy_cpu_s() - busy0 - server_cpu - own)
    mem_after = memory_mb(pid)

    expected = clients * per_client
    with lock:
        reqs = list(done)
    missing = expected - len(reqs)  # a client thread still stuck after its join timeout
    ok = [r for r in reqs if r.error is None]
    errors = [r.error for r in reqs if r.error] + ["no response (client hung)"] * missing
    kinds = Counter(e.split(":", 1)[0] if not e.startswith("record error") else "record error" for e in errors)
    return LoadResult(
        url=server.url, clients=clients, questions_per_client=per_client, requests=expected, errors=len(errors),
        error_kinds=dict(kinds),
        latency_ms=ms_stats([r.seconds * 1000 for r in ok]),
        server_latency_ms=ms_stats([r.server_ms for r in ok if r.server_ms is not None]),
        wall_s=round(wall, 3), throughput_rps=round(len(ok) / wall, 2) if wall > 0 else 0.0,
        refused=sum(1 for r in ok if r.refused),
        inconsistent_questions=sum(1 for v in answers.values() if len(v) > 1),
        connect_s=ms_stats(connect),
        startup_s=server.startup_s, memory_before=mem_before, memory_after=mem_after,
        server_cpu_cores=round(server_cpu / wall, 2) if wall > 0 else 0.0,
        clients_cpu_cores=round(own / wall, 2) if wall > 0 else 0.0,
        others_cores=round(others / wall, 2) if wall > 0 else 0.0,
        loadavg_before=load_before, loadavg_after=[round(x, 2) for x in os.getloadavg()],
        started=started,
        requests_detail=[asdict(r) for r in sorted(reqs, key=lambda r: (r.client, r.qid))],
    )


def ms_stats(xs: list[float]) -> dict[str, float]:
    return percentiles(xs) if xs else {"n": 0, "p50": 0.0, "p95": 0.0, "mean": 0.0, "max": 0.0}


def report(r: LoadResult) -> str:
    """A readable table of the run."""
    lat, srv = r.latency_ms, r.server_latency_ms
    rows = [
        ("requests (clients × questions)", f"{r.requests} ({r.clients} × {r.questions_per_client})"),
        ("errors", f"{r.errors}" + (f"  {r.error_kinds}" if r.errors else "")),
        ("latency p50 / p95 / max (client wall)", f"{lat['p50']:.0f} / {lat['p95']:.0f} / {lat['max']:.0f} ms"),
        ("latency mean", f"{lat['mean']:.0f} ms"),
        ("KB latency_ms p50 / p95 (inside the app)", f"{srv['p50']:.0f} / {srv['p95']:.0f} ms"),
        ("throughput", f"{r.throughput_rps:.2f} req/s over {r.wall_s:.1f} s"),
        ("refusals among the answers", f"{r.refused}"),
        ("questions with differing answers", f"{r.inconsistent_questions}"),
        ("client connect p50 / max", f"{r.connect_s.get('p50', 0):.2f} / {r.connect_s.get('max', 0):.2f} s"),
        ("app start-up until it answered", f"{r.startup_s:.1f} s"),
        ("app peak RSS (VmHWM, with children)",
         f"{r.memory_after['peak_rss_mb']:.0f} MB (before the run {r.memory_before['peak_rss_mb']:.0f} MB)"),
        ("app RSS after the run", f"{r.memory_after['rss_mb']:.0f} MB"),
        ("app CPU during the run", f"{r.server_cpu_cores:.2f} cores"),
        ("clients' CPU (this process)", f"{r.clients_cpu_cores:.2f} cores"),
        ("other processes' CPU meanwhile", f"{r.others_cores:.2f} cores"),
        ("load average before / after", f"{r.loadavg_before[0]:.2f} / {r.loadavg_after[0]:.2f}"),
    ]
    w = max(len(k) for k, _ in rows)
    head = f"Load benchmark {r.started}: {r.url} api_name=/ask, {os.cpu_count()} CPUs"
    return "\n".join([head, "-" * len(head), *(f"{k.ljust(w)}  {v}" for k, v in rows)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=20, help="concurrent gradio_client users")
    p.add_argument("--questions", type=int, default=10, help="questions each client asks, one after another")
    p.add_argument("--out", help="also write the results as JSON to this file")
    p.add_argument("--kb", help="KB directory for the app (default: KB_DIR or data/kb; built first if missing)")
    p.add_argument("--port", type=int, help="port for the app (default: a free one)")
    p.add_argument("--dataset", default=str(DATASET), help="JSON lines with 'question' (and 'category')")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds one request may take before it is an error")
    p.add_argument("--ready-timeout", type=float, default=600.0, help="seconds to wait for the app to answer")
    a = p.parse_args(argv)
    if a.clients < 1 or a.questions < 1:
        p.error("--clients and --questions must be at least 1")

    # A plain `kill` of the benchmark must still stop the app: SystemExit unwinds through the `with`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log_path = Path(a.out).with_suffix(".app.log") if a.out else None
    server = AppServer(a.port, Path(a.kb) if a.kb else None, a.ready_timeout, log_path)
    log(f"starting app.py on port {server.port} (log {server.log_path}) …")
    try:
        with server:
            log(f"app answered after {server.startup_s:.1f} s; {a.clients} clients × {a.questions} questions …")
            result = run_load(server, a.clients, a.questions, a.timeout, Path(a.dataset))
            log("stopping app.py …")
    except KeyboardInterrupt:  # the `with` has already stopped the app
        log("interrupted; app.py stopped")
        return 130
    print(report(result))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(asdict(result), ensure_ascii=False, indent=1), encoding="utf-8")
        log(f"written {a.out}")
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
