"""Sorted runs on disk: sorting more rows than fit in memory (an external merge sort).

Rows are collected up to :data:`RUN_ROWS`, sorted, and written to a temporary file in small
pickled chunks; :func:`merge` then streams every run back in one sorted order. Memory stays
bounded by the run size and one chunk per run, whatever the number of rows.
"""

from __future__ import annotations

import heapq
import os
import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

RUN_ROWS = 100_000
"""Rows sorted in memory before they are written out as one run."""

CHUNK_ROWS = 1_000
"""Rows per pickled chunk inside a run (what a reader holds per run)."""


class RunWriter:
    """Collects rows and writes them out as sorted runs.

    Args:
        folder: where the run files go.
        prefix: file name prefix (unique per writer).
        limit: rows per run.
    """

    def __init__(self, folder: Path, prefix: str, limit: int = RUN_ROWS) -> None:
        self.folder = folder
        self.prefix = prefix
        self.limit = limit
        self.rows: list[Any] = []
        self.paths: list[Path] = []
        self.count = 0

    def add(self, row: Any) -> None:
        """Add a row; a full buffer is sorted and written."""
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.limit:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered as one sorted run."""
        if not self.rows:
            return
        self.rows.sort()
        path = self.folder / f"{self.prefix}-{len(self.paths):05d}.run"
        write_run(path, self.rows)
        self.paths.append(path)
        self.rows = []

    def close(self) -> list[Path]:
        """Write the rest and return every run written."""
        self.flush()
        return self.paths


def write_run(path: Path, rows: list[Any]) -> None:
    """Write already sorted rows as a run file."""
    with path.open("wb") as f:
        for start in range(0, len(rows), CHUNK_ROWS):
            pickle.dump(rows[start : start + CHUNK_ROWS], f, protocol=pickle.HIGHEST_PROTOCOL)


def read_run(path: Path) -> Iterator[Any]:
    """Stream the rows of one run in order."""
    with path.open("rb") as f:
        while True:
            try:
                chunk = pickle.load(f)
            except EOFError:
                return
            yield from chunk


def merge(paths: Iterable[Path]) -> Iterator[Any]:
    """Stream the rows of several runs in one sorted order."""
    return heapq.merge(*(read_run(p) for p in paths))


def remove(paths: Iterable[Path]) -> None:
    """Delete run files (missing ones are fine)."""
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
