"""Multi-part questions: "谁负责审批？多久办完？" asks two things, and each gets its own answer and citation.

A question is split at ？/；, and at ，/、 when the pieces on both sides ask something. A later part that asks only
by 呢 ("网约车的运输证呢？", "情节严重的呢？") asks what the part before it asks (`elliptical`).
"A和B（的X）分别/各是多少" asks the same of two things: it becomes "A（的X）是多少" and "B（的X）是多少".
"""
from __future__ import annotations

import re

# (and the A-not-A question of any verb: 收不收, 算不算, 交不交)
ASKING = re.compile(r"多少|几|哪|什么|谁|如何|怎么|怎样|是否|有没有|能否|可否|可不可以|能不能|要不要|会不会|吗|呢|多久|多长"
                    r"|([\u4e00-\u9fff])不\1")


# "分别", or "各" before what is asked ("各是多少", "各多久"): the same question of each thing coordinated before it.
DISTRIBUTIVE = re.compile(r"分别|各(?=是|为|要|多少|多久|多长|几|什么|哪)")
CONJUNCTION = re.compile(r"[，,]?(?:以及|和|与|跟|及)")
SHARED_TAIL = 6  # "的有效期": at most this long, a tail after the second thing is shared by both


def distribute(part: str) -> list[str]:
    """"杭州条例规定，巡游车运输证和网约车运输证的有效期分别是多长" → the question of each: "杭州条例规定，巡游车运输证的
    有效期是多长", "杭州条例规定，网约车运输证的有效期是多长"; [part] when it asks nothing of two things."""
    m = DISTRIBUTIVE.search(part)
    if not m:
        return [part]
    head, asked = part[: m.start()], part[m.end():]
    conj = list(CONJUNCTION.finditer(head))
    if not conj or not asked:
        return [part]
    c = conj[-1]
    left, right = head[: c.start()].rstrip("，,、"), head[c.end():].strip("，,、")
    cut = max(left.rfind("，"), left.rfind(","))
    context, first = left[: cut + 1], left[cut + 1:]
    # what follows the second thing is said of both: after a comma ("…用旧配件，情节严重的罚款上限"), or a short
    # "的…" ("网约车运输证的有效期")
    k = right.find("，")
    if k < 0 and 0 < (k := right.find("的")) and len(right) - k > SHARED_TAIL:
        k = -1
    second, shared = (right[:k], right[k:]) if k > 0 else (right, "")
    if not first or not second:
        return [part]
    return [context + first + shared + asked, context + second + shared + asked]


def split_aspects(question: str) -> list[str]:
    """The parts of a question that each ask something; [question] when it asks one thing."""
    out: list[str] = []
    for part in re.split(r"[？?；;]", question):
        part = part.strip(" ，,、。")
        if not part:
            continue
        pieces = [p for p in re.split(r"[，,]", part) if p.strip()]
        if len(pieces) > 1 and sum(bool(ASKING.search(p)) for p in pieces) >= 2:
            pending = ""
            for p in pieces:  # a piece that asks nothing is context for the next one that does
                if ASKING.search(p):
                    out.append(pending + p)
                    pending = ""
                else:
                    pending += p + "，"
            if pending and out:
                out[-1] += "，" + pending.rstrip("，")
        else:
            out.append(part)
    asking = [q for p in out if ASKING.search(p) for q in distribute(p)]
    if len(asking) < 2:
        return [question]
    return [asking[0], *(elliptical(before, part) for before, part in zip(asking, asking[1:]))]


ONLY_NE = re.compile(r"^(?P<what>.+?)(?:又|还|那)?呢$")


def elliptical(before: str, part: str) -> str:
    """"网约车的运输证呢" after "巡游出租车运输证有效期多长" asks "网约车的运输证有效期多长": a part that asks only by 呢
    takes what the part before asks — after the word they share (运输证), else its last clause ("情节严重的呢" after
    "…，按条例罚多少": "情节严重的，按条例罚多少"), else what follows its last 的 ("其中给小微企业的呢" after "…预留的份额
    至少要占多少"). Any other part is returned as it is."""
    m = ONLY_NE.match(part)
    if not m or any(a.group() != "呢" for a in ASKING.finditer(part)):
        return part
    what = m.group("what").strip("，, ")
    core = what.removesuffix("的")
    for n in range(min(4, len(core)), 1, -1):  # the longest tail of it (≥ 2 characters) the part before says
        tail = core[-n:]
        if re.fullmatch(r"[\u4e00-\u9fff]+", tail) and (at := before.rfind(tail)) >= 0:
            return core + before[at + n:]
    if (cut := max(before.rfind("，"), before.rfind(","))) >= 0:
        return what + "，" + before[cut + 1:]
    if (de := before.rfind("的")) >= 0:
        return what + ("" if what.endswith("的") else "的") + before[de + 1:]
    return what + "，" + before
