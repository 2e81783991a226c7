"""``ir audit``: prove the record was not altered."""

from __future__ import annotations

import click

from ir.cli.common import emit_json, env, json_option, workspace_options
from ir.errors import IntegrityError


@click.group("audit")
def group() -> None:
    """Verify the hash-chained event log."""


@group.command("verify")
@click.argument("incident_id", required=False)
@json_option
@workspace_options
def verify(incident_id: str | None, as_json: bool) -> None:
    """Recompute every hash chain (or one incident's) and name the first event that does not match.

    Exits 2 if any chain fails. The head hashes printed can be kept outside the workspace
    (in a ticket or on paper) to detect a rewritten log later.
    """
    report = env().workspace().audit.verify(incident_id)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "incidents": report.incidents,
                "events": report.events,
                "problems": [
                    {"incident_id": p.incident_id, "seq": p.seq, "kind": p.kind, "at": p.at, "problem": p.problem}
                    for p in report.problems
                ],
                "heads": report.heads,
            }
        )
    else:
        for ident, head in sorted(report.heads.items()):
            click.echo(f"ok: {ident} head {head}")
    if not report.ok:
        for problem in report.problems[1:]:
            click.echo(f"ir: error: {problem}", err=True)
        raise IntegrityError(f"chain broken: {report.problems[0]}")
    if not as_json:
        click.echo(f"verified {report.events} events in {report.incidents} incident chain(s)")
