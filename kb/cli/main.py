"""Command line of the knowledge base: `python -m kb ask …` (see ../shared/interfaces.md §1)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kb.cli.eligibility import add_eligibility_parser, run_eligibility
from kb.cli.tables import add_tables_parser, run_tables
from kb.core.logs import configure as configure_logging
from kb.core.records import AnswerRecord


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--kb", help="知识库目录（默认 data/kb 或环境变量 KB_DIR）")
    parser = argparse.ArgumentParser(prog="python -m kb", description="政策文件知识库（新能源汽车）")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", parents=[common], help="提问，回答附带原文引用")
    ask.add_argument("question", nargs="?", help="问题")
    ask.add_argument("--json", action="store_true", help="输出一条 JSON 回答记录")
    ask.add_argument("--batch", metavar="FILE", help="JSONL 文件，每行 {\"id\": …, \"question\": …}；输出 JSONL")
    ask.add_argument("--filter", action="append", metavar="KEY=VALUE",
                     help="只从符合条件的文档回答，可重复：level=省级 region=杭州 issuer=… doc_type=规划 "
                          "date_from=2020-01-01 date_to=2021 validity=现行|被替代|废止|全部（默认只用现行文件）")
    add_tables_parser(sub, parents=[common])
    add_eligibility_parser(sub, parents=[common])
    return parser


def format_record(rec: AnswerRecord) -> str:
    """Human-readable answer: the answer, then each cited clause with its document and section."""
    lines = [f"答：{rec.answer}"]
    if rec.citations:
        lines.append("引用：")
        for i, c in enumerate(rec.citations, start=1):
            where = "".join(f"（{x}）" for x in (c.level, f"第{c.page}页" if c.page else "") if x)
            lines += [f"  [{i}] 《{c.doc_title}》{where} {c.section}", f"      “{c.quote}”"]
    if rec.related:
        lines.append("相关条款（仅供参考，并非上述问题的答案）：")
        for c in rec.related:
            lines += [f"  - 《{c.doc_title}》 {c.section}", f"      “{c.quote}”"]
    return "\n".join(lines)


def _batch_lines(path: str):
    """(id, question, error) per non-empty input line; a malformed line yields an error, not an exception.

    The input is read as bytes and each line decoded on its own: one undecodable byte (a file saved in GBK, a
    truncated upload) then costs that line only, instead of a decoding error that ends the whole batch."""
    fh = sys.stdin.buffer if path == "-" else open(path, "rb")
    with fh:
        for n, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")  # a leading BOM (Windows editors) is no text
            except UnicodeDecodeError as e:
                yield f"line-{n}", "", f"第 {n} 行不是有效的 UTF-8 文本（第 {e.start + 1} 个字节起无法解码），请以 UTF-8 保存"
                continue
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as e:
                yield f"line-{n}", "", f"第 {n} 行不是有效的 JSON：{e.msg}"
                continue
            if not isinstance(item, dict):
                yield f"line-{n}", "", f"第 {n} 行应为 JSON 对象"
                continue
            qid = str(item.get("id", f"line-{n}"))
            question = item.get("question")
            if not isinstance(question, str):
                yield qid, "", f"第 {n} 行缺少字符串字段 \"question\""
                continue
            yield qid, question, None


def ask_command(args) -> int:
    from kb.retrieval.filters import FilterError, parse_filters
    from kb.service import KnowledgeBase, QuestionError, check_question
    from kb.store.milvus import MilvusStoreError

    try:
        filters = parse_filters(args.filter)
    except FilterError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    if not args.batch:
        if args.question is None:
            print("错误：请给出问题，或用 --batch FILE 批量提问。", file=sys.stderr)
            return 2
        try:
            check_question(args.question)
        except QuestionError as e:
            print(f"错误：{e}", file=sys.stderr)
            return 2
    elif args.batch != "-" and not Path(args.batch).is_file():
        print(f"错误：找不到批量问题文件 {args.batch}", file=sys.stderr)
        return 2

    try:
        kb = KnowledgeBase.open(kb_dir=args.kb, warm=bool(args.batch))
    except MilvusStoreError as e:  # KB_BACKEND=milvus and Milvus cannot be opened (e.g. a Lite file in use)
        print(f"错误：{e}", file=sys.stderr)
        return 2
    if not args.batch:
        rec = kb.ask(args.question, filters=filters)
        print(rec.model_dump_json() if args.json else format_record(rec))
        return 0
    failed = 0
    for qid, question, error in _batch_lines(args.batch):
        rec = AnswerRecord(id=qid, question=question, answer=error, refused=True, error=error) if error \
            else kb.ask(question, id=qid, filters=filters)
        failed += rec.error is not None
        print(rec.model_dump_json(), flush=True)
    if failed:
        print(f"{failed} 行未能回答（见各记录的 error 字段）", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    from kb.core.settings import settings

    try:
        s = settings(kb_dir=getattr(args, "kb", None))
    except ValueError as e:  # a bad setting (KB_BACKEND, PASSAGE_ENGINE …): the message names it and its choices
        print(f"错误：{e}", file=sys.stderr)
        return 2
    if args.command == "ask":
        return ask_command(args)
    if args.command == "tables":
        from kb.store.files import current_dir

        return run_tables(args, current_dir(s.kb_dir))
    if args.command == "eligibility":
        return run_eligibility(args)
    return 2


def entry() -> int:
    """`python -m kb`: main() with a closed pipe (`… | head`) treated as the reader having gone, not an error."""
    try:
        return main()
    except BrokenPipeError:
        sys.stderr.close()
        return 0
