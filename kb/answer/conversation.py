"""Follow-up questions in a chat, rewritten into standalone questions the knowledge base can answer.

`resolve(previous, message, seg)` is a pure function: the earlier (already standalone) questions of the
conversation and the new message in, a `Resolution` out. It is a handful of rules, not a language model:

1. A message is a follow-up when it starts with a cue (那 / 那么 / 还有 / 另外 / 同样), contains a pronoun that
   points back (这个 / 这些 / 它 / 该 / 其 / 此, but not 该规划 / 本文件 …), ends in 呢, or names no topic,
   year or place at all (“具体是多少？”). Anything else is returned unchanged.
2. Pronoun: the pronoun is replaced by the previous question's topic — the stretch from its first to its
   last topic word (“到2025年全省新能源汽车产量目标是多少？” → “新能源汽车产量”):
   “这个目标是哪一年的？” → “新能源汽车产量目标是哪一年的？”.
3. A complete question after a cue (“那加氢站的牵头部门是谁？”) only loses the cue.
4. A bare topic (“那加氢站呢？”, “那2030年呢？”, “那杭州呢？”) is put into the previous question: a year
   replaces its year, a place its place (or 全省/浙江), and a topic its topic — only the one word sharing a
   character with a single-word new topic (“产量” → “产值”), else the whole topic stretch
   (“到2025年要建成多少座充电桩？” + “那加氢站呢？” → “到2025年要建成多少座加氢站？”).
5. A question without a topic (“具体是多少？”) gets the previous topic in front.

A follow-up with no previous question raises `FollowUpError` with a Chinese message for the user.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kb.answer.question import ASKS, BROAD_PLACES, QUESTION_WORDS
from kb.core.places import places_in
from kb.core.segment import STOPWORDS, Segmenter, segmenter
from kb.core.text import CJK, nfkc_keep_punct
from kb.core.timeexpr import YEAR

CUE = re.compile(r"^(?:那么|那|还有|另外|此外|同样|再问一下|再问|请问那)[，,、\s]*")
# A pronoun pointing back; "该规划", "本文件" etc. point to the document, not to the conversation.
PRONOUN = re.compile(r"这个|这些|这项|这一|这里|它们|它|该|此|其(?![中他它余次实])|那个|那些|那项")
DOC_NOUN = re.compile(r"^(?:规划|文件|政策|通知|方案|意见)")
TRAILING = re.compile(r"[呢吗啊呀吧的\s?？。!！,，、]+$")
FOLLOW_WORDS = frozenset("那 那么 还有 另外 此外 同样 这个 这些 这项 这一 它 它们 该 此 其 那个 那些 那项 具体 呢 吗".split())


class FollowUpError(ValueError):
    """A follow-up that cannot be resolved; the message is for the user."""


@dataclass(frozen=True)
class Resolution:
    question: str  # the standalone question to ask
    rewritten: bool  # True when it differs from the message (show "按上下文理解为：…")
    previous: str | None = None  # the question it was resolved against


def _words(text: str, seg: Segmenter) -> list[tuple[str, int, int]]:
    """(word, start, end) in `text`; `text` must be NFKC already (the segmenter also lower-cases)."""
    low = text.lower()
    out, pos = [], 0
    for w in seg.words(text):
        i = low.find(w, pos)
        if i < 0:
            continue
        out.append((text[i : i + len(w)], i, i + len(w)))
        pos = i + len(w)
    return out


def _is_topic(word: str, broad: tuple[str, ...] = BROAD_PLACES) -> bool:
    w = word.lower()
    if w in STOPWORDS or w in QUESTION_WORDS or w in FOLLOW_WORDS or YEAR.fullmatch(w) or w.isdigit():
        return False
    if w in broad or places_in(w) == [w]:
        return False
    if CJK.search(w):
        return len(w) > 1 and not ASKS.fullmatch(w)
    return w[0].isalnum()


def topic_words(text: str, seg: Segmenter, broad: tuple[str, ...] = BROAD_PLACES) -> list[tuple[str, int, int]]:
    """The words of `text` that name what is asked about (not question words, years, places, pronouns)."""
    return [t for t in _words(text, seg) if _is_topic(t[0], broad)]


def topic_span(question: str, seg: Segmenter, broad: tuple[str, ...] = BROAD_PLACES) -> tuple[int, int] | None:
    """Offsets of the stretch from the first to the last topic word, or None when there is none."""
    words = topic_words(question, seg, broad)
    return (words[0][1], words[-1][2]) if words else None


def _pronoun(text: str) -> re.Match[str] | None:
    for m in PRONOUN.finditer(text):
        if not DOC_NOUN.match(text[m.end():]):
            return m
    return None


def _substitute(prev: str, topic: str, years: list[str], places: list[str], seg: Segmenter,
                broad: tuple[str, ...] = BROAD_PLACES) -> str:
    """The previous question with its year, place and topic replaced by the new ones."""
    out = prev
    if topic:
        words = topic_words(out, seg, broad)
        single = len(topic_words(topic, seg, broad)) <= 1
        sharing = [w for w in words if set(w[0]) & set(topic)] if single else []
        if len(sharing) == 1:
            _, a, b = sharing[0]
        elif words:
            a, b = words[0][1], words[-1][2]
        else:
            a = b = 0
        out = out[:a] + topic + out[b:]
    for p in places:
        named = [x for x in places_in(out) if x not in broad]
        scope = next((x for x in sorted(broad, key=len, reverse=True) if x in out), None)
        old = named[0] if named else scope
        out = out.replace(old, p, 1) if old else p + out
    for y in years:
        if YEAR.search(out):
            out = YEAR.sub(f"{y}年", out, count=1)
        else:
            out = f"{y}年" + out
    return out


def resolve(previous: Sequence[str], message: str, seg: Segmenter | None = None,
            regions: Sequence[str] = ()) -> Resolution:
    """The standalone question for `message`, given the earlier standalone questions (oldest first). `regions` are
    the places the documents themselves cover (浙江省 → 浙江): naming them narrows nothing."""
    seg = seg or segmenter()
    broad = BROAD_PLACES + tuple(regions)
    msg = nfkc_keep_punct(message)
    prev = next((nfkc_keep_punct(p) for p in reversed(previous) if p and p.strip()), None)

    cue = CUE.match(msg)
    body = msg[cue.end():] if cue else msg
    pron = _pronoun(body)
    bare = TRAILING.sub("", body)
    years = YEAR.findall(bare)
    places = [p for p in places_in(bare) if p not in broad]
    topics = topic_words(bare, seg, broad)
    asks = bool(ASKS.search(bare))
    followup = bool(cue) or pron is not None or msg.rstrip("?？。 ").endswith("呢") \
        or not (topics or years or places)
    if not followup:
        return Resolution(msg, rewritten=False)
    if prev is None:
        raise FollowUpError(f"“{msg}”像是接着上一个问题的追问，但还没有上一个问题可参照。"
                            "请完整地提问，例如：“到2025年要建成多少座加氢站？”")

    span = topic_span(prev, seg, broad)
    prev_topic = prev[span[0]:span[1]] if span else ""
    if pron is not None:
        if prev_topic:
            q = body[:pron.start()] + prev_topic + body[pron.end():]
        else:
            q = TRAILING.sub("", prev) + "，" + body
    elif asks and topics:
        q = body
    elif topics or years or places:
        topic = bare[topics[0][1]:topics[-1][2]] if topics else ""
        q = _substitute(prev, topic, years, places, seg, broad)
    elif asks:
        q = (prev_topic or TRAILING.sub("", prev) + "，") + body
    else:
        raise FollowUpError(f"没能理解追问“{msg}”想了解什么。请补充具体内容，例如：“那加氢站呢？”")
    return Resolution(q, rewritten=q != msg, previous=prev)
