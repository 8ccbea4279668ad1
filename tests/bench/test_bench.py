"""The benchmark's pure parts: percentiles, build-stage parsing, and that SYNTHETIC data is labelled, consistent and repeatable."""
from bench import synthetic
from bench.__main__ import Run, build_stages
from bench.probes import percentiles


def test_percentiles_interpolate():
    p = percentiles([float(x) for x in range(1, 101)])
    assert (p["n"], p["p50"], p["p95"], p["mean"], p["max"]) == (100, 50.5, 95.05, 50.5, 100.0)


def test_build_stages_sum_progress_gaps_without_counts():
    r = Run(wall_s=10.0, peak_rss_mb=1.0, cpu_s=1.0, others_cores=0.0, stderr=[
        (1.0, "[ 86%] 合并索引"), (2.0, "[ 25%] 计算段落向量 0/83（plan.txt）"),
        (3.0, "some warning"), (4.0, "[ 71%] 计算段落向量 64/83（plan.txt）"), (6.0, "[100%] 知识库已建立：1 篇文档")])
    stages = build_stages(r)
    assert stages["jieba + BM25, FAISS, write KB"] == 1.0
    assert stages["embed chunks"] == 4.0
    assert stages["start-up (interpreter + indexer imports)"] == 1.0
    assert sum(stages.values()) == 10.0


def test_synthetic_kb_is_labelled_consistent_and_deterministic():
    kb = synthetic.generate(1500, seed=1)
    assert kb == synthetic.generate(1500, seed=1)
    assert len(kb.documents) == 2 and len(kb.chunks) == len(kb.paragraphs) == 1500
    assert all(d.meta.title.startswith(synthetic.LABEL) and d.meta.issuer == synthetic.ISSUER for d in kb.documents)
    assert all(c.section[0].startswith(synthetic.LABEL) for c in kb.chunks)
    docs = {d.meta.doc_id: d.text for d in kb.documents}
    for c in kb.chunks[:50] + kb.chunks[-50:]:  # offsets point into the document text, as the indexer's do
        assert docs[c.doc_id][c.start : c.end] == c.text
    for p, s in kb.sentence_rows()[:100]:
        assert docs[p.doc_id][s.start : s.end] == s.text


def test_whole_bench_runs_end_to_end_at_a_tiny_scale(tmp_path):
    """`python -m bench` with every step (builds, cold ask, the web app's start, warm questions, SYNTHETIC scale run
    through the IVF index, embedding rate, library add/replace/remove) at a tiny size: a step that breaks fails here,
    not in a release."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "results"
    subprocess.run([sys.executable, "-m", "bench", "--out", str(out), "--scale", "1500", "--embed-sample", "8",
                    "--library-chars", "3000", "--flat-max-rows", "0"], cwd=repo, check=True, timeout=3600)
    r = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert r["scale_build"]["n_chunks"] == 1500 and r["scale_build"]["faiss_kind"] == "IndexIVFScalarQuantizer"
    assert 0.0 < r["scale"]["dense_recall"]["recall"] <= 1.0 and r["scale"]["dense_recall"]["sweep"] and r["scale"]["errors"] == 0
    assert r["query"]["errors"] == 0 and r["library"]["add_chars"] == 3000
    md = (out / "latest.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in md and "3d. `kb ask`" in md and "7. library" in md and "3e. Web app" in md
    assert "30座" in r["app"]["answer"] and r["app"]["wall_s"] > 0
