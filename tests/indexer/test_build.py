"""indexer/build.py without the model: a document analysed for a staged add is pending (no vectors) unless the vector
memo knows all its texts, and pending artifacts are never cached as complete. (Builds with the model: test_library.)"""
import numpy as np
import pytest

from indexer.build import analyse
from indexer.chunker import TEXT_KINDS
from indexer.vectors import VectorMemo, sentence_text
from indexer.version import artifact_version
from kb.core.settings import settings
from kb.embed import LazyEmbedder
from kb.store.artifacts import DocCache
from tests.fixtures.docs import write_fictional

QUIET = lambda f, m: None  # noqa: E731


class NoModel(LazyEmbedder):
    """The real LazyEmbedder (settings, model id from the files) that fails the test if anything loads the model."""

    def get(self):
        raise AssertionError("the model was loaded")


@pytest.fixture
def doc(tmp_path):
    path = write_fictional(tmp_path / "corpus")[0]
    s = settings(kb_dir=tmp_path / "kb", corpus_dir=tmp_path / "corpus")
    return s, path, NoModel(s)


def test_pending_artifacts_are_never_cached_as_complete(doc):
    s, path, emb = doc
    a = analyse(path, None, emb, QUIET, vectors=False)  # an empty vector memo: nothing is known
    assert a.pending and a.chunk_vectors is None and a.sentence_vectors is None
    assert a.chunks and a.sentence_keys and a.paragraphs  # everything else is there: searchable by keywords
    cache = DocCache(s.kb_dir / "docs", s.embed_model, artifact_version(s))
    with pytest.raises(ValueError, match="pending"):
        cache.put("k", a)
    assert cache.get("k") is None and not list((s.kb_dir / "docs").glob("*"))


def test_a_document_whose_texts_are_all_known_is_complete_at_once(doc):
    """A version put back or an unchanged replacement: the vector memo holds every text, so no model and no
    pending stage (the vectors here are stand-ins written into the memo; only where they come from is tested)."""
    s, path, emb = doc
    pending = analyse(path, None, emb, QUIET, vectors=False)
    memo = VectorMemo(emb)
    sentences = [(p, sp) for p in pending.paragraphs if p.kind in TEXT_KINDS for sp in p.sentences]
    texts = [c.index_text for c in pending.chunks] + [sentence_text(p, sp) for p, sp in sentences]
    rng = np.random.default_rng(0)
    memo.put([(memo.key(t), rng.standard_normal(8).astype(np.float32)) for t in texts])
    a = analyse(path, None, emb, QUIET, vectors=False)
    assert not a.pending
    assert a.chunk_vectors.shape == (len(a.chunks), 8) and a.sentence_vectors.shape == (len(a.sentence_keys), 8)
    first = memo.key(a.chunks[0].index_text)
    assert np.array_equal(a.chunk_vectors[0], memo.known([first])[first])
