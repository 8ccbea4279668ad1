"""Encoding detection (UTF-8/16/32, GB18030, Big5, charset-normalizer) and the .txt reader."""
from __future__ import annotations

import re
from pathlib import Path

from indexer.formats.common import DocumentError, Extracted, newlines

HTML_IN_TEXT = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|script)\b", re.I)


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


def decode(raw: bytes, name: str, declared: str | None = None) -> tuple[str, str]:
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


def read_text(path: Path, name: str) -> Extracted:
    text, codec = decode(path.read_bytes(), name)
    if HTML_IN_TEXT.search(text):
        raise DocumentError(f"“{name}”的内容看起来是网页（含有 <html>、<body> 或 <script> 标签），"
                            f"请将扩展名改为 .html 后上传，以便只提取正文")
    shown = {"cp950": "Big5", "gb18030": "GB18030"}.get(codec, codec.upper())
    warnings = [] if codec in ("utf-8", "utf-8-sig") else [f"已按 {shown} 编码读取"]
    return Extracted(text=newlines(text), warnings=warnings)
