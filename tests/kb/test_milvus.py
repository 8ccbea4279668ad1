"""The Milvus backend against a real Milvus Lite: the same search results as the embedded backend, every filter key,
a document added and removed without a rebuild, a sync killed with SIGKILL finished by the next one.

The corpus is the plan plus the fictional documents of tests/fixtures/docs.py (【测试数据】). Milvus standalone or
cluster deployments are not tested here (README, "Milvus backend").
"""
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import bm25s
import pytest

from indexer.build import build, complete
from indexer.library import add_document, remove_document
from kb.core.settings import MilvusSettings, settings
from kb.retrieval.filters import DocFilter, parse_filters
from kb.retrieval.milvus import expression
from kb.service import KnowledgeBase
from kb.store import files as store
from kb.store.milvus import (
    MilvusStore,
    bm25_doc_weights,
    bm25_query_weights,
    open_store,
)
from tests.fixtures.docs import FICTIONAL_DOCS, write_fictional

REPO = Path(__file__).resolve().parents[2]
QUIET = lambda f, m: None  # noqa: E731
COUNTY = "test-county-notice-2097"
QUESTIONS = [
    "到2025年要建成多少座加氢站？", "全省新能源汽车产量目标是多少？", "杭州 智能网联汽车", "充电桩", "氢燃料电池汽车示范应用",
    "虚构市公共充电桩的建设目标是多少个？", "直流快充桩的建设补贴标准", "热失控测试有什么要求？", "虚构县换电站试点资金",
    "到25年动力电池产能", "省发展改革委负责什么", "V2G 车网互动",
]


def test_bm25_weights_give_the_bm25s_scores():
    """The sparse inner product of query and document weights is bm25s's score, repeated query tokens included."""
    corpus = [["加氢站", "建设", "加氢站"], ["充电桩", "建设"], ["换电站"], ["加氢站", "充电桩", "换电站", "补贴", "建设"]]
    bm = bm25s.BM25()
    bm.index(corpus, show_progress=False)
    avgdl = sum(map(len, corpus)) / len(corpus)
    df = Counter(t for doc in corpus for t in set(doc))
    idf = {t: __import__("math").log(1 + (len(corpus) - n + 0.5) / (n + 0.5)) for t, n in df.items()}
    for query in (["加氢站"], ["建设", "充电桩"], ["加氢站", "加氢站", "补贴"]):
        expected = bm.get_scores(query)
        q = bm25_query_weights(query, idf)
        for i, doc in enumerate(corpus):
            w = bm25_doc_weights(doc, avgdl)
            assert sum(v * w.get(t, 0.0) for t, v in q.items()) == pytest.approx(float(expected[i]), rel=1e-5)


@pytest.fixture(scope="module")
def milvus_kb(tmp_path_factory, kb, kb_dir):
    """The plan and two fictional documents (one of them superseded, for the validity filter), both backends."""
    root = tmp_path_factory.mktemp("milvus")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    for p in write_fictional(root / "fictional"):
        if p.stem != "test-national-guide-2098":  # kept back: the add/remove test adds it
            shutil.copy(p, corpus / p.name)
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest.append({"file": f"{COUNTY}.txt", "validity": "被替代"})
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    shutil.copytree(kb_dir / "docs", root / "kb" / "docs")  # the plan's cached artifacts: not embedded again
    s = settings(kb_dir=root / "kb", corpus_dir=corpus)
    build(s, progress=QUIET, embedder=kb.embedder)
    embedded = KnowledgeBase.open(kb_dir=s.kb_dir, corpus_dir=corpus, embedder=kb.embedder, backend="embedded")
    milvus = KnowledgeBase.open(kb_dir=s.kb_dir, corpus_dir=corpus, embedder=kb.embedder, backend="milvus")
    return root, embedded, milvus


def _ids(hits):
    return [h.chunk_id for h in hits]


def _same_ranking(a, b) -> None:
    """The same scores in the same order, and the same passages at each score. Passages with equal scores (common
    in BM25) are ordered arbitrarily by either engine, and the tie at the cut-off may take different members."""
    assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-4, abs=1e-6)
    groups: dict[float, tuple[set, set]] = {}
    for x, y in zip(a, b):
        g = groups.setdefault(round(x.score, 4), (set(), set()))
        g[0].add(x.chunk_id)
        g[1].add(y.chunk_id)
    last = round(a[-1].score, 4) if a else None
    assert all(ga == gb for score, (ga, gb) in groups.items() if score != last)


