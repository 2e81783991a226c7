"""``ir init`` and ``ir admin``: workspace maintenance."""

from __future__ import annotations

import click

from ir.cli.common import emit_json, env, json_option, workspace_options
from ir.errors import IntegrityError


@click.command("init")
@workspace_options
def init() -> None:
    """Create the workspace (if needed) and print where it is."""
    ws = env().workspace(create=True)
    click.echo(str(ws.store.path))


@click.group("admin")
def group() -> None:
    """Workspace maintenance."""


@group.command("rebuild")
@click.argument("incident_id", required=False)
@click.option("--check", is_flag=True, help="Only compare; keep the current projections.")
@json_option
@workspace_options
def rebuild(incident_id: str | None, check: bool, as_json: bool) -> None:
    """Rebuild the projections (of one incident, or all) from the event log and check they come out identical."""
    report = env().workspace().audit.rebuild(incident_id, check_only=check)
    if as_json:
        emit_json({"events": report.events, "rows": report.rows, "identical": report.identical, "differences": report.differences})
    else:
        verb = "checked" if check else "rebuilt"
        click.echo(f"{verb} projections from {report.events} events: " + ", ".join(f"{t} {n} rows" for t, n in report.rows.items()))
    if not report.identical:
        for line in report.differences:
            click.echo(f"ir: difference: {line}", err=True)
        raise IntegrityError("rebuilt projections differ from the stored ones (see above)")
