"""Reads one document file (.txt .md .docx .pdf .html .htm .doc) into exact text, with page and heading offsets."""
from __future__ import annotations

import bisect
import contextlib
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

SUPPORTED: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", ".html", ".htm", ".doc")
DEFAULT_MB = 50


def _env_limit(default: int) -> int:
    raw = os.environ.get("MAX_DOCUMENT_MB")
    try:
        value = int(float(raw) * 1024 * 1024) if raw else default
    except ValueError:
        return default  # a typo in the setting must not stop the app from starting
    return value if value > 0 else default


MAX_BYTES: int = _env_limit(DEFAULT_MB * 1024 * 1024)
MAX_NAME = 200
MAX_PDF_PAGES = 2000
MAX_ZIP_ENTRIES = 5000
MAX_ZIP_RATIO = 100  # deflated XML is ~5-20x; a zip bomb is ~1000x
ZIP_RATIO_MIN_SIZE = 5 * 1024 * 1024  # small members may compress extremely well (empty parts)
DOC_TIMEOUT = 120  # seconds for a LibreOffice conversion

FINAL_PUNCT = "。；：！？!?;…"  # a line ending in these may end a paragraph
MID_PUNCT = "，、,（《“‘「『【("  # a line ending in these cannot end one
CLOSERS = "，。、；：！？）》”’」』】…%,.;:!?)"  # never starts a line (kinsoku), so it moves with the previous char
OPENERS = "（《“‘「『【(["  # never ends a line, so it moves with the next char
BLOCK_START = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百]+[）)]|\d{1,2}[．.、](?!\d)|[（(]\d{1,2}[）)]"
    r"|第[一二三四五六七八九十百零〇\d]+[章节条编部分]|专栏\s*\d+|附件\s*\d*|[①-⑳]|[●■◆▲•·]\s*)"
)
PAGE_NUMBER = re.compile(
    r"^(?:[-—–－―_~·•\s]*\d{1,4}[-—–－―_~·•\s]*|[-—–－―\s]*[一二三四五六七八九十百]+[-—–－―\s]*"
    r"|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|共\s*\d+\s*页\s*[,，]?\s*第\s*\d+\s*页"
    r"|\d+\s*/\s*\d+|(?:page|p\.)\s*\d+(?:\s*(?:of|/)\s*\d+)?)$",
    re.I,
)
HTML_IN_TEXT = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|script)\b", re.I)


class DocumentError(ValueError):
    """A file that cannot be read as a document; str(e) is a clear Chinese message for the user."""


class Extracted(BaseModel):
    """The text of one document; every offset the system stores points into `text`."""

    text: str  # line endings "\n" only
    pages: list[int] = []  # PDF only: pages[i] = offset in `text` where page i+1 starts
    headings: list[tuple[int, int]] = []  # .docx only: (line start offset, level 1..9)
    warnings: list[str] = []  # Chinese notes for the user


# ------------------------------------------------------------------------------------------------ generic


def max_bytes() -> int:
    """The size limit, read at call time so MAX_DOCUMENT_MB can be changed without re-importing."""
    return _env_limit(MAX_BYTES)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n % (1024 * 1024) else f"{n // (1024 * 1024)} MB"


def _supported_list() -> str:
    return "、".join(SUPPORTED)


def check_filename(name: str) -> str:
    """The bare file name (NFC, surrounding spaces removed), or DocumentError when it is unsafe or unsupported."""
    if not name or not name.strip():
        raise DocumentError("文件名为空，请为文件命名后再上传")
    # Cf covers bidi overrides (U+202E) that make "txt.exe" display as "exe.txt"
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf")), None)
    if bad is not None:
        raise DocumentError(f"文件名 {name!r} 含有控制字符（U+{ord(bad):04X}），请重命名后再上传")
    name = unicodedata.normalize("NFC", name.strip())  # macOS sends decomposed (NFD) names
    if "/" in name or "\\" in name:
        raise DocumentError(f"文件名“{name}”不能包含路径分隔符（/ 或 \\），请只上传文件本身")
    if ".." in name:
        raise DocumentError(f"文件名“{name}”不能包含“..”")
    if name.startswith("."):
        raise DocumentError(f"文件名“{name}”不能以“.”开头（隐藏文件）")
    if any(c in name for c in ':*?"<>|'):
        raise DocumentError(f"文件名“{name}”不能包含 : * ? \" < > | 等字符")
    if len(name) > MAX_NAME:
        raise DocumentError(f"文件名过长（{len(name)} 个字符，最多 {MAX_NAME} 个）：“{name[:30]}…”")
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED:
        raise DocumentError(f"不支持的文件类型“{ext or '无扩展名'}”（{name}），支持的格式：{_supported_list()}")
    return name


