"""``ir incident``: declare incidents and work them through their playbook."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from ir.cli.common import emit_json, env, json_option, table, workspace_options
from ir.clock import parse_instant
from ir.engine.facts import render, split_assignment
from ir.engine.report import duration_text
from ir.engine.service import Expect
from ir.engine.state import SEVERITIES
from ir.engine.views import describe_event
from ir.errors import InvalidInput

if TYPE_CHECKING:
    from ir.store import Event


@click.group("incident")
def group() -> None:
    """Declare incidents and work them through their playbook."""


def _facts(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, value = split_assignment(pair)
        out[key] = value
    return out


def _print_events(events: list[Event], as_json: bool) -> None:
    ws = env().workspace()
    if as_json:
        emit_json([e.as_dict() for e in events])
        return
    if not events:
        return
    state = ws.incidents.get(events[0].incident_id)
    pb = ws.incidents.playbook_of(state)
    for e in events:
        click.echo(f"{e.incident_id} #{e.seq}: {describe_event(e.kind, e.payload, pb, ws.lang)}")


@group.command("open")
@click.argument("playbook")
@click.option("--title", required=True, help="A short description of what happened.")
@click.option("--severity", type=click.Choice(SEVERITIES), default="medium", show_default=True)
@click.option("--fact", "facts", multiple=True, metavar="KEY=VALUE", help="An initial fact (repeatable).")
@json_option
@workspace_options
def open_(playbook: str, title: str, severity: str, facts: tuple[str, ...], as_json: bool) -> None:
    """Declare a new incident on PLAYBOOK and print its id."""
    ws = env().workspace()
    state = ws.incidents.open(playbook, title=title, severity=severity, facts=_facts(facts))
    if as_json:
        emit_json(ws.incidents.view(state.id))
    else:
        click.echo(state.id)


def _age(opened_at: str, now: dt.datetime) -> str:
    return duration_text((now - parse_instant(opened_at)).total_seconds())


def print_incident_list(*, mode: str | None, include_closed: bool, as_json: bool) -> None:
    """Print incidents as a table or JSON."""
    ws = env().workspace()
    states = ws.incidents.list(mode=mode, include_closed=include_closed)
    if as_json:
        emit_json(
            [
                {
                    "id": s.id, "title": s.title, "mode": s.mode, "severity": s.severity,
                    "playbook": s.playbook_id, "phase": s.phase, "final": s.final,
                    "owner": s.owner, "opened_at": s.opened_at, "updated_at": s.updated_at,
                }
                for s in states
            ]
        )
        return
    if not states:
        which = "incidents" if include_closed else "open incidents"
        click.echo(f"No {which} in {ws.store.path}. Declare one with: ir incident open personal-data-leak --title '...'")
        return
    now = ws.clock.now()
    rows = [
        [
            s.id + (" [EXERCISE]" if s.mode == "drill" else ""), s.title, s.severity, s.playbook_id,
            s.phase + (" (closed)" if s.final else ""), s.owner or "-", _age(s.opened_at, now),
        ]
        for s in states
    ]
    click.echo(table(["ID", "TITLE", "SEVERITY", "PLAYBOOK", "PHASE", "OWNER", "AGE"], rows))


@group.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Include closed incidents.")
@click.option("--drills", "mode", flag_value="drill", help="List drill (exercise) incidents instead.")
@click.option("--any-mode", "mode", flag_value="any", help="List live and drill incidents together.")
@json_option
@workspace_options
def list_(include_closed: bool, mode: str | None, as_json: bool) -> None:
    """List open live incidents (drills are kept apart; see --drills)."""
    chosen = {None: "live", "drill": "drill", "any": None}[mode]
    print_incident_list(mode=chosen, include_closed=include_closed, as_json=as_json)


@group.command("show")
@click.argument("incident_id")
@json_option
@workspace_options
def show(incident_id: str, as_json: bool) -> None:
    """Show an incident: phase, tasks, decisions and what may happen next."""
    ws = env().workspace()
    view = ws.incidents.view(incident_id)
    view["data_classification"] = classify(view["facts"].get("data_categories") or [])
    if as_json:
        emit_json(view)
        return
    click.echo(_render_view(view))


def classify(categories: list[str]) -> dict[str, dict[str, Any]]:
    """Each data category's sensitivity class and whether PIPL Art. 28 lists it as sensitive."""
    from ir.obligations.vocabulary import DATA_CATEGORIES

    out: dict[str, dict[str, Any]] = {}
    for name in categories:
        known = DATA_CATEGORIES.get(name)
        out[name] = {"sensitivity": known.sensitivity if known else "unclassified",
                     "pipl_sensitive": bool(known and known.pipl_sensitive)}
    return out


