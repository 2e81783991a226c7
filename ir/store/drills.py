"""Drills: the drill clock, inject states, improvement items and schedules, all derived from events.

Tables (``drills``, ``drill_injects``, ``drill_improvements``, ``drill_schedules``,
``drill_schedule_runs``) are projections. ``drill_scenarios`` is a content-addressed snapshot
store like ``playbook_snapshots``: a drill always runs the exact scenario it started with.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import TYPE_CHECKING, Any

from ir.clock import parse_instant
from ir.errors import Refused
from ir.store.chain import Event, canonical_json
from ir.store.db import MigrationSet, register_migrations
from ir.store.projection import projection_table, projector

if TYPE_CHECKING:
    from sqlite_utils import Database

DRILLS = register_migrations(MigrationSet("ir.drills"))
"""Migration set for drills."""

WORKSPACE_STREAM = "WORKSPACE"
"""The chain that records workspace-level changes (schedules live there)."""

TERMINAL = ("delivered", "skipped", "expired")
"""Every inject ends in one of these states."""


@DRILLS()
def m001_drills(db: Database) -> None:
    """Drill clock state, inject states, scenario snapshots, improvement items and schedules."""
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
    db.execute("CREATE UNIQUE INDEX drills_schedule_run ON drills (schedule_id, schedule_due)")
    # Improvement items are raised (and updated) in the chain of the drill that found the
    # gap, and retested in later drills' chains: one table per chain keeps a rebuild of one
    # incident exact; the item's current status is resolved when read (latest event wins).
    db.execute(
        """
        CREATE TABLE drill_improvements (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            item TEXT PRIMARY KEY,
            scenario_id TEXT NOT NULL,
            expectation_id TEXT NOT NULL,
            objective_id TEXT NOT NULL,
            result TEXT NOT NULL,
            issue TEXT NOT NULL,
            action TEXT NOT NULL,
            owner TEXT NOT NULL,
            due TEXT NOT NULL,
            raised_at TEXT NOT NULL,
            status TEXT NOT NULL,
            status_event INTEGER NOT NULL,
            note TEXT,
            updated_at TEXT NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX drill_improvements_key ON drill_improvements (scenario_id, expectation_id)")
    db.execute(
        """
        CREATE TABLE drill_retests (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            item TEXT NOT NULL,
            result TEXT NOT NULL,
            expectation_status TEXT NOT NULL,
            event_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (incident_id, item)
        ) STRICT
        """
    )
    db.execute("CREATE INDEX drill_retests_item ON drill_retests (item, event_id)")
    db.execute(
        """
        CREATE TABLE drill_schedules (
            incident_id TEXT NOT NULL,
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
        CREATE TABLE drill_schedule_misses (
            incident_id TEXT NOT NULL,
            schedule_id TEXT NOT NULL,
            due TEXT NOT NULL,
            run INTEGER NOT NULL,
            reason TEXT NOT NULL,
            noted_at TEXT NOT NULL,
            PRIMARY KEY (schedule_id, due)
        ) STRICT
        """
    )


projection_table("drills", "incident_id")
projection_table("drill_injects", "incident_id, inject_id")
projection_table("drill_improvements", "item")
projection_table("drill_retests", "incident_id, item")
projection_table("drill_schedules", "id")
projection_table("drill_schedule_misses", "schedule_id, due")


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
    if schedule:
        _claim_run(conn, ev.incident_id, schedule["id"], schedule["due"])
    conn.execute(
        "INSERT INTO drills (incident_id, scenario_id, scenario_version, scenario_digest, start, duration_s, speed,"
        " status, anchor_offset_ms, anchor_wall, schedule_id, schedule_due)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
        (
            ev.incident_id, sc["id"], sc["version"], sc["digest"], p["start"], p["duration_s"], p.get("speed"),
            _offset_ms(p["start"], ev.at), ev.recorded_at, schedule.get("id"), schedule.get("due"),
        ),
    )


def _claim_run(conn: sqlite3.Connection, incident_id: str, schedule_id: str, due: str) -> None:
    """Refuse a second drill for the same scheduled occurrence (a restart, a second scheduler)."""
    row = conn.execute(
        "SELECT incident_id FROM drills WHERE schedule_id = ? AND schedule_due = ? AND incident_id != ?",
        (schedule_id, due, incident_id),
    ).fetchone()
    if row is not None:
        raise Refused(f"schedule '{schedule_id}' already ran its {due} drill as {row[0]}")


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
        "INSERT INTO drill_improvements (incident_id, item, scenario_id, expectation_id, objective_id, result, issue,"
        " action, owner, due, raised_at, status, status_event, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        (
            ev.incident_id, p["item"], p["scenario"], p["expectation"], p["objective"], p["result"],
            canonical_json(p["issue"]), canonical_json(p["action"]), p["owner"],
            _due_date(ev.recorded_at, p["due_in_days"]), ev.recorded_at, ev.id, ev.recorded_at,
        ),
    )


@projector("improvement.retested")
def _retested(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO drill_retests (incident_id, item, result, expectation_status, event_id, at) VALUES (?, ?, ?, ?, ?, ?)",
        (ev.incident_id, p["item"], p["result"], p["status"], ev.id, ev.recorded_at),
    )


@projector("improvement.updated")
def _improvement_updated(conn: sqlite3.Connection, ev: Event) -> None:
    changes: dict[str, Any] = {k: ev.payload[k] for k in ("owner", "due", "note") if k in ev.payload}
    if "status" in ev.payload:
        changes.update(status=ev.payload["status"], status_event=ev.id)
    changes["updated_at"] = ev.recorded_at
    sets = ", ".join(f"{k} = ?" for k in changes)
    conn.execute(f"UPDATE drill_improvements SET {sets} WHERE item = ?", (*changes.values(), ev.payload["item"]))


