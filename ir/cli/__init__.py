"""The ``ir`` command line: a thin shell over the workspace's services.

Exit status: 0 success; 2 a refused or invalid request (one line on stderr); 1 an
internal fault. No traceback reaches the user unless ``IR_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import click

from ir import __version__
from ir.cli.common import LazyGroup, clock_from_env, env, workspace_options
from ir.errors import ContentErrors, IrError
from ir.workspace import database_error_message


class IrGroup(LazyGroup):
    """The root command group: turns every error into one line and an exit status."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """As click's, but a usage error (a bad option value, a missing argument, a wrong path)
        is one line naming the command, not click's usage text and three lines."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
            hint = f" (see {exc.ctx.command_path} -h)" if exc.ctx is not None else ""
            click.echo(f"ir: error: {where}{exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # click returns an explicit exit's status (--help, --version, ctx.exit) or the command's value.
        sys.exit(result if isinstance(result, int) and not isinstance(result, bool) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ContentErrors as exc:
            for error in exc.errors:
                click.echo(f"ir: error: {error}", err=True)
            ctx.exit(exc.exit_code)
        except IrError as exc:
            click.echo(f"ir: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("ir: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            raise
        except Exception as exc:  # the last line of defence: no traceback for users
            database = database_error_message(exc, env().db_path)
            if database is not None:
                click.echo(f"ir: error: {database}", err=True)
                ctx.exit(2)
            if os.environ.get("IR_DEBUG"):
                traceback.print_exc()
            click.echo(f"ir: internal error: {type(exc).__name__}: {exc} (set IR_DEBUG=1 for details)", err=True)
            ctx.exit(1)


@click.group("ir", cls=IrGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@workspace_options
@click.version_option(__version__, prog_name="ir")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Breach incident response and drills, in the terminal.

    Run without a command to open the terminal app on the workspace.
    """
    settings = env()
    if ctx.invoked_subcommand is None:
        # Textual is imported only when the app is wanted: commands stay quick to start.
        from ir.tui import make_app

        make_app(settings.db_path, clock=clock_from_env(), actor=settings.actor, lang=settings.lang).run()


COMMANDS = {
    "incident": "ir.cli.incident:group",
    "playbook": "ir.cli.playbook:group",
    "profile": "ir.cli.profile:group",
    "obligations": "ir.cli.obligations:group",
    "subjects": "ir.cli.notices:subjects_group",
    "notices": "ir.cli.notices:group",
    "key": "ir.cli.keys:group",
    "drill": "ir.cli.drill:group",
    "scheduler": "ir.cli.drill:scheduler",
    "report": "ir.cli.report:group",
    "audit": "ir.cli.audit:group",
    "backup": "ir.cli.backup:backup",
    "restore": "ir.cli.backup:restore",
    "init": "ir.cli.admin:init",
    "admin": "ir.cli.admin:group",
}
"""Every top-level command and where it lives; each module is imported only when its command runs."""

cli.lazy.update(COMMANDS)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(args=argv, prog_name="ir", standalone_mode=True)
    except BrokenPipeError:
        # The reader went away (`ir ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
