"""Notice delivery status per recipient: a data table, summarised by ``notices.sent`` events.

One row per (incident, template, person). A row moves ``queued`` -> ``sending`` -> ``sent``,
or to ``failed`` with a reason. ``sending`` is recorded, durably, just before the end of the
message is handed to the mail server; a row still ``sending`` after a crash is *unconfirmed*:
the server may or may not have accepted it (see docs/templates.md, "Delivery").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ir.store.chain import Event
from ir.store.db import MigrationSet, register_migrations
from ir.store.projection import projector
from ir.store.subjects import jurisdiction_filter

if TYPE_CHECKING:
    from sqlite_utils import Database

NOTICES = register_migrations(MigrationSet("ir.notices"))
"""Migration set for delivery status."""

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
STATUSES = (QUEUED, SENDING, SENT, FAILED)


@NOTICES()
def m001_deliveries(db: Database) -> None:
    """Per-recipient delivery status."""
    db.execute(
        """
        CREATE TABLE deliveries (
            incident_id TEXT NOT NULL,
            template TEXT NOT NULL,
            ref_hash TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            message_id TEXT,
            reason TEXT,
            sha256 TEXT,
            sent_at TEXT,
            run TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (incident_id, template, ref_hash)
        ) STRICT, WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX deliveries_status ON deliveries (incident_id, template, status)")


@projector("notices.rendered")
def _rendered(conn: sqlite3.Connection, ev: Event) -> None:
    """Letters are files with a manifest; the event carries the manifest's hash. Nothing to project."""


@projector("notices.sent")
def _sent(conn: sqlite3.Connection, ev: Event) -> None:
    """Per-recipient status is in ``deliveries``, written with the event; nothing to project."""


def queue(conn: sqlite3.Connection, incident_id: str, template: str, at: str, jurisdictions: Iterable[str] = ()) -> int:
    """Queue a notice for every selected person who has none yet; return how many were added."""
    where, params = jurisdiction_filter(jurisdictions)
    cursor = conn.execute(
        "INSERT OR IGNORE INTO deliveries (incident_id, template, ref_hash, status, updated_at)"
        f" SELECT incident_id, ?, ref_hash, ?, ? FROM subjects WHERE incident_id = ?{where} ORDER BY ref_hash",
        (template, QUEUED, at, incident_id, *params),
    )
    return cursor.rowcount


def requeue(conn: sqlite3.Connection, incident_id: str, template: str, status: str, at: str) -> int:
    """Put every row in ``status`` back in the queue (attempts start again); return how many."""
    cursor = conn.execute(
        "UPDATE deliveries SET status = ?, attempts = 0, reason = NULL, run = NULL, updated_at = ?"
        " WHERE incident_id = ? AND template = ? AND status = ?",
        (QUEUED, at, incident_id, template, status),
    )
    return cursor.rowcount


def next_queued(
    conn: sqlite3.Connection, incident_id: str, template: str, after: str, limit: int
) -> list[tuple[str, str, str, str, str, int]]:
    """Queued notices after key ``after``: (ref_hash, jurisdiction, locale, categories, pii, attempts)."""
    return conn.execute(
        "SELECT d.ref_hash, s.jurisdiction, s.locale, s.categories, s.pii, d.attempts FROM deliveries d"
        " JOIN subjects s ON s.incident_id = d.incident_id AND s.ref_hash = d.ref_hash"
        " WHERE d.incident_id = ? AND d.template = ? AND d.status = ? AND d.ref_hash > ?"
        " ORDER BY d.ref_hash LIMIT ?",
        (incident_id, template, QUEUED, after, limit),
    ).fetchall()


def claim(conn: sqlite3.Connection, incident_id: str, template: str, ref_hash: str, *, message_id: str, run: str, at: str) -> bool:
    """Mark a queued notice ``sending`` for this run; False if another run has it."""
    cursor = conn.execute(
        "UPDATE deliveries SET status = ?, attempts = attempts + 1, message_id = ?, run = ?, updated_at = ?"
        " WHERE incident_id = ? AND template = ? AND ref_hash = ? AND status = ?",
        (SENDING, message_id, run, at, incident_id, template, ref_hash, QUEUED),
    )
    return cursor.rowcount == 1


def mark_sent(
    conn: sqlite3.Connection, incident_id: str, template: str, ref_hash: str, *, run: str, sha256: str, at: str
) -> None:
    """Record that the server accepted a notice this run had marked ``sending``."""
    conn.execute(
        "UPDATE deliveries SET status = ?, sha256 = ?, sent_at = ?, updated_at = ?, reason = NULL"
        " WHERE incident_id = ? AND template = ? AND ref_hash = ? AND status = ? AND run = ?",
        (SENT, sha256, at, at, incident_id, template, ref_hash, SENDING, run),
    )


