"""Document filters: parsing `key=value`, the valid choices in errors, and which documents pass."""
import pytest

from kb.core.records import DocMeta
from kb.retrieval.filters import DocFilter, FilterError, parse_filters


def meta(doc_id, **kw):
    return DocMeta(doc_id=doc_id, file=f"{doc_id}.txt", title=doc_id, **kw)


DOCS = {m.doc_id: m for m in [
    meta("nat", level="国家级", region="全国", issuer="虚构国家测试部", doc_type="通知", date="2020-10-20"),
    meta("prov", level="省级", region="浙江省", issuer="浙江省发展和改革委员会", doc_type="规划", date="2021-04-08"),
    meta("old", level="省级", region="浙江省", doc_type="规划", date="2016-01-01", validity="被替代",
         replaced_by="prov"),
    meta("city", level="市级", region="杭州市", doc_type="办法"),
]}


def test_default_excludes_superseded_only():
    assert DocFilter().allowed(DOCS) == {"nat", "prov", "city"}


def test_no_restriction_is_none():
    docs = {k: v for k, v in DOCS.items() if k != "old"}
    assert DocFilter().allowed(docs) is None


def test_level_aliases_and_fields():
    assert parse_filters(["level=省"]).allowed(DOCS) == {"prov"}
    assert parse_filters(["level=国家"]).allowed(DOCS) == {"nat"}
    assert parse_filters(["region=杭州"]).allowed(DOCS) == {"city"}
    assert parse_filters(["issuer=发展和改革"]).allowed(DOCS) == {"prov"}
    assert parse_filters(["type=规划", "validity=全部"]).allowed(DOCS) == {"prov", "old"}
    assert parse_filters(["validity=被替代"]).allowed(DOCS) == {"old"}


def test_date_range_inclusive_and_undated_excluded():
    assert parse_filters(["date_from=2020", "date_to=2021"]).allowed(DOCS) == {"nat", "prov"}
    assert parse_filters(["date_to=2020-10"]).allowed(DOCS) == {"nat"}
    assert parse_filters(["date_from=2021/4/8"]).allowed(DOCS) == {"prov"}


@pytest.mark.parametrize("item, expected", [
    ("colour=red", "可选：level"),
    ("level=乡级", "国家级、省级、市级、县级"),
    ("validity=有效", "现行、废止、被替代"),
    ("date_from=去年", "无法识别"),
    ("level", "键=值"),
])
def test_errors_say_what_is_valid(item, expected):
    with pytest.raises(FilterError, match=expected):
        parse_filters([item])


def test_describe_is_readable():
    assert parse_filters(["level=省级", "validity=全部"]).describe() == "层级=省级，效力=全部"
