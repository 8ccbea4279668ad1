"""Extracts provisions from a parsed document of any genre.

A plan's provisions are its directive sentences that support, encourage, pilot or fund someone. A law's or a
regulation's are the sentences that relieve, fund, prefer, ease or protect someone: 免征/减按/加计扣除, 补贴/贴息,
优先/便利, 不得歧视…, named by the taxonomy's relief support types; an article with such a sentence lends it to the
article's other sentences ("…可以要求付款方予以确认。付款方应当…三十日内予以确认。"), and a list's items are provisions
under their lead-in ("企业的下列支出，可以…加计扣除：" then "（一）开发新技术…的研究开发费用；"). A clause that only
empowers another body to set relief later ("具体办法由国务院…另行制定") is a provision that points elsewhere.
"""
from __future__ import annotations

import re

from kb.core.records import Document, Paragraph
from kb.core.taxonomy import (
    SUPPORT_VERBS,
    Provision,
    Taxonomy,
    load_taxonomy,
    places_in,
    tag,
    tag_outermost,
)

# Sections that describe the past or the principles, not what will be supported.
BACKGROUND = re.compile(r"现实基础|发展基础|发展现状|发展形势|面临形势|形势分析|指导思想|基本原则|编制说明|印发通知|前言|标题")
PROVISION_KINDS = ("body", "item")

# Verbs that make a sentence a provision (support verbs first); only the ones found are stored, in text order.
DIRECTION_VERBS = (
    "推动", "推进", "引导", "加快", "加大", "发展", "布局", "打造", "建设", "建成", "突破", "攻关", "研发", "开发",
    "探索", "提升", "提高", "做强", "做大", "做优", "巩固", "完善", "健全", "强化", "开展", "实施", "落实", "构建",
    "建立", "发挥", "拓展", "深化", "组建", "谋划", "聚焦", "补齐", "补强", "夯实", "盘活", "集聚", "促进", "统筹",
    "优化", "实现", "推广", "前瞻布局")
VERBS = SUPPORT_VERBS + DIRECTION_VERBS

# ---------------------------------------------------------------- conditions: verbatim phrases that restrict who
# "具备行业整合能力的龙头企业", "产业基础好、氢气资源丰富、推广运营有潜力的地区", "符合条件的核心技术攻关项目":
# a modifier ending in 的 before a head noun naming who or what qualifies.
HEADS = "企业|地区|区域|城市|项目|产业平台|平台|开发区|园区|单位|机构|路线"
MODIFIED = re.compile(rf"的([^，。；：、的“”]{{0,12}}?(?:{HEADS}))")
# A modifier is a condition only when it states a requirement, not a mere description.
CONDITION_CUES = re.compile(r"具备|符合|满足|有能力|有条件|参与|基础好|基础强|基础较好|丰富|潜力|条件优|优势|"
                            r"含量高|作用强|效益好|稳定|领先|先进水平|竞争力|影响力|引领性")
# Where the modifier starts: after punctuation or after the verb/preposition that introduces the qualifying noun.
LEFT_STOPS = re.compile(r".*(?:^[（(][一二三四五六七八九十]+[）)]|[，。；：（(]|重点支持|打造|支持|鼓励|引导|推动|推进一批|推进|引进|引育一批|引育|招引|培育|选择|"
                        r"立足|优先在|一批|等|在|对|以|加强对)")
ON_CONDITION = re.compile(r"在满足[^，。；]*?的条件下")
PROVINCE_ONLY = re.compile(r"省内(?:[^，。；：、的和及]{0,14}?)企业")  # "省内整车企业": only enterprises in the province
MISC = re.compile(r"按规定|优势(?:中小)?企业")


def _modifier_conditions(quote: str) -> list[tuple[int, int]]:
    spans = []
    for m in MODIFIED.finditer(quote):
        clause_start = max(quote.rfind(p, 0, m.start()) for p in "，。；：") + 1
        left = quote[clause_start:m.start()]
        stop = LEFT_STOPS.match(left)
        begin = clause_start + (stop.end() if stop else 0)
        modifier = quote[begin:m.start()]
        if len(modifier) >= 2 and CONDITION_CUES.search(modifier):
            spans.append((begin, m.end()))
    return spans


def extract_conditions(quote: str) -> list[str]:
    """The condition phrases of a clause, each a verbatim substring of it, in text order; nested ones dropped."""
    spans = _modifier_conditions(quote)
    for pat in (ON_CONDITION, PROVINCE_ONLY, MISC):
        spans += [(m.start(), m.end()) for m in pat.finditer(quote)]
    spans = sorted(set(spans), key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int]] = []
    for a, b in spans:
        if any(ka <= a and b <= kb for ka, kb in kept):
            continue  # "优势企业" inside "具备…优势的开发区" says nothing new
        kept = [(ka, kb) for ka, kb in kept if not (a <= ka and kb <= b)] + [(a, b)]
    return [quote[a:b] for a, b in sorted(kept)]


