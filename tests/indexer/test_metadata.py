"""Metadata extraction on the real plan (compared with corpus/manifest.json) and on fictional test documents."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.formats import extract
from indexer.metadata import _from_issuer, extract_metadata
from tests.fixtures.docs import (
    FICTIONAL_DOCS,
    FICTIONAL_EXPECTED,
    plan_text,
    write_docx,
    write_pdf,
)

REPO = Path(__file__).resolve().parents[2]
KEYS = ("title", "issuer", "date", "level", "region", "doc_type")


def test_plan_matches_the_manifest():
    manifest = next(e for e in json.loads((REPO / "corpus" / "manifest.json").read_text(encoding="utf-8"))
                    if e["file"] == "zhejiang-nev-14th-fyp-2021.txt")
    got = extract_metadata(plan_text())
    assert {k: got.get(k) for k in KEYS} == {k: manifest[k] for k in KEYS}
    assert "doc_number" not in got  # the stored text carries no 文号: nothing is invented


@pytest.mark.parametrize("name", sorted(FICTIONAL_DOCS))
def test_fictional_documents(name):
    assert extract_metadata(FICTIONAL_DOCS[name]) == FICTIONAL_EXPECTED[name]


def test_fictional_documents_are_marked():
    for name, text in FICTIONAL_DOCS.items():
        assert "【测试数据】" in text and "虚构" in text and "不是真实政策" in text, name


def test_metadata_survives_docx_and_pdf(tmp_path):
    expected = extract_metadata(plan_text())
    assert extract_metadata(extract(write_docx(plan_text(), tmp_path / "p.docx")).text) == expected
    for name, text in FICTIONAL_DOCS.items():
        pdf = tmp_path / (name + ".pdf")
        write_pdf(text, pdf, header=None)
        assert extract_metadata(extract(pdf).text) == FICTIONAL_EXPECTED[name]


@pytest.mark.parametrize("line,expected", [
    ("虚测发〔2099〕1号", "虚测发〔2099〕1号"),
    ("虚测发[2099]12号", "虚测发〔2099〕12号"),
    ("虚测发［2099］123号", "虚测发〔2099〕123号"),
    ("虚测发 ( 2099 ) 5 号", "虚测发〔2099〕5号"),
    ("文号：虚测规划〔2099〕152号", "虚测规划〔2099〕152号"),
    ("虚测发〔2099〕9号    签发人：虚构", "虚测发〔2099〕9号"),
])
def test_doc_numbers_are_normalised(line, expected):
    text = f"{line}\n【测试数据】关于虚构事项的通知\n正文。\n"
    assert extract_metadata(text)["doc_number"] == expected


def test_a_number_cited_in_a_sentence_is_not_the_documents_own():
    text = "【测试数据】关于虚构事项的通知\n根据虚测发〔2098〕3号文件精神，现通知如下。\n"
    assert "doc_number" not in extract_metadata(text)


def test_issuing_notice_is_typed_by_the_document_it_carries():
    text = ("虚构市测试局关于印发《【测试数据】虚构市充电设施管理办法（试行）》的通知\n各有关单位：\n"
            "现将《【测试数据】虚构市充电设施管理办法（试行）》印发给你们，请遵照执行。\n\n虚构市测试局\n2099年5月6日\n")
    got = extract_metadata(text)
    assert got["title"] == "【测试数据】虚构市充电设施管理办法（试行）"
    assert got["doc_type"] == "办法"
    assert got["issuer"] == "虚构市测试局" and got["level"] == "市级" and got["region"] == "虚构市"


def test_plain_notice_and_title_over_two_lines():
    text = "虚构市测试局关于开展虚构充电设施\n安全检查的通知\n各有关单位：\n请按要求开展检查。\n"
    got = extract_metadata(text)
    assert got["title"] == "虚构市测试局关于开展虚构充电设施安全检查的通知"
    assert got["doc_type"] == "通知"
    assert got["issuer"] == "虚构市测试局"  # no signature: taken from the title
    assert "date" not in got


def test_title_with_period_suffix_and_joint_issuers():
    text = ("【测试数据】虚构省新能源汽车发展规划（2091—2095年）\n正文。\n\n"
            "虚构省测试厅 虚构省样例局\n二〇九一年十二月三十一日\n")
    got = extract_metadata(text)
    assert got["doc_type"] == "规划"
    assert got["issuer"] == "虚构省测试厅、虚构省样例局"
    assert got["date"] == "2091-12-31"
    assert (got["level"], got["region"]) == ("省级", "虚构省")


@pytest.mark.parametrize("line,iso", [("2021年4月8日", "2021-04-08"), ("2021 年 4 月 8 日", "2021-04-08"),
                                      ("二○二一年四月八日", "2021-04-08"), ("（2099年12月1日）", "2099-12-01")])
def test_date_formats(line, iso):
    assert extract_metadata(f"【测试数据】关于虚构事项的通知\n正文。\n虚构市测试局\n{line}\n")["date"] == iso


def test_invalid_date_is_ignored():
    assert "date" not in extract_metadata("【测试数据】关于虚构事项的通知\n虚构市测试局\n2099年2月30日\n")


@pytest.mark.parametrize("issuer,level,region", [
    ("国务院办公厅", "国家级", "全国"), ("国家发展和改革委员会", "国家级", "全国"), ("工业和信息化部", "国家级", "全国"),
    ("虚构国家测试部", "国家级", "全国"), ("浙江省发展和改革委员会", "省级", "浙江省"), ("浙江省市场监督管理局", "省级", "浙江省"),
    ("省发展改革委", "省级", ""), ("北京市人民政府", "省级", "北京市"), ("上海市浦东新区人民政府", "县级", "上海市浦东新区"),
    ("杭州市人民政府", "市级", "杭州市"), ("温州市发展和改革委员会", "市级", "温州市"), ("杭州市城市管理局", "市级", "杭州市"),
    ("浙江省杭州市余杭区人民政府", "县级", "杭州市余杭区"), ("宁波市北仑区人民政府", "县级", "宁波市北仑区"),
    ("德清县人民政府", "县级", "德清县"), ("虚构市新能源汽车测试办公室", "市级", "虚构市"), ("虚构县新能源测试办公室", "县级", "虚构县"),
])
def test_level_and_region_from_issuer(issuer, level, region):
    assert _from_issuer(issuer) == (level, region)


def test_nothing_found():
    assert extract_metadata("") == {}
    assert extract_metadata("只是一句普通的话。\n") == {}
