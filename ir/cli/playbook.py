"""``ir playbook``: list, check, show and draw playbooks."""

from __future__ import annotations

from pathlib import Path

import click

from ir.cli.common import emit_json, env, json_option, table, workspace_options
from ir.engine.catalog import display_path
from ir.engine.machine import compile_playbook
from ir.engine.playbook import load_playbook
from ir.engine.views import playbook_view
from ir.errors import ContentError, ContentErrors
from ir.i18n import pick


@click.group("playbook")
def group() -> None:
    """List, validate, show and draw playbooks."""


def _catalog():  # type: ignore[no-untyped-def]
    return env().workspace().playbooks


@group.command("list")
@json_option
@workspace_options
def list_(as_json: bool) -> None:
    """List the playbooks available to this workspace."""
    ws = env().workspace()
    good, bad = ws.playbooks.all()
    if as_json:
        emit_json([{"id": p.id, "title": pick(p.title, ws.lang), "version": p.version} for p in good])
    else:
        rows = [[p.id, p.version, pick(p.title, ws.lang), str(len(p.phases))] for p in good]
        click.echo(table(["ID", "VERSION", "TITLE", "PHASES"], rows))
    for error in bad:
        click.echo(f"ir: warning: skipped invalid playbook: {error}", err=True)


@group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@workspace_options
def validate(paths: tuple[Path, ...]) -> None:
    """Check playbook files (default: every playbook on the search path).

    Prints every problem as FILE:LINE: FIELD: PROBLEM and exits 2 if there is any.
    """
    files = list(paths) or [e.path for e in _catalog().entries()]
    errors: list[ContentError] = []
    for path in files:
        shown = display_path(path)
        try:
            pb = load_playbook(path, shown)
            if path.stem != pb.id:
                raise ContentErrors([ContentError(shown, 1, "id", f"id '{pb.id}' must match the file name '{path.stem}'")])
        except ContentErrors as exc:
            errors.extend(exc.errors)
            continue
        except ContentError as exc:
            errors.append(exc)
            continue
        click.echo(f"ok: {shown} ({pb.id} v{pb.version}, {len(pb.phases)} phases, {len(pb.transitions)} transitions)")
    if errors:
        raise ContentErrors(errors)


@group.command("show")
@click.argument("playbook_id")
@json_option
@workspace_options
def show(playbook_id: str, as_json: bool) -> None:
    """Show a playbook's phases, tasks, decisions and transitions."""
    ws = env().workspace()
    view = playbook_view(ws.playbooks.get(playbook_id), ws.lang)
    if as_json:
        emit_json(view)
        return
    click.echo(f"{view['title']} ({view['id']} v{view['version']})")
    click.echo(view["summary"])
    click.echo("Roles: " + ", ".join(f"{r['id']} ({r['title']})" for r in view["roles"]))
    for phase in view["phases"]:
        click.echo("")
        click.echo(f"[{phase['id']}] {phase['title']}{' (final)' if phase['final'] else ''}")
        for t in phase["tasks"]:
            click.echo(f"  task {t['id']}: {t['title']} [{t['role']}]{'' if t['required'] else ' (optional)'}")
        for d in phase["decisions"]:
            click.echo(f"  decide {d['id']} ({d['type']}): {d['question']}")
        for t in view["transitions"]:
            if phase["id"] in t["source"]:
                click.echo(f"  → {t['trigger']} → {t['dest']}: {t['title']}")


@group.command("graph")
@click.argument("playbook_id")
@workspace_options
def graph(playbook_id: str) -> None:
    """Print the playbook as a Mermaid state diagram."""
    ws = env().workspace()
    click.echo(compile_playbook(ws.playbooks.get(playbook_id)).mermaid(ws.lang), nl=False)
