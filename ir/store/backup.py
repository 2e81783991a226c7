"""Consistent copies of a workspace while others work, and restoring one safely."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ir.errors import InvalidInput, WorkspaceError
from ir.store.db import Store, explain


def backup_to(store: Store, target: Path) -> None:
    """Copy the live workspace to ``target`` with SQLite's online backup (a consistent snapshot).

    Raises:
        InvalidInput: ``target`` exists or its folder is missing.
        WorkspaceError: the copy failed (disk full, unreadable workspace).
    """
    if target.exists():
        raise InvalidInput(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise InvalidInput(f"folder {target.parent} does not exist")
    partial = target.with_name(target.name + ".partial")
    try:
        # A backup holds everything the workspace does: readable by its owner only.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        dest = sqlite3.connect(partial)
        try:
            store.conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
        finally:
            dest.close()
        partial.rename(target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise WorkspaceError(explain(exc, target)) from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise WorkspaceError(f"cannot write {target}: {exc.strerror or exc}") from None


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open a workspace file for reading only (a backup to check, a file to restore from).

    Raises:
        InvalidInput: the file is missing.
        WorkspaceError: it is not an ir workspace.
    """
    if not path.is_file():
        raise InvalidInput(f"no file {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        raise WorkspaceError(explain(exc, path)) from None
    if not {"events", "incidents", "_sqlite_migrations"} <= tables:
        conn.close()
        raise WorkspaceError(f"{path} is not an ir workspace")
    return conn


def unknown_migrations(conn: sqlite3.Connection, known: set[tuple[str, str]]) -> list[str]:
    """Schema changes recorded in a file that this version of ir does not know (a newer file)."""
    rows = conn.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
    return [f"{s}/{n}" for s, n in rows if s.startswith("ir.") and (s, n) not in known]


def copy_connection(source: sqlite3.Connection, store: Store) -> None:
    """Copy ``source``'s whole content over the live workspace (see :func:`restore_from`)."""
    try:
        source.backup(store.conn)
    except sqlite3.Error as exc:
        raise WorkspaceError(explain(exc, store.path)) from None
