"""kb/core/places.py: the lexicons' finders (longest name first, a name inside a longer one not counted again)."""
from __future__ import annotations

from kb.core.places import categories_in, occasions_in, places_in, remedies_in, shaped_places_in


def test_kinds_of_vehicle_and_energy_are_found_whole():
    assert categories_in("电动三轮车和电动滑板车能上路吗？") == ["电动三轮车", "电动滑板车"]  # not also 三轮车, 滑板车
    assert categories_in("核电项目有补贴吗") == ["核电"]
    assert categories_in("企业所得税怎么交") == []
    # vehicles off the road-traffic divisions too: rail, air and work vehicles are kinds a plan may be asked about
    assert categories_in("规划对飞行汽车和有轨电车有什么安排") == ["飞行汽车", "有轨电车"]


def test_events_and_occasions_are_found():
    assert occasions_in("亚运会期间和亚残运会期间出租车怎么管？") == ["亚残运会", "亚运会"]
    assert occasions_in("国庆节放假高速免费吗") == ["国庆节"]  # not also 国庆
    assert occasions_in("出租车怎么管") == []
    assert remedies_in("不服的可以申请行政复议吗") == ["行政复议"]  # not also 复议


def test_places_are_found_longest_first():
    assert places_in("杭州湾和杭州有什么政策？") == ["杭州湾", "杭州"]  # 杭州湾 is not read as 杭州 plus 湾


def test_places_no_lexicon_lists_are_found_by_their_shape():
    from kb.core.segment import Segmenter

    words = Segmenter().words
    assert shaped_places_in(words("对长江经济带沿线的排污企业有没有更高的税额？")) == ["长江经济带"]
    assert shaped_places_in(words("对太湖流域的企业有什么规定？")) == ["太湖流域"]
    assert shaped_places_in(words("设在中国（浙江）自由贸易试验区的企业")) == ["自由贸易试验区"]
    assert shaped_places_in(words("在西湖风景区里骑车有限制吗？")) == ["西湖风景区"]
    assert shaped_places_in(words("在旅游景区开展示范应用")) == []  # 旅游 is no name
    # a preposition or a determiner before the suffix is no name
    assert shaped_places_in(words("除了湾区智慧高速环线，还有哪条高速？")) == []
    assert shaped_places_in(words("这个新区有什么政策？")) == []
