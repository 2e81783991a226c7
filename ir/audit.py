"""Proving the record: verifying hash chains and rebuilding projections from the log."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir import __version__
from ir.bundle import BundleReport, verify_bundle, write_bundle
from ir.clock import format_instant
from ir.errors import IntegrityError, NotFound, WorkspaceError
from ir.store import RebuildReport, VerifyReport
from ir.store import backup as backups
from ir.store import events as eventlog
from ir.store import incidents as incidentdb
from ir.store import rebuild as rebuilder
from ir.store.db import Store

if TYPE_CHECKING:
    from ir.workspace import Workspace


class _DryRun(Exception):
    """Raised to roll back a rebuild that was only a check."""


BundlePart = Callable[[str], dict[str, str]]
"""Gives extra files (name -> text) for an incident's evidence bundle, e.g. notice hashes."""


@dataclass
class FileReport:
    """A workspace file checked on its own: its chains, and the file's own hash."""

    path: Path
    sha256: str
    verify: VerifyReport


class AuditService:
    """Verification and maintenance of the event log: verify, rebuild, backup, restore, export."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.bundle_parts: list[BundlePart] = []

    def verify(self, incident_id: str | None = None, anchors: Collection[str] = ()) -> VerifyReport:
        """Recompute every chain (or one incident's) and report the first mismatch of each, and
        any of ``anchors`` (head hashes noted outside the workspace) no longer in the log."""
        with self.ws.store.read() as conn:
            if incident_id is not None and not incidentdb.incident_exists(conn, incident_id):
                if not any(True for _ in eventlog.read_events(conn, incident_id)):
                    raise NotFound(f"no incident '{incident_id}' in workspace {self.ws.store.path}")
            return eventlog.verify(conn, incident_id, anchors)

    def rebuild(self, incident_id: str | None = None, *, check_only: bool = False) -> RebuildReport:
        """Replay the log (of one incident, or all) into fresh projections and compare.

        With ``check_only`` nothing is kept. The chains must verify first: rebuilding from a
        tampered log would hide the evidence.

        Raises:
            IntegrityError: a chain does not verify.
        """
        report = self.verify(incident_id)
        if not report.ok:
            raise IntegrityError(f"the event log does not verify ({report.problems[0]}); not rebuilding")
        result = RebuildReport()
        try:
            with self.ws.store.write() as conn:
                result = rebuilder.rebuild(conn, incident_id)
                if check_only:
                    raise _DryRun
        except _DryRun:
            pass
        return result

    def check_file(self, path: Path) -> FileReport:
        """Verify every chain in a workspace file (a backup) without changing it.

        Raises:
            WorkspaceError: not an ir workspace, or written by a newer ir.
        """
        conn = backups.open_readonly(path)
        try:
            newer = backups.unknown_migrations(conn, Store.known_migrations())
            if newer:
                raise WorkspaceError(f"{path} was written by a newer ir (schema {newer[0]})")
            report = eventlog.verify(conn)
        finally:
            conn.close()
        return FileReport(path, hashlib.sha256(path.read_bytes()).hexdigest(), report)

    def backup(self, target: Path) -> FileReport:
        """Take a consistent copy of the workspace while others work, then verify the copy."""
        backups.backup_to(self.ws.store, target)
        return self.check_file(target)

    def restore(self, source: Path) -> tuple[FileReport, Path]:
        """Replace the workspace with a backup, after verifying every chain in it.

        The current workspace is first copied beside itself (``*.before-restore-<time>.db``) so a
        restore can be undone. Returns the source's report and that safety copy's path.

        Raises:
            IntegrityError: the backup does not verify; nothing was replaced.
        """
        report = self.check_file(source)
        if not report.verify.ok:
            raise IntegrityError(f"{source} does not verify ({report.verify.problems[0]}); nothing was replaced")
        stamp = format_instant(self.ws.clock.now()).replace(":", "").replace("-", "").replace(".", "")
        safety = self.ws.store.path.with_name(f"{self.ws.store.path.stem}.before-restore-{stamp}.db")
        backups.backup_to(self.ws.store, safety)
        conn = backups.open_readonly(source)
        try:
            backups.copy_connection(conn, self.ws.store)
        finally:
            conn.close()
        self.ws.store.migrate()
        return report, safety

    def export(self, incident_id: str, out: Path) -> dict[str, Any]:
        """Write an incident's evidence bundle into the new folder ``out``; return its manifest."""
        state = self.ws.incidents.get(incident_id)
        verified = self.verify(incident_id)
        if not verified.ok:
            raise IntegrityError(f"refusing to export a record that does not verify: {verified.problems[0]}")
        events = self.ws.incidents.timeline(incident_id)
        with self.ws.store.read() as conn:
            playbook = eventlog.get_snapshot(conn, state.playbook_digest)
        if playbook is None:
            raise IntegrityError(f"{incident_id}: its playbook snapshot is missing")
        extra: dict[str, str] = {}
        for part in self.bundle_parts:
            extra.update(part(incident_id))
        meta = {
            "exported_at": format_instant(self.ws.clock.now()),
            "exported_by": self.ws.actor,
            "ir_version": __version__,
            "mode": state.mode,
        }
        return write_bundle(out, incident_id, [e.body() for e in events], [e.hash for e in events], playbook,
                            state.playbook_digest, extra, meta)

    def verify_bundle(self, folder: Path) -> BundleReport:
        """Check an evidence bundle folder (see :mod:`ir.bundle`)."""
        return verify_bundle(folder)
