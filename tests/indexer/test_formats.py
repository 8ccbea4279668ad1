"""File-format readers on generated documents (real python-docx, reportlab, pdfplumber, no mocks) and bad inputs."""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest

from indexer.formats import (
    MAX_BYTES,
    SUPPORTED,
    DocumentError,
    Extracted,
    check_filename,
    extract,
)
from indexer.structure import parse
from kb.core.records import DocMeta, Document
from tests.fixtures.docs import (
    FICTIONAL_BIG5,
    FICTIONAL_DOCS,
    PLAN_TITLE,
    heading_level,
    plan_text,
    write_docx,
    write_gb18030,
    write_pdf,
    write_pdf_flowing,
    write_scanned_pdf,
)

PAGE_NO_LINE = re.compile(r"^\s*-\s*\d+\s*-\s*$", re.M)


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def sections(text: str) -> list[tuple[tuple[str, ...], str, str]]:
    """What a citation is made of: each paragraph's heading path, kind and text (whitespace aside)."""
    doc = Document(meta=DocMeta(doc_id="plan", file="plan", title=PLAN_TITLE), text=text)
    return [(tuple(p.section), p.kind, squash(p.text)) for p in parse(doc)]


def sentence_sections(text: str) -> list[tuple[tuple[str, ...], str]]:
    doc = Document(meta=DocMeta(doc_id="plan", file="plan", title=PLAN_TITLE), text=text)
    return [(tuple(p.section), squash(s.text)) for p in parse(doc) for s in p.sentences]


@pytest.fixture(scope="module")
def plan() -> str:
    return plan_text()


@pytest.fixture(scope="module")
def plan_pdf(tmp_path_factory, plan) -> tuple[list[str], Extracted]:
    path = tmp_path_factory.mktemp("pdf") / "plan.pdf"
    drawn = write_pdf(plan, path)
    return drawn, extract(path)


@pytest.fixture(scope="module")
def plan_docx(tmp_path_factory, plan) -> Extracted:
    path = tmp_path_factory.mktemp("docx") / "plan.docx"
    write_docx(plan, path)
    return extract(path)


# -------------------------------------------------------------------------------------------- text encodings


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_plan_round_trips_in_each_encoding(tmp_path, plan, codec):
    p = tmp_path / "plan.txt"
    p.write_bytes(plan.encode(codec))
    assert extract(p).text == plan


def test_gb18030_copy_with_crlf(tmp_path, plan):
    out = extract(write_gb18030(plan, tmp_path / "plan.txt"))
    assert out.text == plan  # \r\n → \n and nothing else
    assert any("GB18030" in w for w in out.warnings)


@pytest.mark.parametrize("sample", ["测试", "充电桩", "发展规划", "到2025年，建成加氢站30座。", "【测试数据】本文件为虚构。",
                                    "虚构市新能源汽车测试办公室关于充电设施的通知"])
@pytest.mark.parametrize("codec", ["gbk", "gb18030"])
def test_short_gbk_texts_are_not_mistaken_for_other_codecs(tmp_path, sample, codec):
    # charset-normalizer alone reads several of these as cp949 or big5
    p = tmp_path / "short.md"
    p.write_bytes(sample.encode(codec))
    assert extract(p).text == sample


def test_big5_traditional_text(tmp_path):
    p = tmp_path / "big5.txt"
    p.write_bytes(FICTIONAL_BIG5.encode("big5"))
    assert extract(p).text == FICTIONAL_BIG5


def test_only_line_endings_are_normalised(tmp_path):
    text = "第一行\r\n  第二行\t制表　全角空格\r第三行\n"
    p = tmp_path / "mixed.txt"
    p.write_bytes(text.encode("utf-8"))
    assert extract(p).text == "第一行\n  第二行\t制表　全角空格\n第三行\n"


# ---------------------------------------------------------------------------------------------------- .docx


def test_plan_docx_text_is_the_txt(plan_docx, plan):
    assert plan_docx.text == plan
    assert plan_docx.pages == []


def test_plan_docx_reports_heading_styles(plan_docx, plan):
    lines = plan.split("\n")
    expected = [lv for ln in lines if (lv := heading_level(ln))]
    assert [lv for _, lv in plan_docx.headings] == expected
    for off, level in plan_docx.headings:
        assert off == 0 or plan_docx.text[off - 1] == "\n"
        line = plan_docx.text[off:].split("\n", 1)[0]
        assert heading_level(line) == level
    assert plan_docx.text[plan_docx.headings[0][0]:].startswith("一、现实基础与发展形势")


