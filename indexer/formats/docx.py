"""The .docx reader: zip-bomb checks, python-docx body/table walking, headings and Word list numbering."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from indexer.formats.common import DocumentError, Extracted, max_bytes, mb, newlines

MAX_ZIP_ENTRIES = 5000
MAX_ZIP_RATIO = 100  # deflated XML is ~5-20x; a zip bomb is ~1000x
ZIP_RATIO_MIN_SIZE = 5 * 1024 * 1024  # small members may compress extremely well (empty parts)

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
        raise DocumentError(f"“{name}”解压后为 {mb(total)}，过大（疑似压缩炸弹），拒绝读取")
    for i in infos:
        if i.file_size > ZIP_RATIO_MIN_SIZE and i.file_size > MAX_ZIP_RATIO * max(i.compress_size, 1):
            raise DocumentError(f"“{name}”中的 {i.filename} 压缩比异常（{i.file_size // max(i.compress_size, 1)}:1，"
                                f"疑似压缩炸弹），拒绝读取")
    if "word/document.xml" not in {i.filename for i in infos}:
        raise DocumentError(f"“{name}”不是有效的 Word 文档（缺少 word/document.xml）")


def read_docx(path: Path, name: str) -> Extracted:
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
    return Extracted(text=newlines("\n".join(lines)), headings=headings, warnings=warnings)


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
                out.append(newlines(child.text or ""))
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
