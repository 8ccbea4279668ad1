"""The eligibility tab: an enterprise profile form and the provisions that apply, with reasons and conditions."""
from __future__ import annotations

import html

import gradio as gr

from kb.core.taxonomy import load_taxonomy
from kb.eligibility.matcher import (
    EMPTY_PROFILE,
    POINTER_TYPE,
    RECOGNIZED_CN,
    EligibilityResult,
    Profile,
    eligibility,
)
from kb.service import KnowledgeBase

ACTIVITIES = ["研发", "制造", "运营", "标准制定", "融资", "回收", "道路测试", "示范应用", "人才引进", "出口"]
QUALIFICATIONS = ["高新技术企业", "专精特新", "小巨人", "龙头企业", "单项冠军", "上市公司"]
NEEDS = [n.id for n in load_taxonomy().needs]  # what an enterprise may say it cares about (kb/data/taxonomy.json)
STATUS = {"met": ("已满足", "#15803d"), "unmet": ("不满足", "#b91c1c"), "unknown": ("待确认", "#a16207")}
EXAMPLE = {"name": "某燃料电池科技有限公司", "region": "嘉兴市", "enterprise_type": "零部件企业",
           "products": "膜电极、双极板", "activities": ["研发", "制造"], "qualifications": ["专精特新"],
           "needs": ["补贴", "融资"], "description": "从事氢燃料电池膜电极和电堆研发制造"}
FIELDS = ("name", "region", "enterprise_type", "products", "activities", "qualifications", "needs", "description")


def render(result: EligibilityResult, titles: dict[str, str]) -> str:
    """Matches as cards: the clause verbatim, its place, why it matched, and each condition's status."""
    e = html.escape
    out = [f"<div class='elig-note'>{e(result.note)}</div>"]
    out += [f"<div class='elig-warn'>⚠ {e(w)}</div>" for w in result.warnings]
    understood = "；".join(f"{RECOGNIZED_CN.get(k, k)}：{'、'.join(v)}" for k, v in result.recognized.items() if v)
    if understood:
        out.append(f"<div class='elig-basis'>档案理解为 — {e(understood)}</div>")
    if not result.matches:
        out.append("<div class='elig-empty'>没有找到与该企业档案相关的条款。</div>")
    for i, m in enumerate(result.matches, start=1):
        conds = "".join(
            f"<li><span style='color:{STATUS[c.status][1]};font-weight:600'>［{STATUS[c.status][0]}］</span>"
            f"{e(c.text)}" + (f"<span class='elig-basis'>（{e(c.basis)}）</span>" if c.basis else "") + "</li>"
            for c in m.conditions)
        kind = "·".join(x for x in (m.doc_level, m.doc_type) if x)
        # A clause that only empowers another body to set relief is labelled so, never shown as relief granted.
        badge = f"<span class='elig-badge'>【{POINTER_TYPE}】</span>" if m.pointer else ""
        support = "、".join(s for s in m.support_types if s != POINTER_TYPE) or m.support_type
        out.append(
            "<div class='elig-card'>"
            f"<div class='elig-head'>{badge}{i}. 《{e(m.doc_title or titles.get(m.doc_id, m.doc_id))}》"
            + (f"（{e(kind)}）" if kind else "") + f" · {e(m.section)}</div>"
            + (f"<div class='elig-basis'>本项所属引导语：{e(m.lead_in)}</div>" if m.lead_in else "")
            + f"<blockquote class='elig-quote'>{e(m.quote)}</blockquote>"
            + (f"<div class='elig-warn'>{badge}{e(m.note)}</div>" if m.pointer else
               f"<div><b>支持方式：</b>{e(support)}</div>")
            + "".join(f"<div class='elig-warn'>注意：{e(c)}</div>" for c in m.caveats)
            + f"<div><b>匹配原因：</b>{e('；'.join(m.reasons) or '语义相近')}</div>"
            + (f"<div><b>条款所设条件：</b><ul>{conds}</ul></div>" if conds else
               "<div><b>条款所设条件：</b>原文未写明具体条件</div>")
            + "</div>")
    return "".join(out)


class EligibilityTab:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def check(self, name, region, etype, products, activities, quals, needs, description) -> str:
        profile = Profile(name=name or None, region=region or None, enterprise_type=etype or None,
                          products=products or [], activities=activities or [], qualifications=quals or [],
                          needs=needs or [], description=description or None)
        if profile.is_empty():
            return f"<div class='elig-warn'>{html.escape(EMPTY_PROFILE)}</div>"
        result = eligibility(self.kb, profile, k=10)  # documents in force; follows library changes
        titles = {d: doc.meta.title for d, doc in self.kb.documents.items()}
        return render(result, titles)

    def render(self) -> None:
        gr.Markdown("填写企业档案（均可选填），查看规划、法律法规中可能支持该企业的条款（减免税、补贴、优先、便利等）、"
                    "匹配原因，以及条款所设条件是否满足。标为【授权规定】的条款只授权其他机关另行规定，本身不给予支持。")
        with gr.Row():
            name = gr.Textbox(label="企业名称")
            region = gr.Textbox(label="所在地区（市/县）", placeholder="如：宁波市")
            etype = gr.Textbox(label="企业类型", placeholder="如：整车企业、零部件企业、电池企业、港口运营企业")
        products = gr.Textbox(label="主要产品（用顿号或逗号分隔）", placeholder="如：IGBT、电机控制器")
        activities = gr.CheckboxGroup(ACTIVITIES, label="业务活动")
        quals = gr.CheckboxGroup(QUALIFICATIONS, label="资质")
        needs = gr.CheckboxGroup(NEEDS, label="关注的支持", elem_id="elig-needs")
        description = gr.Textbox(label="企业简介", lines=2, placeholder="如：从事氢燃料电池膜电极和电堆研发制造")
        with gr.Row():
            go = gr.Button("查找适用条款", variant="primary", elem_id="elig-go")
            example = gr.Button("填入示例", variant="secondary")
        result = gr.HTML(elem_id="elig-result")
        inputs = [name, region, etype, products, activities, quals, needs, description]
        go.click(self.check, inputs, result, api_visibility="private", concurrency_limit=2)
        example.click(lambda: [EXAMPLE[k] for k in FIELDS], None, inputs, api_visibility="private", queue=False)

