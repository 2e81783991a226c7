"""``ir report``: reports built from the record."""

from __future__ import annotations

from pathlib import Path

import click

from ir.cli.common import LazyGroup, env, workspace_options
from ir.errors import InvalidInput


@click.group("report", cls=LazyGroup, lazy={"compliance": "ir.cli.obligations:compliance"})
def group() -> None:
    """Generate reports from an incident's record."""


def write_or_print(text: str, out: Path | None) -> None:
    """Write ``text`` to ``out`` (and say where), or print it."""
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}", err=True)


@group.command("postmortem")
@click.argument("incident_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the Markdown to this file.")
@workspace_options
def postmortem(incident_id: str, out: Path | None) -> None:
    """The post-mortem (Markdown): summary, timeline, decisions, time per phase, root cause, actions."""
    write_or_print(env().workspace().incidents.postmortem(incident_id), out)
