"""``ir audit``: prove the record was not altered."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ir.bundle import verify_bundle
from ir.cli.common import emit_json, env, json_option, workspace_options
from ir.errors import IntegrityError, InvalidInput

HASH = re.compile(r"[0-9a-fA-F]{64}")


@click.group("audit")
def group() -> None:
    """Verify the hash-chained event log."""


@group.command("verify")
@click.argument("target", required=False, metavar="[ID|BUNDLE]")
@click.option("--expect-head", "anchors", multiple=True, metavar="HASH",
              help="A head hash noted earlier outside the workspace; it must still be in the log. Repeatable.")
@json_option
@workspace_options
def verify(target: str | None, anchors: tuple[str, ...], as_json: bool) -> None:
    """Recompute every hash chain (or one incident's, or an exported bundle's) and name the first
    event that does not match.

    Exits 2 if any chain fails. The head hashes printed can be kept outside the workspace
    (in a ticket or on paper): given back with --expect-head, each must still be the hash of an
    event in the log, which shows a log rewritten and re-hashed since it was noted.
    """
    for anchor in anchors:
        if not HASH.fullmatch(anchor):
            raise InvalidInput(f"--expect-head {anchor!r} is not a SHA-256 hash (64 hex digits, as ir audit verify prints)")
    if target is not None and Path(target).is_dir():
        _verify_bundle(Path(target), anchors, as_json)
        return
    report = env().workspace().audit.verify(target, anchors)
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
                "unanchored": report.unanchored,
            }
        )
    else:
        for ident, head in sorted(report.heads.items()):
            click.echo(f"ok: {ident} head {head}")
    if report.problems:
        for problem in report.problems[1:]:
            click.echo(f"ir: error: {problem}", err=True)
        raise IntegrityError(f"chain broken: {report.problems[0]}")
    if report.unanchored:
        raise IntegrityError(_unanchored(report.unanchored, "the log"))
    if not as_json:
        anchored = f"; {len(anchors)} noted head(s) found" if anchors else ""
        click.echo(f"verified {report.events} events in {report.incidents} incident chain(s){anchored}")


def _unanchored(missing: list[str], where: str) -> str:
    return (f"head {missing[0]} noted earlier is not in {where}: the record was rewritten since it was noted "
            f"(or the hash belongs to another record)" + (f"; {len(missing) - 1} more" if len(missing) > 1 else ""))


def _verify_bundle(folder: Path, anchors: tuple[str, ...], as_json: bool) -> None:
    report = verify_bundle(folder)
    missing = sorted({a.lower() for a in anchors} - report.hashes) if report.ok else []
    if as_json:
        emit_json({"ok": report.ok and not missing, "incident_id": report.incident_id, "events": report.events,
                   "head": report.head, "problems": report.problems, "unanchored": missing})
    if not report.ok:
        raise IntegrityError(f"bundle {folder} does not verify: {report.problems[0]}")
    if missing:
        raise IntegrityError(_unanchored(missing, f"bundle {folder}"))
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
