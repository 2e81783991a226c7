"""Affected people: a data table, not a projection.

A million people cannot be a million events, and their personal fields must be encrypted
and later purged, so the people live in ``subjects`` (keyed by incident and the SHA-256 of
their reference) and each import is summarised by one ``subjects.imported`` event written in
the transaction that finishes it. ``ir admin rebuild`` leaves these tables alone.

Personal fields are one opaque column, ``pii``: an authenticated-encryption blob (see
:mod:`ir.notices.pii`), with ``key_id`` naming the key that sealed it; SQL here never looks
inside it. Purging sets ``pii`` to NULL and keeps everything else. Rows are written in key order (see :mod:`ir.notices.runs`), which keeps the
table's single B-tree growing at its end instead of being rewritten at random.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

from ir.store.chain import Event, canonical_json
from ir.store.db import MigrationSet, register_migrations
from ir.store.projection import projector

if TYPE_CHECKING:
    from sqlite_utils import Database

SUBJECTS = register_migrations(MigrationSet("ir.subjects"))
"""Migration set for the affected-people tables."""

Row = tuple[str, int, str, str, str, bytes]
"""A person as imported: (ref_hash, line, jurisdiction, locale, categories JSON, sealed pii)."""

PLAIN = "plain"
"""``key_id`` of rows written before encryption: ``pii`` holds the packed fields in the clear."""

PURGED = "purged"
"""``key_id`` of rows whose personal fields were destroyed (``pii`` is NULL)."""


@SUBJECTS()
def m001_subjects(db: Database) -> None:
    """People, their counts by jurisdiction and locale, and the imports that wrote them."""
    db.execute(
        """
        CREATE TABLE subjects (
            incident_id TEXT NOT NULL,
            ref_hash TEXT NOT NULL,
            jurisdiction TEXT NOT NULL,
            locale TEXT NOT NULL,
            categories TEXT NOT NULL,
            pii TEXT NOT NULL,
            import_id INTEGER NOT NULL,
            line INTEGER NOT NULL,
            PRIMARY KEY (incident_id, ref_hash)
        ) STRICT, WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE subject_counts (
            incident_id TEXT NOT NULL,
            jurisdiction TEXT NOT NULL,
            locale TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (incident_id, jurisdiction, locale)
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TABLE subject_imports (
            id INTEGER PRIMARY KEY,
            incident_id TEXT NOT NULL,
            file_name TEXT NOT NULL,
            file_sha256 TEXT NOT NULL,
            options TEXT NOT NULL,
            state TEXT NOT NULL,
            started_at TEXT NOT NULL,
            started_by TEXT NOT NULL,
            finished_at TEXT,
            merged_key TEXT NOT NULL DEFAULT '',
            imported INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            event_seq INTEGER
        ) STRICT
        """
    )
    db.execute("CREATE INDEX subject_imports_state ON subject_imports (incident_id, state)")


@SUBJECTS()
def m002_sealed_pii(db: Database) -> None:
    """Personal fields become a sealed blob with the id of the key that sealed it (NULL once purged).

    SQLite cannot change a column's type in place, so the table is copied. Rows from before
    encryption keep their packed text as bytes, marked ``plain`` until ``ir key rotate``
    seals them.
    """
    db.execute(
        """
        CREATE TABLE subjects_sealed (
            incident_id TEXT NOT NULL,
            ref_hash TEXT NOT NULL,
            jurisdiction TEXT NOT NULL,
            locale TEXT NOT NULL,
            categories TEXT NOT NULL,
            pii BLOB,
            key_id TEXT NOT NULL,
            import_id INTEGER NOT NULL,
            line INTEGER NOT NULL,
            PRIMARY KEY (incident_id, ref_hash)
        ) STRICT, WITHOUT ROWID
        """
    )
    db.execute(
        "INSERT INTO subjects_sealed (incident_id, ref_hash, jurisdiction, locale, categories, pii, key_id, import_id, line)"
        f" SELECT incident_id, ref_hash, jurisdiction, locale, categories, CAST(pii AS BLOB), '{PLAIN}', import_id, line"
        " FROM subjects ORDER BY incident_id, ref_hash"
    )
    db.execute("DROP TABLE subjects")
    db.execute("ALTER TABLE subjects_sealed RENAME TO subjects")


@projector("subjects.imported")
def _imported(conn: sqlite3.Connection, ev: Event) -> None:
    """The people are in ``subjects``, written with the event; nothing to project."""


RUNNING = "running"
DONE = "done"
ABANDONED = "abandoned"


@dataclass(frozen=True)
class ImportRecord:
    """One import of a file into an incident, and how far it got.

    Attributes:
        merged_key: the last ref_hash written (imports write people in key order).
        imported, updated, unchanged: counts so far.
    """

    id: int
    incident_id: str
    file_name: str
    file_sha256: str
    options: str
    state: str
    started_at: str
    started_by: str
    merged_key: str
    imported: int
    updated: int
    unchanged: int


_IMPORT_COLUMNS = (
    "id, incident_id, file_name, file_sha256, options, state, started_at, started_by, merged_key, imported, updated, unchanged"
)


def running_imports(conn: sqlite3.Connection, incident_id: str) -> list[ImportRecord]:
    """Imports into the incident that started and did not finish."""
    rows = conn.execute(
        f"SELECT {_IMPORT_COLUMNS} FROM subject_imports WHERE incident_id = ? AND state = ? ORDER BY id",
        (incident_id, RUNNING),
    )
    return [ImportRecord(*row) for row in rows]


def start_import(
    conn: sqlite3.Connection, incident_id: str, file_name: str, file_sha256: str, options: Mapping[str, Any], *, at: str, by: str
) -> ImportRecord:
    """Record that an import begins."""
    cursor = conn.execute(
        "INSERT INTO subject_imports (incident_id, file_name, file_sha256, options, state, started_at, started_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (incident_id, file_name, file_sha256, canonical_json(dict(options)), RUNNING, at, by),
    )
    return ImportRecord(int(cursor.lastrowid or 0), incident_id, file_name, file_sha256, canonical_json(dict(options)),
                        RUNNING, at, by, "", 0, 0, 0)


def advance_import(conn: sqlite3.Connection, record: ImportRecord, merged_key: str, imported: int, updated: int, unchanged: int) -> bool:
    """Move an import's progress on from ``record``; False if someone else moved it first."""
    cursor = conn.execute(
        "UPDATE subject_imports SET merged_key = ?, imported = ?, updated = ?, unchanged = ?"
        " WHERE id = ? AND state = ? AND merged_key = ?",
        (merged_key, imported, updated, unchanged, record.id, RUNNING, record.merged_key),
    )
    return cursor.rowcount == 1


def forget_import(conn: sqlite3.Connection, import_id: int) -> None:
    """Delete the record of a running import that has not written anybody yet."""
    conn.execute(
        "DELETE FROM subject_imports WHERE id = ? AND state = ? AND merged_key = ''", (import_id, RUNNING)
    )


def end_import(conn: sqlite3.Connection, import_id: int, state: str, *, at: str, event_seq: int | None) -> None:
    """Mark an import finished (``done``) or given up (``abandoned``)."""
    conn.execute(
        "UPDATE subject_imports SET state = ?, finished_at = ?, event_seq = ? WHERE id = ?",
        (state, at, event_seq, import_id),
    )


def existing(conn: sqlite3.Connection, incident_id: str, keys: Sequence[str]) -> dict[str, tuple[str, str, str, bytes | None]]:
    """The stored (jurisdiction, locale, categories, pii) of those ``keys`` the incident has."""
    if not keys:
        return {}
    probe = conn.execute(
        "SELECT 1 FROM subjects WHERE incident_id = ? AND ref_hash BETWEEN ? AND ? LIMIT 1", (incident_id, keys[0], keys[-1])
    ).fetchone()
    if probe is None:
        # The common case, a first import: nobody is stored in this key range yet.
        return {}
    rows = conn.execute(
        "SELECT ref_hash, jurisdiction, locale, categories, pii FROM subjects"
        " WHERE incident_id = ? AND ref_hash IN (SELECT value FROM json_each(?))",
        (incident_id, json.dumps(list(keys))),
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def write_people(
    conn: sqlite3.Connection,
    incident_id: str,
    import_id: int,
    key_id: str,
    new: Sequence[Row],
    changed: Sequence[tuple[Row, tuple[str, str, str, bytes | None]]],
) -> None:
    """Insert new people and update changed ones, keeping the counts in step.

    Args:
        key_id: the fingerprint of the key that sealed the rows' personal fields.
        new: people not yet stored, in key order.
        changed: (person as imported, what was stored before) for people whose data changed.
    """
    _insert(conn, [(incident_id, import_id, key_id, *r) for r in new])
    conn.executemany(
        "UPDATE subjects SET line = ?, jurisdiction = ?, locale = ?, categories = ?, pii = ?, key_id = ?, import_id = ?"
        " WHERE incident_id = ? AND ref_hash = ?",
        [(r[1], r[2], r[3], r[4], r[5], key_id, import_id, incident_id, r[0]) for r, _ in changed],
    )
    delta: Counter[tuple[str, str]] = Counter((r[2], r[3]) for r in new)
    for r, (jurisdiction, locale, _c, _p) in changed:
        if (r[2], r[3]) != (jurisdiction, locale):
            delta[(r[2], r[3])] += 1
            delta[(jurisdiction, locale)] -= 1
    _bump(conn, incident_id, delta)


def _bump(conn: sqlite3.Connection, incident_id: str, delta: Mapping[tuple[str, str], int]) -> None:
    conn.executemany(
        "INSERT INTO subject_counts (incident_id, jurisdiction, locale, n) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (incident_id, jurisdiction, locale) DO UPDATE SET n = n + excluded.n",
        [(incident_id, j, loc, n) for (j, loc), n in delta.items() if n],
    )
    conn.execute("DELETE FROM subject_counts WHERE incident_id = ? AND n = 0", (incident_id,))


_INSERT = "INSERT INTO subjects (incident_id, import_id, key_id, ref_hash, line, jurisdiction, locale, categories, pii) VALUES "
_ONE = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
_WIDTH = 9
_MANY = 50
_INSERT_MANY = _INSERT + ", ".join([_ONE] * _MANY)


@dataclass
class Prepared:
    """A batch of new people, already laid out as the INSERT statements' parameters.

    Preparing is done beside the writer (in another process), so the one process that
    writes only binds and steps.

    Attributes:
        first, last: the batch's first and last key.
        groups: parameters of :data:`_MANY` people each, flattened.
        tail: parameters of the remaining people, one tuple each.
        counts: people by (jurisdiction, locale).
    """

    first: str
    last: str
    groups: list[tuple[Any, ...]]
    tail: list[tuple[Any, ...]]
    counts: dict[tuple[str, str], int]

    def rows(self) -> list[Row]:
        """The people as rows again (for a batch that turns out to meet stored people)."""
        flat = [value for group in self.groups for value in group]
        people = [tuple(flat[i + 3 : i + _WIDTH]) for i in range(0, len(flat), _WIDTH)]
        return [*people, *(tuple(t[3:]) for t in self.tail)]  # type: ignore[misc]


def prepare(incident_id: str, import_id: int, key_id: str, rows: Sequence[Row]) -> Prepared:
    """Lay out new people as INSERT parameters (see :class:`Prepared`)."""
    full = len(rows) // _MANY * _MANY
    groups = [
        tuple(chain.from_iterable((incident_id, import_id, key_id, *r) for r in rows[i : i + _MANY]))
        for i in range(0, full, _MANY)
    ]
    tail = [(incident_id, import_id, key_id, *r) for r in rows[full:]]
    counts: Counter[tuple[str, str]] = Counter((r[2], r[3]) for r in rows)
    return Prepared(rows[0][0], rows[-1][0], groups, tail, dict(counts))


def insert_prepared(conn: sqlite3.Connection, incident_id: str, batch: Prepared) -> None:
    """Insert a prepared batch of people none of whom is stored yet."""
    if batch.groups:
        conn.executemany(_INSERT_MANY, batch.groups)
    if batch.tail:
        conn.executemany(_INSERT + _ONE, batch.tail)
    _bump(conn, incident_id, batch.counts)


def any_between(conn: sqlite3.Connection, incident_id: str, first: str, last: str) -> bool:
    """Whether the incident has anybody stored with a key from ``first`` to ``last``."""
    return conn.execute(
        "SELECT 1 FROM subjects WHERE incident_id = ? AND ref_hash BETWEEN ? AND ? LIMIT 1", (incident_id, first, last)
    ).fetchone() is not None


def _insert(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows, fifty to a statement: a fifth less CPU per person than one statement each."""
    full = len(rows) // _MANY * _MANY
    if full:
        conn.executemany(
            _INSERT_MANY, [tuple(chain.from_iterable(rows[i : i + _MANY])) for i in range(0, full, _MANY)]
        )
    if full < len(rows):
        conn.executemany(_INSERT + _ONE, rows[full:])


def counts(conn: sqlite3.Connection, incident_id: str) -> dict[tuple[str, str], int]:
    """People stored for the incident by (jurisdiction, locale)."""
    rows = conn.execute("SELECT jurisdiction, locale, n FROM subject_counts WHERE incident_id = ?", (incident_id,))
    return {(j, loc): n for j, loc, n in rows}


def by_jurisdiction(conn: sqlite3.Connection, incident_id: str) -> dict[str, int]:
    """People stored for the incident by jurisdiction, sorted by code."""
    rows = conn.execute(
        "SELECT jurisdiction, SUM(n) FROM subject_counts WHERE incident_id = ? GROUP BY jurisdiction ORDER BY jurisdiction",
        (incident_id,),
    )
    return {j: int(n) for j, n in rows}


def imports(conn: sqlite3.Connection, incident_id: str) -> list[dict[str, Any]]:
    """Every import into the incident, oldest first."""
    cursor = conn.execute(
        "SELECT id, file_name, file_sha256, state, started_at, started_by, finished_at, imported, updated, unchanged, event_seq"
        " FROM subject_imports WHERE incident_id = ? ORDER BY id",
        (incident_id,),
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def page(
    conn: sqlite3.Connection, incident_id: str, after: str, limit: int, jurisdictions: Iterable[str] = ()
) -> list[tuple[str, str, str, str, bytes | None]]:
    """The next people after key ``after``, in key order: (ref_hash, jurisdiction, locale, categories, pii).

    Args:
        jurisdictions: keep only these codes; a bare country code (``US``) also keeps its
            subdivisions (``US-CA``).
    """
    where, params = jurisdiction_filter(jurisdictions)
    return conn.execute(
        "SELECT ref_hash, jurisdiction, locale, categories, pii FROM subjects"
        f" WHERE incident_id = ? AND ref_hash > ?{where} ORDER BY ref_hash LIMIT ?",
        (incident_id, after, *params, limit),
    ).fetchall()


def people(conn: sqlite3.Connection, incident_id: str, keys: Sequence[str]) -> dict[str, tuple[str, str, str, bytes | None]]:
    """(jurisdiction, locale, categories, pii) of the given people."""
    rows = conn.execute(
        "SELECT ref_hash, jurisdiction, locale, categories, pii FROM subjects"
        " WHERE incident_id = ? AND ref_hash IN (SELECT value FROM json_each(?))",
        (incident_id, json.dumps(list(keys))),
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def count_selected(conn: sqlite3.Connection, incident_id: str, jurisdictions: Iterable[str] = ()) -> int:
    """How many people :func:`page` would give in all."""
    where, params = jurisdiction_filter(jurisdictions)
    row = conn.execute(
        f"SELECT COALESCE(SUM(n), 0) FROM subject_counts WHERE incident_id = ?{where}", (incident_id, *params)
    ).fetchone()
    return int(row[0])


def jurisdiction_filter(jurisdictions: Iterable[str]) -> tuple[str, list[str]]:
    """An SQL condition (starting `` AND``) keeping people of these jurisdictions, and its parameters."""
    codes = sorted(set(jurisdictions))
    if not codes:
        return "", []
    terms, params = [], []
    for code in codes:
        terms.append("jurisdiction = ?")
        params.append(code)
        if "-" not in code:
            terms.append("jurisdiction LIKE ?")
            params.append(code + "-%")
    return " AND (" + " OR ".join(terms) + ")", params


# ------------------------------------------------------------------ classification


def category_lists(conn: sqlite3.Connection, incident_id: str) -> dict[str, int]:
    """People by the category list they carry (a JSON list of ids; ``[]`` for none of their own)."""
    rows = conn.execute(
        "SELECT categories, COUNT(*) FROM subjects WHERE incident_id = ? GROUP BY categories", (incident_id,)
    )
    return {text: int(n) for text, n in rows}


# ------------------------------------------------------------------------ keys


def key_counts(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Rows by the key that sealed them: key id -> (people, incidents); ``plain`` and ``purged`` too."""
    rows = conn.execute("SELECT key_id, COUNT(*), COUNT(DISTINCT incident_id) FROM subjects GROUP BY key_id ORDER BY key_id")
    return {key: (int(n), int(incidents)) for key, n, incidents in rows}


def sealed_after(
    conn: sqlite3.Connection, after: tuple[str, str], limit: int
) -> list[tuple[str, str, str, bytes | None]]:
    """The next rows in (incident, person) order after ``after``: (incident_id, ref_hash, key_id, pii)."""
    return conn.execute(
        "SELECT incident_id, ref_hash, key_id, pii FROM subjects WHERE (incident_id, ref_hash) > (?, ?)"
        " ORDER BY incident_id, ref_hash LIMIT ?",
        (*after, limit),
    ).fetchall()


def reseal(conn: sqlite3.Connection, rows: Sequence[tuple[bytes, str, str, str, str]]) -> int:
    """Replace sealed values: (pii, key_id, incident_id, ref_hash, the key_id it had); return how many changed.

    A row whose key changed since it was read (another rotation) is left alone.
    """
    before = conn.total_changes
    conn.executemany(
        "UPDATE subjects SET pii = ?, key_id = ? WHERE incident_id = ? AND ref_hash = ? AND key_id = ?", rows
    )
    return conn.total_changes - before


def not_under(conn: sqlite3.Connection, key_id: str) -> int:
    """Rows with personal fields sealed by another key than ``key_id`` (or not sealed)."""
    row = conn.execute(
        "SELECT COUNT(*) FROM subjects WHERE key_id NOT IN (?, ?)", (key_id, PURGED)
    ).fetchone()
    return int(row[0])


# ----------------------------------------------------------------------- purge


def purge(conn: sqlite3.Connection, incident_id: str) -> int:
    """Destroy the personal fields of the incident's people; return how many rows held some.

    ``secure_delete`` makes SQLite overwrite the freed bytes with zeros instead of leaving
    them in free space on the page.
    """
    conn.execute("PRAGMA secure_delete = ON")
    cursor = conn.execute(
        "UPDATE subjects SET pii = NULL, key_id = ? WHERE incident_id = ? AND pii IS NOT NULL", (PURGED, incident_id)
    )
    return cursor.rowcount


def purged_count(conn: sqlite3.Connection, incident_id: str) -> tuple[int, int]:
    """(people whose fields were destroyed, people still holding fields) for the incident."""
    row = conn.execute(
        "SELECT COALESCE(SUM(pii IS NULL), 0), COALESCE(SUM(pii IS NOT NULL), 0) FROM subjects WHERE incident_id = ?",
        (incident_id,),
    ).fetchone()
    return int(row[0]), int(row[1])


def flush_freed(conn: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database and empty it, so earlier page images holding
    destroyed values do not linger in the log file (call outside a transaction)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


@projector("subjects.purged")
def _purged(conn: sqlite3.Connection, ev: Event) -> None:
    """The rows were changed with the event (a data table); nothing to project."""


@projector("keys.rotated")
def _rotated(conn: sqlite3.Connection, ev: Event) -> None:
    """Rows were resealed batch by batch before the event; nothing to project."""


def one(conn: sqlite3.Connection, incident_id: str, ref_hash: str) -> tuple[str, str, str, bytes | None, str, int] | None:
    """One person: (jurisdiction, locale, categories, pii, key_id, import_id), or None."""
    row = conn.execute(
        "SELECT jurisdiction, locale, categories, pii, key_id, import_id FROM subjects WHERE incident_id = ? AND ref_hash = ?",
        (incident_id, ref_hash),
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4], int(row[5]))
