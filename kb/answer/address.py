"""Address lookup: "第N条规定了什么", "第N章讲什么", "专栏N列了哪些", "一共分几章" are answered from the document's
structure, not from whatever passage retrieval ranks first.

Every paragraph's heading path already says where it sits (第一章 总则 > 第十二条 > （一）, 四、… > 专栏3 …); this
module indexes those labels as addresses and quotes what lies under one.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate

import numpy as np

from kb.answer.scope import Address
from kb.answer.verdict import Quote, Verdict, whole
from kb.core.figures import cn_to_int
from kb.core.records import Paragraph
from kb.core.text import compact

LABEL = re.compile(r"^第([零〇一二两三四五六七八九十百千\d]+)(章|节|条)")
BOX = re.compile(r"^专栏\s*(\d+)")
PART = re.compile(r"^([一二三四五六七八九十]+)、")
SUBPART = re.compile(r"^[（(]([一二三四五六七八九十]+)[）)]")
# "一共分几章", "各章是什么", "分为几节", "哪几部分": the question asks for the list of parts of some kind.
COUNT_PARTS = re.compile(r"(?<!第)(?:几|多少|哪几|各)个?(章|节|部分|条)(?![^，,。？?]{0,6}(?:措施|要求|规定|意见|建议|标准))")
# "在哪一章", "第几部分", "哪个节": the question asks where something is, i.e. which container holds it.
WHICH_PART = re.compile(r"(?:第几|哪一?个?)(章|节|部分)")
TEXT_KINDS = ("body", "item", "notice")
CONTAINERS = ("章", "节", "部分", "专栏")


def label_address(label: str, depth: int) -> Address | None:
    """The address a heading-path label stands for: 第十二条 → (条, 12); 专栏3 … → (专栏, 3); a top-level 四、… → (部分, 4);
    a (五)… inside a part → (节, 5)."""
    if m := LABEL.match(label):
        return Address(m.group(2), cn_to_int(m.group(1)))
    if m := BOX.match(label):
        return Address("专栏", int(m.group(1)))
    if depth == 0 and (m := PART.match(label)):
        return Address("部分", cn_to_int(m.group(1)))
    if depth == 1 and (m := SUBPART.match(label)):
        # a part's "（五）…" is its fifth section: "第三部分第（五）节", "第三部分第五节" (only inside a part: the
        # index keeps it there)
        return Address("节", cn_to_int(m.group(1)))
    return None


@dataclass
class Scope:
    """The paragraphs under one address of one document, in document order (made when first asked for)."""

    doc_id: str
    address: Address
    depth: int  # index of the address's label in the heading path
    positions: np.ndarray  # of its paragraphs in the document's
    doc: Sequence[Paragraph] = field(repr=False, compare=False)  # the document's paragraphs

    @cached_property
    def paragraphs(self) -> list[Paragraph]:
        return [self.doc[i] for i in self.positions.tolist()]

    @property
    def heading(self) -> Paragraph | None:
        return next((p for p in self.paragraphs if len(p.section) == self.depth + 1
                     and p.kind in ("heading", "box_title")), None)

    @property
    def title(self) -> str:
        return " ".join(self.paragraphs[0].section[self.depth].split()) if self.paragraphs else ""


class AddressIndex:
    """Where each address of each document is, as positions of its paragraphs. A document is indexed when first
    asked about, from its heading labels alone (a loaded KB gives them as arrays without making its paragraphs: at
    1M chunks an index of paragraph objects held them all), each distinct label parsed once; Scopes are made per
    question."""

    def __init__(self, paragraphs: Mapping[str, Sequence[Paragraph]]):
        self._paragraphs = paragraphs
        # Keyed by address and, for a 节, the path above it: sections are numbered afresh in each chapter (第二章
        # and 第三章 may both have a 第一节), while articles, numbered through the document, get one key each.
        self._by_doc: dict[str, dict[tuple[Address, tuple[str, ...]], tuple[int, np.ndarray]]] = {}
        self._addresses: dict[Address, int] = {}  # every address met, numbered
        self._found: list[Address] = []
        # Per label number × 2 (+1 at the top level): its address's number, -1 for none, -2 not looked at yet.
        # Label numbers are the loaded KB's (one table for all documents), or given here to plain records' labels.
        self._code = np.full(0, -2, dtype=np.int64)
        self._own: dict[str, int] = {}
        self._lock = threading.Lock()

    def _doc(self, doc_id: str) -> dict[tuple[Address, tuple[str, ...]], tuple[int, np.ndarray]]:
        found = self._by_doc.get(doc_id)
        if found is None:
            with self._lock:
                found = self._by_doc[doc_id] = self._index(self._paragraphs[doc_id])
        return found

    def _index(self, paras: Sequence[Paragraph]) -> dict[tuple[Address, tuple[str, ...]], tuple[int, np.ndarray]]:
        """An address's depth is where it first occurs (paragraphs in order, then levels); its paragraphs are those
        with that address at that depth (the same label deeper down is another part)."""
        if hasattr(paras, "heading_labels"):
            pos, depth, label_ids, names = paras.heading_labels()
        else:
            pairs = [(at, d, label) for at, p in enumerate(paras) for d, label in enumerate(p.section)]
            pos = np.asarray([at for at, _, _ in pairs], dtype=np.int64)
            depth = np.asarray([d for _, d, _ in pairs], dtype=np.int64)
            label_ids = np.asarray([self._own.setdefault(label, len(self._own)) for _, _, label in pairs], np.int64)
            names = list(self._own)
        label_ids, depth = np.asarray(label_ids, dtype=np.int64), np.asarray(depth)
        code = self._label_codes(label_ids * 2 + (depth == 0), names)
        # A bracketed number ("（五）…") is a section only right under a part ("三、…"): elsewhere it is a list entry.
        distinct = np.unique(label_ids)
        sub = np.zeros(int(distinct.max()) + 1 if len(distinct) else 0, dtype=bool)
        part = sub.copy()
        for i in distinct.tolist():
            sub[i], part[i] = bool(SUBPART.match(names[i])), bool(PART.match(names[i]))
        if len(distinct) and sub.any():
            top = np.full(int(np.max(pos)) + 1, -1, dtype=np.int64)
            top[np.asarray(pos)[depth == 0]] = label_ids[depth == 0]
            under_part = (top[pos] >= 0) & part[np.maximum(top[pos], 0)]
            code = np.where(sub[label_ids] & ~((depth == 1) & under_part), -1, code)
        hit = np.flatnonzero(code >= 0)  # pairs with an address, in order
        order = hit[np.argsort(code[hit], kind="stable")]  # grouped by address, each group in order
        groups = np.split(order, np.flatnonzero(np.diff(code[order])) + 1) if len(order) else []
        found: dict[tuple[Address, tuple[str, ...]], tuple[int, np.ndarray]] = {}
        for group in sorted(groups, key=lambda g: g[0]):  # addresses in order of first occurrence
            at = int(depth[group[0]])
            address, rows = self._found[code[group[0]]], pos[group[depth[group] == at]]
            if address.kind != "节":
                found[(address, ())] = (at, rows)
                continue
            by_parent: dict[tuple[str, ...], list[int]] = {}  # (节 are few: their paragraphs are looked at)
            for row in rows.tolist():
                by_parent.setdefault(tuple(paras[row].section[:at]), []).append(row)
            for parent, some in by_parent.items():
                found[(address, parent)] = (at, np.asarray(some, dtype=np.int64))
        return found

    def _label_codes(self, keys: np.ndarray, names) -> np.ndarray:
        """The address number of each (label, top level or not); label_address once per distinct one."""
        if len(keys) and keys.max() >= len(self._code):
            grown = np.full(max(int(keys.max()) + 1, 2 * len(self._code)), -2, dtype=np.int64)
            grown[: len(self._code)] = self._code
            self._code = grown
        for key in np.unique(keys[self._code[keys] == -2]).tolist():
            a = label_address(names[key // 2], 0 if key % 2 else 1)
            if a is not None and a not in self._addresses:
                self._addresses[a] = len(self._found)
                self._found.append(a)
            self._code[key] = -1 if a is None else self._addresses[a]
        return self._code[keys]

    def _scope(self, doc_id: str, address: Address, where: tuple[int, np.ndarray]) -> Scope:
        return Scope(doc_id, address, where[0], where[1], self._paragraphs[doc_id])

    def find(self, address: Address, docs: list[str] | frozenset[str] | None,
             within: Scope | None = None) -> list[Scope]:
        """Every scope with this address in `docs` (several 第一节 of one document, one per chapter); inside
        `within` only, if given."""
        wanted = None if docs is None else set(docs)
        out = [self._scope(d, a, where) for d in self._paragraphs if wanted is None or d in wanted
               for (a, _), where in self._doc(d).items() if a == address]
        return [sc for sc in out if _inside(sc, within)] if within is not None else out

    def containers(self, p: Paragraph, kinds: set[str]) -> list[Paragraph]:
        """The headings of the containers of `kinds` (章/节/部分) that hold `p`, outermost first."""
        out = []
        for depth, label in enumerate(p.section):
            a = label_address(label, depth)
            if a is None or a.kind not in kinds:
                continue
            where = self._doc(p.doc_id).get((a, tuple(p.section[:depth]) if a.kind == "节" else ()))
            if where is not None and where[0] == depth and (head := self._scope(p.doc_id, a, where).heading):
                out.append(head)
        return out

    def parts(self, doc_id: str, kind: str, within: Scope | None = None) -> list[Scope]:
        """The document's containers of one kind (章/节/部分/专栏), in order; inside `within` if given."""
        out = [self._scope(doc_id, a, where) for (a, _), where in self._doc(doc_id).items() if a.kind == kind]
        if within is not None:
            out = [sc for sc in out if _inside(sc, within)]
        return sorted(out, key=lambda sc: sc.doc[int(sc.positions[0])].start if len(sc.positions) else 0)


