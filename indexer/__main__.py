"""Command line of the indexer: build the KB, and add, replace, remove or list the documents of the library."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from indexer.build import build, complete, pending
from indexer.library import (
    EDITABLE,
    SEARCHABLE,
    LibraryError,
    add_document,
    list_documents,
    recover,
    remove_document,
)
from indexer.loader import CorpusError
from kb.core.logs import configure as configure_logging
from kb.core.settings import settings

LABELS = {"title": "标题", "issuer": "发文机关", "doc_number": "文号", "date": "日期", "level": "层级",
          "region": "地区", "doc_type": "文种"}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", help="语料目录（默认 corpus/ 或环境变量 CORPUS_DIR）")
    common.add_argument("--kb", help="知识库目录（默认 data/kb 或环境变量 KB_DIR）")
    parser = argparse.ArgumentParser(prog="python -m indexer", description="建立与维护政策文件知识库")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", parents=[common], help="从语料目录建立知识库（内容未变时跳过）")
    b.add_argument("--force", action="store_true", help="即使语料未变化也重新组装索引（未变的文档沿用缓存向量）")
    a = sub.add_parser("add", parents=[common], help="加入一篇文档（.txt .md .docx .pdf .html .doc）并更新索引")
    a.add_argument("file", help="文档文件")
    a.add_argument("--replace", metavar="DOC_ID", help="新文档替代的旧版本：旧版本保留并标记为“被替代”")
    a.add_argument("--doc-id", help="文档标识（默认取文件名）")
    for field in EDITABLE:
        a.add_argument(f"--{field.replace('_', '-')}", help=f"{LABELS[field]}（默认从正文识别）")
    r = sub.add_parser("remove", parents=[common], help="删除一篇文档（文件移到 <知识库>/removed/）并更新索引")
    r.add_argument("doc_id")
    ls = sub.add_parser("list", parents=[common], help="列出文档及其元数据")
    ls.add_argument("--json", action="store_true", help="输出 JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    try:
        s = settings(kb_dir=args.kb, corpus_dir=args.corpus)
    except ValueError as e:  # a bad setting (KB_BACKEND, PASSAGE_ENGINE …): the message names it and its choices
        print(f"错误：{e}", file=sys.stderr)
        return 2
    try:
        recover(s)  # what a killed add or remove left behind is undone (or finished) first; it says so on stderr
        if args.command == "build":
            print(build(s, force=args.force))
        elif args.command == "add":
            meta = {f: getattr(args, f) for f in EDITABLE} | {"doc_id": args.doc_id}
            t0 = time.perf_counter()
            m = add_document(s, Path(args.file), meta=meta, replace=args.replace, finish=False)
            print(f"已加入：{m.doc_id}《{m.title}》" + (f"，替代 {args.replace}" if args.replace else "")
                  + f"（用时 {time.perf_counter() - t0:.1f} 秒）", flush=True)
            if pending(s):  # staged: searchable now, its vectors next (a kill here leaves a valid KB)
                print(SEARCHABLE, flush=True)
                complete(s)
                print(f"语义向量已完成，知识库已更新（共用时 {time.perf_counter() - t0:.1f} 秒）", flush=True)
        elif args.command == "remove":
            m = remove_document(s, args.doc_id)
            print(f"已删除：{m.doc_id}《{m.title}》（原文件已移到 {s.kb_dir / 'removed'}）")
        else:
            docs = list_documents(s)
            if args.json:
                print(json.dumps([d.model_dump() for d in docs], ensure_ascii=False, indent=1))
            for d in docs if not args.json else []:
                state = d.validity + (f"→{d.replaced_by}" if d.replaced_by else "")
                print(f"{d.doc_id}\t《{d.title}》\t{d.level or '-'}\t{d.doc_number or '-'}\t{d.date or '-'}\t{state}")
    except (CorpusError, LibraryError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
