"""Splitting multi-part questions, and expanding everyday words to the documents' terms."""
from __future__ import annotations

import pytest

from kb.answer.aspects import split_aspects
from kb.retrieval.expand import expansions, forms_in


@pytest.mark.parametrize("question, parts", [
    ("谁负责审批？多久办完？", ["谁负责审批", "多久办完"]),
    ("谁负责审批，多久办完？", ["谁负责审批", "多久办完"]),
    ("按虚构条例罚多少？情节严重的呢？", ["按虚构条例罚多少", "情节严重的，按虚构条例罚多少"]),
    ("拿到决定书后，多少天内要交钱？", ["拿到决定书后，多少天内要交钱？"]),  # one question with its context
    ("到2025年全省产量目标是多少？", ["到2025年全省产量目标是多少？"]),
    # an A-not-A question asks as much as 吗 does
    ("从哪天起施行？原来的费还收不收？", ["从哪天起施行", "原来的费还收不收"]),
    ("不得不停运的，要报告吗？", ["不得不停运的，要报告吗？"]),  # 不得不 asks nothing
])
def test_split_aspects(question, parts):
    assert split_aspects(question) == parts


def test_everyday_words_bring_the_documents_terms():
    assert "电动自行车" in expansions("骑电瓶车要上牌吗？")
    assert "充电设施" in expansions("充电的地方够不够？")
    assert expansions("电动自行车应当登记吗？") == []  # the question already uses the documents' words
    assert "充电" not in expansions("充电的地方")  # a longer everyday phrase is not also read as its parts
    # read left to right: "不烧油的车" is 不烧油 (a new-energy vehicle), not the 烧油的车 (a fuel car) inside it
    assert "新能源汽车" in expansions("一年生产多少辆不烧油的车？")
    assert "燃油汽车" not in expansions("一年生产多少辆不烧油的车？")
    assert forms_in("一年生产多少辆不烧油的车？", "烧油") == ["烧油", "新能源汽车", "电动汽车"]
    assert forms_in("电瓶车能带人吗？", "带人") == ["带人", *expansions("带人")]  # no everyday word around it


@pytest.mark.parametrize("name", ["colloquial.txt", "broader.txt", "categories.txt", "occasions.txt", "remedies.txt"])
def test_each_word_has_one_entry(name):
    # a second entry for a word is silently never used (the first one found takes the word): one line per word
    from kb.core.settings import DATA_DIR

    words = [ln.split("\t")[0].strip() for ln in (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert sorted(w for w in set(words) if words.count(w) > 1) == []


def test_the_same_question_of_two_things_is_asked_of_each():
    from kb.answer.aspects import distribute

    assert distribute("杭州条例规定，巡游车运输证和网约车运输证的有效期分别是多长") == [
        "杭州条例规定，巡游车运输证的有效期是多长", "杭州条例规定，网约车运输证的有效期是多长"]
    # a tail after a comma is said of both; a long 的… after the second thing is its own
    assert distribute("宁波条例里，没挂标志牌和没经同意用旧配件，情节严重的罚款上限各是多少") == [
        "宁波条例里，没挂标志牌，情节严重的罚款上限是多少", "宁波条例里，没经同意用旧配件，情节严重的罚款上限是多少"]
    assert distribute("按道交法，用假号牌，和用假的检验合格标志、保险标志，分别处多少罚款") == [
        "按道交法，用假号牌处多少罚款", "按道交法，用假的检验合格标志、保险标志处多少罚款"]
    assert distribute("“三纵三横”分别指什么") == ["“三纵三横”分别指什么"]  # nothing coordinated
    assert split_aspects("按规划，公用桩和自用桩分别布局在哪里？") == ["按规划，公用桩布局在哪里", "按规划，自用桩布局在哪里"]


def test_a_question_in_everyday_words_is_also_read_in_the_documents_words():
    from kb.core.segment import segmenter
    from kb.retrieval.expand import rewritten

    words = segmenter().words
    assert rewritten("电瓶车可以载人吗", words) == "电动自行车可以载人吗"
    assert rewritten("电动自行车就是电瓶车吗", words) == "电动自行车就是电瓶车吗"  # it already names the term
    assert rewritten("新能源汽车的产量目标", words) == "新能源汽车的产量目标"
    # only whole words of the question: the 卖电 of 卖电瓶车 and the 交车 of 公交车 are no everyday words here
    assert rewritten("卖电瓶车的店", words) == "卖电动自行车的店"
    assert "公交车" in rewritten("全省公交车哪年全部换成新能源", words)


def test_the_rewritten_vector_brings_a_colloquial_question_nearer_the_documents_wording():
    import numpy as np

    from kb.core.segment import segmenter
    from kb.embed import NanoQueries
    from kb.retrieval.expand import query_vector

    q = NanoQueries()
    calls = []

    def embed(text):
        calls.append(text)
        return q.embed_query(text)

    # (verbatim from eval/corpus's 浙江省电动自行车管理条例)
    clause = q.embed_query("电动自行车搭载六周岁以下未成年人的，应当在后座使用儿童座椅。")
    question = "电瓶车可以载人吗"
    plain = query_vector(question, embed, 0.0, segmenter().words)
    mixed = query_vector(question, embed, 0.5, segmenter().words)
    assert calls == [question, question, "电动自行车可以载人吗"]
    assert abs(np.linalg.norm(mixed) - 1) < 1e-5
    assert float(mixed @ clause) > float(plain @ clause) + 0.01
    calls.clear()
    formal = query_vector("电动自行车可以载人吗", embed, 0.5, segmenter().words)  # nothing to rewrite: one encoding, unchanged
    assert len(calls) == 1 and np.allclose(formal, q.embed_query("电动自行车可以载人吗"))


def test_a_part_that_asks_only_by_ne_takes_what_the_part_before_asks():
    from kb.answer.aspects import elliptical

    # after the word both parts share
    assert split_aspects("测试条例规定，巡游车运输证有效期多长？网约车的运输证呢？") == [
        "测试条例规定，巡游车运输证有效期多长", "网约车的运输证有效期多长"]
    # else the last clause of the part before, else what follows its last 的
    assert elliptical("不戴头盔的，按测试条例罚多少", "情节严重的呢") == "情节严重的，按测试条例罚多少"
    assert elliptical("测试法规定预留的份额至少要占多少", "其中给小微企业的呢") == "其中给小微企业的份额至少要占多少"
    # a part that asks by its own words is left as it is
    assert elliptical("巡游车运输证有效期多长", "网约车的运输证有效期又是多久呢") == "网约车的运输证有效期又是多久呢"
