"""Multi-part questions: "谁负责审批？多久办完？" asks two things, and each gets its own answer and citation.

A question is split at ？/；, and at ，/、 when the pieces on both sides ask something. A later part that names no
topic of its own ("情节严重的呢？") borrows the topic of the part before it.
"""
from __future__ import annotations

import re

ASKING = re.compile(r"多少|几|哪|什么|谁|如何|怎么|怎样|是否|有没有|能否|可否|可不可以|能不能|要不要|会不会|吗|呢|多久|多长")


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
    asking = [p for p in out if ASKING.search(p)]
    return asking if len(asking) >= 2 else [question]