def verbs_in(quote: str) -> list[str]:
    found = sorted({(quote.find(v), v) for v in VERBS if v in quote})
    return [v for _, v in found]


# ---------------------------------------------------------------- laws and regulations
# Articles and list items: "第二十八条", "（一）" as the last heading of the path.
ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇]+条")
LIST_ITEM = re.compile(r"^[（(][一二三四五六七八九十]+[）)]$|^\d+[.、]$")
# Penalties, definitions and commencement are no one's support.
NOT_SUPPORT_SECTION = re.compile(r"法律责任|罚则")
NOT_SUPPORT = re.compile(r"制定本法|制定本条例|制定本办法|罚款|处以|吊销|没收|追究|给予处分|依法给予|责令|扣留|暂扣|拘留|本法所称|本条例所称|本办法所称|是指|起施行|"
                         r"自[^，。；]*之日起施行|后的余额，?为"  # "…减除…后的余额，为应纳税额": a definition
                         # A denial withholds support ("对…列入淘汰名录的…企业，金融机构不得提供任何形式的授信支持"), and a
                         # sentence that only states an exception ("中小企业无法提供的商品和服务除外。") grants nothing.
                         r"|(?:不得|不予)[^，。；]{0,6}(?:提供|给予|享受|安排)[^，。；]{0,10}(?:支持|授信|贷款|补贴|补助|优惠|资金)"
                         # …and a relief denied ("下列支出不得扣除", "…亏损不得抵减境内营业机构的盈利") protects no one
                         r"|不得[^，。；]{0,12}(?:扣除|抵减|抵扣|抵免|摊销|减免|合并缴纳)"
                         r"|^[^，。；]*除外[。；]?$")
# Verbs by which a law grants or secures something (beyond SUPPORT_VERBS).
GRANT_VERBS = ("享受", "准予", "免予", "减轻", "保障", "有权", "可以申请", "申请项目", "参照适用", "提供指导")
# A power of an authority is no grant to anyone: "税务机关有权按照合理方法调整", "有权处理的部门应当…调查处理".
AUTHORITY_POWER = re.compile(r"(?:机关|部门|人民政府|交通警察)[^，。；]{0,4}有权|有权处理")
PERMITS = re.compile(r"可以[^，。；]{0,12}(?:出售|享受|利用|要求)")  # what a law lets an enterprise do
# A clause that only empowers another body to set the relief: the phrase saying where it is to be set.
POINTER = re.compile(r"具体办法[^。；]*?由[^。；]*?(?:制定|规定)|另行制定[^。；，]*|另行规定|由国务院[^。；，]{0,4}规定|"
                     r"国务院批准[^。；]*?的其他情形|(?:人民政府|有关部门)[^。；，]{0,12}可以(?:通过|安排)[^。；，]*|"
                     r"(?:有关部门|人民政府)[^。；，]{0,8}应当制定[^。；，]*(?:优惠政策|扶持政策)")