def test_collection_holds_every_vector(milvus_kb):
    _, embedded, milvus = milvus_kb
    data = embedded.data
    assert milvus.settings.milvus.uri == str(milvus.settings.kb_dir / "milvus.db")  # Milvus Lite inside the KB
    st = milvus.retriever.store
    assert st.count() == data.faiss_index.ntotal  # a row per chunk and per sentence
    assert st.count("is_chunk") == len(data.chunks)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_finds_what_the_embedded_backend_finds(milvus_kb, mode):
    _, embedded, milvus = milvus_kb
    for q in QUESTIONS:
        a, b = embedded.search(q, k=10, mode=mode), milvus.search(q, k=10, mode=mode)
        if mode != "hybrid":
            _same_ranking(a, b)  # the same BM25 scores and cosine similarities, not only the same order
        else:  # a tie in BM25 ordered differently moves fused ranks a little
            assert _ids(a)[:3] == _ids(b)[:3] and len(set(_ids(a)) & set(_ids(b))) >= 8, q


def test_answers_are_the_same(milvus_kb):
    _, embedded, milvus = milvus_kb
    for q in QUESTIONS:
        assert embedded.ask(q).answer == milvus.ask(q).answer, q
    assert "30座" in milvus.ask("到2025年要建成多少座加氢站？").answer


FILTERS = [["level=省级"], ["level=市级"], ["level=县级", "validity=全部"], ["region=虚构"], ["region=浙江"],
           ["issuer=发展和改革"], ["issuer=虚构市"], ["doc_type=规划"], ["doc_type=办法"], ["date_from=2021"],
           ["date_from=2099-02-16"], ["date_to=2021-04"], ["date_to=2097", "validity=全部"], ["date_to=2021-04-07"],
           ["validity=被替代"], ["validity=全部"], ["validity=废止"], ["doc_id=test-city-charging-2099"],
           ["region=虚_市"], ["issuer=%"], ['region=浙"江'], ["level=市级", "date_from=2099", "doc_type=办法"]]


@pytest.mark.parametrize("items", FILTERS, ids=lambda x: "&".join(x))
def test_every_filter_key_selects_the_same_documents(milvus_kb, items):
    """Each filter, as a Milvus expression, selects exactly the documents DocFilter.accepts; the filtered search
    equals the embedded backend's (wildcards and quotes in a value are taken literally)."""
    _, embedded, milvus = milvus_kb
    f = parse_filters(items)
    want = {d for d, doc in embedded.documents.items() if f.accepts(doc.meta)}
    rows = milvus.retriever.store.client.query(milvus.retriever.store.name, filter=expression(f) or 'doc_id != ""',
                                               output_fields=["doc_id"], limit=16384)
    assert {r["doc_id"] for r in rows} == want
    for q in ("充电设施建设补贴", "到2025年要建成多少座加氢站？"):
        a, b = embedded.search(q, k=5, mode="bm25", filters=f), milvus.search(q, k=5, mode="bm25", filters=f)
        _same_ranking(a, b)
        b = milvus.search(q, k=5, filters=f)
        assert {h.doc_id for h in b} <= want and (b or not want)


def test_every_filter_key_is_covered():
    keys = {i.split("=")[0] for items in FILTERS for i in items}
    assert keys == set(DocFilter.model_fields)


def test_add_and_remove_one_document_without_rebuild(milvus_kb):
    root, embedded, milvus = milvus_kb
    s = settings(kb_dir=root / "kb", corpus_dir=root / "corpus")
    st = milvus.retriever.store
    q = "热失控测试有什么要求？"
    before = st.count()
    assert "5分钟" not in milvus.ask(q).answer

    add_document(s, root / "fictional" / "test-national-guide-2098.txt", progress=QUIET, embedder=embedded.embedder)
    data = store.load(s.kb_dir)
    rep = st.sync(data, milvus.segmenter.tokens)
    added = data.faiss_index.ntotal - before
    assert rep.written == ["test-national-guide-2098"] and rep.deleted_rows == 0 and rep.rows == before + added
    assert milvus.reload() and embedded.reload()  # the reload's own sync finds nothing left to do
    assert "5分钟" in milvus.ask(q).answer
    _same_ranking(embedded.search(q, k=10, mode="dense"), milvus.search(q, k=10, mode="dense"))

    remove_document(s, "test-national-guide-2098", progress=QUIET, embedder=embedded.embedder)
    rep = st.sync(store.load(s.kb_dir), milvus.segmenter.tokens)
    assert rep.written == [] and rep.deleted_rows == added and rep.rows == before
    assert milvus.reload() and embedded.reload()
    assert "5分钟" not in milvus.ask(q).answer
    assert st.count('doc_id == "test-national-guide-2098"') == 0