def _inside(sc: Scope, within: Scope) -> bool:
    return len(sc.positions) > 0 and sc.doc_id == within.doc_id and bool(np.isin(sc.positions[0], within.positions))


def quote_scope(sc: Scope, budget: int, clause: int = 0) -> list[Quote]:
    """What an address says: an article's paragraphs (whole sentences, within `budget` characters); a container's
    title, then its sub-parts' titles, or the opening of each of its articles/paragraphs — the opening sentence,
    cut after a clause once it has `clause` characters (0: never cut; see `opening`), so that a chapter is
    summarised by all its articles rather than by the first two quoted whole."""
    if sc.address.kind == "条":
        return _sentences([p for p in sc.paragraphs if p.kind in TEXT_KINDS], budget, prefix=sc.title + "：")
    out: list[Quote] = []
    head = sc.heading
    if head is not None:
        out.append(whole(head))
    sub = [p for p in sc.paragraphs if p.kind in ("heading", "box_title") and len(p.section) == sc.depth + 2]
    # (the run-in titles of its entries: "1．加快发展共享服务。…" items, or paragraphs opening "加快发展共享服务。…")
    items = [p for p in sc.paragraphs if p.lead and (p.kind == "item" and len(p.section) == sc.depth + 2
                                                     or p.kind == "body" and len(p.section) == sc.depth + 1)]
    if len(sub) >= 2:
        out += [whole(p) for p in sub]
    elif len(items) >= 2:
        out += [Quote(p, p.start + p.text.index(p.lead), p.start + p.text.index(p.lead) + len(p.lead), p.lead)
                for p in items]
    else:
        # a law's chapter: the opening sentence of each article (or paragraph) in turn, as far as the budget goes
        firsts = [p for p in sc.paragraphs if p.kind in TEXT_KINDS and (p.kind == "item" or len(p.section) == sc.depth + 1)]
        seen: set[str] = set()
        openings = []
        for p in firsts:
            # one opening sentence per article (its list entries belong to it), else per paragraph
            key = next((lbl for lbl in p.section[sc.depth + 1:] if LABEL.match(lbl) and lbl.endswith("条")),
                       p.section_path)
            if key in seen or not p.sentences:
                continue
            seen.add(key)
            openings.append(_opening(p, clause))
        out += _fit(openings, budget)
    return out


