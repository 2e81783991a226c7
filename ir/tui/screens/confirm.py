"""A confirmation before something that cannot be undone, with an optional typed value."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ir.tui.labels import tr


class ConfirmScreen(ModalScreen[str | None]):
    """Asks before acting; dismisses with the text typed ('' for none), or None if cancelled.

    Args:
        title: what is about to happen.
        body: its consequences, in a sentence or two.
        lang: display language of the buttons.
        confirm: the label of the button that goes ahead.
        danger: style the dialog as irreversible (closing, sending, waiving, ending a drill).
        reason_prompt: ask for a text (a reason, a time) with this placeholder (None: no box).
        value: the text the box starts with.
        check: says what is wrong with the text typed (None when it will do); the dialog
            stays open until it will do.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+y", "confirm", "Confirm", priority=True),
    ]
    """Escape cancels; Enter in the box or ctrl+y confirms."""

    def __init__(
        self,
        title: str,
        body: str,
        *,
        lang: str = "en",
        confirm: str = "Confirm",
        danger: bool = False,
        reason_prompt: str | None = None,
        value: str = "",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self.heading = title
        self.body = body
        self.lang = lang
        self.confirm_label = confirm
        self.danger = danger
        self.reason_prompt = reason_prompt
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading, id="dialog-title", markup=False)
            yield Static(self.body, id="dialog-body", markup=False)
            if self.reason_prompt is not None:
                yield Input(self.value, placeholder=self.reason_prompt, id="reason")
                yield Static("", id="dialog-problem", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")
                yield Button(tr("Cancel", self.lang), id="cancel")

    def on_mount(self) -> None:
        if self.reason_prompt is not None:
            self.query_one("#dialog-problem").display = False
            self.query_one("#reason", Input).focus()
        else:
            # Irreversible dialogs start on Cancel so a stray Enter does nothing harmful.
            self.query_one("#cancel" if self.danger else "#confirm", Button).focus()

    @on(Button.Pressed, "#confirm")
    @on(Input.Submitted, "#reason")
    def action_confirm(self) -> None:
        """Go ahead (if the text typed will do)."""
        text = self.query_one("#reason", Input).value.strip() if self.reason_prompt is not None else ""
        problem = self.check(text) if self.check is not None else None
        if problem:
            shown = self.query_one("#dialog-problem", Static)
            shown.update(problem)
            shown.display = True
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(text)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Do nothing."""
        self.dismiss(None)