# A law's clause that applies only "if X": "建设光伏或者光热发电项目利用太阳能的，可以…申请…补助", "中小企业的固定资产由于
# 技术进步等原因，确需加速折旧的，可以…" (after the article's label; not a lead-in's "…的，准予扣除：").
SUBJECT = re.compile(r"^(?:第[一二三四五六七八九十百零〇]+条\s*)?(?:但是，)?([^。；：]{4,80}?的)，")
ITEM_CASE = re.compile(r"^[（(][一二三四五六七八九十]+[）)]\s*([^。；：]{4,80}?的)[；。]$")
# An authority's name says what it is in charge of, not what the clause is about: the 报废机动车 of "负责报废机动车回收
# 管理的部门…为申请人提供便利条件" is no product class of the clause.
AUTHORITY = re.compile(r"负责[^，。；：、]{1,16}?的部门|[^，。；：、]{0,16}?(?:主管部门|管理部门)")
# A list's lead-in, granting or not ("企业的下列所得，可以免征…：", "基金…用于支持以下事项：", "应当提交以下证明：").
LEAD_IN = re.compile(r"(?:下列|以下)[^。；]*[：:]$")
FORBIDS = "不得"  # a prohibition is support when the article protects an enterprise ("不得对民营企业设置不平等的条件")
# The parties of a market a law protects: enterprises and the roles a law gives them (投标人 of a procurement), and
# the roles of a warranty rule (生产者, 销售者, 修理者). 消费者 is no enterprise: a clause protecting only consumers
# supports none.
ENTERPRISE_ROLES = r"企业|供应商|投标人|申请人|经营者"
ROLES = ENTERPRISE_ROLES + r"|生产者|销售者|修理者"
PROTECTED = re.compile(ROLES)
# An article that names an enterprise role lends a prohibition without its own object its protection ("不得对…设置
# 不平等的条件" in an article on 民营企业); the warranty roles do not, for a warranty rule's caps and time limits
# ("修理记录保存期限不得低于6年") protect the consumer.
ENTERPRISE = re.compile(ENTERPRISE_ROLES)
# A prohibition whose subject is an enterprise or a person is their duty ("报废机动车回收企业不得拆解…", "任何单位或者
# 个人不得从事…回收活动"), support only when it protects an enterprise named after it ("国有企业不得…迟延支付民营企业…").
DUTY = re.compile(r"(?:企业|经营者|生产者|销售者|个人)[^，。；]{0,4}不得"
                  # …also when the sentence opens with the party and its duty ("机动车维修业从业人员应当执行…规程，不得违法
                  # 作业", "机动车维修经营者使用的配件、材料应当符合…，不得使用…")
                  r"|^(?:第[一二三四五六七八九十百零〇]+条\s*)?[^，。；]{0,24}?(?:企业|经营者|生产者|销售者|修理者|个人|人员)"
                  r"[^，。；]{0,12}?(?:应当|必须)")
# An authority may not demand, designate or add conditions: the governed keep their choice ("…检验机构不得要求机动车到
# 指定的场所进行维修、保养", "任何单位不得附加其他条件") — a protection of whoever serves them.
# So may it not run the trade itself ("…主管部门不得举办或者参与举办驾驶培训学校").
AUTHORITY_FORBIDS = re.compile(r"(?:机关|部门|机构|人民政府|任何单位)[^，。；]{0,4}不得(?:要求|指定|附加|强制|限制|干预|举办|参与|经营)")
# A duty to pay a market party is that party's due: "消费者…更换…或者退货的，应当向销售者支付…使用补偿费".
PAID_TO = re.compile(rf"向(?:[^，。；、]{{0,6}}?)(?:{ROLES})[^，。；]{{0,4}}(?:支付|赔偿|补偿|返还|退还)")
# A liability lifted from a market party: "…有下列情形之一的，可以免除经营者对下列质量问题承担的三包责任" (not a clause
# voiding a business's own exemption, "…免除自身责任…的条款无效", nor a consumer's duty waived).
LIABILITY_LIFTED = re.compile(rf"免除(?:{ROLES})[^，。；]{{0,16}}责任")
# A public service free of charge relieves its users ("…公安机关交通管理部门应当当场免费登记…", "…有关部门应当…为创业人员
# 免费提供…服务"); a business's free service is its duty ("销售者应当及时免费补办").
FREE_SERVICE = re.compile(r"(?:机关|部门|人民政府)[^。；]{0,30}?免费")
# …as does a service it provides ("市场监督管理部门…应当…提供知识产权快速受理、授权、确权以及…维权援助等服务").
PUBLIC_SERVICE = re.compile(r"(?:机关|部门|人民政府)[^。；]{0,80}?提供[^。；]{0,40}?服务")


def _protects_by_itself(text: str) -> bool:
    """A protection the sentence states whole: what an authority may not demand, a payment due to a market party, a
    prohibition naming the market party it shields. Unlike a relief it lends nothing to its article's other sentences
    (the formula that computes the payment is no support)."""
    if AUTHORITY_FORBIDS.search(text) or PAID_TO.search(text) or LIABILITY_LIFTED.search(text):
        return True
    return FORBIDS in text and bool(PROTECTED.search(text[text.find(FORBIDS):]))


def _protects(text: str, article_text: str) -> bool:
    if FORBIDS not in text:
        return False
    if DUTY.search(text):
        return bool(ENTERPRISE.search(text[text.find(FORBIDS):]))
    return bool(ENTERPRISE.search(article_text))


def is_legal(doc: Document, paragraphs: list[Paragraph]) -> bool:
    """A law or regulation: articles (第N条) rather than a plan's numbered chapters and run-in titles."""
    articles = sum(1 for p in paragraphs if p.doc_id == doc.meta.doc_id and p.section
                   and ARTICLE.match(p.section[-1] if not LIST_ITEM.match(p.section[-1]) else p.section[-2]
                                     if len(p.section) > 1 else ""))
    return articles >= 5


