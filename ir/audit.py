"""Proving the record: verifying hash chains and rebuilding projections from the log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ir.errors import IntegrityError, NotFound
from ir.store import RebuildReport, VerifyReport
from ir.store import events as eventlog
from ir.store import incidents as incidentdb
from ir.store import rebuild as rebuilder

if TYPE_CHECKING:
    from ir.workspace import Workspace


class _DryRun(Exception):
    """Raised to roll back a rebuild that was only a check."""


class AuditService:
    """Verification and maintenance of the event log."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def verify(self, incident_id: str | None = None) -> VerifyReport:
        """Recompute every chain (or one incident's) and report the first mismatch of each."""
        with self.ws.store.read() as conn:
            if incident_id is not None and not incidentdb.incident_exists(conn, incident_id):
                if not any(True for _ in eventlog.read_events(conn, incident_id)):
                    raise NotFound(f"no incident '{incident_id}' in workspace {self.ws.store.path}")
            return eventlog.verify(conn, incident_id)

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
