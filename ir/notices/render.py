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
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO

from ir.errors import InvalidInput, Refused
from ir.notices.letters import Letter, Plan, Renderer, missing_reason
from ir.notices.lifeline import die_with_parent
from ir.notices.people import safe_cell
from ir.notices.pii import Cipher
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

Row = tuple[str, str, str, str, bytes | None]
"""A person as read from the store: (ref_hash, jurisdiction, locale, categories, sealed pii)."""

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
    out: Path,
    plan: Plan,
    pages: Pages,
    ext: str,
    *,
    workers: int,
    expected: int,
    progress: Callable[[int, int], None] | None,
    bundle: int = 0,
    cipher: Cipher | None = None,
) -> Outcome:
    """Render one letter per person into ``out`` (resuming an interrupted run).

    Args:
        cipher: opens the people's sealed personal fields.
        bundle: put this many letters in each file (0: one file per letter): text letters
            separated by form feeds, e-mails as an mbox.
    """
    # Compile (and for fast templates, render once) here first: a template that fails does so
    # with its own message, not inside a worker's start-up.
    Renderer(plan, cipher)
    outcome = Outcome(out)
    done = _restore(out)
    outcome.count, outcome.skipped = done["count"], done["skipped"]
    outcome.resumed = bool(done["key"])
    manifest = _open_log(out / MANIFEST, done["manifest_bytes"], ["reference", "recipient", "file", "sha256"])
    skipped = _open_log(out / SKIPPED, done["skipped_bytes"], ["reference", "reason"])
    bundles = int(done.get("bundles", 0))
    try:
        chunks = _numbered(_chunks(pages(done["key"]), bundle or CHUNK), bundles if bundle else None)
        remaining = expected - outcome.count - outcome.skipped
        for last, written, listed, missed, unlisted in _run(chunks, plan, out, ext, workers, remaining, cipher):
            bundles += bool(bundle)
            manifest.write(listed)
            manifest.flush()
            skipped.write(unlisted)
            skipped.flush()
            outcome.count += written
            outcome.skipped += missed
            outcome.rendered += written
            _write_json(
                out / PROGRESS,
                {"key": last, "count": outcome.count, "skipped": outcome.skipped,
                 "manifest_bytes": manifest.tell(), "skipped_bytes": skipped.tell(), "bundles": bundles},
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
    with open(os.open(out / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8", newline="") as f:
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


def _open_log(path: Path, size: int, header: list[str]) -> BinaryIO:
    """Open a CSV log for appending, cut back to ``size`` bytes (what the last chunk left)."""
    if size:
        with path.open("r+b") as f:
            f.truncate(size)
        return path.open("ab")
    # The logs name people and their addresses: readable by their owner only.
    f = open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
    f.write(_csv_lines([header]))
    return f


def _csv_lines(rows: list[list[str]]) -> bytes:
    """Rows as CSV text (UTF-8), cells that a spreadsheet would run as formulas escaped."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[safe_cell(cell) for cell in row] for row in rows])
    return buffer.getvalue().encode("utf-8")


def _write_json(path: Path, value: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def _chunks(pages: Iterator[list[Row]], size: int) -> Iterator[list[Row]]:
    buffer: list[Row] = []
    for page in pages:
        buffer.extend(page)
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


Chunk = tuple[str | None, list[Row]]
"""A chunk of people and the bundle file they go to (None: one file each)."""


def _numbered(chunks: Iterator[list[Row]], first: int | None) -> Iterator[Chunk]:
    for n, rows in enumerate(chunks):
        yield (None if first is None else f"{LETTERS}/{first + n + 1:06d}"), rows


Result = tuple[str, int, bytes, int, bytes]
"""A rendered chunk: (its last person's key, letters written, their manifest lines,
people skipped, their skipped.csv lines)."""


def _run(
    chunks: Iterator[Chunk], plan: Plan, out: Path, ext: str, workers: int, remaining: int, cipher: Cipher | None
) -> Iterator[Result]:
    """Yield each chunk's result in order, rendering in worker processes when worth it."""
    if workers <= 1 or remaining < INLINE_BELOW:
        _init(plan, str(out), ext, cipher)
        for chunk in chunks:
            yield _render_chunk(chunk)
        return
    # Fork: workers start at once and inherit the compiled plan and the key without either
    # being written anywhere; they never use the parent's database handle.
    context = multiprocessing.get_context("fork")
    initargs = (plan, str(out), ext, cipher, os.getpid())
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init, initargs=initargs) as pool:
        # A bounded window of chunks in flight keeps memory flat whatever the number of people.
        window: collections.deque[Future[Result]] = collections.deque()
        for chunk in chunks:
            window.append(pool.submit(_render_chunk, chunk))
            if len(window) >= workers * 3:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


_STATE: dict[str, Any] = {}


def _init(plan: Plan, out: str, ext: str, cipher: Cipher | None, parent_pid: int | None = None) -> None:
    """Set up a worker: compile the template once, remember where letters go."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    _STATE.clear()
    _STATE.update(renderer=Renderer(plan, cipher), out=out, ext=ext, folders={})


def _render_chunk(chunk: Chunk) -> Result:
    bundle, rows = chunk
    renderer: Renderer = _STATE["renderer"]
    ext: str = _STATE["ext"]
    written: list[list[str]] = []
    missed: list[list[str]] = []
    parts: list[bytes] = []
    for row in rows:
        letter: Letter = renderer.letter(row)
        if letter.missing:
            missed.append([letter.reference, missing_reason(letter.missing)])
            continue
        digest = hashlib.sha256(letter.data).hexdigest()
        if bundle is None:
            relative = letter_path(letter.reference, row[0], ext)
            _write_letter(relative, letter.data)
        else:
            parts.append(_bundled(letter, ext, renderer))
            relative = f"{bundle}.{_BUNDLE_EXT[ext]}#{len(parts)}"
        written.append([letter.reference, letter.recipient, relative, digest])
    if bundle is not None and parts:
        _write_letter(f"{bundle}.{_BUNDLE_EXT[ext]}", (b"\f" if ext == "txt" else b"").join(parts))
    return rows[-1][0], len(written), _csv_lines(written), len(missed), _csv_lines(missed)


_BUNDLE_EXT = {"txt": "txt", "eml": "mbox"}


def _bundled(letter: Letter, ext: str, renderer: Renderer) -> bytes:
    """A letter as it sits in a bundle: text as is (bundles join them with form feeds), an
    e-mail after an mbox ``From`` line."""
    if ext == "txt":
        return letter.data
    plan = renderer.plan
    when = time.asctime(parsedate_to_datetime(plan.date_header).timetuple()) if plan.date_header else time.asctime(time.gmtime(0))
    return f"From {plan.sender or 'MAILER-DAEMON'} {when}\n".encode() + letter.data + b"\n"


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
