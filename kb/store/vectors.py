"""Passage vectors kept by text, so any text embedded once for a KB is never embedded again: a new version of a
document, or a change to the analysis code, re-embeds only the passages whose text really changed."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np


class VectorCache:
    """SQLite table key → float32 vector; the key hashes the model setting, the prefix and the text."""

    def __init__(self, path: Path, model: str, dim: int | None = None):
        self.path = path
        self.model = model
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\0{text}".encode()).hexdigest()[:32]

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        keys = [self.key(t) for t in texts]
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self._db.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part)
            out.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        return out

    def put(self, texts: list[str], vectors: np.ndarray, model_id: str) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                 [(self.key(t), np.ascontiguousarray(v, np.float32).tobytes())
                                  for t, v in zip(texts, vectors)])
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('model_id', ?)", (model_id,))

    @property
    def model_id(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'model_id'").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self._db.close()