def _opening(p: Paragraph, clause: int) -> Quote:
    """The opening of a paragraph's first sentence (see `opening`), the whole paragraph when it has no sentences."""
    if not p.sentences:
        return whole(p)
    s = p.sentences[0]
    text = opening(s.text, clause)
    return Quote(p, s.start, s.start + len(text), text)


def _fit(quotes: list[Quote], budget: int) -> list[Quote]:
    """The first quote, then the next ones as long as all together hold no more than `budget` characters."""
    return quotes[:1] + [q for q, used in zip(quotes[1:], list(accumulate(len(q.text) for q in quotes))[1:])
                         if used <= budget]


CLAUSE_END = re.compile(r"[，；：,;:]")
# A clause that only sets the frame of what follows — by what, with whom, under which condition the duty is done
# ("…应当根据本级人民政府的决定，", "…应当会同有关部门和机构，", "…应当在…的前提下，") — says nothing yet: its verb comes
# in the next clause.
FRAME_ONLY = re.compile(r"(?:应当|应|可以|必须|负责|[，,])(?:依照|依据|根据|按照|会同|在|结合|针对)[^，；：,;:]*"
                        r"(?:规定|决定|情况|标准|结论|指标|原则|要求|前提下|后|时|机构|部门)$")


def opening(sentence: str, least: int) -> str:
    """The opening of `sentence` that says something: clause by clause until at least `least` characters, and
    never ending on a condition or topic clause ("…的，", which only says of whom or what the rest speaks) nor on a
    clause that only frames the next one (FRAME_ONLY); the
    whole sentence when it is no longer, or when `least` is 0."""
    if not least or len(sentence) <= least:
        return sentence
    for m in CLAUSE_END.finditer(sentence):
        b = m.start()
        if b >= least and not sentence[:b].endswith("的") and not FRAME_ONLY.search(sentence[:b]):
            return sentence[:b]
    return sentence


