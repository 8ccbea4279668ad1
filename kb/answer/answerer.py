"""Extractive answerer: picks the clauses that answer a question, trims them, cites them, or refuses on evidence."""
from __future__ import annotations

import math
import re
from dataclasses import replace
from functools import lru_cache

import numpy as np

from kb.answer.address import (
    COUNT_PARTS,
    WHICH_PART,
    AddressIndex,
    Scope,
    label_address,
    outline,
    quote_scope,
)
from kb.answer.aspects import DISTRIBUTIVE, split_aspects
from kb.answer.compute import Calculator
from kb.answer.enumeration import items_under, lead_in, list_items
from kb.answer.legal import (
    AMENDED, CATCH_ALL, CITED_DUTY, CONSEQUENCE, DELEGATION, RECORD_ASKED, article_of, commencement, delegation,
    duty_cited, enactment, penalty_citing, records, version_asked,
)
from kb.answer.needs import DEFINES, DEFINITION_ASKED, Need, duty_asked, measured_thing, need_for, procedure_asked
from kb.answer.question import BROAD_PLACES, QUESTION_WORDS, Question, analyze, premise, quoted_terms
from kb.answer.scope import addresses, spells_title
from kb.answer.verdict import Candidate, Quote, Verdict, whole
from kb.core.figures import figure_values
from kb.core.national import country
from kb.core.places import categories_in, document_names_in, occasions_in, remedies_in
from kb.core.records import (
    SECTION_SEP,
    AnswerRecord,
    Chunk,
    Citation,
    Paragraph,
    Retrieved,
    Span,
)
from kb.core.segment import Segmenter
from kb.core.settings import AnswerSettings
from kb.core.text import CLAUSE_END, compact, normalize, split_sentences, unquote
from kb.core.text import clauses as split_clauses
from kb.core.timeexpr import CITED_TITLE, PERIOD, YEAR_PHRASE, years_in
from kb.retrieval.expand import broader, expansions, forms_in
from kb.retrieval.hybrid import HybridRetriever
from kb.retrieval.outline import part_unit
from kb.store.files import KBData
from kb.store.tables import TableStore

# "具体能减免哪些税", "入园条件是什么": a question for details a clause may leave to another body.
DETAIL_OR_LIST = re.compile(r"具体|包括|哪些|哪几|是什么|指什么|有什么|都有")
DETAIL_ASKED = re.compile(r"具体|什么条件|哪些条件|什么标准|怎么算|怎么认定|标准是|怎么计算|如何计算"
                          r"|按(?:照)?(?:什么|多少|哪个)[^，。？?]{0,6}(?:算|计算|收|征)")
# Words of a part of a multi-part question that only frames it ("道交法怎么规定的？", "有没有写明？").
FRAME_WORDS = frozenset("规定 写明 写 写了 提到 说 说的 明确 这个 这 条款 里面 文件 法律 法规 条例 办法 规划 本法 有关 "
                        "是否 有没有 怎么 如何 的 了 呢 吗".split())
# A clause that is a sanction (what a penalty article imposes), as it opens: "没收违法所得", "并处…罚款", "暂扣…驾驶证".
SANCTION = re.compile(r"(?:可以|依法|由[^，；。]{1,20})?并?(?:处|没收|吊销|暂扣|扣留|责令|予以|给予|撤销)")
# A question asking whether a rule singles something out, and where an asker is or acts ("在上海…", "深圳注册的").
SINGLED_OUT = re.compile(r"特别|专门|特殊|单独|特定|额外|另行|另外")
SITUATED = r"[在到去来于]{place}|{place}[^，。？?]{{0,6}}(?:注册|设立|设|开办|开|办|买|购买|登记|成立|落户|上班|工作)"
# Questions about the document itself ("这份规划由哪个单位印发"), not about a policy it mentions ("加氢站布局规划何时出台").
ISSUANCE = re.compile(r"(?:哪个|什么|哪家|哪一)(?:单位|部门|机关|机构)(?:印发|发布|制定)|由谁|谁(?:印发|发布|制定)"
                      r"|(?:印发|发布|发文)(?:单位|机关|部门|时间|日期)|(?:什么时候|何时|哪天|哪一天|哪年)(?:印发|发布)")
# Words of a question about what follows a breach (the penalty, the liability, who deals with it), not about the duty.
CONSEQUENCE_ASKED = re.compile(r"罚|处分|责任|处理|后果|情节|怎么办|会怎样|会怎么样")
# "…从什么时候开始施行": when the document itself takes effect. Laws and regulations state it in their closing
# article by a fixed drafting convention ("本法自2018年1月1日起施行", "本条例自公布之日起施行").
IN_FORCE_ASKED = re.compile(r"(?:什么时候|何时|哪天|哪一天|哪年|哪一年|几月|日期|时间|从.{0,6}起).{0,8}(?:施行|生效)"
                            r"|(?:施行|生效)(?:日期|时间|日子)")
IN_FORCE_WORDS = frozenset("修订 修改 修正 开始 施行 生效 正式 是从 从 起 实施 新 现行 法 条例 办法".split())
# "制定这部法是为了什么", "依据哪部法律制定的": why and on what basis the document was made, which its enacting
# clause says (kb.answer.legal.enactment) — not "以营利为目的" or "商业目的", said of something inside it.
PURPOSE_ASKED = re.compile(r"(?<!商业)(?<!为)目的(?![的地])|宗旨|初衷|出发点|为什么要?(?:制定|出台|颁布|编制|立)|为何(?:制定|出台)"
                           r"|(?:依据|根据|依照)(?:哪部|哪个|哪些|什么)[^，。？?]{0,8}(?:制定|出台|编制)|(?:制定|立法)依据")
PURPOSE_WORDS = frozenset("制定 出台 颁布 印发 编制 立法 立 达到 实现 目的 宗旨 初衷 出发点 依据 根据 依照 想 想要 主要 为了 为 "
                          "解决 问题 当初 国家 当时 法律 法规 规章 条例 办法 规定 规划 这部 这份 这个 本 它 哪部 方面 几个".split())
THIS_DOCUMENT = re.compile(r"(?:这份|这个|本|该|此)[^，。？?]{0,20}(?:规划|文件|通知|政策)")
# A statement about the whole country (全国销量…). Not 国家 alone: "国家标准", "按照国家规定" in a provincial
# regulation are that province's rules.
# (Not 全国领先, 全国前列, 全国首个: the province's standing in the country, said of the province.)
NATIONAL = re.compile(r"我国|全国(?!领先|前列|第一|首|率先|一流|先进|示范|标杆)")
# A term led by a count ("四化", "三纵三横") and a question that asks what it stands for.
COUNT_LED = re.compile(r"[一二两三四五六七八九十\d]")
UNFOLD_ASKED = re.compile(r"指|是什么|是哪|包括|分别|哪[几些一]")
PROVINCIAL = re.compile(r"全省|我省|省内|本省")


# Question words that count or negate, never name what is asked about (第一次, 一次, 五万, 不到, 没到, 未满).
NOT_TOPIC = re.compile(r"第?[零〇一二两三四五六七八九十百千万亿\d]+[次个万亿千百元年天日月岁辆]?$|[不没未][到满够足过]$")
TITLE_ONLY = 12  # characters: a quote this short without the needed fact is a heading, not an answer
ADDRESS_WORD = re.compile(r"第?[零〇一二两三四五六七八九十百千\d]*(?:条|章|节|部分)|专栏\d*")
# Words that ask about an address as a whole ("讲的是什么", "主要内容"), not about something inside it.
STRUCTURE_WORDS = frozenset("规定 讲 讲的是 内容 关于 主要 标题 名称 叫 一共 分 分为 分成 各 列 列了 写 说 涉及 大概 概括 几 哪几 "
                            "几项 几个 几条 几类 包括 包含 哪些 专栏 部分".split())

# A comparison with something outside the clause: "和…相比", "有什么区别", "哪个高", "比…多多少".
COMPARISON = re.compile(r"相比|对比|比较|区别|不同之处|有何不同|有什么不同|差别|哪个[^，,。？?]{0,10}更|"
                        r"哪个(?:高|低|多|少|严|宽|长|短|大|小)|(?:和|与|跟|同)[^，,。？?]{1,30}比[，,]")

# A prohibition or a denial, as a claim or a clause states it (not a bare 不: 不低于 bounds, it does not forbid).
PROHIBITION = re.compile(r"不得|不予|禁止|不准|不能|不可以|严禁|不允许|无权")
# A question that asks what may not be done or is not due ("哪些支出不能扣除", "什么情况下不用交"), not whether
# ("能不能", "可不可以", "要不要" ask both ways), and the clauses that deny or exempt: the answer is among these.
NEGATION_ASKED = re.compile(r"(?P<before>.?)不(?P<verb>能|得|可以|准|许|让|予|用|必|需要?)|禁止|严禁|无需|免于")
PERMITS = re.compile(r"可以|准予|允许|享受|给予")
DENIES = re.compile(PROHIBITION.pattern + r"|免征|免予|免除|不征|不缴纳|不计入|不属于|不适用|除外|无需|不需要|不必")
# "能按三包规定要求三包吗", "也按这个办法管吗", "算不算", "适用吗": whether the text covers the asker's case, which
# the clauses that set its scope say (适用于…, 本规定所称…是指, 不适用本法, 依照…规定执行).
COVERAGE_ASKED = re.compile(r"(?:按|依|照|适用)[^，,。？?]{0,20}(?:法|条例|办法|规定|细则)[^，,。？?]{0,12}(?:吗|么)"
                            r"|(?:算不算|属不属于|适不适用|适用不适用|归不归|管不管)")
