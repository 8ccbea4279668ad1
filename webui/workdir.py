"""The web app's private temporary folder: Gradio's upload and file cache and the tables' downloads all live in
one folder made for this process (inside GRADIO_TEMP_DIR when set, else the system's temp dir) and removed when
the process exits, so no start leaves a folder behind. Call `private_tempdir()` before Gradio is imported."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from kb.core.settings import env

_dir: Path | None = None


def private_tempdir() -> Path:
    """This process's folder (made on first call); Gradio is pointed at its `gradio/` subfolder."""
    global _dir
    if _dir is None:
        _dir = Path(tempfile.mkdtemp(prefix="nev-app-", dir=env().GRADIO_TEMP_DIR or None))
        # Gradio reads this whenever it stores a file (uploads, downloads, cached outputs).
        os.environ["GRADIO_TEMP_DIR"] = str(_dir / "gradio")
        atexit.register(remove)
    return _dir


def upload_folder() -> Path:
    return private_tempdir() / "gradio"


def new_folder(prefix: str) -> Path:
    """A fresh subfolder for one app's own files (e.g. its table downloads)."""
    path = private_tempdir() / f"{prefix}{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    return path


def remove() -> None:
    if _dir is not None:
        shutil.rmtree(_dir, ignore_errors=True)
