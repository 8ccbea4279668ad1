"""The KB on disk: round trip, freshness, corruption and a build killed midway."""
import logging
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
from tests.indexer.test_library import CountingEmbedder

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


def test_corrupt_kb_is_rebuilt(own_kb, kb, caplog):
    corpus, kb_dir = own_kb
    (store.current_dir(kb_dir) / store.FAISS_FILE).write_bytes(b"not a faiss index")
    with caplog.at_level(logging.INFO):  # the notice users read on stderr (kb.core.logs) is an INFO record
        reopened = KnowledgeBase.open(kb_dir=kb_dir, corpus_dir=corpus, embedder=kb.embedder)
    assert "损坏" in caplog.text
    assert "30座" in reopened.ask("到2025年要建成多少座加氢站？").answer


def test_build_killed_midway_leaves_previous_kb_usable(own_kb, kb):
    corpus, kb_dir = own_kb
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # With every vector cached a build assembles in well under a second, so the kill must land between the
    # temporary folder's creation and its rename: the build is frozen (SIGSTOP) the moment the folder appears,
    # then killed. A build that got through anyway is simply tried again.
    for _attempt in range(5):
        before = store.current_dir(kb_dir)
        proc = subprocess.Popen([sys.executable, "-m", "indexer", "build", "--force", "--kb", str(kb_dir),
                                 "--corpus", str(corpus)], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not list((kb_dir / "builds").glob(".tmp-*")) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(signal.SIGSTOP)
        landed = bool(list((kb_dir / "builds").glob(".tmp-*")))
        proc.kill()
        proc.wait()
        if landed:
            break
    assert landed, "the kill should have landed mid-build"
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


def test_answering_imports_no_deep_learning_stack(kb, kb_dir):
    """A fresh process opens the KB and answers with neither torch, sentence-transformers nor llama-index loaded."""
    code = ("import sys; from kb.service import KnowledgeBase; "
            f"kb = KnowledgeBase.open(kb_dir={str(kb_dir)!r}, corpus_dir={str(REPO / 'corpus')!r}); "
            "r = kb.ask('到2025年要建成多少座加氢站？'); assert '30座' in r.answer, r.answer; "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'llama_index', 'jieba.cache')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr[-2000:]


def test_warm_answering_uses_onnx_runtime_without_the_deep_learning_stack(kb, kb_dir):
    """A long-running process (open with warm=True) switches questions to ONNX Runtime, still without torch."""
    code = ("import sys; from kb.service import KnowledgeBase; "
            f"kb = KnowledgeBase.open(kb_dir={str(kb_dir)!r}, corpus_dir={str(REPO / 'corpus')!r}, warm=True); "
            "print(kb.embedder.engine(wait=True)); "
            "r = kb.ask('到2025年要建成多少座加氢站？'); assert '30座' in r.answer, r.answer; "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'llama_index')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["onnx", "[]"], out.stderr[-2000:]


def test_stored_dictionary_segments_as_jieba_does(kb):
    """The KB's SQLite word table gives exactly the tokens of jieba's full dictionary with the same terms."""
    from kb.core.segment import Segmenter

    data = kb.data
    stored, full = Segmenter(data.meta.terms, dictionary=data.dictionary), Segmenter(data.meta.terms)
    texts = [c.text for c in data.chunks[:40]] + ["到2025年要建成多少座加氢站？", "那充电桩呢？", "BMS和V2G技术"]
    for t in texts:
        assert stored.tokens(t) == full.tokens(t)


def test_ivf_index_finds_what_the_exact_scan_finds(kb):
    """Above the size threshold the index is IVF-SQ8 re-scored exactly: its dense top 10 matches the flat scan's."""
    from dataclasses import replace

    import faiss

    from kb.core.settings import IndexSettings
    from kb.retrieval.hybrid import HybridRetriever

    data = kb.data
    ivf_data = replace(data, faiss_index=store.dense_index(data.vectors, IndexSettings(flat_max_rows=0)))
    assert isinstance(ivf_data.faiss_index, faiss.IndexIVF)
    flat = HybridRetriever(data, kb.segmenter, kb._embed_query)
    ivf = HybridRetriever(ivf_data, kb.segmenter, kb._embed_query)
    questions = ["到2025年要建成多少座加氢站？", "充电基础设施建设", "动力电池回收利用", "智能网联汽车测试示范",
                 "新能源汽车产量目标", "燃料电池汽车推广"]
    overlap = [len({i for i, _ in flat.dense_ranking(q)[:10]} & {i for i, _ in ivf.dense_ranking(q)[:10]}) / 10
               for q in questions]
    assert sum(overlap) / len(overlap) >= 0.98, overlap


def test_a_revised_document_re_embeds_only_its_changed_text(own_kb, kb):
    """One paragraph of the plan changed: the rebuild embeds that paragraph's chunk and sentences, nothing else,
    and the KB's vectors of the unchanged text are the ones it had."""
    corpus, kb_dir = own_kb
    plan = corpus / "zhejiang-nev-14th-fyp-2021.txt"
    lines = plan.read_text(encoding="utf-8").split("\n")
    i = next(n for n, line in enumerate(lines) if "建成加氢站30座" in line)
    lines[i] += "（测试修订）"
    plan.write_text("\n".join(lines), encoding="utf-8")
    before = store.load(kb_dir)
    emb = CountingEmbedder(kb.embedder)
    build(settings(kb_dir=kb_dir, corpus_dir=corpus), progress=lambda f, m: None, embedder=emb)
    after = store.load(kb_dir)
    changed = [c for c in after.chunks if "测试修订" in c.text]
    assert changed and 0 < emb.passages <= len(changed) * 6  # its chunk(s) and their sentences only
    same = {c.index_text: i for i, c in enumerate(before.chunks)}
    for j, c in enumerate(after.chunks):
        if c.index_text in same:
            assert float(after.vectors[j] @ before.vectors[same[c.index_text]]) > 0.99999
