"""The document library: add, replace and remove one document of the corpus, keeping the KB in step with it."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from indexer.build import Progress, analyse, build, build_lock, say
from indexer.formats import DocumentError, check_filename
from indexer.loader import (
    MANIFEST,
    CorpusError,
    corpus_files,
    doc_id_of,
    read_manifest,
    write_manifest,
)
from indexer.version import artifact_version, status
from kb.core.records import LEVELS, DocMeta, Document, normalize_level
from kb.core.settings import Settings
from kb.embed import LazyEmbedder
from kb.store import files as store
from kb.store.artifacts import DocCache, file_sha256

EDITABLE = ("title", "issuer", "doc_number", "date", "level", "region", "doc_type")


class LibraryError(ValueError):
    """An add, replace or remove that cannot be done; nothing was changed, and the message says why."""


def library_lock(kb_dir: Path):
    """One library change at a time (the build takes its own lock inside)."""
    return build_lock(kb_dir, ".library.lock")


def list_documents(s: Settings, embedder=None) -> list[DocMeta]:
    """The documents of the current KB with their metadata (built first if needed)."""
    if status(s) != "ok":
        build(s, embedder=embedder)
    path = store.current_dir(s.kb_dir) / store.DOCS_FILE
    with open(path, encoding="utf-8") as fh:
        return [Document.model_validate_json(line).meta for line in fh if line.strip()]


def _entries(corpus_dir: Path) -> list[dict]:
    """Manifest entries in file order, plus a bare entry for each document the manifest does not list."""
    manifest = read_manifest(corpus_dir)
    try:
        files = corpus_files(corpus_dir)
    except CorpusError:  # an empty library is a fine place to start adding
        files = []
    present = {p.name for p in files}
    return [e for e in manifest.values() if e["file"] in present] + [
        {"file": n} for n in sorted(present) if n not in manifest]


def add_document(s: Settings, src: Path, name: str | None = None, meta: dict | None = None,
                 replace: str | None = None, progress: Progress = say, embedder=None) -> DocMeta:
    """Add `src` to the corpus as `name` and update the KB; with `replace`, that document is kept but marked
    被替代 (superseded by the new one). The file is read, parsed and embedded before anything is changed, and
    a failed build restores the corpus as it was, so a bad file never alters the library or the index."""
    meta = {k: v for k, v in (meta or {}).items() if v not in (None, "")}
    try:
        name = check_filename(name or src.name)
    except DocumentError as e:
        raise LibraryError(str(e)) from e
    if not src.is_file():
        raise LibraryError(f"文件不存在：{src}")
    unknown = set(meta) - set(EDITABLE) - {"doc_id"}
    if unknown:
        raise LibraryError(f"未知的元数据字段：{'、'.join(sorted(unknown))}，可选：{', '.join(EDITABLE)}")
    if meta.get("level"):
        meta["level"] = normalize_level(str(meta["level"])) or _bad_level(str(meta["level"]))
    corpus = s.corpus_dir
    corpus.mkdir(parents=True, exist_ok=True)
    with library_lock(s.kb_dir):
        entries = _entries(corpus)
        ids = {doc_id_of(corpus / e["file"], e): e for e in entries}
        if (corpus / name).exists():
            raise LibraryError(f"语料库中已有同名文件“{name}”。新版本请使用不同的文件名，并用“替换”指定被替代的文档。")
        if replace and replace not in ids:
            raise LibraryError(f"要替换的文档不存在：{replace}。现有文档：{'、'.join(ids) or '无'}")
        explicit = meta.pop("doc_id", "")
        doc_id = explicit or Path(name).stem
        if doc_id in ids:
            if explicit:
                raise LibraryError(f"doc_id 已存在：{doc_id}")
            doc_id = next(f"{doc_id}-{i}" for i in range(2, 10_000) if f"{doc_id}-{i}" not in ids)

        # Read, parse and embed the staged copy first: every way a file can be bad shows up here.
        staged = corpus / f".staging-{os.getpid()}-{name}"
        shutil.copyfile(src, staged)
        try:
            # The metadata given wins over what the text says; the title also steers the structure parser.
            entry = {"file": name, "doc_id": doc_id, **meta}
            a = analyse(staged, entry, LazyEmbedder(s, embedder), lambda f, m: progress(0.8 * f, m))
            if not a.chunks:
                raise LibraryError(f"{name}：文档中没有可索引的正文")
            entry = {"file": name, "doc_id": doc_id, **{k: v for k, v in a.found.items() if k in EDITABLE and v},
                     **meta, "validity": "现行"}
            # Cached under the key the build will look up, so the build below embeds nothing again.
            DocCache(s.kb_dir / "docs", s.embed_model, artifact_version()).put(
                _key(s, doc_id, staged, entry), a)
        except CorpusError as e:
            staged.unlink(missing_ok=True)
            raise LibraryError(str(e).replace(staged.name, name)) from e
        except BaseException:
            staged.unlink(missing_ok=True)
            raise

        new_entries = [dict(e) for e in entries]
        if replace:
            old = next(e for e in new_entries if doc_id_of(corpus / e["file"], e) == replace)
            old.update(validity="被替代", replaced_by=doc_id)
            old.setdefault("doc_id", replace)
        new_entries.append(entry)
        os.replace(staged, corpus / name)
        _commit(s, entries, new_entries, undo=lambda: (corpus / name).unlink(missing_ok=True), progress=progress,
                embedder=embedder)
        return next(m for m in list_documents(s, embedder) if m.doc_id == doc_id)


def remove_document(s: Settings, doc_id: str, progress: Progress = say, embedder=None) -> DocMeta:
    """Take a document out of the corpus and the KB. The file is moved to <kb>/removed/, not deleted; a version it
    had superseded is in force again."""
    corpus = s.corpus_dir
    with library_lock(s.kb_dir):
        entries = _entries(corpus)
        ids = {doc_id_of(corpus / e["file"], e): e for e in entries}
        if doc_id not in ids:
            raise LibraryError(f"文档不存在：{doc_id}。现有文档：{'、'.join(ids) or '无'}")
        if len(ids) == 1:
            raise LibraryError("不能删除最后一篇文档：知识库至少需要一篇文档。")
        gone = ids[doc_id]
        removed = next(m for m in list_documents(s, embedder) if m.doc_id == doc_id)
        new_entries = []
        for e in entries:
            if e is gone:
                continue
            e = dict(e)
            if e.get("replaced_by") == doc_id:
                e.update(validity="现行", replaced_by="")
            new_entries.append(e)
        bin_dir = s.kb_dir / "removed"
        bin_dir.mkdir(parents=True, exist_ok=True)
        kept = bin_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{gone['file']}"
        os.replace(corpus / gone["file"], kept)  # same-folder renames are atomic; across filesystems, a copy
        _commit(s, entries, new_entries, undo=lambda: shutil.move(kept, corpus / gone["file"]), progress=progress,
                embedder=embedder)
        return removed


def _bad_level(value: str):
    raise LibraryError(f"未知的层级“{value}”，可选：{'、'.join(LEVELS)}")


def _key(s: Settings, doc_id: str, path: Path, entry: dict) -> str:
    return DocCache(s.kb_dir / "docs", s.embed_model, artifact_version()).key(doc_id, file_sha256(path), str(entry.get("title", "")))


def _commit(s: Settings, old: list[dict], new: list[dict], undo, progress: Progress, embedder=None) -> None:
    """Write the new manifest and rebuild; if the build fails, put the files and manifest back as they were
    (the KB itself only switches when a build completes, so it is still the old one)."""
    had_manifest = (s.corpus_dir / MANIFEST).exists()
    write_manifest(s.corpus_dir, new)
    try:
        build(s, progress=lambda f, m: progress(0.8 + 0.2 * f, m), embedder=embedder)
    except BaseException:
        undo()
        if had_manifest:
            write_manifest(s.corpus_dir, old)
        else:
            (s.corpus_dir / MANIFEST).unlink(missing_ok=True)
        raise
