"""The soak run (bench/soak.py) against the real app process, with real `indexer add/remove` processes meanwhile.

The short run (3 clients, 20 s, at least one add) is part of the slow suite; the 5-minute, 20-client run only
with `-m soak`. Memory is measured and reported by `python -m bench soak`, not asserted here.
"""
import pytest

from bench.soak import report, soak


def check(r):
    assert r.requests > 0 and r.failed == 0, (r.error_kinds, r.errors_detail)
    assert r.wrong_question == 0  # every answer record is the answer to the question its client sent
    assert r.ops and r.ops_failed == 0, r.ops
    assert all(r.consistency.values()), r.consistency
    assert r.final_docs == r.expected_docs
    assert "PASS: no failed request" in report(r)


def test_short_soak(kb, kb_dir, tmp_path):
    # `kb` has built the plan in kb_dir with this code and model: its per-document cache spares embedding it again.
    check(soak(clients=3, seconds=20, max_extra=1, seed_cache=kb_dir, log_path=tmp_path / "app.log"))


@pytest.mark.soak
def test_soak_20_clients_5_minutes(kb, kb_dir, tmp_path):
    check(soak(clients=20, seconds=300, max_extra=2, seed_cache=kb_dir, log_path=tmp_path / "app.log"))
