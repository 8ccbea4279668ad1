"""Place names a question or clause may be limited to (kb/data/places.txt), enterprises or brands it may name
(kb/data/organisations.txt), and national laws and regulations it may name (kb/data/document_names.txt):
lexicons, each with its origin noted."""
from __future__ import annotations

from functools import lru_cache

from kb.core.settings import DATA_DIR


@lru_cache(maxsize=1)
def places() -> tuple[str, ...]:
    lines = (DATA_DIR / "places.txt").read_text(encoding="utf-8").splitlines()
    names = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    return tuple(sorted(names, key=len, reverse=True))  # longest first: 杭州湾 before 杭州


def places_in(text: str) -> list[str]:
    """The places named in `text`, longest names first; a name inside a longer one is not counted again."""
    found, rest = [], text
    for p in places():
        if p in rest:
            found.append(p)
            rest = rest.replace(p, "")
    return found


@lru_cache(maxsize=1)
def organisations() -> tuple[str, ...]:
    lines = (DATA_DIR / "organisations.txt").read_text(encoding="utf-8").splitlines()
    names = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    return tuple(sorted(names, key=len, reverse=True))


def organisations_in(text: str) -> list[str]:
    """The enterprises and brands named in `text` (longest names first, none counted twice)."""
    found, rest = [], text
    for o in organisations():
        if o in rest:
            found.append(o)
            rest = rest.replace(o, "")
    return found


@lru_cache(maxsize=1)
def document_names() -> tuple[str, ...]:
    lines = (DATA_DIR / "document_names.txt").read_text(encoding="utf-8").splitlines()
    names = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    return tuple(sorted(set(names), key=len, reverse=True))


def document_names_in(text: str) -> list[str]:
    """The laws and regulations named in `text` (longest names first: 个人所得税法实施条例 is not also 个人所得税法)."""
    found, rest = [], text
    for n in document_names():
        if n in rest:
            found.append(n)
            rest = rest.replace(n, "\0")
    return found
