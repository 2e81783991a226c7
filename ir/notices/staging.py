"""Reading a list of affected people into sorted runs, checking rows on every core.

The main process parses CSV records and hands them out in batches; worker processes check
each row, pack the personal fields and write sorted runs (see :mod:`ir.notices.runs`), so the
store can later take the people in key order, which keeps its writes sequential.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ir.errors import InvalidInput
from ir.notices import pii, runs
from ir.notices.csvsource import SourceFile, records
from ir.notices.lifeline import die_with_parent
from ir.notices.people import ColumnMap, Reject, RowChecker, Seal, map_columns

PARALLEL_BYTES = 4 << 20
"""Files smaller than this are checked in the main process (starting workers costs more)."""

BATCH = 2_000
"""Records per batch handed to a worker."""

Progress = Callable[[int, int], None]
"""Told (done, total) as work proceeds."""

Row = tuple[str, int, str, str, str, bytes]
"""A checked row: (ref_hash, line, jurisdiction, locale, categories JSON, sealed pii)."""

Unseal = Callable[[str, bytes], str]
"""Opens a sealed value: (ref_hash, sealed) -> packed personal fields."""


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

    def accepted(self) -> Iterator[Row]:
        """Accepted rows in key order: by person (ref_hash), then line."""
        return runs.merge(self.runs)

    def rejects(self) -> Iterator[tuple[int, str, list[str]]]:
        """Rejected rows in line order."""
        return runs.merge(self.reject_runs)

    def remove(self) -> None:
        """Delete the run files."""
        runs.remove(self.runs + self.reject_runs)


@dataclass
class Ordered:
    """What taking the people in key order found, besides the people themselves.

    Attributes:
        duplicates: runs of rows whose reference repeats an earlier line (rejects).
        duplicate_count: how many such rows.
        by_jurisdiction: accepted people by jurisdiction.
        by_categories: accepted people by their category list (JSON).
    """

    duplicates: list[Path]
    duplicate_count: int
    by_jurisdiction: dict[str, int]
    by_categories: dict[str, int]


def in_key_order(
    staged: Staged, folder: Path, size: int, prepare: Callable[[list[Row]], Any], unseal: Unseal, *, after: str = "",
    parallel: bool,
) -> tuple[Iterator[tuple[int, Any]], list[Ordered]]:
    """The first row of each person, in key order, in batches; repeats go to duplicate runs.

    Args:
        prepare: turns a batch of rows into what the writer needs (run beside it when parallel).
        unseal: opens a repeated row's fields for the rejects file.
        after: skip people up to this key (written by an interrupted run); they still count.

    Returns:
        (batches as (people taken so far, prepared batch), a list that holds the
        :class:`Ordered` summary once the batches are exhausted).
    """
    summary: list[Ordered] = []
    if not parallel:
        return _ordered_batches(staged.runs, folder, size, prepare, unseal, after, summary), summary
    return _ordered_in_child(staged.runs, folder, size, prepare, unseal, after, summary), summary


def _ordered_batches(
    paths: list[Path], folder: Path, size: int, prepare: Callable[[list[Row]], Any], unseal: Unseal, after: str,
    summary: list[Ordered],
) -> Iterator[tuple[int, Any]]:
    duplicates = runs.RunWriter(folder, "dup")
    by_jurisdiction: dict[str, int] = {}
    by_categories: dict[str, int] = {}
    last, first_line = "", 0
    batch: list[Row] = []
    taken = 0
    for row in runs.merge(paths):
        if row[0] == last:
            duplicates.add((row[1], f"reference repeats line {first_line}", _fields_of(row, unseal)))
            continue
        last, first_line = row[0], row[1]
        by_jurisdiction[row[2]] = by_jurisdiction.get(row[2], 0) + 1
        by_categories[row[4]] = by_categories.get(row[4], 0) + 1
        taken += 1
        if row[0] <= after:
            continue
        batch.append(row)
        if len(batch) >= size:
            yield taken, prepare(batch)
            batch = []
    if batch:
        yield taken, prepare(batch)
    summary.append(Ordered(duplicates.close(), duplicates.count, by_jurisdiction, by_categories))


def _fields_of(row: Row, unseal: Unseal) -> list[str]:
    """A checked row's fields as the rejects file lists them."""
    person = pii.unpack(unseal(row[0], row[5]))
    categories = ";".join(json.loads(row[4]))
    return [person.reference, person.name, person.email, person.phone, person.postal_address, row[2], row[3], categories]


def _ordered_in_child(
    paths: list[Path], folder: Path, size: int, prepare: Callable[[list[Row]], Any], unseal: Unseal, after: str,
    summary: list[Ordered],
) -> Iterator[tuple[int, Any]]:
    """:func:`_ordered_batches` in a forked process, so merging overlaps with the store's writes."""
    context = multiprocessing.get_context("fork")
    out: Any = context.Queue(maxsize=4)
    args = (out, paths, folder, size, prepare, unseal, after, os.getpid())
    proc = context.Process(target=_order_worker, args=args, daemon=True)
    proc.start()
    try:
        while True:
            item = _receive(out, [proc])
            if isinstance(item, Ordered):
                summary.append(item)
                return
            yield item
    finally:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()


