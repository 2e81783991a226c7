"""App-wide messages: workspace changes and the outcome of commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class WorkspaceChanged(Message):
    """The workspace changed (this app or another process committed): screens re-read it."""


@dataclass
class Committed(Message):
    """A command went through and is on disk.

    Attributes:
        what: what the user did, in a few words (e.g. "mark task done").
        incident_id: the incident it changed, if any.
        result: what the service returned (events, or the new incident).
        on_done: called on the UI thread with ``result``, if given.
    """

    what: str
    incident_id: str | None = None
    result: Any = None
    on_done: Callable[[Any], None] | None = field(default=None, repr=False)


@dataclass
class ActionFailed(Message):
    """A command was refused or failed; nothing was written.

    Attributes:
        what: what the user tried to do.
        message: the one-line reason, as the service gave it.
        kind: the error's class name (``StaleView``, ``Refused``, ``InvalidInput``, ...).
        refresh: re-read the workspace (a refused command often means the screen was
            stale); False for failed reads, which would only fail again.
        on_failed: called on the UI thread with this message, if given.
    """

    what: str
    message: str
    kind: str
    refresh: bool = True
    on_failed: Callable[[ActionFailed], None] | None = field(default=None, repr=False)
