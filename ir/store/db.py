"""The workspace database: one SQLite file in WAL mode; its schema made with sqlite-utils.

Transaction policy (the whole of it):

* Every change goes through :meth:`Store.write`, which opens ``BEGIN IMMEDIATE``. The write
  lock is taken before anything is read, so the chain head and the projection a command
  decides on cannot change under it; other processes wait (``busy_timeout``) rather than
  fail. The events and their projection updates commit together or not at all.
* Multi-query reads go through :meth:`Store.read` (a deferred transaction) so they see one
  consistent snapshot.
* ``synchronous=FULL``: a command that returned has reached the disk.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.errors import WorkspaceError

if TYPE_CHECKING:
    from sqlite_utils import Database

BUSY_TIMEOUT_MS = 30_000
"""How long a command waits for another process's write to finish (``IR_BUSY_TIMEOUT`` seconds overrides)."""


def busy_timeout_ms() -> int:
    """The wait for a busy workspace: ``IR_BUSY_TIMEOUT`` (seconds) or :data:`BUSY_TIMEOUT_MS`."""
    value = os.environ.get("IR_BUSY_TIMEOUT", "").strip()
    try:
        return int(float(value) * 1000) if value else BUSY_TIMEOUT_MS
    except ValueError:
        return BUSY_TIMEOUT_MS

