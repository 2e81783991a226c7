"""The incident service: every change to an incident goes through here.

A command runs in one write transaction: load the incident's projection, check the
caller's view is current, decide the events (pure, in :mod:`ir.engine.commands`), append
them to the chain with their projection updates, and let registered reactors (for
example the obligations engine) add the events that follow from them, all or nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ir.clock import Clock, format_instant
from ir.engine import commands
from ir.engine.commands import NewEvent
from ir.engine.state import MODES, IncidentState
from ir.engine.views import incident_view
from ir.errors import InvalidInput, NotFound, StaleView
from ir.i18n import pick
from ir.store import Event
from ir.store import events as eventlog
from ir.store import incidents as incidentdb

if TYPE_CHECKING:
    import sqlite3

    from ir.engine.playbook import Playbook
    from ir.workspace import Workspace

ID_PREFIX = {"live": "INC", "drill": "DRL"}
"""Incident id prefix by mode: ``INC-2026-0001`` is live, ``DRL-2026-0001`` a drill."""


@dataclass(frozen=True)
class Expect:
    """What the caller saw when it decided to act; a mismatch refuses the command.

    Attributes:
        phase: the phase the caller's screen showed.
        seq: the incident version (last event number) the caller's screen showed.
    """

    phase: str | None = None
    seq: int | None = None


class ReactorContext:
    """What a reactor sees: the open transaction, the new events, and (loaded on first use)
    the incident's state after them and its playbook."""

    def __init__(self, conn: sqlite3.Connection, incident_id: str, events: list[Event], clock: Clock, service: IncidentService) -> None:
        self.conn = conn
        self.incident_id = incident_id
        self.events = events
        self.clock = clock
        self._service = service
        self._state: IncidentState | None = None

    @property
    def state(self) -> IncidentState:
        """The incident as it is after the new events."""
        if self._state is None:
            self._state = incidentdb.load_incident(self.conn, self.incident_id)
            assert self._state is not None
        return self._state

    @property
    def playbook(self) -> Playbook:
        """The incident's playbook."""
        return self._service.playbook_of(self.state)


Reactor = Callable[[ReactorContext], list[NewEvent]]
"""A function run after every command, inside its transaction, returning follow-up events."""

MAX_REACTION_ROUNDS = 5


