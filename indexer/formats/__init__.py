"""Reads one document file (.txt .md .docx .pdf .html .htm .doc) into exact text, with page and heading offsets."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from indexer.formats.common import (
    MAX_BYTES,
    SUPPORTED,
    DocumentError,
    Extracted,
    max_bytes,
    mb,
)
from indexer.formats.doc import read_doc
from indexer.formats.docx import read_docx
from indexer.formats.html import read_html
from indexer.formats.markdown import read_markdown
from indexer.formats.pdf import read_pdf
from indexer.formats.text import read_text

__all__ = ["MAX_BYTES", "SUPPORTED", "DocumentError", "Extracted", "check_filename", "extract", "max_bytes"]

MAX_NAME = 200


def _supported_list() -> str:
    return "、".join(SUPPORTED)


def check_filename(name: str) -> str:
    """The bare file name (NFC, surrounding spaces removed), or DocumentError when it is unsafe or unsupported."""
    if not name or not name.strip():
        raise DocumentError("文件名为空，请为文件命名后再上传")
    # Cf covers bidi overrides (U+202E) that make "txt.exe" display as "exe.txt"
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf")), None)
    if bad is not None:
        raise DocumentError(f"文件名 {name!r} 含有控制字符（U+{ord(bad):04X}），请重命名后再上传")
    name = unicodedata.normalize("NFC", name.strip())  # macOS sends decomposed (NFD) names
    if "/" in name or "\\" in name:
        raise DocumentError(f"文件名“{name}”不能包含路径分隔符（/ 或 \\），请只上传文件本身")
    if ".." in name:
        raise DocumentError(f"文件名“{name}”不能包含“..”")
    if name.startswith("."):
        raise DocumentError(f"文件名“{name}”不能以“.”开头（隐藏文件）")
    if any(c in name for c in ':*?"<>|'):
        raise DocumentError(f"文件名“{name}”不能包含 : * ? \" < > | 等字符")
    if len(name) > MAX_NAME:
        raise DocumentError(f"文件名过长（{len(name)} 个字符，最多 {MAX_NAME} 个）：“{name[:30]}…”")
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED:
        raise DocumentError(f"不支持的文件类型“{ext or '无扩展名'}”（{name}），支持的格式：{_supported_list()}")
    return name


def extract(path: Path) -> Extracted:
    """Read one file into text; DocumentError (Chinese message naming the file) for anything unreadable."""
    path = Path(path)
    name = path.name
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise DocumentError(f"不支持的文件类型“{ext or '无扩展名'}”（{name}），支持的格式：{_supported_list()}")
    try:
        st = path.stat()
    except OSError as e:
        raise DocumentError(f"无法打开文件“{name}”：{e.strerror or e}") from e
    if not path.is_file():
        raise DocumentError(f"“{name}”不是普通文件")
    limit = max_bytes()
    if st.st_size > limit:  # checked before reading a single byte
        raise DocumentError(f"文件过大：“{name}”为 {mb(st.st_size)}，超过上限 {mb(limit)}")
    if st.st_size == 0:
        raise DocumentError(f"文件为空：“{name}”没有任何内容")
    reader = {".txt": read_text, ".md": read_markdown, ".docx": read_docx, ".pdf": read_pdf,
              ".html": read_html, ".htm": read_html, ".doc": read_doc}[ext]
    out = reader(path, name)
    if "\r" in out.text:  # readers normalise already; a stray CR becomes a space so no offset moves
        out = out.model_copy(update={"text": out.text.replace("\r", " ")})
    if not out.text.strip():
        raise DocumentError(f"文件为空：“{name}”中没有可读取的文字")
    return out
