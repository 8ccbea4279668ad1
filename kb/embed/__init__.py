"""Embedders: text → L2-normalised float32 vectors. The heavy stack (torch, sentence-transformers) is imported only
by `kb.embed.encoder`, which nothing imports until a vector is really needed."""
from __future__ import annotations

from kb.core.settings import Settings


class LazyEmbedder:
    """Loads the model only when something really needs embedding (removing a document needs none)."""

    def __init__(self, s: Settings, model=None):
        self.s = s
        self._model = model

    def get(self):
        if self._model is None:
            from kb.embed.encoder import Embedder  # heavy import (torch)

            self._model = Embedder.from_settings(self.s)
        return self._model
