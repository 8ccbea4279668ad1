"""The document library on real files, the real model and real indexes: add, replace, remove, bad input, formats.

All documents except the plan are fictional test data (tests/fixtures/docs.py and FICTIONAL_PROVINCIAL below).
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build, complete, corpus_documents, pending
from indexer.library import SEARCHABLE, LibraryError, add_document, list_documents, remove_document
from indexer.version import artifact_version
from kb.core.segment import normalize
from kb.core.settings import settings
from kb.retrieval.filters import parse_filters
from kb.service import KnowledgeBase
from kb.store import files as store
from kb.store.artifacts import DocCache
from tests.fixtures.docs import (
    FICTIONAL_DOCS,
    PLAN_TITLE,
    plan_text,
    write_docx,
    write_fictional,
    write_pdf,
    write_scanned_pdf,
)

REPO = Path(__file__).resolve().parents[2]
CITY = "test-city-charging-2099"
QUIET = lambda f, m: None  # noqa: E731
# A fictional provincial document on the same point as the fictional national guide, for answers from two levels.
FICTIONAL_PROVINCIAL = """虚测省发〔2099〕2号
【测试数据】虚构省动力电池安全测试实施细则
本文件为虚构的测试数据，不是真实政策，仅用于软件测试。
一、测试要求
（一）热失控
1．热失控测试：单体触发后10分钟内电池包不得起火、爆炸，并应发出报警信号。
二、组织实施
由虚构省测试厅负责组织全省虚构企业的抽检工作。

