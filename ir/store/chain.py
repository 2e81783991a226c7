"""Events and their hash chain.

Each incident has its own chain. An event's hash is the SHA-256 of its *body*: the
canonical JSON (sorted keys, no spaces, UTF-8) of ``actor, at, incident_id, kind,
os_user, payload, prev_hash, recorded_at, seq`` (``os_user``, the operating-system account
of the process that wrote it, only when known). ``prev_hash`` is the previous event's hash, or
:data:`GENESIS` for the first. Because the body is one line of plain JSON, anyone can
check an event with standard tools: ``printf '%s' "$body" | sha256sum``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
"""The ``prev_hash`` of an incident's first event."""


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no insignificant spaces, non-ASCII kept as UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Event:
    """One recorded change to an incident.

    Attributes:
        incident_id: the chain (incident) the event belongs to.
        seq: 1-based position in that chain.
        at: when it happened on the incident's clock (virtual in a drill), UTC.
        recorded_at: when it was written, on the wall clock, UTC.
        actor: who did it.
        kind: what happened, e.g. ``task.done``.
        payload: the details, JSON-ready.
        prev_hash: hash of the previous event in the chain.
        hash: SHA-256 of :meth:`body`.
        id: global position in the workspace's log (assigned when stored).
        os_user: the operating-system account that wrote it: evidence of who was really at the
            keyboard, whatever ``actor`` (a name given with ``--as``) claims.
    """

    incident_id: str
    seq: int
    at: str
    recorded_at: str
    actor: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    id: int | None = None
    os_user: str = ""

    def body(self) -> str:
        """The canonical text the hash covers."""
        return event_body(
            self.incident_id, self.seq, self.at, self.recorded_at, self.actor, self.kind, self.payload, self.prev_hash,
            self.os_user,
        )

    def as_dict(self) -> dict[str, Any]:
        """The event as plain data (for JSON output and export)."""
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "seq": self.seq,
            "at": self.at,
            "recorded_at": self.recorded_at,
            "actor": self.actor,
            "kind": self.kind,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "os_user": self.os_user,
        }


def event_body(
    incident_id: str, seq: int, at: str, recorded_at: str, actor: str, kind: str, payload: Any, prev_hash: str,
    os_user: str = "",
) -> str:
    """Canonical body of an event (what its hash covers)."""
    return body_with_payload_text(
        incident_id, seq, at, recorded_at, actor, kind, canonical_json(payload), prev_hash, os_user
    )


def body_with_payload_text(
    incident_id: str, seq: int, at: str, recorded_at: str, actor: str, kind: str, payload_text: str, prev_hash: str,
    os_user: str = "",
) -> str:
    """The canonical body, given the payload already in canonical JSON.

    Equal to ``canonical_json`` of the whole event (keys in sorted order), without encoding
    the payload twice on the write path.
    """
    enc = _ENCODE
    account = f'"os_user":{enc(os_user)},' if os_user else ""
    return (
        f'{{"actor":{enc(actor)},"at":{enc(at)},"incident_id":{enc(incident_id)},"kind":{enc(kind)},{account}'
        f'"payload":{payload_text},"prev_hash":{enc(prev_hash)},"recorded_at":{enc(recorded_at)},"seq":{int(seq)}}}'
    )


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


@dataclass
class ChainProblem:
    """The first place an incident's chain does not verify."""

    incident_id: str
    seq: int
    kind: str
    at: str
    problem: str

    def __str__(self) -> str:
        return f"{self.incident_id} event #{self.seq} ({self.kind} at {self.at}): {self.problem}"


class ChainChecker:
    """Checks one incident's events in order; stops at the first problem."""

    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        self.expected_seq = 1
        self.prev = GENESIS
        self.problem: ChainProblem | None = None
        self.count = 0

    def feed(
        self, seq: int, at: str, recorded_at: str, actor: str, kind: str, payload_text: str, prev_hash: str,
        stored_hash: str, os_user: str = "",
    ) -> bool:
        """Check the next stored event; return False once a problem is found."""
        if self.problem is not None:
            return False

        def fail(message: str) -> bool:
            self.problem = ChainProblem(self.incident_id, seq, kind, at, message)
            return False

        if seq != self.expected_seq:
            return fail(f"sequence number {seq} where {self.expected_seq} was expected (an event is missing)")
        if prev_hash != self.prev:
            return fail(f"previous-hash link {prev_hash[:12]}… does not match event #{seq - 1}'s hash {self.prev[:12]}…")
        try:
            payload = json.loads(payload_text)
        except ValueError:
            return fail("payload is not valid JSON")
        body = event_body(self.incident_id, seq, at, recorded_at, actor, kind, payload, prev_hash, os_user)
        computed = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if computed != stored_hash:
            return fail(f"content does not match its hash (recorded {stored_hash[:12]}…, computed {computed[:12]}…)")
        self.prev = stored_hash
        self.expected_seq += 1
        self.count += 1
        return True
