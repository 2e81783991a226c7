"""Reading a list of affected people into sorted runs, checking rows on every core.

The main process parses CSV records and hands them out in batches; worker processes check
each row, pack the personal fields and write sorted runs (see :mod:`ir.notices.runs`), so the
store can later take the people in key order, which keeps its writes sequential.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ir.errors import InvalidInput
from ir.notices import runs
from ir.notices.csvsource import SourceFile, records
from ir.notices.people import ColumnMap, Reject, RowChecker, map_columns

PARALLEL_BYTES = 4 << 20
"""Files smaller than this are checked in the main process (starting workers costs more)."""

BATCH = 2_000
"""Records per batch handed to a worker."""

Progress = Callable[[int, int], None]
"""Told (done, total) as work proceeds."""


@dataclass
class Staged:
    """The rows of one file, checked and sorted on disk.

    Attributes:
        columns: which column held which field.
        runs: sorted runs of accepted rows ``(ref_hash, line, jurisdiction, locale, categories, pii)``.
        reject_runs: runs of rejected rows ``(line, reason, fields)`` sorted by line.
        rows: records read (not counting the header).
        rejected: rows that failed their checks.
    """

    columns: ColumnMap
    runs: list[Path]
    reject_runs: list[Path]
    rows: int
    rejected: int

    def accepted(self) -> Iterator[tuple[str, int, str, str, str, str]]:
        """Accepted rows in key order: by person (ref_hash), then line."""
        return runs.merge(self.runs)

    def rejects(self) -> Iterator[tuple[int, str, list[str]]]:
        """Rejected rows in line order."""
        return runs.merge(self.reject_runs)

    def remove(self) -> None:
        """Delete the run files."""
        runs.remove(self.runs + self.reject_runs)


def read_header(source: SourceFile, mapping: Mapping[str, str]) -> ColumnMap:
    """Read the header row and decide which column holds which field.

    Raises:
        InvalidInput: the header cannot be read or does not name the required columns.
    """
    first = next(records(source), None)
    if first is None or isinstance(first[1], str):
        why = first[1] if first else "no header row"
        raise InvalidInput(f"{source.shown}:1: the header row cannot be read ({why})")
    return map_columns(first[1], mapping, source.shown)


def stage(
    source: SourceFile,
    columns: ColumnMap,
    categories: Mapping[str, str] | None,
    folder: Path,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Staged:
    """Read, check and sort every row of ``source`` (after its header) into runs in ``folder``."""
    position = [0]
    stream = records(source, position)
    next(stream, None)  # the header, read by read_header
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or source.size < PARALLEL_BYTES:
        return _stage_here(stream, columns, categories, folder, source.size, position, progress)
    return _stage_parallel(stream, columns, categories, folder, count, source.size, position, progress)


class _Collector:
    """Checks batches of records into a run writer for good rows and one for rejects."""

    def __init__(self, columns: ColumnMap, categories: Mapping[str, str] | None, folder: Path, prefix: str) -> None:
        self.checker = RowChecker(columns, categories)
        self.good = runs.RunWriter(folder, f"{prefix}-ok")
        self.bad = runs.RunWriter(folder, f"{prefix}-bad")
        self.rows = 0
        self.rejected = 0

    def take(self, batch: Sequence[tuple[int, Sequence[str] | str]]) -> None:
        check, good, checker = self.checker.check, self.good.add, self.checker
        for line, record in batch:
            self.rows += 1
            if isinstance(record, str):
                self.bad.add((line, record, [""] * 8))
                self.rejected += 1
                continue
            try:
                good(check(line, record))
            except Reject as exc:
                self.bad.add((line, str(exc), checker.fields(record)))
                self.rejected += 1

    def close(self) -> tuple[list[Path], list[Path], int, int]:
        return self.good.close(), self.bad.close(), self.rows, self.rejected


def _batches(stream: Iterator[tuple[int, list[str] | str]]) -> Iterator[list[tuple[int, list[str] | str]]]:
    batch: list[tuple[int, list[str] | str]] = []
    for item in stream:
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _stage_here(
    stream: Iterator[tuple[int, list[str] | str]],
    columns: ColumnMap,
    categories: Mapping[str, str] | None,
    folder: Path,
    size: int,
    position: list[int],
    progress: Progress | None,
) -> Staged:
    collector = _Collector(columns, categories, folder, "main")
    for batch in _batches(stream):
        collector.take(batch)
        if progress:
            progress(position[0], size)
    good, bad, rows, rejected = collector.close()
    return Staged(columns, good, bad, rows, rejected)


def _stage_parallel(
    stream: Iterator[tuple[int, list[str] | str]],
    columns: ColumnMap,
    categories: Mapping[str, str] | None,
    folder: Path,
    count: int,
    size: int,
    position: list[int],
    progress: Progress | None,
) -> Staged:
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    procs = []
    try:
        for n in range(count):
            here, there = context.Pipe()
            proc = context.Process(
                target=_worker, args=(there, columns, dict(categories) if categories else None, folder, f"w{n}"), daemon=True
            )
            proc.start()
            there.close()
            pipes.append(here)
            procs.append(proc)
        for k, batch in enumerate(_batches(stream)):
            pipes[k % count].send(batch)
            if progress and k % 8 == 0:
                progress(position[0], size)
        staged = Staged(columns, [], [], 0, 0)
        for pipe in pipes:
            pipe.send(None)
        for pipe in pipes:
            result = _receive(pipe)
            staged.runs += result[0]
            staged.reject_runs += result[1]
            staged.rows += result[2]
            staged.rejected += result[3]
        return staged
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()


def _receive(pipe: Connection) -> tuple[list[Path], list[Path], int, int]:
    try:
        result: Any = pipe.recv()
    except EOFError:
        raise RuntimeError("a worker checking rows stopped unexpectedly") from None
    if isinstance(result, str):
        raise RuntimeError(f"a worker checking rows failed: {result}")
    return result  # type: ignore[no-any-return]


def _worker(pipe: Connection, columns: ColumnMap, categories: dict[str, str] | None, folder: Path, prefix: str) -> None:
    """Worker process: check batches until told to stop, then report its runs."""
    try:
        collector = _Collector(columns, categories, folder, prefix)
        while (batch := pipe.recv()) is not None:
            collector.take(batch)
        pipe.send(collector.close())
    except BaseException as exc:  # report, never print a traceback from a helper process
        try:
            pipe.send(f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
