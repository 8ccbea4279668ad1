"""Faults of the library's command line, run as real `python -m indexer` processes and killed with SIGKILL.

A killed add or remove must leave the corpus, manifest and KB exactly as they were (or, once its KB was in place,
finish), and the next command must clean up what the dead process left. Unsafe document ids and content already
in the library are refused without changing anything. The corpus is the fictional test documents; the document
added is a real regulation from eval/corpus.
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.library import LibraryError, check_doc_id
from tests.fixtures.docs import write_fictional

REPO = Path(__file__).resolve().parents[2]
NEW = REPO / "eval" / "corpus" / "end-of-life-vehicle-recycling-measures-2019.md"
NEW_ID = NEW.stem
ENV = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-faults")
    write_fictional(root / "corpus")
    where = ["--corpus", str(root / "corpus"), "--kb", str(root / "kb")]
    out = indexer("build", *where)
    assert out.returncode == 0, out.stderr
    return root / "corpus", root / "kb", where


def indexer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=900)


def kill_at(marker: str, *args: str, env: dict | None = None) -> list[str]:
    """Start `indexer …`, SIGKILL it as soon as its progress on stderr shows `marker`; its stderr lines."""
    p = subprocess.Popen([sys.executable, "-m", "indexer", *args], cwd=REPO, env=env or ENV, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in p.stderr:
            lines.append(line)
            if marker in line:
                p.send_signal(signal.SIGKILL)
                break
    finally:
        p.kill()
        p.wait()
    assert p.returncode == -signal.SIGKILL and marker in "".join(lines), "".join(lines)
    return lines


def state(corpus: Path, kb: Path) -> tuple:
    """What a user sees: the corpus's documents and manifest (bytes) and the KB build in use."""
    visible = sorted((p.name, p.read_bytes()) for p in corpus.iterdir() if not p.name.startswith("."))
    return visible, (kb / "current").resolve()


def debris(corpus: Path) -> list[str]:
    return sorted(p.name for p in corpus.iterdir() if p.name.startswith("."))


def listed(where: list[str]) -> set[str]:
    out = indexer("list", "--json", *where)
    assert out.returncode == 0, out.stderr
    return {d["doc_id"] for d in json.loads(out.stdout)}


# While reading and parsing the file, while the KB is being assembled, and (an add not staged, STAGED_ADD=0) while
# embedding it inside the transaction. A staged add embeds after it: test_add_killed_between_its_stages below.
@pytest.mark.parametrize("marker, staged", [("读取文本", "1"), ("合并索引", "1"), ("计算句子向量", "0")])
def test_killed_add_leaves_everything_as_it_was(lib, marker, staged):
    corpus, kb, where = lib
    before, ids = state(corpus, kb), listed(where)
    kill_at(marker, "add", str(NEW), *where, env={**ENV, "STAGED_ADD": staged})
    assert state(corpus, kb) == before  # not in the corpus, not in the manifest, the same KB
    assert listed(where) == ids  # the next command does not index it either...
    assert debris(corpus) == []  # ...and removes what the dead process left
    assert state(corpus, kb) == before


def test_killed_remove_leaves_everything_as_it_was(lib):
    corpus, kb, where = lib
    before, ids = state(corpus, kb), listed(where)
    kill_at("合并索引", "remove", "test-county-notice-2097", *where)
    assert state(corpus, kb) == before
    assert listed(where) == ids and debris(corpus) == [] and state(corpus, kb) == before
    assert not list((kb / "removed").glob("*test-county-notice-2097*"))


def test_add_killed_after_the_kb_switched_is_finished_by_the_next_command(lib):
    """The last moment: the new KB is in place and the corpus is being moved to match it (its intent written)."""
    corpus, kb, where = lib
    stage = corpus / ".staging" / "999999"  # a proposal of a process that no longer exists
    stage.mkdir(parents=True)
    (stage / NEW.name).write_bytes(NEW.read_bytes())
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8")) \
        if (corpus / "manifest.json").exists() else []
    (stage / "manifest.json").write_text(json.dumps(manifest + [{"file": NEW.name, "doc_id": NEW_ID}]),
                                         encoding="utf-8")
    (corpus / NEW.name).unlink(missing_ok=True)
    (stage / "commit.json").write_text(json.dumps([[str(stage / NEW.name), str(corpus / NEW.name)],
                                                   [str(stage / "manifest.json"), str(corpus / "manifest.json")]]))
    assert NEW_ID in listed(where)
    assert (corpus / NEW.name).read_bytes() == NEW.read_bytes() and debris(corpus) == []
    out = indexer("remove", NEW_ID, *where)
    assert out.returncode == 0, out.stderr
    assert NEW_ID not in listed(where) and not (corpus / NEW.name).exists()


