"""Shared fixtures: one real knowledge base, built once per test session from corpus/ with the real model."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kb_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kb")


@pytest.fixture(scope="session")
def kb(kb_dir):
    from kb.service import KnowledgeBase

    return KnowledgeBase.open(kb_dir=kb_dir, corpus_dir=REPO / "corpus")