虚构省测试厅
2099年1月5日
"""


class CountingEmbedder:
    """The real embedder, counting the passages it embeds (to see that unchanged documents are not re-embedded)."""

    def __init__(self, inner):
        self.inner, self.passages = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, texts, batch_size=32):
        self.passages += len(texts)
        return self.inner.embed_passages(texts, batch_size=batch_size)


@pytest.fixture(scope="module")
def lib(tmp_path_factory, kb):
    root = tmp_path_factory.mktemp("library")
    write_fictional(root / "corpus")
    s = settings(kb_dir=root / "kb", corpus_dir=root / "corpus")
    emb = CountingEmbedder(kb.embedder)
    build(s, progress=QUIET, embedder=emb)
    return s, emb


def open_kb(s, emb) -> KnowledgeBase:
    return KnowledgeBase.open(kb_dir=s.kb_dir, corpus_dir=s.corpus_dir, embedder=emb.inner)


def snapshot(s, emb, questions):
    k = open_kb(s, emb)
    answers = [k.ask(q).model_dump(exclude={"latency_ms"}) for q in questions]
    files = sorted((p.name, p.read_bytes()) for p in s.corpus_dir.iterdir())
    return answers, files, (s.kb_dir / "current").resolve()


def test_unchanged_documents_are_not_embedded_again(lib):
    s, emb = lib
    before = emb.passages
    build(s, progress=QUIET, embedder=emb, force=True)
    assert emb.passages == before
    assert len(list((s.kb_dir / "docs").iterdir())) == len(FICTIONAL_DOCS)


def test_add_replace_remove_answers_follow(lib, tmp_path):
    s, emb = lib
    q = "虚构市公共充电桩的建设目标是多少个？"
    k = open_kb(s, emb)
    assert "3600个" in k.ask(q).answer

    # Replace with a revised version: only the new file is embedded; answers come from it.
    rev = tmp_path / "test-city-charging-2099-rev.txt"
    rev.write_text(FICTIONAL_DOCS[f"{CITY}.txt"].replace("3600个", "4800个").replace("补贴办法", "补贴办法（修订）"),
                   encoding="utf-8")
    before = emb.passages
    m = add_document(s, rev, replace=CITY, progress=QUIET, embedder=emb)
    new_id = m.doc_id
    n_sentences = sum(1 for line in rev.read_text(encoding="utf-8").splitlines() if line.strip())
    assert 0 < emb.passages - before < 4 * n_sentences  # this document's chunks and sentences only
    assert m.title.endswith("（修订）") and m.level == "市级" and m.doc_number == "虚测发〔2099〕1号"
    metas = {d.doc_id: d for d in list_documents(s)}
    assert metas[CITY].validity == "被替代" and metas[CITY].replaced_by == new_id
    assert k.reload()
    rec = k.ask(q)
    assert "4800个" in rec.answer and "3600个" not in rec.answer
    assert {c.doc_id for c in rec.citations} == {new_id}
    assert all(r.doc_id != CITY for r in rec.retrieved)  # the superseded version is out of answers...
    old = k.ask(q, filters=parse_filters(["validity=被替代"]))
    assert "3600个" in old.answer and {c.doc_id for c in old.citations} == {CITY}  # ...unless asked for

    # Remove the old version, then the new one: nothing of either remains anywhere.
    remove_document(s, CITY, progress=QUIET, embedder=emb)
    assert not (s.corpus_dir / f"{CITY}.txt").exists()
    assert list((s.kb_dir / "removed").glob(f"*{CITY}.txt"))  # kept aside, not destroyed
    k.reload()
    rec = k.ask(q, filters=parse_filters(["validity=全部"]))
    assert all(r.doc_id != CITY for r in rec.retrieved)
    remove_document(s, new_id, progress=QUIET, embedder=emb)
    k.reload()
    rec = k.ask(q, filters=parse_filters(["validity=全部"]))
    assert "4800个" not in rec.answer and "3600个" not in rec.answer
    assert {r.doc_id for r in rec.retrieved} <= {Path(n).stem for n in FICTIONAL_DOCS} - {CITY}
    assert {d.doc_id for d in list_documents(s)} == {Path(n).stem for n in FICTIONAL_DOCS} - {CITY}
    assert len(list((s.kb_dir / "docs").iterdir())) == len(FICTIONAL_DOCS) - 1  # no stale cache entries
    manifest = json.loads((s.corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in manifest} == {n for n in FICTIONAL_DOCS if not n.startswith(CITY)}


REGULATION = REPO / "eval" / "corpus" / "end-of-life-vehicle-recycling-measures-2019.md"  # real, 31 articles


def _rows_of(data, doc_id: str) -> np.ndarray:
    """The vector rows (chunks and sentences) of one document."""
    mine = np.array([c.doc_id == doc_id for c in data.chunks])
    return np.flatnonzero(mine[data.vector_owner])


def test_a_staged_add_is_searchable_before_its_vectors_exist_then_complete(lib, tmp_path):
    """Stage 1 commits a KB in which the new document is found by keywords and addresses, its vectors pending (zero
    rows the dense arm never returns, sentences without rows); stage 2 embeds it and gives what a full build gives."""
    s, emb = lib
    doc_id, before = REGULATION.stem, emb.passages
    said = []
    m = add_document(s, REGULATION, progress=lambda f, msg: said.append(msg), embedder=emb, finish=False)
    assert m.doc_id == doc_id and SEARCHABLE in said
    assert emb.passages == before  # nothing embedded inside the transaction
    assert pending(s) == [doc_id]
    cache = DocCache(s.kb_dir / "docs", s.embed_model, artifact_version(s))
    key = next(k for p, e, k in corpus_documents(s.corpus_dir, cache) if p.name == REGULATION.name)
    assert cache.get(key) is None  # the pending artifacts are not cached as complete

    k = open_kb(s, emb)
    data = k.data
    assert data.pending == {doc_id} and not np.asarray(data.vectors[_rows_of(data, doc_id)]).any()
    assert not [sp for p in data.paragraphs[doc_id] for sp in p.sentences if (doc_id, sp.start) in data.sentence_rows]
    rec = k.ask("报废机动车回收管理办法第十条是怎么规定的？")  # the address, from the structure
    assert "逐车登记机动车的型号" in rec.answer and {c.doc_id for c in rec.citations} == {doc_id}
    rec = k.ask("报废机动车回收企业发现回收的车辆疑似赃物，应当向哪个部门报告？")  # BM25
    assert "公安机关" in rec.answer and doc_id in {c.doc_id for c in rec.citations}
    questions = ["报废机动车回收企业应当具备哪些条件", "回收的报废机动车疑似赃物怎么办", "充电桩建设补贴"]
    for q in questions:  # the dense arm never returns a pending document's rows, even when asked for it alone
        assert all(data.chunks[i].doc_id != doc_id for i, _ in k.retriever.dense_ranking(q, depth=len(data.chunks)))
        assert k.retriever.restricted({doc_id}).dense_ranking(q) == []

    assert complete(s, QUIET, emb) == [doc_id]
    assert pending(s) == [] and emb.passages > before and cache.get(key) is not None
    assert k.reload() and not k.data.pending
    assert data.chunks[k.retriever.dense_ranking(questions[0])[0][0]].doc_id == doc_id
    full = settings(kb_dir=tmp_path / "full", corpus_dir=s.corpus_dir)
    build(full, progress=QUIET, embedder=emb.inner)  # from nothing: every document embedded afresh
    staged, whole = store.load(s.kb_dir), store.load(full.kb_dir)
    assert np.array_equal(staged.vector_owner, whole.vector_owner)
    assert np.array_equal(np.asarray(staged.vectors), np.asarray(whole.vectors))
    assert k.ask(questions[0]).model_dump(exclude={"latency_ms"}) == \
        open_kb(full, emb).ask(questions[0]).model_dump(exclude={"latency_ms"})
    remove_document(s, doc_id, progress=QUIET, embedder=emb)


def test_unstaged_add_embeds_inside_the_transaction(lib, monkeypatch):
    s, emb = lib
    monkeypatch.setenv("STAGED_ADD", "0")
    unstaged = settings(kb_dir=s.kb_dir, corpus_dir=s.corpus_dir)
    assert unstaged.library.staged_add is False
    said = []
    m = add_document(unstaged, REGULATION, progress=lambda f, msg: said.append(msg), embedder=emb, finish=False)
    assert pending(s) == [] and SEARCHABLE not in said and any("向量完成" in x for x in said)
    remove_document(unstaged, m.doc_id, progress=QUIET, embedder=emb)


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (300 << 20))  # 300 MB of zeros, about 300 KB packed
    return path


BAD = {
    "corrupt.pdf": (lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage"), "PDF"),
    "corrupt.docx": (lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "docx"),
    "scanned.pdf": (write_scanned_pdf, "可能为扫描件"),
    "empty.txt": (lambda p: p.write_bytes(b""), "为空"),
    "huge.txt": (lambda p: (p.write_bytes(b""), os.truncate(p, 200 << 20)), "MB"),  # sparse: costs no disk
    "program.exe": (lambda p: p.write_bytes(b"MZ\x90\x00"), ".docx"),
    "bomb.docx": (_zip_bomb, ""),
    "page.txt": (lambda p: p.write_text("<html><body><script>alert(1)</script>正文</body></html>", encoding="utf-8"),
                 ".html"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_changes_nothing(lib, tmp_path, name):
    s, emb = lib
    make, expected = BAD[name]
    path = tmp_path / name
    make(path)
    questions = ["虚构县换电站建设目标是多少座？", "热失控测试有什么要求？"]
    before = snapshot(s, emb, questions)
    with pytest.raises(LibraryError) as err:
        add_document(s, path, progress=QUIET, embedder=emb)
    assert expected in str(err.value) and any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value))
    assert snapshot(s, emb, questions) == before


def test_path_traversal_name_is_refused(lib, tmp_path):
    s, emb = lib
    src = tmp_path / "x.txt"
    src.write_text(FICTIONAL_DOCS[f"{CITY}.txt"], encoding="utf-8")
    files = sorted(p.name for p in s.corpus_dir.iterdir())
    with pytest.raises(LibraryError, match="文件名"):
        add_document(s, src, name="../../x.txt", progress=QUIET, embedder=emb)
    assert sorted(p.name for p in s.corpus_dir.iterdir()) == files
    assert not (s.corpus_dir.parent.parent / "x.txt").exists()


def test_national_and_provincial_clauses_are_both_cited(kb, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "test-national-guide-2098.txt").write_text(FICTIONAL_DOCS["test-national-guide-2098.txt"],
                                                         encoding="utf-8")
    (corpus / "test-province-rules-2099.txt").write_text(FICTIONAL_PROVINCIAL, encoding="utf-8")
    k = KnowledgeBase.open(kb_dir=tmp_path / "kb", corpus_dir=corpus, embedder=kb.embedder)
    rec = k.ask("热失控测试有什么要求？")
    levels = {c.doc_id: c.level for c in rec.citations}
    assert levels == {"test-national-guide-2098": "国家级", "test-province-rules-2099": "省级"}
    assert "（国家级）" in rec.answer and "（省级）" in rec.answer
    assert "5分钟" in rec.answer and "10分钟" in rec.answer
    only = k.ask("热失控测试有什么要求？", filters=parse_filters(["level=省级"]))
    assert {c.doc_id for c in only.citations} == {"test-province-rules-2099"}


QUESTIONS = [
    "到2025年全省新能源汽车产量目标是多少？",
    "到2025年要建成多少座加氢站？",
    "动力电池与管理系统领域预计完成投资多少？",
    "L2级别以上智能汽车技术新车渗透率要达到多少？",
    "保障措施包括哪几个方面？",
    "省发展改革委负责什么工作？",
]


def test_docx_and_pdf_versions_cite_the_same_clauses(kb, tmp_path):
    """The plan as .docx and as .pdf, in one KB: each answers as the .txt does, and PDF citations carry pages."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_docx(plan_text(), corpus / "plan-docx.docx")
    pages = write_pdf(plan_text(), corpus / "plan-pdf.pdf")
    (corpus / "manifest.json").write_text(json.dumps(
        [{"file": "plan-docx.docx", "title": PLAN_TITLE}, {"file": "plan-pdf.pdf", "title": PLAN_TITLE}],
        ensure_ascii=False), encoding="utf-8")
    k = KnowledgeBase.open(kb_dir=tmp_path / "kb", corpus_dir=corpus, embedder=kb.embedder)
    assert {d.meta.level for d in k.documents.values()} == {"省级"}  # read from the text, not the manifest
    pdf_pages = ["".join(p.split()) for p in pages]
    for q in QUESTIONS:
        want = [(c.section, c.quote) for c in kb.ask(q).citations]
        for doc_id in ("plan-docx", "plan-pdf"):
            rec = k.ask(q, filters=parse_filters([f"doc_id={doc_id}"]))
            got = [(c.section, c.quote) for c in rec.citations]
            assert [(sec, normalize("".join(qt.split()))) for sec, qt in got] == \
                   [(sec, normalize("".join(qt.split()))) for sec, qt in want], (doc_id, q)
            for c in rec.citations:
                assert k.documents[doc_id].text[c.start:c.end] == c.quote
                if doc_id == "plan-pdf":
                    head = "".join(c.quote.split())[:6]
                    assert c.page and head in pdf_pages[c.page - 1], (q, c.page, c.quote)
                else:
                    assert c.page is None