class IncidentService:
    """Commands and queries on incidents.

    Args:
        ws: the workspace this service belongs to.
        actor: who acts (overrides the workspace's actor).
        clock: the clock to stamp events with (overrides the incident's own clock).
    """

    def __init__(self, ws: Workspace, *, actor: str | None = None, clock: Clock | None = None) -> None:
        self.ws = ws
        self._actor = actor
        self._clock = clock

    def bind(self, *, actor: str | None = None, clock: Clock | None = None) -> IncidentService:
        """A copy of this service that acts as ``actor`` and/or stamps events with ``clock``."""
        bound = copy.copy(self)
        bound._actor = actor or self._actor
        bound._clock = clock or self._clock
        return bound

    @property
    def actor(self) -> str:
        """Who the service records as the actor of its commands."""
        return self._actor or self.ws.actor

    # ----------------------------------------------------------------- queries

    def get(self, incident_id: str) -> IncidentState:
        """The incident's current state.

        Raises:
            NotFound: no such incident.
        """
        with self.ws.store.read() as conn:
            state = incidentdb.load_incident(conn, incident_id)
        if state is None:
            raise NotFound(f"no incident '{incident_id}' in workspace {self.ws.store.path}")
        return state

    def list(self, *, mode: str | None = "live", include_closed: bool = False) -> list[IncidentState]:
        """Incidents of one mode (or all with ``mode=None``), open ones unless ``include_closed``."""
        with self.ws.store.read() as conn:
            return incidentdb.list_incidents(conn, mode=mode, include_closed=include_closed)

    def playbook_of(self, state: IncidentState) -> Playbook:
        """The exact playbook content the incident was opened with."""
        cached = _SNAPSHOTS.get(state.playbook_digest)
        if cached is None:
            from ir.engine.playbook import playbook_from_definition

            cached = _keep(_SNAPSHOTS, state.playbook_digest, playbook_from_definition(self._snapshot(state)))
        return cached

    def phase_title(self, state: IncidentState, lang: str) -> str:
        """The title of the incident's current phase in ``lang`` (its id if the playbook has
        no such phase), read from the playbook snapshot's text: listing every incident (the
        dashboard) does not build a playbook for each.

        Raises:
            NotFound: the incident's playbook snapshot is missing.
        """
        titles = _PHASE_TITLES.get(state.playbook_digest)
        if titles is None:
            phases = self._snapshot(state).get("phases", [])
            titles = _keep(_PHASE_TITLES, state.playbook_digest, {p["id"]: p.get("title") for p in phases})
        return pick(titles[state.phase], lang) if state.phase in titles else state.phase

    def _snapshot(self, state: IncidentState) -> dict[str, Any]:
        with self.ws.store.read() as conn:
            definition = eventlog.get_snapshot(conn, state.playbook_digest)
        if definition is None:
            raise NotFound(f"incident {state.id}: its playbook snapshot is missing from the workspace")
        return definition

    def view(self, incident_id: str) -> dict[str, Any]:
        """The incident as ``ir incident show --json`` gives it."""
        state = self.get(incident_id)
        return incident_view(self.playbook_of(state), state, self.ws.lang)

    def timeline(self, incident_id: str, kinds: list[str] | None = None) -> list[Event]:
        """The incident's events in order."""
        self.get(incident_id)
        with self.ws.store.read() as conn:
            return list(eventlog.read_events(conn, incident_id, kinds=kinds))

    def postmortem(self, incident_id: str) -> str:
        """The post-mortem report (Markdown) built from the incident's timeline."""
        from ir.engine.report import postmortem_context, render_postmortem

        state = self.get(incident_id)
        pb = self.playbook_of(state)
        events = self.timeline(incident_id)
        now = (self._clock or self.ws.clock_for(state)).now()
        return render_postmortem(postmortem_context(pb, state, events, self.ws.lang, now))

    # ---------------------------------------------------------------- commands

    def open(
        self,
        playbook_id: str,
        *,
        title: str,
        severity: str = "medium",
        facts: dict[str, Any] | None = None,
        mode: str = "live",
    ) -> IncidentState:
        """Declare a new incident on a playbook; the actor becomes its commander.

        The workspace profile's facts are copied in first; ``facts`` given here override them.
        """
        if mode not in MODES:
            raise InvalidInput(f"mode '{mode}' is not one of: {', '.join(MODES)}")
        pb = self.ws.playbooks.get(playbook_id)
        clock = self._clock or self.ws.clock
        initial = {**self.ws.profile.facts(), **(facts or {})}
        new = commands.open_incident(
            pb, title=title, severity=severity, mode=mode, actor=self.actor, now=clock.now(), facts=initial
        )
        with self.ws.store.write() as conn:
            eventlog.put_snapshot(conn, pb.digest, pb.id, pb.version, pb.definition())
            incident_id = incidentdb.next_incident_id(conn, ID_PREFIX[mode], clock.now().year)
            _keep(_SNAPSHOTS, pb.digest, pb)
            self._record(conn, incident_id, [new], clock)
        return self.get(incident_id)

    def fire(self, incident_id: str, trigger: str, *, reason: str | None = None, expect: Expect | None = None) -> list[Event]:
        """Move the incident along a transition, if its guards allow."""
        return self._command(incident_id, lambda pb, st, now: commands.fire(pb, st, trigger, self.actor, reason), expect)

    def complete_task(self, incident_id: str, task_id: str, *, undo: bool = False, expect: Expect | None = None) -> list[Event]:
        """Mark a task done, or not done with ``undo``."""
        return self._command(incident_id, lambda pb, st, now: commands.complete_task(pb, st, task_id, undo), expect)

    def answer(
        self, incident_id: str, decision_id: str, value: Any, *, rationale: str | None = None, expect: Expect | None = None
    ) -> list[Event]:
        """Answer a decision; the answer becomes a fact."""
        return self._command(incident_id, lambda pb, st, now: commands.answer(pb, st, decision_id, value, now, rationale), expect)

    def set_facts(self, incident_id: str, assignments: dict[str, Any], *, expect: Expect | None = None) -> list[Event]:
        """Set facts by hand."""
        return self._command(incident_id, lambda pb, st, now: commands.set_facts(pb, st, assignments, now), expect)

    def note(self, incident_id: str, text: str) -> list[Event]:
        """Add a note to the timeline."""
        return self._command(incident_id, lambda pb, st, now: commands.note(st, text), None, observers_may=True)

    def assign(self, incident_id: str, target: str, person: str, *, expect: Expect | None = None) -> list[Event]:
        """Give a role to a person, or a task to a role or person."""
        return self._command(incident_id, lambda pb, st, now: commands.assign(pb, st, target, person), expect)

    def update(
        self, incident_id: str, *, title: str | None = None, severity: str | None = None, expect: Expect | None = None
    ) -> list[Event]:
        """Change the incident's title or severity."""
        return self._command(incident_id, lambda pb, st, now: commands.update(st, title=title, severity=severity), expect)

    def record(self, incident_id: str, new: list[NewEvent], *, expect: Expect | None = None) -> list[Event]:
        """Record events decided by another capability (obligations, notices, drills)."""
        return self._command(incident_id, lambda pb, st, now: new, expect)

    # --------------------------------------------------------------- machinery

    def _command(
        self,
        incident_id: str,
        decide: Callable[[Playbook, IncidentState, dt.datetime], NewEvent | list[NewEvent]],
        expect: Expect | None,
        *,
        observers_may: bool = False,
    ) -> list[Event]:
        with self.ws.store.write() as conn:
            state = incidentdb.load_incident(conn, incident_id)
            if state is None:
                raise NotFound(f"no incident '{incident_id}' in workspace {self.ws.store.path}")
            _check_expectation(state, expect)
            pb = self.playbook_of(state)
            if not observers_may:
                commands.check_may_change(pb, state, self.actor)
            clock = self._clock or self.ws.clock_for(state)
            decided = decide(pb, state, clock.now())
            new = decided if isinstance(decided, list) else [decided]
            return self._record(conn, incident_id, new, clock)

    def record_in(
        self, conn: sqlite3.Connection, incident_id: str, new: list[NewEvent], clock: Clock | None = None
    ) -> list[Event]:
        """Record ``new`` inside a write transaction the caller already holds, reactors included.

        For a capability that writes its own data in the same transaction as the events that
        summarise it (an import of affected people). ``clock`` defaults to the incident's.
        """
        if clock is None:
            state = incidentdb.load_incident(conn, incident_id)
            if state is None:
                raise NotFound(f"no incident '{incident_id}' in workspace {self.ws.store.path}")
            clock = self._clock or self.ws.clock_for(state)
        return self._record(conn, incident_id, new, clock)

    def _record(self, conn: sqlite3.Connection, incident_id: str, new: list[NewEvent], clock: Clock) -> list[Event]:
        """Append ``new`` and the reactors' follow-ups; the caller holds the write transaction."""
        recorded: list[Event] = []
        batch = new
        for _ in range(MAX_REACTION_ROUNDS):
            if not batch:
                break
            at = format_instant(clock.now())
            wall = format_instant(self.ws.clock.now())
            appended = [
                eventlog.append(conn, incident_id, ev.kind, ev.payload, actor=self.actor, at=at, recorded_at=wall)
                for ev in batch
            ]
            recorded.extend(appended)
            ctx = ReactorContext(conn, incident_id, appended, clock, self)
            batch = [ev for reactor in self.ws.reactors for ev in reactor(ctx)]
        return recorded


_SNAPSHOTS: dict[str, Playbook] = {}
"""Playbooks rebuilt from snapshots, by digest, for the whole process: a digest names its
content, so every workspace object (the app opens one per background read) can share them."""

_PHASE_TITLES: dict[str, dict[str, Any]] = {}
"""Each snapshot's phase titles (as written: text or text by language), by digest."""

T = TypeVar("T")


def _keep(cache: dict[str, T], digest: str, value: T) -> T:
    """Remember ``value`` under ``digest``; a cache past 256 entries (far more playbook
    versions than a workspace holds) starts again."""
    if len(cache) >= 256:
        cache.clear()
    cache[digest] = value
    return value


def _check_expectation(state: IncidentState, expect: Expect | None) -> None:
    if expect is None:
        return
    if expect.phase is not None and expect.phase != state.phase:
        raise StaleView(
            f"incident {state.id} is now in phase '{state.phase}', not '{expect.phase}' as your view showed "
            f"(updated {state.updated_at}); look again before acting"
        )
    if expect.seq is not None and expect.seq != state.seq:
        raise StaleView(
            f"incident {state.id} changed since your view (event #{expect.seq} → #{state.seq}, "
            f"updated {state.updated_at}); look again before acting"
        )