def extract(path: Path) -> Extracted:
    """Read one file into text; DocumentError (Chinese message naming the file) for anything unreadable."""
    path = Path(path)
    name = path.name
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise DocumentError(f"不支持的文件类型“{ext or '无扩展名'}”（{name}），支持的格式：{_supported_list()}")
    try:
        st = path.stat()
    except OSError as e:
        raise DocumentError(f"无法打开文件“{name}”：{e.strerror or e}") from e
    if not path.is_file():
        raise DocumentError(f"“{name}”不是普通文件")
    limit = max_bytes()
    if st.st_size > limit:  # checked before reading a single byte
        raise DocumentError(f"文件过大：“{name}”为 {_mb(st.st_size)}，超过上限 {_mb(limit)}")
    if st.st_size == 0:
        raise DocumentError(f"文件为空：“{name}”没有任何内容")
    reader = {".txt": _read_text, ".md": _read_text, ".docx": _read_docx, ".pdf": _read_pdf,
              ".html": _read_html, ".htm": _read_html, ".doc": _read_doc}[ext]
    out = reader(path, name)
    if "\r" in out.text:  # readers normalise already; a stray CR becomes a space so no offset moves
        out = out.model_copy(update={"text": out.text.replace("\r", " ")})
    if not out.text.strip():
        raise DocumentError(f"文件为空：“{name}”中没有可读取的文字")
    return out


# ---------------------------------------------------------------------------------------------- encodings


def _gb2312_level1() -> frozenset[str]:
    """The 3,755 most common simplified characters (GB2312 level 1, rows 0xB0-0xD7)."""
    out = set()
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return frozenset(out)


def _big5_common() -> frozenset[str]:
    """The 5,401 common traditional characters (Big5 0xA440-0xC67E)."""
    out = set()
    for hi in range(0xA4, 0xC7):
        for lo in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            if hi == 0xC6 and lo > 0x7E:
                break
            try:
                out.add(bytes([hi, lo]).decode("cp950"))
            except UnicodeDecodeError:
                pass
    return frozenset(out)


_COMMON: frozenset[str] | None = None
CJK_PUNCT = set("，。、；：？！“”‘’（）《》【】—…·「」『』〔〕［］　％～")


def _plausibility(text: str) -> float:
    """Share of non-ASCII characters that are common Chinese characters or punctuation: a wrong CJK codec
    produces rare characters, private-use code points, kana or hangul instead."""
    global _COMMON
    if _COMMON is None:
        _COMMON = _gb2312_level1() | _big5_common()
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 1.0
    good = sum(1 for c in wide if c in _COMMON or c in CJK_PUNCT)
    return good / len(wide)


def _normalise_codec(name: str) -> str:
    name = name.lower().replace("-", "_")
    if name in ("gb2312", "gbk", "cp936", "ms936", "euc_cn", "hz", "gb18030", "x_gbk"):
        return "gb18030"  # a superset: GBK-era files with rare characters still decode
    if name in ("big5", "big5_tw", "cp950", "x_x_big5"):
        return "cp950"
    return name


