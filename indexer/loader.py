"""Loads .txt/.md documents of a corpus folder with the metadata recorded in its manifest.json."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kb.schema import DocMeta, Document

SUPPORTED = (".txt", ".md")
MANIFEST = "manifest.json"


class CorpusError(ValueError):
    """The corpus folder or its manifest cannot be used; the message says why."""


def read_manifest(corpus_dir: Path) -> dict[str, dict]:
    """Manifest entries keyed by file name; a corpus without a manifest is allowed (titles then come from the text)."""
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


def _decode(raw: bytes, path: Path) -> str:
    # UTF-8 (with or without BOM) is what this issue supports; other encodings come with the library issue.
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path.name}: 不是 UTF-8 编码的文本（{e.reason}，位置 {e.start}）") from e
    # Offsets are into this exact string, so normalise only line endings, never characters.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def load_document(path: Path, entry: dict | None = None) -> Document:
    entry = entry or {}
    text = _decode(path.read_bytes(), path)
    if not text.strip():
        raise CorpusError(f"{path.name}: 文件为空")
    fields = set(DocMeta.model_fields) - {"doc_id", "file", "title"}
    meta = DocMeta(
        doc_id=entry.get("doc_id") or path.stem,
        file=path.name,
        title=entry.get("title") or _first_line(text),
        **{k: str(entry[k]) for k in fields if entry.get(k) is not None},
    )
    return Document(meta=meta, text=text)


def load_corpus(corpus_dir: Path) -> list[Document]:
    """All supported documents of the folder, sorted by file name so builds are reproducible."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"语料目录不存在：{corpus_dir}")
    manifest = read_manifest(corpus_dir)
    files = sorted(p for p in corpus_dir.iterdir() if p.suffix.lower() in SUPPORTED and p.name != "README.md")
    if not files:
        raise CorpusError(f"语料目录中没有可读取的文档（支持 {', '.join(SUPPORTED)}）：{corpus_dir}")
    docs = [load_document(p, manifest.get(p.name)) for p in files]
    seen: dict[str, str] = {}
    for d in docs:
        if d.meta.doc_id in seen:
            raise CorpusError(f"doc_id 重复：{d.meta.doc_id}（{seen[d.meta.doc_id]} 与 {d.meta.file}）")
        seen[d.meta.doc_id] = d.meta.file
    return docs


def corpus_hash(corpus_dir: Path) -> str:
    """Content hash of everything that affects the KB: the manifest and each supported file."""
    h = hashlib.sha256()
    for p in sorted(corpus_dir.iterdir()):
        if p.is_file() and (p.name == MANIFEST or p.suffix.lower() in SUPPORTED) and p.name != "README.md":
            h.update(p.name.encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()
