"""The KB's exact vector rows (vectors.npy), read from the file on demand instead of memory-mapped.

A memory map looked free, but the kernel maps 16 neighbouring pages around every page touched (fault-around): the
few hundred rows an IVF search re-scores per question put the whole 0.5 GB file (SYNTHETIC 100k chunks) in the
process's RSS within ~50 questions (measured: +510 MB; madvise(RANDOM) does not stop it). pread of the rows asked
for costs ~1.5 ms per 200 rows and keeps the RSS flat.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

BLOCK_ROWS = 8192  # rows read at a time by whole-matrix operations (12 MB at 384 dimensions)


class _File:
    """The open file, shared by a matrix and its views; closed when the last of them goes."""

    def __init__(self, path: Path):
        m = np.load(path, mmap_mode="r")  # only to read the header: unmapped again at once
        if m.dtype != np.float32 or m.ndim != 2 or not m.flags.c_contiguous:
            raise ValueError(f"{path}: not a C-ordered float32 matrix")
        self.offset, self.shape = m.offset, m.shape
        del m
        self.fd = os.open(path, os.O_RDONLY)

    def __del__(self):
        os.close(self.fd)


class Rows:
    """Read-only rows of a float32 .npy matrix, indexed like the array: `rows[i]`, `rows[sorted_ids]` and
    `rows[a:b]` (a view); `rows @ v` and `np.asarray(rows)` read it in blocks."""

    def __init__(self, path: Path, start: int = 0, stop: int | None = None, _file: _File | None = None):
        self._file = _file or _File(path)
        self.path = Path(path)
        self.dim = self._file.shape[1]
        self.start, self.stop = start, self._file.shape[0] if stop is None else stop
        self.dtype = np.dtype(np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.stop - self.start, self.dim)

    def __len__(self) -> int:
        return self.stop - self.start

    def _read(self, first: int, n: int) -> np.ndarray:
        size = self.dim * 4
        buf = os.pread(self._file.fd, n * size, self._file.offset + (self.start + first) * size)
        if len(buf) != n * size:
            raise OSError(f"{self.path}: short read")
        return np.frombuffer(buf, dtype=np.float32).reshape(n, self.dim)

    def __getitem__(self, key):
        if isinstance(key, slice):
            first, last, step = key.indices(len(self))
            if step != 1:
                raise IndexError("Rows: only contiguous slices")
            return Rows(self.path, self.start + first, self.start + max(first, last), self._file)
        if isinstance(key, (int, np.integer)):
            i = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(key)
            return self._read(i, 1)[0]
        ids = np.asarray(key, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise IndexError("Rows: row out of range")
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        # One read per run of consecutive rows (pread is thread-safe: no shared file position).
        breaks = np.flatnonzero(np.diff(ids) != 1) + 1
        for first, last in zip(np.r_[0, breaks].tolist(), np.r_[breaks, len(ids)].tolist()):
            out[first:last] = self._read(int(ids[first]), last - first)
        return out

    def blocks(self):
        for first in range(0, len(self), BLOCK_ROWS):
            yield self._read(first, min(BLOCK_ROWS, len(self) - first))

    def __array__(self, dtype=None, copy=None):
        out = np.concatenate(list(self.blocks())) if len(self) else np.zeros((0, self.dim), np.float32)
        return out if dtype is None else out.astype(dtype)

    def __matmul__(self, other):
        other = np.asarray(other)
        parts = [b @ other for b in self.blocks()]
        return np.concatenate(parts) if parts else np.zeros((0,) + other.shape[1:], dtype=np.float32)
