"""The command-line contract of ../shared/interfaces.md §1-2, run as a user would run it."""
import json
import os
import subprocess
import sys
from pathlib import Path

from kb.core.records import AnswerRecord

REPO = Path(__file__).resolve().parents[2]


def run(args, kb_dir, **kw):
    env = dict(os.environ, KB_DIR=str(kb_dir), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "kb", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def test_ask_json_is_a_valid_answer_record(kb, kb_dir):
    out = run(["ask", "--json", "到2025年全省新能源汽车产量目标是多少？"], kb_dir)
    assert out.returncode == 0, out.stderr
    rec = AnswerRecord.model_validate_json(out.stdout)
    assert "60万辆" in rec.answer and not rec.refused
    assert rec.citations[0].doc_id == "zhejiang-nev-14th-fyp-2021"
    assert rec.citations[0].section == "二、总体思路与发展目标 > （三）发展目标"
    assert len(rec.retrieved) >= 10 and rec.latency_ms > 0


def test_ask_human_readable(kb, kb_dir):
    out = run(["ask", "--kb", str(kb_dir), "到2025年要建成多少座加氢站？"], kb_dir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("答：") and "30座" in out.stdout and "引用：" in out.stdout


def test_ask_empty_question_is_a_clear_error(kb, kb_dir):
    out = run(["ask", "   "], kb_dir)
    assert out.returncode == 2 and "问题为空" in out.stderr and "Traceback" not in out.stderr


def test_batch_keeps_order_and_reports_bad_lines(kb, kb_dir, tmp_path):
    lines = [
        json.dumps({"id": "a", "question": "到2025年要建成多少座加氢站？"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "c", "question": "2030年全省新能源汽车产量目标是多少？"}, ensure_ascii=False),
        json.dumps({"id": "d"}),
        json.dumps({"id": "e", "question": "由哪个部门牵头统筹推进新能源汽车发展工作？"}, ensure_ascii=False),
    ]
    f = tmp_path / "q.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = run(["ask", "--batch", str(f)], kb_dir)
    recs = [AnswerRecord.model_validate_json(line) for line in out.stdout.splitlines()]
    assert [r.id for r in recs] == ["a", "line-2", "c", "d", "e"]
    assert recs[1].error and recs[3].error and not recs[0].error and not recs[4].error
    assert "30座" in recs[0].answer and recs[2].refused and "省发展改革委" in recs[4].answer
    assert out.returncode == 1 and "2 行未能回答" in out.stderr


def test_batch_all_good_exits_zero(kb, kb_dir, tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text(json.dumps({"id": "x", "question": "加氢站"}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = run(["ask", "--batch", str(f)], kb_dir)
    assert out.returncode == 0, out.stderr


def test_batch_invalid_utf8_costs_only_its_line(kb, kb_dir, tmp_path):
    """A line saved in GBK among UTF-8 lines: one record per line, `error` on that one, exit 1 — not a traceback."""
    good = [{"id": "a", "question": "到2025年要建成多少座加氢站？"},
            {"id": "c", "question": "由哪个部门牵头统筹推进新能源汽车发展工作？"}]
    gbk = json.dumps({"id": "b", "question": "到2025年全省新能源汽车产量目标是多少？"}, ensure_ascii=False)
    f = tmp_path / "q.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(good[0], ensure_ascii=False).encode() + b"\n"  # a BOM, as Notepad saves
                  + gbk.encode("gbk") + b"\n" + json.dumps(good[1], ensure_ascii=False).encode() + b"\n")
    for args, stdin in ((["--batch", str(f)], None), (["--batch", "-"], f.read_bytes())):
        out = subprocess.run([sys.executable, "-m", "kb", "ask", *args], cwd=REPO, input=stdin, capture_output=True,
                             env=dict(os.environ, KB_DIR=str(kb_dir), PYTHONPATH=str(REPO)), timeout=300)
        stderr = out.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr
        recs = [AnswerRecord.model_validate_json(line) for line in out.stdout.decode("utf-8").splitlines()]
        assert [r.id for r in recs] == ["a", "line-2", "c"]
        assert "UTF-8" in recs[1].error and recs[1].refused
        assert recs[0].error is None and "30座" in recs[0].answer
        assert recs[2].error is None and "省发展改革委" in recs[2].answer
        assert out.returncode == 1 and "1 行未能回答" in stderr
