"""Question analysis: what kind of answer is asked for and which constraints (year, place, amount) it must meet."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from kb.core.places import organisations_in, places_in, shaped_places_in
from kb.core.segment import Segmenter
from kb.core.text import normalize
from kb.core.timeexpr import CITED_TITLE, YEAR, expand_years

Intent = Literal["figure", "list", "who", "where", "when", "yesno", "task", "general"]

# An extreme or a limit of a measurable quantity ("最小面积", "最高时速", "上限") asks for a figure.
EXTREME = r"(?:最[低高小大少多长短]|上限|下限)(?:的|是|为)?(?:面积|时速|速度|车速|金额|额度|年龄|期限|时限|标准|比例|价格|限额|距离|高度|长度|重量|功率|容量|里程|数量|人数|规模|税率|费率|罚款)"
YESNO = re.compile(r"是否|有没有|能否|可否|是不是|会不会|能不能|要不要|行不行|可不可以|吗[？?]?$")
# Checked in this order: the first that matches decides ("哪些部门" asks who, not for a list).
# "几" with what it counts (a classifier or unit: 几辆, 几单, 几个工作日, 几万) asks for a number; 哪几/第几/举几 list or
# rank, and 近几年/前几年/这几年 speak of a period. (Not 几月, 几日 alone: a date.)
COUNTED = (r"(?<![哪第举说列近前这那头后])几(?:个月|个工作日|工作日|小时|千瓦时|公斤|平方米|公里|千米|周岁"
           r"|[个座家辆项条种台根套吨件度元天年岁人名次单批类级户张处所倍成%万亿千百])")
# "开了几家分店，…": 几 after a done action, in a clause followed by more of the question, is "a few".
TOLD_COUNT = re.compile(r"(?<=了)几(?=[^，,。？?！!；;]*[，,；;])")
INTENT_PATTERNS: list[tuple[Intent, re.Pattern[str]]] = [
    ("who", re.compile(r"谁|哪个部门|哪些部门|什么部门|哪个单位|哪些单位|牵头|负责|责任主体|由谁|哪些企业|哪家企业|哪个企业|哪些机构|哪些主体")),
    ("when", re.compile(r"什么时候|何时|哪一年|哪年|什么时间|截止|期限|多久|多长时间|期多长|时间节点|时限")),
    ("where", re.compile(r"(?<!用到)(?<!用在)(?<!用于)哪里|哪儿|在哪[里儿个座]|在哪些[地城区省市县]|哪些地区|哪个地区|哪些城市|哪个城市|哪些地方|什么地方|地点|选址|布局在")),
    ("figure", re.compile(rf"多少|{COUNTED}|数量|规模有多大|目标值|比例|比重|占比|百分之|多大|多远|多快|几成|倍"
                          rf"|{EXTREME}")),
    ("list", re.compile(r"哪些|哪几|包括什么|包括哪|包含哪|有什么|列举|几大|几个方面|分别是|都有")),
    ("yesno", YESNO),
    ("task", re.compile(r"如何|怎么|怎样|什么措施|哪些措施|举措|做什么|要求|怎么做|重点是|主要任务|内容是什么|是什么")),
]
# Words that only say what is asked; they must not count as the topic the answer has to cover.
QUESTION_WORDS = frozenset(
    """多少 几 数量 规模 目标 目标值 指标 比例 比重 占比 谁 哪个 哪些 哪家 哪里 哪儿 何时 什么时候 时间 年份
    部门 单位 主体 地区 城市 地方 地点 措施 举措 任务 要求 重点 内容 主要 具体 分别 包括 包含 哪几
    规划 文件 本规划 浙江省 浙江 全省 我省 省 提出 明确 规定 计划 打算 方面 什么 如何 怎么 怎样 做 支持 到 年
    达到 实现 建成 建设 完成 多大 是否 有没有 能否 列举 问 个 座 家 辆 项 亿元 万辆 倍 时候 哪几个 几个 指 指的是
    哪一年 哪年 多久 一下 介绍 说明 内容""".split()
)
# Nouns that are sums of money: "税额是多少", "加收多少滞纳金" ask for an amount as "补贴多少" does.
MONEY_NOUNS = r"补贴|奖励|补助|投资|资金|费用|税额|滞纳金|价款|收费|保费|罚金|电价|价格|起步价|运价|运费|车费"
MONEY = re.compile(rf"多少钱|多少元|多少万元|多少亿元|金额|资金规模|(?:{MONEY_NOUNS})(?:是|为|有|标准是)?多少"
                   rf"|多少[^，。？?]{{0,4}}(?:{MONEY_NOUNS})|投资额|预算|罚(?:款)?(?:是|为)?(?:多少|几)|多少(?:的)?罚款|罚款(?:数额|金额|标准|幅度)")
# A term the question puts in quotation marks ("“两免三减半”"): the name of a thing, which the text must write —
# short, and not words someone wrote or said ("合同里写着“出了问题本店概不负责”" quotes a contract, names nothing).
QUOTED_TERM = re.compile(r"[“「‘\"]([^“”「」‘’\"]{2,8})[”」’\"]")
SPEECH = re.compile(r"(?:写着|写明|写的是|标着|标明|贴着|挂着|印着|说|称|讲|提示|表示|问|告诉我)[：:，,]?$")


def quoted_terms(question: str) -> list[str]:
    """The names a question puts in quotation marks (not quoted speech)."""
    return [m.group(1) for m in QUOTED_TERM.finditer(question)
            if not SPEECH.search(question[max(0, m.start() - 4):m.start()])]


# A claim the question attributes to a document before asking on it: "X法是不是规定…？", "规划提出…，那…？",
# "三包规定要求厂家…，这个…怎么申请？" (a document's name, its verb of saying, a clause asking nothing, then the
# question). The answer rests on the claim; a document that does not state it answers nothing the question asks.
# (Not "规定的X" — a reference, no claim — nor 违法/依法, no document.)
SAYS = r"(?:规定|要求|提出|明确|写明|说|允许)了?"
PREMISE = re.compile(r"(?:是不是|是否)(?:规定|要求|提出|明确)了?(?P<asked>[^？?。]{4,})"
                     rf"|{SAYS}(?P<stated>[^，,？?。]{{4,}})[，,]\s*那"
                     rf"|(?:(?<![违依合守执立司])法|条例|规划|办法|规定|意见|通知|细则|决定|方案)(?:里|中|上)?{SAYS}"
                     rf"(?P<claimed>(?!的)[^，,？?。；;]{{4,}})[，,](?P<then>[^。]*)$")


def premise(question: str) -> str:
    """The claim a question attributes to a document, or ""."""
    m = PREMISE.search(question)
    if m and m.group("claimed"):
        # a claim asks nothing itself, and a question follows it
        claimed, then = m.group("claimed"), m.group("then")
        # ("翻了几番", "高几个百分点": 几 asks, whatever counter follows it)
        if ASKS.search(claimed) or YESNO.search(claimed) or not (ASKS.search(then) or YESNO.search(then) or "几" in then):
            return ""
        return claimed.strip()
    return (m.group("asked") or m.group("stated")).strip() if m else ""


# A province spoken of as the scope, not a place inside it; the documents' own regions are added per KB.
BROAD_PLACES = ("全省", "我省", "省内", "本省", "省里")


# A unit the question names ("多少万辆", "每公斤多少元", "多少Wh/kg") must be the unit of the answer's figure.
# 个 is the all-purpose classifier ("多少个项目" is answered in 项), so it constrains nothing. "哪几件事" lists, it counts
# nothing: 哪几/第几 are no figure.
UNIT_ASKED = re.compile(r"(?:多少|(?<![哪第])几)\s*(?:[万亿千百]?)(个月|个工作日|工作日|日|天|小时|辆|元|座|家|台|套|根|吨|件|千瓦时|度|公斤|gwh|kwh|mpa|%|成"
                        r"|分|平方米|公里|千米|周岁|岁|人|名|单)"
                        r"|(?:多少|(?<![哪第])几)\s*([a-z]+/[a-z]+)")
UNIT_SYNONYMS = {"天": ["日", "天", "个工作日", "工作日"], "日": ["日", "天", "个工作日", "工作日"],
                 "工作日": ["个工作日", "工作日"], "个月": ["个月", "月"], "度": ["千瓦时"], "成": ["%"], "gwh": ["GWh", "G瓦时"], "kwh": ["千瓦时"], "mpa": ["MPa"]}
ASKS = re.compile(rf"多少|{COUNTED}|哪|什么|谁|如何|怎么|怎样|是否|有没有")
FIGURES_ASKED = re.compile(rf"多少|{COUNTED}")
TASK = re.compile(r"做什么|怎么做|如何|怎样|什么措施|哪些措施|干什么|主要做|要求")


# A measure the question asks the figure of ("最高时速是多少", "面积有多大") is read in its units: a figure in
# another unit (the fine in the same article) does not answer it.
# (Not 速度 or 质量: "增长速度", "产品质量" are no speed or mass.)
MEASURE_UNITS = {"时速": ["公里", "千米", "km"], "车速": ["公里", "千米", "km"],
                 "面积": ["平方米", "平方公里", "亩", "公顷"], "年龄": ["周岁", "岁"], "税率": ["%"],
                 "重量": ["千克", "公斤", "吨", "kg"], "整车质量": ["千克", "公斤", "吨", "kg"],
                 "功率": ["瓦", "千瓦", "kw"], "距离": ["米", "公里", "千米"], "长度": ["米", "公里", "千米"]}
MEASURE = re.compile("|".join(MEASURE_UNITS))


STORY_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?:\d{1,2}\s*月(?:\d{1,2}\s*日)?)?(?:才|刚|就)?(?:在[^，,。？?]{0,6})?(?:新|刚)?"
                        r"(?:买|购买|购置|拿到|取得|注册|设立|成立|开业|开张|登记|上牌|入职|开始|签订|签了|办了|领了)")


def units_asked(q: str, figure: bool = False) -> list[str]:
    """Units the answer's figure must have: those the question names, else (for a figure question) those of the
    measure it asks about."""
    units: list[str] = []
    for m in UNIT_ASKED.finditer(q):
        u = m.group(1) or m.group(2)
        units += UNIT_SYNONYMS.get(u, [u])
    if not units and figure and (m := MEASURE.search(q)):
        units = MEASURE_UNITS[m.group()]
    if not units and re.search(r"多远|多长距离", q):
        units = MEASURE_UNITS["距离"]
    if not units and "多快" in q:  # "最高能开多快": a speed
        units = MEASURE_UNITS["时速"]
    return list(dict.fromkeys(units))


# A bound the question asks for: "最低车速", "数量上限", "至少几年" — answered only by a clause that states a bound
# of that direction (最高时速不得超过… states no minimum).
LOW_ASKED = re.compile(r"最低|最少|最小|下限|至少|起码")
HIGH_ASKED = re.compile(r"最高|最多|最大|上限|至多|封顶")


def bound_asked(q: str) -> str:
    """"low", "high" or "" (both, or neither, are asked)."""
    low, high = bool(LOW_ASKED.search(q)), bool(HIGH_ASKED.search(q))
    return "low" if low and not high else "high" if high and not low else ""


class Question(BaseModel):
    text: str
    intent: Intent
    years: list[str]
    places: list[str]
    names: list[str] = []  # enterprises or brands it names (kb/data/organisations.txt)
    money: bool
    units: list[str]  # units the answer's figure must have
    provincial: bool  # the question is about the province (浙江/全省), not the country
    broad: bool  # answered by a whole provision ("要做什么", or several things asked at once), not one clause
    figures: int  # how many figures are asked for ("产量是多少？占比是多少？" asks two)
    terms: list[str]  # topic tokens: index tokens minus question words, years and places
    box: str | None = None  # "专栏7" when the question names a box


def analyze(question: str, seg: Segmenter, regions: tuple[str, ...] = ()) -> Question:
    """`regions`: the places the KB's documents cover (浙江省, 浙江): naming them sets the scope, not a constraint."""
    q = expand_years(normalize(question).strip())
    broad = BROAD_PLACES + regions
    # (a count told of something done, in a clause the question goes on from — "在外地开了几家分店，所得税…" — asks
    # no number: intent and units are read without it)
    asking = TOLD_COUNT.sub("些", q)
    intent: Intent = next((name for name, pat in INTENT_PATTERNS if pat.search(asking)), "general")
    if intent == "where" and re.search(r"(?:钱|资金|经费|费用|补贴)[^，。？?]{0,4}从哪", q):
        intent = "general"  # "换电站的钱从哪里来": the source of the money, not a place
    if intent == "figure" and not re.search(r"多少|多大|多远|比例|占比|倍", asking) and YESNO.search(q):
        intent = "yesno"  # "几个朋友合伙开的店，要交企业所得税吗？": 几个 counts the friends, nothing is asked in it
    figures_asked = FIGURES_ASKED.findall(asking) if intent != "yesno" else []
    years = sorted(set(YEAR.findall(CITED_TITLE.sub(" ", q))))  # 《纲要（2021—2035年）》's years are its name
    # A year of the asker's own story ("2019年才在杭州拿到的经营权", "2020年8月新买的车") dates their case, as "在上海
    # 设了机构" places it: no scope the answering clause must state.
    story = {m.group(1) for m in STORY_YEAR.finditer(q)}
    drop_years = set(years)
    years = [y for y in years if y not in story]
    named = list(dict.fromkeys([p for p in places_in(q) if p not in broad] + shaped_places_in(seg.words(q))))
    drop = set(QUESTION_WORDS) | drop_years | set(named)
    # Single Chinese characters say little on their own (指, 建, 要); a place is checked separately, not as topic.
    topic = q
    for p in named:
        topic = re.sub(rf"{re.escape(p)}[市县区]?", " ", topic)
    terms = [t for t in dict.fromkeys(seg.tokens(topic))
             if t not in drop and not re.fullmatch(r"\d{1,3}", t) and (len(t) > 1 or t.isascii())]
    box = re.search(r"专栏\s*(\d+)", q)
    return Question(text=q, intent=intent, years=years, places=named, names=organisations_in(q), money=bool(MONEY.search(q)),
                    units=units_asked(asking, intent == "figure"), provincial=any(b in q for b in broad)
                    and not re.search(r"全国|我国|国家", q),
                    broad=intent in ("task", "general", "list", "yesno") or bool(TASK.search(q))
                    or (intent != "figure" and len(ASKS.findall(q)) >= 2),
                    figures=max(1, len(figures_asked)),
                    terms=terms, box=f"专栏{box.group(1)}" if box else None)