def _decode(raw: bytes, name: str, declared: str | None = None) -> tuple[str, str]:
    """(text, codec) for bytes in UTF-8 (±BOM), UTF-16/32 with BOM, GB18030/GBK, Big5 or what charset-normalizer
    finds; DocumentError for binary data or undecodable bytes."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                       (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return _check_binary(raw.decode(codec), name), codec
            except UnicodeDecodeError as e:
                raise DocumentError(f"无法解码文件“{name}”（{codec}，位置 {e.start}）") from e
    if b"\x00" in raw:
        raise DocumentError(f"“{name}”看起来是二进制文件而不是文本（含有 NUL 字节），请上传正确的文档")
    try:  # valid UTF-8 first: non-UTF-8 Chinese text is almost never valid UTF-8, and pages often declare wrongly
        return _check_binary(raw.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            codec = _normalise_codec(declared)
            return _check_binary(raw.decode(codec), name), codec
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong <meta charset> is common: fall back to detection
    # Chinese codecs first, judged by plausibility: charset-normalizer misreads short GBK texts as cp949/big5.
    scored = []
    for codec in ("gb18030", "cp950"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        scored.append((_plausibility(text[:200_000]), codec == "gb18030", codec, text))
    if scored:
        score, _, codec, text = max(scored)
        if score >= 0.6:
            return _check_binary(text, name), codec
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw).best()
    if best is not None:
        codec = _normalise_codec(best.encoding)
        try:
            return _check_binary(raw.decode(codec), name), codec
        except (LookupError, UnicodeDecodeError):
            pass
    raise DocumentError(f"无法识别文件“{name}”的文字编码，请另存为 UTF-8 编码后再上传")


CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # control characters other than \t \n \v \f \r


def _check_binary(text: str, name: str) -> str:
    controls = len(CONTROL.findall(text, 0, 1_000_000))  # a sample is enough to tell binary from text
    if "\x00" in text or controls > max(8, min(len(text), 1_000_000) // 100):
        raise DocumentError(f"“{name}”看起来是二进制文件而不是文本，请上传正确的文档")
    return text


def _newlines(text: str) -> str:
    # offsets point into the returned string, so line endings are the only thing ever changed
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ----------------------------------------------------------------------------------------------- .txt .md


def _read_text(path: Path, name: str) -> Extracted:
    text, codec = _decode(path.read_bytes(), name)
    if HTML_IN_TEXT.search(text):
        raise DocumentError(f"“{name}”的内容看起来是网页（含有 <html>、<body> 或 <script> 标签），"
                            f"请将扩展名改为 .html 后上传，以便只提取正文")
    shown = {"cp950": "Big5", "gb18030": "GB18030"}.get(codec, codec.upper())
    warnings = [] if codec in ("utf-8", "utf-8-sig") else [f"已按 {shown} 编码读取"]
    return Extracted(text=_newlines(text), warnings=warnings)


# --------------------------------------------------------------------------------------------------- .docx

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
SKIP_IN_PARAGRAPH = {W + "del", W + "moveFrom", W + "txbxContent", W + "pPr", W + "rPr", MC_FALLBACK,
                     W + "footnoteReference", W + "endnoteReference", W + "commentReference"}
HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.I)


def _check_zip(path: Path, name: str) -> None:
    """Reject non-zips and zip bombs from the central directory alone; zipfile later refuses to inflate a
    member past its declared size, so these numbers bound the real work."""
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentError(f"“{name}”不是 .docx 文件：它是旧版 Word（.doc）格式或已加密，"
                            f"请在 Word 中另存为 .docx（并取消密码）后再上传")
    if not zipfile.is_zipfile(path):
        raise DocumentError(f"“{name}”不是有效的 .docx 文件（文件已损坏或并非 Word 文档）")
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise DocumentError(f"“{name}”已损坏，无法打开（{e}）") from e
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DocumentError(f"“{name}”包含 {len(infos)} 个内部文件，超过上限 {MAX_ZIP_ENTRIES}，拒绝读取")
    total = sum(i.file_size for i in infos)
    if total > max(4 * max_bytes(), 200 * 1024 * 1024):
        raise DocumentError(f"“{name}”解压后为 {_mb(total)}，过大（疑似压缩炸弹），拒绝读取")
    for i in infos:
        if i.file_size > ZIP_RATIO_MIN_SIZE and i.file_size > MAX_ZIP_RATIO * max(i.compress_size, 1):
            raise DocumentError(f"“{name}”中的 {i.filename} 压缩比异常（{i.file_size // max(i.compress_size, 1)}:1，"
                                f"疑似压缩炸弹），拒绝读取")
    if "word/document.xml" not in {i.filename for i in infos}:
        raise DocumentError(f"“{name}”不是有效的 Word 文档（缺少 word/document.xml）")


def _read_docx(path: Path, name: str) -> Extracted:
    import docx
    from docx.table import Table

    _check_zip(path, name)
    try:
        document = docx.Document(str(path))
    except Exception as e:  # python-docx raises KeyError, XMLSyntaxError, ValueError... on damaged parts
        raise DocumentError(f"“{name}”已损坏，无法作为 Word 文档读取（{type(e).__name__}）") from e
    lines: list[str] = []
    headings: list[tuple[int, int]] = []
    styles = {s.get(W + "styleId"): s for s in document.styles.element.iter(W + "style")}
    pos = 0
    try:
        numbering = _Numbering(document, styles)
        for el in _blocks(document.element.body):
            if el.tag == W + "p":
                new = (numbering.label(el) + _paragraph_text(el)).split("\n")
                level = _heading_level(el, styles)
                if level:
                    headings.append((pos, level))
            else:
                new = [_row_text(row) for row in Table(el, document).rows]
            for line in new:
                lines.append(line)
                pos += len(line) + 1
    except (ValueError, IndexError, KeyError, AttributeError) as e:  # malformed tables or attributes
        raise DocumentError(f"“{name}”的内容结构已损坏，无法读取（{type(e).__name__}）") from e
    warnings = ["已将 Word 自动编号（如“一、”“（一）”）写入正文"] if numbering.used else []
    return Extracted(text=_newlines("\n".join(lines)), headings=headings, warnings=warnings)


def _blocks(parent):
    """Body paragraphs and tables in document order, looking through content controls (w:sdt)."""
    for child in parent.iterchildren():
        if child.tag in (W + "p", W + "tbl"):
            yield child
        elif child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _blocks(content)


def _paragraph_text(p) -> str:
    """Visible text: runs inside hyperlinks, fields, smart tags and tracked insertions count; deleted text,
    text boxes and the duplicate fallback of alternate content do not."""
    out: list[str] = []

    def walk(el) -> None:
        for child in el.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in SKIP_IN_PARAGRAPH:
                continue
            if tag == W + "t":
                out.append(_newlines(child.text or ""))
            elif tag in (W + "tab", W + "ptab"):
                out.append("\t")
            elif tag == W + "br":
                out.append("\n" if child.get(W + "type") in (None, "textWrapping") else "")
            elif tag == W + "cr":
                out.append("\n")
            elif tag == W + "noBreakHyphen":
                out.append("-")
            else:
                walk(child)

    walk(p)
    return "".join(out)


def _cell_text(tc) -> str:
    parts = []
    for el in _blocks(tc):
        if el.tag == W + "p":
            parts.append(_paragraph_text(el).replace("\n", " "))
        else:
            parts.extend(" ".join(_cell_text(c) for c in tr.iter(W + "tc")) for tr in el.iter(W + "tr"))
    return " ".join(p.strip() for p in parts if p.strip())


def _row_text(row) -> str:
    """One line per row, cells joined with " | "; a merged cell counts once."""
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(_cell_text(cell._tc))
    return " | ".join(cells)


def _heading_level(p, styles: dict) -> int | None:
    """1..9 from a Heading N / 标题 N style (or one based on it) or an outline level on the paragraph or style."""
    ppr = p.find(W + "pPr")
    lvl = ppr.find(W + "outlineLvl") if ppr is not None else None
    if lvl is not None:
        return _outline_level(lvl)
    style_id = ppr.find(W + "pStyle").get(W + "val") if ppr is not None and ppr.find(W + "pStyle") is not None else None
    for _ in range(10):  # follow basedOn, bounded against cycles
        st = styles.get(style_id) if style_id else None
        if st is None:
            return None
        nm = st.find(W + "name")
        m = HEADING_STYLE.match((nm.get(W + "val") if nm is not None else "").strip())
        if m:
            return int(m.group(1))
        spr = st.find(W + "pPr")
        slvl = spr.find(W + "outlineLvl") if spr is not None else None
        if slvl is not None:
            return _outline_level(slvl)
        based = st.find(W + "basedOn")
        style_id = based.get(W + "val") if based is not None else None
    return None


CN_DIGITS = "〇一二三四五六七八九"
TIANGAN = "甲乙丙丁戊己庚辛壬癸"


def _cn_numeral(n: int, digits: str = CN_DIGITS, ten: str = "十") -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一〇五 (ordinals of list items)."""
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 and ten == "十" else digits[tens]) + ten + (digits[ones] if ones else "")
    return "".join(digits[int(d)] for d in str(n))


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                       (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + sym, n - value
    return out


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("chineseCounting", "chineseCountingThousand", "taiwaneseCounting", "japaneseCounting",
               "ideographDigital", "taiwaneseCountingThousand"):
        return _cn_numeral(n)
    if fmt == "chineseLegalSimplified":
        return _cn_numeral(n, "零壹贰叁肆伍陆柒捌玖", "拾")
    if fmt == "ideographTraditional":
        return TIANGAN[(n - 1) % 10]
    if fmt.startswith("decimalEnclosedCircle") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt.startswith("decimalFullWidth"):
        return str(n).translate({ord(d): chr(0xFF10 + ord(d) - 0x30) for d in "0123456789"})
    if fmt in ("upperLetter", "lowerLetter"):
        letter = chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter if fmt == "upperLetter" else letter.lower()
    if fmt in ("upperRoman", "lowerRoman"):
        return _roman(n) if fmt == "upperRoman" else _roman(n).lower()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


class _Numbering:
    """Word's automatic list numbers ("一、", "（二）", "1．") live in numbering.xml, not in the paragraph text;
    they are rendered here so a .docx reads like the same document as .txt or .pdf and the structure parser
    sees its headings. Counters run per list (numId) in document order; a level restarts under its parent."""

    def __init__(self, document, styles: dict) -> None:
        self.styles = styles
        self.used = False
        self.abstract: dict[str, dict[int, dict[str, str]]] = {}  # abstractNumId → ilvl → lvl properties
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId → (abstractNumId, start overrides)
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for an in root.iter(W + "abstractNum"):
            self.abstract[an.get(W + "abstractNumId")] = {
                int(lv.get(W + "ilvl", "0")): self._lvl(lv) for lv in an.iter(W + "lvl")}
        for num in root.iter(W + "num"):
            ref = num.find(W + "abstractNumId")
            starts = {}
            for ov in num.iter(W + "lvlOverride"):
                so = ov.find(W + "startOverride")
                if so is not None and so.get(W + "val", "").isdigit():
                    starts[int(ov.get(W + "ilvl", "0"))] = int(so.get(W + "val"))
            if ref is not None:
                self.nums[num.get(W + "numId")] = (ref.get(W + "val"), starts)

    @staticmethod
    def _lvl(lv) -> dict[str, str]:
        def val(tag: str, default: str) -> str:
            el = lv.find(W + tag)
            return el.get(W + "val", default) if el is not None else default

        legal = "1" if lv.find(W + "isLgl") is not None else ""
        return {"start": val("start", "1"), "fmt": val("numFmt", "decimal"), "text": val("lvlText", ""),
                "suff": val("suff", "tab"), "style": val("pStyle", ""), "legal": legal}

    def _num_pr(self, p) -> tuple[str, int] | None:
        ppr = p.find(W + "pPr")
        npr = ppr.find(W + "numPr") if ppr is not None else None
        style_id = None
        if ppr is not None and ppr.find(W + "pStyle") is not None:
            style_id = ppr.find(W + "pStyle").get(W + "val")
        seen = 0
        while npr is None and style_id and seen < 10:  # numbering attached to the paragraph's style
            st = self.styles.get(style_id)
            spr = st.find(W + "pPr") if st is not None else None
            npr = spr.find(W + "numPr") if spr is not None else None
            if npr is None:
                based = st.find(W + "basedOn") if st is not None else None
                style_id, seen = (based.get(W + "val") if based is not None else None), seen + 1
        if npr is None:
            return None
        num_el, lvl_el = npr.find(W + "numId"), npr.find(W + "ilvl")
        num_id = num_el.get(W + "val") if num_el is not None else None
        if not num_id or num_id == "0" or num_id not in self.nums:
            return None
        if lvl_el is not None and lvl_el.get(W + "val", "").isdigit():
            return num_id, int(lvl_el.get(W + "val"))
        levels = self.abstract.get(self.nums[num_id][0], {})
        return num_id, next((i for i, lv in levels.items() if style_id and lv["style"] == style_id), 0)

    def label(self, p) -> str:
        found = self._num_pr(p)
        if not found:
            return ""
        num_id, ilvl = found
        abstract_id, starts = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        lvl = levels.get(ilvl)
        if lvl is None or lvl["fmt"] in ("bullet", "none"):
            return ""
        counters = self.counters.setdefault(num_id, {})
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        start = starts.get(ilvl, int(lvl["start"]) if lvl["start"].isdigit() else 1)
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start

        def render(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            sub = levels.get(k, lvl)
            n = counters.get(k, int(sub["start"]) if sub["start"].isdigit() else 1)
            return _format_number(n, "decimal" if lvl["legal"] and k != ilvl else sub["fmt"])

        text = re.sub(r"%([1-9])", render, lvl["text"])
        if not text:
            return ""
        self.used = True
        # Chinese numbers end in their own punctuation (一、 （一） 1．); others get the tab/space Word puts there
        joiner = "" if lvl["suff"] == "nothing" or text[-1] in "、．.）)：:" else " "
        return text + joiner


def _outline_level(el) -> int | None:
    """w:outlineLvl 0..8 → heading level 1..9; 9 means body text."""
    val = el.get(W + "val", "9")
    return int(val) + 1 if val.isdigit() and int(val) <= 8 else None


# ----------------------------------------------------------------------------------------------------- .pdf


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    first_w: float  # width of the first unbreakable token (to tell a wrapped line from a deliberate break)
    page: int = 0


def _read_pdf(path: Path, name: str) -> Extracted:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    with path.open("rb") as f:
        if b"%PDF-" not in f.read(1024):
            raise DocumentError(f"“{name}”不是有效的 PDF 文件（缺少 PDF 文件头）")
    try:
        pdf = pdfplumber.open(path)
    except Exception as e:
        if _is_password_error(e, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise DocumentError(f"“{name}”已加密（需要密码才能打开），请解除密码保护后再上传") from e
        raise DocumentError(f"“{name}”已损坏，无法作为 PDF 读取（{type(e).__name__}）") from e
    with pdf:
        try:
            n = len(pdf.pages)
            if n > MAX_PDF_PAGES:
                raise DocumentError(f"“{name}”共 {n} 页，超过上限 {MAX_PDF_PAGES} 页")
            pages = []
            for i, page in enumerate(pdf.pages):
                pages.append((_page_lines(page, i), float(page.height), float(page.width)))
                page.close()  # drop the page's parsed objects: memory stays flat on long documents
        except DocumentError:
            raise
        except Exception as e:
            if _is_password_error(e, (PDFPasswordIncorrect, PDFEncryptionError)):
                raise DocumentError(f"“{name}”已加密（需要密码才能打开），请解除密码保护后再上传") from e
            raise DocumentError(f"“{name}”已损坏，无法作为 PDF 读取（{type(e).__name__}）") from e
    return _assemble_pdf(pages, name)


def _is_password_error(e: BaseException, kinds: tuple[type, ...]) -> bool:
    # pdfplumber wraps pdfminer errors in PdfminerException; look through the chain
    seen = 0
    while e is not None and seen < 5:
        if isinstance(e, kinds) or any(isinstance(a, kinds) for a in getattr(e, "args", ())):
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


def _page_lines(page, index: int) -> list[_Line]:
    out = []
    for ln in page.extract_text_lines(return_chars=True, strip=True):
        # control characters from odd fonts would break the "\n only" contract; Kangxi radicals (⼀ U+2F00 for 一)
        # are what many Chinese fonts map ordinary characters to, and would hide headings such as "一、"
        text = re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", " ", ln["text"]).translate(_radicals()).strip()
        if not text:
            continue
        chars = [c for c in ln["chars"] if c["text"].strip()]
        out.append(_Line(text=text, x0=float(ln["x0"]), x1=float(ln["x1"]), top=float(ln["top"]),
                         bottom=float(ln["bottom"]), first_w=_first_token_width(chars), page=index))
    return out


_RADICALS: dict[int, str] = {}


def _radicals() -> dict[int, str]:
    """Kangxi radicals and CJK radical supplement → the unified ideograph they stand for (one char each)."""
    if not _RADICALS:
        for cp in [*range(0x2E80, 0x2EF4), *range(0x2F00, 0x2FD6)]:
            mapped = unicodedata.normalize("NFKC", chr(cp))
            if len(mapped) == 1 and mapped != chr(cp):
                _RADICALS[cp] = mapped
    return _RADICALS


def _first_token_width(chars: list[dict]) -> float:
    """A Latin word or number, or one CJK character with the closing punctuation glued to it."""
    if not chars:
        return 0.0
    texts = [c["text"] for c in chars]
    k = 0
    while k < len(texts) - 1 and texts[k] in OPENERS:  # an opening bracket never ends a line
        k += 1
    k += 1
    if _latin(texts[k - 1]):
        while k < len(texts) and (_latin(texts[k]) or texts[k] in ".-+/%"):
            k += 1
    while k < len(texts) and texts[k] in CLOSERS:
        k += 1
    return float(chars[k - 1]["x1"]) - float(chars[0]["x0"])


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _assemble_pdf(pages: list[tuple[list[_Line], float, float]], name: str) -> Extracted:
    warnings: list[str] = []
    if not any(lines for lines, _, _ in pages):
        raise DocumentError(f"无法提取文本，可能为扫描件：“{name}”没有文字层，请先进行文字识别（OCR）后再上传")
    all_text = "".join(ln.text for lines, _, _ in pages for ln in lines)
    if all_text.count("(cid:") * 6 > len(all_text) * 0.2:
        raise DocumentError(f"无法提取文本：“{name}”使用的字体缺少文字编码映射，提取结果为乱码，请换用其他方式导出的 PDF")
    bodies, removed = _strip_furniture(pages)
    if removed:
        warnings.append(f"已删除 {removed} 行页眉、页脚或页码")
    empty = [str(i + 1) for i, b in enumerate(bodies) if not b]
    if empty and len(empty) < len(bodies):
        warnings.append(f"第 {'、'.join(empty)} 页没有可提取的文字（可能为扫描页或空白页）")
    width = statistics.median(w for _, _, w in pages)
    layout = _layout([ln for b in bodies for ln in b], width)
    parts: list[str] = []
    size = 0
    offsets: list[int] = []
    prev: _Line | None = None
    for body in bodies:
        page_start = None
        for ln in body:
            if prev is not None:
                sep = _separator(prev, ln, layout)
                parts.append(sep)
                size += len(sep)
            if page_start is None:
                page_start = size
            parts.append(ln.text)
            size += len(ln.text)
            prev = ln
        offsets.append(size if page_start is None else page_start)
    return Extracted(text="".join(parts), pages=offsets, warnings=warnings)


def _strip_furniture(pages: list[tuple[list[_Line], float, float]]) -> tuple[list[list[_Line]], int]:
    """Drop running headers/footers (the same text, digits aside, at the same height on most pages) and
    page-number lines at the top or bottom edge of a page."""
    def key(ln: _Line) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", ln.text))

    n = len(pages)
    seen: Counter[tuple[str, str]] = Counter()
    ys: dict[tuple[str, str], list[float]] = {}
    for lines, height, _ in pages:
        for zone, cands in (("top", lines[:2]), ("bottom", lines[-2:])):
            for ln in cands:
                k = (zone, key(ln))
                seen[k] += 1
                ys.setdefault(k, []).append(ln.top if zone == "top" else height - ln.bottom)
    need = max(2, math.ceil(n * 0.4))  # 0.4: alternating odd/even-page headers still count
    running = {k for k, c in seen.items() if c >= need and n >= 2}

    def is_running(ln: _Line, zone: str, height: float) -> bool:
        k = (zone, key(ln))
        if k not in running:
            return False
        y = ln.top if zone == "top" else height - ln.bottom
        return abs(y - statistics.median(ys[k])) <= 3.0

    out, removed = [], 0
    for lines, height, _ in pages:
        body = list(lines)
        for _ in range(3):  # header, then a page number under it, etc.
            if body and (is_running(body[0], "top", height) or PAGE_NUMBER.match(body[0].text.strip())):
                body.pop(0)
                removed += 1
            if body and (is_running(body[-1], "bottom", height) or PAGE_NUMBER.match(body[-1].text.strip())):
                body.pop()
                removed += 1
        out.append(body)
    return out, removed


@dataclass
class _Layout:
    left: float
    right: float
    em: float
    indents: bool  # paragraphs begin with an indented first line
    pitch: float = 0.0  # usual distance between the tops of consecutive lines
    spaced: bool = False  # paragraphs are separated by extra vertical space


def _layout(lines: list[_Line], page_width: float) -> _Layout:
    if not lines:
        return _Layout(0.0, page_width, 10.0, False)
    em = statistics.median(ln.bottom - ln.top for ln in lines) or 10.0
    # the text block's left edge: where wrapped lines continue (every paragraph may be one indented line)
    left = min((ln.x0 for ln in lines if len(ln.text) >= 2), default=lines[0].x0)
    right = _right_edge(lines, em, page_width - left)
    pairs = [(a, b) for a, b in zip(lines, lines[1:]) if a.page == b.page and b.top > a.top]
    pitch = statistics.median(b.top - a.top for a, b in pairs) if pairs else 0.0
    starts = [(a, b) for a, b in pairs if a.x1 < right - 3 * em and a.text[-1] in FINAL_PUNCT]
    indented = sum(1 for _, b in starts if left + 0.8 * em < b.x0 < left + 4.5 * em)
    spaced = sum(1 for a, b in starts if b.top - a.top > 1.3 * pitch)
    half = 0.5 * len(starts)
    return _Layout(left, right, em, bool(starts) and indented >= half, pitch, bool(starts) and spaced >= half)


def _right_edge(lines: list[_Line], em: float, symmetric: float) -> float:
    """The right margin: where most of the long lines end (the full lines of wrapped paragraphs), so a few lines
    with hanging punctuation or overflowing Latin words cannot move it. When few lines reach that far, or the
    longest lines are whole sentences, nothing wraps: the margin is then taken as wide as the left one."""
    xs = sorted(ln.x1 for ln in lines)
    cands = xs[bisect.bisect_left(xs, xs[-1] - 3 * em):]
    count, edge = max((bisect.bisect_right(cands, v + 1.0) - bisect.bisect_left(cands, v - 1.0), v) for v in cands)
    if count < 3:
        return max(xs[-1], symmetric)
    near = [ln for ln in lines if ln.x1 >= edge - em]
    if sum(1 for ln in near if ln.text[-1] in FINAL_PUNCT) >= 0.6 * len(near):
        return max(edge, symmetric)
    return edge


def _separator(prev: _Line, nxt: _Line, lay: _Layout) -> str:
    """"" when `nxt` continues the paragraph of `prev` (wrapped by the layout), else "\\n"; a space between
    two Latin words."""
    if not _continues(prev, nxt, lay):
        return "\n"
    return " " if _latin(prev.text[-1]) and _latin(nxt.text[0]) else ""


def _continues(prev: _Line, nxt: _Line, lay: _Layout) -> bool:
    if BLOCK_START.match(nxt.text):
        return False  # a new heading or item always starts a line
    if lay.indents and nxt.x0 > lay.left + 0.8 * lay.em:
        return False  # indented first line of a new paragraph (or centred / right-aligned line)
    if prev.text[-1] in MID_PUNCT:
        return True
    # wrapped by the layout: the next line's first word would not have fitted at the end of this one. `right` is
    # the furthest edge lines reach; in ragged (unjustified) text the real margin can be a narrow glyph further,
    # so this errs towards "wrapped": the punctuation and indentation rules guard real paragraph ends.
    wrapped = prev.x1 + nxt.first_w > lay.right - 0.1 * lay.em
    if not wrapped:
        return False
    if prev.text[-1] in FINAL_PUNCT:
        # a wrap right after 。 is provable only from how paragraphs are marked: indents or extra space
        if lay.indents:
            return True
        same_page = prev.page == nxt.page
        return lay.spaced and same_page and nxt.top - prev.top <= 1.15 * lay.pitch
    return True


# ---------------------------------------------------------------------------------------------- .html .htm

DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe",
             "frame", "frameset", "object", "embed", "svg", "canvas", "button", "select", "input", "textarea",
             "link", "meta", "title", "head")
CHROME_WORDS = ("nav", "menu", "footer", "header", "breadcrumb", "crumb", "share", "sidebar", "copyright", "banner",
                "toolbar", "topbar", "login", "search", "related", "recommend", "comment", "print", "fontsize",
                "position", "location", "friendlink", "links", "bottom", "advert", "qrcode", "weixin", "wechat",
                "skip", "popup", "modal", "cookie")
BLOCK_TAGS = {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl",
              "dt", "dd", "blockquote", "pre", "address", "figure", "figcaption", "center", "hr", "table", "tr",
              "tbody", "thead", "tfoot", "caption", "body", "html"}
CJK = re.compile(r"[\u3400-\u9fff]")
SOURCE_WRAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])[ \t\r\n]*\n[ \t\r\n]*(?=[\u3000-\u9fff\uff00-\uffef])")


