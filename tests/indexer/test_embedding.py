"""Passage vectors are kept by text: a change to the analysis code (a new artifact version) re-analyses every
document but embeds nothing whose text is unchanged, and a revised document embeds only its changed passages."""
from __future__ import annotations

from indexer import build as build_mod
from indexer.build import build
from kb.core.settings import settings
from tests.fixtures.docs import FICTIONAL_DOCS, write_fictional
from tests.indexer.test_library import QUIET, CountingEmbedder


def test_new_analysis_code_embeds_nothing_again(tmp_path, kb, monkeypatch):
    write_fictional(tmp_path / "corpus")
    s = settings(kb_dir=tmp_path / "kb", corpus_dir=tmp_path / "corpus")
    emb = CountingEmbedder(kb.embedder)
    build(s, progress=QUIET, embedder=emb)
    first = emb.passages
    assert first > 0
    monkeypatch.setattr(build_mod, "artifact_version", lambda: "another-analysis-code")
    build(s, progress=QUIET, embedder=emb, force=True)
    assert emb.passages == first  # every document analysed again, no passage embedded again

    # A revised document: only passages whose text changed are embedded.
    name = next(n for n, text in FICTIONAL_DOCS.items() if "3600个" in text)
    path = s.corpus_dir / name
    path.write_text(path.read_text(encoding="utf-8").replace("3600个", "4800个"), encoding="utf-8")
    build(s, progress=QUIET, embedder=emb)
    assert 0 < emb.passages - first < 10
