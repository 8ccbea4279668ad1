"""How a document's chunk and sentence vectors are made (PassageSettings.vectors, indexer/vectors.py), with the
real model on an excerpt of the plan: "pooled" runs the model over sentences and headings only and makes each
chunk the weighted mean of their vectors; "late" runs it over each chunk once and pools each sentence from the
chunk's token vectors; the way is part of the KB's version, so a KB built one way is stale to another."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.build import analyse, build
from indexer.chunker import chunk_paragraphs
from indexer.loader import load_document
from indexer.structure import parse
from indexer.vectors import heading_text, sentence_text
from indexer.version import status
from kb.core.settings import PassageSettings, settings
from kb.embed import LazyEmbedder
from tests.fixtures.docs import plan_text

QUIET = lambda f, m: None


class Counting:
    """The real passage engine, recording every text it is given and every call."""

    def __init__(self, inner):
        self.inner, self.embedded, self.stated, self.calls = inner, [], [], 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, texts, batch_size=32):
        self.embedded += texts
        self.calls += 1
        return self.inner.embed_passages(texts, batch_size=batch_size)

    def token_states(self, texts, batch_size=32):
        self.stated += texts
        self.calls += 1
        return self.inner.token_states(texts, batch_size=batch_size)


@pytest.fixture(scope="module")
def engine():
    """What the app embeds passages with: ONNX Runtime's engine on the default model, as `indexer add` uses it."""
    from kb.embed import Encoder
    from kb.embed.onnx_encoder import OnnxEncoder

    encoder = Encoder(settings())
    assert isinstance(encoder.passages, OnnxEncoder)
    return encoder


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory):
    """The plan's first ~6,000 characters (cut at a line end): headings, one-sentence and many-sentence paragraphs."""
    text = plan_text()
    path = tmp_path_factory.mktemp("doc") / "plan-excerpt.txt"
    path.write_text(text[: text.index("\n", 6000)], encoding="utf-8")
    return path


def _analyse(path, engine, how, kb_dir):
    s = settings(kb_dir=kb_dir).model_copy(update={"passages": PassageSettings(vectors=how)})
    counting = Counting(engine)
    return analyse(path, None, LazyEmbedder(s, counting), QUIET), counting


def _sentences(a):
    """(paragraph, sentence) in the order of the artifacts' sentence rows."""
    return [(p, sp) for p in a.paragraphs if p.kind in ("body", "item", "notice") for sp in p.sentences]


def test_pooled_chunk_vectors_are_weighted_means_of_their_sentences(engine, excerpt, tmp_path):
    a, counting = _analyse(excerpt, engine, "pooled", tmp_path / "kb")
    sentences = _sentences(a)
    assert [sp.start for _, sp in sentences] == [start for start, _ in a.sentence_keys]
    texts = [sentence_text(p, sp) for p, sp in sentences]
    members = [[j for j, (_, sp) in enumerate(sentences) if c.start <= sp.start < c.end] for c in a.chunks]
    assert len(a.chunks) >= 15 and sum(len(m) >= 2 for m in members) >= 8 and all(members)
    # The model saw the sentences and the distinct headings, never a chunk's text.
    heads = sorted({heading_text(c).strip() for c in a.chunks})
    assert sorted(set(counting.embedded)) == sorted(set(texts) | set(heads))
    # Sentence vectors are the model's own.
    assert (a.sentence_vectors * engine.embed_passages(texts)).sum(axis=1).min() > 0.99999
    # A chunk: its sentences' vectors and its heading's, weighted by their texts' lengths.
    head_vecs = dict(zip(heads, engine.embed_passages(heads)))
    direct = engine.embed_passages([c.index_text for c in a.chunks])
    for c, m, got, alone in zip(a.chunks, members, a.chunk_vectors, direct):
        assert sum(sentences[j][1].end - sentences[j][1].start for j in m) >= len(c.text.strip())
        head = heading_text(c).strip()
        want = sum(len(texts[j]) * a.sentence_vectors[j] for j in m) + len(head) * head_vecs[head]
        assert np.allclose(got, want / np.linalg.norm(want), atol=1e-5)
        assert float(got @ alone) > 0.95  # close to the chunk embedded as a whole
    assert float((a.chunk_vectors * direct).sum(axis=1).mean()) > 0.98


