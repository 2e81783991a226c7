"""The key service: the cipher for the configured key, key status, and key rotation.

Rotation re-seals every person's personal fields with a new key, in batches of
:data:`ROTATE_BATCH` rows, each batch its own write transaction (so other commands are held
up for a moment at most). Every row carries the id of the key that sealed it, so a rotation
that is interrupted (a crash, ``kill -9``) is finished by running the same command again: rows
already under the new key are skipped. When no row is left under another key, one
``keys.rotated`` event on the workspace chain records the fingerprints and the counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.clock import format_instant
from ir.errors import Refused
from ir.notices import keys
from ir.notices.keys import DataKey, NoKey
from ir.notices.pii import PLAIN, PURGED, Cipher
from ir.store import events as eventlog
from ir.store import subjects as subjectdb
from ir.store.profile import PROFILE_STREAM

if TYPE_CHECKING:
    from ir.workspace import Workspace

ROTATE_BATCH = 2_000
"""Rows re-sealed per write transaction."""

Progress = Any
"""Told (done, total) as rotation proceeds (or None)."""


@dataclass
class RotateResult:
    """What a rotation did.

    Attributes:
        old: fingerprint of the configured key (None: only unsealed rows were there).
        new: fingerprint of the new key.
        moved: rows re-sealed by this run, by the key (or ``plain``) they were under.
        already: rows found under the new key when this run started (an earlier run's work).
        remaining: rows still under another key at the end (an import ran meanwhile).
        seq: the ``keys.rotated`` event on the workspace chain.
    """

    old: str | None
    new: str
    moved: dict[str, int] = field(default_factory=dict)
    already: int = 0
    remaining: int = 0
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


class KeyService:
    """The workspace's view of its data key (which lives outside the workspace)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def cipher(self, why: str) -> Cipher:
        """A cipher with the configured key, able to seal and open.

        Args:
            why: what needs the key, for the message when there is none ("rendering ...").

        Raises:
            NoKey: no key is configured (the message says which variable to set).
        """
        return Cipher(keys.required(why=why))

    def reader(self) -> Cipher:
        """A cipher with the configured key, or none (it then opens only unsealed rows)."""
        return Cipher(keys.configured())

    def status(self) -> dict[str, Any]:
        """Which key is configured, and how many people each key id covers."""
        key = keys.configured()
        with self.ws.store.read() as conn:
            counts = subjectdb.key_counts(conn)
        return {
            "configured": None if key is None else {"fingerprint": key.fingerprint, "source": key.source},
            "keys": {k: {"people": n, "incidents": i} for k, (n, i) in counts.items()},
        }

    def rotate(self, new_key_file: Path, *, batch: int = ROTATE_BATCH, progress: Progress = None) -> RotateResult:
        """Re-seal every person's personal fields with the key in ``new_key_file``.

        The configured key (``IR_KEY_FILE`` / ``IR_KEY``) opens the rows sealed with it; rows
        stored before encryption are sealed too. Run it again after an interruption.

        Raises:
            Refused: nothing to rotate.
            NoKey: some rows are sealed with a key that is not configured.
        """
        new = keys.read_key_file(Path(new_key_file).expanduser(), "--new-key-file")
        old = keys.configured()
        with self.ws.store.read() as conn:
            counts = {k: n for k, (n, _) in subjectdb.key_counts(conn).items()}
        pending = {k: n for k, n in counts.items() if k not in (new.fingerprint, PURGED)}
        result = RotateResult(old.fingerprint if old else None, new.fingerprint, already=counts.get(new.fingerprint, 0))
        if not pending:
            if self._recorded_to() == new.fingerprint or not result.already:
                raise Refused(f"nothing to rotate: every person's personal fields are sealed with key {new.fingerprint}")
            # Every row was re-sealed but the run stopped before recording it: record it now.
            self._record(result)
            return result
        _check_openable(pending, old)
        cipher = Cipher(new, [old] if old else [])
        moved: Counter[str] = Counter()
        total = sum(pending.values())
        after = ("", "")
        while True:
            with self.ws.store.write() as conn:
                rows = subjectdb.sealed_after(conn, after, batch)
                if not rows:
                    break
                updates = []
                for incident_id, ref_hash, key_id, stored in rows:
                    if key_id in (new.fingerprint, PURGED):
                        continue
                    packed = cipher.open_packed(incident_id, ref_hash, stored)
                    updates.append((cipher.seal(incident_id, ref_hash, packed), new.fingerprint, incident_id, ref_hash, key_id))
                    moved[key_id] += 1
                subjectdb.reseal(conn, updates)
            after = (rows[-1][0], rows[-1][1])
            if progress:
                progress(sum(moved.values()), total)
        result.moved = dict(sorted(moved.items()))
        self._record(result)
        return result

    def _recorded_to(self) -> str | None:
        """The key the last recorded rotation went to (None if there was none)."""
        with self.ws.store.read() as conn:
            rotations = list(eventlog.read_events(conn, PROFILE_STREAM, kinds=["keys.rotated"]))
        return str(rotations[-1].payload.get("to")) if rotations else None

    def _record(self, result: RotateResult) -> None:
        """Append ``keys.rotated`` to the workspace chain, with what is left under other keys."""
        now = format_instant(self.ws.clock.now())
        with self.ws.store.write() as conn:
            result.remaining = subjectdb.not_under(conn, result.new)
            payload: dict[str, Any] = {
                "to": result.new,
                "from": result.moved,
                "rows": sum(result.moved.values()),
                "already": result.already,
                "remaining": result.remaining,
            }
            if result.old:
                payload["configured"] = result.old
            event = eventlog.append(conn, PROFILE_STREAM, "keys.rotated", payload, actor=self.ws.actor, at=now, recorded_at=now)
        result.seq = event.seq


def _check_openable(pending: dict[str, int], old: DataKey | None) -> None:
    """Refuse before changing anything if some rows are sealed with a key that is not configured."""
    for key_id, n in sorted(pending.items()):
        if key_id == PLAIN or (old is not None and key_id == old.fingerprint):
            continue
        configured = f"the configured key is {old.fingerprint}" if old else "no key is configured"
        raise NoKey(
            f"{n:,} people's personal fields are sealed with key {key_id} and {configured}: "
            f"set {keys.FILE_VAR} to the key that sealed them, then rotate again"
        )
