"""The knowledge base as one object: opens (building if needed), searches and answers, timing each question."""
from __future__ import annotations

import logging
import time
import unicodedata
from functools import lru_cache
from pathlib import Path

from indexer.build import build
from indexer.version import status
from kb.answer.answerer import Answerer
from kb.answer.scope import named_documents
from kb.core.records import AnswerRecord, Document, Retrieved
from kb.core.segment import Segmenter
from kb.core.settings import Settings, settings
from kb.core.text import CJK
from kb.embed import Encoder
from kb.retrieval.backends import make_retriever
from kb.retrieval.filters import DocFilter
from kb.retrieval.hybrid import HybridRetriever, Mode
from kb.store import files as store

log = logging.getLogger(__name__)
MAX_QUESTION = 500  # characters; longer questions are cut there, and the answer says so


class QuestionError(ValueError):
    """A question that cannot be asked as it is; the message is for the user."""


def check_question(question: object) -> str:
    """The question stripped and cut to MAX_QUESTION characters, or QuestionError with a clear Chinese message.

    The one entry for the CLI, the web chat and the /ask API. Only text is a question (a number, list or dict is
    refused, never turned into text), and only its first characters are looked at, so a huge input costs nothing."""
    if not isinstance(question, str):
        raise QuestionError(f"问题必须是文本，收到的是{TYPE_NAMES.get(type(question).__name__, '其他类型的数据')}。")
    q = _head(question)
    if not q:
        raise QuestionError("问题为空，请输入要查询的内容。")
    kinds = {unicodedata.category(ch)[0] for ch in q}
    if not kinds & {"L", "N"}:
        raise QuestionError("问题只包含标点或符号，请输入文字。")
    if "L" not in kinds:
        raise QuestionError(f"问题只有数字（“{q if len(q) <= 20 else q[:20] + '…'}”），无法确定要查询什么，"
                            "请用文字说明想了解的内容。")
    return q


def _head(question: str) -> str:
    """The question without surrounding space, cut to MAX_QUESTION characters before anything else looks at it."""
    return question.lstrip()[:MAX_QUESTION].rstrip()


def was_cut(question: str) -> bool:
    return len(question.lstrip()) > MAX_QUESTION and bool(question.lstrip()[MAX_QUESTION:].strip())


TYPE_NAMES = {"int": "数字", "float": "数字", "bool": "真假值", "list": "列表", "tuple": "列表", "dict": "对象（字典）",
              "NoneType": "空值"}