def test_docx_automatic_numbering_is_rendered(tmp_path, plan):
    """Headings numbered by Word ("一、"/"（一）" not typed but generated from numbering.xml) read like the .txt."""
    out = extract(write_docx(plan, tmp_path / "numbered.docx", numbering=True))
    assert out.text == plan
    assert sections(out.text) == sections(plan)
    assert any("自动编号" in w for w in out.warnings)


@pytest.mark.parametrize("n,fmt,expected", [
    (1, "chineseCounting", "一"), (10, "chineseCounting", "十"), (12, "chineseCountingThousand", "十二"),
    (20, "chineseCounting", "二十"), (3, "decimal", "3"), (3, "decimalFullWidth", "３"),
    (2, "decimalEnclosedCircle", "②"), (1, "ideographTraditional", "甲"), (4, "upperRoman", "IV"),
    (2, "lowerLetter", "b"), (11, "chineseLegalSimplified", "壹拾壹"),
])
def test_word_number_formats(n, fmt, expected):
    from indexer.formats.docx import _format_number

    assert _format_number(n, fmt) == expected


def test_docx_tables_are_rows_in_document_order(tmp_path):
    text = FICTIONAL_DOCS["test-city-charging-2099.txt"]
    rows = [["指标", "2099年目标"], ["公共充电站（座）", "120"], ["换电站（座）", "8"]]
    out = extract(write_docx(text, tmp_path / "t.docx", table=rows, table_after="（二）工作目标"))
    lines = out.text.split("\n")
    i = lines.index("（二）工作目标")
    assert lines[i + 1: i + 4] == ["指标 | 2099年目标", "公共充电站（座） | 120", "换电站（座） | 8"]
    assert lines[i + 4].startswith("到2099年")  # the paragraph after the table follows it


def test_docx_merged_cells_nested_content_and_breaks(tmp_path):
    from docx import Document as Docx

    d = Docx()
    d.add_paragraph("【测试数据】合并单元格")
    t = d.add_table(rows=2, cols=3)
    t.cell(0, 0).merge(t.cell(0, 1)).text = "合并表头"
    t.cell(0, 2).text = "单位"
    t.cell(1, 0).text = "第一段"
    t.cell(1, 0).add_paragraph("第二段")
    t.cell(1, 1).text = "30"
    t.cell(1, 2).text = "座"
    p = d.add_paragraph("软换行前")
    p.add_run().add_break()
    p.add_run("软换行后")
    d.save(str(tmp_path / "m.docx"))
    out = extract(tmp_path / "m.docx")
    assert out.text.split("\n") == ["【测试数据】合并单元格", "合并表头 | 单位", "第一段 第二段 | 30 | 座", "软换行前", "软换行后"]


