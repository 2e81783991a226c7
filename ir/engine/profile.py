"""The workspace profile: facts about the organisation that every incident inherits.

Some facts belong to the organisation, not the incident: its name and contact point for
notices, and what kind of entity it is (a critical-information-infrastructure operator
must report to the CAC within 1 hour, not 4). They are recorded once in the workspace's own
chain and copied into each new incident's opening event, where they can still be changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ir.clock import format_instant
from ir.engine import facts as factlib
from ir.errors import InvalidInput, Refused
from ir.store import events as eventlog
from ir.store import profile as profiledb

if TYPE_CHECKING:
    from ir.engine.playbook import FactType
    from ir.workspace import Workspace

KNOWN: dict[str, tuple[FactType, str]] = {
    "organisation": ("text", "the organisation's legal name, as it appears in notices"),
    "contact": ("text", "contact point for questions (privacy officer's name, e-mail, phone)"),
    "cii_operator": ("bool", "operates critical information infrastructure (China: 1-hour CAC report)"),
    "central_state_organ": ("bool", "a central or state organ or its direct unit (China: 2-hour report)"),
    "sec_registrant": ("bool", "files reports with the US SEC (Form 8-K Item 1.05)"),
    "hipaa_covered_entity": ("bool", "a HIPAA covered entity or business associate"),
    "nis2_entity": ("bool", "an essential or important entity under NIS2"),
    "financial_institution": ("bool", "a non-bank financial institution under the FTC Safeguards Rule"),
    "public_comms_provider": ("bool", "a public electronic communications service provider (UK PECR)"),
    "small_processing_agent": ("bool", "a small-scale processing agent under Brazil's LGPD (ANPD deadlines doubled)"),
    "notice_targets": ("counts", "own targets in hours for duties with no fixed period: {rule id or default: hours}"),
    "retention_days": ("integer", "days affected people's personal data is kept after an incident closes (ir subjects purge)"),
}
"""Profile keys ir knows, with their type and meaning; other keys are kept as given."""


class ProfileService:
    """Read and change the workspace profile."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def entries(self) -> dict[str, dict[str, Any]]:
        """Profile entries: key -> {value, set_by, set_at}."""
        with self.ws.store.read() as conn:
            return profiledb.load_profile(conn)

    def facts(self) -> dict[str, Any]:
        """The profile as facts for a new incident."""
        return {k: v["value"] for k, v in self.entries().items()}

    def set(self, assignments: dict[str, str]) -> None:
        """Set profile facts (typed for the keys in :data:`KNOWN`)."""
        if not assignments:
            raise InvalidInput("give at least one KEY=VALUE")
        typed = {}
        for key, raw in assignments.items():
            typed[key] = factlib.coerce(key, KNOWN[key][0], raw) if key in KNOWN else factlib.guess(raw)
        current = self.facts()
        changed = {k: v for k, v in typed.items() if current.get(k) != v}
        if not changed:
            raise Refused("the profile already has those values")
        self._append("profile.set", {"facts": changed})

    def unset(self, keys: list[str]) -> None:
        """Remove profile facts."""
        current = self.facts()
        missing = [k for k in keys if k not in current]
        if missing:
            raise Refused(f"the profile has no {', '.join(missing)}")
        self._append("profile.unset", {"keys": sorted(keys)})

    def _append(self, kind: str, payload: dict[str, Any]) -> None:
        now = format_instant(self.ws.clock.now())
        with self.ws.store.write() as conn:
            eventlog.append(conn, profiledb.PROFILE_STREAM, kind, payload, actor=self.ws.actor, at=now, recorded_at=now)