def mark_written(
    conn: sqlite3.Connection, incident_id: str, template: str, ref_hash: str, *, message_id: str, sha256: str, at: str
) -> None:
    """Record that a queued notice was written to the exercise outbox."""
    conn.execute(
        "UPDATE deliveries SET status = ?, attempts = attempts + 1, message_id = ?, sha256 = ?, sent_at = ?,"
        " updated_at = ?, reason = NULL WHERE incident_id = ? AND template = ? AND ref_hash = ? AND status = ?",
        (SENT, message_id, sha256, at, at, incident_id, template, ref_hash, QUEUED),
    )


def mark_failed(conn: sqlite3.Connection, incident_id: str, template: str, ref_hash: str, *, reason: str, at: str) -> None:
    """Record that the notice cannot be delivered (a permanent refusal, no address, ...)."""
    conn.execute(
        "UPDATE deliveries SET status = ?, reason = ?, updated_at = ?, attempts = attempts + (status = ?)"
        " WHERE incident_id = ? AND template = ? AND ref_hash = ?",
        (FAILED, reason, at, QUEUED, incident_id, template, ref_hash),
    )


def mark_retry(conn: sqlite3.Connection, incident_id: str, template: str, ref_hash: str, *, reason: str, at: str) -> None:
    """Return a notice to the queue after a temporary failure, counting the attempt."""
    conn.execute(
        "UPDATE deliveries SET status = ?, reason = ?, updated_at = ?, attempts = attempts + (status = ?)"
        " WHERE incident_id = ? AND template = ? AND ref_hash = ?",
        (QUEUED, reason, at, QUEUED, incident_id, template, ref_hash),
    )


def counts(conn: sqlite3.Connection, incident_id: str, template: str | None = None) -> dict[str, dict[str, int]]:
    """Notices by template and status."""
    sql = "SELECT template, status, COUNT(*) FROM deliveries WHERE incident_id = ?"
    params: list[str] = [incident_id]
    if template is not None:
        sql += " AND template = ?"
        params.append(template)
    out: dict[str, dict[str, int]] = {}
    for name, status, n in conn.execute(sql + " GROUP BY template, status", params):
        out.setdefault(name, {})[status] = n
    return out


def unconfirmed(conn: sqlite3.Connection, incident_id: str, template: str) -> list[tuple[str, str, str]]:
    """Notices left ``sending`` by a run that stopped: (ref_hash, message_id, since)."""
    return conn.execute(
        "SELECT ref_hash, message_id, updated_at FROM deliveries WHERE incident_id = ? AND template = ? AND status = ?"
        " ORDER BY ref_hash",
        (incident_id, template, SENDING),
    ).fetchall()


def failures(conn: sqlite3.Connection, incident_id: str, template: str, limit: int = 1000) -> list[tuple[str, str, int]]:
    """Failed notices: (ref_hash, reason, attempts)."""
    return conn.execute(
        "SELECT ref_hash, reason, attempts FROM deliveries WHERE incident_id = ? AND template = ? AND status = ?"
        " ORDER BY ref_hash LIMIT ?",
        (incident_id, template, FAILED, limit),
    ).fetchall()


def delivery(conn: sqlite3.Connection, incident_id: str, template: str, ref_hash: str) -> dict[str, object] | None:
    """One notice's row, or None."""
    cursor = conn.execute(
        "SELECT status, attempts, message_id, reason, sha256, sent_at, run, updated_at FROM deliveries"
        " WHERE incident_id = ? AND template = ? AND ref_hash = ?",
        (incident_id, template, ref_hash),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def proofs(conn: sqlite3.Connection, incident_id: str) -> Iterator[tuple[str, str, str, str | None, str | None, str | None]]:
    """Every notice delivered or attempted, for evidence: (template, ref_hash, status, message_id, sha256, sent_at)."""
    yield from conn.execute(
        "SELECT template, ref_hash, status, message_id, sha256, sent_at FROM deliveries WHERE incident_id = ?"
        " ORDER BY template, ref_hash",
        (incident_id,),
    )


@projector("notice.approved", "notice.rejected")
def _decided(conn: sqlite3.Connection, ev: Event) -> None:
    """Approvals are read from the log when a notice is released; nothing to project."""


def for_person(conn: sqlite3.Connection, incident_id: str, ref_hash: str) -> list[dict[str, object]]:
    """Every notice of one person: template, status, attempts, message_id, sha256, sent_at, reason."""
    cursor = conn.execute(
        "SELECT template, status, attempts, message_id, sha256, sent_at, reason FROM deliveries"
        " WHERE incident_id = ? AND ref_hash = ? ORDER BY template",
        (incident_id, ref_hash),
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
