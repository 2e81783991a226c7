"""Drills: the drill clock, inject states, improvement items and schedules, all derived from events.

Tables (``drills``, ``drill_injects``, ``drill_improvements``, ``drill_schedules``,
``drill_schedule_runs``) are projections. ``drill_scenarios`` is a content-addressed snapshot
store like ``playbook_snapshots``: a drill always runs the exact scenario it started with.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ir.clock import parse_instant
from ir.errors import Refused
from ir.store.chain import Event, canonical_json
from ir.store.db import register_migrations
from ir.store.projection import projection_table, projector

DRILLS = register_migrations(Migrations("ir.drills"))
"""Migration set for drills."""

WORKSPACE_STREAM = "WORKSPACE"
"""The chain that records workspace-level changes (schedules live there)."""

TERMINAL = ("delivered", "skipped", "expired")
"""Every inject ends in one of these states."""


@DRILLS()
def m001_drills(db: Database) -> None:
    """Drill clock state, inject states and scenario snapshots."""
    db.execute(
        """
        CREATE TABLE drills (
            incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
            scenario_id TEXT NOT NULL,
            scenario_version TEXT NOT NULL,
            scenario_digest TEXT NOT NULL,
            start TEXT NOT NULL,
            duration_s INTEGER NOT NULL,
            speed REAL,
            status TEXT NOT NULL,
            anchor_offset_ms INTEGER NOT NULL,
            anchor_wall TEXT NOT NULL,
            schedule_id TEXT,
            schedule_due TEXT,
            ended_reason TEXT,
            score REAL,
            rating TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX drills_scenario ON drills (scenario_id, status)")
    db.execute(
        """
        CREATE TABLE drill_injects (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            inject_id TEXT NOT NULL,
            status TEXT NOT NULL,
            at TEXT NOT NULL,
            reason TEXT,
            PRIMARY KEY (incident_id, inject_id)
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE drill_scenarios (
            digest TEXT PRIMARY KEY,
            scenario_id TEXT NOT NULL,
            version TEXT NOT NULL,
            definition TEXT NOT NULL
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE drill_improvements (
            item TEXT PRIMARY KEY,
            scenario_id TEXT NOT NULL,
            expectation_id TEXT NOT NULL,
            objective_id TEXT NOT NULL,
            origin TEXT NOT NULL,
            result TEXT NOT NULL,
            issue TEXT NOT NULL,
            action TEXT NOT NULL,
            owner TEXT NOT NULL,
            due TEXT NOT NULL,
            status TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            retests INTEGER NOT NULL DEFAULT 0,
            last_retest TEXT,
            last_result TEXT,
            note TEXT,
            updated_at TEXT NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX drill_improvements_key ON drill_improvements (scenario_id, expectation_id)")
    db.execute(
        """
        CREATE TABLE drill_schedules (
            id TEXT PRIMARY KEY,
            scenario_id TEXT NOT NULL,
            cron TEXT NOT NULL,
            timezone TEXT NOT NULL,
            speed REAL NOT NULL,
            grace_s INTEGER NOT NULL,
            participants TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE drill_schedule_runs (
            schedule_id TEXT NOT NULL,
            due TEXT NOT NULL,
            status TEXT NOT NULL,
            incident_id TEXT,
            noted_at TEXT NOT NULL,
            PRIMARY KEY (schedule_id, due)
        ) STRICT
        """
    )


projection_table("drills", "incident_id")
projection_table("drill_injects", "incident_id, inject_id")
projection_table("drill_improvements", "item")
projection_table("drill_schedules", "id")
projection_table("drill_schedule_runs", "schedule_id, due")


# ------------------------------------------------------------------ projectors: the drill clock


def _offset_ms(start: str, at: str) -> int:
    return round((parse_instant(at) - parse_instant(start)).total_seconds() * 1000)


def _reanchor(conn: sqlite3.Connection, ev: Event, **values: Any) -> None:
    """Move the clock's anchor to this event: its scenario time and its wall-clock time."""
    row = conn.execute("SELECT start FROM drills WHERE incident_id = ?", (ev.incident_id,)).fetchone()
    if row is None:
        return
    values = {"anchor_offset_ms": _offset_ms(row[0], ev.at), "anchor_wall": ev.recorded_at, **values}
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE drills SET {sets} WHERE incident_id = ?", (*values.values(), ev.incident_id))


@projector("drill.started")
def _started(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    sc = p["scenario"]
    schedule = p.get("schedule") or {}
    conn.execute(
        "INSERT INTO drills (incident_id, scenario_id, scenario_version, scenario_digest, start, duration_s, speed,"
        " status, anchor_offset_ms, anchor_wall, schedule_id, schedule_due)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
        (
            ev.incident_id, sc["id"], sc["version"], sc["digest"], p["start"], p["duration_s"], p.get("speed"),
            _offset_ms(p["start"], ev.at), ev.recorded_at, schedule.get("id"), schedule.get("due"),
        ),
    )
    if schedule:
        _claim_run(conn, schedule["id"], schedule["due"], ev.incident_id, ev.recorded_at)


def _claim_run(conn: sqlite3.Connection, schedule_id: str, due: str, incident_id: str, noted_at: str) -> None:
    """Record that a scheduled occurrence ran; refuse a second drill for the same occurrence."""
    row = conn.execute(
        "SELECT status, incident_id FROM drill_schedule_runs WHERE schedule_id = ? AND due = ?", (schedule_id, due)
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO drill_schedule_runs (schedule_id, due, status, incident_id, noted_at) VALUES (?, ?, 'ran', ?, ?)",
            (schedule_id, due, incident_id, noted_at),
        )
    elif row[1] is not None:
        raise Refused(f"schedule '{schedule_id}' already ran its {due} drill as {row[1]}")
    else:
        conn.execute(
            "UPDATE drill_schedule_runs SET status = 'ran_late', incident_id = ? WHERE schedule_id = ? AND due = ?",
            (incident_id, schedule_id, due),
        )


@projector("drill.paused")
def _paused(conn: sqlite3.Connection, ev: Event) -> None:
    _reanchor(conn, ev, status="paused")


@projector("drill.resumed")
def _resumed(conn: sqlite3.Connection, ev: Event) -> None:
    _reanchor(conn, ev, status="running")


@projector("drill.speed_changed")
def _speed(conn: sqlite3.Connection, ev: Event) -> None:
    _reanchor(conn, ev, speed=ev.payload["speed"])


@projector("drill.advanced")
def _advanced(conn: sqlite3.Connection, ev: Event) -> None:
    _reanchor(conn, ev)


@projector("drill.ended")
def _ended(conn: sqlite3.Connection, ev: Event) -> None:
    _reanchor(conn, ev, status="ended", ended_reason=ev.payload["reason"])


@projector("drill.scored")
def _scored(conn: sqlite3.Connection, ev: Event) -> None:
    conn.execute(
        "UPDATE drills SET score = ?, rating = ? WHERE incident_id = ?",
        (ev.payload["overall"], ev.payload["rating"], ev.incident_id),
    )


@projector("inject.delivered", "inject.skipped", "inject.expired")
def _inject(conn: sqlite3.Connection, ev: Event) -> None:
    conn.execute(
        "INSERT INTO drill_injects (incident_id, inject_id, status, at, reason) VALUES (?, ?, ?, ?, ?)",
        (ev.incident_id, ev.payload["inject"], ev.kind.split(".")[1], ev.at, ev.payload.get("reason")),
    )


@projector("hotwash.note", "discussion.answered")
def _log_only(conn: sqlite3.Connection, ev: Event) -> None:
    """Hot-wash notes and discussion answers live only in the log (the report reads them there)."""


# ------------------------------------------------------------------ projectors: improvements


def _due_date(recorded_at: str, days: int) -> str:
    return (parse_instant(recorded_at).date() + dt.timedelta(days=days)).isoformat()


@projector("improvement.raised")
def _raised(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO drill_improvements (item, scenario_id, expectation_id, objective_id, origin, result, issue, action,"
        " owner, due, status, raised_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        (
            p["item"], p["scenario"], p["expectation"], p["objective"], ev.incident_id, p["result"],
            canonical_json(p["issue"]), canonical_json(p["action"]), p["owner"],
            _due_date(ev.recorded_at, p["due_in_days"]), ev.recorded_at, ev.recorded_at,
        ),
    )


@projector("improvement.retested")
def _retested(conn: sqlite3.Connection, ev: Event) -> None:
    fixed = ev.payload["result"] == "fixed"
    conn.execute(
        "UPDATE drill_improvements SET retests = retests + 1, last_retest = ?, last_result = ?, status = ?,"
        " updated_at = ? WHERE item = ?",
        (ev.incident_id, ev.payload["result"], "verified" if fixed else "open", ev.recorded_at, ev.payload["item"]),
    )


@projector("improvement.updated")
def _improvement_updated(conn: sqlite3.Connection, ev: Event) -> None:
    changes = {k: ev.payload[k] for k in ("owner", "due", "status", "note") if k in ev.payload}
    changes["updated_at"] = ev.recorded_at
    sets = ", ".join(f"{k} = ?" for k in changes)
    conn.execute(f"UPDATE drill_improvements SET {sets} WHERE item = ?", (*changes.values(), ev.payload["item"]))


# ------------------------------------------------------------------ projectors: schedules


@projector("drill_schedule.added")
def _schedule_added(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO drill_schedules (id, scenario_id, cron, timezone, speed, grace_s, participants, created_by,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            p["id"], p["scenario"], p["cron"], p["timezone"], p["speed"], p["grace_s"],
            canonical_json(p.get("participants", {})), ev.actor, ev.at,
        ),
    )


@projector("drill_schedule.removed")
def _schedule_removed(conn: sqlite3.Connection, ev: Event) -> None:
    conn.execute("UPDATE drill_schedules SET active = 0 WHERE id = ?", (ev.payload["id"],))


@projector("drill_schedule.missed")
def _schedule_missed(conn: sqlite3.Connection, ev: Event) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO drill_schedule_runs (schedule_id, due, status, noted_at) VALUES (?, ?, 'missed', ?)",
        (ev.payload["id"], ev.payload["due"], ev.at),
    )


# ------------------------------------------------------------------ queries and snapshots


def put_scenario(conn: sqlite3.Connection, digest: str, scenario_id: str, version: str, definition: dict[str, Any]) -> None:
    """Store a scenario's content under its digest (idempotent)."""
    conn.execute(
        "INSERT OR IGNORE INTO drill_scenarios (digest, scenario_id, version, definition) VALUES (?, ?, ?, ?)",
        (digest, scenario_id, version, canonical_json(definition)),
    )


def get_scenario(conn: sqlite3.Connection, digest: str) -> dict[str, Any] | None:
    """The scenario content stored under ``digest``, or None."""
    row = conn.execute("SELECT definition FROM drill_scenarios WHERE digest = ?", (digest,)).fetchone()
    return json.loads(row[0]) if row else None


_DRILL_COLUMNS = (
    "incident_id, scenario_id, scenario_version, scenario_digest, start, duration_s, speed, status,"
    " anchor_offset_ms, anchor_wall, schedule_id, schedule_due, ended_reason, score, rating"
)


def _drill_row(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip([c.strip() for c in _DRILL_COLUMNS.split(",")], row, strict=True))


def get_drill(conn: sqlite3.Connection, incident_id: str) -> dict[str, Any] | None:
    """A drill's clock and outcome row, or None if the incident is not a started drill."""
    row = conn.execute(f"SELECT {_DRILL_COLUMNS} FROM drills WHERE incident_id = ?", (incident_id,)).fetchone()
    return _drill_row(row) if row else None


def list_drills(conn: sqlite3.Connection, *, scenario_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Drills, newest first, with the incident's title and phase."""
    where, params = [], []  # type: ignore[var-annotated]
    if scenario_id is not None:
        where.append("d.scenario_id = ?")
        params.append(scenario_id)
    if status is not None:
        where.append("d.status = ?")
        params.append(status)
    sql = (
        "SELECT " + ", ".join(f"d.{c.strip()}" for c in _DRILL_COLUMNS.split(",")) + ", i.title, i.phase, i.opened_at"
        " FROM drills d JOIN incidents i ON i.id = d.incident_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY i.opened_at DESC, d.incident_id DESC"
    out = []
    for row in conn.execute(sql, params):
        item = _drill_row(row[:15])
        item.update(title=row[15], phase=row[16], opened_at=row[17])
        out.append(item)
    return out


def inject_states(conn: sqlite3.Connection, incident_id: str) -> dict[str, dict[str, Any]]:
    """Injects that reached a terminal state: id -> {status, at, reason}."""
    return {
        r[0]: {"status": r[1], "at": r[2], "reason": r[3]}
        for r in conn.execute(
            "SELECT inject_id, status, at, reason FROM drill_injects WHERE incident_id = ? ORDER BY at, inject_id",
            (incident_id,),
        )
    }


_IMPROVEMENT_COLUMNS = (
    "item, scenario_id, expectation_id, objective_id, origin, result, issue, action, owner, due, status,"
    " raised_at, retests, last_retest, last_result, note, updated_at"
)


def _improvement(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip([c.strip() for c in _IMPROVEMENT_COLUMNS.split(",")], row, strict=True))
    item["issue"] = json.loads(item["issue"])
    item["action"] = json.loads(item["action"])
    return item


def list_improvements(
    conn: sqlite3.Connection, *, scenario_id: str | None = None, include_closed: bool = True
) -> list[dict[str, Any]]:
    """Improvement items, oldest first."""
    where, params = [], []  # type: ignore[var-annotated]
    if scenario_id is not None:
        where.append("scenario_id = ?")
        params.append(scenario_id)
    if not include_closed:
        where.append("status NOT IN ('verified', 'closed')")
    sql = f"SELECT {_IMPROVEMENT_COLUMNS} FROM drill_improvements"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY raised_at, item"
    return [_improvement(r) for r in conn.execute(sql, params)]


def get_improvement(conn: sqlite3.Connection, item: str) -> dict[str, Any] | None:
    """One improvement item, or None."""
    row = conn.execute(f"SELECT {_IMPROVEMENT_COLUMNS} FROM drill_improvements WHERE item = ?", (item,)).fetchone()
    return _improvement(row) if row else None


def list_schedules(conn: sqlite3.Connection, *, include_removed: bool = False) -> list[dict[str, Any]]:
    """Drill schedules, with their last run."""
    sql = (
        "SELECT id, scenario_id, cron, timezone, speed, grace_s, participants, created_by, created_at, active,"
        " (SELECT MAX(due) FROM drill_schedule_runs r WHERE r.schedule_id = s.id)"
        " FROM drill_schedules s"
    )
    if not include_removed:
        sql += " WHERE active = 1"
    sql += " ORDER BY id"
    keys = ("id", "scenario_id", "cron", "timezone", "speed", "grace_s", "participants", "created_by", "created_at",
            "active", "last_due")
    out = []
    for row in conn.execute(sql):
        item = dict(zip(keys, row, strict=True))
        item["participants"] = json.loads(item["participants"])
        item["active"] = bool(item["active"])
        out.append(item)
    return out


def schedule_runs(conn: sqlite3.Connection, schedule_id: str | None = None) -> list[dict[str, Any]]:
    """Recorded occurrences of schedules (ran, ran late, missed), oldest first."""
    sql = "SELECT schedule_id, due, status, incident_id, noted_at FROM drill_schedule_runs"
    params: tuple[Any, ...] = ()
    if schedule_id is not None:
        sql += " WHERE schedule_id = ?"
        params = (schedule_id,)
    sql += " ORDER BY due, schedule_id"
    keys = ("schedule_id", "due", "status", "incident_id", "noted_at")
    return [dict(zip(keys, r, strict=True)) for r in conn.execute(sql, params)]


def schedule_exists(conn: sqlite3.Connection, schedule_id: str) -> bool:
    """Whether a schedule with this id was ever added (ids are never reused)."""
    return conn.execute("SELECT 1 FROM drill_schedules WHERE id = ?", (schedule_id,)).fetchone() is not None
