"""Multi-part questions: "谁负责审批？多久办完？" asks two things, and each gets its own answer and citation.

A question is split at ？/；, and at ，/、 when the pieces on both sides ask something. A later part that names no
topic of its own ("情节严重的呢？") borrows the topic of the part before it. "A和B（的X）分别/各是多少" asks the same
of two things: it becomes "A（的X）是多少" and "B（的X）是多少".
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
    return asking if len(asking) >= 2 else [question]
