"""``ir profile``: facts about the organisation that every new incident inherits."""

from __future__ import annotations

import click

from ir.cli.common import emit_json, env, json_option, table, workspace_options
from ir.engine.facts import render, split_assignment
from ir.engine.profile import KNOWN


@click.group("profile")
def group() -> None:
    """Organisation facts (name, contact, entity type) copied into every new incident."""


@group.command("show")
@json_option
@workspace_options
def show(as_json: bool) -> None:
    """Show the profile, and the keys ir knows."""
    entries = env().workspace().profile.entries()
    if as_json:
        emit_json(entries)
        return
    rows = [[k, render(v["value"]), v["set_by"], v["set_at"]] for k, v in entries.items()]
    click.echo(table(["KEY", "VALUE", "SET BY", "AT"], rows) if rows else "The profile is empty.")
    unset = [k for k in KNOWN if k not in entries]
    if unset:
        click.echo("\nNot set:")
        for key in unset:
            click.echo(f"  {key} ({KNOWN[key][0]}): {KNOWN[key][1]}")


@group.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@workspace_options
def set_(assignments: tuple[str, ...]) -> None:
    """Set profile facts, e.g. organisation="Example Ltd" cii_operator=false."""
    pairs = dict(split_assignment(a) for a in assignments)
    env().workspace().profile.set(pairs)
    click.echo("profile updated: " + ", ".join(pairs))


@group.command("unset")
@click.argument("keys", nargs=-1, required=True)
@workspace_options
def unset(keys: tuple[str, ...]) -> None:
    """Remove profile facts."""
    env().workspace().profile.unset(list(keys))
    click.echo("profile updated")