def _relief(text: str, tax: Taxonomy) -> list[str]:
    return [e.id for e in tax.support_types if e.relief and e.id in tag(text, [e])]


def _support_verbs(text: str, tax: Taxonomy, verbs: tuple[str, ...] = SUPPORT_VERBS) -> list[str]:
    """The verbs found outside the phrases the support types exclude for them: "应当…优先选择采用易回收…的材料" is a
    designer's duty, not a preference (优先选择 is excluded from 优先/优惠); 支持 in "优先支持" still counts."""
    excluded = [x for e in tax.support_types for x in e.exclude]
    text = AUTHORITY_POWER.sub(lambda m: "□" * len(m.group(0)), text)
    out = []
    for v in verbs:
        t = text
        for x in excluded:
            if v in x:
                t = t.replace(x, "□" * len(x))
        if v in t:
            out.append(v)
    return out


def is_background(p: Paragraph) -> bool:
    return any(BACKGROUND.search(s) for s in p.section)


def _targets(quote: str, tax: Taxonomy) -> list[str]:
    """Actor types named; the generic 企业 only when no more specific enterprise type is."""
    found = tag(quote, tax.actors)
    specific = [a for a in found if a != "企业"]
    enterprise_types = [a for a in specific if a not in ("地方政府", "高校院所", "行业组织", "金融机构")]
    if "企业" in found and not enterprise_types:
        specific.append("企业")
    return specific


def provision_from(doc: Document, p: Paragraph, start: int, end: int, tax: Taxonomy) -> Provision | None:
    """The provision a sentence makes, or None when it directs nothing."""
    quote = doc.text[start:end]
    verbs = verbs_in(quote)
    if not verbs:
        return None
    segments = list(tag(quote, tax.segments))
    # The run-in title and the heading path scope the sentence: "攻关70 MPa车载储氢装置技术" sits under 车用氢燃料电池技术.
    context = [s for s in tag(" ".join([*p.section[1:], p.lead]), tax.segments) if s not in segments]
    # Without a support word of its own, a sentence takes its run-in title's or its box's: "“十四五”期间投放燃料电池汽车
    # 超过3000辆" is part of 专栏5 …示范应用城市群建设行动, a pilot. (Not a chapter heading's: not every sentence under
    # "“跨界协同”融合示范工程" is a pilot.)
    scope = p.lead or (p.section[-1] if p.section[-1].startswith("专栏") else "")
    support = list(tag(quote, tax.support_types)) or list(tag(scope, tax.support_types)) or [tax.default_support_type]
    enterprises = [e for e in tax.enterprises if e in quote]
    return Provision(doc_id=doc.meta.doc_id, para_index=p.index, start=start, end=end, quote=quote,
                     section=p.section, lead=p.lead, targets=_targets(quote, tax), enterprises=enterprises,
                     segments=segments, context_segments=context, regions=places_in(quote, tax),
                     support_types=support, conditions=extract_conditions(quote), verbs=verbs,
                     genre=doc.meta.doc_type)  # no classes: a plan names segments, and 汽车 is in nearly every sentence


def _article(p: Paragraph) -> tuple[str, ...]:
    """The heading path up to the article (a list item belongs to its article)."""
    sec = list(p.section)
    while sec and LIST_ITEM.match(sec[-1]):
        sec.pop()
    return tuple(sec)


def _pointer(quote: str) -> str:
    m = POINTER.search(quote)
    return m.group(0) if m else ""