def test_cli_list_remove_and_a_refused_add(lib, tmp_path):
    s, emb = lib
    base = [sys.executable, "-m", "indexer"]
    where = ["--kb", str(s.kb_dir), "--corpus", str(s.corpus_dir)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(base + ["list", "--json"] + where, capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 0, out.stderr
    ids = {d["doc_id"] for d in json.loads(out.stdout)}
    bad = tmp_path / "empty.md"
    bad.write_text("  \n", encoding="utf-8")
    out = subprocess.run(base + ["add", str(bad)] + where, capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 2 and "错误" in out.stderr and "为空" in out.stderr
    victim = sorted(ids)[0]
    out = subprocess.run(base + ["remove", victim] + where, capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 0, out.stderr
    assert victim not in {d.doc_id for d in list_documents(s)}
    out = subprocess.run(base + ["remove", "no-such-doc"] + where, capture_output=True, text=True, cwd=REPO, env=env)
    assert out.returncode == 2 and "文档不存在" in out.stderr


def test_unknown_level_is_refused_before_reading(lib, tmp_path):
    s, emb = lib
    src = tmp_path / "x.txt"
    src.write_text(FICTIONAL_DOCS[f"{CITY}.txt"], encoding="utf-8")
    with pytest.raises(LibraryError, match="国家级、省级、市级、县级"):
        add_document(s, src, meta={"level": "乡级"}, progress=QUIET, embedder=emb)
    assert not (s.corpus_dir / "x.txt").exists()


def test_identical_content_is_refused_unless_it_replaces_that_document(lib, tmp_path):
    s, emb = lib
    asked = {"test-national-guide-2098": "热失控测试有什么要求？", "test-county-notice-2097": "虚构县换电站建设目标是多少座？",
             CITY: "虚构市公共充电桩的建设目标是多少个？"}
    doc = next(d for d in list_documents(s) if d.doc_id in asked)  # earlier tests removed some of them
    src = tmp_path / "again.txt"
    src.write_bytes((s.corpus_dir / doc.file).read_bytes())
    questions = [asked[doc.doc_id]]
    before = snapshot(s, emb, questions)
    with pytest.raises(LibraryError, match=f"完全相同.*--replace {doc.doc_id}"):
        add_document(s, src, progress=QUIET, embedder=emb)
    with pytest.raises(LibraryError, match="文档标识"):
        add_document(s, src, meta={"doc_id": "../again"}, progress=QUIET, embedder=emb)
    assert snapshot(s, emb, questions) == before
    # As a new version of the very document it repeats, it is taken: the old one is superseded, so answers
    # still cite the text once.
    m = add_document(s, src, replace=doc.doc_id, progress=QUIET, embedder=emb)
    rec = open_kb(s, emb).ask(questions[0])
    assert rec.citations and {c.doc_id for c in rec.citations} == {m.doc_id}
    remove_document(s, m.doc_id, progress=QUIET, embedder=emb)
    assert {d.doc_id: d.validity for d in list_documents(s)}[doc.doc_id] == "现行"
    assert not [p for p in s.corpus_dir.iterdir() if p.name.startswith(".")]


def test_cli_add_imports_no_torch_once_the_graph_is_exported(kb, tmp_path):
    """With the graph a build exports, `python -m indexer add` embeds through ONNX Runtime and never imports torch
    (several seconds of every add); PASSAGE_ENGINE=full brings the sentence-transformers model back."""
    import re

    from kb.embed import model_folder
    from kb.embed.onnx_encoder import export_path

    s = settings(kb_dir=tmp_path / "kb", corpus_dir=tmp_path / "corpus")
    assert export_path(model_folder(s)[0]).is_file()  # exported when a build first loaded the full model
    write_fictional(s.corpus_dir)
    build(s, progress=QUIET, embedder=kb.embedder)
    where = ["--kb", str(s.kb_dir), "--corpus", str(s.corpus_dir)]

    def add(text: str, name: str, engine: str) -> set[str]:
        (tmp_path / name).write_text(text, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(REPO), "PASSAGE_ENGINE": engine}
        out = subprocess.run([sys.executable, "-X", "importtime", "-m", "indexer", "add", str(tmp_path / name),
                              *where], capture_output=True, text=True, cwd=REPO, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "计算段落向量" in out.stderr  # something new was embedded, not taken from the vector memo
        return set(re.findall(r"^import time:.*\|\s*(\S+)$", out.stderr, re.M))

    imported = add(FICTIONAL_PROVINCIAL, "provincial.txt", "onnx")
    assert "onnxruntime" in imported
    assert not imported & {"torch", "sentence_transformers", "transformers"}
    assert "torch" in add(FICTIONAL_PROVINCIAL.replace("虚构省", "虚拟省"), "provincial-2.txt", "full")
    assert {"provincial", "provincial-2"} <= {d.doc_id for d in list_documents(s)}
