"""National names (kb/data/national.txt): the country's full name and the national bodies that issue documents."""
from __future__ import annotations

import re
from functools import lru_cache

from kb.core.settings import DATA_DIR


@lru_cache(maxsize=1)
def _entries() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for line in (DATA_DIR / "national.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "\t" in line:
            kind, name = line.split("\t", 1)
            out.setdefault(kind.strip(), []).append(name.strip())
    return {k: tuple(v) for k, v in out.items()}


def country() -> str:
    """The country's full name, which opens national law titles."""
    return _entries()["country"][0]


def issuer_prefixes() -> tuple[str, ...]:
    return _entries()["issuer_prefix"]


def issuer_suffixes() -> tuple[str, ...]:
    return _entries()["issuer_suffix"]


def alternation(names: tuple[str, ...]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
