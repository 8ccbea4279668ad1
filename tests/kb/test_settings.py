"""Settings read from the environment: the passage engine and a clear error for a value that is not one."""
import os
import subprocess
import sys

import pytest

from kb.core.settings import REPO, settings


def test_the_passage_engine_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("PASSAGE_ENGINE", raising=False)
    assert settings().passages.engine == "onnx"
    monkeypatch.setenv("PASSAGE_ENGINE", " Full ")
    assert settings().passages.engine == "full"
    assert settings().parameters()["passages"]["engine"] == "full"  # in every eval and bench report


def test_an_unknown_passage_engine_names_the_choices(monkeypatch):
    monkeypatch.setenv("PASSAGE_ENGINE", "torch")
    with pytest.raises(ValueError, match="PASSAGE_ENGINE='torch'，可选：onnx、full"):
        settings()


def test_passage_vectors_setting(monkeypatch):
    monkeypatch.delenv("PASSAGE_VECTORS", raising=False)
    assert settings().passages.vectors == "separate"
    monkeypatch.setenv("PASSAGE_VECTORS", " Late ")
    assert settings().passages.vectors == "late"
    assert settings().parameters()["passages"]["vectors"] == "late"  # in every eval and bench report
    monkeypatch.setenv("PASSAGE_VECTORS", "mean")
    with pytest.raises(ValueError, match="PASSAGE_VECTORS='mean'，可选：separate、pooled、late"):
        settings()


def test_the_indexer_cli_says_what_is_wrong_with_a_setting(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PASSAGE_ENGINE": "torch"}
    out = subprocess.run([sys.executable, "-m", "indexer", "list", "--kb", str(tmp_path / "kb")], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == "错误：未知的段落向量引擎 PASSAGE_ENGINE='torch'，可选：onnx、full"
    assert not (tmp_path / "kb").exists()  # nothing was touched


def test_the_kb_cli_says_what_is_wrong_with_a_setting(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "KB_BACKEND": "elastic"}
    out = subprocess.run([sys.executable, "-m", "kb", "ask", "测试", "--kb", str(tmp_path / "kb")], cwd=REPO, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().startswith("错误：未知的检索后端 KB_BACKEND='elastic'，可选：")
    assert not (tmp_path / "kb").exists()
