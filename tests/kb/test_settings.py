"""Settings read from the environment: the passage engine and a clear error for a value that is not one."""
import os
import subprocess
import sys

import pytest

from kb.core.settings import REPO, settings


@pytest.mark.parametrize("var, field, default, given, value, bad, choices", [
    ("PASSAGE_ENGINE", "engine", "onnx", " Full ", "full", "torch", "onnx、full"),
    ("PASSAGE_VECTORS", "vectors", "separate", " Late ", "late", "mean", "separate、pooled、late"),
])
def test_a_passage_setting_comes_from_the_environment(monkeypatch, var, field, default, given, value, bad, choices):
    monkeypatch.delenv(var, raising=False)
    assert getattr(settings().passages, field) == default
    monkeypatch.setenv(var, given)
    assert getattr(settings().passages, field) == value
    assert settings().parameters()["passages"][field] == value  # in every eval and bench report
    monkeypatch.setenv(var, bad)  # a value that is not one names the choices
    with pytest.raises(ValueError, match=f"{var}='{bad}'，可选：{choices}"):
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
