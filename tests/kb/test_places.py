"""kb/core/places.py: the lexicons' finders (longest name first, a name inside a longer one not counted again)."""
from __future__ import annotations

from kb.core.places import categories_in, occasions_in, places_in, remedies_in


def test_kinds_of_vehicle_and_energy_are_found_whole():
    assert categories_in("电动三轮车和电动滑板车能上路吗？") == ["电动三轮车", "电动滑板车"]  # not also 三轮车, 滑板车
    assert categories_in("核电项目有补贴吗") == ["核电"]
    assert categories_in("企业所得税怎么交") == []


def test_events_and_occasions_are_found():
    assert occasions_in("亚运会期间和亚残运会期间出租车怎么管？") == ["亚残运会", "亚运会"]
    assert occasions_in("国庆节放假高速免费吗") == ["国庆节"]  # not also 国庆
    assert occasions_in("出租车怎么管") == []
    assert remedies_in("不服的可以申请行政复议吗") == ["行政复议"]  # not also 复议


def test_places_are_found_longest_first():
    assert places_in("杭州湾和杭州有什么政策？") == ["杭州湾", "杭州"]  # 杭州湾 is not read as 杭州 plus 湾
