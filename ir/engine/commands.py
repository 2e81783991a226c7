"""What each command does to an incident, decided without I/O.

Every function takes the playbook, the incident's current state and the command's
arguments, and returns the events to record, or raises :class:`~ir.errors.Refused` /
:class:`~ir.errors.InvalidInput` with a reason a responder can act on. The service records
the events; the store applies them to the projections.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ir.engine import facts as factlib
from ir.engine.state import COMMANDER, OBSERVER, SEVERITIES, IncidentState
from ir.errors import InvalidInput, NotFound, Refused

if TYPE_CHECKING:
    from ir.engine.playbook import Playbook

MAX_TEXT = 20_000
"""Longest note, title or text fact accepted, in characters."""


@dataclass(frozen=True)
class NewEvent:
    """An event decided but not yet recorded."""

    kind: str
    payload: dict[str, Any]


def open_incident(
    pb: Playbook,
    *,
    title: str,
    severity: str,
    mode: str,
    actor: str,
    now: dt.datetime,
    facts: Mapping[str, str] | None = None,
) -> NewEvent:
    """Decide the ``incident.opened`` event (the id is allocated by the store)."""
    title = check_text("title", title)
    _severity(severity)
    typed = coerce_facts(pb, facts or {}, now)
    return NewEvent(
        "incident.opened",
        {
            "title": title,
            "severity": severity,
            "mode": mode,
            "playbook": {"id": pb.id, "version": pb.version, "digest": pb.digest},
            "phase": pb.initial_phase,
            "facts": typed,
            "roles": {COMMANDER: actor},
        },
    )


def fire(pb: Playbook, state: IncidentState, trigger: str, actor: str, reason: str | None = None) -> NewEvent:
    """Decide a phase change through ``trigger``; only the incident commander may close."""
    from ir.engine.machine import compile_playbook  # the state machine library, when a phase changes

    taken = compile_playbook(pb).fire(state, trigger)
    dest = pb.phase_map[taken.dest]
    commander = state.roles.get(COMMANDER)
    if dest.final and actor != commander:
        raise Refused(
            f"closing {state.id} needs the incident commander ({commander or 'nobody holds the role'}); "
            f"{actor} is not (the commander can hand over with: ir incident assign {state.id} commander NAME)"
        )
    payload: dict[str, Any] = {"trigger": trigger, "from": state.phase, "to": dest.id, "final": dest.final}
    if taken.reopen_tasks:
        reopened = [t.id for t in dest.tasks if state.task_done(t.id)]
        if reopened:
            payload["reopened_tasks"] = reopened
    if taken.reopen_decisions:
        cleared = [d.fact_name for d in dest.decisions if state.facts.get(d.fact_name) is not None]
        if cleared:
            payload["cleared_facts"] = cleared
    if reason:
        payload["reason"] = check_text("reason", reason)
    return NewEvent("phase.changed", payload)


def complete_task(pb: Playbook, state: IncidentState, task_id: str, undo: bool = False) -> NewEvent:
    """Decide marking a task done (or, with ``undo``, not done)."""
    _open(state)
    phase, _task = _task_of(pb, task_id)
    if undo:
        if not state.task_done(task_id):
            raise Refused(f"task '{task_id}' is not done")
        return NewEvent("task.reopened", {"task": task_id, "phase": phase.id})
    if state.task_done(task_id):
        status = state.tasks[task_id]
        raise Refused(f"task '{task_id}' is already done (by {status.done_by} at {status.done_at})")
    return NewEvent("task.done", {"task": task_id, "phase": phase.id})


def answer(
    pb: Playbook, state: IncidentState, decision_id: str, raw: Any, now: dt.datetime, rationale: str | None = None
) -> NewEvent:
    """Decide answering a decision; its answer becomes a fact."""
    _open(state)
    if decision_id not in pb.decision_map:
        raise NotFound(f"playbook '{pb.id}' has no decision '{decision_id}'; known: {', '.join(pb.decision_map)}")
    _phase, dec = pb.decision_map[decision_id]
    value = factlib.coerce(dec.fact_name, dec.type, raw, [c.id for c in dec.choices or []], now)
    payload: dict[str, Any] = {"decision": decision_id, "fact": dec.fact_name, "value": value}
    if state.facts.get(dec.fact_name) == value:
        raise Refused(f"decision '{decision_id}' already has the answer {factlib.render(value)}")
    if rationale:
        payload["rationale"] = check_text("rationale", rationale)
    return NewEvent("decision.answered", payload)


def set_facts(pb: Playbook, state: IncidentState, assignments: Mapping[str, Any], now: dt.datetime) -> NewEvent:
    """Decide setting facts by hand (typed where the playbook declares them)."""
    _open(state)
    if not assignments:
        raise InvalidInput("give at least one KEY=VALUE")
    typed = coerce_facts(pb, assignments, now)
    changed = {k: v for k, v in typed.items() if state.facts.get(k) != v}
    if not changed:
        raise Refused("every fact already has that value")
    return NewEvent("fact.set", {"facts": changed})


def coerce_facts(pb: Playbook, assignments: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Type each value by the playbook's declaration; undeclared facts are read as JSON or text."""
    out: dict[str, Any] = {}
    for key, raw in assignments.items():
        if key in pb.fact_types:
            out[key] = factlib.coerce(key, pb.fact_types[key], raw, pb.fact_choices.get(key, []), now)
        else:
            out[key] = factlib.guess(raw) if isinstance(raw, str) else raw
        if isinstance(out[key], str):
            check_text(key, out[key])
    return out


