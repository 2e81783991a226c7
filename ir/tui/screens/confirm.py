"""A confirmation before something that cannot be undone, with an optional reason."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmScreen(ModalScreen[str | None]):
    """Asks before acting; dismisses with the reason typed ('' for none), or None if cancelled.

    Args:
        title: what is about to happen.
        body: its consequences, in a sentence or two.
        confirm: the label of the button that goes ahead.
        danger: style the dialog as irreversible (closing, sending).
        reason_prompt: ask for an optional reason with this placeholder (None: no reason box).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+y", "confirm", "Confirm", priority=True),
    ]
    """Escape cancels; Enter in the reason box or ctrl+y confirms."""

    def __init__(
        self, title: str, body: str, *, confirm: str = "Confirm", danger: bool = False, reason_prompt: str | None = None
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self.heading = title
        self.body = body
        self.confirm_label = confirm
        self.danger = danger
        self.reason_prompt = reason_prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading, id="dialog-title")
            yield Static(self.body, id="dialog-body")
            if self.reason_prompt is not None:
                yield Input(placeholder=self.reason_prompt, id="reason")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.reason_prompt is not None:
            self.query_one("#reason", Input).focus()
        else:
            # Irreversible dialogs start on Cancel so a stray Enter does nothing harmful.
            self.query_one("#cancel" if self.danger else "#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted, "#reason")
    def action_confirm(self) -> None:
        """Go ahead."""
        reason = self.query_one("#reason", Input).value.strip() if self.reason_prompt is not None else ""
        self.dismiss(reason)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Do nothing."""
        self.dismiss(None)
