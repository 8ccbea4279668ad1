"""Query and passage embeddings (float32, L2-normalised) from a local sentence-transformers model on CPU."""
from __future__ import annotations

import os
import warnings

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers.utils import logging as hf_logging

# kb.core.settings first: it sets HF_HUB_OFFLINE before transformers is imported
from kb.core.settings import DEFAULT_MODEL, Settings
from kb.embed import EmbedModelError, fingerprint, model_folder, usable_cpus

# Loading is local and silent: no weight-loading progress bars or config notices in users' terminals.
hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()


class Embedder:
    """Texts longer than the model's max_seq_length (512 tokens for e5) are truncated, so chunk below that."""

    def __init__(self, model: SentenceTransformer, model_id: str, query_prefix: str = "", passage_prefix: str = ""):
        self.model = model
        self.model_id = model_id  # stored with a KB, to notice that it was built with another model
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.dim: int = model.get_embedding_dimension()
        self._fast = None  # the frozen TorchScript encoder behind embed_query, built on first use

    def warm_up(self) -> None:
        """Prepare the fast single-question path (a 2-3 s one-off): worth it for a process that answers many."""
        if self._fast is None and self._mean_pooled():
            enc = self._tokenize("预热")
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings about shape checks that a batch of one never takes
                traced = torch.jit.trace(self.model[0].auto_model.eval(), (enc["input_ids"], enc["attention_mask"]),
                                         strict=False)
                self._fast = torch.jit.optimize_for_inference(torch.jit.freeze(traced))

    def embed_query(self, text: str) -> np.ndarray:
        """One question. After `warm_up`, the same fp32 encoder runs as a frozen TorchScript graph (oneDNN-fused):
        ~38 ms instead of ~50 ms on 2 cores, vectors equal to 1e-6. Otherwise the ordinary path."""
        if self._fast is None:
            return self.embed_queries([text])[0]
        enc = self._tokenize(self.query_prefix + text)
        with torch.inference_mode():
            out = self._fast(enc["input_ids"], enc["attention_mask"])
            hidden = out["last_hidden_state"] if isinstance(out, dict) else out[0]
            v = hidden[0].mean(0)  # one text, no padding: the masked mean is the plain mean
            v = v / v.norm()
        return v.numpy().astype(np.float32)

    def _tokenize(self, text: str):
        return self.model.tokenizer(text, return_tensors="pt", truncation=True, max_length=self.model.max_seq_length)

    def _mean_pooled(self) -> bool:
        mods = list(self.model)
        return (len(mods) == 3 and type(mods[0]).__name__ == "Transformer" and type(mods[2]).__name__ == "Normalize"
                and getattr(mods[1], "pooling_mode", None) == "mean" and getattr(mods[1], "include_prompt", True))

    @classmethod
    def from_settings(cls, s: Settings) -> Embedder:
        folder, name = model_folder(s)

        _limit_threads()
        try:
            model = SentenceTransformer(str(folder), device="cpu")
        except Exception as e:
            raise EmbedModelError(f"EMBED_MODEL={s.embed_model!r}: cannot load the model in {folder}: {e}") from e
        model.float()  # a folder saved in fp16 would otherwise run in fp16, which is ~4x slower on CPU
        if s.embed_model == DEFAULT_MODEL:  # loaded anyway: export the question graph if missing (once per model)
            from kb.embed.onnx_export import ensure_export

            ensure_export(model, folder)
        return cls(model, f"{name}#{fingerprint(folder)}", s.query_prefix, s.passage_prefix)

    def embed_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, self.query_prefix, batch_size)

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, self.passage_prefix, batch_size)

    def token_states(self, texts: list[str], batch_size: int = 32) -> list[tuple[np.ndarray, np.ndarray]]:
        """As OnnxEncoder.token_states: each passage's last hidden state and its tokens' starts in the text (-1:
        prefix and special tokens), for a mean-pooled model (late chunking, indexer/vectors.py)."""
        if not self._mean_pooled():
            raise ValueError("late chunking needs a mean-pooled model (PASSAGE_VECTORS=late)")
        n = len(self.passage_prefix)
        out: list = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        bert = self.model[0].auto_model.eval()
        for b in range(0, len(order), batch_size):
            rows = order[b:b + batch_size]
            enc = self.model.tokenizer([self.passage_prefix + texts[i] for i in rows], return_tensors="pt",
                                       padding=True, truncation=True, max_length=self.model.max_seq_length,
                                       return_offsets_mapping=True)
            offsets = enc.pop("offset_mapping").tolist()
            with torch.inference_mode():
                hidden = bert(**enc).last_hidden_state.float().numpy()
            for r, i in enumerate(rows):
                real = int(enc["attention_mask"][r].sum())
                starts = np.array([max(a, n) - n if z > n else -1 for a, z in offsets[r][:real]])
                out[i] = (hidden[r, :real], starts)
        return out

    def _encode(self, texts: list[str], prefix: str, batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        # prompt= always a string (possibly ""), so a default_prompt_name saved in the folder never adds a second one.
        vectors = self.model.encode(
            list(texts), prompt=prefix, batch_size=batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _limit_threads() -> None:
    """One torch thread per CPU we can actually use: more only adds contention. OMP_NUM_THREADS, if set, wins."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(usable_cpus())
