"""The document library: add, replace and remove one document of the corpus, keeping the KB in step with it.

A change is a transaction. Its corpus as it will be is proposed in a hidden folder, corpus/.staging/<pid>/ (the
new file, hard links to the others, the new manifest), and the KB is built from that. Only when the new KB is in
place are the corpus and manifest changed, following an intent file (commit.json) written first. So a change
killed at any point leaves the corpus, manifest and KB as they were, or finishes it: the next library command
(under the library lock, so nothing else is in progress) deletes a proposal without intent and carries out one
with it. The build never sees a half-made change, even when it is started by another command.

An add is staged (LibrarySettings.staged_add): the transaction commits a KB in which the new document is searchable
by keywords, addresses, tables and provisions but its dense vectors are pending (embedding is ~1 s per 1,000
characters on 2 cores); the second stage, `indexer.build.complete`, embeds it outside the transaction and switches to
the complete KB. A KB left with pending documents (a process killed in between) is valid; the next build completes it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

from indexer.build import Progress, analyse, build, build_lock, complete, pending, say
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

log = logging.getLogger(__name__)
SEARCHABLE = "已可检索（关键词检索），正在计算语义向量…"
EDITABLE = ("title", "issuer", "doc_number", "date", "level", "region", "doc_type")
STAGING = ".staging"  # corpus/.staging/<pid>/: a change in progress (hidden: the loader reads top-level files only)
INTENT = "commit.json"
# Letters (Chinese included) and digits, then also - _ . ; no "..": ids name cache entries and appear in URLs.
DOC_ID = re.compile(r"[^\W_][\w.-]{0,99}")


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
                 replace: str | None = None, progress: Progress = say, embedder=None, finish: bool = True) -> DocMeta:
    """Add `src` to the corpus as `name` and update the KB; with `replace`, that document is kept but marked
    被替代 (superseded by the new one). The file is read and parsed before anything is changed, and the corpus
    changes only once the KB with the new document is in place (see the module's docstring), so a bad file, a
    failed build or a killed process never alters the library or the index. A safe `doc_id` (letters, digits,
    - _ .) may be given in `meta`; content already in the library is refused unless it is `replace`'s.
    Staged (LibrarySettings.staged_add), the document is searchable when the transaction ends, its vectors pending;
    `finish` then embeds them before returning (else call indexer.build.complete, as the web app does in the
    background). Unstaged, it is embedded inside the transaction, as before.
    """
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
        recover_locked(s)
        entries = _entries(corpus)
        ids = {doc_id_of(corpus / e["file"], e): e for e in entries}
        if (corpus / name).exists():
            raise LibraryError(f"语料库中已有同名文件“{name}”。新版本请使用不同的文件名，并用“替换”指定被替代的文档。")
        if replace and replace not in ids:
            raise LibraryError(f"要替换的文档不存在：{replace}。现有文档：{'、'.join(ids) or '无'}")
        explicit = meta.pop("doc_id", "")
        if explicit:
            check_doc_id(explicit)
        doc_id = explicit or Path(name).stem
        if doc_id in ids:
            if explicit:
                raise LibraryError(f"doc_id 已存在：{doc_id}")
            doc_id = next(f"{doc_id}-{i}" for i in range(2, 10_000) if f"{doc_id}-{i}" not in ids)

        stage = _stage(corpus)
        try:
            # Read and parse a copy first: every way a file can be bad shows up before anything changes.
            staged = stage / name
            shutil.copyfile(src, staged)
            digest = file_sha256(staged)
            _refuse_duplicate(name, replace, [d for d, e in ids.items() if file_sha256(corpus / e["file"]) == digest])
            # The metadata given wins over what the text says; the title also steers the structure parser.
            entry = {"file": name, "doc_id": doc_id, **meta}
            a = analyse(staged, entry, LazyEmbedder(s, embedder), lambda f, m: progress(0.8 * f, m),
                        vectors=not s.library.staged_add)
            if not a.chunks:
                raise LibraryError(f"{name}：文档中没有可索引的正文")
            # The same text in another format or encoding (a .docx of a .txt already there) is a duplicate too.
            text = _text_digest(a.document.text)
            _refuse_duplicate(name, replace, [d for d, t in _kb_texts(s, embedder).items() if t == text and d in ids])
            entry = {"file": name, "doc_id": doc_id, **{k: v for k, v in a.found.items() if k in EDITABLE and v},
                     **meta, "validity": "现行"}
            # Handed to the build under the key it will look up, so it neither reads nor embeds the file again.
            known = {_key(s, doc_id, staged, entry): a}

            new_entries = [dict(e) for e in entries]
            if replace:
                old = next(e for e in new_entries if doc_id_of(corpus / e["file"], e) == replace)
                old.update(validity="被替代", replaced_by=doc_id)
                old.setdefault("doc_id", replace)
            new_entries.append(entry)
            _propose(corpus, stage, new_entries, leave_out=None)
            _build_and_commit(s, stage, [(staged, corpus / name)], progress, embedder, known)
        except CorpusError as e:
            raise LibraryError(str(e)) from e
        finally:
            _unstage(corpus, stage)
        added = next(m for m in list_documents(s, embedder) if m.doc_id == doc_id)
    if pending(s):
        progress(1.0, SEARCHABLE)
        if finish:
            complete(s, progress, embedder)
    return added


def remove_document(s: Settings, doc_id: str, progress: Progress = say, embedder=None) -> DocMeta:
    """Take a document out of the corpus and the KB. The file is moved to <kb>/removed/, not deleted; a version it
    had superseded is in force again."""
    corpus = s.corpus_dir
    with library_lock(s.kb_dir):
        recover_locked(s)
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
        stage = _stage(corpus)
        try:
            _propose(corpus, stage, new_entries, leave_out=gone["file"])
            _build_and_commit(s, stage, [(corpus / gone["file"], kept)], progress, embedder)
        finally:
            _unstage(corpus, stage)
        return removed


def _bad_level(value: str):
    raise LibraryError(f"未知的层级“{value}”，可选：{'、'.join(LEVELS)}")


def _key(s: Settings, doc_id: str, path: Path, entry: dict) -> str:
    return DocCache(s.kb_dir / "docs", s.embed_model, artifact_version(s)).key(doc_id, file_sha256(path), str(entry.get("title", "")))


def check_doc_id(doc_id: str) -> str:
    """`doc_id` if it is a safe identifier, else LibraryError (it names cache entries and appears in links)."""
    if not DOC_ID.fullmatch(doc_id) or ".." in doc_id:
        raise LibraryError(f"文档标识“{doc_id[:40]}”不可用：只能由字母、汉字、数字和 - _ . 组成，以字母、汉字或数字"
                           f"开头，不含“..”，最多 100 个字符（例如 zhejiang-nev-plan-2021）")
    return doc_id


def _refuse_duplicate(name: str, replace: str | None, same: list[str]) -> None:
    """Identical content twice would answer every question about it with the same clause cited twice."""
    same = [d for d in same if d != replace]  # a new version identical to the one it replaces changes nothing wrong
    if same:
        raise LibraryError(f"“{name}”的内容与已有文档 {'、'.join(same)} 完全相同，未加入。如果它是该文档的新版本，"
                           f"请指定替换 {same[0]}（命令行：--replace {same[0]}）；否则无需再次加入。")


def _text_digest(text: str) -> str:
    """Digest of the words only: whitespace, and the Markdown marks (#, *, HTML comments) that the .md reader drops
    but the .txt reader keeps, so the same text as .md and as .txt (any encoding, any line ends) is one content."""
    words = re.sub(r"[#*\s]", "", re.sub(r"<!--.*?-->", "", text, flags=re.S))
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


def _kb_texts(s: Settings, embedder=None) -> dict[str, str]:
    """doc_id → digest of its text (whitespace ignored), for the documents of the current KB."""
    if status(s) != "ok":
        build(s, embedder=embedder)
    with open(store.current_dir(s.kb_dir) / store.DOCS_FILE, encoding="utf-8") as fh:
        docs = [Document.model_validate_json(line) for line in fh if line.strip()]
    return {d.meta.doc_id: _text_digest(d.text) for d in docs}


def recover(s: Settings) -> list[str]:
    """Finish or undo what a killed library command left (see the module's docstring); what was done, in words.
    Commands call it first; not from inside a library change (it takes the library lock)."""
    if not s.corpus_dir.is_dir() or not (any((s.corpus_dir / STAGING).glob("*")) or any(s.corpus_dir.glob(".staging-*"))):
        return []
    with library_lock(s.kb_dir):
        return recover_locked(s)


def recover_locked(s: Settings) -> list[str]:
    """recover() for a caller that holds the library lock: any proposal left is then a dead process's."""
    done = []
    for stage in sorted((s.corpus_dir / STAGING).glob("*")):
        intent = stage / INTENT
        if intent.exists():  # the KB had been switched to the change: complete the corpus to match it
            for src, dst in json.loads(intent.read_text(encoding="utf-8")):
                if Path(src).exists():
                    Path(dst).parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(src, dst)
            done.append(f"完成了被中断的文档库更改（{stage.name}）")
        else:
            done.append(f"撤销了被中断的文档库更改（{stage.name}），语料与清单未改动")
        shutil.rmtree(stage, ignore_errors=True)
    for old in s.corpus_dir.glob(".staging-*"):  # staged copies of earlier versions of this module
        old.unlink(missing_ok=True)
        done.append(f"删除了遗留的暂存文件 {old.name}")
    for tmp in s.corpus_dir.glob(f".{MANIFEST}.*.tmp"):
        tmp.unlink(missing_ok=True)
    _unstage(s.corpus_dir)
    for line in done:
        log.warning(line)
    return done


def _unstage(corpus: Path, stage: Path | None = None) -> None:
    if stage is not None:
        shutil.rmtree(stage, ignore_errors=True)
    try:
        (corpus / STAGING).rmdir()
    except OSError:  # absent, or another proposal in it
        pass


def _stage(corpus: Path) -> Path:
    stage = corpus / STAGING / str(os.getpid())
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage


def _propose(corpus: Path, stage: Path, entries: list[dict], leave_out: str | None) -> None:
    """The corpus as it will be, in `stage`: links to the current files (minus `leave_out`) and the new manifest."""
    for p in corpus.iterdir():
        if p.is_file() and not p.name.startswith(".") and p.name not in (MANIFEST, leave_out) \
                and not (stage / p.name).exists():
            try:
                os.link(p, stage / p.name)
            except OSError:  # a filesystem without hard links
                shutil.copy2(p, stage / p.name)
    write_manifest(stage, entries)


def _build_and_commit(s: Settings, stage: Path, moves: list[tuple[Path, Path]], progress: Progress,
                      embedder=None, known: dict | None = None) -> None:
    """Build the KB from the proposal in `stage`, then make the real corpus match it: `moves` and the manifest.
    Staged (LibrarySettings.staged_add), what is not cached is left pending (`build(defer=True)`), so neither an
    add nor a remove waits for the model inside the transaction; `known`: artifacts the change has made already.

    The commit runs from the build's final progress report, while the build still holds its lock: a process
    that checks the KB meanwhile waits for the lock and then finds KB and corpus in step (a failed or killed
    build before it has changed nothing). An intent file written first lets the next command finish a commit
    that was killed halfway."""
    corpus = s.corpus_dir
    moves = [(str(a), str(b)) for a, b in moves] + [(str(stage / MANIFEST), str(corpus / MANIFEST))]
    committed = False

    def commit() -> None:
        nonlocal committed
        if committed:
            return
        tmp = stage / f".{INTENT}.tmp"
        tmp.write_text(json.dumps(moves, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, stage / INTENT)
        _record_corpus(s)
        for src, dst in moves:
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(src, dst)  # a rename within the corpus folder: atomic
        committed = True

    def report(f: float, m: str) -> None:
        if f >= 1.0:
            commit()
        progress(0.8 + 0.2 * f, m)

    build(s.model_copy(update={"corpus_dir": stage}), progress=report, embedder=embedder,
          defer=s.library.staged_add, known=known)
    commit()  # in case the build finished without a final report


def _record_corpus(s: Settings) -> None:
    """The new KB was built from the proposal; it records the real corpus folder (commands given only --kb use it)."""
    path = store.current_dir(s.kb_dir) / store.META_FILE
    meta = store.read_meta(s.kb_dir).model_copy(update={"corpus_dir": str(s.corpus_dir.resolve())})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(meta.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, path)
