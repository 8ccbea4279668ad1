"""Extracts title, issuer, 文号, date, level, region and type from the text of a Chinese policy document.

Choices (documented because they shape citations and filters):
- A notice that issues or forwards another document (“关于印发《X》的通知”, “现将《X》印发给你们”) is described by
  the document it carries: title = X, doc_type from X. That is what users cite and search for, and it is the line
  the structure parser looks for to separate the 印发通知 from the body.
- The title is otherwise the first short, title-like line that ends with a document-type word (规划, 通知, 办法…),
  else the first title-like line; a title broken over two lines is re-joined.
- The issuer is the signature (the organisation line(s) right above the date line); else the part of the title
  before 关于. Joint issuers are joined with “、”.
- The date is the date line under the signature (else the first date standing alone on a line), as YYYY-MM-DD.
- 文号 brackets are normalised to 〔〕 (GB/T 9704 form) so 国办发[2020]39号 and 国办发〔2020〕39号 compare equal.
- level/region come from the issuer's place name; an issuer with no place name that is a ministry-like body
  (…部/…委/…总局/国务院…) is 国家级/全国. Keys that cannot be determined are left out, never guessed.
"""
from __future__ import annotations

import datetime as dt
import re

from kb.core.figures import cn_to_int
from kb.core.national import alternation, issuer_prefixes, issuer_suffixes

CN_NUM = "〇○零一二三四五六七八九十"
DOC_NUMBER = re.compile(
    r"([\u4e00-\u9fffA-Za-z]{1,15})\s*[〔\[［(（]\s*((?:19|20|2[1-9])\d{2})\s*[〕\]］)）]\s*(\d{1,5})\s*号"
)
DATE_ARABIC = re.compile(r"^[（(]?\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*[）)]?$")
DATE_CN = re.compile(rf"^[（(]?\s*([{CN_NUM}]{{4}})\s*年\s*([{CN_NUM}]{{1,3}})\s*月\s*([{CN_NUM}]{{1,3}})\s*日\s*[）)]?$")
DATE_ISO = re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})$")
DATE_LABEL = re.compile(r"^(?:成文日期|发布日期|印发日期|发文日期)[：:]\s*(.+)$")
ORG_SUFFIX = re.compile(
    r"(?:委员会|人民政府|政府|办公厅|办公室|领导小组|小组|厅|局|部|委|院|署|中心|协会|联合会|银行|总队|支队)$"
)
TITLE_TYPES = ("实施细则", "细则", "规划", "纲要", "通知", "通告", "通报", "公告", "意见", "办法", "方案", "决定",
               "指南", "指引", "条例", "规定", "规则", "计划", "措施", "要点", "批复", "报告", "决议", "公报",
               "标准", "规范", "导则", "目录", "清单", "政策", "复函", "函", "令")
HEADING = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d{1,2}[．.、]|第[一二三四五六七八九十\d]+[章节条])")
ISSUED = re.compile(r"(?:关于)?(?:印发|转发|发布|颁布)\s*《(.+?)》")
SENTENCE_END = "。！？；!?;"
PROVINCES = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省",
    "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
    "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区", "西藏自治区",
    "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区",
)
PROVINCE_ANY = re.compile(r"^([\u4e00-\u9fff]{2,3}省)")  # a name not in the list above (or an invented one)
NATIONAL_PREFIX = re.compile(rf"^(?:{alternation(issuer_prefixes())})")
NATIONAL_SUFFIX = re.compile(rf"(?:部|委员会|总局|总署|署|{alternation(issuer_suffixes())})$")
# 市 first: a lazy "…州" would cut 杭州市 to 杭州
CITY = tuple(re.compile(rf"^([\u4e00-\u9fff]{{1,8}}?{suffix})") for suffix in ("市", "自治州", "地区", "盟"))
COUNTY = re.compile(r"^([\u4e00-\u9fff]{1,8}?(?:县|区|旗|市))")


