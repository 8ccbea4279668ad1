"""Per-document build artifacts kept by content hash, so adding or removing one document re-embeds only that one."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter

from kb.core.records import Chunk, Document, Paragraph
from kb.core.taxonomy import Provision
from kb.store.jsonl import read_jsonl, write_jsonl
from kb.store.tables import Tables

_PROVISIONS = TypeAdapter(list[Provision])


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class DocArtifacts:
    """Everything the build derives from one document; vectors are L2-normalised float32 rows.

    Vectors None: the document is *pending* (a staged add made it searchable before embedding it): the KB holds
    zero rows for it and lists it in KBMeta.pending. Pending artifacts are never cached (DocCache.put refuses them),
    so the next build embeds the document rather than taking it for complete."""

    document: Document
    found: dict[str, str]  # metadata read from the text; the manifest overrides it at every build
    paragraphs: list[Paragraph]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray | None
    sentence_keys: list[tuple[int, int]]  # (sentence start, index of its chunk within this document)
    sentence_vectors: np.ndarray | None
    tables: Tables
    provisions: list[Provision]
    model_id: str

    @property
    def pending(self) -> bool:
        return self.chunk_vectors is None or self.sentence_vectors is None


class DocCache:
    """A folder of `<key>/` directories, one per (document content, doc_id, title, model, artifact code version)."""

    def __init__(self, root: Path, embed_model: str, version: str):
        self.root = root
        self.embed_model = embed_model
        self.version = version  # fingerprint of the code that makes artifacts (indexer.version.artifact_version)

    def key(self, doc_id: str, file_hash: str, manifest_title: str) -> str:
        # The title matters because the structure parser recognises the title line; other metadata does not
        # change any artifact, so editing it in the manifest costs no re-embedding.
        raw = json.dumps([self.version, self.embed_model, doc_id, file_hash, manifest_title])
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def get(self, key: str) -> DocArtifacts | None:
        d = self.root / key
        if not (d / "done").exists():
            return None
        try:
            head = json.loads((d / "head.json").read_text(encoding="utf-8"))
            return DocArtifacts(
                document=Document.model_validate_json((d / "document.json").read_text(encoding="utf-8")),
                found=head["found"],
                paragraphs=read_jsonl(d / "paragraphs.jsonl", Paragraph),
                chunks=read_jsonl(d / "chunks.jsonl", Chunk),
                chunk_vectors=np.load(d / "chunk_vectors.npy"),
                sentence_keys=[tuple(k) for k in head["sentence_keys"]],
                sentence_vectors=np.load(d / "sentence_vectors.npy"),
                tables=Tables.model_validate_json((d / "tables.json").read_text(encoding="utf-8")),
                provisions=_PROVISIONS.validate_json((d / "provisions.json").read_bytes()),
                model_id=head["model_id"],
            )
        except (OSError, ValueError, KeyError):
            shutil.rmtree(d, ignore_errors=True)  # unreadable: recompute rather than fail the build
            return None

    def put(self, key: str, a: DocArtifacts) -> None:
        """Written into a temporary folder and renamed, so a killed build never leaves a half entry."""
        if a.pending:  # a cached entry is complete by definition: the build would never embed it
            raise ValueError(f"{a.document.meta.doc_id}: pending artifacts (no vectors yet) are not cached")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        (tmp / "document.json").write_text(a.document.model_dump_json(), encoding="utf-8")
        (tmp / "head.json").write_text(json.dumps({"found": a.found, "sentence_keys": a.sentence_keys,
                                                   "model_id": a.model_id}, ensure_ascii=False), encoding="utf-8")
        write_jsonl(tmp / "paragraphs.jsonl", a.paragraphs)
        write_jsonl(tmp / "chunks.jsonl", a.chunks)
        np.save(tmp / "chunk_vectors.npy", a.chunk_vectors)
        np.save(tmp / "sentence_vectors.npy", a.sentence_vectors)
        (tmp / "tables.json").write_text(a.tables.model_dump_json(), encoding="utf-8")
        (tmp / "provisions.json").write_bytes(_PROVISIONS.dump_json(a.provisions))
        (tmp / "done").touch()
        shutil.rmtree(self.root / key, ignore_errors=True)
        tmp.rename(self.root / key)

    def keep_only(self, keys: set[str]) -> None:
        """Drop entries the current corpus no longer uses (and temporary folders of killed builds)."""
        if not self.root.is_dir():
            return
        for d in self.root.iterdir():
            if d.name not in keys:
                shutil.rmtree(d, ignore_errors=True)