def test_docx_chinese_style_names_and_outline_levels(tmp_path):
    from docx import Document as Docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = Docx()
    d.styles.add_style("标题 3", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("1．中文样式名的标题", style="标题 3")
    d.add_paragraph("正文")
    p = d.add_paragraph("大纲级别为二的段落")
    lvl = OxmlElement("w:outlineLvl")
    lvl.set(qn("w:val"), "1")
    p._p.get_or_add_pPr().append(lvl)
    d.add_paragraph("Title 样式不算标题", style="Title")
    d.save(str(tmp_path / "s.docx"))
    out = extract(tmp_path / "s.docx")
    assert out.headings == [(0, 3), (len("1．中文样式名的标题\n正文\n"), 2)]


# ----------------------------------------------------------------------------------------------------- .pdf


def test_plan_pdf_text_equals_the_txt(plan_pdf, plan):
    _, out = plan_pdf
    assert squash(out.text) == squash(plan)
    # the only difference beyond that: runs of spaces inside a line come back as one (专栏5   杭州湾… → 专栏5 杭州湾…)
    assert [ln for ln in out.text.split("\n") if ln] == [" ".join(ln.split()) for ln in plan.split("\n") if ln.strip()]


def test_pdf_page_offsets(plan_pdf):
    drawn, out = plan_pdf
    assert len(out.pages) == len(drawn) >= 10
    assert out.pages[0] == 0 and out.pages == sorted(set(out.pages))
    bounds = [*out.pages, len(out.text)]
    for i, page in enumerate(drawn):  # every page's text sits between its offset and the next page's
        assert squash(out.text[bounds[i]:bounds[i + 1]]) == squash(page)


def test_known_sentence_is_on_its_page(plan_pdf):
    drawn, out = plan_pdf
    sentence = "到2025年，建成加氢站30座。"
    page = next(i for i, p in enumerate(drawn) if sentence in squash(p))
    assert page >= 1
    off = out.text.index(sentence)
    assert out.pages[page] <= off < out.pages[page + 1]


def test_sentences_continue_across_page_breaks(plan_pdf):
    _, out = plan_pdf
    inside = [p for p in out.pages[1:] if out.text[p - 1] != "\n"]
    assert inside, "at least one page starts mid-paragraph in this layout"
    for p in inside:
        assert out.text[p - 1] not in "。；：！？"


def test_pdf_running_header_and_page_numbers_are_removed(plan_pdf, plan):
    _, out = plan_pdf
    assert not PAGE_NO_LINE.search(out.text)
    assert out.text.count(PLAN_TITLE) == plan.count(PLAN_TITLE)  # the header is the title: only the real ones stay
    assert any("页眉" in w for w in out.warnings)


def test_structure_is_identical_for_txt_docx_and_pdf(plan, plan_docx, plan_pdf):
    """The key property: the same clauses get the same section paths whatever the format."""
    expected = sections(plan)
    assert sections(plan_docx.text) == expected
    assert sections(plan_pdf[1].text) == expected


def test_other_layout_engine_and_cid_font(tmp_path, plan):
    """reportlab's paragraph engine wraps differently (hanging punctuation, lines overflowing the frame) and the
    CID font STSong-Light maps to Unicode through a CMap: the structure must still come out the same."""
    out = extract(write_pdf_flowing(plan, tmp_path / "flowing.pdf"))
    assert sections(out.text) == sections(plan)
    assert not re.search(r"^第\d+页$", out.text, re.M)


def test_unindented_pdf_with_paragraph_spacing(tmp_path, plan):
    path = tmp_path / "spaced.pdf"
    write_pdf(plan, path, indent=False, paragraph_gap=8)
    assert sections(extract(path).text) == sections(plan)


def test_unindented_unspaced_pdf_keeps_every_sentence_in_its_section(tmp_path, plan):
    # Here a wrapped line ending in 。 looks exactly like a paragraph end, so a few paragraphs are split there;
    # every sentence still gets the same section path.
    path = tmp_path / "flat.pdf"
    write_pdf(plan, path, indent=False)
    out = extract(path)
    assert squash(out.text) == squash(plan)
    assert sentence_sections(out.text) == sentence_sections(plan)


def test_short_single_page_pdf(tmp_path):
    text = FICTIONAL_DOCS["test-national-guide-2098.txt"]
    path = tmp_path / "guide.pdf"
    write_pdf(text, path, header=None)
    out = extract(path)
    assert out.pages == [0]
    assert out.text == text.strip().replace("\n\n", "\n")


# ---------------------------------------------------------------------------------------------------- .html

GOV_PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>虚构市测试网站</title>
<style>body{font-size:14px}</style><script>document.write("脚本里的文字");</script></head>
<body>
<div class="top-nav"><ul><li><a href="/">首页</a></li><li>政务公开</li></ul></div>
<div class="breadcrumb">当前位置：首页 &gt; 政策文件</div>
<div class="main-wrap">
  <div class="left-menu"><ul><li>通知公告</li><li>政策解读</li></ul></div>
  <div class="detail">
    <h1 class="article-title">【测试数据】虚构市新能源汽车充电设施建设补贴办法</h1>
    <div id="zoom" class="TRS_Editor">
      <p>&nbsp;&nbsp;本文件为虚构的测试数据，
      不是真实政策，仅用于软件测试。</p>
      <p>一、总体要求</p>
      <p>1．直流快充桩按每千瓦200元给予一次性建设补贴。</p>
      <table><tr><th>指标</th><th>2099年</th></tr><tr><td>公共充电站（座）</td><td>120</td></tr></table>
      <p>虚构市新能源汽车测试办公室<br>2099年2月15日</p>
    </div>
    <div class="share">分享到：微信 微博</div>
  </div>
</div>
<div class="footer"><p>版权所有：虚构市测试网站</p></div>
<script>alert("脚本")</script>
</body></html>
"""
GOV_TEXT = """【测试数据】虚构市新能源汽车充电设施建设补贴办法
本文件为虚构的测试数据，不是真实政策，仅用于软件测试。
一、总体要求
1．直流快充桩按每千瓦200元给予一次性建设补贴。
指标 | 2099年
公共充电站（座） | 120
虚构市新能源汽车测试办公室
2099年2月15日"""


@pytest.mark.parametrize("codec", ["gb18030", "utf-8"])  # the utf-8 copy still declares gb2312, as pages do
def test_html_main_text_only(tmp_path, codec):
    p = tmp_path / "page.html"
    p.write_bytes(GOV_PAGE.encode(codec))
    out = extract(p)
    assert out.text == GOV_TEXT
    assert "已删除网页中的脚本和样式" in out.warnings


def test_html_prefers_article(tmp_path):
    html = ("<html><body><div>侧栏里有很多很多很多很多很多的中文文字，但它不是正文内容，应当被舍弃掉。</div>"
            "<article><h1>【测试数据】文章标题</h1><p>正文第一段，有足够多的中文文字。</p><p>正文第二段也是中文。</p>"
            "<p>第三段继续增加中文字数，让文章成为页面的主体内容。</p></article></body></html>")
    p = tmp_path / "a.htm"
    p.write_text(html, encoding="utf-8")
    assert extract(p).text.split("\n") == ["【测试数据】文章标题", "正文第一段，有足够多的中文文字。", "正文第二段也是中文。",
                                           "第三段继续增加中文字数，让文章成为页面的主体内容。"]


def test_html_with_only_scripts_is_empty(tmp_path):
    p = tmp_path / "s.html"
    p.write_text("<html><body><script>var a='中文';</script></body></html>", encoding="utf-8")
    with pytest.raises(DocumentError, match="文件为空"):
        extract(p)


# ------------------------------------------------------------------------------------------------ bad inputs


def raises(path: Path, *fragments: str) -> str:
    with pytest.raises(DocumentError) as e:
        extract(path)
    msg = str(e.value)
    assert path.name in msg
    for f in fragments:
        assert f in msg
    return msg


def test_empty_and_whitespace_files(tmp_path):
    for name, data in [("empty.txt", b""), ("blank.md", " \r\n\t\n\u3000\n".encode()), ("empty.pdf", b"")]:
        p = tmp_path / name
        p.write_bytes(data)
        assert raises(p).startswith("文件为空")
    d = tmp_path / "blank.docx"
    write_docx("\n\n", d)
    assert raises(d).startswith("文件为空")


def test_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "big.pdf"
    with p.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: costs nothing
    assert MAX_BYTES == 50 * 1024 * 1024 or os.environ.get("MAX_DOCUMENT_MB")
    raises(p, "文件过大", "200 MB", "50 MB")
    monkeypatch.setenv("MAX_DOCUMENT_MB", "300")
    raises(p, "不是有效的 PDF")  # under the raised limit it is read, and found not to be a PDF


def test_unsupported_extension(tmp_path):
    p = tmp_path / "slides.pptx"
    p.write_bytes(b"PK")
    msg = raises(p, "不支持的文件类型", ".pptx")
    assert all(ext in msg for ext in SUPPORTED)


def test_binary_text_files(tmp_path):
    p = tmp_path / "image.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    raises(p, "二进制")
    q = tmp_path / "ctrl.md"
    q.write_bytes(bytes(range(1, 32)) * 20)
    raises(q, "二进制")


@pytest.mark.parametrize("snippet", ["<!DOCTYPE html><html><body>正文</body></html>", "正文<script>alert(1)</script>",
                                     "<BODY>正文</BODY>"])
def test_html_saved_as_txt(tmp_path, snippet):
    p = tmp_path / "page.txt"
    p.write_text(snippet, encoding="utf-8")
    raises(p, "网页", ".html")


def test_docx_that_is_not_a_zip(tmp_path):
    p = tmp_path / "broken.docx"
    p.write_bytes(b"this is not a word file " * 20)
    raises(p, "不是有效的 .docx")
    q = tmp_path / "old.docx"
    q.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    raises(q, ".doc", "加密")


def test_corrupt_docx(tmp_path):
    p = tmp_path / "corrupt.docx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types")
        z.writestr("word/document.xml", "<w:document>not xml")
    raises(p, "已损坏")
    q = tmp_path / "nodoc.docx"
    with zipfile.ZipFile(q, "w") as z:
        z.writestr("hello.txt", "你好")
    raises(q, "word/document.xml")
    good = write_docx("【测试数据】截断", tmp_path / "good.docx")
    r = tmp_path / "truncated.docx"
    r.write_bytes(good.read_bytes()[:-200])
    raises(r)


def test_zip_bomb_docx_is_refused_from_the_directory(tmp_path):
    p = tmp_path / "bomb.docx"
    block = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w") as f:
            for _ in range(40):
                f.write(block)
    assert p.stat().st_size < 1024 * 1024
    raises(p, "压缩炸弹")


def test_pdf_without_text_layer(tmp_path):
    p = write_scanned_pdf(tmp_path / "scan.pdf")
    assert raises(p).startswith("无法提取文本，可能为扫描件")


def test_corrupt_and_encrypted_pdf(tmp_path, plan_pdf):
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen.canvas import Canvas

    from tests.fixtures.docs import _font

    p = tmp_path / "junk.pdf"
    p.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 50)
    raises(p, "已损坏")
    q = tmp_path / "notpdf.pdf"
    q.write_text("纯文本，不是 PDF", encoding="utf-8")
    raises(q, "不是有效的 PDF")
    e = tmp_path / "locked.pdf"
    c = Canvas(str(e), encrypt=pdfencrypt.StandardEncryption("secret"))
    c.setFont(_font(), 12)
    c.drawString(72, 700, "【测试数据】加密")
    c.save()
    raises(e, "已加密")
    # permissions-only encryption (no password to open) is how many official PDFs are published: readable
    o = tmp_path / "restricted.pdf"
    c = Canvas(str(o), encrypt=pdfencrypt.StandardEncryption("", ownerPassword="owner", canCopy=0))
    c.setFont(_font(), 12)
    c.drawString(72, 700, "【测试数据】仅限制复制")
    c.save()
    assert extract(o).text == "【测试数据】仅限制复制"


def test_doc_without_libreoffice(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    p = tmp_path / "old.doc"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    raises(p, "无法读取 .doc 文件：本机未安装 LibreOffice，请将文件另存为 .docx 后再上传")
    r = tmp_path / "rich.doc"
    r.write_bytes(b"{\\rtf1\\ansi hello}")
    raises(r, "RTF")


def test_docx_saved_as_doc_is_read(tmp_path):
    p = tmp_path / "renamed.doc"
    write_docx("【测试数据】改了扩展名的文档", p)
    out = extract(p)
    assert out.text == "【测试数据】改了扩展名的文档" and out.warnings


def test_missing_file(tmp_path):
    raises(tmp_path / "nope.txt", "无法打开")


# ---------------------------------------------------------------------------------------------- file names


@pytest.mark.parametrize("name", ["浙江省规划.pdf", "plan.PDF", " 通知.docx ", "a.b.txt", "网页.htm", "旧文件.doc"])
def test_good_file_names(name):
    assert check_filename(name) == name.strip()


@pytest.mark.parametrize("name,fragment", [
    ("", "文件名为空"), ("   ", "文件名为空"), ("../etc/passwd.txt", "路径分隔符"), ("a/b.txt", "路径分隔符"),
    ("a\\b.txt", "路径分隔符"), ("a..txt", ".."), (".hidden.txt", "开头"), ("bad\x00name.txt", "控制字符"),
    ("tab\tname.txt", "控制字符"), ("rtl\u202etxt.exe", "控制字符"), ("x" * 201 + ".txt", "过长"),
    ("script.exe", "不支持的文件类型"), ("noext", "不支持的文件类型"), ("c:drive.txt", "不能包含"),
])
def test_bad_file_names(name, fragment):
    with pytest.raises(DocumentError, match=re.escape(fragment)):
        check_filename(name)


def test_unsupported_name_lists_supported_formats():
    with pytest.raises(DocumentError) as e:
        check_filename("表格.xlsx")
    assert "表格.xlsx" in str(e.value) and all(ext in str(e.value) for ext in SUPPORTED)


def test_pdf_kangxi_radicals_become_ordinary_characters(tmp_path):
    # many Chinese PDF fonts map 一 to the Kangxi radical ⼀ (U+2F00): headings like "一、" must survive
    path = tmp_path / "radicals.pdf"
    write_pdf("【测试数据】部首测试\n\u2f00、总体要求\n本段为虚构测试内容。", path, header=None)
    assert extract(path).text == "【测试数据】部首测试\n一、总体要求\n本段为虚构测试内容。"