def note(state: IncidentState, text: str) -> NewEvent:
    """Decide adding a note to the timeline (allowed after closure too)."""
    return NewEvent("note.added", {"text": check_text("note", text)})


def assign(pb: Playbook, state: IncidentState, target: str, person: str) -> NewEvent:
    """Decide giving a role to a person, or a task to a role or person."""
    _open(state)
    person = check_text("person", person).strip()
    if target in pb.role_ids:
        if state.roles.get(target) == person:
            raise Refused(f"{person} already holds role '{target}'")
        return NewEvent("role.assigned", {"role": target, "person": person})
    if target in pb.task_map:
        status = state.tasks.get(target)
        if status and status.assignee == person:
            raise Refused(f"task '{target}' is already assigned to {person}")
        phase = pb.task_map[target][0].id
        return NewEvent("task.assigned", {"task": target, "phase": phase, "assignee": person})
    raise NotFound(
        f"'{target}' is neither a role ({', '.join(pb.role_ids)}) nor a task of playbook '{pb.id}'"
    )


def update(state: IncidentState, *, title: str | None = None, severity: str | None = None) -> NewEvent:
    """Decide changing the title or severity."""
    _open(state)
    changes: dict[str, Any] = {}
    if title is not None and title != state.title:
        changes["title"] = check_text("title", title)
    if severity is not None and severity != state.severity:
        changes["severity"] = _severity(severity)
    if not changes:
        raise Refused("nothing to change")
    return NewEvent("incident.updated", changes)


def _open(state: IncidentState) -> None:
    if state.final:
        raise Refused(f"incident {state.id} is closed (phase '{state.phase}'); only notes may be added")


def _task_of(pb: Playbook, task_id: str) -> Any:
    if task_id not in pb.task_map:
        raise NotFound(f"playbook '{pb.id}' has no task '{task_id}'")
    return pb.task_map[task_id]


def _severity(value: str) -> str:
    if value not in SEVERITIES:
        raise InvalidInput(f"severity '{value}' is not one of: {', '.join(SEVERITIES)}")
    return value


def check_text(what: str, value: str) -> str:
    """Check free text a person typed (a note, a title, a reason): present, bounded, no NUL.

    Raises:
        InvalidInput: naming ``what`` and the problem.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} is empty")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} is {len(value)} characters; the limit is {MAX_TEXT}")
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character")
    return value


def check_may_change(pb: Playbook, state: IncidentState, actor: str) -> None:
    """Refuse a change by someone whose only role in the incident is observer (notes are fine)."""
    held = {role for role, person in state.roles.items() if person == actor}
    if held == {OBSERVER}:
        raise Refused(f"{actor} observes {state.id} and may only add notes; a role holder must make this change")