def test_a_pending_document_is_found_by_keywords_never_by_its_zero_vectors(milvus_kb, tmp_path):
    """A staged add's first stage: the document's rows are in the collection (zero dense vectors, no sentence rows)
    and BM25 finds it; the dense search leaves it out until its vectors are there, then finds it as FAISS does."""
    root, embedded, milvus = milvus_kb
    s = settings(kb_dir=root / "kb", corpus_dir=root / "corpus")
    src = tmp_path / "test-pending-guide-2098.txt"  # text the vector memo does not know: it stays pending
    src.write_text(FICTIONAL_DOCS["test-national-guide-2098.txt"].replace("5分钟", "8分钟").replace("7号", "9号"),
                   encoding="utf-8")
    add_document(s, src, progress=QUIET, embedder=embedded.embedder, finish=False)
    assert milvus.reload() and embedded.reload() and milvus.data.pending == {src.stem}
    st = milvus.retriever.store
    assert st.count(f'doc_id == "{src.stem}"') == st.count(f'doc_id == "{src.stem}" and is_chunk') > 0
    q = "热失控测试有什么要求？"
    assert src.stem in {h.doc_id for h in milvus.search(q, k=5, mode="bm25")}
    assert "8分钟" in milvus.ask(q).answer
    assert src.stem not in {h.doc_id for h in milvus.search(q, k=50, mode="dense")}
    assert milvus.retriever.restricted({src.stem}).dense_ranking(q) == []

    complete(s, QUIET, embedded.embedder)
    assert milvus.reload() and embedded.reload() and not milvus.data.pending
    assert st.count(f'doc_id == "{src.stem}"') > st.count(f'doc_id == "{src.stem}" and is_chunk')  # sentences too
    _same_ranking(embedded.search(q, k=10, mode="dense"), milvus.search(q, k=10, mode="dense"))
    assert src.stem in {h.doc_id for h in milvus.search(q, k=5, mode="dense")}
    remove_document(s, src.stem, progress=QUIET, embedder=embedded.embedder)
    assert milvus.reload() and embedded.reload()


SYNC_SCRIPT = """
import sys
from pathlib import Path
from kb.core.logs import configure
from kb.core.segment import segmenter
from kb.core.settings import MilvusSettings
from kb.store import files
from kb.store.milvus import MilvusStore
configure("DEBUG")
data = files.load(Path(sys.argv[1]))
MilvusStore(MilvusSettings(uri=sys.argv[2], collection="resume", batch_rows=8)).sync(
    data, segmenter(tuple(data.meta.terms)).tokens)
"""


def test_sync_killed_midway_is_finished_by_the_next(milvus_kb, tmp_path):
    root, embedded, milvus = milvus_kb
    data = embedded.data
    uri = str(tmp_path / "resume.db")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", SYNC_SCRIPT, str(root / "kb"), uri], cwd=REPO, env=env,
                            stderr=subprocess.PIPE, text=True)
    done: list[str] = []
    for line in proc.stderr:  # kill it in the middle of the second document, after one was written completely
        if "Milvus：已写入文档" in line:
            done.append(line)
        elif done and "Milvus upsert" in line:
            proc.kill()
            break
    proc.wait()
    assert proc.returncode == -9 and len(done) == 1, "the kill should have landed in the second document"

    st = MilvusStore(MilvusSettings(uri=uri, collection="resume"))
    partial = st.count()
    assert 0 < partial < data.faiss_index.ntotal
    rep = st.sync(data, milvus.segmenter.tokens)
    first = done[0].split("已写入文档 ")[1].split("（")[0]
    assert first not in rep.written and rep.written  # the complete document is kept, the rest written
    assert rep.rows == data.faiss_index.ntotal
    assert st.sync(data, milvus.segmenter.tokens).written == []  # and nothing is left to do
    st.close()


def test_a_second_process_on_the_same_lite_file_gets_a_clear_message(milvus_kb):
    root, _, milvus = milvus_kb
    assert open_store(milvus.settings.milvus) is milvus.retriever.store  # this process holds the Lite file open
    env = dict(os.environ, PYTHONPATH=str(REPO), KB_BACKEND="milvus")
    out = subprocess.run([sys.executable, "-m", "kb", "ask", "--kb", str(root / "kb"), "加氢站"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 2
    assert "错误：Milvus Lite 数据文件" in out.stderr and "正被另一个进程使用" in out.stderr and "MILVUS_URI" in out.stderr
    assert "Traceback" not in out.stderr