# ------------------------------------------------------------------ projectors: schedules


@projector("drill_schedule.added")
def _schedule_added(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(
        "INSERT INTO drill_schedules (incident_id, id, scenario_id, cron, timezone, speed, grace_s, participants,"
        " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ev.incident_id, p["id"], p["scenario"], p["cron"], p["timezone"], p["speed"], p["grace_s"],
            canonical_json(p.get("participants", {})), ev.actor, ev.at,
        ),
    )


@projector("drill_schedule.removed")
def _schedule_removed(conn: sqlite3.Connection, ev: Event) -> None:
    conn.execute("UPDATE drill_schedules SET active = 0 WHERE id = ?", (ev.payload["id"],))


@projector("drill_schedule.missed")
def _schedule_missed(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    conn.execute(
        "INSERT OR IGNORE INTO drill_schedule_misses (incident_id, schedule_id, due, run, reason, noted_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (ev.incident_id, p["id"], p["due"], int(bool(p.get("run"))), p.get("reason", ""), ev.at),
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


_IMPROVEMENT_SQL = """
SELECT i.item, i.scenario_id, i.expectation_id, i.objective_id, i.incident_id, i.result, i.issue, i.action,
       i.owner, i.due, i.status, i.status_event, i.raised_at, i.note, i.updated_at,
       (SELECT COUNT(*) FROM drill_retests r WHERE r.item = i.item),
       r.incident_id, r.result, r.event_id, r.at
FROM drill_improvements i
LEFT JOIN drill_retests r ON r.item = i.item
     AND r.event_id = (SELECT MAX(event_id) FROM drill_retests x WHERE x.item = i.item)
"""


def _improvement(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = ("item", "scenario_id", "expectation_id", "objective_id", "origin", "result", "issue", "action", "owner",
            "due", "status", "status_event", "raised_at", "note", "updated_at", "retests", "last_retest",
            "last_result", "retest_event", "retested_at")
    item = dict(zip(keys, row, strict=True))
    item["issue"] = json.loads(item["issue"])
    item["action"] = json.loads(item["action"])
    # The latest of a person's status change and a retest decides the status.
    if item["retest_event"] is not None and item["retest_event"] > item["status_event"]:
        item["status"] = "verified" if item["last_result"] == "fixed" else "open"
    if item["retested_at"] is not None and item["retested_at"] > item["updated_at"]:
        item["updated_at"] = item["retested_at"]
    for key in ("status_event", "retest_event", "retested_at"):
        del item[key]
    return item


def list_improvements(
    conn: sqlite3.Connection, *, scenario_id: str | None = None, include_closed: bool = True
) -> list[dict[str, Any]]:
    """Improvement items with their current status and latest retest, oldest first."""
    sql, params = _IMPROVEMENT_SQL, ()  # type: ignore[var-annotated]
    if scenario_id is not None:
        sql += " WHERE i.scenario_id = ?"
        params = (scenario_id,)
    sql += " ORDER BY i.raised_at, i.item"
    items = [_improvement(r) for r in conn.execute(sql, params)]
    if not include_closed:
        items = [i for i in items if i["status"] not in ("verified", "closed")]
    return items


def get_improvement(conn: sqlite3.Connection, item: str) -> dict[str, Any] | None:
    """One improvement item, or None."""
    row = conn.execute(_IMPROVEMENT_SQL + " WHERE i.item = ?", (item,)).fetchone()
    return _improvement(row) if row else None


_RUNS_SQL = """
SELECT d.schedule_id AS schedule_id, d.schedule_due AS due,
       CASE WHEN m.run = 1 THEN 'ran_late' ELSE 'ran' END AS status, d.incident_id AS incident_id
FROM drills d LEFT JOIN drill_schedule_misses m ON m.schedule_id = d.schedule_id AND m.due = d.schedule_due
WHERE d.schedule_id IS NOT NULL
UNION ALL
SELECT m.schedule_id, m.due, 'missed', NULL FROM drill_schedule_misses m
WHERE NOT EXISTS (SELECT 1 FROM drills d WHERE d.schedule_id = m.schedule_id AND d.schedule_due = m.due)
"""


def list_schedules(conn: sqlite3.Connection, *, include_removed: bool = False) -> list[dict[str, Any]]:
    """Drill schedules, with the last occurrence recorded (ran or missed)."""
    sql = (
        "SELECT id, scenario_id, cron, timezone, speed, grace_s, participants, created_by, created_at, active,"
        f" (SELECT MAX(due) FROM ({_RUNS_SQL}) AS runs WHERE runs.schedule_id = s.id)"
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
    """Recorded occurrences of schedules (ran, ran_late, missed), oldest first."""
    sql = f"SELECT * FROM ({_RUNS_SQL}) AS runs"
    params: tuple[Any, ...] = ()
    if schedule_id is not None:
        sql += " WHERE runs.schedule_id = ?"
        params = (schedule_id,)
    sql += " ORDER BY 2, 1"
    keys = ("schedule_id", "due", "status", "incident_id")
    return [dict(zip(keys, r, strict=True)) for r in conn.execute(sql, params)]


def schedule_exists(conn: sqlite3.Connection, schedule_id: str) -> bool:
    """Whether a schedule with this id was ever added (ids are never reused)."""
    return conn.execute("SELECT 1 FROM drill_schedules WHERE id = ?", (schedule_id,)).fetchone() is not None
