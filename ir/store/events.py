"""The append-only event log: appending, reading and verifying chains."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ir.store import projection
from ir.store.chain import GENESIS, ChainChecker, ChainProblem, Event, body_with_payload_text, canonical_json
from ir.store.db import MigrationSet, register_migrations

if TYPE_CHECKING:
    from sqlite_utils import Database

CORE = register_migrations(MigrationSet("ir.core"))
"""Migration set for the event log and the core incident projection."""


@CORE()
def m001_events(db: Database) -> None:
    """The event log, the playbook snapshots it refers to, and append-only triggers."""
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            incident_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (incident_id, seq)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX events_kind ON events (kind)")
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"""
            CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END
            """
        )
    db.execute(
        """
        CREATE TABLE playbook_snapshots (
            digest TEXT PRIMARY KEY,
            playbook_id TEXT NOT NULL,
            version TEXT NOT NULL,
            definition TEXT NOT NULL
        ) STRICT
        """
    )


def _process_account() -> str:
    """The operating-system account this process runs as (evidence recorded in each event).

    Read from the process's effective user id, not from ``USER``/``LOGNAME``: those are set by
    whoever starts the process, as ``--as`` is.
    """
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, OSError):  # no pwd (Windows), or a uid without a name (containers)
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return ""


PROCESS_ACCOUNT = _process_account()
"""Who this process really is, whatever name it acts under."""


@CORE()
def m004_event_os_user(db: Database) -> None:
    """Record the operating-system account that wrote each event."""
    db.execute("ALTER TABLE events ADD COLUMN os_user TEXT NOT NULL DEFAULT ''")


def append(
    conn: sqlite3.Connection,
    incident_id: str,
    kind: str,
    payload: dict[str, Any],
    *,
    actor: str,
    at: str,
    recorded_at: str,
) -> Event:
    """Append an event to its incident's chain and apply it to the projections.

    Call inside :meth:`Store.write`; the caller's transaction makes both atomic.
    """
    row = conn.execute(
        "SELECT seq, hash FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT 1", (incident_id,)
    ).fetchone()
    seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
    payload_text = canonical_json(payload)
    account = PROCESS_ACCOUNT
    body = body_with_payload_text(incident_id, seq, at, recorded_at, actor, kind, payload_text, prev, account)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    cursor = conn.execute(
        "INSERT INTO events (incident_id, seq, at, recorded_at, actor, kind, payload, prev_hash, hash, os_user)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (incident_id, seq, at, recorded_at, actor, kind, payload_text, prev, digest, account),
    )
    event = Event(incident_id, seq, at, recorded_at, actor, kind, payload, prev, digest, cursor.lastrowid, account)
    projection.apply(conn, event)
    return event


_COLUMNS = "id, incident_id, seq, at, recorded_at, actor, kind, payload, prev_hash, hash, os_user"


def _event(row: tuple[Any, ...]) -> Event:
    return Event(
        incident_id=row[1],
        seq=row[2],
        at=row[3],
        recorded_at=row[4],
        actor=row[5],
        kind=row[6],
        payload=json.loads(row[7]),
        prev_hash=row[8],
        hash=row[9],
        id=row[0],
        os_user=row[10],
    )


def read_events(
    conn: sqlite3.Connection,
    incident_id: str | None = None,
    *,
    after_seq: int = 0,
    kinds: list[str] | None = None,
) -> Iterator[Event]:
    """Events in log order, optionally for one incident, after a sequence number, of some kinds."""
    where, params = [], []  # type: ignore[var-annotated]
    if incident_id is not None:
        where.append("incident_id = ?")
        params.append(incident_id)
        if after_seq:
            where.append("seq > ?")
            params.append(after_seq)
    if kinds:
        where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
        params.extend(kinds)
    sql = f"SELECT {_COLUMNS} FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY incident_id, seq" if incident_id is not None else " ORDER BY id"
    for row in conn.execute(sql, params):
        yield _event(row)


def put_snapshot(conn: sqlite3.Connection, digest: str, playbook_id: str, version: str, definition: dict[str, Any]) -> None:
    """Store a playbook's content under its digest (idempotent)."""
    conn.execute(
        "INSERT OR IGNORE INTO playbook_snapshots (digest, playbook_id, version, definition) VALUES (?, ?, ?, ?)",
        (digest, playbook_id, version, canonical_json(definition)),
    )