def _read_html(path: Path, name: str) -> Extracted:
    from bs4 import BeautifulSoup, Comment

    raw = path.read_bytes()
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", raw[:8192], re.I)
    html, _ = _decode(raw, name, declared=m.group(1).decode("ascii") if m else None)
    soup = BeautifulSoup(_newlines(html), "lxml")
    warnings = []
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    if soup.find(["script", "style", "noscript"]):
        warnings.append("已删除网页中的脚本和样式")
    for tag in soup.find_all(DROP_TAGS):
        if tag.decomposed:
            continue
        if tag.name == "header" and tag.find_parent(["article", "main"]):
            continue  # an article's own header carries its title
        tag.decompose()
    if _drop_chrome(soup):
        warnings.append("已删除网页中的导航、页眉页脚等非正文内容")
    root = soup.body or soup
    prefix, root = _main_content(root)
    lines = [*prefix, *_html_lines(root)]
    text = "\n".join(ln for ln in lines if ln)
    if not text.strip():
        raise DocumentError(f"文件为空：网页“{name}”中没有可提取的正文文字")
    return Extracted(text=text, warnings=warnings)


def _cjk(tag) -> int:
    return len(CJK.findall(tag.get_text()))


def _attr_words(tag) -> list[str]:
    vals = [tag.get("id") or "", *(tag.get("class") or [])]
    return [w for v in vals for w in re.split(r"[-_\s]+", str(v).lower()) if w]


