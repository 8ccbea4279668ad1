"""kb/core/places.py: the lexicons' finders (longest name first, a name inside a longer one not counted again)."""
from __future__ import annotations

from kb.core.places import categories_in, places_in


def test_kinds_of_vehicle_and_energy_are_found_whole():
    assert categories_in("电动三轮车和电动滑板车能上路吗？") == ["电动三轮车", "电动滑板车"]  # not also 三轮车, 滑板车
    assert categories_in("核电项目有补贴吗") == ["核电"]
    assert categories_in("企业所得税怎么交") == []


def test_places_are_found_longest_first():
    assert places_in("杭州湾和杭州有什么政策？") == ["杭州湾", "杭州"]  # 杭州湾 is not read as 杭州 plus 湾
