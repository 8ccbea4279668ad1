"""What the page says about the library it serves: its title and example questions, all taken from the KB.

Questions come from the structured tables (a target of the main target year, a field's investment) and, where a
library has no such figures (laws, regulations), from the documents' headings; a question about a year after every
stated target shows how the app answers what the documents do not say. Nothing here names a document."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from kb.service import KnowledgeBase
from kb.store.tables import TableStore

N_EXAMPLES = 5
MAX_TOPIC = 14  # characters; longer indicators and headings make unwieldy chips
# Heading numbering: 一、 （一） 1． 第三章 第二节 专栏1 栏2 …
NUMBERING = re.compile(r"^(?:第[一二三四五六七八九十百零〇\d]+[编章节条]\s*|[（(][一二三四五六七八九十\d]+[)）]\s*"
                       r"|[一二三四五六七八九十]+[、．.]\s*|\d+[、．.]\s*|专?栏\s*\d+\s*)+")
GENERIC_HEADINGS = {"总则", "附则", "前言", "目录"}


@dataclass
class Examples:
    questions: list[str] = field(default_factory=list)
    follow_up: str = ""  # asked after questions[0]: "那…呢？"

    @property
    def chips(self) -> list[str]:
        return self.questions + ([self.follow_up] if self.follow_up else [])

    @property
    def placeholder(self) -> str:
        first = f"，例如“{self.questions[0]}”" if self.questions else ""
        return f"请在下方输入关于文件内容的问题{first}"

    @property
    def input_hint(self) -> str:
        return "输入问题，按回车发送" + (f"（可追问，如“{self.follow_up}”）" if self.follow_up else "")


def app_title(kb: KnowledgeBase) -> str:
    """《the document》 · 政策问答 for a one-document library; otherwise the region (if shared) and the count."""
    metas = [d.meta for d in kb.documents.values() if d.meta.in_force] or [d.meta for d in kb.documents.values()]
    if len(metas) == 1:
        return f"{metas[0].title} · 政策问答"
    regions = {m.region for m in metas}
    region = regions.pop() if len(regions) == 1 else ""
    return f"{region}政策文件问答（{len(metas)} 篇文件）"


def topic(heading: str) -> str:
    """A heading without its numbering ("（三）发展目标" → "发展目标")."""
    return NUMBERING.sub("", heading.strip()).strip(" ：:")


def target_questions(store: TableStore) -> tuple[list[str], list[str], str]:
    """(questions, indicators asked about, a later-year question) from the targets of the main target year."""
    from collections import Counter

    targets = [t for t in store.targets(kind="target") if t.year.isdigit() and t.value_norm
               and 2 <= len(t.indicator) <= MAX_TOPIC]
    if not targets:
        return [], [], ""
    years = Counter(t.year for t in targets)
    year = max(years, key=lambda y: (years[y], y))
    picked, sections = [], set()
    for t in (t for t in targets if t.year == year):  # document order; one per section first, for variety
        if t.section not in sections and t.indicator not in {p.indicator for p in picked}:
            picked.append(t)
            sections.add(t.section)
    rest = [t for t in targets if t.year == year and t.indicator not in {p.indicator for p in picked}]

    def ask(t, y: str) -> str:
        scope = t.scope if t.scope and t.scope not in t.indicator else ""
        return f"到{y}年{scope}{t.indicator}的目标是多少？"

    questions = [ask(t, year) for t in picked]
    later = str(max(int(y) for y in years) + 5)
    indicators = [t.indicator for t in picked] + list(dict.fromkeys(t.indicator for t in rest))
    return questions, indicators, ask(picked[0], later)


def field_questions(store: TableStore) -> list[str]:
    """A question on each field's stated investment (fields with a figure only)."""
    return [f"{p.field}的投资是多少？" for p in store.projects() if p.level == "field" and p.investment
            and p.field and len(p.field) <= MAX_TOPIC]


def heading_questions(kb: KnowledgeBase) -> list[str]:
    """One question per distinct heading topic, taking the documents in turn so each gets a share."""
    per_doc: list[list[str]] = []
    for doc_id in kb.data.paragraphs:
        doc = kb.documents.get(doc_id)
        if doc is None or not doc.meta.in_force:
            continue
        heads = list(kb.data.paragraphs.of_kind(("heading",), [doc_id]))  # only the headings are made
        topics = [topic(p.text) for p in heads if len(p.section) >= 2]
        topics += [topic(p.text) for p in heads if len(p.section) < 2]
        per_doc.append([t for t in dict.fromkeys(topics) if 2 < len(t) <= MAX_TOPIC and t not in GENERIC_HEADINGS])
    out: list[str] = []
    for i in range(max((len(t) for t in per_doc), default=0)):
        out += [f"关于“{ts[i]}”，文件有哪些规定？" for ts in per_doc if i < len(ts)]
    return out


def examples(kb: KnowledgeBase, store: TableStore, n: int = N_EXAMPLES) -> Examples:
    targets, indicators, later = target_questions(store)
    fields = field_questions(store)
    questions = targets[:3] + fields[:1]
    questions += [q for q in heading_questions(kb) if q not in questions][: max(0, n - 1 - len(questions))]
    if later:
        questions.append(later)  # shows the honest "not stated" answer
    follow = next((i for i in indicators[1:] if f"{i}的" not in " ".join(questions[1:])), "") or \
        (indicators[1] if len(indicators) > 1 else "")
    return Examples(questions=questions[:n], follow_up=f"那{follow}呢？" if follow and targets else "")
