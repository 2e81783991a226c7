"""``ir obligations``: who must be told, by when, under which law; and ``ir report compliance``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ir.cli.common import emit_json, env, json_option, table, warn, workspace_options
from ir.cli.report import write_or_print
from ir.engine.views import describe_event
from ir.errors import InvalidInput
from ir.obligations.engine import Obligation
from ir.obligations.status import Tracked

if TYPE_CHECKING:
    from ir.store import Event


class _ObligationsGroup(click.Group):
    """A group whose first argument may be an incident id instead of a command."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "show", self.commands["show"], args
        return super().resolve_command(ctx, args)


@click.group("obligations", cls=_ObligationsGroup, invoke_without_command=True, subcommand_metavar="ID | COMMAND [ARGS]...")
@click.option("--facts", "facts_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Assess a bare fact set from a JSON or YAML file instead of an incident.")
@json_option
@workspace_options
@click.pass_context
def group(ctx: click.Context, facts_file: Path | None, as_json: bool) -> None:
    """Notification duties: ir obligations ID, or ir obligations --facts FILE.

    Each duty names the law and article, the recipient, when its clock started and when it
    is due (UTC). Duties marked ⚠ rest in part on sources the reference could not verify.
    """
    if ctx.invoked_subcommand is not None:
        if facts_file is not None:
            raise InvalidInput("give either an incident ID or --facts FILE, not both")
        return
    if facts_file is None:
        raise InvalidInput("give an incident ID (ir obligations INC-2026-0001) or --facts FILE")
    _print_fact_set(facts_file, as_json)


@group.command("show")
@click.argument("incident_id")
@json_option
@workspace_options
@click.pass_context
def show(ctx: click.Context, incident_id: str, as_json: bool) -> None:
    """The incident's duties with status: pending, overdue, met, late or waived."""
    ws = env().workspace()
    tracked = ws.obligations.for_incident(incident_id)
    if as_json or (ctx.parent is not None and ctx.parent.params.get("as_json")):
        emit_json([t.as_dict() for t in tracked])
        return
    notes = ws.obligations.notes(incident_id)
    state = ws.incidents.get(incident_id)
    aware = state.facts.get("aware_at") or "not recorded"
    where = f"recorded at event #{notes.assessed_seq}" if notes.assessed_seq else "none recorded yet"
    exercise = "EXERCISE — " if state.mode == "drill" else ""
    noun = "duty" if len(tracked) == 1 else "duties"
    click.echo(f"{exercise}{incident_id}: {len(tracked)} notification {noun} (aware {aware}; {where})")
    if tracked:
        click.echo(table(["STATUS", "DUTY", "RECIPIENT", "DUE (UTC)", "LEFT"], [_row(t) for t in _by_due(tracked)]))
    _footer([t.obligation for t in tracked], notes.undecided)
    for problem in notes.problems:
        warn(f"ir: warning: fact {problem}; ignored")
    if notes.stale:
        warn("ir: note: the rules now give a different list; record it with: ir obligations assess " + incident_id)


@group.command("fulfil")
@click.argument("incident_id")
@click.argument("rule")
@click.option("--at", "at", metavar="TIME", help="When the notice was given (ISO 8601 with offset; default: now).")
@click.option("--note", help="What was sent, how, reference numbers.")
@json_option
@workspace_options
def fulfil(incident_id: str, rule: str, at: str | None, note: str | None, as_json: bool) -> None:
    """Record that the duty RULE was fulfilled (the notice was given)."""
    _print_events(env().workspace().obligations.fulfil(incident_id, rule, at=at, note=note), as_json)


@group.command("waive")
@click.argument("incident_id")
@click.argument("rule")
@click.option("--reason", required=True, help="Why no notice is given (the reasoning a regulator would ask for).")
@json_option
@workspace_options
def waive(incident_id: str, rule: str, reason: str, as_json: bool) -> None:
    """Record a documented decision not to notify under RULE, with its reason."""
    _print_events(env().workspace().obligations.waive(incident_id, rule, reason), as_json)


@group.command("assess")
@click.argument("incident_id")
@json_option
@workspace_options
def assess(incident_id: str, as_json: bool) -> None:
    """Record the incident's duties again after the rule files changed."""
    events = env().workspace().obligations.reassess(incident_id)
    if not events and not as_json:
        click.echo(f"{incident_id}: the recorded duties are current")
    _print_events(events, as_json)


@click.command("compliance")
@click.argument("incident_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the Markdown to this file.")
@workspace_options
def compliance(incident_id: str, out: Path | None) -> None:
    """Notification compliance (Markdown): each duty with due, done, and met or missed."""
    write_or_print(env().workspace().obligations.compliance_report(incident_id), out)


def _print_fact_set(path: Path, as_json: bool) -> None:
    result = env().workspace().obligations.evaluate_file(path)
    for warning in result.warnings:
        warn(f"ir: warning: {warning}")
    if as_json:
        emit_json([o.as_dict() for o in result.obligations])
        return
    if not result.obligations:
        click.echo("No notification duty applies to these facts.")
    else:
        rows = [
            [_flagged(o), o.recipient_name, o.due_at or _undated(o), o.deadline, o.citation]
            for o in _sorted(result.obligations)
        ]
        click.echo(table(["DUTY", "RECIPIENT", "DUE (UTC)", "PERIOD", "LAW"], rows))
    _footer(result.obligations, result.undecided)


def _flagged(ob: Obligation) -> str:
    return ob.rule + ("" if ob.verified else " ⚠")


def _undated(ob: Obligation) -> str:
    if ob.target_at:
        return f"target {ob.target_at}"
    return "clock not started"


def _row(t: Tracked) -> list[Any]:
    ob = t.obligation
    left = t.remaining_text or ""
    if t.status == "pending" and t.past_target:
        left = "past own target"
    elif t.status in ("met", "late"):
        left = f"done {t.outcome.fulfilled_at}"
    elif t.status == "waived":
        left = "waived"
    return [t.status, _flagged(ob), ob.recipient_name, ob.due_at or _undated(ob), left]


def _sorted(obligations: list[Obligation]) -> list[Obligation]:
    return sorted(obligations, key=lambda o: (o.due_at or o.target_at or "~", o.rule))


def _by_due(tracked: list[Tracked]) -> list[Tracked]:
    return sorted(tracked, key=lambda t: (t.obligation.due_at or t.obligation.target_at or "~", t.obligation.rule))


def _footer(obligations: list[Obligation], undecided: dict[str, list[str]]) -> None:
    unverified = [f"{o.rule} ({', '.join(o.unverified)})" for o in obligations if not o.verified]
    if unverified:
        click.echo("\n⚠ not verified in the reference: " + "; ".join(unverified))
    if undecided:
        click.echo("\nCould also apply once answered yes: " + "; ".join(f"{r} ({', '.join(f)})" for r, f in undecided.items()))


def _print_events(events: list[Event], as_json: bool) -> None:
    if as_json:
        emit_json([e.as_dict() for e in events])
        return
    for e in events:
        click.echo(f"{e.incident_id} #{e.seq}: {describe_event(e.kind, e.payload)}")
