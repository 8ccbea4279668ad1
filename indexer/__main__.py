"""Command line of the indexer: `python -m indexer build [--corpus DIR] [--kb DIR] [--force]`."""
from __future__ import annotations

import argparse
import sys

from indexer.build import build
from indexer.loader import CorpusError
from kb.config import settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="建立政策文件知识库")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="从语料目录建立知识库（内容未变时跳过）")
    b.add_argument("--corpus", help="语料目录（默认 corpus/ 或环境变量 CORPUS_DIR）")
    b.add_argument("--kb", help="知识库目录（默认 data/kb 或环境变量 KB_DIR）")
    b.add_argument("--force", action="store_true", help="即使语料未变化也重新建立")
    args = parser.parse_args(argv)
    s = settings(kb_dir=args.kb, corpus_dir=args.corpus)
    try:
        path = build(s, force=args.force)
    except CorpusError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