def _is_chrome(words: list[str]) -> bool:
    # whole tokens or their start/end ("topnav", "navbar", "leftmenu"), so "canvas" or "footnote" do not match
    return any(w == c or w.startswith(c) or w.endswith(c) for w in words for c in CHROME_WORDS)


def _drop_chrome(soup) -> bool:
    """Remove elements marked by id/class as site chrome, unless they hold the page's <h1> (an article header)
    or much of its Chinese text (a wrapper named "main-side" around everything)."""
    total = max(_cjk(soup), 1)
    dropped = False
    for tag in soup.find_all(True):
        if tag.decomposed or tag.name in ("html", "body") or not _is_chrome(_attr_words(tag)):
            continue
        if tag.find("h1") or _cjk(tag) > 0.4 * total:
            continue
        tag.decompose()
        dropped = True
    return dropped


def _main_content(root) -> tuple[list[str], object]:
    """An <article> holding most of the text, else descend while one child holds ≥80% of the Chinese text;
    headings and title blocks passed on the way down are kept as leading lines."""
    total = _cjk(root)
    if total == 0:
        return [], root
    articles = sorted(root.find_all("article"), key=_cjk, reverse=True)
    if articles and _cjk(articles[0]) >= 0.5 * total:
        return [], articles[0]
    prefix: list[str] = []
    node = root
    while True:
        kids = [k for k in node.find_all(True, recursive=False)]
        best = max(kids, key=_cjk, default=None)
        if best is None or _cjk(best) < 0.8 * _cjk(node) or best.name in ("p", "table", "tr", "li"):
            return prefix, node
        for sib in kids[: kids.index(best)]:
            if sib.name in ("h1", "h2", "h3") or any("title" in w for w in _attr_words(sib)):
                t = _inline_text(sib)
                if t and len(t) <= 120:
                    prefix.append(t)
        node = best


