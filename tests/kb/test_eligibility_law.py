"""Eligibility over the real laws and regulations of eval/corpus: field evidence only (no stored sentence vectors),
with the real query encoder for products the taxonomy's words do not place."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.loader import load_corpus
from indexer.provisions import extract_provisions
from indexer.structure import parse
from kb.core.taxonomy import load_taxonomy
from kb.eligibility.matcher import Matcher, Profile, understand

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def law_matcher() -> Matcher:
    from kb.embed import NanoQueries

    docs = load_corpus(REPO / "eval" / "corpus")
    provisions = [p for d in docs for p in extract_provisions(d, parse(d))]
    q = NanoQueries()
    return Matcher(provisions, {d.meta.doc_id: d.meta.title for d in docs}, q.embed_query,
                   np.zeros((0, q.dim), np.float32), {},
                   documents={d.meta.doc_id: (d.meta.level, d.meta.doc_type) for d in docs},
                   embed_queries=q.embed_queries)


def scored(m: Matcher, profile: dict, needle: str):
    """The match whose quote contains `needle`, from all the matches of the profile (k large)."""
    res = m.match(profile, k=200)
    found = [x for x in res.matches if needle in x.quote]
    return found[0] if found else None


def test_a_class_named_inside_a_longer_class_term_is_not_the_values():
    tax = load_taxonomy()
    f = understand(Profile(enterprise_type="报废机动车回收拆解企业"), tax)
    assert "报废机动车" in f.classes and "机动车" not in f.classes
    assert "机动车" in understand(Profile(products=["纯电动轻型厢式物流车"]), tax).classes


def test_an_encouragement_counts_only_for_the_class_it_names_by_the_profiles_word(law_matcher):
    # "太阳能光伏发电系统" names the photovoltaic builder's own word; "废物" names a lithium recycler's field only broadly
    pv = scored(law_matcher, {"enterprise_type": "光伏工程企业", "products": ["屋顶光伏"]}, "太阳能光伏发电系统")
    assert pv is not None and any(r.startswith("条款鼓励或支持可再生能源") for r in pv.reasons)
    waste = scored(law_matcher, {"enterprise_type": "资源综合利用企业", "products": ["电池级碳酸锂"]},
                   "国家鼓励和推进废物回收体系建设")
    assert waste is None or not any(r.startswith("条款鼓励或支持") for r in waste.reasons)