class MigrationSet:
    """A named, ordered set of schema migrations, declared as sqlite-utils' ``Migrations`` are
    (``@SET()`` on a function taking the database) and applied by them.

    Opening a workspace whose schema is current only compares names with the
    ``_sqlite_migrations`` table; sqlite-utils is imported when a migration is pending, so
    every command and the app's launch do not pay for importing it.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[tuple[str, Callable[[Database], None]]] = []

    def __call__(self, *, name: str | None = None) -> Callable[[Callable[[Database], None]], Callable[[Database], None]]:
        def inner(fn: Callable[[Database], None]) -> Callable[[Database], None]:
            step = name or fn.__name__
            if any(n == step for n, _ in self.steps):
                raise ValueError(f"migration '{step}' is already registered in set '{self.name}'")
            self.steps.append((step, fn))
            return fn

        return inner

    def apply(self, db: Database) -> None:
        """Apply the pending steps, in order, recording each (sqlite-utils' ``Migrations``)."""
        from sqlite_utils.migrations import Migrations

        migrations = Migrations(self.name)
        for step, fn in self.steps:
            migrations(name=step)(fn)
        migrations.apply(db)


_MIGRATION_SETS: list[MigrationSet] = []


def register_migrations(migrations: MigrationSet) -> MigrationSet:
    """Add a store module's migration set; sets apply in registration order."""
    if all(m.name != migrations.name for m in _MIGRATION_SETS):
        _MIGRATION_SETS.append(migrations)
    return migrations


def explain(exc: sqlite3.Error, path: Path) -> str:
    """Turn an SQLite error into a sentence a responder can act on."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return f"workspace {path} is busy: another process held it for over {busy_timeout_ms() / 1000:g}s; nothing was changed, try again"
    if "readonly" in text or "read-only" in text:
        return f"workspace {path} is read-only; nothing was changed"
    if "full" in text:
        return f"the disk holding workspace {path} is full; nothing was changed"
    if "not a database" in text or "malformed" in text:
        return f"{path} is not a usable ir workspace ({exc})"
    if "unable to open" in text:
        return f"cannot open workspace {path} (check the folder exists and is writable)"
    return f"workspace {path}: {exc}"


def database_error_message(exc: BaseException, path: Path) -> str | None:
    """A readable message if ``exc`` is an SQLite error, else None (for last-resort handlers)."""
    return explain(exc, path) if isinstance(exc, sqlite3.Error) else None


WORKSPACE_MODE = 0o660
"""A new workspace file's permissions (before the umask): its owner and group, nobody else.
The events hold facts about the breach; a team sharing a host shares a group, and other
accounts on the host have no business reading them. SQLite gives its ``-wal`` and ``-shm``
files the database file's permissions."""


def _create_private(path: Path) -> None:
    """Create the empty database file with :data:`WORKSPACE_MODE` (unless another process just did)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, WORKSPACE_MODE))
    except FileExistsError:
        pass


class Store:
    """An open workspace.

    Args:
        path: the SQLite file; created (with its folder) if missing and ``create`` is true.
        create: allow creating a new workspace.

    Raises:
        WorkspaceError: the file cannot be opened, is not an ir workspace, or was written by
            a newer version of ir.
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise WorkspaceError(f"no workspace at {self.path} (run 'ir init' to create one)")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _create_private(self.path)
            except OSError as exc:
                raise WorkspaceError(f"cannot create {self.path}: {exc.strerror}") from None
        elif self.path.is_dir():
            raise WorkspaceError(f"{self.path} is a folder; give the workspace's database file")
        try:
            self.conn: sqlite3.Connection = sqlite3.connect(str(self.path))
            self.conn.execute("PRAGMA recursive_triggers = ON")  # as sqlite-utils opens a database
            self.conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
            self._prepare()
        except sqlite3.Error as exc:
            self.close()
            raise WorkspaceError(explain(exc, self.path)) from None

    def _prepare(self) -> None:
        mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            self.conn.execute("PRAGMA journal_mode = wal")
        self.conn.execute("PRAGMA synchronous = FULL")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def migrate(self) -> None:
        """Apply pending migrations (after a restore from an older file, for example)."""
        self._migrate()

    @cached_property
    def db(self) -> Database:
        """The connection as a sqlite-utils ``Database`` (for migrations and schema checks)."""
        from sqlite_utils import Database

        return Database(self.conn, execute_plugins=False, strict=True)

    @staticmethod
    def known_migrations() -> set[tuple[str, str]]:
        """Every (set, name) migration this version of ir knows."""
        return {(m.name, step) for m in _MIGRATION_SETS for step, _ in m.steps}

    def _migrate(self) -> None:
        tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "_sqlite_migrations" not in tables:
            raise WorkspaceError(f"{self.path} is an SQLite database but not an ir workspace")
        known = self.known_migrations()
        applied: set[tuple[str, str]] = set()
        if "_sqlite_migrations" in tables:
            applied = set(self.conn.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall())
            newer = sorted(f"{s}/{n}" for s, n in applied if s.startswith("ir.") and (s, n) not in known)
            if newer:
                raise WorkspaceError(
                    f"workspace {self.path} was written by a newer ir (schema {newer[0]}); upgrade ir to use it"
                )
        if known <= applied:
            return
        # Two processes may open a new workspace at once: migrate under the write lock.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for migrations in _MIGRATION_SETS:
                migrations.apply(self.db)
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the workspace."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): everything inside commits or nothing does.

        Raises:
            WorkspaceError: the workspace is locked too long, read-only or the disk is full.
        """
        if self.conn.in_transaction:
            raise RuntimeError("write transactions do not nest")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise WorkspaceError(explain(exc, self.path)) from None
        try:
            yield self.conn
        except sqlite3.Error as exc:
            self._rollback()
            raise WorkspaceError(explain(exc, self.path)) from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise WorkspaceError(explain(exc, self.path)) from None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read snapshot: several queries see the same state of the workspace."""
        if self.conn.in_transaction:
            yield self.conn
            return
        try:
            self.conn.execute("BEGIN")
            yield self.conn
        except sqlite3.Error as exc:
            raise WorkspaceError(explain(exc, self.path)) from None
        finally:
            self._rollback()

    def _rollback(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Run a read query and return rows that can be indexed by column name."""
        try:
            cursor = self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise WorkspaceError(explain(exc, self.path)) from None
        names = [d[0] for d in cursor.description or ()]
        return [_Row(names, row) for row in cursor.fetchall()]


class _Row(dict):  # type: ignore[type-arg]
    """A row as a dict of column name to value."""

    def __init__(self, names: list[str], values: tuple[Any, ...]) -> None:
        super().__init__(zip(names, values, strict=True))