SCOPE_CLAUSE = re.compile(r"适用|所称|是指|参照|依照[^，。；]{0,20}规定执行|不属于")
# "和/跟/与X比", "X相比": the thing a question compares with (not a ratio "债权性投资与权益性投资的比例")
COMPARED_WITH = re.compile(r"(?:和|与|跟|同)(?P<with>[^，,。？?；;]{2,30}?)(?:相比|比较|对比|比(?![例率重]))"
                           # "…税率，比越南的企业所得税税率高几个百分点": 比X高/低/多/少
                           # (asking how much more or whether: not "比普通火电多出来的那部分钱由谁出")
                           r"|(?<![对相无好评类排])比(?![例率重较如方])(?P<than>[^，,。？?；;比]{2,24}?)(?:还|更)?"
                           r"(?:高|低|多|少|严|宽|长|短|大|小|快|慢|贵|便宜)(?:了)?(?:多少|几|吗|么|些|[？?])")


class Answerer:
    def __init__(self, data: KBData, retriever: HybridRetriever, segmenter: Segmenter,
                 params: AnswerSettings | None = None):
        self.p = params or AnswerSettings()
        self.data = data
        self.retriever = retriever
        self.seg = segmenter
        bm = data.bm25
        # Document frequencies come straight from BM25's token-major sparse matrix: one column per token.
        indptr = bm.scores["indptr"]
        n = len(data.chunks)
        self._idf = {tok: math.log((n + 1) / (indptr[v + 1] - indptr[v] + 0.5))
                     for tok, v in bm.vocab_dict.items() if v + 1 < len(indptr)}
        self._max_idf = math.log((n + 1) / 0.5)
        # A word the corpus never uses (补贴, 耗电, 小轿车) cannot be matched lexically: weigh it like a typical
        # word, so paraphrases are not sunk by it; the semantic match and the constraints decide for it.
        self._oov_idf = float(np.median(list(self._idf.values()))) if self._idf else 1.0
        # "rare" = in at most ~5% of passages (and at most a handful in a small corpus)
        self._specific_idf = math.log((n + 1) / (max(3, 0.05 * n) + 0.5))
        self.calculator = Calculator(TableStore(data.tables_path)) if data.tables_path.is_file() else None
        self._addresses = AddressIndex(data.paragraphs)
        # A document's title scopes every clause in it: article 4 of an e-bike regulation is about e-bikes even
        # when it says only "未登记上路行驶的".
        self._titles = {d: doc.meta.title for d, doc in data.documents.items()}
        # The places the documents cover (their metadata's region: 浙江省 → 浙江省, 浙江), per document and all.
        self._doc_regions = {d: _region_names(doc.meta.region) for d, doc in data.documents.items()}
        self.regions = tuple(dict.fromkeys(r for rs in self._doc_regions.values() for r in rs))
        # Per document, made when first needed and kept for the most recent ones (nothing per paragraph up front).
        self._intros = lru_cache(maxsize=256)(self._doc_intros)
        self._records = lru_cache(maxsize=256)(lambda doc_id: records(self.data.paragraphs[doc_id]))
        # A document's whole text in normal form, for "does it ever say X" (~3 ms for a 30,000-character law)
        self._normal_text = lru_cache(maxsize=32)(lambda doc_id: normalize(self.data.documents[doc_id].text))

    # --- public -----------------------------------------------------------------------------------------
    def ask(self, question: str, hits: list[tuple[Chunk, float]], docs: frozenset[str] | None = None,
            named: list[str] | None = None) -> AnswerRecord:
        """Answer from `hits`; `docs` limits the paths that read the KB directly (addresses, outlines, tables) to
        the documents a filter allows, as `hits` already are; `named` are the documents the question names."""
        q = self._within(analyze(question, self.seg, self.regions), named or [])
        q_vec = self.retriever.query_vector(question)
        # Strategies in order, the first that applies answers: the document's own issuance facts, a computation
        # the question asks for, an address (第N条/章, 专栏N), a named section's parts, a multi-part question,
        # then extraction from the retrieved passages.
        verdict = (self._issuance(q, hits) or self._in_force(q, hits, named or [])
                   or self._enacted(q, hits, named or []) or self._computed(q, docs)
                   or self._address(question, q, hits, docs, named or [], q_vec) or self._outline(q, hits, docs)
                   or self._aspects(question, q, hits, q_vec, named or [], docs) or self._extract(q, hits, q_vec))
        if not verdict.missing and (why := self._unaddressed(question, q, hits, docs, named or [])):
            # the clause nearest the question answers it only if the documents speak of what it asks about
            verdict = Verdict(missing=why, related=verdict.quotes)
        if absent := self._absent_titles(question, verdict):
            # "X法和《清洁生产促进法》有什么区别": a document the KB does not hold, and the answer never mentions,
            # cannot be compared with or quoted from — the nearest clauses are offered, not asserted; and when
            # nothing answered anyway, the missing document is the reason worth telling
            verdict = Verdict(missing=f"{'、'.join(absent)}的相关内容（知识库中没有这份文件）",
                              related=verdict.quotes or verdict.related)
        if not verdict.missing:
            verdict = self._placed(question, verdict)
            hits = self._evidence_first(verdict.quotes, hits, verdict.drew_on)
        retrieved = [Retrieved(chunk_id=c.chunk_id, doc_id=c.doc_id, section=c.section_path, text=c.text,
                               score=round(s, 6)) for c, s in hits]
        if verdict.missing:
            nearest = verdict.related or [Quote(p, s.start, s.end, s.text) for p, s in self._related(hits)]
            related = [self._cite(qt) for qt in nearest]
            return AnswerRecord(question=question, refused=True, answer=f"文件中未找到{verdict.missing}。",
                                related=related, retrieved=retrieved)
        citations = [self._cite(qt) for qt in verdict.quotes]
        several = len({qt.para.doc_id for qt in verdict.quotes}) > 1
        # (a quote's own closing 。 is not repeated before its marker: the answer reads "…罚款[1]。")
        parts, said = [], ("", "")
        for i, qt in enumerate(verdict.quotes, start=1):
            label = (qt.para.doc_id, article_of(qt.para))
            prefix = qt.prefix or self._article(qt)
            # One article quoted sentence by sentence is named once, not before each of its sentences.
            # … and a quote that opens with its own label ("第二条 本法所称…") is not prefixed with it again.
            if (label[1] and label == said and prefix == f"{label[1]}：") or (
                    prefix.endswith("：") and qt.text.startswith(prefix[:-1])):
                prefix = ""
            said = label
            parts.append(f"{self._source(qt) if several else ''}{prefix}{qt.text.rstrip('。；;')}[{i}]")
        parts += [verdict.conclusion] if verdict.conclusion else []
        return AnswerRecord(question=question, answer=verdict.lead + "；".join(parts) + "。", citations=citations,
                            retrieved=retrieved)

    def _within(self, q: Question, named: list[str]) -> Question:
        """Inside the documents a question names, their titles' words tell no clause from another: they are the
        scope, not the topic ("按电动三轮车管理条例罚多少" asks about 罚, within that regulation)."""
        if not named:
            return q
        titles = "".join(compact(self._titles[d]) for d in named)
        # "浙江省电动自行车管理条例要求…" names a document; its 浙江省 is not the province asked about as scope.
        rest = CITED_TITLE.sub(" ", q.text)
        for d in named:
            for form in (normalize(self._titles[d]), compact(self._titles[d])):
                rest = rest.replace(form, " ")
        q.provincial = q.provincial and any(b in rest for b in BROAD_PLACES + self.regions)
        topic = [t for t in q.terms if t not in titles]
        if topic:
            q.terms = topic
        return q

    def _absent_titles(self, question: str, v: Verdict) -> list[str]:
        """Documents the question names — in 《》, or by a law's or regulation's name (kb/data/document_names.txt) —
        that are not in the KB and not cited in the quoted text. Comparing with one ("跟个人所得税法比，哪个高",
        "和2001年的《报废汽车回收管理办法》相比") needs its text, so there a mere citation of it does not count."""
        metas = {d: doc.meta for d, doc in self.data.documents.items()}
        q = compact(question)
        # (nor does a record line's mention, "1998年…发布的《…办法》同时废止", when the question asks what that text
        # said rather than when it was repealed)
        quoted = "" if COMPARISON.search(q) else compact(
            " ".join(self._text(qt.para.doc_id, qt.start, qt.end) for qt in v.quotes
                     if RECORD_ASKED.search(q) or qt.para.index not in self._records(qt.para.doc_id)))
        names = re.findall(r"《([^》]+)》", q) + document_names_in(re.sub(r"《[^》]*》", "", q))
        # the whole name must spell a title (道交法, 环保税法): 个人所得税法 shares 所得税法 with 企业所得税法, but is
        # another law
        return [f"《{t}》" for t in dict.fromkeys(names)
                if not any(spells_title(t, m.title) for m in metas.values()) and compact(t) not in quoted]

    def _unused_terms(self, q: Question, named: list[str]) -> list[str]:
        """The question's domain terms that the corpus uses but none of the `named` documents does, nor any standard
        term for them (kb/data/colloquial.txt) or broader class (kb/data/broader.txt)."""
        texts = [self._normal_text(d) for d in named]
        domain = set(self.seg.terms)
        # a dictionary term is a topic however common it is elsewhere (the plan says 氢燃料电池汽车 often)
        terms = [t for t in q.terms if t in domain and self._idf.get(t, 0.0) > 0 and not NOT_TOPIC.match(t)]
        # a kind of vehicle or energy, an event or a legal remedy is a topic even if no document uses it
        # (电动滑板车 of a road-traffic law, 亚运会期间 of a taxi regulation, 申请复议 of a tax law)
        terms = list(dict.fromkeys(terms + self._specific_terms(q) + categories_in(q.text) + occasions_in(q.text)
                                   + remedies_in(q.text)))
        terms = [t for t in terms if not any(t != u and t in u for u in terms)]
        # (a document on 机动车 addresses 新能源汽车 too: a broader class it names counts)
        # (and an example the question itself generalises, "行业协会、商会这类行业组织", is asked of as that class)
        return [t for t in terms if not any(f in tx for f in [t, *expansions(t), *broader(t)] for tx in texts)
                and not re.search(re.escape(t) + r"[^，,。？?]{0,10}(?:这类|这些|这种|之类|等)", q.text)]

    def _unquoted(self, q: Question, question: str, hits: list[tuple[Chunk, float]], named: list[str]) -> list[str]:
        """Terms the question quotes (“…”) that neither the documents it names nor, naming none, the documents of
        the retrieved passages write — as quoted, or in a standard word for it (kb/data/colloquial.txt). A count
        the question asks to unfold ("哪“四化”", "“三横”指什么") is its own shorthand for a list the text spells out."""
        unfolds = q.intent == "list" or bool(UNFOLD_ASKED.search(question))
        terms = [normalize(t) for t in quoted_terms(question)
                 if not (unfolds and COUNT_LED.match(t))]
        if not terms:
            return []
        docs = named or list(dict.fromkeys(c.doc_id for c, _ in hits))
        texts = [self._normal_text(d) for d in docs]
        return [t for t in dict.fromkeys(terms)
                if not any(f in tx for f in [t, *expansions(t)] for tx in texts)
                and not any(_abbreviation(t).search(tx) for tx in texts)]

    def _unaddressed(self, question: str, q: Question, hits: list[tuple[Chunk, float]], docs: frozenset[str] | None,
                     named: list[str]) -> str:
        """Why the documents do not speak of what the question asks about, however near their best clause — the
        first reason found — or ""."""
        if named and (unused := self._unused_terms(q, named)):
            # "可再生能源法对氢燃料电池汽车用氢有什么支持": a domain term other documents use, never used by the
            # documents the question names — they do not address it, whatever clause scores best
            return f"{'、'.join(f'《{self._titles[d]}》' for d in named)}中关于“{'、'.join(unused)}”的规定"
        if unquoted := self._unquoted(q, question, hits, named):
            # "还能享受“两免三减半”吗", "对“亩均论英雄”改革有什么规定": a term put in quotation marks names a thing; a
            # document that never writes it does not speak of it, whichever of its clauses is nearest
            return f"关于{'、'.join(f'“{t}”' for t in unquoted)}的规定"
        if left := self._left_open(question, named):
            # "第七条里说的“国务院规定的其他不征税收入”具体包括哪些": the list quoted in full does not say
            return left
        if other := self._other_version(question, named):
            # "可再生能源法刚通过时是怎么规定的", "条例后来修改以后罚多少": the KB holds one text of the document;
            # its nearest clause says what this text says, not what another version did
            return other
        if outside := self._compared_outside(question):
            # "…和欧盟的RoHS指令比，哪个更宽": the other side of the comparison is in no text the KB holds
            thing, absent = outside
            return f"与“{thing}”的比较（文件未提及“{'、'.join(absent)}”）"
        if (claim := premise(question)) and not self._states(claim, docs, named):
            # "规划提出2025年起全面停售燃油车，那之后…": the question rests on a claim no sentence of the documents
            # makes; whatever clause is nearest answers a question nobody asked
            return f"“{claim}”的规定（问题所说的前提在文件中找不到）"
        return ""

    def _compared_outside(self, question: str) -> tuple[str, list[str]] | None:
        """What a "和X比/相比" question compares with, and its words that no document of the KB writes, nor any
        standard term for them; None when there are none. "小微企业的税率和高新技术企业的税率比" compares two things
        one law states; "和欧盟的RoHS指令比" something no document has. (Any document, not only those named: a
        modifier the named law happens not to use — the 基本 of 基本税率 — is no sign of a thing outside the KB.)"""
        m = COMPARED_WITH.search(question)
        if not m:
            return None
        thing = m.group("with") or m.group("than")
        texts = [self._normal_text(d) for d in self.data.documents]
        words = [t for t in self.seg.tokens(thing)
                 if len(t) > 1 and t not in QUESTION_WORDS and not NOT_TOPIC.match(t)]
        absent = [t for t in dict.fromkeys(words) if not any(f in tx for f in [t, *expansions(t)] for tx in texts)]
        # (a word inside another absent one is not said twice: 收费标准, not also 收费 and 标准)
        absent = [t for t in absent if not any(t != u and t in u for u in absent)]
        # (shown as the question writes them: RoHS, not the normal form's rohs)
        shown = [found.group() if (found := re.search(re.escape(t), thing, re.I)) else t for t in absent]
        return (thing, shown) if absent else None

    def _provision_text(self, p: Paragraph) -> str:
        """A list lead-in of an article ("…有下列情形之一的，…罚款：") with its items; else the paragraph."""
        if not article_of(p) or not p.text.rstrip().endswith(("：", ":")):
            return p.text
        return "".join([p.text, *(x.text for x in items_under(p, self.data.paragraphs[p.doc_id]))])

    def _left_open(self, question: str, named: list[str]) -> str:
        """What is missing when the question asks what a catch-all item of a named document holds
        ("国务院规定的其他不征税收入具体包括哪些"), else "": the item as the document writes it, and whose it is to say."""
        q = normalize(question)
        if not named or not (m := CATCH_ALL.search(q)) or not DETAIL_OR_LIST.search(q[m.end():]):
            return ""
        text = self._normal_text(named[0])
        # the longest stretch around "…规定的其他…" that the document itself writes
        found = max((q[i:j] for i in range(max(0, m.start() - 12), m.start() + 1)
                     for j in range(m.end() + 1, min(len(q), m.end() + 12) + 1) if q[i:j] in text),
                    key=len, default="")
        if not found:
            return ""
        body = found[:found.index(m.group())]
        whose = f"由{body}另行" if len(body) > 1 else "另行"
        return f"“{found}”的具体范围（文件未列明，{whose}{m.group(1)}）"

    def _other_version(self, question: str, named: list[str]) -> str:
        """What is missing when the question asks of a version of a named document that the KB does not hold (its
        earlier text, a later change, or the changes between them), else ""."""
        if not named or not (kind := version_asked(normalize(question))):
            return ""
        doc = self.data.documents[named[0]].meta
        earlier = any(d.meta.replaced_by == doc.doc_id for d in self.data.documents.values())
        if (kind == "later" and doc.replaced_by) or (kind != "later" and earlier):
            return ""  # that version is in the KB: it answers
        paragraphs = self.data.paragraphs[doc.doc_id]
        if kind in ("earlier", "changes") and not any(AMENDED.search(paragraphs[i].text)
                                                      for i in self._records(doc.doc_id)):
            return ""  # never amended, as its history lines say: the text at hand is the text as adopted
        held = f"（知识库中的是{doc.date[:4]}年的文本）" if doc.date else "（知识库中只有其一个文本）"
        what = {"earlier": "修改前的文本", "later": "此后修改的内容", "changes": "各次修改的具体内容",
                "draft": "草案或征求意见稿的内容"}[kind]
        return f"《{doc.title}》{what}{held}"

    def _states(self, claim: str, docs: frozenset[str] | None, named: list[str]) -> bool:
        """Whether one sentence of the passages retrieved for the claim (in the named documents, if any) holds
        premise_coverage of its topic weight — a word or its standard form (kb/data/colloquial.txt) — and every
        figure it states, whatever the numerals."""
        c = self._within(analyze(claim, self.seg, self.regions), named)
        terms = [t for t in c.terms if len(t) > 1]
        # A compound weighs once: jieba's search mode also yields its parts (氢燃料电池汽车 → 燃料, 电池, 汽车 …),
        # which would let any sentence on the compound's subject outweigh what the claim says of it. A part
        # present earns the compound's weight in the share of its characters it spells (汽车 2 of 7).
        words = {t: [p for p in terms if p in t] for t in terms if not any(t != o and t in o for o in terms)}
        figures = figure_values(normalize(claim))
        scope = frozenset(named) if named else docs
        retriever = self.retriever.restricted(scope) if scope is not None else self.retriever
        total = sum(self.idf(t) for t in words) or 1.0
        for chunk, _ in retriever.search(claim, k=self.p.premise_passages):
            for sentence in (sp.text for sp in split_sentences(normalize(chunk.text), 0)):
                got = sum(self.idf(t) * max((len(p) / len(t) for p in parts
                                             if any(f in sentence for f in [p, *expansions(p)])), default=0.0)
                          for t, parts in words.items())
                if got / total >= self.p.premise_coverage and figures <= figure_values(sentence) \
                        and self._same_polarity(claim, sentence, words):
                    return True
        return False

    @staticmethod
    def _same_polarity(claim: str, sentence: str, words: dict[str, list[str]]) -> bool:
        """Whether the clause of `sentence` that says most of the claim forbids as the claim does: "法律允许境外
        亏损抵减境内盈利" is not what "…亏损不得抵减境内营业机构的盈利" says."""
        clauses = [c.text for c in split_sentences(sentence, 0, ends=CLAUSE_END)]
        best = max(clauses, key=lambda c: sum(any(p in c for p in parts) for parts in words.values()), default="")
        return bool(PROHIBITION.search(best)) == bool(PROHIBITION.search(claim))

    def _placed(self, question: str, v: Verdict) -> Verdict:
        """"…在哪一章？": the answer opens with the heading of the chapter (节, 部分) that holds what it quotes —
        quoted from the document like any other part of the answer."""
        kinds = {m.group(1) for m in WHICH_PART.finditer(compact(question))}
        if not kinds or not v.quotes:
            return v
        quoted = {(qt.para.doc_id, qt.para.index) for qt in v.quotes}
        heads = [whole(h) for h in self._addresses.containers(v.quotes[0].para, kinds)
                 if (h.doc_id, h.index) not in quoted]
        return replace(v, quotes=heads + v.quotes) if heads else v

    def _article(self, qt: Quote) -> str:
        """"第十二条：" before a quote from an article (people cite laws by article), unless the quote starts so."""
        label = article_of(qt.para)
        return f"{label}：" if label and not qt.text.startswith(label) else ""

    # --- addresses: 第N条 / 第N章 / 专栏N / 第N部分, and "一共分几章" ----------------------------------------
    def _address(self, question: str, q: Question, hits: list[tuple[Chunk, float]], docs: frozenset[str] | None,
                 named: list[str], q_vec: np.ndarray) -> Verdict | None:
        addrs = addresses(question)
        count = COUNT_PARTS.search(question)
        if count and count.group(1) == "条" and not addrs:
            count = None  # "一共有几条" of a whole law: a list of every article answers nothing
        if not addrs and not (count and (named or len(self.data.documents) == 1)):
            return None
        allowed = named or (sorted(docs) if docs is not None else None)
        if not addrs:
            doc_id = named[0] if named else next(iter(self.data.documents))
            return outline(self._addresses, doc_id, count.group(1), None)
        a = addrs[0]
        scopes = self._addresses.find(a, allowed)
        if not scopes:
            where = "".join(f"《{self.data.documents[d].meta.title}》" for d in named[:1])
            return Verdict(missing=f"{where}{a.label}（文件中没有这一部分）")
        # Several scopes (a 第一节 in each chapter, the same article number in several laws): the one retrieval
        # ranks a passage of first, else the one of the best-ranked document.
        ranked = [c.doc_id for c, _ in hits]

        def rank(x: Scope) -> int:
            inside = {(p.doc_id, p.index) for p in x.paragraphs}
            return next((i for i, (c, _) in enumerate(hits) if (c.doc_id, c.para_index) in inside),
                        len(hits) + (ranked.index(x.doc_id) if x.doc_id in ranked else len(ranked)))

        sc = min(scopes, key=rank)
        for b in addrs[1:]:  # "第三章第二节": the 第二节 of that chapter
            if inner := self._addresses.find(b, [sc.doc_id], within=sc):
                sc, a = min(inner, key=rank), b
        parts: list[Verdict] = []
        if count:
            within = None if count.group(1) == a.kind else sc
            if (v := outline(self._addresses, sc.doc_id, count.group(1), within, self.p.outline_clause,
                             self.p.outline_budget)) is not None:
                parts.append(v)
            if within is not None:
                return parts[0] if parts else None
        # An entry of the address the question names by its run-in title ("专栏1里的“交通基础设施智能化技术”要研发
        # 哪些…") is what is asked about: that entry, whole.
        asked = normalize(question)
        entries = [p for p in sc.paragraphs if p.kind in ("body", "item") and len(p.lead) >= 4
                   and normalize(p.lead) in asked and len(p.text) <= self.p.article_budget]
        if len(entries) == 1:
            return Verdict(quotes=[whole(entries[0])], drew_on=sc.paragraphs)
        # Is something asked about inside the address ("专栏6里德清要实现什么")? Then find it there. Words of the
        # document's title, the address, its parts' titles or the question's frame ("包括哪几项") ask for the whole.
        title = compact(self.data.documents[sc.doc_id].meta.title)
        titles = normalize(" ".join([sc.title] + [p.lead or p.text for p in sc.paragraphs
                                                  if p.kind in ("heading", "box_title") or p.lead]))
        inner = [t for t in q.terms if t not in title and not ADDRESS_WORD.fullmatch(t) and t not in STRUCTURE_WORDS
                 and t not in titles and t not in normalize(a.label)]
        scope_text = normalize(" ".join(p.text for p in sc.paragraphs))
        specific = [t for t in inner if t in scope_text]
        text = sum(len(p.text) for p in sc.paragraphs if p.kind in ("body", "item"))
        if specific and (a.kind != "条" or text > self.p.article_budget):
            found = self._extract(q, [(self._pseudo_chunk(p), 0.0) for p in sc.paragraphs
                                      if p.kind in ("body", "item", "notice")], q_vec)
            if not found.missing:
                found.lead = f"{sc.title}：" if a.kind != "条" else ""
                return found
        quotes = (quote_scope(sc, self.p.article_budget) if a.kind == "条"
                  else quote_scope(sc, self.p.outline_budget, self.p.outline_clause))
        if not quotes:
            return None
        v = Verdict(quotes=quotes, drew_on=sc.paragraphs)
        if parts:
            v = Verdict(quotes=parts[0].quotes + quotes, lead=parts[0].lead, drew_on=sc.paragraphs)
        return v

    # --- multi-part questions: each part answered, each with its citation ---------------------------------
    def _aspects(self, question: str, q: Question, hits: list[tuple[Chunk, float]],
                 q_vec: np.ndarray, named: list[str], docs: frozenset[str] | None = None) -> Verdict | None:
        """Answer the whole question, then each part the answer does not yet cover, each with its citation; a
        part the documents do not answer is named."""
        parts = split_aspects(question)
        if len(parts) < 2:
            return None
        whole = self._extract(q, hits, q_vec)
        quotes: list[Quote] = [] if whole.missing else list(whole.quotes)
        missing, topic = [], []
        analysed = [self._within(analyze(part, self.seg, self.regions), named) for part in parts]
        for qi in analysed:
            # a place or an enterprise the question sets holds for each of its parts ("在浦东新设的企业能享受什么优
            # 惠？减免几年？" asks both of 浦东); a year need not ("入选五百强多少年了？到2025年占比多少？")
            qi.places = list(dict.fromkeys(qi.places + q.places))
            qi.names = list(dict.fromkeys(qi.names + q.names))
        for part, qi in zip(parts, analysed):
            # the same question of several things ("巡游车和网约车的运输证分别…"): the words that tell this part from
            # the others (网约 against 巡游) must be where its answer is
            # (so do a part completed from the one before: "网约车的运输证呢" after "巡游出租车运输证有效期多长")
            own = [t for t in qi.terms if len(t) > 1 and not any(t in other.terms for other in analysed if other is not qi)
                   ] if DISTRIBUTIVE.search(question) or part not in question else []
            if not [t for t in qi.terms if len(t) > 1 and t not in FRAME_WORDS
                    and not any(spells_title(t, self._titles[d]) for d in named)]:
                continue  # "道交法怎么规定的？", "有没有写明？": the frame of the question, asking nothing of its own
            if len([t for t in qi.terms if len(t) > 1]) < 2:  # "情节严重的呢": the topic is the part before
                qi.terms = list(dict.fromkeys(qi.terms + topic))
            topic = topic or qi.terms
            # a part about the document itself ("从哪天开始施行的？") is answered as that question alone would be
            if settled := (self._in_force(qi, hits, named) or self._enacted(qi, hits, named)
                           or self._issuance(qi, hits)):
                quotes = _merge(quotes, settled.quotes[0], self.data.documents[settled.quotes[0].para.doc_id].text)
                continue
            v = self._extract(qi, hits, q_vec)

            part_need = need_for(qi)
            own_forms = [f for t in own for f in forms_in(part, t)]

            def mine(x: Quote) -> bool:
                return any(t in normalize(x.text) for t in own_forms)

            def lead_of(v: Verdict) -> Quote:
                """The first quote with the part's own words (or their standard terms) that holds what the part asks
                (the 有效期 sentence of a whole article quoted for "…有效期多长"), else the first with either, else the
                first."""
                def asked(x: Quote) -> bool:
                    return bool(part_need and not part_need.punishes and part_need.search(x.text))
                return next((x for x in v.quotes if mine(x) and asked(x)), None) or next(
                    (x for x in v.quotes if mine(x)), None) or next((x for x in v.quotes if asked(x)), v.quotes[0])

            # ("…指什么" answered by a clause that uses the term but does not define it is not answered)
            undefined = not v.missing and bool(DEFINITION_ASKED.search(part)) and not DEFINES.search(lead_of(v).text)
            if v.missing or self.coverage(qi, lead_of(v).text) < self.p.part_coverage or (
                    own and not any(t in normalize(lead_of(v).text) for t in own_forms)) or undefined:
                # the passages retrieved for the whole question are those of its dominant part: a part they do
                # not answer well is looked up on its own, and its own answer kept if it says more of the part
                retriever = self.retriever.restricted(docs) if docs is not None else self.retriever
                alone = self._extract(qi, retriever.search(part, k=len(hits) or 10), retriever.query_vector(part))
                if not alone.missing and (v.missing or self.coverage(qi, lead_of(alone).text)
                                          > self.coverage(qi, lead_of(v).text)
                                          or (own and mine(lead_of(alone)) and not mine(lead_of(v)))
                                          # ("…指什么": the part's own search found the clause that defines it)
                                          or (undefined and DEFINES.search(lead_of(alone).text))):
                    v = alone
            if part_need and part_need.punishes and (v.missing or not any(part_need.search(x.text) for x in v.quotes)):
                # "…不提供会怎么罚？": a law punishes in its own article, which cites the duty's article
                # ("违反本条例第十六条第二款规定…"); that article is the answer to this part.
                v = next((cited for qt in quotes if (cited := self._penalty_for(qt.para))), v)
            if v.missing:
                missing.append(v.missing)
                continue
            # a part's answer is its first quote (the first with its own words), with the list items that quote
            # introduces ("…可以采取下列措施：")
            lead = lead_of(v)
            at = next(i for i, x in enumerate(v.quotes) if x is lead)
            # (an item chosen for its own words keeps what its article says before it: "有下列行为之一的，…罚款：")
            before = [x for x in v.quotes[:at] if x.para.doc_id == lead.para.doc_id
                      and article_of(x.para) and article_of(x.para) == article_of(lead.para)]
            for qt in before + [lead] + [x for x in v.quotes[at + 1:] if x.para.kind == "item"
                                         and x.para.section[:-1] == lead.para.section]:
                if not any(o.para is qt.para and o.start <= qt.start and qt.end <= o.end for o in quotes):
                    quotes = _merge(quotes, qt, self.data.documents[qt.para.doc_id].text)
        if not quotes:
            return whole
        # A part is said to be missing only when the whole question found nothing either: otherwise the whole
        # answer may well cover it, and a wrong "未找到" is worse than none.
        note = "；".join(f"文件中未找到{m}" for m in missing) if whole.missing else whole.conclusion
        # At most max_quotes + 1 provisions: the sentences of one article, or a lead-in and its items, are one.
        groups: list[tuple[str, str]] = []
        kept = []
        for qt in quotes:
            key = (qt.para.doc_id, article_of(qt.para) or str(qt.para.index))
            if key not in groups:
                if len(groups) > self.p.max_quotes:
                    continue
                groups.append(key)
            kept.append(qt)
        return Verdict(quotes=kept, conclusion=note)

    def _pseudo_chunk(self, p: Paragraph) -> Chunk:
        return Chunk(chunk_id="", doc_id=p.doc_id, section=p.section, para_index=p.index, start=p.start, end=p.end,
                     text=p.text, index_text=p.text)

    def _evidence_first(self, quotes: list[Quote], hits: list[tuple[Chunk, float]],
                        drew_on: list[Paragraph] | None = None) -> list[tuple[Chunk, float]]:
        """`retrieved` lists the passages the answer drew on first (interfaces.md §2), then the rest as retrieved:
        the answerer's choice is a second-stage ranking, better informed than the fused scores."""
        top = hits[0][1] if hits else 0.0
        first: list[tuple[Chunk, float]] = []
        for qt in quotes:
            chunk = next((c for c in self.data.chunks.of_paragraph(qt.para.doc_id, qt.para.index)
                          if c.start <= qt.start < c.end), None)
            if chunk is None and qt.para.kind in ("heading", "box_title"):
                # a quoted heading is no passage of its own: the part it heads, as one unit, is what was drawn on
                if (unit := part_unit(self.data.paragraphs[qt.para.doc_id], qt.para)) is not None:
                    first.append((unit, top))
                continue
            if chunk and all(chunk is not c for c, _ in first):
                score = next((sc for c, sc in hits if c is chunk), top)
                first.append((chunk, score))
        # An address answer (a chapter, a box) summarises a part of a document: all of it is what it drew on.
        for p in drew_on or []:
            for chunk in self.data.chunks.of_paragraph(p.doc_id, p.index):
                if all(chunk is not c for c, _ in first):
                    first.append((chunk, next((sc for c, sc in hits if c is chunk), 0.0)))
        return first + [(c, sc) for c, sc in hits if all(c is not f for f, _ in first)]

    def _computed(self, q: Question, docs: frozenset[str] | None) -> Verdict | None:
        """倍数, 合计, 相差, 占比: computed from target-table rows, each operand quoted with what kind of figure it is."""
        if self.calculator is None:
            return None
        comp = self.calculator.compute(q.text, docs)
        if comp is None:
            return None
        quotes = []
        for t in comp.operands:
            para = self._paragraph_at(t.doc_id, t.start)
            when = t.year if t.year.startswith("“") else f"{t.year}年" if t.year else ""
            label = {"target": "目标", "baseline": "现状", "forecast": "预测"}[t.kind]
            quotes.append(Quote(para, t.start, t.end, t.quote, prefix=f"{when}{label}："))
        return Verdict(quotes=quotes, conclusion=comp.expression)

    def _paragraph_at(self, doc_id: str, offset: int) -> Paragraph:
        return next(p for p in self.data.paragraphs[doc_id] if p.start <= offset < p.end)

    # --- scoring ----------------------------------------------------------------------------------------
    def idf(self, term: str) -> float:
        return self._idf.get(term, self._oov_idf)

    def coverage(self, q: Question, text: str, context: str = "") -> float:
        """Share of the question's topic weight found in the text (context counts a little less)."""
        if not q.terms:
            return 1.0
        # the words of a title the text cites say which document it cites, not what the text says
        text, context = normalize(CITED_TITLE.sub(" ", text)), normalize(context)
        total = got = 0.0
        for t in q.terms:
            w = self.idf(t)
            total += w
            got += w if t in text else 0.5 * w if t in context else 0.0
        return got / total

    def _candidates(self, hits: list[tuple[Chunk, float]], q_vec: np.ndarray) -> list[Candidate]:
        out, seen = [], set()
        rows = self.data.sentence_rows
        for rank, (chunk, _) in enumerate(hits[:self.p.candidate_chunks]):
            para = self.data.paragraphs[chunk.doc_id][chunk.para_index]
            for s in para.sentences:
                if s.start < chunk.start or s.end > chunk.end or (para.doc_id, s.start) in seen:
                    continue
                seen.add((para.doc_id, s.start))
                row = rows.get((para.doc_id, s.start))
                sim = float(self.data.sentence_vectors[row] @ q_vec) if row is not None else 0.0
                out.append(Candidate(para, s, rank, context=self._titles[para.doc_id] + " " + SECTION_SEP.join(para.section) + " " + para.lead,
                                     sim=sim))
        return out

    def _score(self, q: Question, need: Need | None, c: Candidate, sim_lo: float, sim_hi: float) -> None:
        c.coverage = self.coverage(q, c.sentence.text, c.context)
        text = c.sentence.text
        bonus = 0.0
        if need and need.search(text):
            bonus += 0.15
        if q.years and set(q.years) & self._context_years(c.para, text):
            bonus += 0.15
        # A place is met by a clause naming it, and by every clause of a document that is that place's own
        # (宁波市机动车维修业管理条例 for "在宁波…"), not only the lines that print its name.
        if q.places and any(p in text or p in self._doc_regions[c.para.doc_id] for p in q.places):
            bonus += 0.15
        if q.intent == "list" and text.count("、") >= 2:
            bonus += 0.1
        coverage_asked, definition_asked, negation_asked = _asks(q.text)
        if coverage_asked and SCOPE_CLAUSE.search(text):
            bonus += 0.15
        if definition_asked and DEFINES.search(text):
            bonus += 0.15
        if negation_asked:
            # (and a clause that permits answers its opposite: "可以…加计扣除" for "哪些支出不能扣除")
            said = self._said_with(c)
            bonus += 0.15 if DENIES.search(said) else -0.1 if PERMITS.search(said) else 0.0
        # What the sentence itself says counts more than what its headings say: every item of 专栏1 sits under
        # "“三纵三横”核心技术攻关行动", but only one sentence explains 三纵 and 三横.
        own = c.own = self.coverage(q, text)
        sim = (c.sim - sim_lo) / (sim_hi - sim_lo) if sim_hi > sim_lo else 1.0
        c.score = 0.5 * own + 0.25 * c.coverage + 0.5 * sim + bonus + 0.1 / (1 + c.rank)

    def _context_years(self, para: Paragraph, text: str) -> set[str]:
        """Years a sentence speaks of: its own, else those of its paragraph or its section's opening paragraph."""
        return years_in(text) or years_in(para.text) or years_in(self._section_intro(para))

    def _section_intro(self, para: Paragraph) -> str:
        """The opening body paragraph of the paragraph's section or nearest enclosing one ("到2025年，全省…"
        scopes the targets listed below it)."""
        intros = self._intros(para.doc_id)
        for depth in range(len(para.section), 0, -1):
            at = intros.get(tuple(para.section[:depth]))
            if at is not None and (intro := self.data.paragraphs[para.doc_id][at]).index < para.index:
                return intro.text
        return ""

    def _doc_intros(self, doc_id: str) -> dict[tuple[str, ...], int]:
        """Heading path -> position of the first body paragraph under exactly that path, in one document."""
        paras = self.data.paragraphs[doc_id]
        body = set(paras.positions(("body",)))
        out: dict[tuple[str, ...], int] = {}
        for at, section in enumerate(paras.sections()):
            if at in body:
                out.setdefault(tuple(section), at)
        return out

    # --- the main path: best sentence, trimmed --------------------------------------------------------
    def _extract(self, q: Question, hits: list[tuple[Chunk, float]], q_vec: np.ndarray) -> Verdict:
        cands = self._candidates(hits, q_vec)
        if not (q.years or RECORD_ASKED.search(q.text)):
            # A line of the document's own record (passed on…, in force from…) shares the words of its title with
            # every question about the document, and answers none but those about that record.
            cands = [c for c in cands if c.para.index not in self._records(c.para.doc_id)]
        if not cands:
            return Verdict(missing=self._topic(q, "相关内容"))
        need = need_for(q)
        sims = [c.sim for c in cands]
        for c in cands:
            self._score(q, need, c, min(sims), max(sims))
        cands.sort(key=lambda c: -c.score)
        best = cands[0]
        # If we refuse, the nearest provisions are the best-scoring sentences, one per paragraph.
        near, seen = [], set()
        for c in cands:
            if c.para.index not in seen and len(near) < 3:
                seen.add(c.para.index)
                near.append(Quote(c.para, c.sentence.start, c.sentence.end, c.sentence.text))

        def refuse(why: str) -> Verdict:
            return Verdict(missing=why, related=near)

        if best.coverage == 0 and best.sim < self.p.min_sim:
            return refuse(self._topic(q, "直接相关的规定"))
        # Refusal is decided by what the question needs against what the best clauses contain: each constraint
        # the question sets (a year, a place, the province as scope, a figure in a given unit, a time, an actor)
        # must be met by a clause that is nearly as good an answer as the best one, or we say it is not there.
        pool = [c for c in cands if c.score >= best.score - self.p.pool_margin]
        # The sentence right after the best one continues it ("…予以确认债权债务关系。付款方应当自…三十日内予以确认"):
        # what it adds (the time limit, the penalty) is in reach too, and is judged with the sentence it continues.
        # (Only after the best: a paragraph's run-in title "有序布局氢能基础设施。" does not make every target below
        # it a statement about 布局.)
        after = next((s for s in best.para.sentences if s.start >= best.sentence.end), None)
        follower = next((c for c in cands if after is not None and c.para is best.para
                         and c.sentence.start == after.start), None)
        if follower is not None and all(c is not follower for c in pool):
            pool.append(follower)
        # Years: answer those the documents speak to, and say which they do not ("2025年和2030年…" → 2025 only).
        unstated: list[str] = []
        if q.years:
            by_year = {y: [c for c in pool if y in self._context_years(c.para, c.sentence.text)] for y in q.years}
            unstated = [y for y in q.years if not by_year[y]]
            if len(unstated) == len(q.years):
                return refuse(f"{'、'.join(y + '年' for y in unstated)}{self._topic(q, '的相关内容', bare=True)}")
            pool = [c for c in pool if any(c in by_year[y] for y in q.years if y not in unstated)]
        for place in q.places:
            # Where the asker is ("在上海设了机构，能不能汇总缴纳") is no scope of the rule asked for: a national
            # document's rule holds there as everywhere. Not so for a figure or a place asked for, nor for a rule
            # asked to single the place out ("对杭州有什么特别规定").
            situated = (q.intent not in ("figure", "where") and not SINGLED_OUT.search(q.text)
                        and re.search(SITUATED.format(place=re.escape(place)), q.text))
            # (a clause that names the place is still preferred: 宁波's own regulation before the national law)
            pool = ([c for c in pool if place in c.para.text or place in c.context]
                    or [c for c in pool if situated and not self._doc_regions[c.para.doc_id]])
            if not pool:
                return refuse(f"针对{place}{self._topic(q, '的具体规定', bare=True)}")
        for name in q.names:  # an enterprise or brand the question names must be named where the answer is
            pool = [c for c in pool if name in c.para.text or name in c.context]
            if not pool:
                return refuse(f"关于“{name}”的内容")
        if q.provincial:
            # A provincial question is not answered by a provincial document's statement about the whole country
            # (its national context); a national document's rule is the rule in every province.
            pool = [c for c in pool if not self._doc_regions[c.para.doc_id] or not NATIONAL.search(c.sentence.text)
                    or PROVINCIAL.search(c.sentence.text)
                    or any(r in c.sentence.text for r in self._doc_regions[c.para.doc_id])]
            if not pool:
                return refuse(f"全省{self._topic(q, '的相关内容', bare=True)}（文件仅给出全国层面的表述）")
        # A specific thing the corpus does speak of (换电站) must be spoken of where the answer is; a paraphrase the
        # corpus never uses (氢气加注站) cannot be checked this way and is left to the other constraints.
        for term in self._specific_terms(q):
            forms = [t for t in q.terms if t in term and self._is_specific(t)]
            # (an article's lead-in and its items are one provision: "有下列行为之一的，…罚款" speaks of what its
            # item "（三）…未标明“报废机动车回用件”的" names)
            pool = [c for c in pool if _mentions(normalize(self._provision_text(c.para) + c.context), term, forms)]
            if not pool:
                return refuse(f"关于“{term}”{self._topic(q, '', bare=True) and '的相关规定'}")
        label = need.label if need else ""
        if need and need.punishes and (cited := self._penalty_for(best.para)):
            # "不按规定综合利用…怎么罚": the article that punishes a breach of the best-matching duty, by its number
            return cited
        if need:
            # The figure/time/actor must come with what the question asks about: "加氢站布局规划什么时候出台" is
            # not answered by the year in "到2025年，建成加氢站30座", which shares only 加氢站 with it.
            # (Only when some clause does say much of the question: for a paraphrase none does, and it is moot.)
            def by_lead_in(c: Candidate) -> Verdict | None:
                # An entry of a list answers with its lead-in: "有下列行为之一的，…并处一万元以上五万元以下罚款：
                # （一）未取得…运输证…" — the fine of the lead-in is the fine of the entry. Only a penalty: the body
                # in a lead-in punishes the entries, it does not do them.
                if need.punishes and not need.search(c.sentence.text) and (
                        found := lead_in(c.para, self.data.paragraphs[c.para.doc_id])) and need.search(found[1].text):
                    p, s = found
                    return Verdict(quotes=[Quote(p, s.start, s.end, s.text),
                                           Quote(c.para, c.sentence.start, c.sentence.end, c.sentence.text)])
                return None

            if verdict := by_lead_in(best):  # before any fine of another act in the pool is taken for the entry's
                return verdict
            if need.punishes and CONSEQUENCE.search(best.sentence.text) and not need.search(best.sentence.text):
                # The best clause names the breach asked about and its consequence, without the penalty asked for
                # (责令限期改正, no fine): another article's fine punishes another breach.
                pool = [c for c in pool if c.para.doc_id == best.para.doc_id
                        and (article_of(c.para) or c.para.index) == (article_of(best.para) or best.para.index)]
            said = max(c.own for c in pool)
            floor = self.p.need_coverage * said if said >= self.p.meaningful_coverage else 0.0
            pool = [c for c in pool if (need.search(c.sentence.text) or by_lead_in(c))
                    and (c.own >= floor
                         or (c is follower and self.coverage(q, best.sentence.text + c.sentence.text) >= floor))]
            if pool and (verdict := by_lead_in(pool[0])):
                return verdict
            if not pool:
                return refuse(f"{self._topic(q, '', bare=True)}的{label}")
            if q.intent == "figure" or q.money or q.units:
                # A figure answers only if it is a figure of what is asked: a rare word of the question (加计扣除,
                # 面积, 补贴) must be where the figure is, not just a figure of something else in the same law.
                # (an everyday word counts where the documents' own word for it is: 上牌 where 登记 is)
                # (Counts and negations are no topic: "第一次", "五万", "不到", "没到" say how much or whether.)
                rare = [t for t in q.terms if len(t) > 1 and self._is_specific(t) and not NOT_TOPIC.match(t)]
                forms = [f for t in rare for f in forms_in(q.text, t)]
                if rare:
                    pool = [c for c in pool if any(f in normalize(c.para.text + c.context) for f in forms)]
                    if not pool:
                        return refuse(f"{self._topic(q, '', bare=True)}的{label}")
                if kinds := categories_in(q.text):
                    # a figure of the kind asked (城市道路, 电动自行车): not one said only of another kind
                    # (高速公路…一百二十公里 for "城市道路上最高能开多快"); a clause naming no kind may hold for all
                    def of_kind(c: Candidate) -> bool:
                        said = self._said_with(c)
                        return any(k in normalize(said + c.context) for k in kinds) or not categories_in(said)
                    pool = [c for c in pool if of_kind(c)]
                    if not pool:
                        return refuse(f"{'、'.join(kinds)}的{label}")
                if thing := measured_thing(q):
                    # the measure of the thing asked, said of it: a sentence with the figure and the thing (or the
                    # sentence before it, the lead-in of a list entry)
                    forms = forms_in(q.text, thing)
                    pool = [c for c in pool if any(f in normalize(self._said_with(c)) for f in forms)]
                    if not pool:
                        return refuse(f"{thing}的{label}")
        if action := duty_asked(q, self.seg.tokens):
            # "由哪个部门认定/验收/审批": a body named for another duty does not answer; the duty must be there.
            pool = [c for c in pool if any(t in normalize(c.para.text) for t in action)]
            if not pool:
                return refuse(f"{self._topic(q, '', bare=True)}的{label}")
        if steps := procedure_asked(q, self.seg.tokens):
            # every word of the procedure asked about must be where the answer is (a colloquial word: in its
            # documents' form) — the steps of 补领 are not in a clause that only forbids forging the plate
            step_forms = [forms_in(q.text, t) for t in steps]  # once, not per clause

            def names_steps(c: Candidate) -> bool:
                text = normalize(c.para.text + c.context)
                return all(any(f in text for f in forms) for forms in step_forms)
            pool = [c for c in pool if names_steps(c)]
            if not pool:
                return refuse(f"{self._topic(q, '', bare=True)}的办理程序")
        if q.intent in ("yesno", "general", "task") and not (need and need.punishes) and not CONSEQUENCE_ASKED.search(
                q.text) and (duty := self._duty_of(q, pool[0])):
            # "修车的没跟我说就换了旧零件，合规吗" matched best by the penalty clause "违反第二十三条第一款规定，未征得
            # 托修人书面同意使用旧配件的": what is required is the duty it cites; its penalty follows it
            return Verdict(quotes=[duty, self._trim(q, pool[0], need)])
        quotes = [(self._provision(q, pool) if q.broad else None) or self._trim(q, pool[0], need)]
        covered = normalize(self._text(quotes[0].para.doc_id, quotes[0].start, quotes[0].end))
        # Add another clause only when it covers topic words the first one lacks (e.g. two indicators asked at once).
        for c in pool[1:]:
            if len(quotes) >= self.p.max_quotes or sum(len(x.text) for x in quotes) > self.p.max_answer * 0.6:
                break
            if c.score < pool[0].score - self.p.extra_margin:
                break
            new_terms = [t for t in q.terms if t in normalize(c.sentence.text) and t not in covered and len(t) > 1]
            if new_terms and not any(x.para.index == c.para.index and x.start <= c.sentence.start < x.end for x in quotes):
                quotes.append(self._trim(q, c, need))
                covered += normalize(c.sentence.text)
        # Another document that says the same thing is quoted as well, once: a national and a provincial
        # clause on one point both belong in the answer, each cited to its own document.
        for c in pool[1:]:
            if len(quotes) >= self.p.max_quotes + 1 or c.score < pool[0].score - self.p.other_doc_margin:
                break
            if c.para.doc_id not in {x.para.doc_id for x in quotes} and c.own >= self.p.need_coverage * pool[0].own:
                quotes.append(self._trim(q, c, need))
        note = f"文件中未找到{'、'.join(y + '年' for y in unstated)}的相应内容" if unstated else ""
        quotes = self._enumerate(q, quotes)
        # (not when the quote already states what is needed: "罚款标准是多少" answered by the fine itself)
        # (one article, or a first quote that is itself the rule leaving the detail to another body)
        if (q.intent in ("list", "figure") or DETAIL_ASKED.search(q.text)) and (
                len({(x.para.doc_id, article_of(x.para) or x.para.index) for x in quotes}) == 1
                or DELEGATION.search(quotes[0].text)) and not (
                need and need.search(quotes[0].text)) and (
                deferred := delegation(self.data.paragraphs[quotes[0].para.doc_id], quotes[0].para,
                                       about=lambda text: self.coverage(q, text) >= self.coverage(q, quotes[0].text))):
            # "具体能减免哪些税" answered by "给予税收优惠。具体办法由国务院规定": the detail is not in the document
            p, s = deferred
            pointer = Quote(p, s.start, s.end, s.text)
            # the rule that leaves it out is said, verbatim and short: it is what the documents do say on the point
            label = article_of(p) or ""
            text = s.text.removeprefix(label).strip().rstrip("。；")
            said = f"{label}规定“{text}”" if len(text) <= self.p.max_answer // 2 else "文件规定另行制定"
            return Verdict(missing=f"{self._topic(q, '', bare=True)}的具体内容（{said}）", related=[pointer])
        if len(quotes) == 1 and (article := self._whole_article(quotes[0])):
            quotes = article
        return Verdict(quotes=quotes, conclusion=note)

    def _said_with(self, c: Candidate) -> str:
        """A sentence with what it continues: the sentence before it in its paragraph, or its list's lead-in."""
        before = [s.text for s in c.para.sentences if s.end <= c.sentence.start][-1:]
        found = lead_in(c.para, self.data.paragraphs[c.para.doc_id]) if c.para.kind == "item" else None
        return "".join(before + ([found[1].text] if found else []) + [c.sentence.text])

    def _whole_article(self, qt: Quote) -> list[Quote] | None:
        """A clause of a short article is answered with the whole article (its sentences, in order): in a law the
        article is the unit that answers, and the clause after the one that matched often holds the remedy, the
        exception or the deadline the question is really about."""
        label = article_of(qt.para)
        if not label:
            return None
        depth = qt.para.section.index(label)
        scopes = [sc for sc in self._addresses.find(label_address(label, depth), [qt.para.doc_id])
                  if sc.depth == depth and qt.para in sc.paragraphs]
        if not scopes:
            return None
        paras = [p for p in scopes[0].paragraphs if p.kind in ("body", "item", "notice")]
        if sum(len(p.text) for p in paras) > self.p.article_budget:
            return None
        quotes = quote_scope(scopes[0], self.p.article_budget)
        if quotes:
            quotes[0].prefix = ""
        return quotes or None

    def _enumerate(self, q: Question, quotes: list[Quote]) -> list[Quote]:
        """The first quote that introduces a list brings its items; for a list question it leads the answer
        (the quote above it was chosen as a clause, but the question asks for the items)."""
        for n, qt in enumerate(quotes):
            items = list_items(qt, self.data.paragraphs[qt.para.doc_id], q.intent == "list", self.p.list_budget)
            if not items:
                continue
            others = [o for o in quotes if o is not qt and all(o.para is not i.para for i in items)]
            if n and q.intent == "list":
                return [qt] + items + others
            return others[:n] + [qt] + items + others[n:]
        return quotes

    def _provision(self, q: Question, pool: list[Candidate]) -> Quote | None:
        """For a "what is to be done" question: the run of sentences of the best paragraph that all answer it."""
        first = pool[0]
        same = [c for c in pool if c.para is first.para and c.score >= first.score - self.p.extra_margin]
        if len(same) < 2:
            return None
        start, end = min(c.sentence.start for c in same), max(c.sentence.end for c in same)
        if end - start > self.p.max_answer - 20:
            return None
        text = self._text(first.para.doc_id, start, end).rstrip(CLAUSE_END)
        return Quote(first.para, start, start + len(text), text)

    def _is_specific(self, term: str) -> bool:
        return len(term) > 1 and self._idf.get(term, 0.0) >= self._specific_idf

    def _duty_of(self, q: Question, c: Candidate) -> Quote | None:
        """The sentence of the duty a penalty clause cites by number that best covers the question."""
        sentences = [(p, s) for p in duty_cited(self.data.paragraphs[c.para.doc_id], c.sentence.text)
                     for s in p.sentences]
        if not sentences:
            return None
        # the sentence the penalty clause restates (未征得托修人书面同意使用旧配件 → 使用旧配件…应当征得托修人的书面同意)
        words = [t for t in dict.fromkeys(self.seg.tokens(CITED_DUTY.sub(" ", c.sentence.text))) if len(t) > 1]

        def restated(text: str) -> float:
            return sum(t in text for t in words) / max(1, len(words))

        p, s = max(sentences, key=lambda ps: self.coverage(q, ps[1].text) + restated(ps[1].text))
        return Quote(p, s.start, s.end, s.text)

    def _specific_terms(self, q: Question) -> list[str]:
        """The question's rare domain terms (dictionary terms or codes such as SOFC) that the corpus uses,
        longest forms only (换电站, not also 换电). Ordinary words (落实, 处理) are left to the other checks."""
        domain = set(self.seg.terms)
        spec = [t for t in q.terms if self._is_specific(t) and not PERIOD.fullmatch(t)
                and (t in domain or (t.isascii() and not t.replace(".", "").isdigit()))]
        return [t for t in spec if not any(t != u and t in u for u in spec)]

    def _trim(self, q: Question, c: Candidate, need: Need | None) -> Quote:
        """Cut the sentence down to the clause that best answers, plus the neighbours that add what it lacks."""
        s = c.sentence
        clauses = split_clauses(s)
        texts = [normalize(cl.text) for cl in clauses]

        def wanted(t: str) -> set[str]:
            return ({x for x in q.terms if len(x) > 1 and x in t} | {y for y in q.years if y in t}
                    | {p for p in q.places if p in t})

        def weight(i: int) -> float:
            w = sum(self.idf(x) if x in q.terms else self._max_idf for x in wanted(texts[i]))
            if need and need.search(clauses[i].text):
                w += self._max_idf  # the clause with the figure/actor/time is the one that answers
            if q.intent == "list":
                w += texts[i].count("、")
            return w

        anchor = max(range(len(clauses)), key=weight)
        lo = hi = anchor
        have = wanted(texts[anchor])
        # figures still to include: one per figure the question asks for
        missing_figures = (q.figures - 1) if need and need.search(clauses[anchor].text) else q.figures
        has_need = not need or missing_figures <= 0
        # Grow to adjacent clauses while they bring a question word, year or place the span lacks yet,
        # or the needed fact (e.g. "由省发展改革委牵头" beside "统筹推进新能源汽车发展工作").
        grown = True
        while grown:
            grown = False
            for j in (lo - 1, hi + 1):
                if 0 <= j < len(clauses):
                    adds = wanted(texts[j]) - have
                    adds_need = not has_need and bool(need.search(clauses[j].text))
                    if adds or adds_need:
                        lo, hi = min(lo, j), max(hi, j)
                        have |= adds
                        missing_figures -= bool(need and need.search(clauses[j].text))
                        has_need = has_need or missing_figures <= 0
                        grown = True
        if not has_need:
            # the needed fact may sit two clauses on ("…未投保…的，由…扣留车辆至…后，并处…二倍罚款"): reach the
            # nearest clause with it, through those between, if the span stays an answer's length
            reach = sorted((j for j in range(len(clauses)) if not lo <= j <= hi and need.search(clauses[j].text)),
                           key=lambda j: min(abs(j - lo), abs(j - hi)))
            if reach and max(clauses[hi].end, clauses[reach[0]].end) - min(clauses[lo].start,
                                                                           clauses[reach[0]].start) <= self.p.max_answer:
                lo, hi = min(lo, reach[0]), max(hi, reach[0])
        if q.broad:
            # "What is to be done" is answered by the whole provision, not by the clause naming the topic.
            while True:
                size = clauses[hi].end - clauses[lo].start
                nxt = hi + 1 if hi + 1 < len(clauses) else lo - 1 if lo > 0 else None
                if nxt is None or size + len(clauses[nxt].text) > self.p.broad_span:
                    break
                lo, hi = min(lo, nxt), max(hi, nxt)
        if need and need.punishes and need.search(self._text(c.para.doc_id, clauses[lo].start, clauses[hi].end)):
            # A penalty is the whole run of sanctions it is stated in: "没收违法所得，并处二万元以上十万元以下罚款",
            # "处二百元以上五百元以下罚款，暂扣六个月机动车驾驶证" — not the fine alone.
            while True:
                nxt = [j for j in (lo - 1, hi + 1)
                       if 0 <= j < len(clauses) and SANCTION.match(clauses[j].text.lstrip("，；"))]
                if not nxt or clauses[max(hi, *nxt)].end - clauses[min(lo, *nxt)].start > self.p.max_answer:
                    break
                lo, hi = min(lo, *nxt), max(hi, *nxt)
        start, end = clauses[lo].start, clauses[hi].end
        text = self._text(c.para.doc_id, start, end).rstrip(CLAUSE_END)
        if len(text) <= TITLE_ONLY and not (need and need.search(text)):
            # A title ("充电设施", "一湾：环杭州湾汽车产业集群") answers nothing by itself: the text under it does.
            nxt = next((sp for sp in c.para.sentences if sp.start >= s.end), None)
            if nxt is not None:
                text = self._text(c.para.doc_id, start, nxt.end).rstrip(CLAUSE_END)
        end = start + len(text)
        prefix = ""
        if (q.intent in ("figure", "when") or q.years) and not YEAR_PHRASE.search(text):
            # "新能源汽车产量力争达到60万辆" is a 2025 target only because its section opens with "到2025年".
            before = self._text(c.para.doc_id, s.start, start)
            m = YEAR_PHRASE.search(before) or YEAR_PHRASE.search(c.para.text[: s.start - c.para.start]) \
                or YEAR_PHRASE.search(self._section_intro(c.para))
            if m:
                prefix = m.group() + "，"
        return Quote(c.para, start, end, text, prefix)

    # --- lists of a section's parts -------------------------------------------------------------------
    def _outline(self, q: Question, hits: list[tuple[Chunk, float]], docs: frozenset[str] | None) -> Verdict | None:
        """“发展目标包括哪几个方面” → the run-in titles or sub-headings of the section the question names."""
        if q.intent != "list" or not hits:
            return None
        # The section must be named in the question: its heading title occurs in it (longest title wins).
        best_heading, best_len = None, 1
        asked = unquote(q.text)
        for p in self.data.paragraphs.of_kind(("heading", "box_title"), docs):  # only the headings are made
            title = unquote(normalize(re.sub(r"^(?:专栏\s*\d+|[（(]?[一二三四五六七八九十\d]+[）)、．.])", "", p.text)))
            if len(title) > best_len and title in asked:
                best_heading, best_len = p, len(title)
        if best_heading is None:
            return None
        inside = [p for p in self.data.paragraphs[best_heading.doc_id]
                  if p.section[: len(best_heading.section)] == best_heading.section and p is not best_heading]
        depth = len(best_heading.section)
        children = [p for p in inside if p.kind == "heading" and len(p.section) == depth + 1]
        if len(children) < 2:
            children = [p for p in inside if p.lead and p.kind in ("body", "item") and len(p.section) <= depth + 1]
        if len(children) < 2:
            return None
        return Verdict(quotes=[self._lead_quote(p) for p in children])

    def _issuance(self, q: Question, hits: list[tuple[Chunk, float]]) -> Verdict | None:
        """“这份规划由哪个单位印发/何时印发” → the issuer and date lines of the document's issuing notice."""
        if not (ISSUANCE.search(q.text) and THIS_DOCUMENT.search(q.text)) or not hits:
            return None
        doc = self.data.documents[hits[0][0].doc_id]
        notice = [p for p in self.data.paragraphs[doc.meta.doc_id] if p.kind == "notice"]
        wanted = [doc.meta.issuer]
        if doc.meta.date:
            y, m, d = (int(x) for x in doc.meta.date.split("-"))
            wanted.append(f"{y}年{m}月{d}日")
        quotes = [Quote(p, p.start, p.end, p.text) for p in notice if p.text.strip() in wanted]
        return Verdict(quotes=quotes) if quotes else None

    def _in_force(self, q: Question, hits: list[tuple[Chunk, float]], named: list[str]) -> Verdict | None:
        """“…从什么时候开始施行” of a document the question names (or the only one) → its commencement clause."""
        if not (asked := IN_FORCE_ASKED.search(q.text)):
            return None
        # Nothing else may be asked: "补贴政策从什么时候施行" is about a policy, not the document.
        rest = q.text[:asked.start()] + " " + q.text[asked.end():]
        if any(t not in IN_FORCE_WORDS and t not in QUESTION_WORDS and len(t) > 1
               and not any(spells_title(t, self._titles[d]) for d in named) for t in self.seg.tokens(rest)):
            return None
        doc_ids = named[:1] or (list(self.data.documents) if len(self.data.documents) == 1 else [])
        if not doc_ids and THIS_DOCUMENT.search(q.text) and hits:
            doc_ids = [hits[0][0].doc_id]
        for doc_id in doc_ids:
            if found := commencement(self.data.paragraphs[doc_id]):
                p, s = found
                return Verdict(quotes=[Quote(p, s.start, s.end, s.text)])
        return None

    def _enacted(self, q: Question, hits: list[tuple[Chunk, float]], named: list[str]) -> Verdict | None:
        """“制定…是为了什么/依据哪部法律” of a document the question names (or the only one, or "这份规划" → the
        best hit's) → its enacting clause; None when nothing else may be asked or the document has no such clause."""
        if not (asked := PURPOSE_ASKED.search(q.text)):
            return None
        # Nothing else may be asked: "建设加氢站的目的是什么" is about a policy inside a document, not the document.
        rest = CITED_TITLE.sub(" ", q.text)
        for d in named:
            for form in (normalize(self._titles[d]), compact(self._titles[d])):
                rest = rest.replace(form, " ")
        rest = rest[:asked.start()] + " " + rest[asked.end():] if asked.group() in rest else rest
        if any(t not in PURPOSE_WORDS and t not in QUESTION_WORDS and len(t) > 1
               and not any(spells_title(t, self._titles[d]) for d in named) for t in self.seg.tokens(rest)):
            return None
        doc_ids = named[:1] or (list(self.data.documents) if len(self.data.documents) == 1 else [])
        if not doc_ids and THIS_DOCUMENT.search(q.text) and hits:
            doc_ids = [hits[0][0].doc_id]
        for doc_id in doc_ids:
            if found := enactment(self.data.paragraphs[doc_id]):
                p, s = found
                return Verdict(quotes=[Quote(p, s.start, s.end, s.text)])
            # a text without one does not say why it was made; its other clauses' "目的" answer another question
            return Verdict(missing=f"《{self._titles[doc_id]}》说明制定目的和依据的条文（该文件没有“为了……制定本法”式的条款）")
        return None

    def _penalty_for(self, para: Paragraph) -> Verdict | None:
        """The sentence that punishes a breach of the article `para` belongs to, as an answer."""
        if found := penalty_citing(self.data.paragraphs[para.doc_id], para):
            p, s = found
            return Verdict(quotes=[Quote(p, s.start, s.end, s.text)])
        return None

    def _lead_quote(self, p: Paragraph) -> Quote:
        if p.kind == "heading":
            return Quote(p, p.start, p.end, p.text)
        at = p.text.index(p.lead)
        return Quote(p, p.start + at, p.start + at + len(p.lead), p.lead)

    # --- helpers --------------------------------------------------------------------------------------
    def _topic(self, q: Question, suffix: str, bare: bool = False) -> str:
        topic = "".join(t for t in q.terms[:4] if len(t) > 1 and not any(t in u and t != u for u in q.terms))
        if bare:
            return f"{topic}{suffix}" if topic else suffix.lstrip("的")
        return f"与“{topic}”{suffix}" if topic else suffix

    def _related(self, hits: list[tuple[Chunk, float]]) -> list[tuple[Paragraph, Span]]:
        out = []
        for chunk, _ in hits[:3]:
            para = self.data.paragraphs[chunk.doc_id][chunk.para_index]
            first = next((s for s in para.sentences if s.start >= chunk.start), None)
            if first:
                out.append((para, first))
        return out

    def _text(self, doc_id: str, start: int, end: int) -> str:
        return self.data.documents[doc_id].text[start:end]

    def _cite(self, qt: Quote) -> Citation:
        doc = self.data.documents[qt.para.doc_id]
        assert doc.text[qt.start : qt.end] == qt.text, "a citation must quote the document verbatim"
        return Citation(doc_id=qt.para.doc_id, doc_title=doc.meta.title, section=SECTION_SEP.join(qt.para.section),
                        quote=qt.text, start=qt.start, end=qt.end, level=doc.meta.level,
                        page=doc.page_at(qt.start))

    def _source(self, qt: Quote) -> str:
        """"《…》（国家级）：" before a quote, when an answer draws on several documents."""
        m = self.data.documents[qt.para.doc_id].meta
        return f"《{m.title}》" + (f"（{m.level}）" if m.level else "") + "："