def _classified(categories: list[str], classes: dict[str, dict[str, Any]]) -> str:
    parts = []
    for name in categories:
        c = classes.get(name, {})
        mark = f"{c.get('sensitivity', 'unclassified')}{', PIPL sensitive' if c.get('pipl_sensitive') else ''}"
        parts.append(f"{name} [{mark}]")
    return ", ".join(parts)


def _render_view(v: dict[str, Any]) -> str:
    lines = []
    exercise = "EXERCISE — " if v["mode"] == "drill" else ""
    lines.append(f"{exercise}{v['id']}: {v['title']}")
    lines.append(
        f"  severity {v['severity']} · playbook {v['playbook']['id']} v{v['playbook']['version']}"
        f" · owner {v['owner'] or '-'} · opened {v['opened_at']} by {v['opened_by']}"
    )
    state = "closed" if v["final"] else "current phase"
    lines.append(f"  {state}: {v['phase_title']} ({v['phase']})")
    lines.append("  path: " + " → ".join(p["phase"] for p in v["path"]))
    if v["roles"]:
        lines.append("  roles: " + ", ".join(f"{r}={p}" for r, p in v["roles"].items()))
    tasks = [t for t in v["tasks"] if t["phase"] == v["phase"]]
    if tasks:
        lines.append("")
        lines.append("Tasks in this phase:")
        for t in tasks:
            mark = "[x]" if t["done"] else "[ ]"
            opt = "" if t["required"] else " (optional)"
            who = f" → {t['assignee']}" if t["assignee"] else ""
            lines.append(f"  {mark} {t['id']}: {t['title']} [{t['role']}]{opt}{who}")
    decisions = [d for d in v["decisions"] if d["phase"] == v["phase"]]
    if decisions:
        lines.append("")
        lines.append("Decisions in this phase:")
        for d in decisions:
            answer = render(d["value"]) if d["answered"] else "(not answered)"
            choices = f" choices: {', '.join(d['choices'])}" if d["choices"] else ""
            lines.append(f"  {d['id']} ({d['type']}): {d['question']} → {answer}{choices}")
    if v["triggers"]:
        lines.append("")
        lines.append("Next:")
        for t in v["triggers"]:
            lines.append(f"  {'✓' if t['allowed'] else '✗'} {t['name']} → {t['dest']}: {t['title']}")
            for reason in t["blocked_by"]:
                lines.append(f"      blocked: {reason}")
    if v["facts"]:
        lines.append("")
        lines.append("Facts:")
        for key, value in sorted(v["facts"].items()):
            shown = _classified(value, v["data_classification"]) if key == "data_categories" else render(value)
            lines.append(f"  {key} = {shown}")
    return "\n".join(lines)


