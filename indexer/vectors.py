"""A document's chunk and sentence vectors, made as PassageSettings.vectors says, and the memo of passage vectors.

The sentences cover the chunks' text (a chunk is a paragraph or a window of its whole sentences), so embedding
both runs the model over the text about twice, and the model is what adding a document waits for (~1,400 tokens/s
on 2 cores). "pooled" runs it over the sentences (and each distinct heading) only, "late" over the chunks only;
"separate" over both, as before. The chosen way is part of the artifact and KB versions (indexer/version.py).
"""
from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable

import numpy as np

from kb.core.records import Chunk, Paragraph, Span

Progress = Callable[[float, str], None]
EMBED_BATCH = 64
VECTORS_MEMO = "passage-vectors.sqlite"
Sentence = tuple[Paragraph, Span]


class VectorMemo:
    """Passage vectors already computed for this KB, by text: a revised document (most of a policy is unchanged),
    a repeated paragraph or a rebuilt cache entry re-embeds only new text; when every text is known the model is
    not even loaded (its id comes from its folder's files, kb.embed.model_id). Kept in
    <kb>/passage-vectors.sqlite, for one model: cleared when the model or its files change."""

    def __init__(self, embedder):
        self.embedder = embedder  # a kb.embed.LazyEmbedder
        s = embedder.s
        s.kb_dir.mkdir(parents=True, exist_ok=True)
        self.model_id: str = embedder.model_id
        self.db = sqlite3.connect(s.kb_dir / VECTORS_MEMO)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        self.db.execute("CREATE TABLE IF NOT EXISTS model (id TEXT NOT NULL)")
        row = self.db.execute("SELECT id FROM model").fetchone()
        if not row or row[0] != self.model_id:  # another model (or its files changed): nothing here is valid
            with self.db:
                self.db.execute("DELETE FROM vec")
                self.db.execute("DELETE FROM model")
                self.db.execute("INSERT INTO model VALUES (?)", (self.model_id,))
        self._salt = f"{s.embed_model}\0{s.passage_prefix}\0".encode()

    def key(self, text: str, kind: str = "") -> bytes:
        """The key of `text`'s vector; `kind` names a vector that is not the text's own embedding ("late": a part
        of a chunk pooled from the chunk's tokens), so the two never stand for each other."""
        return hashlib.sha256(self._salt + (f"{kind}\0" if kind else "").encode() + text.encode()).digest()[:16]

    def known(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        out: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self.db.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part)
            out.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return out

    def put(self, items: list[tuple[bytes, np.ndarray]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                [(k, v.astype(np.float32).tobytes()) for k, v in items])

    def embed(self, texts: list[str], what: str, progress: Progress) -> np.ndarray:
        """Vectors of `texts` (passage prefix), computing only unknown texts, shortest first in batches of
        EMBED_BATCH (little padding), with a progress message per batch."""
        keys = [self.key(t) for t in texts]
        known = self.known(keys)
        todo = sorted({k: i for i, k in enumerate(keys) if k not in known}.values(), key=lambda i: len(texts[i]))
        reused = len(texts) - len(todo)
        for b in range(0, len(todo), EMBED_BATCH):
            progress(b / max(1, len(todo)), f"计算{what}向量 {b}/{len(todo)}（其余 {reused} 个沿用已有向量）")
            batch = todo[b : b + EMBED_BATCH]
            vecs = self.embedder.get().embed_passages([texts[i] for i in batch], batch_size=EMBED_BATCH)
            self.put([(keys[i], v) for i, v in zip(batch, vecs)])
            known.update((keys[i], v) for i, v in zip(batch, vecs))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        progress(1.0, f"{what}向量完成：计算 {len(todo)} 个，沿用 {reused} 个")
        return np.stack([known[k] for k in keys]).astype(np.float32)

    @property
    def dim(self) -> int:
        row = self.db.execute("SELECT v FROM vec LIMIT 1").fetchone()
        return len(row[0]) // 4 if row else self.embedder.get().dim


def sentence_text(p: Paragraph, sp: Span) -> str:
    """What a sentence is embedded as on its own: its section's heading, then the sentence."""
    return f"{p.section[-1]}：{sp.text}"


def heading_text(c: Chunk) -> str:
    """What a chunk's index text adds before its text: heading path, run-in title, time scope."""
    return c.index_text[: len(c.index_text) - len(c.text)]


def document_vectors(memo: VectorMemo, how: str, chunks: list[Chunk], sentences: list[Sentence],
                     owners: list[int], progress: Progress) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vectors, sentence vectors) of one document made the way `how` (PassageSettings.vectors) says;
    `owners[j]` is the chunk sentence j is keyed to (the first that holds it)."""
    if how == "pooled":
        return _pooled(memo, chunks, sentences, progress)
    if how == "late":
        return _late(memo, chunks, sentences, owners, progress)
    chunk_vecs = memo.embed([c.index_text for c in chunks], "段落", lambda f, m: progress(0.5 * f, m))
    sent_vecs = memo.embed([sentence_text(p, sp) for p, sp in sentences], "句子", lambda f, m: progress(0.5 + 0.5 * f, m))
    return chunk_vecs, sent_vecs


def _normalised(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def _members(chunks: list[Chunk], sentences: list[Sentence]) -> list[list[int]]:
    """The sentences inside each chunk (a sentence in the overlap of two windows is in both)."""
    by_para: dict[int, list[int]] = {}
    for j, (p, _) in enumerate(sentences):
        by_para.setdefault(p.index, []).append(j)
    return [[j for j in by_para.get(c.para_index, []) if c.start <= sentences[j][1].start < c.end] for c in chunks]


def _covered(c: Chunk, spans: list[Span]) -> bool:
    """Whether every non-blank character of the chunk's text lies in one of `spans`."""
    inside = np.zeros(c.end - c.start, bool)
    for sp in spans:
        inside[max(sp.start, c.start) - c.start : min(sp.end, c.end) - c.start] = True
    return all(inside[i] or ch.isspace() for i, ch in enumerate(c.text))


