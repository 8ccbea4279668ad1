"""The page's title and example questions come from the KB: the real plan's tables give questions the app answers
with citations, and a library of other documents shows its own topics, never the plan's wording."""
from __future__ import annotations

import pytest

from kb.service import KnowledgeBase
from kb.store.tables import TableStore
from tests.fixtures.docs import PLAN_TITLE, write_fictional
from webui.examples import app_title, examples, topic


@pytest.fixture(scope="module")
def fictional_kb(tmp_path_factory, kb):
    root = tmp_path_factory.mktemp("examples")
    write_fictional(root / "corpus")
    return KnowledgeBase.open(kb_dir=root / "kb", corpus_dir=root / "corpus", embedder=kb.embedder)


def test_heading_topics():
    assert topic("（三）发展目标") == "发展目标"
    assert topic("第三章 法律责任") == "法律责任"
    assert topic("专栏6 基础设施补强行动") == "基础设施补强行动"
    assert topic("4．加氢站") == "加氢站"


def test_plan_examples_are_answered_from_its_tables(kb):
    store = TableStore(kb.data.tables_path)
    ex = examples(kb, store)
    assert app_title(kb) == f"{PLAN_TITLE} · 政策问答"
    assert len(ex.questions) == 5 and len(set(ex.chips)) == len(ex.chips)
    indicators = {t.indicator for t in store.targets()}
    fields = {p.field for p in store.projects()}
    *answerable, later = ex.questions
    for q in answerable:  # each is about a figure of the tables, and the app answers it with a citation
        assert any(i in q for i in indicators | fields), q
        rec = kb.ask(q)
        assert not rec.refused and rec.citations, (q, rec.answer)
    # The last asks about a year after every stated target: the honest refusal.
    years = {int(t.year) for t in store.targets() if t.year.isdigit()}
    assert any(str(y) in later for y in range(max(years) + 1, max(years) + 10))
    assert kb.ask(later).refused
    assert ex.follow_up.startswith("那") and ex.follow_up.endswith("呢？")
    assert ex.questions[0] in ex.placeholder and ex.follow_up in ex.input_hint


def test_other_documents_show_their_own_title_and_questions(fictional_kb):
    kb = fictional_kb
    ex = examples(kb, TableStore(kb.data.tables_path))
    title = app_title(kb)
    assert "政策文件问答" in title and f"{len(kb.documents)} 篇" in title
    assert ex.questions, "a library without a target table still gets example questions"
    text = " ".join([title, *ex.chips])
    assert "新能源汽车产量" not in text and "加氢站" not in text and PLAN_TITLE not in text
    # Every question names something the documents themselves say.
    corpus = "".join(d.text for d in kb.documents.values())
    for q in ex.questions:
        words = [w for w in q.replace("关于", "").split("“") if "”" in w]
        topics = [w.split("”")[0] for w in words] or [q]
        assert any(t in corpus for t in topics) or any(y in corpus for y in ("2097", "2098", "2099")), q
