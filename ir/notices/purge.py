"""Destroying affected people's personal fields once notification is done and retention has passed.

``ir subjects purge ID`` runs only when the incident is closed and the workspace's retention
period (profile ``retention_days``) has passed since it closed, on the incident's own clock.
In one transaction it sets every person's sealed personal fields to NULL and records a
``subjects.purged`` event saying what was destroyed, when and by whom (counts and field names,
never values). What stays:

* the counts by jurisdiction, language and data category, and each person's reference as a
  SHA-256 (so a person who gives their reference can still be found);
* the proof of notice: every delivery's status, Message-ID, the SHA-256 of the exact message
  and the time it was sent, and every render's manifest SHA-256 in the chain.

Letters rendered to disk name people; the render manifests list them. The purge lists those
files and, with ``--delete-files``, deletes them (and the drill outbox's messages): before a
manifest is deleted, a ``proof.csv`` beside it keeps each letter's SHA-256 against the SHA-256
of the reference instead of the reference itself (and without the file name, which is made
from the reference). Files go first, then the data and the event,
so an interrupted purge is finished by running it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ir.clock import format_instant, parse_instant
from ir.engine.commands import NewEvent
from ir.engine.state import IncidentState
from ir.errors import InvalidInput, Refused
from ir.notices import render as renderer
from ir.notices.people import safe_cell, unformula
from ir.notices.pii import PERSONAL_FIELDS
from ir.store import events as eventlog
from ir.store import subjects as subjectdb

if TYPE_CHECKING:
    from ir.workspace import Workspace

RETENTION_KEY = "retention_days"
"""The workspace profile key holding the retention period, in days after closure."""

PROOF = "proof.csv"
"""What a render folder keeps after its letters are deleted: ref_sha256, sha256 (letter file
names are left out: they are made from the references)."""


@dataclass
class Folder:
    """Files of one render (or the drill outbox) that name people.

    Attributes:
        path: the folder.
        files: letter files (paths relative to ``path``) and the logs that name people.
        manifest_sha256: the manifest's SHA-256 as recorded when it was rendered ("" for the outbox).
    """

    path: Path
    files: list[str] = field(default_factory=list)
    manifest_sha256: str = ""


@dataclass
class PurgeResult:
    """What a purge did.

    Attributes:
        people: people whose personal fields were destroyed now.
        folders: files on disk that name people (what ``--delete-files`` deletes).
        deleted: files deleted by this run.
        proofs: per render folder, the proof file written before its manifest was deleted.
        seq: the ``subjects.purged`` event.
    """

    incident_id: str
    people: int = 0
    folders: list[Folder] = field(default_factory=list)
    deleted: int = 0
    proofs: dict[str, str] = field(default_factory=dict)
    seq: int | None = None

    @property
    def listed(self) -> int:
        """Files on disk that name people."""
        return sum(len(f.files) for f in self.folders)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (with every file listed)."""
        return {
            "incident": self.incident_id,
            "people": self.people,
            "listed": self.listed,
            "deleted": self.deleted,
            "folders": [{"folder": str(f.path), "files": f.files} for f in self.folders],
            "proofs": self.proofs,
            "seq": self.seq,
        }


def retention_days(ws: Workspace) -> int:
    """The workspace's retention period.

    Raises:
        Refused: it is not set.
        InvalidInput: it is not a whole number of days, 0 or more.
    """
    value = ws.profile.facts().get(RETENTION_KEY)
    if value is None:
        raise Refused(
            f"the workspace has no retention period: set how many days personal data is kept after an incident "
            f"closes, e.g. ir profile set {RETENTION_KEY}=90"
        )
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"profile {RETENTION_KEY} is {value!r}: give a whole number of days, 0 or more")
    return value


def purge(ws: Workspace, incident_id: str, *, delete_files: bool,
          confirm: Callable[[int, PurgeResult], bool] | None = None) -> PurgeResult:
    """Destroy the personal fields of an incident's people (see the module's description).

    ``confirm`` is asked, once every check has passed and before anything is destroyed, with
    the number of people whose fields remain and the files found; False cancels.

    Raises:
        Refused: the incident is open, the retention period is unset or has not passed,
            there is nothing left to destroy, or ``confirm`` said no.
    """
    state = ws.incidents.get(incident_id)
    _check_due(ws, state)
    with ws.store.read() as conn:
        _purged, kept = subjectdb.purged_count(conn, state.id)
        events = list(eventlog.read_events(conn, state.id, kinds=["notices.rendered", "notices.sent", "subjects.purged"]))
    result = PurgeResult(state.id, folders=notice_files(events))
    earlier = [e for e in events if e.kind == "subjects.purged"]
    if not kept and earlier and not (delete_files and result.listed):
        last = earlier[-1]
        more = f"; {result.listed:,} files naming people remain: add --delete-files" if result.listed else ""
        raise Refused(f"the personal fields of {state.id}'s people were destroyed at {last.at} by {last.actor}{more}")
    if confirm is not None and not confirm(kept, result):
        raise Refused("purge cancelled; nothing was destroyed")
    if delete_files:
        for folder in result.folders:
            result.deleted += _delete(folder, result)
    with ws.store.write() as conn:
        result.people = subjectdb.purge(conn, state.id)
        payload = _payload(ws, state, result, delete_files)
        result.seq = ws.incidents.record_in(conn, state.id, [NewEvent("subjects.purged", payload)])[0].seq
    # Old page images of the destroyed values would otherwise stay in the write-ahead log.
    subjectdb.flush_freed(ws.store.conn)
    return result


