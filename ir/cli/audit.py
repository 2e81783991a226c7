"""``ir audit``: prove the record was not altered."""

from __future__ import annotations

from pathlib import Path

import click

from ir.bundle import verify_bundle
from ir.cli.common import emit_json, env, json_option, workspace_options
from ir.errors import IntegrityError


@click.group("audit")
def group() -> None:
    """Verify the hash-chained event log."""


@group.command("verify")
@click.argument("target", required=False, metavar="[ID|BUNDLE]")
@json_option
@workspace_options
def verify(target: str | None, as_json: bool) -> None:
    """Recompute every hash chain (or one incident's, or an exported bundle's) and name the first
    event that does not match.

    Exits 2 if any chain fails. The head hashes printed can be kept outside the workspace
    (in a ticket or on paper) to detect a rewritten log later.
    """
    if target is not None and Path(target).is_dir():
        _verify_bundle(Path(target), as_json)
        return
    report = env().workspace().audit.verify(target)
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


def _verify_bundle(folder: Path, as_json: bool) -> None:
    report = verify_bundle(folder)
    if as_json:
        emit_json({"ok": report.ok, "incident_id": report.incident_id, "events": report.events,
                   "head": report.head, "problems": report.problems})
    if not report.ok:
        raise IntegrityError(f"bundle {folder} does not verify: {report.problems[0]}")
    if not as_json:
        click.echo(f"ok: bundle {folder}: {report.incident_id}, {report.events} events, head {report.head}")


@group.command("export")
@click.argument("incident_id")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="A new folder for the bundle.")
@workspace_options
def export(incident_id: str, out: Path) -> None:
    """Write an incident's evidence bundle: events, chain, playbook, hashes, and how to verify them."""
    manifest = env().workspace().audit.export(incident_id, out)
    click.echo(f"exported {manifest['events']} events of {incident_id} to {out} (head {manifest['head_hash']})")
