"""The corpus folder: its documents (any supported format), its manifest.json, and metadata merged from both."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from indexer.formats import SUPPORTED, DocumentError, extract
from indexer.metadata import extract_metadata
from kb.core.records import VALIDITIES, DocMeta, Document, normalize_level

MANIFEST = "manifest.json"
META_FIELDS = tuple(f for f in DocMeta.model_fields if f not in ("doc_id", "file"))


class CorpusError(ValueError):
    """The corpus folder, its manifest or one of its documents cannot be used; the message says why."""


def read_manifest(corpus_dir: Path) -> dict[str, dict]:
    """Manifest entries keyed by file name; a corpus without a manifest is allowed (metadata then comes from the text)."""
    path = corpus_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorpusError(f"{path} 不是有效的 JSON：{e}") from e
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "file" in e for e in entries):
        raise CorpusError(f"{path} 应为对象列表，每项至少包含 \"file\" 字段")
    return {e["file"]: e for e in entries}


def write_manifest(corpus_dir: Path, entries: list[dict]) -> None:
    """Replace the manifest atomically (written aside, then renamed): a crash leaves the old or the new one."""
    path = corpus_dir / MANIFEST
    tmp = corpus_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(entries, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The folder's documents, sorted by name so builds are reproducible (README.md describes the folder)."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"语料目录不存在：{corpus_dir}")
    files = sorted(p for p in corpus_dir.iterdir()
                   if p.is_file() and p.suffix.lower() in SUPPORTED and p.name != "README.md"
                   and not p.name.startswith("."))
    if not files:
        raise CorpusError(f"语料目录中没有可读取的文档（支持 {'、'.join(SUPPORTED)}）：{corpus_dir}")
    return files


def doc_id_of(path: Path, entry: dict | None) -> str:
    return str((entry or {}).get("doc_id") or path.stem)


def make_meta(path: Path, entry: dict | None, found: dict[str, str]) -> DocMeta:
    """The manifest's fields win over those read from the text; level and validity are checked and normalised."""
    entry = entry or {}
    values = {k: str(found[k]) for k in META_FIELDS if found.get(k)}
    values |= {k: str(entry[k]) for k in META_FIELDS if entry.get(k) not in (None, "")}
    values.setdefault("title", path.stem)
    if values.get("level"):
        values["level"] = normalize_level(values["level"]) or values["level"]
    if values.get("validity") and values["validity"] not in VALIDITIES:
        raise CorpusError(f"{path.name}: validity 应为 {'/'.join(VALIDITIES)} 之一，而不是“{values['validity']}”")
    return DocMeta(doc_id=doc_id_of(path, entry), file=path.name, **values)


def load_document(path: Path, entry: dict | None = None) -> tuple[Document, dict[str, str]]:
    """The document with its metadata, and the metadata found in its text (kept so the manifest can change)."""
    try:
        ex = extract(path)
    except DocumentError as e:
        raise CorpusError(str(e)) from e
    found = extract_metadata(ex.text)
    doc = Document(meta=make_meta(path, entry, found), text=ex.text, pages=ex.pages, headings=ex.headings)
    return doc, found


def load_corpus(corpus_dir: Path) -> list[Document]:
    """All documents of the folder with their metadata (the build uses its cache instead of this)."""
    manifest = read_manifest(corpus_dir)
    docs = [load_document(p, manifest.get(p.name))[0] for p in corpus_files(corpus_dir)]
    check_unique([(d.meta.doc_id, d.meta.file) for d in docs])
    return docs


def check_unique(ids: list[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for doc_id, file in ids:
        if doc_id in seen:
            raise CorpusError(f"doc_id 重复：{doc_id}（{seen[doc_id]} 与 {file}）")
        seen[doc_id] = file


def corpus_hash(corpus_dir: Path) -> str:
    """Content hash of everything that affects the KB: the manifest and each document file."""
    h = hashlib.sha256()
    if not corpus_dir.is_dir():
        return ""
    for p in sorted(corpus_dir.iterdir()):
        if p.is_file() and not p.name.startswith(".") and p.name != "README.md" and (
                p.name == MANIFEST or p.suffix.lower() in SUPPORTED):
            h.update(p.name.encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()
