"""The .pdf reader: pdfplumber text lines, header/footer/page-number removal and re-joining of wrapped lines."""
from __future__ import annotations

import bisect
import math
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from indexer.formats.common import DocumentError, Extracted

MAX_PDF_PAGES = 2000

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


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    first_w: float  # width of the first unbreakable token (to tell a wrapped line from a deliberate break)
    page: int = 0


def read_pdf(path: Path, name: str) -> Extracted:
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