def get_snapshot(conn: sqlite3.Connection, digest: str) -> dict[str, Any] | None:
    """The playbook content stored under ``digest``, or None."""
    row = conn.execute("SELECT definition FROM playbook_snapshots WHERE digest = ?", (digest,)).fetchone()
    return json.loads(row[0]) if row else None


@dataclass
class VerifyReport:
    """Outcome of checking every chain (or one).

    Attributes:
        incidents: number of chains checked.
        events: number of events that verified.
        problems: the first problem of each chain that failed.
        heads: each chain's last verified hash, to record outside the workspace.
        unanchored: hashes recorded outside the workspace earlier (``anchors``) that no
            verified event has: the log was rewritten since they were noted.
    """

    incidents: int = 0
    events: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    heads: dict[str, str] = field(default_factory=dict)
    unanchored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems and not self.unanchored


def verify(conn: sqlite3.Connection, incident_id: str | None = None, anchors: Collection[str] = ()) -> VerifyReport:
    """Recompute every hash and link; report the first event that does not match per chain.

    Also checks that each playbook snapshot an incident refers to still matches its digest,
    that the projection's recorded head agrees with the log (a truncated tail shows), and that
    every hash in ``anchors`` (heads noted outside the workspace earlier) is still the hash of
    a verified event: a chain recomputed from some event on has valid links but loses them.
    """
    wanted = {a.lower() for a in anchors}
    found: set[str] = set()
    report = VerifyReport()
    sql = "SELECT incident_id, seq, at, recorded_at, actor, kind, payload, prev_hash, hash, os_user FROM events"
    params: tuple[Any, ...] = ()
    if incident_id is not None:
        sql += " WHERE incident_id = ?"
        params = (incident_id,)
    sql += " ORDER BY incident_id, seq"
    checker: ChainChecker | None = None

    def finish(c: ChainChecker | None) -> None:
        if c is None:
            return
        report.incidents += 1
        report.events += c.count
        if c.problem:
            report.problems.append(c.problem)
        else:
            report.heads[c.incident_id] = c.prev

    for row in conn.execute(sql, params):
        if checker is None or checker.incident_id != row[0]:
            finish(checker)
            checker = ChainChecker(row[0])
        verified = checker.feed(*row[1:])
        if verified and row[8] in wanted:
            found.add(row[8])
        if verified and row[5] == "incident.opened":
            problem = _snapshot_problem(conn, row[6])
            if problem:
                checker.problem = ChainProblem(row[0], row[1], row[5], row[2], problem)
    finish(checker)
    _check_heads(conn, report, incident_id)
    report.unanchored = sorted(wanted - found)
    return report


def _snapshot_problem(conn: sqlite3.Connection, payload_text: str) -> str | None:
    digest = json.loads(payload_text).get("playbook", {}).get("digest")
    if not digest:
        return None
    row = conn.execute("SELECT definition FROM playbook_snapshots WHERE digest = ?", (digest,)).fetchone()
    if row is None:
        return f"playbook snapshot {digest[:12]}… is missing"
    computed = hashlib.sha256(canonical_json(json.loads(row[0])).encode("utf-8")).hexdigest()
    if computed != digest:
        return f"playbook snapshot {digest[:12]}… was altered (its content hashes to {computed[:12]}…)"
    return None


def _check_heads(conn: sqlite3.Connection, report: VerifyReport, incident_id: str | None) -> None:
    failed = {p.incident_id for p in report.problems}
    sql = "SELECT id, seq, head_hash FROM incidents"
    params: tuple[Any, ...] = ()
    if incident_id is not None:
        sql += " WHERE id = ?"
        params = (incident_id,)
    for ident, seq, head in conn.execute(sql, params):
        if ident in failed:
            continue
        if ident not in report.heads:
            report.problems.append(ChainProblem(ident, 1, "incident.opened", "", "the incident has no events in the log"))
        elif report.heads[ident] != head:
            report.problems.append(
                ChainProblem(ident, seq, "?", "", "the log ends before the incident's recorded last event (events were removed)")
            )
