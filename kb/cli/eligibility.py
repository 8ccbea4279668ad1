"""`python -m kb eligibility --profile profile.json [--json]`: the provisions that support an enterprise profile."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from kb.eligibility.matcher import (
    EMPTY_PROFILE,
    RECOGNIZED_CN,
    EligibilityResult,
    Profile,
)

STATUS_CN = {"met": "满足", "unmet": "不满足", "unknown": "未知"}
FIELD_CN = {"name": "企业名称", "region": "所在地区", "enterprise_type": "企业类型", "products": "产品",
            "activities": "业务活动", "qualifications": "资质", "needs": "关注的支持", "description": "企业简介"}



class ProfileError(ValueError):
    """A profile that cannot be read; the message is for the user, in Chinese."""


def add_eligibility_parser(subparsers, parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """Add the `eligibility` sub-command. Pass the parser that defines --kb as a parent, or get a --kb of our own."""
    p = subparsers.add_parser("eligibility", parents=list(parents), help="按企业档案查找可适用的支持条款",
                              description="根据企业档案（JSON）列出知识库文档（规划、法律、法规等）中可能适用的支持、"
                                          "减免、优惠条款，以及匹配理由和条款条件。规划为方向性支持，法律法规条款是否"
                                          "适用以主管部门认定和实施规定为准；标为“授权规定”的条款本身不给予支持。")
    if not any(any("--kb" in a.option_strings for a in par._actions) for par in parents):
        p.add_argument("--kb", help="知识库目录（默认 data/kb 或环境变量 KB_DIR）")
    p.add_argument("--profile", required=True, metavar="FILE",
                   help="企业档案 JSON 文件（- 表示标准输入）；字段均可选：name、region、enterprise_type、products、"
                        "activities、qualifications、needs（关注的支持，如 税收、补贴、融资、用地）、description")
    p.add_argument("--json", action="store_true", help="输出 JSON：{\"matches\": [...], \"note\", \"warnings\"}")
    p.add_argument("-k", "--top", type=int, default=10, metavar="K", help="最多列出的条款数（默认 10）")
    return p


def read_profile(source: str) -> Profile:
    """The profile in a file ("-": stdin), or ProfileError saying what is wrong with it."""
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise ProfileError(f"找不到企业档案文件：{source}")
        try:
            text = path.read_text(encoding="utf-8-sig")  # a BOM from Windows editors is fine
        except UnicodeDecodeError:
            raise ProfileError(f"企业档案文件不是 UTF-8 编码的文本：{source}") from None
    return parse_profile(text)


def parse_profile(text: str) -> Profile:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProfileError(f"企业档案不是有效的 JSON：第 {e.lineno} 行第 {e.colno} 列，{e.msg}") from None
    if not isinstance(raw, dict):
        raise ProfileError("企业档案应为 JSON 对象，例如 {\"enterprise_type\": \"电池企业\", \"products\": [\"锂离子电池\"]}")
    try:
        return Profile.model_validate(raw)
    except ValidationError as e:
        fields = "、".join(dict.fromkeys(
            f"{err['loc'][0]}（{FIELD_CN.get(str(err['loc'][0]), '')}）" for err in e.errors() if err["loc"]))
        raise ProfileError(f"企业档案字段类型不对：{fields}。name、region、enterprise_type、description 应为文本，"
                           "products、activities、qualifications、needs 应为文本列表。") from None


def format_result(res: EligibilityResult) -> str:
    """Human-readable, in Chinese: what the profile was understood as, warnings, then each provision."""
    lines = []
    if res.recognized:
        lines.append("档案识别：" + "；".join(f"{RECOGNIZED_CN.get(k, k)} {'、'.join(v)}"
                                          for k, v in res.recognized.items()))
    lines += [f"提示：{w}" for w in res.warnings]
    lines.append(f"说明：{res.note}")
    if not res.matches:
        lines.append("未列出条款。")
    for i, m in enumerate(res.matches, start=1):
        doc = "（" + "·".join(x for x in (m.doc_level, m.doc_type) if x) + "）" if m.doc_level or m.doc_type else ""
        lines += ["", f"[{i}] 《{m.doc_title}》{doc} {m.section}"]
        if m.lead_in:
            lines.append(f"    引导语：“{m.lead_in.strip()}”")
        lines += [f"    “{m.quote}”", f"    支持方式：{m.support_type}"]
        if m.pointer:
            lines.append(f"    【授权规定】{m.note}")
        if m.reasons:
            lines.append("    匹配理由：" + "；".join(m.reasons))
        if m.conditions:
            lines.append("    条款条件：")
            lines += [f"      - {c.text} —— {STATUS_CN[c.status]}（{c.basis}）" for c in m.conditions]
        lines += [f"    注意：{c}" for c in m.caveats]
        if m.note and not m.pointer and m.doc_type != "规划":
            lines.append(f"    说明：{m.note}")
    return "\n".join(lines)


def run_eligibility(args: argparse.Namespace) -> int:
    """Print the matching provisions; exit status 2 for an unreadable or empty profile, else 0."""
    try:
        profile = read_profile(args.profile)
    except ProfileError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    if args.top < 1:
        print("错误：-k/--top 应为正整数。", file=sys.stderr)
        return 2
    if profile.is_empty():
        print(f"错误：{EMPTY_PROFILE}", file=sys.stderr)
        if args.json:
            print(EligibilityResult(warnings=[EMPTY_PROFILE]).model_dump_json())
        return 2

    from kb.eligibility.matcher import eligibility
    from kb.service import KnowledgeBase

    res = eligibility(KnowledgeBase.open(kb_dir=args.kb), profile, k=args.top)
    try:
        print(res.model_dump_json() if args.json else format_result(res))
    except BrokenPipeError:  # `… | head`: the reader has gone, which is not an error
        sys.stdout = open(os.devnull, "w")
    return 0
