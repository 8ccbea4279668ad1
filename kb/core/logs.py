"""One logging configuration for the command lines, the web app, eval and bench.

Library code logs through `logging.getLogger(__name__)`; what users read (progress, rebuild notices) is at INFO
in Chinese, written to stderr as the bare message so `--json` output on stdout stays clean. LOG_LEVEL=DEBUG adds
times and module names.
"""
from __future__ import annotations

import logging
import sys

from kb.core.settings import env

_configured = False


def configure(level: str | None = None) -> None:
    """Idempotent: the first entry point to call it sets the handler; later calls only change the level."""
    global _configured
    name = (level or env().LOG_LEVEL or "INFO").upper()
    lvl = getattr(logging, name, logging.INFO)
    root = logging.getLogger()
    root.setLevel(lvl)
    if not _configured:
        handler = logging.StreamHandler(sys.stderr)
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s" if lvl <= logging.DEBUG else "%(message)s"
        handler.setFormatter(logging.Formatter(fmt))
        root.addHandler(handler)
        # Libraries that chat at INFO (httpx per request in gradio, jieba's dictionary notes) stay quiet.
        for noisy in ("httpx", "jieba", "urllib3", "sentence_transformers", "faiss", "bm25s"):
            logging.getLogger(noisy).setLevel(max(lvl, logging.WARNING))
        _configured = True
