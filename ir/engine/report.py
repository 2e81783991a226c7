"""The post-mortem report: Markdown built from an incident's timeline."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from functools import cache

from ir.clock import parse_instant
from ir.engine.facts import render
from ir.engine.state import IncidentState
from ir.engine.views import describe_event
from ir.i18n import pick
from ir.store import Event

if TYPE_CHECKING:
    from ir.engine.playbook import Playbook



@cache
def _environment() -> Any:
    """The report templates' Jinja environment (built, and Jinja imported, on first use)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("ir", "engine/templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def duration_text(seconds: float) -> str:
    """A duration as a responder reads it: ``2d 4h 10m``."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{mins}m")
    return " ".join(parts)


def _between(start: str, end: str | None, now: dt.datetime) -> float:
    stop = parse_instant(end) if end else now
    return max(0.0, (stop - parse_instant(start)).total_seconds())


def postmortem_context(
    pb: Playbook, state: IncidentState, events: list[Event], lang: str, now: dt.datetime
) -> dict[str, Any]:
    """Plain data for the post-mortem template."""
    end = state.closed_at
    phase_totals: dict[str, float] = {}
    visits = []
    for visit in state.visits:
        seconds = _between(visit.entered_at, visit.left_at, now)
        phase_totals[visit.phase] = phase_totals.get(visit.phase, 0.0) + seconds
        visits.append(
            {
                "phase": pick(pb.phase_map[visit.phase].title, lang),
                "entered": visit.entered_at,
                "left": visit.left_at or ("(closed)" if state.final else "(ongoing)"),
                "duration": duration_text(seconds) if not pb.phase_map[visit.phase].final else "",
            }
        )
    decisions = [
        {
            "question": pick(pb.decision_map[e.payload["decision"]][1].question, lang)
            if e.payload["decision"] in pb.decision_map
            else e.payload["decision"],
            "answer": render(e.payload["value"]),
            "by": e.actor,
            "at": e.at,
            "rationale": e.payload.get("rationale", ""),
        }
        for e in events
        if e.kind == "decision.answered"
    ]
    visited = {v.phase for v in state.visits}
    open_tasks = [
        {"title": pick(task.title, lang), "id": task.id, "phase": pick(phase.title, lang)}
        for phase in pb.phases
        if phase.id in visited
        for task in phase.tasks
        if task.required and not state.task_done(task.id)
    ]
    facts = state.facts
    return {
        "incident": {
            "id": state.id,
            "title": state.title,
            "severity": state.severity,
            "mode": state.mode,
            "exercise": state.mode == "drill",
            "phase": pick(pb.phase_map[state.phase].title, lang),
            "final": state.final,
            "opened_at": state.opened_at,
            "opened_by": state.opened_by,
            "closed_at": end or "",
            "duration": duration_text(_between(state.opened_at, end, now)),
            "commander": state.owner or "(unassigned)",
        },
        "playbook": {"id": pb.id, "version": pb.version, "title": pick(pb.title, lang)},
        "roles": [
            {"role": pick(r.title, lang), "person": state.roles.get(r.id, "(unassigned)")} for r in pb.roles
        ],
        "facts": [{"name": k, "value": render(v)} for k, v in sorted(facts.items())],
        "timeline": [
            {"at": e.at, "actor": e.actor, "text": describe_event(e.kind, e.payload, pb, lang).replace("|", "\\|")}
            for e in events
        ],
        "decisions": decisions,
        "phases": [
            {"phase": pick(pb.phase_map[p].title, lang), "duration": duration_text(s)}
            for p, s in phase_totals.items()
            if not pb.phase_map[p].final
        ],
        "visits": visits,
        "root_cause": facts.get("root_cause") or "",
        "lessons": facts.get("lessons_learned") or "",
        "actions": facts.get("corrective_actions") or "",
        "open_tasks": open_tasks,
        "notes": [{"at": e.at, "actor": e.actor, "text": e.payload["text"]} for e in events if e.kind == "note.added"],
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def render_postmortem(context: dict[str, Any]) -> str:
    """Render the post-mortem Markdown."""
    return str(_environment().get_template("postmortem.md.j2").render(**context))
