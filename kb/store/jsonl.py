"""JSON Lines of pydantic records: how a KB stores documents, paragraphs, chunks and provisions."""
from __future__ import annotations

from pathlib import Path


def write_jsonl(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(r.model_dump_json() + "\n")


def read_jsonl(path: Path, model) -> list:
    with open(path, encoding="utf-8") as fh:
        return [model.model_validate_json(line) for line in fh if line.strip()]
