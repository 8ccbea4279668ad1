"""Shared fixtures (one real knowledge base, built once per session from corpus/ with the real model) and the two
test speeds: `-m "not slow"` runs what needs no model and no KB (under a minute); the default runs everything."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# A test is slow when it needs the embedding model or a built KB (directly or through these fixtures), a browser,
# or CLI processes that load the model; such tests are marked here so no test file has to remember to.
SLOW_FIXTURES = {"kb", "fictional_kb", "tables", "kb_dir", "lib", "lib_kb", "app_url", "client", "chat", "model_dir",
                 "embedder", "model", "matcher", "built", "reference_model", "milvus_kb",
                 "law_matcher_warm"}
SLOW_MODULES = {"tests.indexer.test_convert_e5", "tests.indexer.test_vectors", "tests.kb.test_embed",
                "tests.kb.test_store", "tests.kb.test_cli",
                "tests.bench.test_bench", "tests.bench.test_load", "tests.webui.test_startup",
                "tests.indexer.test_library", "tests.test_app", "tests.webui.test_library_tab",
                "tests.reliability.test_cli", "tests.reliability.test_soak",
                "tests.kb.test_dictionary", "tests.webui.test_gradio_stubs"}  # loads jieba's whole dictionary and writes it to SQLite twice


def pytest_collection_modifyitems(config, items):
    # Soak runs take minutes: they run only when asked for by name (`-m soak`).
    soak_asked = "soak" in (config.getoption("markexpr", "") or "")
    for item in items:
        module = getattr(item.module, "__name__", "")
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("soak") and not soak_asked:
            item.add_marker(pytest.mark.skip(reason="soak run: select it with -m soak"))


@pytest.fixture(scope="session")
def kb_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kb")


@pytest.fixture(scope="session")
def kb(kb_dir):
    from kb.service import KnowledgeBase

    return KnowledgeBase.open(kb_dir=kb_dir, corpus_dir=REPO / "corpus")
