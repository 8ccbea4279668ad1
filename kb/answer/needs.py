"""What a clause must contain to answer a question, by what the question asks: a figure in the asked unit, a fine,
a penalty, an amount, a year, a span of years, a body of the state, a time, an actor, a place.

A clause without it does not answer, however close its topic: "最高时速是多少" is not answered by the fine in the
same article, "能拿多少补贴" not by the fine of some breach, "哪一年" not by "十四五", "由哪个部门验收" not by a body
named for another duty. The patterns are looked for outside the titles a clause cites (《…（2021—2035年）》 sets no
year and names no body).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from kb.answer.legal import PENALTY
from kb.answer.question import QUESTION_WORDS, Question, bound_asked
from kb.core.figures import CN_NUMBER, DURATION, MONEY_AMOUNT, QUANTITY, YEAR_SPAN
from kb.core.places import places
from kb.core.timeexpr import CITED_TITLE

# A time or a time limit: a year or month, a period, a deadline, or a span such as 十五日内 (kb.core.figures).
TIME = re.compile(rf"20\d{{2}}年|\d{{1,2}}月|期间|以前|之前|年底|年内|之日起|当日|起施行|{DURATION.pattern}")
# The parties laws name by role (销售者, 所有人, 纳税人 …) are actors as much as bodies are: "三包责任由谁承担" is
# answered by "由销售者依法承担".
ACTOR = re.compile(r"发展改革委|部门|政府|协会|联盟|专家组|委员会|联席会议|厅|局|集团|企业|高校|院所|机构|银行|机关|国务院|法院|检察院"
                   r"|[产售营修造用买托运]者|所有人|管理人|驾驶人|纳税人|义务人|承运人|经营者|单位|个人")
LOCATION = re.compile("|".join(places()) + r"|地区|城市|园区|基地|区域|港口|高速|走廊|经济区|小区|社区|停车场|场所|景区|机场")
# A body of the state, for "由哪个部门/机关…" (not 企业, 国家 or 单位, which answer "谁" but name no department).
BODY = re.compile(r"发展改革委|部门|人民政府|政府|委员会|联席会议|厅|局|机关|国务院|法院|检察院|办公室|海关")
BODY_ASKED = re.compile(r"(?:哪个|哪些|什么|哪一|哪级|哪一级)(?:部门|机关|政府|单位负责|主管部门)")
# Duties any body named for a matter performs: "由哪个部门负责" asks for no particular one.
GENERIC_DUTIES = frozenset("负责 处理 管理 主管 监管 管 办理 牵头 行使 申请 找 去 办 归 统筹 推进 组织 实施 落实 承担 "
                           "执行 职责 工作 的 呢 吗 来 进行".split())
A_YEAR = re.compile(r"20\d{2}\s*年|[〇○零一二三四五六七八九]{4}年")  # "哪一年" is not answered by "十四五"
YEAR_ASKED = re.compile(r"哪一年|哪年|何年|哪个年份|什么年份|哪一年份")
# "有效期是几年": a span of years, not a date (nor "开了十几年的老油车", "这几年", which ask nothing)
YEARS_ASKED = re.compile(r"(?:(?<![十好这前近])几|多少)(?:个)?年(?!级|度)")
# "罚多少钱" asks for the fine, not for the amount in the condition ("违法所得不足5万元的，处5万元以上…罚款").
FINE_ASKED = re.compile(r"罚(?:款)?(?:是|为|数额是?|金额是?)?(?:多少|几)|多少(?:的)?罚款|罚款(?:标准|幅度)|怎么罚|如何处罚|处多少")
FINE = re.compile(rf"(?:{MONEY_AMOUNT.pattern}|百分之{CN_NUMBER}|\d+(?:\.\d+)?\s*[%％])[^，；。]{{0,14}}罚款"
                  rf"|罚款(?:{MONEY_AMOUNT.pattern})")
PENALTY_ASKED = re.compile(r"怎么罚|罚不罚|会不会(?:被)?罚|如何处罚|怎么处罚|怎样处罚|罚则|罚(?:款)?(?:多少|几)|会怎样|会怎么样|承担什么(?:法律)?责任"
                           r"|什么处罚|后果")
# How a clause states a bound of each direction (not 低于/高于 alone: "最高时速低于七十公里的车辆" sets no minimum).
BOUNDS = {"low": re.compile(r"最低|最少|最小|下限|至少|不得低于|不低于|不得少于|不少于|以上"),
          "high": re.compile(r"最高|最多|最大|上限|至多|不得超过|不超过|不得高于|不高于|以下|以内|之内")}
# "要满足什么条件才算", "认定标准是什么": the criteria of something, which a clause states only by defining it, listing
# them or setting a limit — not by naming "符合条件的小型微利企业", whose conditions are set elsewhere. ("分别指什么"
# is no such question: "“三纵”" after the three kinds of vehicle defines them by apposition.)
CRITERIA_ASKED = re.compile(r"(?:什么|哪些|啥|何种)(?:样的)?(?:条件|标准)|(?:条件|标准)是(?:什么|啥)|才(?:能)?算"
                            r"|(?:怎么|如何)认定")
CRITERIA = re.compile(r"是指|指的是|包括|具备|下列|以下|以上|以内|不超过|不低于|不少于|不足|达到|标准为|条件为|条件是"
                      r"|不得(?:高于|低于|超过|少于)|不高于"
                      r"|[：:]|符合[^，。；的]{1,12}(?:规定|要求|标准)")
# "“生物液体燃料”指什么", "X是什么意思", "什么叫X": what a term means, which a clause says by defining it
# ("X，是指…", "本条例所称X…"); a soft preference, not a need: a plan explains its terms by apposition too.
DEFINITION_ASKED = re.compile(r"指(?:的是)?(?:什么|啥|哪些)|是什么意思|什么意思|什么叫|何谓|含义|怎么界定|如何界定")
# (a rule's glossary also writes "X，指…": "严重安全性能故障，指家用汽车产品存在的…")
DEFINES = re.compile(r"是指|指的是|所称|^(?:（[一二三四五六七八九十]+）)?[^，。；：]{2,24}，指")
# "要交哪些材料", "带什么证件": the papers an application needs, which a clause gives only by naming papers — not
# by saying who reviews the application or that it may be filed online.
PAPERS_ASKED = re.compile(r"(?:哪些|什么|哪几|啥|哪)(?:样的|种|类|份)?(?:申请|证明|备案|登记)?(?:材料|资料|证件)")
PAPERS = re.compile(r"材料|资料|证件|证明|证书|执照|身份证|凭证|发票|合同|图纸|清单|文件|复印件|照片")
# "要走哪些申报和审批程序", "招标流程分哪几步", "手续怎么办": the steps of a procedure, which a clause gives only by
# naming steps (申请, 受理, 审查, 批准 …) — not a clause saying what a fund is for or that a process exists elsewhere.
STEPS_ASKED = re.compile(r"(?:哪些|什么|哪几个?|啥)[^，。？?；]{0,6}(?:流程|程序|手续|步骤)|(?:流程|程序|手续|步骤)"
                         r"(?:是什么|分哪几步|分几步|有哪些|怎么走|怎么办)")
STEPS = re.compile(r"申请|提出|提交|受理|审查|审核|批准|核准|备案|登记|报送|报请|之日起|程序|流程|手续|公示|招标|听证|决定")
# "多久报送一次", "每月还是每季度": how often, which a clause states only as an interval (每季度, 按月, 一年一次)
# — not by a time limit ("十五日内出具复核意见"), which says how soon, nor by 定期, which does not say how often.
FREQUENCY_ASKED = re.compile(r"(?:多久|多长时间|多少天|几天|几个月|几年)[^，。？?；]{0,8}一次|每隔多久|一年几次|频次|频率"
                             r"|每(?:个)?(?:月|季度?|年|周|天)还是(?:每|按)")
FREQUENCY = re.compile(rf"每(?:个)?(?:年度?|季度?|半年|月|周|日|天|{CN_NUMBER}(?:年|个月|日|天|周))|按(?:年度?|季度?|月|日|周)"
                       rf"|(?:{CN_NUMBER}|\d+)(?:年|个月|季度|日|天|周)(?:一次|[一二两三四五六七八九十\d]次)")
ARTICLE_ASKED = re.compile(r"第几条|哪一条|哪条|哪几条|第几款|哪一款|哪个条款")
# The figures of a penalty clause: the fine, and the illegal gains or sums that set it.
PENALTY_FIGURE = re.compile(rf"{FINE.pattern}|(?:违法所得|货值金额|销售金额|营业额)[^，；。]{{0,14}}")
PUNISHING_ASKED = re.compile(r"罚|处分|违法所得|货值|没收")
DURATION_UNITS = {"日", "天", "个工作日", "工作日", "个月", "月", "小时"}
# A clause that opens with a verb governing others ("…部门应当…，监督石油销售企业按照规定销售…") has its subject in
# the clause before: the enterprises it names are whom the duty is done to, not who does it.
# Only when that verb is the one asked about ("谁来监督…"): in "支持银行、保险企业…提供优惠贷款" the banks are who
# provides the loans, which is what "由哪些机构提供贷款" asks.
GOVERNING = ("监督", "指导", "督促", "鼓励", "支持", "引导", "要求", "组织", "协调", "帮助", "扶持", "责令", "会同", "通知",
             "告知", "委托", "授权", "检查", "查处")
# …unless the question asks whom it is done to: "鼓励由谁来牵头", "引导哪些主体合作".
OBJECT_ASKED = re.compile(rf"(?:{'|'.join(GOVERNING)})[^，。？?]{{0,3}}(?:哪|谁|什么)")
# "处罚信息要记到哪里", "向哪儿申报": where something is filed, recorded or paid is a body or a system as much as a
# place ("记入国家企业信用信息公示系统", "向所在地的税务机关申报").
SENT_TO_ASKED = re.compile(r"(?:记|报|交|送|传|录|存|备案|申报|缴纳|缴|提交|投诉|申请|登记|公示|公布)(?:到|至|给|进|在|入)?"
                           r"(?:哪里|哪儿|哪个|哪些|什么地方)|(?:向|到|去|在)(?:哪里|哪儿|哪个地方)")
SENT_TO = re.compile(LOCATION.pattern + r"|系统|平台|网站|机关|部门|机构|所在地|窗口|中心")
BY_INTENT = {"figure": (QUANTITY, "具体数值"), "when": (TIME, "具体时间"), "who": (ACTOR, "明确的责任主体"),
             "where": (LOCATION, "具体地点")}


@dataclass(frozen=True)
class Need:
    kind: str  # fine, penalty, papers, criteria, unit, money, years, year, body, or the question's intent
    label: str  # what the answer says is missing ("文件中未找到…的具体罚款数额")
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None  # what does not count where it matches (a fine, for a subsidy)
    bound: re.Pattern[str] | None = None  # a bound of the asked direction the clause must state as well
    # an actor asked as the doer of a governing verb: the clauses opening with that verb name whom it is done to
    governed: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        text = CITED_TITLE.sub(" ", text)
        if self.governed is not None:
            text = self.governed.sub(" ", text)
        if self.bound is not None and not self.bound.search(text):
            return None
        return self.pattern.search(self.unless.sub(" ", text) if self.unless else text)

    @property
    def punishes(self) -> bool:
        return self.kind in ("fine", "penalty")


def need_for(q: Question) -> Need | None:
    need = _need(q)
    if need is not None and need.kind in ("who", "body") and not OBJECT_ASKED.search(q.text):
        if verbs := [v for v in GOVERNING if v in q.text]:
            need = replace(need, governed=re.compile(rf"(?:^|(?<=[，；：]))(?:{'|'.join(verbs)})[^，；。]*"))
        if named := _actors_named(q.text):
            # "谁来监督石油销售企业…" is not answered by the 石油销售企业 it names
            need = replace(need, unless=re.compile("|".join(map(re.escape, named))))
    if need is not None and need.kind in ("unit", "money", "figure") and (direction := bound_asked(q.text)):
        need = replace(need, bound=BOUNDS[direction])
    return need


def _need(q: Question) -> Need | None:
    if ARTICLE_ASKED.search(q.text):
        return None  # "…写进交接单的是第几条": the article is the answer, whatever figures its words name
    # "晚报了几天要罚多少钱" asks the fine, not the days; so does "罚款标准是多少", with no word for money
    if FINE_ASKED.search(q.text) and (q.money or "罚款" in q.text):
        return Need("fine", "具体罚款数额", FINE)
    if PENALTY_ASKED.search(q.text) and q.intent not in ("who", "when", "where"):
        return Need("penalty", "相应的处罚规定", PENALTY)
    if FREQUENCY_ASKED.search(q.text):
        return Need("frequency", "具体频次", FREQUENCY)
    if PAPERS_ASKED.search(q.text):
        return Need("papers", "所需材料", PAPERS)
    if STEPS_ASKED.search(q.text):
        return Need("steps", "办理程序", STEPS)
    if CRITERIA_ASKED.search(q.text) and not q.units:
        return Need("criteria", "具体条件或标准", CRITERIA)
    if q.units:
        units = "|".join(map(re.escape, q.units + (["％"] if "%" in q.units else [])))
        # a share is also written in words before its number: 百分之三十
        unit = re.compile(rf"(?:\d(?:\.\d+)?|{CN_NUMBER})\s*[万亿千百]?(?:{units})"
                          + (rf"|百分之{CN_NUMBER}" if "%" in q.units else ""), re.I)
        label = "具体期限" if set(q.units) <= DURATION_UNITS else f"以“{'/'.join(q.units)}”计的具体数值"
        # "注册资本至少多少万元" is not answered by "违法所得在5万元以上的，并处…罚款": the figures of a penalty
        # answer only a question about penalties
        return Need("unit", label, unit, unless=None if PUNISHING_ASKED.search(q.text) else PENALTY_FIGURE)
    if q.money:  # a subsidy, a price or a fund is not answered by the fine of some breach
        return Need("money", "具体金额", MONEY_AMOUNT, unless=FINE)
    if YEARS_ASKED.search(q.text):
        return Need("years", "具体期限", YEAR_SPAN)  # "有效期几年" is not answered by "三十日内"
    if q.intent == "when" and YEAR_ASKED.search(q.text):
        return Need("year", "具体年份", A_YEAR)
    if q.intent == "who" and BODY_ASKED.search(q.text):
        return Need("body", "明确的负责部门", BODY)
    if q.intent == "where" and SENT_TO_ASKED.search(q.text):
        return Need("where", "具体去向", SENT_TO)
    if q.intent in BY_INTENT:
        pattern, label = BY_INTENT[q.intent]
        # "投放数量上限是多少" is no more answered by the fine in the same article than "补贴多少" is
        return Need(q.intent, label, pattern, unless=FINE if q.intent == "figure" and "罚" not in q.text else None)
    return None


# "资质认定书的有效期是几年", "高速公路上的最高时速是多少": a measure (有效期, 时速) asked of a named thing. The figure
# that answers is said of that thing in its own sentence: "运输证…有效期六年" does not give the 有效期 of 车辆经营权.
MEASURED = re.compile(r"(?P<of>[\u4e00-\u9fffA-Za-z]{2,20}?)的?(?:最高|最低)?(?P<measure>有效期|期限|年限|保证期|包修期|保修期"
                      r"|时速|车速|速度|税率|征收率|比例|额度|面积)(?:是|为|有|定为|规定为|一般)?(?:几|多少|多长|多久|多大|多高)"
                      # (or as a verb: "车辆经营权能用几年" asks the 有效期 of 车辆经营权)
                      r"|(?P<used>[\u4e00-\u9fffA-Za-z]{2,20}?)(?:能|可以|可)?(?:用|使用|有效|保留)(?:几年|多少年|多久|多长时间)")


def measured_thing(q: Question) -> str:
    """The thing a "X的<measure>是多少" question asks the measure of — the word of X nearest the measure
    (资质认定书 of "报废机动车回收企业的资质认定书有效期是几年") — or ""."""
    m = MEASURED.search(q.text)
    if not m:
        return ""
    of = m.group("of") or m.group("used")
    # (the question's own terms, whole: 运输证 rather than the 运输 a search segmentation also yields)
    words = [t for t in q.terms if len(t) > 1 and t in of and t not in QUESTION_WORDS]
    return max(words, key=lambda t: (of.rfind(t) + len(t), len(t))) if words else ""


# The asking words that may stand before an actor word ("哪个部门", "谁来"): no phrase of the question's own.
QUESTION_HEAD = re.compile(r"哪|谁|什么|何|几|由|是")


def _actors_named(text: str) -> list[str]:
    """The actors a question itself names, as written before the actor word ("石油销售企业"), longest first."""
    out = []
    for m in ACTOR.finditer(text):
        head = re.search(r"[\u4e00-\u9fff]{1,8}$", text[:m.start()])
        phrase = (head.group() if head else "") + m.group()
        out += [phrase[i:] for i in range(len(phrase) - 2) if not QUESTION_HEAD.match(phrase[i:])]
    return sorted(set(out), key=len, reverse=True)


# "号牌丢了怎么补领", "怎么申请重新鉴定", "怎么办理过户": the steps of a procedure, which a clause gives only where it
# names that procedure (补领, 重新鉴定) — not a clause that merely speaks of the thing (号牌, 鉴定).
PROCEDURE_ASKED = re.compile(r"(?:怎么|如何|怎样)(?:去|来|才能)?(?=申请|办理|补领|补办|换领|申领|领取|申报|备案|登记|注销|过户"
                             r"|变更|申诉|复议|复核|投诉|修复|撤销|延续|续期|退回)")


# "去办过户（转移登记）要带哪些材料", "办备案变更要提交什么材料": the papers of a named procedure, which a list of
# papers for another one (the first application) does not give.
PROCEDURE_PAPERS = re.compile(r"(?:办理|去办|办|申请|申领)(?P<what>[^，,。？?；;]{1,12}?)(?:时|的时候)?(?:要|需要|得|应当|应该)?"
                              r"(?:带|提交|交|准备|提供|携带)(?:哪些|什么|哪几样|啥)(?:材料|资料|证件|证明)")


def procedure_asked(q: Question, tokens) -> list[str]:
    """The words of the procedure a "怎么补领/如何申请…" question asks the steps of (补领; 申请 重新 鉴定), or a
    "办X要带哪些材料" question the papers of (X)."""
    if m := PROCEDURE_ASKED.search(q.text):
        return _words_up_to(q.text[m.end():], "[？?，,。；;！!、]", tokens)
    if m := PROCEDURE_PAPERS.search(q.text):
        return _words_up_to(m.group("what"), "[？?，,。；;！!、]", tokens)
    return []


def _words_up_to(rest: str, stop: str, tokens) -> list[str]:
    """The words of `rest` before its first `stop` character, less generic duties and question words."""
    clause = re.split(stop, rest, maxsplit=1)[0]
    return [t for t in tokens(clause) if len(t) > 1 and t not in GENERIC_DUTIES and t not in QUESTION_WORDS]


def duty_asked(q: Question, tokens) -> list[str]:
    """The duty a "哪个部门…" question asks the body of ("由哪个部门负责验收" → 验收); none for the generic ones
    (负责, 管理, 牵头). `tokens` segments text (the KB's segmenter)."""
    if q.intent != "who" or not (m := BODY_ASKED.search(q.text)):
        return []
    return _words_up_to(q.text[m.end():], "[？?，,。；;！!]", tokens)
