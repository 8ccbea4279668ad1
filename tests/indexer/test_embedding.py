"""Passage vectors are kept by text: a change to the analysis code (a new artifact version) re-analyses every
document but embeds nothing whose text is unchanged, and a revised document embeds only its changed passages."""
from __future__ import annotations

from indexer import build as build_mod
from indexer.build import build
from indexer.vectors import VECTORS_MEMO
from kb.core.settings import REPO, settings
from tests.fixtures.docs import FICTIONAL_DOCS, write_fictional
from tests.indexer.test_library import QUIET, CountingEmbedder


def test_new_analysis_code_embeds_nothing_again(tmp_path, kb, monkeypatch):
    write_fictional(tmp_path / "corpus")
    s = settings(kb_dir=tmp_path / "kb", corpus_dir=tmp_path / "corpus")
    emb = CountingEmbedder(kb.embedder)
    build(s, progress=QUIET, embedder=emb)
    first = emb.passages
    assert first > 0
    monkeypatch.setattr(build_mod, "artifact_version", lambda s: "another-analysis-code")
    build(s, progress=QUIET, embedder=emb, force=True)
    assert emb.passages == first  # every document analysed again, no passage embedded again

    # A revised document: only passages whose text changed are embedded.
    name = next(n for n, text in FICTIONAL_DOCS.items() if "3600个" in text)
    path = s.corpus_dir / name
    path.write_text(path.read_text(encoding="utf-8").replace("3600个", "4800个"), encoding="utf-8")
    build(s, progress=QUIET, embedder=emb)
    assert 0 < emb.passages - first < 10


def test_fully_cached_rebuild_imports_no_torch(tmp_path, kb):
    """Every passage vector is in the memo: a rebuild (here with the per-document cache gone, so every document is
    analysed again) reads the model's id from its folder and never imports torch or sentence-transformers."""
    import json
    import shutil
    import sqlite3
    import subprocess
    import sys

    write_fictional(tmp_path / "corpus")
    s = settings(kb_dir=tmp_path / "kb", corpus_dir=tmp_path / "corpus")
    build(s, progress=QUIET, embedder=kb.embedder)
    meta = json.loads((s.kb_dir / "current" / "meta.json").read_text(encoding="utf-8"))
    memo = s.kb_dir / VECTORS_MEMO
    with sqlite3.connect(memo) as db:
        n_vectors = db.execute("SELECT COUNT(*) FROM vec").fetchone()[0]
    shutil.rmtree(s.kb_dir / "docs")
    code = ("import json, sys\nfrom indexer.build import build\nfrom kb.core.settings import settings\n"
            f"build(settings(kb_dir={str(s.kb_dir)!r}, corpus_dir={str(s.corpus_dir)!r}), force=True)\n"
            "print(json.dumps(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    rebuilt = json.loads((s.kb_dir / "current" / "meta.json").read_text(encoding="utf-8"))
    assert rebuilt["model_id"] == meta["model_id"] == kb.embedder.model_id  # the files' id is the loaded model's
    with sqlite3.connect(memo) as db:  # nothing was cleared or embedded again
        assert db.execute("SELECT COUNT(*) FROM vec").fetchone()[0] == n_vectors
