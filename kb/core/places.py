"""Place names a question or clause may be limited to (kb/data/places.txt), enterprises or brands it may name
(kb/data/organisations.txt), national laws and regulations it may name (kb/data/document_names.txt), kinds of
vehicle or energy (kb/data/categories.txt), events or occasions (kb/data/occasions.txt) and legal remedies
(kb/data/remedies.txt) it may ask about: lexicons, each with its origin noted."""
from __future__ import annotations

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
    """The kinds of vehicle or energy named in `text` (电动三轮车, 核电)."""
    return _named_in(_lexicon("categories.txt"), text)


def occasions_in(text: str) -> list[str]:
    """The events and occasions named in `text` (亚运会, 春运)."""
    return _named_in(_lexicon("occasions.txt"), text)


def remedies_in(text: str) -> list[str]:
    """The legal remedies and procedures named in `text` (行政复议, 听证)."""
    return _named_in(_lexicon("remedies.txt"), text)
