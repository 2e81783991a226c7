"""Writing one letter per person to a folder, on every core, with a manifest as proof of notice.

Layout of the output folder::

    manifest.csv          reference, recipient, file, sha256 - one line per letter written
    skipped.csv           reference, reason - people who got no letter (a required field missing)
    letters/3f/C-0001_3fa9c1d2.txt
    .ir-render.json       what this folder holds (incident, template, facts, ...)
    .ir-render.progress   how far the manifest is complete

People are taken in key order (SHA-256 of their reference) in chunks. Worker processes render
and write the letters of a chunk; the main process appends the chunk's lines to the manifest
in order and then records the progress. After an interruption the folder is cut back to the
last recorded chunk and rendering continues from there: letter file names depend only on the
person, so a letter written again replaces itself, and nothing is listed twice.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.errors import InvalidInput, Refused
from ir.notices.letters import Letter, Plan, Renderer, missing_reason
from ir.notices.people import safe_cell
from ir.notices.templates import safe_name

MANIFEST = "manifest.csv"
SKIPPED = "skipped.csv"
STATE = ".ir-render.json"
PROGRESS = ".ir-render.progress"
LETTERS = "letters"

CHUNK = 1_000
"""People per chunk handed to a worker."""

INLINE_BELOW = 2_000
"""Fewer people than this are rendered in the main process (starting workers costs more)."""

Row = tuple[str, str, str, str, str]
"""A person as read from the store: (ref_hash, jurisdiction, locale, categories, pii)."""

Pages = Callable[[str], Iterator[list[Row]]]
"""Gives the people after a key, a page at a time, in key order."""


@dataclass
class Outcome:
    """What a render run produced.

    Attributes:
        count: letters listed in the manifest (all runs of this folder).
        skipped: people listed in skipped.csv.
        rendered: letters written by this run.
        manifest_sha256: SHA-256 of the finished manifest.
    """

    out: Path
    count: int = 0
    skipped: int = 0
    rendered: int = 0
    resumed: bool = False
    manifest_sha256: str = ""
    state: dict[str, Any] = field(default_factory=dict)


def prepare_folder(out: Path, state: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create ``out`` or check it holds an earlier run of the very same render.

    Returns:
        (the state recorded in the folder, whether an earlier run is being resumed).

    Raises:
        Refused: the folder holds something else.
        InvalidInput: the folder cannot be created.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create the output folder {out}: {exc.strerror or exc}") from None
    if not out.is_dir():
        raise InvalidInput(f"--out {out} is not a folder")
    recorded_path = out / STATE
    if recorded_path.exists():
        recorded = json.loads(recorded_path.read_text(encoding="utf-8"))
        differs = [k for k in state if k != "notice_date" and recorded.get(k) != state[k]]
        if differs:
            raise Refused(
                f"{out} holds notices rendered from other inputs ({', '.join(differs)} changed); "
                "render into a new --out folder"
            )
        return recorded, True
    if any(p.name != LETTERS for p in out.iterdir()):
        raise Refused(f"{out} is not empty; render into a new or empty --out folder")
    _write_json(recorded_path, state)
    return state, False


def render_people(
    out: Path, plan: Plan, pages: Pages, ext: str, *, workers: int, expected: int, progress: Callable[[int, int], None] | None
) -> Outcome:
    """Render one letter per person into ``out`` (resuming an interrupted run)."""
    outcome = Outcome(out)
    done = _restore(out)
    outcome.count, outcome.skipped = done["count"], done["skipped"]
    outcome.resumed = bool(done["key"])
    manifest = _open_log(out / MANIFEST, done["manifest_bytes"], ["reference", "recipient", "file", "sha256"])
    skipped = _open_log(out / SKIPPED, done["skipped_bytes"], ["reference", "reason"])
    try:
        chunks = _chunks(pages(done["key"]))
        for rows, (written, missed) in _run(chunks, plan, out, ext, workers, expected - outcome.count - outcome.skipped):
            _append(manifest, [[safe_cell(r), safe_cell(who), f, sha] for r, who, f, sha in written])
            _append(skipped, [[safe_cell(r), safe_cell(why)] for r, why in missed])
            outcome.count += len(written)
            outcome.skipped += len(missed)
            outcome.rendered += len(written)
            _write_json(
                out / PROGRESS,
                {"key": rows[-1][0], "count": outcome.count, "skipped": outcome.skipped,
                 "manifest_bytes": manifest.tell(), "skipped_bytes": skipped.tell()},
            )
            if progress:
                progress(outcome.count + outcome.skipped, expected)
        os.fsync(manifest.fileno())
    finally:
        manifest.close()
        skipped.close()
    outcome.manifest_sha256 = file_sha256(out / MANIFEST)
    return outcome


def render_document(out: Path, plan: Plan, ext: str) -> Outcome:
    """Render the single notice of a regulator, public or internal template."""
    letter = Renderer(plan).document()
    name = f"{safe_name(plan.template_id, 64)}.{ext}"
    _write_file(out / name, letter.data)
    with (out / MANIFEST).open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["reference", "recipient", "file", "sha256"])
        writer.writerow(["", plan.audience, name, hashlib.sha256(letter.data).hexdigest()])
    return Outcome(out, count=1, rendered=1, manifest_sha256=file_sha256(out / MANIFEST))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def letter_path(reference: str, key: str, ext: str) -> str:
    """Where a person's letter goes, relative to the output folder: it cannot leave the folder."""
    return f"{LETTERS}/{key[:2]}/{safe_name(reference)}_{key[:8]}.{ext}"


