"""The KB's word table (kb.store.files.write_dictionary): a copy of jieba's own table with the KB's terms added,
exactly the table jieba has after Segmenter(terms) adds them to its loaded dictionary."""
import sqlite3

from kb.core.segment import Segmenter
from kb.store import files as store

TERMS = ["万亩千亿", "三花集团", "一湾一带多基地", "新能源汽车"]  # a new word, a company, a long one, one jieba knows
TEXTS = ["浙江省推进“万亩千亿”新产业平台建设", "支持三花集团做大做强", "到2025年要建成多少座加氢站？"]


def test_written_table_is_jiebas_with_the_terms(tmp_path):
    full = Segmenter(TERMS)
    freq, total = full.dictionary()
    for attempt in range(2):  # the second time from a damaged base table, which is made again
        seg = store.write_dictionary(tmp_path / "jieba.sqlite", TERMS, tmp_path)
        with sqlite3.connect(tmp_path / "jieba.sqlite") as db:
            assert dict(db.execute("SELECT word, n FROM freq")) == freq
            assert db.execute("SELECT n FROM total").fetchone() == (total,)
        stored = Segmenter(TERMS, dictionary=store.read_dictionary(tmp_path / "jieba.sqlite"))
        for text in TEXTS:
            assert seg.tokens(text) == stored.tokens(text) == full.tokens(text)
        base = tmp_path / store.BASE_DICT_FILE
        made = base.stat().st_mtime_ns
        assert store.base_dictionary(tmp_path) == base and base.stat().st_mtime_ns == made  # kept, not made again
        base.write_bytes(b"not a database")
