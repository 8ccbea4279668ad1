"""The package's layers depend one way: each module imports only from layers below its own (or its own package).

    0 kb.core        records, settings, text utilities (normal forms, sentences, figures, time, places), jieba
    1 kb.embed       text → vectors
    2 kb.store       a KB on disk: reading and writing it, tables, per-document artifacts
    3 indexer        files → artifacts → a KB (through kb.store)       | kb.retrieval  BM25 + dense, fusion, filters
    4 kb.answer      question analysis, answer strategies              | kb.eligibility  profile matching
    5 kb.service     opens or builds a KB (knows the indexer and the answerer); indexer.library adds/removes files
    6 kb.cli, indexer.__main__, webui                                  (command lines, web UI)
    7 kb.__main__, app, eval, bench                                    (entry points, measurement)

Modules on one layer in different packages (indexer and kb.retrieval) must not import each other either.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS: list[tuple[str, ...]] = [
    ("kb.core",),
    ("kb.embed",),
    ("kb.store",),
    ("indexer", "kb.retrieval"),
    ("kb.answer", "kb.eligibility"),
    ("kb.service", "indexer.library"),
    ("kb.cli", "indexer.__main__", "webui"),
    ("kb.__main__", "app", "eval", "bench"),
]
PACKAGES = ("kb", "indexer", "webui", "eval", "bench", "app")


def _group(module: str) -> tuple[int, str] | None:
    """(layer, the prefix that placed it): the longest matching prefix decides (indexer.library is not indexer)."""
    best = None
    for layer, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > len(best[1])):
                best = (layer, p)
    return best


def _modules() -> dict[str, Path]:
    out = {"app": REPO / "app.py"}
    for pkg in ("kb", "indexer", "webui", "eval", "bench"):
        for path in (REPO / pkg).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import statement, nested ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")[: len(module.split(".")) - node.level + 1]
                base = ".".join(pkg + ([base] if base else []))
            out.append((base, [a.name for a in node.names], node.lineno))
    return out


MODULES = _modules()


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "kb"))
def test_imports_point_down(module):
    here = _group(module)
    assert here is not None, f"{module} is on no layer: add it to LAYERS"
    bad = []
    for target, names, line in _imports(MODULES[module], module):
        # "from kb.store import files" imports the module kb.store.files
        candidates = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES] or [target]
        for t in candidates:
            if t.split(".")[0] not in PACKAGES or t == "kb":
                continue
            there = _group(t)
            if there is None:
                continue
            if there[1] != here[1] and there[0] >= here[0]:
                bad.append(f"line {line}: {module} (layer {here[0]}) imports {t} (layer {there[0]})")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_across_modules(module):
    """A module uses another module's public names only: `from x import _y` means _y should be public."""
    bad = [f"line {line}: from {target} import {n}" for target, names, line in _imports(MODULES[module], module)
           if target.split(".")[0] in PACKAGES and target != module
           for n in names if n.startswith("_") and not n.startswith("__")]
    assert not bad, "\n".join(bad)
