"""The legacy .doc reader: converts with LibreOffice (headless, time-limited) and reads the result as .docx."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from indexer.formats.common import DocumentError, Extracted
from indexer.formats.docx import read_docx

DOC_TIMEOUT = 120  # seconds for a LibreOffice conversion


def read_doc(path: Path, name: str) -> Extracted:
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"PK"):
        out = read_docx(path, name)  # a .docx saved with the old extension
        return out.model_copy(update={"warnings": [*out.warnings, "该文件实为 .docx 格式，已按 .docx 读取"]})
    if head.startswith(b"{\\rtf"):
        raise DocumentError(f"“{name}”实为 RTF 格式，请在 Word 中另存为 .docx 后再上传")
    if not head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentError(f"“{name}”不是有效的 .doc 文件（文件已损坏或并非 Word 文档）")
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise DocumentError(f"无法读取 .doc 文件：本机未安装 LibreOffice，请将文件另存为 .docx 后再上传（{name}）")
    with tempfile.TemporaryDirectory(prefix="doc2docx-") as tmp:
        src = Path(tmp) / "input.doc"  # a fixed name: the user's file name never reaches the command line
        shutil.copyfile(path, src)
        out_dir = Path(tmp) / "out"
        cmd = [exe, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation=file://{tmp}/profile",
               "--convert-to", "docx", "--outdir", str(out_dir), str(src)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            proc.communicate(timeout=DOC_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # soffice forks soffice.bin: end the whole group it started
            proc.communicate()
            raise DocumentError(f"转换 .doc 文件“{name}”超时（{DOC_TIMEOUT} 秒），请另存为 .docx 后再上传")
        converted = out_dir / "input.docx"
        if proc.returncode != 0 or not converted.exists():
            raise DocumentError(f"无法转换 .doc 文件“{name}”（文件可能已损坏或加密），请另存为 .docx 后再上传")
        out = read_docx(converted, name)
    return out.model_copy(update={"warnings": [*out.warnings, "已通过 LibreOffice 将 .doc 转换为 .docx 后读取"]})