def extract_metadata(text: str) -> dict[str, str]:
    """The keys found among title, issuer, doc_number, date, level, region, doc_type (see the module notes)."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    out: dict[str, str] = {}
    title_line, title = _title(lines)
    if title:
        out["title"] = title
    issuer, date = _signature(lines)
    if not issuer and title_line:
        issuer = _issuer_from_title(title_line)
    if issuer:
        out["issuer"] = issuer
    if date:
        out["date"] = date
    number = _doc_number(lines)
    if number:
        out["doc_number"] = number
    level, region = _level_region(issuer, number)
    if level:
        out["level"] = level
    if region:
        out["region"] = region
    doc_type = _doc_type(title) if title else ""
    if doc_type:
        out["doc_type"] = doc_type
    return out


# ---------------------------------------------------------------------------------------------------- title


def _strip_suffixes(title: str) -> str:
    """"…办法（试行）" → "…办法"; "…规划（2021—2025年）" → "…规划"; also drops closing quotes."""
    t = title.strip().rstrip("”’》\"'")
    while True:
        m = re.search(r"[（(][^（()）]{1,20}[）)]$", t)
        if not m:
            return t
        t = t[: m.start()].rstrip()


def _doc_type(title: str) -> str:
    t = _strip_suffixes(title)
    for word in TITLE_TYPES:
        if t.endswith(word):
            return {"实施细则": "细则", "复函": "函"}.get(word, word)
    return ""


def _is_date(line: str) -> bool:
    return _parse_date(line) is not None


def _is_org(line: str) -> bool:
    parts = line.split()
    return 0 < len(parts) <= 6 and all(_is_org_name(p) for p in parts)


def _is_org_name(s: str) -> bool:
    return (3 <= len(s) <= 40 and bool(ORG_SUFFIX.search(s)) and not re.search(r"[，。；：:！？、\d《》“”]", s)
            and "关于" not in s)


def _title_like(line: str) -> bool:
    return (4 <= len(line) <= 80 and line[-1] not in SENTENCE_END + "：:，," and not _is_date(line)
            and not _is_org(line) and not DOC_NUMBER.fullmatch(line) and not HEADING.match(line)
            and not line.startswith(("附件", "抄送", "主送")))


def _title(lines: list[str]) -> tuple[str, str]:
    """(the line the title was read from, the title)."""
    head = lines[:40]
    candidates: list[str] = []
    for i, line in enumerate(head):
        if not _title_like(line):
            continue
        joined = _join_broken_title(line, head[i + 1] if i + 1 < len(head) else "")
        candidates.append(joined)
    typed = [c for c in candidates if _doc_type(c)]
    for c in typed:
        m = ISSUED.search(c)
        if m and _doc_type(m.group(1)):
            return c, m.group(1).strip()
    for line in head:  # "现将《X》印发给你们"
        m = re.search(r"将\s*《(.+?)》\s*(?:印发|转发)", line)
        if m:
            return line, m.group(1).strip()
    if typed:
        return typed[0], typed[0]
    if candidates:
        return candidates[0], candidates[0]
    return "", ""


def _join_broken_title(line: str, nxt: str) -> str:
    """A long title set on two lines: the first has an open 《 or a 关于 without the type word at its end."""
    if not nxt or _doc_type(line) or not _title_like(nxt):
        return line
    if line.count("《") > line.count("》") or ("关于" in line and _doc_type(nxt)):
        return line + nxt
    return line


def _issuer_from_title(title_line: str) -> str:
    head, sep, _ = title_line.partition("关于")
    return "、".join(head.split()) if sep and head and _is_org(head.replace("、", " ")) else ""


# ------------------------------------------------------------------------------------------ issuer and date


def _signature(lines: list[str]) -> tuple[str, str]:
    """Issuer and date from the signature block: organisation line(s) directly above a date line."""
    dates = [(i, _parse_date(ln)) for i, ln in enumerate(lines)]
    dates = [(i, d) for i, d in dates if d]
    for i, d in dates:
        orgs = []
        j = i - 1
        while j >= 0 and _is_org(lines[j]) and len(orgs) < 6:
            orgs.insert(0, lines[j])
            j -= 1
        if orgs:
            return "、".join(p for ln in orgs for p in ln.split()), d
    if dates:
        return "", dates[0][1]
    for ln in lines:
        m = DATE_LABEL.match(ln)
        if m and _parse_date(m.group(1).strip()):
            return "", _parse_date(m.group(1).strip()) or ""
    return "", ""


def _parse_date(line: str) -> str | None:
    s = line.strip()
    m = DATE_ARABIC.match(s) or DATE_ISO.match(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = DATE_CN.match(s)
        if not m:
            return None
        y, mo, d = (cn_to_int(g) for g in m.groups())
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------- 文号


def _doc_number(lines: list[str]) -> str:
    """The document's own number: a line of its own (or leading a short line such as "…号 签发人：…") near the
    top, or a "文号：" field; numbers cited inside sentences are other documents'."""
    for i, line in enumerate(lines):
        s = re.sub(r"^(?:文号|发文字号|发文号)[：:]\s*", "", line)
        m = DOC_NUMBER.match(s)
        if not m:
            continue
        labelled = s != line
        alone = m.end() == len(s) or (len(s) <= 40 and not any(c in s for c in SENTENCE_END))
        if labelled or (alone and i < 20):
            prefix, year, num = m.groups()
            return f"{prefix}〔{year}〕{num}号"
    return ""


# -------------------------------------------------------------------------------------------- level, region


def _level_region(issuer: str, number: str) -> tuple[str, str]:
    first = issuer.split("、")[0] if issuer else ""
    if first:
        return _from_issuer(first)
    if re.match(r"^国(?:办)?(?:发|函|办函)〔", number):  # 国发/国办发/国办函: the State Council's own series
        return "国家级", "全国"
    return "", ""


def _from_issuer(issuer: str) -> tuple[str, str]:
    province = next((p for p in PROVINCES if issuer.startswith(p)), "")
    if not province:
        m = PROVINCE_ANY.match(issuer)
        province = m.group(1) if m else ""
    if province:
        rest = issuer[len(province):]
        if province.endswith("市"):  # a municipality: its districts and counties come next (上海市浦东新区)
            county = _county(rest)
            return ("县级", province + county) if county else ("省级", province)
        city = _city(rest)
        if city:
            county = _county(rest[len(city):])
            return ("县级", city + county) if county else ("市级", city)
        return "省级", province
    if NATIONAL_PREFIX.match(issuer):
        return "国家级", "全国"
    if issuer.startswith("省"):  # "省发展改革委": a province's body written without its name
        return "省级", ""
    city = _city(issuer)
    if city:
        county = _county(issuer[len(city):])
        return ("县级", city + county) if county else ("市级", city)
    county = _county(issuer)
    if county:
        return "县级", county
    if NATIONAL_SUFFIX.search(issuer):
        return "国家级", "全国"
    return "", ""


def _is_place(name: str) -> bool:
    """Rule out words that merely end like a place name: 城市, 超市, 园区, 社区…"""
    return len(name) >= 2 and not re.search(r"(?:城市|超市|都市|园区|社区|小区|片区|景区|校区|厂区)$", name)


def _city(s: str) -> str:
    for pat in CITY:
        m = pat.match(s)
        if m and _is_place(m.group(1)):
            return m.group(1)
    return ""


def _county(s: str) -> str:
    m = COUNTY.match(s)
    return m.group(1) if m and _is_place(m.group(1)) else ""
