"""A text to read (a task's guidance), closed with Escape."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class TextScreen(ModalScreen[None]):
    """A titled text over the current screen.

    Args:
        title: the heading.
        body: the text (plain, wrapped to the dialog).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,g", "close", "Close")]
    """Any of these closes the text."""

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.heading = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading, id="dialog-title", markup=False)
            with VerticalScroll(id="dialog-scroll"):
                yield Static(self.body, id="dialog-body", markup=False)

    def action_close(self) -> None:
        """Back to where the text was opened."""
        self.dismiss(None)
