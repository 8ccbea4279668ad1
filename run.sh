#!/usr/bin/env bash
# One entry point for set-up and use on a fresh machine:
#   ./run.sh app     create .venv if missing, build the knowledge base if missing or stale, start the chat
#   ./run.sh test    create .venv if missing, run the test suite
#   ./run.sh eval | bench | kb … | indexer …   the eval scorer, the benchmark, the two CLIs
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
PY=$VENV/bin/python

setup() {
  if [ ! -x "$PY" ]; then
    echo "创建虚拟环境 $VENV …" >&2
    "${PYTHON:-python3}" -m venv "$VENV"
  fi
  # Reinstall only when requirements.txt changed since the last successful install.
  local want; want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "安装依赖（torch 先装，固定为本地 CPU 版）…" >&2
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q torch==2.13.0
    "$PY" -m pip install -q -r requirements.txt
    echo "$want" > "$VENV/.requirements.sha256"
  fi
}

browser() {
  # The web app's end-to-end tests drive Debian's chromium; a CJK font makes the screenshots readable.
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "安装浏览器测试所需的 chromium 与中文字体 …" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
    else
      echo "提示：未安装 chromium（需要 root 执行 apt-get install chromium fonts-wqy-zenhei），浏览器测试将跳过。" >&2
    fi
  fi
}

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false
cmd=${1:-app}; shift || true
setup
case "$cmd" in
  app)     exec "$PY" app.py "$@" ;;
  test)    browser; exec "$PY" -m pytest -q "$@" ;;
  eval)    exec "$PY" -m eval "$@" ;;
  bench)   exec "$PY" -m bench "$@" ;;
  kb)      exec "$PY" -m kb "$@" ;;
  indexer) exec "$PY" -m indexer "$@" ;;
  *) echo "用法：./run.sh app|test|eval|bench|kb …|indexer …" >&2; exit 2 ;;
esac
