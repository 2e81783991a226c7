"""The core incident projection: incidents, their tasks and the phases they went through."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from ir.engine.state import IncidentState, PhaseVisit, TaskStatus
from ir.store.chain import Event, canonical_json
from ir.store.events import CORE
from ir.store.projection import projection_table, projector

if TYPE_CHECKING:
    from sqlite_utils import Database


@CORE()
def m002_incidents(db: Database) -> None:
    """Incident projection tables."""
    db.execute(
        """
        CREATE TABLE incidents (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            mode TEXT NOT NULL,
            severity TEXT NOT NULL,
            playbook_id TEXT NOT NULL,
            playbook_version TEXT NOT NULL,
            playbook_digest TEXT NOT NULL,
            phase TEXT NOT NULL,
            final INTEGER NOT NULL DEFAULT 0,
            opened_at TEXT NOT NULL,
            opened_by TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at TEXT,
            seq INTEGER NOT NULL DEFAULT 0,
            head_hash TEXT NOT NULL DEFAULT '',
            facts TEXT NOT NULL DEFAULT '{}',
            roles TEXT NOT NULL DEFAULT '{}'
        ) STRICT
        """
    )
    db.execute("CREATE INDEX incidents_mode_final ON incidents (mode, final)")
    db.execute(
        """
        CREATE TABLE incident_tasks (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            task_id TEXT NOT NULL,
            phase TEXT NOT NULL,
            done INTEGER NOT NULL DEFAULT 0,
            done_by TEXT,
            done_at TEXT,
            assignee TEXT,
            PRIMARY KEY (incident_id, task_id)
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE incident_phases (
            incident_id TEXT NOT NULL REFERENCES incidents (id),
            n INTEGER NOT NULL,
            phase TEXT NOT NULL,
            entered_at TEXT NOT NULL,
            left_at TEXT,
            via TEXT,
            PRIMARY KEY (incident_id, n)
        ) STRICT
        """
    )


projection_table("incidents", "id")
projection_table("incident_tasks", "incident_id, task_id")
projection_table("incident_phases", "incident_id, n")


@projector("incident.opened")
def _opened(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    pb = p["playbook"]
    conn.execute(
        "INSERT INTO incidents (id, title, mode, severity, playbook_id, playbook_version, playbook_digest,"
        " phase, final, opened_at, opened_by, updated_at, facts, roles)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
        (
            ev.incident_id, p["title"], p["mode"], p["severity"], pb["id"], pb["version"], pb["digest"],
            p["phase"], ev.at, ev.actor, ev.at, canonical_json(p.get("facts", {})), canonical_json(p.get("roles", {})),
        ),
    )
    conn.execute(
        "INSERT INTO incident_phases (incident_id, n, phase, entered_at) VALUES (?, 1, ?, ?)",
        (ev.incident_id, p["phase"], ev.at),
    )


@projector("phase.changed")
def _phase_changed(conn: sqlite3.Connection, ev: Event) -> None:
    p = ev.payload
    closed_at = ev.at if p.get("final") else None
    conn.execute(
        "UPDATE incidents SET phase = ?, final = ?, closed_at = ? WHERE id = ?",
        (p["to"], int(bool(p.get("final"))), closed_at, ev.incident_id),
    )
    conn.execute(
        "UPDATE incident_phases SET left_at = ? WHERE incident_id = ? AND left_at IS NULL", (ev.at, ev.incident_id)
    )
    conn.execute(
        "INSERT INTO incident_phases (incident_id, n, phase, entered_at, via)"
        " SELECT ?, COALESCE(MAX(n), 0) + 1, ?, ?, ? FROM incident_phases WHERE incident_id = ?",
        (ev.incident_id, p["to"], ev.at, p["trigger"], ev.incident_id),
    )
    for task_id in p.get("reopened_tasks", []):
        conn.execute(
            "UPDATE incident_tasks SET done = 0, done_by = NULL, done_at = NULL WHERE incident_id = ? AND task_id = ?",
            (ev.incident_id, task_id),
        )
    if p.get("cleared_facts"):
        row = conn.execute("SELECT facts FROM incidents WHERE id = ?", (ev.incident_id,)).fetchone()
        facts = {k: v for k, v in json.loads(row[0]).items() if k not in p["cleared_facts"]}
        conn.execute("UPDATE incidents SET facts = ? WHERE id = ?", (canonical_json(facts), ev.incident_id))


def _upsert_task(conn: sqlite3.Connection, ev: Event, **values: Any) -> None:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    updates = ", ".join(f"{k} = excluded.{k}" for k in values)
    conn.execute(
        f"INSERT INTO incident_tasks (incident_id, task_id, phase, {columns}) VALUES (?, ?, ?, {marks})"
        f" ON CONFLICT (incident_id, task_id) DO UPDATE SET {updates}",
        (ev.incident_id, ev.payload["task"], ev.payload.get("phase", ""), *values.values()),
    )


@projector("task.done")
def _task_done(conn: sqlite3.Connection, ev: Event) -> None:
    _upsert_task(conn, ev, done=1, done_by=ev.actor, done_at=ev.at)


@projector("task.reopened")
def _task_reopened(conn: sqlite3.Connection, ev: Event) -> None:
    _upsert_task(conn, ev, done=0, done_by=None, done_at=None)


@projector("task.assigned")
def _task_assigned(conn: sqlite3.Connection, ev: Event) -> None:
    _upsert_task(conn, ev, assignee=ev.payload["assignee"])


def _merge_json(conn: sqlite3.Connection, incident_id: str, column: str, changes: dict[str, Any]) -> None:
    row = conn.execute(f"SELECT {column} FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    current = json.loads(row[0]) if row else {}
    current.update(changes)
    conn.execute(f"UPDATE incidents SET {column} = ? WHERE id = ?", (canonical_json(current), incident_id))


@projector("decision.answered")
def _answered(conn: sqlite3.Connection, ev: Event) -> None:
    _merge_json(conn, ev.incident_id, "facts", {ev.payload["fact"]: ev.payload["value"]})


@projector("fact.set")
def _fact_set(conn: sqlite3.Connection, ev: Event) -> None:
    _merge_json(conn, ev.incident_id, "facts", ev.payload["facts"])


@projector("role.assigned")
def _role_assigned(conn: sqlite3.Connection, ev: Event) -> None:
    _merge_json(conn, ev.incident_id, "roles", {ev.payload["role"]: ev.payload["person"]})


@projector("incident.updated")
def _updated(conn: sqlite3.Connection, ev: Event) -> None:
    for column in ("title", "severity"):
        if column in ev.payload:
            conn.execute(f"UPDATE incidents SET {column} = ? WHERE id = ?", (ev.payload[column], ev.incident_id))


@projector("note.added")
def _note(conn: sqlite3.Connection, ev: Event) -> None:
    """Notes live only in the log (the timeline reads them from there)."""


_INCIDENT_COLUMNS = (
    "id, title, mode, severity, playbook_id, playbook_version, playbook_digest, phase, final,"
    " opened_at, opened_by, updated_at, closed_at, seq, facts, roles"
)


def _state(row: tuple[Any, ...]) -> IncidentState:
    return IncidentState(
        id=row[0], title=row[1], mode=row[2], severity=row[3], playbook_id=row[4], playbook_version=row[5],
        playbook_digest=row[6], phase=row[7], final=bool(row[8]), opened_at=row[9], opened_by=row[10],
        updated_at=row[11], closed_at=row[12], seq=row[13], facts=json.loads(row[14]), roles=json.loads(row[15]),
    )


_LOAD = (
    f"SELECT {_INCIDENT_COLUMNS},"
    " (SELECT json_group_array(json_array(task_id, done, done_by, done_at, assignee))"
    "  FROM incident_tasks WHERE incident_id = incidents.id),"
    " (SELECT json_group_array(json_array(phase, entered_at, left_at, via))"
    "  FROM (SELECT * FROM incident_phases WHERE incident_id = incidents.id ORDER BY n))"
    " FROM incidents WHERE id = ?"
)


def load_incident(conn: sqlite3.Connection, incident_id: str) -> IncidentState | None:
    """The full state of one incident (one query), or None if there is no such incident."""
    row = conn.execute(_LOAD, (incident_id,)).fetchone()
    if row is None:
        return None
    state = _state(row)
    for task_id, done, done_by, done_at, assignee in json.loads(row[16]):
        state.tasks[task_id] = TaskStatus(bool(done), done_by, done_at, assignee)
    state.visits = [PhaseVisit(*visit) for visit in json.loads(row[17])]
    return state


def list_incidents(conn: sqlite3.Connection, *, mode: str | None = "live", include_closed: bool = False) -> list[IncidentState]:
    """Incidents (without task and phase detail), newest first."""
    where, params = [], []  # type: ignore[var-annotated]
    if mode is not None:
        where.append("mode = ?")
        params.append(mode)
    if not include_closed:
        where.append("final = 0")
    sql = f"SELECT {_INCIDENT_COLUMNS} FROM incidents"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY opened_at DESC, id DESC"
    return [_state(row) for row in conn.execute(sql, params)]


def next_incident_id(conn: sqlite3.Connection, prefix: str, year: int) -> str:
    """Allocate the next id such as ``INC-2026-0007`` (call inside the write transaction)."""
    stem = f"{prefix}-{year}-"
    row = conn.execute(
        "SELECT MAX(CAST(substr(id, ?) AS INTEGER)) FROM incidents WHERE id LIKE ?", (len(stem) + 1, stem + "%")
    ).fetchone()
    return f"{stem}{(row[0] or 0) + 1:04d}"


def incident_exists(conn: sqlite3.Connection, incident_id: str) -> bool:
    """Whether the incident is known."""
    return conn.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone() is not None
