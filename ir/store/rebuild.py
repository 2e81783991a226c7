"""Rebuilding projections from the event log, and proving the result is identical."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ir.store import projection
from ir.store.events import read_events


@dataclass
class RebuildReport:
    """What a rebuild replayed and where the rebuilt tables differ from the old ones.

    Attributes:
        events: events replayed.
        rows: rows per projection table after the rebuild.
        differences: human-readable differences (empty when identical).
    """

    events: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """True when the rebuilt projections equal the ones they replaced."""
        return not self.differences


def _scope(conn: sqlite3.Connection, table: projection.ProjectionTable, incident_id: str | None) -> tuple[str, tuple[Any, ...]] | None:
    """The WHERE clause limiting ``table`` to one incident, or None if the table is not per-incident."""
    if incident_id is None:
        return "", ()
    columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table.name})")}
    if table.name == "incidents":
        return " WHERE id = ?", (incident_id,)
    if "incident_id" in columns:
        return " WHERE incident_id = ?", (incident_id,)
    return None


def _dump(conn: sqlite3.Connection, table: projection.ProjectionTable, where: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    return list(conn.execute(f"SELECT * FROM {table.name}{where} ORDER BY {table.order_by}", params))


def rebuild(conn: sqlite3.Connection, incident_id: str | None = None) -> RebuildReport:
    """Clear the projections (of one incident, or all) and replay the log, inside the caller's transaction."""
    scoped = [(t, _scope(conn, t, incident_id)) for t in projection.tables()]
    tables = [(t, scope) for t, scope in scoped if scope is not None]
    before = {t.name: _dump(conn, t, *scope) for t, scope in tables}
    for table, (where, params) in reversed(tables):
        conn.execute(f"DELETE FROM {table.name}{where}", params)
    report = RebuildReport()
    for event in read_events(conn, incident_id):
        projection.apply(conn, event)
        report.events += 1
    for table, scope in tables:
        after = _dump(conn, table, *scope)
        report.rows[table.name] = len(after)
        report.differences.extend(_diff(table.name, before[table.name], after))
    return report


def _diff(name: str, before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]) -> list[str]:
    if before == after:
        return []
    old, new = set(before), set(after)
    out = [f"{name}: row {row!r} was not reproduced" for row in before if row not in new][:5]
    out += [f"{name}: row {row!r} is new" for row in after if row not in old][:5]
    if not out:
        out.append(f"{name}: same rows in a different order")
    return out