def test_add_killed_between_its_stages_leaves_a_valid_kb_that_the_next_build_completes(lib):
    """Killed while embedding (after its transaction): the document is in the library and searchable by keywords,
    its vectors pending; `kb ask` answers about it; `indexer build` embeds it and clears the pending list."""
    corpus, kb, where = lib
    ids = listed(where)
    law = REPO / "eval" / "corpus" / "environmental-protection-tax-law-2018.md"  # text the vector memo does not know
    kill_at("计算句子向量", "add", str(law), *where)
    assert listed(where) == ids | {law.stem} and debris(corpus) == [] and (corpus / law.name).exists()
    meta = json.loads((kb / "current" / "meta.json").read_text(encoding="utf-8"))
    assert meta["pending"] == [law.stem]
    ask = subprocess.run([sys.executable, "-m", "kb", "ask", "--json", "--kb", str(kb),
                          "环境保护税法第二条是怎么规定的？"], cwd=REPO, env=ENV, capture_output=True, text=True)
    assert ask.returncode == 0, ask.stderr
    rec = json.loads(ask.stdout)
    assert "直接向环境排放应税污染物" in rec["answer"] and {c["doc_id"] for c in rec["citations"]} == {law.stem}
    out = indexer("build", *where)
    assert out.returncode == 0, out.stderr
    assert "计算句子向量" in out.stderr  # the pending document embedded by the build
    assert json.loads((kb / "current" / "meta.json").read_text(encoding="utf-8"))["pending"] == []
    assert indexer("remove", law.stem, *where).returncode == 0
    assert listed(where) == ids


def test_cli_add_says_when_each_stage_finished(lib):
    corpus, kb, where = lib
    law = REPO / "eval" / "corpus" / "zhejiang-renewable-energy-regulations-2021.md"  # text the memo does not know
    out = indexer("add", str(law), *where)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith(f"已加入：{law.stem}《") and "用时" in lines[0]
    assert lines[1] == "已可检索（关键词检索），正在计算语义向量…" and lines[2].startswith("语义向量已完成")
    assert json.loads((kb / "current" / "meta.json").read_text(encoding="utf-8"))["pending"] == []
    assert indexer("remove", law.stem, *where).returncode == 0


def test_add_completes_after_the_kills_and_a_second_copy_is_refused(lib, tmp_path):
    corpus, kb, where = lib
    ids = listed(where)
    out = indexer("add", str(NEW), *where)
    assert out.returncode == 0, out.stderr
    assert listed(where) == ids | {NEW_ID} and debris(corpus) == []
    meta = json.loads((kb / "current" / "meta.json").read_text(encoding="utf-8"))
    assert meta["corpus_dir"] == str(corpus.resolve())  # built from the proposal, it records the real corpus

    # The same bytes under another name, and the same text re-encoded (GB18030, CRLF): refused, nothing changed.
    copy = tmp_path / "copy.md"
    copy.write_bytes(NEW.read_bytes())
    recoded = tmp_path / "recoded.txt"
    recoded.write_bytes(NEW.read_text(encoding="utf-8").replace("\n", "\r\n").encode("gb18030"))
    before = state(corpus, kb)
    for f in (copy, recoded):
        out = indexer("add", str(f), *where)
        assert out.returncode == 2 and "完全相同" in out.stderr and f"--replace {NEW_ID}" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
    assert state(corpus, kb) == before and debris(corpus) == []
    out = indexer("remove", NEW_ID, *where)
    assert out.returncode == 0, out.stderr
    assert listed(where) == ids


@pytest.mark.parametrize("bad", ["../../evil", "..", ".hidden", "a/b", "a\\b", "-x", "a b", "x" * 101, "a..b", ""])
def test_unsafe_doc_ids_are_refused(bad):
    with pytest.raises(LibraryError, match="文档标识"):
        check_doc_id(bad)


@pytest.mark.parametrize("good", ["zhejiang-nev-14th-fyp-2021", "浙江省新能源汽车规划", "law_2018.v2", "A1"])
def test_safe_doc_ids_are_accepted(good):
    assert check_doc_id(good) == good


def test_cli_refuses_a_traversing_doc_id(lib):
    corpus, kb, where = lib
    before = state(corpus, kb)
    out = indexer("add", str(NEW), "--doc-id", "../../evil", *where)
    assert out.returncode == 2 and "文档标识" in out.stderr and "Traceback" not in out.stderr
    assert state(corpus, kb) == before and debris(corpus) == []
    assert not list(corpus.parent.rglob("evil*"))
