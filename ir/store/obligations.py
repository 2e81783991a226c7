"""Obligations projections: the latest assessment of each incident, and each duty's outcome."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ir.store.chain import Event, canonical_json
from ir.store.db import MigrationSet, register_migrations
from ir.store.projection import projection_table, projector

if TYPE_CHECKING:
    from sqlite_utils import Database

OBLIGATIONS = register_migrations(MigrationSet("ir.obligations"))
"""Migration set for the obligations tables."""


@OBLIGATIONS()
def m001_obligations(db: Database) -> None:
    """The current obligations of each incident, the assessment they came from, and outcomes."""
    db.execute(
        """
        CREATE TABLE obligation_assessments (
            incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
            seq INTEGER NOT NULL,
            at TEXT NOT NULL,
            digest TEXT NOT NULL,
            count INTEGER NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE incident_obligations (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            rule TEXT NOT NULL,
            position INTEGER NOT NULL,
            due_at TEXT,
            target_at TEXT,
            obligation TEXT NOT NULL,
            PRIMARY KEY (incident_id, rule)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX incident_obligations_due ON incident_obligations (due_at)")
    db.execute(
        """
        CREATE TABLE obligation_outcomes (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            rule TEXT NOT NULL,
            fulfilled_at TEXT,
            fulfilled_by TEXT,
            fulfilled_seq INTEGER,
            note TEXT,
            waived_reason TEXT,
            waived_by TEXT,
            waived_at TEXT,
            waived_seq INTEGER,
            PRIMARY KEY (incident_id, rule)
        ) STRICT
        """
    )


projection_table("obligation_assessments", "incident_id")
projection_table("incident_obligations", "incident_id, rule")
projection_table("obligation_outcomes", "incident_id, rule")


def digest_of(obligations: list[dict[str, Any]]) -> str:
    """SHA-256 of an assessment's canonical JSON: equal lists, equal digests."""
    return hashlib.sha256(canonical_json(obligations).encode("utf-8")).hexdigest()


@projector("obligations.assessed")
def _assessed(conn: sqlite3.Connection, ev: Event) -> None:
    obligations = ev.payload["obligations"]
    conn.execute("DELETE FROM incident_obligations WHERE incident_id = ?", (ev.incident_id,))
    conn.executemany(
        "INSERT INTO incident_obligations (incident_id, rule, position, due_at, target_at, obligation)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (ev.incident_id, ob["rule"], n, ob.get("due_at"), ob.get("target_at"), canonical_json(ob))
            for n, ob in enumerate(obligations)
        ],
    )
    conn.execute(
        "INSERT INTO obligation_assessments (incident_id, seq, at, digest, count) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq, at = excluded.at,"
        " digest = excluded.digest, count = excluded.count",
        (ev.incident_id, ev.seq, ev.at, digest_of(obligations), len(obligations)),
    )


def _ensure_outcome(conn: sqlite3.Connection, incident_id: str, rule: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO obligation_outcomes (incident_id, rule) VALUES (?, ?)", (incident_id, rule)
    )


@projector("obligation.fulfilled")
def _fulfilled(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    _ensure_outcome(conn, ev.incident_id, p["rule"])
    conn.execute(
        "UPDATE obligation_outcomes SET fulfilled_at = ?, fulfilled_by = ?, fulfilled_seq = ?, note = ?"
        " WHERE incident_id = ? AND rule = ?",
        (p["fulfilled_at"], ev.actor, ev.seq, p.get("note"), ev.incident_id, p["rule"]),
    )


@projector("obligation.waived")
def _waived(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    _ensure_outcome(conn, ev.incident_id, p["rule"])
    conn.execute(
        "UPDATE obligation_outcomes SET waived_reason = ?, waived_by = ?, waived_at = ?, waived_seq = ?"
        " WHERE incident_id = ? AND rule = ?",
        (p["reason"], ev.actor, ev.at, ev.seq, ev.incident_id, p["rule"]),
    )


@dataclass(frozen=True)
class Assessment:
    """The latest recorded assessment of an incident.

    Attributes:
        seq: the ``obligations.assessed`` event it came from.
        at: when (on the incident's clock).
        digest: SHA-256 of the list's canonical JSON.
        obligations: the obligations as recorded, in order.
    """

    seq: int
    at: str
    digest: str
    obligations: list[dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    """What was done about one duty."""

    rule: str
    fulfilled_at: str | None
    fulfilled_by: str | None
    note: str | None
    waived_reason: str | None
    waived_by: str | None
    waived_at: str | None


def assessment_digest(conn: sqlite3.Connection, incident_id: str) -> str | None:
    """The digest of the incident's latest assessment, or None if it has none."""
    row = conn.execute("SELECT digest FROM obligation_assessments WHERE incident_id = ?", (incident_id,)).fetchone()
    return row[0] if row else None


def load_assessment(conn: sqlite3.Connection, incident_id: str) -> Assessment | None:
    """The incident's latest recorded assessment, or None if it was never assessed."""
    head = conn.execute(
        "SELECT seq, at, digest FROM obligation_assessments WHERE incident_id = ?", (incident_id,)
    ).fetchone()
    if head is None:
        return None
    rows = conn.execute(
        "SELECT obligation FROM incident_obligations WHERE incident_id = ? ORDER BY position", (incident_id,)
    ).fetchall()
    return Assessment(head[0], head[1], head[2], [json.loads(r[0]) for r in rows])


def load_outcomes(conn: sqlite3.Connection, incident_id: str) -> dict[str, Outcome]:
    """Outcomes by rule id."""
    rows = conn.execute(
        "SELECT rule, fulfilled_at, fulfilled_by, note, waived_reason, waived_by, waived_at"
        " FROM obligation_outcomes WHERE incident_id = ? ORDER BY rule",
        (incident_id,),
    )
    return {row[0]: Outcome(*row) for row in rows}


def fulfilment_times(conn: sqlite3.Connection, incident_id: str) -> dict[str, str]:
    """When each fulfilled duty was fulfilled, by rule id."""
    rows = conn.execute(
        "SELECT rule, fulfilled_at FROM obligation_outcomes WHERE incident_id = ? AND fulfilled_at IS NOT NULL",
        (incident_id,),
    )
    return {rule: at for rule, at in rows}


def soonest_open_duties(conn: sqlite3.Connection, incident_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """For each incident, its open duty (neither fulfilled nor waived) that falls due first.

    "Falls due" is the legal deadline, or the organisation's own target for a duty with no
    fixed period. Times are ``YYYY-MM-DDTHH:MM:SSZ`` text, so text order is time order; ties go
    to the duty listed first. One query for any number of incidents (a dashboard of a thousand).
    """
    where, params = "", []  # type: ignore[var-annotated]
    if incident_ids is not None:
        if not incident_ids:
            return {}
        where = f" AND o.incident_id IN ({', '.join('?' for _ in incident_ids)})"
        params = list(incident_ids)
    rows = conn.execute(
        "SELECT incident_id, obligation, legal FROM ("
        " SELECT o.incident_id, o.obligation, o.due_at IS NOT NULL AS legal, ROW_NUMBER() OVER ("
        "   PARTITION BY o.incident_id ORDER BY COALESCE(o.due_at, o.target_at), o.position) AS n"
        " FROM incident_obligations o"
        " LEFT JOIN obligation_outcomes r ON r.incident_id = o.incident_id AND r.rule = o.rule"
        " WHERE r.fulfilled_at IS NULL AND r.waived_reason IS NULL"
        " AND COALESCE(o.due_at, o.target_at) IS NOT NULL" + where +
        ") WHERE n = 1",
        params,
    )
    return {incident_id: {**json.loads(obligation), "legal": bool(legal)} for incident_id, obligation, legal in rows}


@OBLIGATIONS()
def m002_reminders(db: Database) -> None:
    """Deadline reminders already given, so a restarted scheduler never repeats one."""
    db.execute(
        """
        CREATE TABLE deadline_reminders (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            rule TEXT NOT NULL,
            due TEXT NOT NULL,
            point TEXT NOT NULL,
            reminded_at TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (incident_id, rule, due, point)
        ) STRICT
        """
    )


projection_table("deadline_reminders", "incident_id, rule, due, point")


@projector("deadline.reminded")
def _reminded(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(
        "INSERT OR REPLACE INTO deadline_reminders (incident_id, rule, due, point, reminded_at, seq) VALUES (?, ?, ?, ?, ?, ?)",
        (ev.incident_id, p["rule"], p["due"], p["point"], ev.at, ev.seq),
    )


def open_live_duties(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every open duty (neither fulfilled nor waived) with a deadline or target, of open live incidents."""
    rows = conn.execute(
        "SELECT o.incident_id, o.obligation, o.due_at IS NOT NULL FROM incident_obligations o"
        " JOIN incidents i ON i.id = o.incident_id AND i.mode = 'live' AND i.final = 0"
        " LEFT JOIN obligation_outcomes r ON r.incident_id = o.incident_id AND r.rule = o.rule"
        " WHERE r.fulfilled_at IS NULL AND r.waived_reason IS NULL"
        " AND COALESCE(o.due_at, o.target_at) IS NOT NULL ORDER BY o.incident_id, o.position"
    )
    return [{**json.loads(ob), "incident_id": incident_id, "legal": bool(legal)} for incident_id, ob, legal in rows]


def reminders_given(conn: sqlite3.Connection) -> set[tuple[str, str, str, str]]:
    """(incident, rule, due, point) of every reminder already recorded."""
    return set(conn.execute("SELECT incident_id, rule, due, point FROM deadline_reminders"))