# ------------------------------------------------------------------ machinery


def _restore(out: Path) -> dict[str, Any]:
    """How far an earlier run got (nothing, for a new folder)."""
    try:
        return dict(json.loads((out / PROGRESS).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {"key": "", "count": 0, "skipped": 0, "manifest_bytes": 0, "skipped_bytes": 0}


def _open_log(path: Path, size: int, header: list[str]) -> io.TextIOWrapper:
    """Open a CSV log for appending, cut back to ``size`` bytes (what the last chunk left)."""
    if size:
        with path.open("r+b") as f:
            f.truncate(size)
        return path.open("a", encoding="utf-8", newline="")
    f = path.open("w", encoding="utf-8", newline="")
    csv.writer(f).writerow(header)
    return f


def _append(f: io.TextIOWrapper, rows: list[list[str]]) -> None:
    if rows:
        csv.writer(f).writerows(rows)
    f.flush()


def _write_json(path: Path, value: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def _chunks(pages: Iterator[list[Row]]) -> Iterator[list[Row]]:
    buffer: list[Row] = []
    for page in pages:
        buffer.extend(page)
        while len(buffer) >= CHUNK:
            yield buffer[:CHUNK]
            buffer = buffer[CHUNK:]
    if buffer:
        yield buffer


Result = tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]


def _run(
    chunks: Iterator[list[Row]], plan: Plan, out: Path, ext: str, workers: int, remaining: int
) -> Iterator[tuple[list[Row], Result]]:
    """Yield (chunk, its result) in order, rendering in worker processes when worth it."""
    if workers <= 1 or remaining < INLINE_BELOW:
        _init(plan, str(out), ext)
        for rows in chunks:
            yield rows, _render_chunk(rows)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=(plan, str(out), ext)) as pool:
        # A bounded window of chunks in flight keeps memory flat whatever the number of people.
        window: collections.deque[tuple[list[Row], Future[Result]]] = collections.deque()
        for rows in chunks:
            window.append((rows, pool.submit(_render_chunk, rows)))
            if len(window) >= workers * 3:
                first, future = window.popleft()
                yield first, future.result()
        while window:
            first, future = window.popleft()
            yield first, future.result()


_STATE: dict[str, Any] = {}


def _init(plan: Plan, out: str, ext: str) -> None:
    """Set up a worker: compile the template once, remember where letters go."""
    _STATE.clear()
    _STATE.update(renderer=Renderer(plan), out=out, ext=ext, folders={})


def _render_chunk(rows: Sequence[Row]) -> Result:
    renderer: Renderer = _STATE["renderer"]
    ext: str = _STATE["ext"]
    written: list[tuple[str, str, str, str]] = []
    missed: list[tuple[str, str]] = []
    for row in rows:
        letter: Letter = renderer.letter(row)
        if letter.missing:
            missed.append((letter.reference, missing_reason(letter.missing)))
            continue
        relative = letter_path(letter.reference, row[0], ext)
        _write_letter(relative, letter.data)
        written.append((letter.reference, letter.recipient, relative, hashlib.sha256(letter.data).hexdigest()))
    return written, missed


def _write_letter(relative: str, data: bytes) -> None:
    """Write a letter (owner-only: it carries personal data) through a cached folder handle."""
    folder, name = relative.rsplit("/", 1)
    folders: dict[str, int] = _STATE["folders"]
    fd = folders.get(folder)
    if fd is None:
        path = os.path.join(_STATE["out"], folder)
        os.makedirs(path, mode=0o700, exist_ok=True)
        fd = folders[folder] = os.open(path, os.O_RDONLY)
    _write_all(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=fd), data)


def _write_file(path: Path, data: bytes) -> None:
    _write_all(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), data)


def _write_all(handle: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)