@group.command("log")
@click.argument("incident_id")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only events of this kind (repeatable), e.g. note.added.")
@json_option
@workspace_options
def log(incident_id: str, kinds: tuple[str, ...], as_json: bool) -> None:
    """Show the incident's timeline: who did what, when."""
    ws = env().workspace()
    events = ws.incidents.timeline(incident_id, kinds=list(kinds) or None)
    if as_json:
        emit_json([e.as_dict() for e in events])
        return
    state = ws.incidents.get(incident_id)
    pb = ws.incidents.playbook_of(state)
    rows = [[f"#{e.seq}", e.at, e.actor, describe_event(e.kind, e.payload, pb, ws.lang)] for e in events]
    click.echo(table(["#", "TIME (UTC)", "WHO", "WHAT"], rows))


@group.command("fire")
@click.argument("incident_id")
@click.argument("trigger")
@click.option("--reason", help="Why (recorded with the transition).")
@click.option("--expect-phase", metavar="PHASE", help="Refuse unless the incident is still in PHASE.")
@click.option("--expect-seq", type=int, metavar="N", help="Refuse unless the incident's last event is still #N.")
@json_option
@workspace_options
def fire(incident_id: str, trigger: str, reason: str | None, expect_phase: str | None, expect_seq: int | None, as_json: bool) -> None:
    """Move the incident along TRIGGER, if its guards allow."""
    ws = env().workspace()
    expect = Expect(expect_phase, expect_seq) if expect_phase or expect_seq is not None else None
    _print_events(ws.incidents.fire(incident_id, trigger, reason=reason, expect=expect), as_json)


@group.command("done")
@click.argument("incident_id")
@click.argument("task")
@click.option("--undo", is_flag=True, help="Mark the task as not done.")
@json_option
@workspace_options
def done(incident_id: str, task: str, undo: bool, as_json: bool) -> None:
    """Mark TASK done (or not done with --undo)."""
    ws = env().workspace()
    _print_events(ws.incidents.complete_task(incident_id, task, undo=undo), as_json)


@group.command("answer")
@click.argument("incident_id")
@click.argument("decision")
@click.argument("value")
@click.option("--why", "rationale", help="The rationale, recorded with the answer.")
@json_option
@workspace_options
def answer(incident_id: str, decision: str, value: str, rationale: str | None, as_json: bool) -> None:
    """Answer DECISION with VALUE (yes/no, a number, a choice, a,b for several, an ISO time or 'now')."""
    ws = env().workspace()
    _print_events(ws.incidents.answer(incident_id, decision, value, rationale=rationale), as_json)


@group.command("set")
@click.argument("incident_id")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@json_option
@workspace_options
def set_(incident_id: str, assignments: tuple[str, ...], as_json: bool) -> None:
    """Set facts by hand."""
    ws = env().workspace()
    _print_events(ws.incidents.set_facts(incident_id, _facts(assignments)), as_json)


@group.command("note")
@click.argument("incident_id")
@click.argument("text", nargs=-1, required=True)
@json_option
@workspace_options
def note(incident_id: str, text: tuple[str, ...], as_json: bool) -> None:
    """Add a note to the timeline."""
    ws = env().workspace()
    _print_events(ws.incidents.note(incident_id, " ".join(text)), as_json)


@group.command("assign")
@click.argument("incident_id")
@click.argument("target", metavar="ROLE|TASK")
@click.argument("person")
@json_option
@workspace_options
def assign(incident_id: str, target: str, person: str, as_json: bool) -> None:
    """Give ROLE to PERSON, or assign TASK to a person or role."""
    ws = env().workspace()
    _print_events(ws.incidents.assign(incident_id, target, person), as_json)


@group.command("update")
@click.argument("incident_id")
@click.option("--title", help="New title.")
@click.option("--severity", type=click.Choice(SEVERITIES), help="New severity.")
@json_option
@workspace_options
def update(incident_id: str, title: str | None, severity: str | None, as_json: bool) -> None:
    """Change the incident's title or severity."""
    if title is None and severity is None:
        raise InvalidInput("give --title and/or --severity")
    ws = env().workspace()
    _print_events(ws.incidents.update(incident_id, title=title, severity=severity), as_json)