def _check_due(ws: Workspace, state: IncidentState) -> None:
    if not state.final or not state.closed_at:
        raise Refused(
            f"{state.id} is not closed (phase '{state.phase}'): personal data is destroyed only once notification is "
            "done and the incident is closed"
        )
    days = retention_days(ws)
    closed = parse_instant(state.closed_at)
    due = closed + dt.timedelta(days=days)
    now = ws.clock_for(state).now()
    if now < due:
        raise Refused(
            f"{state.id} closed at {state.closed_at} and the workspace keeps personal data {days} day(s) after closure "
            f"({RETENTION_KEY}): it may be purged from {format_instant(due)}"
        )


def _payload(ws: Workspace, state: IncidentState, result: PurgeResult, delete_files: bool) -> dict[str, Any]:
    """What the destruction event records: what, how many, under which rule; never a value."""
    return {
        "people": result.people,
        "fields": list(PERSONAL_FIELDS),
        "kept": ["counts", "jurisdiction", "locale", "categories", "reference_sha256", "delivery_proofs", "manifest_sha256"],
        RETENTION_KEY: retention_days(ws),
        "closed_at": state.closed_at,
        "files": {"listed": result.listed, "deleted": result.deleted if delete_files else 0},
        "proofs": result.proofs,
    }


# ---------------------------------------------------------------------- files


def notice_files(events: list[Any]) -> list[Folder]:
    """Files on disk that name people, from the incident's render and delivery events.

    Render folders whose manifest lists no person (a regulator report) name nobody and are
    left out; a folder that no longer exists is left out too.
    """
    folders: dict[Path, Folder] = {}
    for ev in events:
        if ev.kind == "notices.rendered" and ev.payload.get("out"):
            path = Path(ev.payload["out"])
            if path not in folders and (path / renderer.MANIFEST).is_file():
                found = _render_folder(path, ev.payload.get("manifest_sha256", ""))
                if found.files:
                    folders[path] = found
        elif ev.kind == "notices.sent" and ev.payload.get("outbox"):
            path = Path(ev.payload["outbox"])
            if path not in folders and path.is_dir():
                files = sorted(p.name for p in path.iterdir() if p.is_file() and (p.suffix == ".eml" or p.name.endswith(".partial")))
                if files:
                    folders[path] = Folder(path, files)
    return list(folders.values())


def _render_folder(path: Path, manifest_sha256: str) -> Folder:
    folder = Folder(path, manifest_sha256=manifest_sha256)
    seen: set[str] = set()
    people = False
    with (path / renderer.MANIFEST).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            people = people or bool(row.get("reference"))
            relative = (row.get("file") or "").split("#", 1)[0]
            if relative and relative not in seen and _inside(relative):
                seen.add(relative)
                if (path / relative).is_file() or (path / relative).is_symlink():
                    folder.files.append(relative)
    if not people:
        return Folder(path)
    folder.files += [name for name in (renderer.MANIFEST, renderer.SKIPPED) if (path / name).is_file()]
    return folder


def _inside(relative: str) -> bool:
    """A manifest's file name that stays inside its folder (never absolute, never ``..``)."""
    parts = PurePosixPath(relative).parts
    return bool(parts) and not relative.startswith("/") and "\\" not in relative and ".." not in parts


def _delete(folder: Folder, result: PurgeResult) -> int:
    """Delete a folder's files that name people; keep a proof of each letter first."""
    if (folder.path / renderer.MANIFEST).is_file() and renderer.MANIFEST in folder.files:
        result.proofs[str(folder.path)] = _write_proof(folder.path)
    deleted = 0
    for relative in folder.files:
        try:
            os.unlink(folder.path / relative)  # a symbolic link is removed, never followed
            deleted += 1
        except FileNotFoundError:
            pass
    for directory in sorted({(folder.path / r).parent for r in folder.files}, key=lambda p: len(p.parts), reverse=True):
        if directory != folder.path:
            try:
                directory.rmdir()
            except OSError:
                pass  # not empty: something else lives there
    return deleted


def _write_proof(path: Path) -> str:
    """``proof.csv`` from a manifest: each letter's SHA-256 against the SHA-256 of its reference."""
    # Not the letter's file name: it is made from the person's reference.
    target = path / PROOF
    temporary = path / f".{PROOF}.partial"
    with (path / renderer.MANIFEST).open(encoding="utf-8", newline="") as source, \
            open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ref_sha256", "sha256"])
        for row in csv.DictReader(source):
            reference = unformula(row.get("reference") or "")
            key = hashlib.sha256(reference.encode("utf-8")).hexdigest() if reference else ""
            writer.writerow([key, safe_cell(row.get("sha256") or "")])
    os.replace(temporary, target)
    return renderer.file_sha256(target)

