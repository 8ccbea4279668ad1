"""kb.core.text.normalize: the form terms are matched in, the same for a short text (remembered) and a long one."""
from __future__ import annotations

import unicodedata

from kb.core.text import normalize


def test_normalize_is_nfkc_lower_case_for_short_and_long_texts():
    short = "到２０２５年建成ＡＢＣ充电站（ＶＴＧ）"
    assert normalize(short) == "到2025年建成abc充电站(vtg)"
    assert normalize(short) == normalize(short)  # a second time, from the cache: the same text
    long = short * 100  # longer than what is remembered
    assert len(long) > 512
    assert normalize(long) == unicodedata.normalize("NFKC", long).lower() == normalize(short) * 100
    assert normalize("") == ""