def test_late_sentence_vectors_come_from_one_model_call_per_chunk(engine, excerpt, tmp_path):
    a, counting = _analyse(excerpt, engine, "late", tmp_path / "kb")
    sentences = _sentences(a)
    # Every chunk's text through the model exactly once, no sentence on its own.
    assert sorted(counting.stated) == sorted(c.index_text for c in a.chunks)
    assert counting.embedded == []
    # A chunk's vector is the model's vector of the chunk.
    cos = (a.chunk_vectors * engine.embed_passages([c.index_text for c in a.chunks])).sum(axis=1)
    assert cos.min() > 0.99999
    # A sentence's vector is the mean of its own tokens' vectors in its chunk's context.
    alone = engine.embed_passages([sentence_text(p, sp) for p, sp in sentences])
    states = engine.token_states([c.index_text for c in a.chunks])
    for (_, sp), (_, owner), got, own in zip(sentences, a.sentence_keys, a.sentence_vectors, alone):
        c, (hidden, starts) = a.chunks[owner], states[owner]
        base = len(c.index_text) - len(c.text) - c.start
        rows = (starts >= base + sp.start) & (starts < base + sp.end)
        assert rows.sum() >= 1 and not rows[0] and not rows[-1]  # <s> and </s> are not the sentence's
        want = hidden[rows].mean(axis=0)
        assert np.allclose(got, want / np.linalg.norm(want), atol=1e-5)
        assert float(got @ own) > 0.85  # near the sentence embedded alone, though with its context
    # Analysed again (a rebuild, a replaced document): every vector comes from the memo, the model is not run.
    b, again = _analyse(excerpt, engine, "late", tmp_path / "kb")
    assert again.calls == 0
    assert np.array_equal(b.sentence_vectors, a.sentence_vectors) and np.array_equal(b.chunk_vectors, a.chunk_vectors)


def test_the_full_model_pools_tokens_as_onnx_runtime_does(engine, excerpt):
    from kb.embed.encoder import Embedder

    full = Embedder.from_settings(settings())
    texts = [ln for ln in excerpt.read_text(encoding="utf-8").split("\n") if len(ln) > 20][:6]
    for (h1, s1), (h2, s2) in zip(engine.token_states(texts), full.token_states(texts, batch_size=4)):
        assert np.array_equal(s1, s2)
        cos = (h1 * h2).sum(axis=1) / np.linalg.norm(h1, axis=1) / np.linalg.norm(h2, axis=1)
        assert cos.min() > 0.999


def test_a_kb_built_one_way_is_stale_to_another(engine, excerpt, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / excerpt.name).write_bytes(excerpt.read_bytes())
    s = settings(kb_dir=tmp_path / "kb", corpus_dir=corpus)
    build(s, progress=QUIET, embedder=engine)
    assert s.passages.vectors == "separate"
    assert status(s) == "ok"
    other = s.model_copy(update={"passages": PassageSettings(vectors="pooled")})
    assert status(other) == "stale"
    # Rebuilt the other way: the document is analysed again (its cached artifacts are the other way's), and only
    # what that way needs and the memo lacks (the headings) goes through the model.
    counting = Counting(engine)
    build(other, progress=QUIET, embedder=counting)
    assert status(other) == "ok" and status(s) == "stale"
    doc, _ = load_document(corpus / excerpt.name, None)
    heads = {heading_text(c).strip() for c in chunk_paragraphs(parse(doc), doc.text)}
    # Every sentence vector was known: only the headings are new.
    assert sorted(counting.embedded) == sorted(heads) and not counting.stated


@pytest.mark.parametrize("how", ["pooled", "late"])
def test_cli_add_imports_no_torch_either_way(engine, excerpt, tmp_path, how):
    """`indexer add` stays on ONNX Runtime (no torch) however the vectors are made."""
    import os
    import re
    import subprocess
    import sys

    from kb.core.settings import REPO
    from tests.fixtures.docs import write_fictional

    s = settings(kb_dir=tmp_path / "kb", corpus_dir=tmp_path / "corpus")
    s = s.model_copy(update={"passages": PassageSettings(vectors=how)})
    write_fictional(s.corpus_dir)
    build(s, progress=QUIET, embedder=engine)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PASSAGE_VECTORS": how}
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "indexer", "add", str(excerpt), "--kb",
                          str(s.kb_dir), "--corpus", str(s.corpus_dir)], capture_output=True, text=True, cwd=REPO,
                         env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "计算句子向量" in out.stderr if how == "pooled" else "句子向量取自段落" in out.stderr
    imported = set(re.findall(r"^import time:.*\|\s*(\S+)$", out.stderr, re.M))
    assert "onnxruntime" in imported and not imported & {"torch", "sentence_transformers", "transformers"}
    assert status(s) == "ok"
