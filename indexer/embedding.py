"""Embedding a document's passages for the index, reusing every vector the KB has already computed for a text."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kb.embed import LazyEmbedder
from kb.store.vectors import VectorCache

BATCH = 64


def embed_passages(texts: list[str], embedder: LazyEmbedder, cache: VectorCache | None,
                   progress: Callable[[float, str], None], what: str) -> tuple[np.ndarray, str]:
    """Vectors for `texts` (rows in order) and the model id; only texts the cache lacks are embedded, so the model
    is not even loaded when nothing is new."""
    found = cache.get(texts) if cache is not None else {}
    missing = list(dict.fromkeys(t for t in texts if cache is None or cache.key(t) not in found))
    model_id = cache.model_id if cache is not None and not missing else None
    fresh: dict[str, np.ndarray] = {}
    if missing:
        model = embedder.get()
        model_id = model.model_id
        for i in range(0, len(missing), BATCH):
            progress(i / len(missing), f"计算{what}向量 {i}/{len(missing)}（其余 {len(texts) - len(missing)} 个沿用已有向量）")
            part = missing[i : i + BATCH]
            vecs = model.embed_passages(part, batch_size=BATCH)
            fresh.update(zip(part, vecs))
            if cache is not None:
                cache.put(part, vecs, model_id)
    if not texts:
        dim = next(iter(found.values())).shape[0] if found else embedder.get().dim
        return np.zeros((0, dim), np.float32), model_id or embedder.get().model_id
    rows = [fresh[t] if t in fresh else found[cache.key(t)] for t in texts]
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32), model_id or embedder.get().model_id