def _pooled(memo: VectorMemo, chunks: list[Chunk], sentences: list[Sentence], progress: Progress):
    """Sentences and distinct headings through the model; a chunk whose text its sentences cover is the mean of
    their vectors and its heading's, each weighted by the length of the text it was made from (a vector stands
    for its text's tokens; by characters, so known vectors need no tokenizer); any other chunk is embedded itself."""
    texts = [sentence_text(p, sp) for p, sp in sentences]
    sent_vecs = memo.embed(texts, "句子", lambda f, m: progress(0.8 * f, m))
    members = _members(chunks, sentences)
    own = sorted(i for i, c in enumerate(chunks)
                 if not members[i] or not _covered(c, [sentences[j][1] for j in members[i]]))
    derived = set(range(len(chunks))) - set(own)
    heads = sorted({heading_text(chunks[i]).strip() for i in derived} - {""})
    head_vecs = dict(zip(heads, memo.embed(heads, "标题", lambda f, m: progress(0.8 + 0.1 * f, m))))
    direct = dict(zip(own, memo.embed([chunks[i].index_text for i in own], "段落",
                                      lambda f, m: progress(0.9 + 0.1 * f, m))))
    out = np.zeros((len(chunks), sent_vecs.shape[1] if len(sentences) else memo.dim), np.float32)
    for i, c in enumerate(chunks):
        if i in direct:
            out[i] = direct[i]
            continue
        v = sum(len(texts[j]) * sent_vecs[j] for j in members[i])
        head = heading_text(c).strip()
        if head:
            v = v + len(head) * head_vecs[head]
        out[i] = _normalised(v)
    return out, sent_vecs


def _late(memo: VectorMemo, chunks: list[Chunk], sentences: list[Sentence], owners: list[int], progress: Progress):
    """Each chunk through the model once: its vector is the mean of all its token vectors (the model's own pooling,
    so the same as embedding it alone), each sentence it owns the mean of the token vectors of its own span — in
    the chunk's context (late chunking). A sentence left without tokens (beyond the model's 512) is embedded alone."""
    owned: dict[int, list[int]] = {}
    for j, i in enumerate(owners):
        owned.setdefault(i, []).append(j)
    spans: list[tuple[int, int]] = []  # each sentence's span in its chunk's index text
    for (_, sp), i in zip(sentences, owners):
        base = len(chunks[i].index_text) - len(chunks[i].text) - chunks[i].start
        spans.append((base + sp.start, base + sp.end))
    chunk_keys = [memo.key(c.index_text) for c in chunks]
    sent_keys = [memo.key(f"{chunks[i].index_text}\0{a}:{b}", "late") for i, (a, b) in zip(owners, spans)]
    known = memo.known(chunk_keys + sent_keys)
    todo = sorted((i for i, c in enumerate(chunks)
                   if chunk_keys[i] not in known or any(sent_keys[j] not in known for j in owned.get(i, []))),
                  key=lambda i: len(chunks[i].index_text))
    alone: list[int] = []
    for b in range(0, len(todo), EMBED_BATCH):
        progress(0.95 * b / max(1, len(todo)), f"计算段落向量 {b}/{len(todo)}（其余 {len(chunks) - len(todo)} 个"
                                               "沿用已有向量；句子向量取自段落）")
        batch = todo[b : b + EMBED_BATCH]
        new: list[tuple[bytes, np.ndarray]] = []
        for i, (hidden, starts) in zip(batch, memo.embedder.get().token_states([chunks[i].index_text for i in batch],
                                                                              batch_size=EMBED_BATCH)):
            new.append((chunk_keys[i], _normalised(hidden.mean(axis=0))))
            for j in owned.get(i, []):
                a, z = spans[j]
                rows = (starts >= a) & (starts < z)
                if rows.any():
                    new.append((sent_keys[j], _normalised(hidden[rows].mean(axis=0))))
                else:
                    alone.append(j)
        memo.put(new)
        known.update(new)
    if alone:
        vecs = memo.embed([sentence_text(*sentences[j]) for j in alone], "句子", lambda f, m: progress(0.95, m))
        memo.put([(sent_keys[j], v) for j, v in zip(alone, vecs)])
        known.update((sent_keys[j], v) for j, v in zip(alone, vecs))
    progress(1.0, f"段落向量完成：计算 {len(todo)} 个，沿用 {len(chunks) - len(todo)} 个；句子向量取自段落")

    def stack(keys: list[bytes]) -> np.ndarray:
        return np.stack([known[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, memo.dim), np.float32)

    return stack(chunk_keys), stack(sent_keys)