def _inline_text(tag) -> str:
    return " ".join(SOURCE_WRAP.sub("", tag.get_text(" ")).split())


def _html_lines(node) -> list[str]:
    from bs4 import NavigableString, Tag

    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            s = SOURCE_WRAP.sub("", "".join(buf))
            s = re.sub(r"[ \t\n\r\f\v]+", " ", s).strip()
            if s:
                lines.append(s)
            buf.clear()

    def walk(el) -> None:
        for child in el.children:
            if isinstance(child, NavigableString):
                buf.append(str(child))
            elif isinstance(child, Tag):
                if child.name == "br":
                    flush()
                elif child.name == "table" and _is_data_table(child):
                    flush()
                    for tr in child.find_all("tr"):
                        if tr.find_parent("table") is child:
                            cells = [_inline_text(c) for c in tr.find_all(["td", "th"], recursive=False)]
                            if any(cells):
                                lines.append(" | ".join(cells))
                elif child.name in BLOCK_TAGS or child.name in ("td", "th"):
                    flush()
                    walk(child)
                    flush()
                else:
                    walk(child)

    walk(node)
    flush()
    return lines


def _is_data_table(table) -> bool:
    """A table of values (one line per row), not a page layout made of tables."""
    if table.find("table"):
        return False
    for cell in table.find_all(["td", "th"]):
        if len(cell.get_text()) > 300 or len(cell.find_all(["p", "div", "br", "h1", "h2", "h3"])) > 1:
            return False
    return True


