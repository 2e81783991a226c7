"""``ir backup`` and ``ir restore``: consistent copies and verified restores."""

from __future__ import annotations

from pathlib import Path

import click

from ir.cli.common import env, workspace_options
from ir.errors import IntegrityError, Refused


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@workspace_options
def backup(target: Path) -> None:
    """Copy the workspace to TARGET while others keep working, and verify the copy."""
    report = env().workspace().audit.backup(target)
    if not report.verify.ok:
        raise IntegrityError(f"the copy does not verify: {report.verify.problems[0]}")
    click.echo(f"backed up {report.verify.events} events in {report.verify.incidents} chain(s) to {target}")
    click.echo(f"sha256 {report.sha256}")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@workspace_options
def restore(source: Path, yes: bool) -> None:
    """Replace the workspace with the backup SOURCE, after verifying every chain in it.

    The current workspace is kept beside itself as *.before-restore-<time>.db.
    """
    ws = env().workspace()
    if not yes and not click.confirm(f"Replace {ws.store.path} with {source}?", default=False, err=True):
        raise Refused("restore cancelled; nothing was changed")
    report, safety = ws.audit.restore(source)
    click.echo(f"restored {report.verify.events} events in {report.verify.incidents} chain(s) from {source}")
    click.echo(f"the previous workspace is kept at {safety}")
