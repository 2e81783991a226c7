"""The workspace profile: organisation-level facts copied into every new incident."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from ir.store.chain import Event, canonical_json
from ir.store.events import CORE
from ir.store.projection import projection_table, projector

if TYPE_CHECKING:
    from sqlite_utils import Database

PROFILE_STREAM = "WORKSPACE"
"""The chain that records workspace-level changes (not an incident)."""


@CORE()
def m003_profile(db: Database) -> None:
    """Workspace profile table."""
    db.execute(
        """
        CREATE TABLE workspace_profile (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at TEXT NOT NULL
        ) STRICT
        """
    )


projection_table("workspace_profile", "key")


@projector("profile.set")
def _set(conn: sqlite3.Connection, ev: Event) -> None:
    for key, value in ev.payload["facts"].items():
        conn.execute(
            "INSERT INTO workspace_profile (key, value, set_by, set_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at",
            (key, canonical_json(value), ev.actor, ev.at),
        )


@projector("profile.unset")
def _unset(conn: sqlite3.Connection, ev: Event) -> None:
    for key in ev.payload["keys"]:
        conn.execute("DELETE FROM workspace_profile WHERE key = ?", (key,))


def load_profile(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Profile entries: key -> {value, set_by, set_at}."""
    return {
        key: {"value": json.loads(value), "set_by": by, "set_at": at}
        for key, value, by, at in conn.execute("SELECT key, value, set_by, set_at FROM workspace_profile ORDER BY key")
    }
