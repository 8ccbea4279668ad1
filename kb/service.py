"""The knowledge base as one object: opens (building if needed), searches and answers, timing each question."""
from __future__ import annotations


import sys
import time
import unicodedata
from functools import lru_cache
from pathlib import Path

from kb import store
from kb.answer import Answerer
from kb.config import Settings, settings
from kb.retrieve import HybridRetriever, Mode
from kb.schema import AnswerRecord, Document, Retrieved
from kb.segment import segmenter

MAX_QUESTION = 500  # characters; longer questions are cut there, and the answer says so


class QuestionError(ValueError):
    """A question that cannot be asked as it is; the message is for the user."""


def check_question(question: object) -> str:
    """The question stripped, or QuestionError with a clear Chinese message."""
    if not isinstance(question, str):
        raise QuestionError("问题必须是文本。")
    q = question.strip()
    if not q:
        raise QuestionError("问题为空，请输入要查询的内容。")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in q):
        raise QuestionError("问题只包含标点或符号，请输入文字。")
    return q


class KnowledgeBase:
    def __init__(self, s: Settings, data: store.KBData, embedder):
        self.settings = s
        self.data = data
        self.embedder = embedder
        self.segmenter = segmenter(tuple(data.meta.terms))
        self.retriever = HybridRetriever(data, self.segmenter, self._embed_query)
        self.answerer = Answerer(data, self.retriever, self.segmenter)

    @classmethod
    def open(cls, kb_dir: str | Path | None = None, corpus_dir: str | Path | None = None,
             progress=None, embedder=None, warm: bool = False) -> "KnowledgeBase":
        """Load the KB, building it first when it is missing, stale or unreadable (saying so on stderr).

        `warm` prepares the fast question encoder (a few seconds once): for processes that answer many questions.
        """
        from indexer.build import build  # the indexer is only needed when (re)building

        s = settings(kb_dir=kb_dir, corpus_dir=corpus_dir)
        kwargs = {"progress": progress} if progress else {}
        state = store.status(s)
        if state != "ok":
            reason = {"missing": "知识库不存在", "stale": "语料或模型已变化", "corrupt": "知识库已损坏"}[state]
            print(f"{reason}，正在重新建立：{s.kb_dir}", file=sys.stderr, flush=True)
            build(s, force=state != "missing", **kwargs)
        try:
            data = store.load(s.kb_dir)
        except store.KBError as e:
            print(f"{e}，正在重新建立", file=sys.stderr, flush=True)
            build(s, force=True, **kwargs)
            data = store.load(s.kb_dir)
        if embedder is None:
            from kb.embed import Embedder

            embedder = Embedder.from_settings(s)
        if warm:
            embedder.warm_up()
        return cls(s, data, embedder)

    @property
    def documents(self) -> dict[str, Document]:
        return self.data.documents

    @lru_cache(maxsize=1024)
    def _embed_query(self, text: str):
        return self.embedder.embed_query(text)

    def search(self, question: str, k: int = 10, mode: Mode = "hybrid") -> list[Retrieved]:
        q = check_question(question)[:MAX_QUESTION]
        return [Retrieved(chunk_id=c.chunk_id, doc_id=c.doc_id, section=c.section_path, text=c.text,
                          score=round(score, 6)) for c, score in self.retriever.search(q, k=k, mode=mode)]

    def ask(self, question: str, id: str | None = None) -> AnswerRecord:
        """Answer one question; bad input gives a record with `error` set rather than an exception."""
        t0 = time.perf_counter()
        try:
            q = check_question(question)
        except QuestionError as e:
            return AnswerRecord(id=id, question=question if isinstance(question, str) else "", answer=str(e),
                                refused=True, error=str(e))
        note = ""
        if len(q) > MAX_QUESTION:
            q, note = q[:MAX_QUESTION], f"（问题超过 {MAX_QUESTION} 字，仅按前 {MAX_QUESTION} 字检索。）"
        hits = self.retriever.search(q, k=max(10, self.retriever.top_k))
        rec = self.answerer.ask(q, hits)
        rec.id, rec.question = id, question
        if note:
            rec.answer = note + rec.answer
        rec.latency_ms = round((time.perf_counter() - t0) * 1000, 2)
        return rec


