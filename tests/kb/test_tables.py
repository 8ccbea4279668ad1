"""Table storage, queries, export and the `tables` command (rows marked 测试 are invented test data)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from kb.store.files import current_dir, switch_current
from kb.store.tables import (
    CONTRACT_COLUMNS,
    KINDS,
    TABLES_DB,
    Project,
    Responsibility,
    Tables,
    TableStore,
    Target,
    _fit,
    columns,
    display_width,
    format_table,
    merge_tables,
    write_tables,
)

REPO = Path(__file__).resolve().parents[2]


def _test_tables(doc_id: str = "test-doc") -> Tables:
    """Invented rows (测试文件 by 某某测试局), not policy text."""
    return Tables(
        targets=[
            Target(doc_id=doc_id, section="二、目标 > （一）测试目标", indicator="测试加氢站", value="30", unit="座",
                   qualifier="", year="2025", kind="target", scope="测试市", quote="到2025年，建成测试加氢站30座",
                   start=10, end=26, value_norm=30, unit_norm="座"),
            Target(doc_id=doc_id, section="一、基础", indicator="测试加氢站", value="2", unit="座", year="2020",
                   kind="baseline", scope="测试市", quote="2020年，建成测试加氢站2座", start=0, end=9,
                   value_norm=2, unit_norm="座"),
            Target(doc_id=doc_id, section="二、目标 > （一）测试目标", indicator="测试车辆产量", value="1.5", unit="万辆",
                   qualifier="力争达到", year="“十四五”期间", kind="target", quote="测试车辆产量力争达到1.5万辆",
                   start=30, end=45, value_norm=15000, unit_norm="辆"),
        ],
        projects=[
            Project(doc_id=doc_id, section="专栏1 测试项目", name="测试电池领域", field="测试电池领域", investment="12亿元",
                    level="field", quote="预计完成投资12亿元", start=50, end=60),
            Project(doc_id=doc_id, section="专栏1 测试项目", name="某某测试公司年产5万吨测试材料", organization="某某测试公司",
                    field="测试电池领域", capacity="年产5万吨测试材料", field_investment="12亿元",
                    quote="某某测试公司年产5万吨测试材料", start=61, end=75),
        ],
        responsibilities=[
            Responsibility(doc_id=doc_id, section="五、保障", actor="某某测试局", duty="统筹推进测试工作", role="牵头",
                           cue="牵头", quote="由某某测试局牵头，统筹推进测试工作", start=80, end=97),
        ],
    )


@pytest.fixture()
def kb_dir(tmp_path) -> Path:
    """A KB directory laid out as the build lays it out, holding only the tables."""
    d = tmp_path / "kb"
    build_dir = d / "builds" / "test"
    write_tables([_test_tables("doc-a"), Tables()], build_dir / TABLES_DB)
    switch_current(d, build_dir)
    return d


def test_round_trip_and_merge(tmp_path):
    a, b = _test_tables("doc-a"), _test_tables("doc-b")
    db = write_tables([a, b], tmp_path / "kb" / TABLES_DB)
    with TableStore(db) as store:
        assert store.all() == merge_tables([a, b])
        assert len(store.targets(doc_id="doc-b")) == 3
    # Rewriting replaces the file atomically and leaves no temporary file behind.
    write_tables(a, db)
    with TableStore(db) as store:
        assert store.all() == a
    assert [p.name for p in db.parent.iterdir()] == [TABLES_DB]


def test_empty_tables_round_trip(tmp_path):
    db = write_tables(Tables(), tmp_path / TABLES_DB)
    with TableStore(db) as store:
        assert store.all() == Tables()
        assert store.find_targets_for_question("加氢站有多少") == []


def test_missing_database_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        TableStore(tmp_path / TABLES_DB)


def test_filters(kb_dir):
    with TableStore(current_dir(kb_dir) / TABLES_DB) as store:
        assert [t.value for t in store.targets(indicator_like="加氢站")] == ["30", "2"]
        assert [t.value for t in store.targets(indicator_like="加氢站", year=2025)] == ["30"]
        assert [t.value for t in store.targets(year="十四五")] == ["1.5"]
        assert [t.value for t in store.targets(kind="baseline")] == ["2"]
        assert [t.value for t in store.targets(section_like="测试目标")] == ["30", "1.5"]
        assert [p.name for p in store.projects(level="project")] == ["某某测试公司年产5万吨测试材料"]
        assert [p.name for p in store.projects(organization_like="测试公司")] == ["某某测试公司年产5万吨测试材料"]
        assert [r.actor for r in store.responsibilities(actor_like="测试局")] == ["某某测试局"]
        assert store.responsibilities(role="协同") == []


def test_find_targets_for_question_prefers_the_asked_year(kb_dir):
    with TableStore(current_dir(kb_dir) / TABLES_DB) as store:
        ranked = store.find_targets_for_question("到2025年测试加氢站建设目标是多少座？")
        # 测试 matches every invented row; 加氢站 and the year put the 2025 row first.
        assert [t.value for _, t in ranked] == ["30", "2", "1.5"]
        assert ranked[0][0] > ranked[1][0] > ranked[2][0]
        ranked = store.find_targets_for_question(["车辆产量"])
        assert [t.value for _, t in ranked] == ["1.5"]


def test_find_targets_on_the_plan(tmp_path):
    from indexer.loader import load_corpus
    from indexer.structure import parse
    from indexer.tables import extract_tables

    docs = load_corpus(REPO / "corpus")
    db = write_tables([extract_tables(d, parse(d)) for d in docs], tmp_path / TABLES_DB)
    with TableStore(db) as store:
        top = store.find_targets_for_question("到2025年全省加氢站建设目标是多少？")[0][1]
        assert (top.value, top.unit, top.year) == ("30", "座", "2025")
        top = store.find_targets_for_question("到2025年全省新能源汽车产量目标是多少？")[0][1]
        assert (top.value, top.unit, top.kind) == ("60", "万辆", "target")
        top = store.find_targets_for_question("2020年全省新能源汽车产量是多少？")[0][1]
        assert (top.value, top.unit, top.kind) == ("7.7", "万辆", "baseline")
        assert [p.organization for p in store.projects(name_like="万向")] == ["万向创新聚能城"]
        assert [r.role for r in store.responsibilities(actor_like="省发展改革委")] == ["牵头"]


def test_export_csv_and_xlsx(kb_dir, tmp_path):
    out = tmp_path / "out"
    with TableStore(current_dir(kb_dir) / TABLES_DB) as store:
        paths = store.export(out)
    assert sorted(p.name for p in paths) == ["projects.csv", "responsibilities.csv", "tables.xlsx", "targets.csv"]
    for kind in KINDS:
        raw = (out / f"{kind}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert rows[0][: len(CONTRACT_COLUMNS[kind])] == CONTRACT_COLUMNS[kind]
        assert rows[0] == columns(kind)
    targets = list(csv.DictReader((out / "targets.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["value"], r["unit"], r["year"], r["kind"]) for r in targets][0] == ("30", "座", "2025", "target")
    wb = load_workbook(out / "tables.xlsx")
    assert wb.sheetnames == list(KINDS)
    assert [c.value for c in wb["targets"][1]] == columns("targets")
    assert wb["targets"].max_row == 4 and wb["projects"].max_row == 3 and wb["responsibilities"].max_row == 2


def test_format_table_aligns_wide_characters():
    assert display_width("加氢站ab") == 8
    assert _fit("加氢站", 8) == "加氢站  "
    cut = _fit("新能源汽车产量力争达到", 9)
    assert cut.endswith("…") and display_width(cut) == 9
    text = format_table(_test_tables(), "targets")
    lines = text.splitlines()
    assert lines[0] == "目标指标（3 条）"
    assert lines[1].split()[:3] == ["指标", "数值", "单位"]
    # The 数值 column starts at the same terminal column on every row.
    col = display_width(lines[1][: lines[1].index("数值")])
    for line, value in zip(lines[3:], ["30", "2", "1.5"]):
        assert display_width(line[: line.index(value)]) == col
    with pytest.raises(ValueError):
        format_table(_test_tables(), "nonsense")


# ---------------------------------------------------------------- the command

def _cli(*args: str, env_kb: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("KB_DIR", None)
    return subprocess.run([sys.executable, "-m", "kb", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_prints_tables(kb_dir):
    r = _cli("tables", "--kb", str(kb_dir))
    assert r.returncode == 0, r.stderr
    assert "目标指标（3 条）" in r.stdout and "重大项目（2 条）" in r.stdout and "责任分工（1 条）" in r.stdout
    r = _cli("tables", "--kb", str(kb_dir), "--kind", "projects")
    assert r.returncode == 0 and "某某测试公司" in r.stdout and "目标指标" not in r.stdout


def test_cli_export_writes_files(kb_dir, tmp_path):
    out = tmp_path / "export"
    r = _cli("tables", "--kb", str(kb_dir), "--export", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["projects.csv", "responsibilities.csv", "tables.xlsx", "targets.csv"]


def test_cli_without_tables_says_how_to_build(tmp_path):
    r = _cli("tables", "--kb", str(tmp_path / "empty"))
    assert r.returncode == 1
    assert "python -m indexer build" in r.stderr and "错误" in r.stderr


def test_cli_rejects_unknown_kind(kb_dir):
    r = _cli("tables", "--kb", str(kb_dir), "--kind", "budgets")
    assert r.returncode == 2
    assert all(k in r.stderr for k in KINDS)
