"""Errors that reach a user as one line, with the exit code the command line maps them to."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""C0 and C1 control characters and the Unicode line and paragraph separators: every character
that str.splitlines or a terminal treats as a line break or a control sequence."""


def one_line(text: str) -> str:
    """Make ``text`` safe to show as one line: control characters (newlines included) are
    written as escapes, so a value typed by a user cannot split or forge an error line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class IrError(Exception):
    """A request that was refused or invalid; shown to the user as one line (exit 2)."""

    exit_code = 2

    def __init__(self, message: str, *args: object) -> None:
        super().__init__(one_line(str(message)), *args)


class NotFound(IrError):
    """Something named by the user does not exist (an incident, a playbook, a task)."""


class InvalidInput(IrError):
    """A value given by the user cannot be used (bad fact value, bad path, bad CSV row)."""


class Refused(IrError):
    """A well-formed request that the incident's current state does not allow.

    Attributes:
        reasons: the individual reasons, e.g. each guard that blocks a transition.
    """

    def __init__(self, message: str, reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.reasons = [one_line(r) for r in reasons or []]


class StaleView(Refused):
    """The caller acted on a view of the incident that has since changed."""


class ContentError(IrError):
    """A content file (playbook, scenario, rule, template) is invalid.

    The message names the file, the line and the field, e.g.
    ``playbooks/x.yaml:12: phases[2].tasks[0].role: unknown role 'dpo2'``.
    """

    def __init__(self, path: str, line: int | None, field: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


class ContentErrors(IrError):
    """Several problems found in content files; ``str()`` gives the first one."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        super().__init__(f"{errors[0]}{more}")


class WorkspaceError(IrError):
    """The workspace database cannot be opened or used (locked, read-only, too new, full disk)."""


class IntegrityError(IrError):
    """The event log does not verify: a hash, link or sequence number does not match."""