def _sentences(paras: list[Paragraph], budget: int, prefix: str = "") -> list[Quote]:
    """Whole sentences of the paragraphs, in order, until `budget` characters (at least one sentence)."""
    out: list[Quote] = []
    used = 0
    for p in paras:
        spans = [s for s in p.sentences]
        if not spans:
            continue
        take = []
        for s in spans:
            if used + len(s.text) > budget and (out or take):
                break
            take.append(s)
            used += len(s.text)
        if take:
            out.append(Quote(p, take[0].start, take[-1].end, "".join(
                p.text[s.start - p.start : s.end - p.start] for s in take) if len(take) > 1 else take[0].text))
        if len(take) < len(spans):
            break
    if out and prefix:
        out[0].prefix = prefix
    return out


def outline(index: AddressIndex, doc_id: str, kind: str, within: Scope | None, clause: int = 0,
            budget: int = 0) -> Verdict | None:
    """"一共分几章？各章是什么" → 共N章 and their titles (inside `within` for "第四章分为几节"); articles, which have
    no title ("第七章有几条"), by their opening sentence, cut after the clause that reaches `clause` characters, as
    many as `budget` characters hold (0: all)."""
    parts = index.parts(doc_id, kind, within)
    if not parts:
        return None
    quotes = [whole(sc.heading) if sc.heading is not None else _opening(sc.paragraphs[0], clause) for sc in parts]
    if budget:
        quotes = _fit(quotes, budget)
    where = f"{within.title}" if within is not None else ""
    return Verdict(quotes=quotes, lead=f"{where}共{len(parts)}{'个' if kind in ('部分', '专栏') else ''}{kind}：")


def names_only_structure(question: str, doc_words: list[str], address_labels: list[str]) -> str:
    """The question minus its document name and addresses: what is left says whether it asks about something
    inside the address ("专栏6里德清要实现什么") or about the address as a whole ("第五章讲什么")."""
    q = compact(question)
    for w in doc_words + address_labels:
        q = q.replace(w, " ")
    return q
