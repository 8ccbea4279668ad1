"""Conventions of Chinese legislative drafting that any law, regulation or 办法 follows, which the answerer uses:
articles are labelled 第N条; the closing article says when the text takes effect ("本法自…起施行"); a penalty
article cites the duty it punishes by number ("违反本条例第十六条第二款规定的，…"); a clause may leave the details
to another body ("具体办法由国务院规定"). Nothing here is particular to one document.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from kb.core.figures import cn_to_int
from kb.core.records import PREAMBLE, Paragraph, Span

ARTICLE_LABEL = re.compile(r"第[零〇一二两三四五六七八九十百千\d]+条")
COMMENCEMENT = re.compile(r"自[^。；]{2,30}?起(?:施行|生效)")
# The enacting clause states why and on what basis a text was made: "为了…，根据…，制定本条例。" (a law's first
# article), "为贯彻落实…，特制定《…规划》" (a plan's preamble). A text may have none (企业所得税法 opens with who pays).
ENACTMENT = re.compile(r"(?:为了?|根据|依据|依照)[^。；]{2,}?(?:特)?(?:制定|编制)(?:本(?:法|条例|办法|规定|细则|规划|决定|意见)|《)")
# A clause that leaves the detail to another body or a later rule: it does not state the detail itself.
DELEGATION = re.compile(r"具体(?:办法|标准|条件|措施|规定|管理办法|实施办法|条件和标准)?(?:由|按照)[^，。；]{1,25}"
                        r"(?:规定|制定|确定|执行)|另行(?:规定|制定)|由[^，。；]{1,30}(?:根据|按照)[^，。；]{0,20}规定制定")
# "…的名录及管理办法，由国务院…部门规定": a named list or rule is someone else's to make. It leaves *that* detail
# out, so it counts only when it is about what the question asks (not another sentence of the same article).
# So does "…的种类范围，按照有关国家标准确定" or "其三包责任按照有关法律、法规的规定执行": the detail is in another rule,
# and a body's duty to write the rule.
DELEGATED = re.compile(r"(?:名录|目录|办法|标准|细则|范围|清单|条件|机制|程序)，?由[^，。；]{1,30}(?:规定|制定|确定|公布)[。；]"
                       r"|按照(?:国家)?有关(?:国家标准|标准|法律|法规|规定)[^，。；]{0,12}(?:确定|执行)[。；]"
                       # "…罐体的维修适用其他特别规定": what applies is written elsewhere
                       r"|适用(?:其他|另外的|专门的)?(?:特别|专门|其他)规定[。；]"
                       # "…并按照国务院规定加收利息": how much, from when, is that body's to say
                       r"|按照(?:国务院|国家|省人民政府|国务院[^，。；]{1,12}部门)(?:有关)?规定(?:的标准)?(?:加收|征收|收取|计算|给予)"
                       # "…部门应当制定、公布国家…并网技术标准": the standard is that body's to write, not in this text
                       r"|(?:部门|政府|机构|国务院|机关|局|厅|委员会)(?:应当|负责)(?:会同[^，。；]{1,20})?(?:制定|组织制定|拟定)(?:、(?:公布|发布))?"
                       r"[^，。；]{0,40}(?:标准|办法|名录|目录|细则)(?=[，。；和及])")
# A list's catch-all item ("（三）国务院规定的其他不征税收入", "国务院批准免税的其他情形"): what else belongs there is
# for that body to say, not written in the text.
CATCH_ALL = re.compile(r"(规定|批准|确定|认定|明确)[^，。；的]{0,4}的其他")
PENALTY = re.compile(r"罚款|警告|吊销|没收|拘留|责令停|处分|追究")
# A penalty clause cites the duty it punishes by number: "违反第二十三条第一款规定，未征得托修人书面同意…的".
CITED_DUTY = re.compile(r"违反(?:本(?:法|条例|办法|规定|细则))?(第[零〇一二两三四五六七八九十百千\d]+条(?:之[一二三四五六七八九十])?)"
                        r"(?:第([一二三四五六七八九十]+)款)?")
# A penalty article's sentence names the breach and then who deals with it: "违反本法规定，电网企业拒不收购…的，
# 由国家电力监管机构责令限期改正" — what follows is the consequence of that breach and of no other.
CONSEQUENCE = re.compile(r"违反[^。；]*?的，(?:由|处|依法)")
# The legislative history printed under a title (题注), one line a step: "2011年8月31日 宁波市…会议通过".
HISTORY_LINE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日\s*\S")
# What a question about the document's own record asks: when it was passed, revised, published, in force.
RECORD_ASKED = re.compile(r"通过|批准|修正|修订|修改|公布|施行|生效|废止|失效|什么时候|何时|哪年|哪一年|版本|历次")

# A question about a version of a text other than the one at hand: as first adopted (刚通过时, 修改前, 老版), as
# changed later (后来修改以后, 今年新出的), or the changes themselves (改了哪些条文, 和现在比). One text of a law says
# none of these (its history lines name the amending acts, not what they changed).
VERSION_ASKED = {
    "earlier": re.compile(r"刚(?:通过|出台|颁布|施行|实施|制定)(?:时|的时候)|原来的|原版|旧版|老版|(?:修改|修正|修订|改动|变动)(?:以|之)?前"
                          r"|(?:最早|最初|第一次)(?:通过|出台|颁布|制定|施行)?的(?:那|那一|第一)?版|第一版|初版"),
    "draft": re.compile(r"草案|征求意见稿|送审稿"),
    "later": re.compile(r"后来(?:又)?(?:修改|修正|修订)|最新(?:修改|修正|修订)|最近(?:修改|修正|修订)|今年(?:新)?出(?:台)?的|新出台的"
                        r"|(?:施行|实施|出台|通过)(?:以|之)?后(?:又|还)?(?:修改|修正|修订)过|中期评估(?:以|之)?后"),
    "changes": re.compile(r"(?:修正|修订|修改|改)了?(?:[^，。？?]{0,20}?的)?(?:哪些|什么|哪几)|(?:和|跟|与)现在(?:相)?比|相比现在"),
}


AMENDED = re.compile(r"修正|修订|修改")  # a history line of a text amended since adopted
# "最初是哪天通过的", "修正前是哪年通过的": when a version was adopted is the record the text's history lines keep.
RECORD_DATE_ASKED = re.compile(r"(?:什么时候|何时|哪天|哪一天|哪年|哪一年|几月几日|哪次会议)[^，。？?]{0,6}(?:通过|颁布|公布|修正|修订|修改|施行)"
                               r"|(?:通过|颁布|公布|修正|修订|修改|施行)[^，。？?]{0,4}(?:时间|日期)")


def version_asked(text: str) -> str:
    """"earlier", "later", "changes" or "" (the text at hand is asked about, or when a version was adopted)."""
    if RECORD_DATE_ASKED.search(text):
        return ""
    return next((kind for kind, pattern in VERSION_ASKED.items() if pattern.search(text)), "")


def article_of(p: Paragraph) -> str:
    """The article a paragraph belongs to ("第十二条"), or ""."""
    return next((lbl for lbl in reversed(p.section) if ARTICLE_LABEL.fullmatch(lbl)), "")


def commencement(paragraphs: list[Paragraph]) -> tuple[Paragraph, Span] | None:
    """The sentence that says when the document takes effect: the last one in it that says so (the closing
    article, not a transitional provision)."""
    for p in reversed(paragraphs):
        if p.kind == "heading":
            continue
        s = next((s for s in p.sentences if COMMENCEMENT.search(s.text)), None)
        if s is not None:
            return p, s
    return None


def enactment(paragraphs: list[Paragraph]) -> tuple[Paragraph, Span] | None:
    """The sentence that says why (为了…) and on what basis (根据…) the document was made: the first one in it."""
    for p in paragraphs:
        if p.kind in ("heading", "notice"):
            continue
        s = next((s for s in p.sentences if ENACTMENT.search(s.text)), None)
        if s is not None:
            return p, s
    return None


def records(paragraphs: list[Paragraph]) -> frozenset[int]:
    """Positions of the paragraphs that speak of the document itself, not of its subject: the history lines of its
    preamble and its commencement clause ("本条例自2012年1月1日起施行。…《…办法》同时废止。")."""
    out = {p.index for p in paragraphs if p.section == [PREAMBLE] and HISTORY_LINE.match(p.text)}
    if found := commencement(paragraphs):
        out.add(found[0].index)
    return frozenset(out)


def duty_cited(paragraphs: list[Paragraph], text: str) -> list[Paragraph]:
    """The paragraphs of the duty a penalty clause cites ("违反第二十三条第一款规定…"): that article, or only its
    paragraph (款) with the list entries under it when the clause names one; [] when it cites none."""
    m = CITED_DUTY.search(text)
    if not m:
        return []
    article = [p for p in paragraphs if p.kind != "heading" and article_of(p) == m.group(1)]
    if not m.group(2):
        return article
    # An article's own paragraphs are its 款; list entries (（一）…) belong to the 款 before them.
    clauses: list[list[Paragraph]] = []
    for p in article:
        if not clauses or (p.section and p.section[-1] == m.group(1)):
            clauses.append([p])
        else:
            clauses[-1].append(p)
    n = cn_to_int(m.group(2))
    return clauses[n - 1] if 0 < n <= len(clauses) else article


def penalty_citing(paragraphs: list[Paragraph], para: Paragraph) -> tuple[Paragraph, Span] | None:
    """The sentence that punishes a breach of the article `para` belongs to, citing it by number."""
    label = article_of(para)
    if not label:
        return None
    cites = re.compile(rf"违反本\w{{0,3}}{label}(?![零〇一二两三四五六七八九十百千\d])")
    for p in paragraphs:
        if p is para or p.kind == "heading":
            continue
        for s in p.sentences:
            if cites.search(s.text) and PENALTY.search(s.text):
                return p, s
    return None


def delegation(paragraphs: list[Paragraph], para: Paragraph,
               about: Callable[[str], bool] = lambda _: False) -> tuple[Paragraph, Span] | None:
    """The sentence of `para`'s article (or of `para` itself, outside articles) that leaves the details to another
    body or rule; one that names what it leaves out counts only if `about(sentence)` (it is what was asked)."""
    label = article_of(para)
    for p in paragraphs:
        if p is para or (label and article_of(p) == label):
            for s in p.sentences:
                if DELEGATION.search(s.text) or (DELEGATED.search(s.text) and about(s.text)):
                    return p, s
    return None
