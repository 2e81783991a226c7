"""Projections: tables derived from events, updated in the same transaction as the append.

Each store module registers, for every event kind it owns, a projector that applies one
event to its tables, and the projection tables it maintains (so ``rebuild`` can clear and
compare them). An event kind nobody registered is an error: the log must stay readable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from ir.errors import IntegrityError
from ir.store.chain import Event

Projector = Callable[[sqlite3.Connection, Event], None]


@dataclass(frozen=True)
class ProjectionTable:
    """A table derived from events, and the columns that order its rows for comparison."""

    name: str
    order_by: str


_PROJECTORS: dict[str, Projector] = {}
_TABLES: list[ProjectionTable] = []


def projector(*kinds: str) -> Callable[[Projector], Projector]:
    """Register a function as the projector for ``kinds``."""

    def register(fn: Projector) -> Projector:
        for kind in kinds:
            if kind in _PROJECTORS:
                raise ValueError(f"event kind '{kind}' already has a projector")
            _PROJECTORS[kind] = fn
        return fn

    return register


def projection_table(name: str, order_by: str) -> None:
    """Declare a table as derived from events (cleared and rebuilt by ``ir admin rebuild``)."""
    if all(t.name != name for t in _TABLES):
        _TABLES.append(ProjectionTable(name, order_by))


def tables() -> list[ProjectionTable]:
    """Every projection table, in registration order."""
    return list(_TABLES)


def known_kinds() -> set[str]:
    """Event kinds that have a projector."""
    return set(_PROJECTORS)


def apply(conn: sqlite3.Connection, event: Event) -> None:
    """Apply one event to the projections.

    Raises:
        IntegrityError: no projector is registered for the event's kind.
    """
    fn = _PROJECTORS.get(event.kind)
    if fn is None:
        raise IntegrityError(f"{event.incident_id} event #{event.seq}: unknown event kind '{event.kind}'")
    fn(conn, event)
    conn.execute(
        "UPDATE incidents SET seq = ?, head_hash = ?, updated_at = ? WHERE id = ?",
        (event.seq, event.hash, event.at, event.incident_id),
    )
