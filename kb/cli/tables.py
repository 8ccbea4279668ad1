"""`python -m kb tables [--kind …] [--export DIR]`: show or export the extracted targets, projects and responsibilities."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kb.store.tables import KINDS, TABLES_DB, TableStore


def add_tables_parser(subparsers, parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """Add the `tables` sub-command. Pass the parser that defines --kb as a parent, or get a --kb of our own."""
    p = subparsers.add_parser("tables", parents=list(parents), help="查看或导出目标指标、重大项目、责任分工表",
                              description="查看或导出从政策文件中抽取的目标指标、重大项目和责任分工表。")
    if not any(any("--kb" in a.option_strings for a in par._actions) for par in parents):
        p.add_argument("--kb", help="知识库目录（默认 data/kb 或环境变量 KB_DIR）")
    p.add_argument("--kind", choices=KINDS, help="只显示一张表（默认三张都显示）")
    p.add_argument("--export", metavar="DIR",
                   help="导出到目录：targets.csv、projects.csv、responsibilities.csv（UTF-8 BOM）和 tables.xlsx")
    return p


def run_tables(args: argparse.Namespace, kb_dir: str | Path) -> int:
    """Print the table(s), or export them with --export; exit status 1 when the KB has no tables yet."""
    db = Path(kb_dir) / TABLES_DB
    if not db.is_file():
        print(f"错误：知识库中还没有结构化表格（找不到 {db}）。请先运行 `python -m indexer build` 建立知识库。",
              file=sys.stderr)
        return 1
    with TableStore(db) as store:
        if args.export:
            lines = [str(p) for p in store.export(args.export)]
        else:
            kinds = [args.kind] if args.kind else list(KINDS)
            lines = ["\n\n".join(store.format_table(k) for k in kinds)]
    try:
        print("\n".join(lines))
    except BrokenPipeError:  # `… | head`: the reader has gone, which is not an error
        sys.stdout = open(os.devnull, "w")
    return 0
