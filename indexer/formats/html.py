"""The .html/.htm reader: drops scripts and site chrome and keeps the page's main text."""
from __future__ import annotations

import re
from pathlib import Path

from indexer.formats.common import DocumentError, Extracted, newlines
from indexer.formats.text import decode

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


def read_html(path: Path, name: str) -> Extracted:
    from bs4 import BeautifulSoup, Comment

    raw = path.read_bytes()
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", raw[:8192], re.I)
    html, _ = decode(raw, name, declared=m.group(1).decode("ascii") if m else None)
    soup = BeautifulSoup(newlines(html), "lxml")
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
