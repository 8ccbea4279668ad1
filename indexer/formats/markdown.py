"""The .md reader: Markdown as policy texts are published in repositories (ATX headings, HTML comments, emphasis).

The markup is dropped and heading levels are kept as `headings` (like Word heading styles), so "## 第一章 总则"
becomes the line "第一章 总则" at level 2 and an unnumbered "## 附则" is still a heading. Every remaining character
is the author's text, so quotes taken from the result occur verbatim in the file's content.
"""
from __future__ import annotations

import re
from pathlib import Path

from indexer.formats.common import DocumentError, Extracted, newlines
from indexer.formats.text import HTML_IN_TEXT, decode

ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
COMMENT = re.compile(r"<!--.*?-->", re.S)
RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")  # a thematic break (---, ***)
EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
QUOTE = re.compile(r"^\s{0,3}>\s?")


def read_markdown(path: Path, name: str) -> Extracted:
    raw, codec = decode(path.read_bytes(), name)
    text = newlines(COMMENT.sub("", raw))
    if HTML_IN_TEXT.search(text):
        raise DocumentError(f"“{name}”的内容看起来是网页（含有 <html>、<body> 或 <script> 标签），"
                            f"请将扩展名改为 .html 后上传，以便只提取正文")
    lines, headings, pos = [], [], 0
    for line in text.split("\n"):
        if RULE.match(line):
            line = ""
        m = ATX.match(line)
        if m:
            line = m.group(2)
            headings.append((pos, len(m.group(1))))
        else:
            line = EMPHASIS.sub(r"\2", QUOTE.sub("", line))
        lines.append(line)
        pos += len(line) + 1
    shown = {"cp950": "Big5", "gb18030": "GB18030"}.get(codec, codec.upper())
    warnings = [] if codec in ("utf-8", "utf-8-sig") else [f"已按 {shown} 编码读取"]
    return Extracted(text="\n".join(lines), headings=headings, warnings=warnings)
