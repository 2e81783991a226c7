"""``ir key``: the data key that seals affected people's personal fields."""

from __future__ import annotations

from pathlib import Path

import click
import platformdirs

from ir.cli.common import emit_json, env, json_option, table, workspace_options


@click.group("key")
def group() -> None:
    """The data key: personal data of affected people is stored encrypted with it.

    The key never enters the workspace: it comes from IR_KEY_FILE (a key file readable by
    its owner only) or IR_KEY (the key itself).
    """


@group.command("new")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE",
              help="Where to write the key file (default: data.key in your ir configuration folder).")
@json_option
def new(out: Path | None, as_json: bool) -> None:
    """Create a new key file (readable by you only) and say how to use it.

    An existing file is never overwritten: losing a key loses the data it sealed.
    """
    from ir.notices import keys

    path = (out or platformdirs.user_config_path("ir", appauthor=False) / "data.key").expanduser().absolute()
    key = keys.generate()
    keys.write_key_file(path, key)
    if as_json:
        emit_json({"file": str(path), "fingerprint": key.fingerprint})
        return
    click.echo(f"created key file {path} (fingerprint {key.fingerprint})")
    click.echo(f"use it:  export {keys.FILE_VAR}={path}")
    click.echo("keep a copy apart from the workspace (a password manager, a safe): without it the personal data "
               "sealed with it cannot be read; with it, anyone holding a copy of the workspace can read that data")


@group.command("status")
@json_option
@workspace_options
def status(as_json: bool) -> None:
    """Which key is configured (by fingerprint) and how many people each key covers."""
    report = env().workspace().keys.status()
    if as_json:
        emit_json(report)
        return
    configured = report["configured"]
    if configured:
        click.echo(f"configured key: {configured['fingerprint']} ({configured['source']})")
    else:
        from ir.notices.keys import SETUP

        click.echo(f"no key configured: {SETUP}")
    if not report["keys"]:
        click.echo("no affected people stored")
        return
    rows = [[_label(k, configured), f"{v['people']:,}", f"{v['incidents']:,}"] for k, v in report["keys"].items()]
    click.echo(table(["KEY", "PEOPLE", "INCIDENTS"], rows))


def _label(key_id: str, configured: dict[str, str] | None) -> str:
    if key_id == "plain":
        return "plain (stored before encryption: run ir key rotate)"
    if key_id == "purged":
        return "purged (personal fields destroyed)"
    if configured and key_id == configured["fingerprint"]:
        return f"{key_id} (configured)"
    return key_id


@group.command("rotate")
@click.option("--new-key-file", "new_key_file", required=True, type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="The new key file (ir key new --out FILE).")
@json_option
@workspace_options
def rotate(new_key_file: Path, as_json: bool) -> None:
    """Re-encrypt every person's personal fields with the key in --new-key-file.

    The configured key (IR_KEY_FILE or IR_KEY) opens what it sealed. Rows are re-encrypted
    in small batches; if the run is interrupted, run the same command again to finish. Then
    point IR_KEY_FILE at the new file.
    """
    from ir.cli.notices import _end_bar, progress_bar

    ws = env().workspace()
    bar = progress_bar("re-encrypting")
    try:
        result = ws.keys.rotate(new_key_file, progress=bar)
    finally:
        _end_bar(bar)
    if as_json:
        emit_json(result.as_dict())
        return
    moved = ", ".join(f"{n:,} from {k}" for k, n in result.moved.items()) or "none left to move"
    click.echo(f"re-encrypted with key {result.new}: {moved}; {result.already:,} were already done by an earlier run")
    if result.remaining:
        click.echo(f"ir: {result.remaining:,} people are still under another key (imported meanwhile?): run it again",
                   err=True)
    click.echo(f"recorded on the workspace chain (event #{result.seq}); now set IR_KEY_FILE={new_key_file}")