def _order_worker(
    out: Any, paths: list[Path], folder: Path, size: int, prepare: Callable[[list[Row]], Any], unseal: Unseal, after: str,
    parent_pid: int,
) -> None:
    die_with_parent(parent_pid)
    try:
        summary: list[Ordered] = []
        for item in _ordered_batches(paths, folder, size, prepare, unseal, after, summary):
            out.put(item)
        out.put(summary[0])
    except BaseException as exc:  # report, never print a traceback from a helper process
        out.put(f"{type(exc).__name__}: {exc}")


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
    seal: Seal,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Staged:
    """Read, check, seal and sort every row of ``source`` (after its header) into runs in ``folder``."""
    position = [0]
    stream = records(source, position)
    next(stream, None)  # the header, read by read_header
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or source.size < PARALLEL_BYTES:
        return _stage_here(stream, columns, categories, folder, seal, source.size, position, progress)
    return _stage_parallel(stream, columns, categories, folder, seal, count, source.size, position, progress)


class _Collector:
    """Checks batches of records into a run writer for good rows and one for rejects."""

    def __init__(self, columns: ColumnMap, categories: Mapping[str, str] | None, folder: Path, prefix: str, seal: Seal) -> None:
        self.checker = RowChecker(columns, categories, seal)
        self.good = runs.RunWriter(folder, f"{prefix}-ok")
        self.bad = runs.RunWriter(folder, f"{prefix}-bad")
        self.rows = 0
        self.rejected = 0

    def take(self, batch: Sequence[tuple[int, Sequence[str] | str]]) -> None:
        """Check a batch of (line, record or reason) and keep each row as accepted or rejected."""
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

    def take_packed(self, packed: tuple[list[int], str, dict[int, list[str] | str]]) -> None:
        """Check a batch packed by :func:`_packed` (records as one string, fields split by unit separators)."""
        lines, text, apart = packed
        records: list[list[str] | str] = [record.split(_FIELD) for record in text.split(_RECORD)]
        for n, record in apart.items():
            records[n] = record
        self.take(list(zip(lines, records)))

    def close(self) -> tuple[list[Path], list[Path], int, int]:
        """Write what is buffered; return (accepted runs, rejected runs, rows, rejected)."""
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


_FIELD, _RECORD = "\x1f", "\x1e"
"""ASCII unit and record separators: no field of an acceptable row contains them."""


def _packed(batch: list[tuple[int, list[str] | str]]) -> tuple[list[int], str, dict[int, list[str] | str]]:
    """A batch as line numbers and one string: pickling one string costs far less than a
    list of lists, and the main process, which parses the CSV, is the one to spare.

    Records that cannot be packed (a reason instead of fields, or a field holding a
    separator) travel as they are, by position.
    """
    lines, texts = [], []
    apart: dict[int, list[str] | str] = {}
    for n, (line, record) in enumerate(batch):
        lines.append(line)
        text = "" if isinstance(record, str) else _FIELD.join(record)
        if isinstance(record, str) or text.count(_FIELD) != len(record) - 1 or _RECORD in text:
            apart[n] = record
            text = ""
        texts.append(text)
    return lines, _RECORD.join(texts), apart


def _stage_here(
    stream: Iterator[tuple[int, list[str] | str]],
    columns: ColumnMap,
    categories: Mapping[str, str] | None,
    folder: Path,
    seal: Seal,
    size: int,
    position: list[int],
    progress: Progress | None,
) -> Staged:
    collector = _Collector(columns, categories, folder, "main", seal)
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
    seal: Seal,
    count: int,
    size: int,
    position: list[int],
    progress: Progress | None,
) -> Staged:
    # Fork: the workers need no imports, and they never touch the parent's database handle.
    context = multiprocessing.get_context("fork")
    tasks: Any = context.Queue(maxsize=count * 4)
    results: Any = context.Queue()
    procs = [
        context.Process(
            target=_worker, args=(tasks, results, columns, categories, folder, f"w{n}", seal, os.getpid()), daemon=True
        )
        for n in range(count)
    ]
    try:
        for proc in procs:
            proc.start()
        for k, batch in enumerate(_batches(stream)):
            _put(tasks, _packed(batch), procs)
            if progress and k % 8 == 0:
                progress(position[0], size)
        for _ in procs:
            _put(tasks, None, procs)
        staged = Staged(columns, [], [], 0, 0)
        for _ in procs:
            good, bad, rows, rejected = _receive(results, procs)
            staged.runs += good
            staged.reject_runs += bad
            staged.rows += rows
            staged.rejected += rejected
        return staged
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()


def _put(tasks: Any, item: Any, procs: list[Any]) -> None:
    """Queue work, noticing a worker that died instead of waiting for it forever."""
    while True:
        try:
            tasks.put(item, timeout=1)
            return
        except queue.Full:
            if not all(p.is_alive() for p in procs):
                raise RuntimeError("a worker checking rows stopped unexpectedly") from None


def _receive(results: Any, procs: list[Any]) -> Any:
    while True:
        try:
            result: Any = results.get(timeout=1)
            break
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                raise RuntimeError("a worker checking rows stopped unexpectedly") from None
    if isinstance(result, str):
        raise RuntimeError(f"a worker checking rows failed: {result}")
    return result


def _worker(
    tasks: Any, results: Any, columns: ColumnMap, categories: Mapping[str, str] | None, folder: Path, prefix: str,
    seal: Seal, parent_pid: int,
) -> None:
    """Worker process: check batches until told to stop, then report its runs."""
    die_with_parent(parent_pid)
    try:
        collector = _Collector(columns, categories, folder, prefix, seal)
        while (batch := tasks.get()) is not None:
            collector.take_packed(batch)
        results.put(collector.close())
    except BaseException as exc:  # report, never print a traceback from a helper process
        results.put(f"{type(exc).__name__}: {exc}")