# ------------------------------------------------------------------------------------------------------ .doc


def _read_doc(path: Path, name: str) -> Extracted:
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"PK"):
        out = _read_docx(path, name)  # a .docx saved with the old extension
        return out.model_copy(update={"warnings": [*out.warnings, "该文件实为 .docx 格式，已按 .docx 读取"]})
    if head.startswith(b"{\\rtf"):
        raise DocumentError(f"“{name}”实为 RTF 格式，请在 Word 中另存为 .docx 后再上传")
    if not head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DocumentError(f"“{name}”不是有效的 .doc 文件（文件已损坏或并非 Word 文档）")
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise DocumentError(f"无法读取 .doc 文件：本机未安装 LibreOffice，请将文件另存为 .docx 后再上传（{name}）")
    with tempfile.TemporaryDirectory(prefix="doc2docx-") as tmp:
        src = Path(tmp) / "input.doc"  # a fixed name: the user's file name never reaches the command line
        shutil.copyfile(path, src)
        out_dir = Path(tmp) / "out"
        cmd = [exe, "--headless", "--norestore", "--nolockcheck", f"-env:UserInstallation=file://{tmp}/profile",
               "--convert-to", "docx", "--outdir", str(out_dir), str(src)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            proc.communicate(timeout=DOC_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # soffice forks soffice.bin: end the whole group it started
            proc.communicate()
            raise DocumentError(f"转换 .doc 文件“{name}”超时（{DOC_TIMEOUT} 秒），请另存为 .docx 后再上传")
        converted = out_dir / "input.docx"
        if proc.returncode != 0 or not converted.exists():
            raise DocumentError(f"无法转换 .doc 文件“{name}”（文件可能已损坏或加密），请另存为 .docx 后再上传")
        out = _read_docx(converted, name)
    return out.model_copy(update={"warnings": [*out.warnings, "已通过 LibreOffice 将 .doc 转换为 .docx 后读取"]})
