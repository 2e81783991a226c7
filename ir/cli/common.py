"""Shared pieces of the command line: the workspace context, options and output helpers."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.cells import cell_len

from ir.clock import Clock, VirtualClock, parse_instant
from ir.errors import InvalidInput
from ir.workspace import Workspace, default_db_path


def clock_from_env() -> Clock | None:
    """A frozen clock when ``IR_NOW`` is set (reproducible reports, demos and tests)."""
    value = os.environ.get("IR_NOW", "").strip()
    if not value:
        return None
    try:
        return VirtualClock(parse_instant(value))
    except ValueError as exc:
        raise InvalidInput(f"IR_NOW: {exc}") from None

F = TypeVar("F", bound=Callable[..., Any])


class Env:
    """Per-invocation settings; opens the workspace only when a command needs it."""

    def __init__(self) -> None:
        self.db: Path | None = None
        self.actor: str | None = None
        self.lang: str | None = None
        self._ws: Workspace | None = None

    @property
    def db_path(self) -> Path:
        """The workspace file this invocation uses."""
        return self.db or default_db_path()

    def workspace(self, *, create: bool = True) -> Workspace:
        """The open workspace (opened on first use, closed when the command ends)."""
        if self._ws is None:
            self._ws = Workspace(self.db_path, clock=clock_from_env(), actor=self.actor, lang=self.lang, create=create)
        return self._ws

    def close(self) -> None:
        """Close the workspace if it was opened."""
        if self._ws is not None:
            self._ws.close()
            self._ws = None


def env() -> Env:
    """The current invocation's :class:`Env`."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Env()
        root.call_on_close(root.obj.close)
    obj: Env = root.obj
    return obj


def _set(attr: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(env(), attr, Path(value).expanduser() if attr == "db" else value)

    return callback


def workspace_options(fn: F) -> F:
    """``--db``, ``--as`` and ``--lang``, accepted before or after the command name."""
    fn = click.option("--lang", metavar="LANG", expose_value=False, callback=_set("lang"), help="Display language: en or zh-CN (env IR_LANG).")(fn)
    fn = click.option("--as", "actor", metavar="NAME", expose_value=False, callback=_set("actor"), help="Who is acting (env IR_ACTOR; default: your user name).")(fn)
    fn = click.option("--db", metavar="PATH", expose_value=False, callback=_set("db"), help="Workspace database file (env IR_DB).")(fn)
    return fn


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


class LazyGroup(click.Group):
    """A command group whose subcommands are imported only when used, so ``ir`` starts quickly.

    Args:
        lazy: command name -> ``"module:attribute"`` of the command to import on first use.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, attribute = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Align columns for a terminal, measuring wide (CJK) characters correctly."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(cell_len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        padded = [c + " " * (widths[i] - cell_len(c)) for i, c in enumerate(row)]
        lines.append("  ".join(padded).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def warn(message: str) -> None:
    """Print a diagnostic on stderr (stdout is for results)."""
    click.echo(message, err=True)


def stdout_is_terminal() -> bool:
    """Whether stdout is an interactive terminal."""
    return sys.stdout.isatty()
