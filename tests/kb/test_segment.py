"""Segmentation with the real jieba and our domain dictionary."""
from pathlib import Path

import pytest

from kb.core.segment import Segmenter, corpus_terms, normalize

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seg():
    text = (REPO / "corpus" / "zhejiang-nev-14th-fyp-2021.txt").read_text(encoding="utf-8")
    return Segmenter(corpus_terms([text]))


@pytest.mark.parametrize("text, word", [
    ("到2025年，建成综合供能服务站800座以上", "综合供能服务站"),
    ("推动氢燃料电池汽车产业化", "氢燃料电池汽车"),
    ("专精特新“小巨人”企业100家", "专精特新"),
    ("累计培育5家以上新能源汽车“万亩千亿”新产业平台", "万亩千亿"),
    ("支持吉利集团布局中高端乘用车市场", "吉利集团"),
    ("三花集团新能源汽车热管理产品", "三花集团"),
    ("由省发展改革委牵头", "省发展改革委"),
])
def test_domain_terms_stay_whole(seg, text, word):
    assert word in seg.words(text)


@pytest.mark.parametrize("text, term", [
    ("研发高集成度电池模组和电池包封装技术、云端BMS等电池管理技术", "bms"),
    ("加强新能源汽车与智能电网（V2G）高效联动", "v2g"),
    ("布局SiC等宽禁带大功率器件", "sic"),
    ("L2级别以上智能汽车技术新车渗透率达到60%以上", "l2"),
    ("均胜智行全球首个5G-V2X平台项目即将量产", "5g-v2x"),
    ("车规级ＩＧＢＴ功率半导体器件", "igbt"),  # full-width letters are NFKC-normalised first
])
def test_abbreviations_are_single_tokens(seg, text, term):
    assert term in seg.tokens(text)


def test_nfkc_and_stopwords(seg):
    assert normalize("２０２５年ＡＢＣ") == "2025年abc"
    toks = seg.tokens("请问到２０２５年加氢站要建多少座？")
    assert "2025" in toks and "加氢站" in toks
    assert not {"请问", "多少", "？", "?"} & set(toks)


def test_sub_words_let_part_of_a_compound_match(seg):
    # A question saying 加氢 must still meet a passage that says 加氢站.
    assert "加氢" in seg.tokens("建成加氢站30座")
    assert "燃料电池" in seg.tokens("氢燃料电池汽车")


def test_corpus_terms_are_quoted_names_and_enterprises():
    terms = corpus_terms(["培育“单项冠军”企业，支持华友钴业和海康威视。"])
    assert {"单项冠军", "华友钴业", "海康威视"} <= set(terms)
