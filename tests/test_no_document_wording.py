"""No document's wording in code: no string literal in kb/ or indexer/ contains a run of six or more Chinese
characters that occurs verbatim in a corpus document (the plan, or the real texts of eval/corpus/). Domain
vocabulary belongs in kb/data/ lexicons, each with a note on its origin."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN = re.compile(r"[\u3400-\u9fff]{6,}")
MIN = 6


def _documents() -> str:
    files = list((REPO / "corpus").glob("*.txt")) + list((REPO / "eval" / "corpus").glob("*.md"))
    return "\n".join(re.sub(r"\s+", "", f.read_text(encoding="utf-8")) for f in files)


def _literals(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_string_literal_copies_a_document():
    docs = _documents()
    found = []
    for folder in ("kb", "indexer"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for line, value in _literals(path):
                for run in RUN.findall(value):
                    # every 6-character window of the run: a phrase copied from a document shows up as one
                    hits = {run[i : i + MIN] for i in range(len(run) - MIN + 1) if run[i : i + MIN] in docs}
                    if hits:
                        found.append(f"{path.relative_to(REPO)}:{line}: {run} (in a document: {sorted(hits)[0]})")
    assert not found, "string literals that quote a corpus document:\n" + "\n".join(found)
