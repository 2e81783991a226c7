"""Plain-data views of incidents and playbooks, shared by the command line and the terminal UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ir.engine.facts import render
from ir.engine.state import IncidentState
from ir.i18n import pick

if TYPE_CHECKING:
    from ir.engine.playbook import Playbook


def incident_view(pb: Playbook, state: IncidentState, lang: str = "en") -> dict[str, Any]:
    """Everything ``ir incident show --json`` prints about an incident."""
    phase = pb.phase_map[state.phase]
    tasks = []
    for p in pb.phases:
        for t in p.tasks:
            status = state.tasks.get(t.id)
            tasks.append(
                {
                    "id": t.id,
                    "phase": p.id,
                    "title": pick(t.title, lang),
                    "role": t.role,
                    "required": t.required,
                    "done": bool(status and status.done),
                    "done_by": status.done_by if status else None,
                    "done_at": status.done_at if status else None,
                    "assignee": status.assignee if status else None,
                    "guidance": pick(t.guidance, lang) or None,
                }
            )
    decisions = []
    for p in pb.phases:
        for d in p.decisions:
            value = state.facts.get(d.fact_name)
            decisions.append(
                {
                    "id": d.id,
                    "phase": p.id,
                    "question": pick(d.question, lang),
                    "fact": d.fact_name,
                    "type": d.type,
                    "role": d.role,
                    "choices": [c.id for c in d.choices] if d.choices else None,
                    "answered": value is not None,
                    "value": value,
                }
            )
    from ir.engine.machine import compile_playbook  # the state machine library, when a view is built

    triggers = [
        {"name": t.name, "title": t.title, "dest": t.dest, "allowed": t.allowed, "blocked_by": t.blocked_by}
        for t in compile_playbook(pb).triggers(state, lang)
    ]
    return {
        "id": state.id,
        "title": state.title,
        "mode": state.mode,
        "severity": state.severity,
        "playbook": {"id": pb.id, "version": pb.version, "title": pick(pb.title, lang)},
        "phase": state.phase,
        "phase_title": pick(phase.title, lang),
        "final": state.final,
        "opened_at": state.opened_at,
        "opened_by": state.opened_by,
        "updated_at": state.updated_at,
        "closed_at": state.closed_at,
        "seq": state.seq,
        "owner": state.owner,
        "facts": dict(state.facts),
        "roles": dict(state.roles),
        "tasks": tasks,
        "decisions": decisions,
        "triggers": triggers,
        "path": [{"phase": v.phase, "entered_at": v.entered_at, "left_at": v.left_at, "via": v.via} for v in state.visits],
    }


def playbook_view(pb: Playbook, lang: str = "en") -> dict[str, Any]:
    """A playbook as plain data, with text in the chosen language."""
    return {
        "id": pb.id,
        "title": pick(pb.title, lang),
        "version": pb.version,
        "summary": pick(pb.summary, lang),
        "digest": pb.digest,
        "initial": pb.initial_phase,
        "roles": [{"id": r.id, "title": pick(r.title, lang)} for r in pb.roles],
        "phases": [
            {
                "id": p.id,
                "title": pick(p.title, lang),
                "description": pick(p.description, lang),
                "final": p.final,
                "tasks": [
                    {"id": t.id, "title": pick(t.title, lang), "role": t.role, "required": t.required}
                    for t in p.tasks
                ],
                "decisions": [
                    {"id": d.id, "question": pick(d.question, lang), "type": d.type, "fact": d.fact_name,
                     "choices": [c.id for c in d.choices] if d.choices else None}
                    for d in p.decisions
                ],
            }
            for p in pb.phases
        ],
        "transitions": [
            {"trigger": t.trigger, "title": pick(t.title, lang), "source": list(t.source), "dest": t.dest}
            for t in pb.transitions
        ],
    }


Describer = Callable[[dict[str, Any], "Playbook | None", str], str]
_DESCRIBERS: dict[str, Describer] = {}


def describer(kind: str) -> Callable[[Describer], Describer]:
    """Register how an event kind reads in a timeline (capabilities add their own)."""

    def register(fn: Describer) -> Describer:
        _DESCRIBERS[kind] = fn
        return fn

    return register


def describe_event(kind: str, payload: dict[str, Any], pb: Playbook | None = None, lang: str = "en") -> str:
    """One line saying what an event did, in the chosen language where content allows."""
    fn = _DESCRIBERS.get(kind)
    if fn is not None:
        return fn(payload, pb, lang)
    details = ", ".join(f"{k}={render(v)}" for k, v in payload.items() if not isinstance(v, (dict, list)))
    return f"{kind}: {details}" if details else kind


def _phase_title(pb: Playbook | None, phase: str, lang: str) -> str:
    if pb and phase in pb.phase_map:
        return f"{pick(pb.phase_map[phase].title, lang)} ({phase})"
    return phase


def _task_title(pb: Playbook | None, task: str, lang: str) -> str:
    if pb and task in pb.task_map:
        return f"'{pick(pb.task_map[task][1].title, lang)}' ({task})"
    return task


@describer("incident.opened")
def _d_opened(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"declared '{p['title']}' ({p['severity']}) on playbook {p['playbook']['id']} v{p['playbook']['version']}"


@describer("phase.changed")
def _d_phase(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    text = f"{p['trigger']}: {_phase_title(pb, p['from'], lang)} → {_phase_title(pb, p['to'], lang)}"
    if p.get("reopened_tasks"):
        text += f"; reopened {', '.join(p['reopened_tasks'])}"
    if p.get("cleared_facts"):
        text += f"; to be answered again: {', '.join(p['cleared_facts'])}"
    if p.get("reason"):
        text += f" — {p['reason']}"
    return text


@describer("task.done")
def _d_done(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"done: {_task_title(pb, p['task'], lang)}"


@describer("task.reopened")
def _d_reopened(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"not done: {_task_title(pb, p['task'], lang)}"


@describer("task.assigned")
def _d_task_assigned(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"assigned {_task_title(pb, p['task'], lang)} to {p['assignee']}"


@describer("decision.answered")
def _d_answered(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    question = p["decision"]
    if pb and p["decision"] in pb.decision_map:
        question = pick(pb.decision_map[p["decision"]][1].question, lang)
    text = f"answered {question} → {render(p['value'])}"
    return text + (f" (why: {p['rationale']})" if p.get("rationale") else "")


@describer("fact.set")
def _d_facts(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return "set " + "; ".join(f"{k} = {render(v)}" for k, v in p["facts"].items())


@describer("role.assigned")
def _d_role(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    role = p["role"]
    if pb:
        role = next((pick(r.title, lang) for r in pb.roles if r.id == role), role)
    return f"{p['person']} is {role}"


@describer("incident.updated")
def _d_updated(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return "changed " + ", ".join(f"{k} to {v!r}" for k, v in p.items())


@describer("note.added")
def _d_note(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"note: {p['text']}"


@describer("profile.set")
def _d_profile_set(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return "profile: " + "; ".join(f"{k} = {render(v)}" for k, v in p["facts"].items())


@describer("profile.unset")
def _d_profile_unset(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return "profile: removed " + ", ".join(p["keys"])
