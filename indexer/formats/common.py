"""What every reader shares: the result type, the error type, the size limit and newline normalisation."""
from __future__ import annotations

from pydantic import BaseModel

from kb.core.settings import env

SUPPORTED: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", ".html", ".htm", ".doc")
DEFAULT_MB = 50


def _env_limit(default: int) -> int:
    raw = env().MAX_DOCUMENT_MB
    try:
        value = int(float(raw) * 1024 * 1024) if raw else default
    except ValueError:
        return default  # a typo in the setting must not stop the app from starting
    return value if value > 0 else default


MAX_BYTES: int = _env_limit(DEFAULT_MB * 1024 * 1024)


class DocumentError(ValueError):
    """A file that cannot be read as a document; str(e) is a clear Chinese message for the user."""


class Extracted(BaseModel):
    """The text of one document; every offset the system stores points into `text`."""

    text: str  # line endings "\n" only
    pages: list[int] = []  # PDF only: pages[i] = offset in `text` where page i+1 starts
    headings: list[tuple[int, int]] = []  # .docx only: (line start offset, level 1..9)
    warnings: list[str] = []  # Chinese notes for the user


def max_bytes() -> int:
    """The size limit, read at call time so MAX_DOCUMENT_MB can be changed without re-importing."""
    return _env_limit(MAX_BYTES)


def mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n % (1024 * 1024) else f"{n // (1024 * 1024)} MB"


def newlines(text: str) -> str:
    # offsets point into the returned string, so line endings are the only thing ever changed
    return text.replace("\r\n", "\n").replace("\r", "\n")