@lru_cache(maxsize=64)
def _asks(question: str) -> tuple[bool, bool, bool]:
    """Whether a question asks if the text covers a case, what a term means, what may not be done: read once per
    question, not once per candidate sentence."""
    return bool(COVERAGE_ASKED.search(question)), bool(DEFINITION_ASKED.search(question)), _negation_asked(question)


def _negation_asked(text: str) -> bool:
    """Whether a question asks what may not be done or is not due; "能不能", "可不可以" (the verb before 不 is the one
    after it) ask both ways."""
    return any(not m.group("verb") or m.group("before") != m.group("verb")[0] for m in NEGATION_ASKED.finditer(text))


def _region_names(region: str) -> tuple[str, ...]:
    """"浙江省" → ("浙江省", "浙江"); national documents ("全国", "") cover no particular region."""
    region = region.strip()
    if not region or region in ("全国", "中国", country()):
        return ()
    core = re.sub(r"(?:省|市|自治区|特别行政区)$", "", region)
    return tuple(dict.fromkeys([region, core])) if len(core) >= 2 else (region,)


@lru_cache(maxsize=256)
def _abbreviation(term: str) -> re.Pattern[str]:
    """What a shortened name may stand for: its characters in order within one phrase, a few apart at most
    ("备案非标车" for 备案非标电动自行车)."""
    gap = r"[^，。；：、“”《》（）\s]{0,5}"
    return re.compile(re.escape(term[0]) + "".join(gap + re.escape(c) for c in term[1:]))


def _merge(quotes: list[Quote], new: Quote, doc_text: str) -> list[Quote]:
    """Add a quote; one overlapping a quote of the same paragraph is joined with it (still one verbatim span)."""
    for i, q in enumerate(quotes):
        if q.para is new.para and q.start < new.end and new.start < q.end:
            start, end = min(q.start, new.start), max(q.end, new.end)
            quotes[i] = Quote(q.para, start, end, doc_text[start:end], q.prefix if q.start <= new.start else new.prefix)
            return quotes
    return quotes + [new]


def _mentions(text: str, term: str, forms: list[str]) -> bool:
    """The term, one of its rare parts, or its head and tail around an inserted word (吉利集团 ~ 吉利汽车集团)."""
    if any(f in text for f in forms):
        return True
    return len(term) >= 4 and bool(re.search(re.escape(term[:2]) + r".{1,4}?" + re.escape(term[2:]), text))
