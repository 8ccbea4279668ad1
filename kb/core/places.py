"""Place names a question or clause may be limited to (kb/data/places.txt), enterprises or brands it may name
(kb/data/organisations.txt), national laws and regulations it may name (kb/data/document_names.txt), kinds of
vehicle or energy (kb/data/categories.txt), events or occasions (kb/data/occasions.txt) and legal remedies
(kb/data/remedies.txt) it may ask about: lexicons, each with its origin noted."""
from __future__ import annotations

import re
from functools import lru_cache

from kb.core.settings import DATA_DIR


@lru_cache(maxsize=None)
def _lexicon(file: str) -> tuple[str, ...]:
    """The names of a lexicon file (one per line, # comments), longest first: 杭州湾 before 杭州."""
    lines = (DATA_DIR / file).read_text(encoding="utf-8").splitlines()
    names = dict.fromkeys(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))
    return tuple(sorted(names, key=len, reverse=True))


def _named_in(names: tuple[str, ...], text: str) -> list[str]:
    """The `names` found in `text`, longest first; a name inside a longer one found already is not counted again
    (个人所得税法实施条例 is not also 个人所得税法)."""
    found, rest = [], text
    for name in names:
        if name in rest:
            found.append(name)
            rest = rest.replace(name, "\0")
    return found


def places() -> tuple[str, ...]:
    return _lexicon("places.txt")


def places_in(text: str) -> list[str]:
    """The places named in `text`."""
    return _named_in(places(), text)


# Place names no lexicon can list are shaped like places: a proper name before a suffix of region, basin, zone,
# bridge or scenic area (长江经济带, 太湖流域, 上海浦东新区, 中国（浙江）自由贸易试验区, 港珠澳大桥, 西湖风景区).
PLACE_SUFFIXES = ("经济带", "流域", "新区", "大湾区", "湾区", "试验区", "自贸区", "保税区", "大桥", "风景名胜区", "风景区",
                  "景区")
NOT_A_NAME = re.compile(r"^(?:这|那|各|本|该|某|每|一|全|此|其|我|你|他|当地|所在|附近|有关|相关|其他)")


def shaped_places_in(words: list[str]) -> list[str]:
    """Places named by shape in a text segmented into `words` (precise mode): a word that is a name and a suffix
    (太湖流域), or a name of two characters or more followed by a suffix word (长江 经济带)."""
    out = []
    for i, w in enumerate(words):
        suffix = next((x for x in PLACE_SUFFIXES if w.endswith(x)), None)
        if suffix is None:
            continue
        if len(w) >= len(suffix) + 2 and not NOT_A_NAME.match(w):
            out.append(w)
        elif w == suffix and i and re.fullmatch(r"[\u4e00-\u9fff]{2,6}", words[i - 1]) \
                and not NOT_A_NAME.match(words[i - 1]) and _name_like(words[i - 1]):
            out.append(words[i - 1] + w)
    return list(dict.fromkeys(out))


@lru_cache(maxsize=4096)
def _name_like(word: str) -> bool:
    """Whether jieba tags the word as a noun, an abbreviation or a set phrase (长江 ns, 珠澳 j, 自由贸易 l) — not a
    preposition or a verb ("除了湾区…" names no 除了湾区)."""
    import jieba.posseg

    return all(p.flag[:1] in ("n", "j", "l") for p in jieba.posseg.lcut(word))


def organisations() -> tuple[str, ...]:
    return _lexicon("organisations.txt")


def organisations_in(text: str) -> list[str]:
    """The enterprises and brands named in `text`."""
    return _named_in(organisations(), text)


def document_names() -> tuple[str, ...]:
    return _lexicon("document_names.txt")


def document_names_in(text: str) -> list[str]:
    """The national laws and regulations named in `text`."""
    return _named_in(document_names(), text)


def categories_in(text: str) -> list[str]:
    """The kinds of vehicle, energy or road named in `text` (电动三轮车, 核电, 城市道路)."""
    return _named_in(_lexicon("categories.txt"), text)


def occasions_in(text: str) -> list[str]:
    """The events and occasions named in `text` (亚运会, 春运)."""
    return _named_in(_lexicon("occasions.txt"), text)


def remedies_in(text: str) -> list[str]:
    """The legal remedies and procedures named in `text` (行政复议, 听证)."""
    return _named_in(_lexicon("remedies.txt"), text)
