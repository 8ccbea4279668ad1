"""The load benchmark at tiny size (3 clients × 2 questions) against the real app process: no errors, sane results"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from bench.load import AppServer, LoadResult, assign, question_pool, report, run_load

CLIENTS, QUESTIONS = 3, 2


@pytest.fixture(scope="module")
def run(kb, kb_dir: Path, tmp_path_factory) -> tuple[LoadResult, AppServer]:
    # `kb` builds the session's KB in kb_dir; the app process opens that same directory.
    server = AppServer(kb_dir=kb_dir, ready_timeout=300, log_path=tmp_path_factory.mktemp("load") / "app.log")
    with server:
        result = run_load(server, CLIENTS, QUESTIONS, timeout=120)
    return result, server


def test_tiny_load_has_no_errors_and_well_formed_results(run):
    r, _ = run
    assert r.errors == 0, (r.error_kinds, [d for d in r.requests_detail if d["error"]])
    assert r.requests == CLIENTS * QUESTIONS == len(r.requests_detail) == r.latency_ms["n"]
    assert 0 < r.latency_ms["p50"] <= r.latency_ms["p95"] <= r.latency_ms["max"]
    assert r.server_latency_ms["n"] == r.requests and r.server_latency_ms["p50"] > 0
    assert r.throughput_rps > 0 and r.wall_s > 0
    assert r.memory_after["peak_rss_mb"] >= r.memory_before["peak_rss_mb"] > 100  # the model alone is more
    assert sorted({d["client"] for d in r.requests_detail}) == list(range(CLIENTS))
    assert 1 <= r.refused < r.requests  # the question mix has refusals and answers (see question_pool)
    assert r.inconsistent_questions == 0
    text = report(r)
    assert "p50 / p95 / max" in text and "errors" in text
    json.dumps(asdict(r), ensure_ascii=False)  # what --out writes


def test_server_is_stopped_afterwards(run):
    _, server = run
    assert server.proc is not None and server.proc.poll() is not None


def test_question_mix_is_varied_and_covers_the_dev_set():
    plan = assign(question_pool(), 20, 10)
    asked = [q for client in plan for q in client]
    assert len(asked) == 200 and len({q.id for q in asked}) == 132  # every dev question at least once
    assert any(not q.answerable for q in asked) and len({q.category for q in asked}) == 10
    assert any(not q.answerable for q in assign(question_pool(), 3, 2)[0])  # so the tiny run above has a refusal
