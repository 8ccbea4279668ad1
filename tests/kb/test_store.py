"""The KB on disk: round trip, freshness, corruption and a build killed midway."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.build import build
from indexer.version import status
from kb.core.settings import settings
from kb.service import KnowledgeBase
from kb.store import files as store

REPO = Path(__file__).resolve().parents[2]


def test_round_trip(kb, kb_dir):
    data = store.load(kb_dir)
    # the FAISS index holds every chunk and every sentence, each row mapped to its chunk
    assert data.meta.n_chunks == len(data.chunks)
    assert data.faiss_index.ntotal == len(data.chunks) + len(data.sentence_rows) == len(data.vector_owner)
    assert set(data.vector_owner.tolist()) == set(range(len(data.chunks)))
    assert data.meta.dim == kb.embedder.dim
    # the chunk that holds a known clause is found by each retriever on its own
    for mode in ("bm25", "dense", "hybrid"):
        hits = kb.search("到2025年建成加氢站多少座", k=5, mode=mode)
        assert any("建成加氢站30座" in h.text for h in hits), mode


def test_unknown_mode_lists_the_choices(kb):
    with pytest.raises(ValueError, match="hybrid, bm25, dense"):
        kb.search("加氢站", mode="sparse")


@pytest.fixture
def own_kb(tmp_path, kb, kb_dir):
    """A private copy of the corpus and of the session's KB (symlinks kept), so tests may break them."""
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    own = tmp_path / "kb"
    shutil.copytree(kb_dir, own, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
    assert status(settings(kb_dir=own, corpus_dir=corpus)) == "ok"
    return corpus, own


def test_stale_when_corpus_changes(own_kb):
    corpus, kb_dir = own_kb
    s = settings(kb_dir=kb_dir, corpus_dir=corpus)
    assert status(s) == "ok"
    with open(corpus / "zhejiang-nev-14th-fyp-2021.txt", "a", encoding="utf-8") as fh:
        fh.write("测试追加的一段文字（测试数据）。\n")
    assert status(s) == "stale"


def test_corrupt_kb_is_rebuilt(own_kb, kb, capsys):
    corpus, kb_dir = own_kb
    (store.current_dir(kb_dir) / store.FAISS_FILE).write_bytes(b"not a faiss index")
    reopened = KnowledgeBase.open(kb_dir=kb_dir, corpus_dir=corpus, embedder=kb.embedder)
    assert "损坏" in capsys.readouterr().err
    assert "30座" in reopened.ask("到2025年要建成多少座加氢站？").answer


def test_build_killed_midway_leaves_previous_kb_usable(own_kb, kb):
    corpus, kb_dir = own_kb
    before = store.current_dir(kb_dir)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "indexer", "build", "--force", "--kb", str(kb_dir),
                             "--corpus", str(corpus)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list((kb_dir / "builds").glob(".tmp-*")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let it write part of the new build
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list((kb_dir / "builds").glob(".tmp-*")), "the kill should have landed mid-build"
    assert store.current_dir(kb_dir) == before
    assert status(settings(kb_dir=kb_dir, corpus_dir=corpus)) == "ok"
    reopened = KnowledgeBase.open(kb_dir=kb_dir, corpus_dir=corpus, embedder=kb.embedder)
    assert "30座" in reopened.ask("到2025年要建成多少座加氢站？").answer
    # the next build cleans up what the killed one left
    build(settings(kb_dir=kb_dir, corpus_dir=corpus), progress=lambda f, m: None, force=True)
    assert not list((kb_dir / "builds").glob(".tmp-*"))


def test_llama_index_retriever_interface(kb):
    """The same ranking through llama-index's BaseRetriever API, nodes carrying doc_id and section."""
    nodes = kb.retriever.retrieve("到2025年建成加氢站多少座")
    assert len(nodes) == 10
    assert nodes[0].node.metadata["doc_id"] == "zhejiang-nev-14th-fyp-2021"
    assert [n.node.node_id for n in nodes] == [c.chunk_id for c, _ in kb.retriever.search("到2025年建成加氢站多少座")]
