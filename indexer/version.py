"""Fingerprints of the code and data a knowledge base is made with, and whether a KB on disk is still fresh.

Two fingerprints, because they invalidate different things:
- `artifact_version`: what turns one file into its cached artifacts (readers, metadata, structure, chunks, tables,
  provisions, the text utilities and lexicons they use), and how vectors are made (PassageSettings.vectors). A
  change re-analyses every document; the vector memo keeps what need not be embedded again.
- `kb_version`: that plus what assembles the corpus-wide indexes (segmentation and its dictionaries, the store's
  writer). A change rebuilds the KB from the cached artifacts, without embedding anything again.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from indexer.loader import corpus_hash
from kb.core.settings import REPO, Settings
from kb.store import files as store

# Paths relative to the repository; a folder stands for every file under it.
ARTIFACT_INPUTS = ("indexer/formats", "indexer/metadata.py", "indexer/structure.py", "indexer/chunker.py",
                   "indexer/tables.py", "indexer/provisions.py", "indexer/build.py", "indexer/vectors.py",
                   "kb/core/records.py", "kb/core/text.py", "kb/core/figures.py", "kb/core/timeexpr.py",
                   "kb/core/taxonomy.py", "kb/store/tables.py", "kb/store/artifacts.py", "kb/data/taxonomy.json")
ASSEMBLY_INPUTS = ("kb/core/segment.py", "kb/data/nev_terms.txt", "kb/store/files.py", "kb/store/passages.py")


@lru_cache(maxsize=2)
def _fingerprint(paths: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for rel in paths:
        root = REPO / rel
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if root.is_dir() else [root]
        for p in files:
            h.update(p.relative_to(REPO).as_posix().encode() + b"\0" + (p.read_bytes() if p.exists() else b""))
    return h.hexdigest()[:16]


def artifact_version(s: Settings) -> str:
    """The code's fingerprint and how chunk and sentence vectors are made (a setting: PassageSettings.vectors)."""
    return f"{_fingerprint(ARTIFACT_INPUTS)}-{s.passages.vectors}"


def kb_version(s: Settings) -> str:
    return f"{_fingerprint(ARTIFACT_INPUTS + ASSEMBLY_INPUTS)}-{s.passages.vectors}"


def status(s: Settings) -> Literal["ok", "missing", "stale", "corrupt"]:
    """Whether the KB at s.kb_dir can be used for s.corpus_dir and s.embed_model as it is."""
    if not (s.kb_dir / store.CURRENT / store.META_FILE).exists():
        return "missing"
    try:
        meta = store.read_meta(s.kb_dir)
    except store.KBError:
        return "corrupt"
    if meta.format != store.FORMAT or meta.embed_model != s.embed_model or meta.pipeline != kb_version(s):
        return "stale"
    if s.corpus_dir.is_dir() and meta.corpus_hash != corpus_hash(s.corpus_dir):
        return "stale"
    return "ok"


def repo_relative(path: Path) -> str:
    return path.resolve().relative_to(REPO).as_posix()