def legal_provisions(doc: Document, paragraphs: list[Paragraph], tax: Taxonomy) -> list[Provision]:
    """The provisions of a law or regulation (see the module docstring): one per sentence, in text order."""
    ps = [p for p in paragraphs if p.doc_id == doc.meta.doc_id and p.kind in PROVISION_KINDS
          and not any(NOT_SUPPORT_SECTION.search(s) for s in p.section)]

    def grants(text: str, article_text: str) -> bool:
        return bool(_relief(text, tax)) or bool(_support_verbs(text, tax, SUPPORT_VERBS + GRANT_VERBS)) \
            or bool(PERMITS.search(text)) or _protects(text, article_text)

    def own(text: str) -> bool:
        """Support of the sentence alone (see _protects_by_itself; a free public service, too)."""
        return bool(FREE_SERVICE.search(text) or PUBLIC_SERVICE.search(text)) or _protects_by_itself(text)

    def protection(text: str) -> list[str]:
        """The support type of a free service or a protection, which no taxonomy term names."""
        if FREE_SERVICE.search(text):
            return ["收费减免"]
        if PUBLIC_SERVICE.search(text):
            return ["便利/简化"]
        return ["权益保障"] if text and (_protects_by_itself(text) or _protects(text, article_text)) else []

    by_article: dict[tuple[str, ...], list[Paragraph]] = {}
    for p in ps:
        by_article.setdefault(_article(p), []).append(p)
    out = []
    for art, members in by_article.items():
        article_text = "".join(p.text for p in members)
        sentences = [(p, sp, doc.text[sp.start:sp.end]) for p in members for sp in p.sentences]
        lending = [grants(q, article_text) and not NOT_SUPPORT.search(q) for _, _, q in sentences]
        granting = [g or own(q) and not NOT_SUPPORT.search(q) for g, (_, _, q) in zip(lending, sentences)]
        if not any(granting):
            continue
        lead_in = next((q for (p, _, q), g in zip(sentences, granting) if g and LEAD_IN.search(q.strip())), "")
        # An article that opens with support lends it to its other sentences; otherwise only the granting
        # sentences (and the items of a granting lead-in) are provisions ("第九条 申请机动车登记，应当提交…" is not).
        lends = lending[0]
        duty_list = False  # inside the list of a lead-in that grants nothing ("申请机动车登记，应当提交以下证明、凭证：")
        for (p, sp, quote), g in zip(sentences, granting):
            is_item = len(p.section) > len(art)
            if not is_item and LEAD_IN.search(quote.strip()):
                duty_list = not g
            item = bool(lead_in) and is_item and quote != lead_in
            if is_item and duty_list:
                continue  # "（四）车辆购置税的完税证明或者免税凭证；" is a paper to hand in, not a tax relief
            if NOT_SUPPORT.search(quote) or LEAD_IN.search(quote.strip()) and not g or not (g or lends or item):
                continue
            scope = lead_in if item else ""
            support = _relief(quote, tax) or _relief(scope, tax) or _relief(art[-1] if art else "", tax) \
                or (["鼓励/支持"] if _support_verbs(quote, tax) else []) \
                or protection(quote) or protection(scope) \
                or list(tag(quote, tax.support_types)) or [tax.default_support_type]
            points_to = _pointer(quote)
            if points_to and "授权规定" not in support:
                support = ["授权规定", *support]
            elif not points_to and "授权规定" in support:
                support = [s for s in support if s != "授权规定"] or [tax.default_support_type]
            conditions = extract_conditions(quote)
            subject = SUBJECT.match(quote)
            if item:  # "（二）机动车、铁路机车…流动污染源排放应税污染物的；": the case the lead-in's relief is for
                subject = ITEM_CASE.match(quote.strip())
            if subject and not LEAD_IN.search(quote.strip()) \
                    and not any(subject.group(1) in c or c in subject.group(1) for c in conditions):
                conditions.insert(0, subject.group(1))
            granted = _support_verbs(quote, tax)
            out.append(Provision(
                doc_id=doc.meta.doc_id, para_index=p.index, start=sp.start, end=sp.end, quote=quote,
                section=p.section, lead=p.lead, targets=_targets(quote + scope, tax),
                enterprises=[e for e in tax.enterprises if e in quote], segments=list(tag(quote, tax.segments)),
                context_segments=[s for s in tag(scope, tax.segments) if s not in tag(quote, tax.segments)],
                regions=places_in(quote, tax), support_types=support, conditions=conditions,
                verbs=[v for v in verbs_in(quote) if v not in SUPPORT_VERBS or v in granted], genre=doc.meta.doc_type,
                lead_in=scope,
                classes=list(tag_outermost(AUTHORITY.sub("□", quote + scope), tax.classes)), pointer=bool(points_to),
                points_to=points_to))
    return sorted(out, key=lambda x: x.start)


def extract_provisions(doc: Document, paragraphs: list[Paragraph]) -> list[Provision]:
    """Every sentence that supports someone, as a Provision: a plan's directive sentences of its policy sections
    (background sections such as 现实基础 and 发展形势 give none), a law's or regulation's relief clauses.

    Pure and deterministic: one Provision per sentence (sentence offsets from the structure parser), so each
    has exactly one stored sentence vector.
    """
    tax = load_taxonomy()
    if is_legal(doc, paragraphs):
        return legal_provisions(doc, paragraphs, tax)
    out = []
    for p in paragraphs:
        if p.doc_id != doc.meta.doc_id or p.kind not in PROVISION_KINDS or is_background(p):
            continue
        for sp in p.sentences:
            prov = provision_from(doc, p, sp.start, sp.end, tax)
            if prov:
                out.append(prov)
    return out