class KnowledgeBase:
    def __init__(self, s: Settings, data: store.KBData, embedder):
        self.settings = s
        self.embedder = embedder
        self._use(data)

    def _use(self, data: store.KBData) -> None:
        # Swapped as one tuple so a question running during a reload sees the old KB or the new one, never a mix.
        seg = Segmenter(data.meta.terms, dictionary=data.dictionary)  # the KB's stored table: no dictionary load
        retriever = make_retriever(self.settings, data, seg, self._embed_query)
        self._state = (data, seg, retriever, Answerer(data, retriever, seg, self.settings.answer))

    @property
    def data(self) -> store.KBData:
        return self._state[0]

    @property
    def segmenter(self):
        return self._state[1]

    @property
    def retriever(self) -> HybridRetriever:
        return self._state[2]

    @property
    def answerer(self) -> Answerer:
        return self._state[3]

    @property
    def regions(self) -> tuple[str, ...]:
        """The places the documents cover (from their metadata): naming them in a question narrows nothing."""
        return self.answerer.regions

    def reload(self) -> bool:
        """Pick up a KB rebuilt by a library change (here or in another process); True if it changed."""
        if store.current_dir(self.settings.kb_dir) == self.data.path:
            return False
        self._use(store.load(self.settings.kb_dir))
        return True

    @classmethod
    def open(cls, kb_dir: str | Path | None = None, corpus_dir: str | Path | None = None,
             progress=None, embedder=None, warm: bool = False, backend: str | None = None) -> "KnowledgeBase":
        """Load the KB, building it first when it is missing, stale or unreadable (saying so on stderr).

        `warm` loads the question encoder now rather than at the first question (the full model's warm-up takes a
        few seconds when EMBED_MODEL is not the default).
        """

        s = settings(kb_dir=kb_dir, corpus_dir=corpus_dir, backend=backend)
        # Questions of the default model need no torch; the full model is loaded only if a build must embed.
        embedder = embedder if embedder is not None else Encoder(s)
        kwargs = {"progress": progress, "embedder": embedder} if progress else {"embedder": embedder}
        state = status(s)
        if state != "ok":
            reason = {"missing": "知识库不存在", "stale": "语料或模型已变化", "corrupt": "知识库已损坏"}[state]
            log.info("%s，正在重新建立：%s", reason, s.kb_dir)
            build(s, force=state != "missing", **kwargs)
        try:
            data = store.load(s.kb_dir)
        except store.KBError as e:
            log.info("%s，正在重新建立", e)
            build(s, force=True, **kwargs)
            data = store.load(s.kb_dir)
        if warm:
            embedder.warm_up()
        return cls(s, data, embedder)

    @property
    def documents(self) -> dict[str, Document]:
        return self.data.documents

    @lru_cache(maxsize=1024)
    def _embed_query(self, text: str):
        return self.embedder.embed_query(text)

    def allowed(self, filters: DocFilter | None, data: store.KBData | None = None) -> frozenset[str] | None:
        """The documents a filter lets answer (by default those in force), or None for all of them."""
        data = data or self.data
        docs = (filters or DocFilter()).allowed({d: doc.meta for d, doc in data.documents.items()})
        return frozenset(docs) if docs is not None else None

    def search(self, question: str, k: int = 10, mode: Mode = "hybrid",
               filters: DocFilter | None = None) -> list[Retrieved]:
        q = check_question(question)
        docs = self.allowed(filters)
        retriever = self.retriever.restricted(docs, filters or DocFilter()) if docs is not None else self.retriever
        return [Retrieved(chunk_id=c.chunk_id, doc_id=c.doc_id, section=c.section_path, text=c.text,
                          score=round(score, 6)) for c, score in retriever.search(q, k=k, mode=mode)]

    def ask(self, question: str, id: str | None = None, filters: DocFilter | None = None) -> AnswerRecord:
        """Answer one question; bad input gives a record with `error` set rather than an exception.
        `filters` limits the documents that may answer (by default: those in force, not superseded ones)."""
        t0 = time.perf_counter()
        # What is echoed back is at most the part of the question that is read.
        shown = question[:MAX_QUESTION] if isinstance(question, str) else ""
        try:
            q = check_question(question)
        except QuestionError as e:
            return AnswerRecord(id=id, question=shown, answer=str(e), refused=True, error=str(e))
        note = ""
        if was_cut(question):
            note = f"（问题超过 {MAX_QUESTION} 字，仅按前 {MAX_QUESTION} 字检索。）"
        data, seg, retriever, answerer = self._state
        if not CJK.search(q) and not any(t in data.bm25.vocab_dict for t in seg.tokens(q)):
            # The documents are Chinese: an English question whose words (unlike BMS, V2G) no document uses cannot
            # be matched, and guessing from its vector would answer something else.
            msg = (f"文件为中文，问题中的英文词语（{q[:40]}）在文件中找不到对应内容。请用中文提问，"
                   "例如“到2025年要建成多少座加氢站？”；BMS、V2G 等缩写可以直接使用。")
            rec = AnswerRecord(id=id, question=shown, refused=True, answer=msg)
            rec.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
            return rec
        docs = self.allowed(filters, data)
        if docs is not None and not docs:
            rec = AnswerRecord(id=id, question=shown, refused=True,
                               answer=f"没有符合筛选条件（{(filters or DocFilter()).describe() or '现行有效'}）的文档。")
            rec.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
            return rec
        # A question that names a document ("道交法第九十条…", "《企业所得税法》…") is answered from that document.
        metas = {d: doc.meta for d, doc in data.documents.items() if docs is None or d in docs}
        named = named_documents(q, metas, {d: data.documents[d].text for d in metas}) if len(metas) > 1 else []
        if named:
            docs = frozenset(named)
        if docs is not None:
            retriever = retriever.restricted(docs, filters or DocFilter())
        hits = retriever.search(q, k=max(10, retriever.top_k))
        rec = answerer.ask(q, hits, docs, named)
        rec.id, rec.question = id, shown
        if note:
            rec.answer = note + rec.answer
        rec.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        return rec


