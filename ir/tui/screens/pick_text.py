"""Choose one of a list, then type a text about it: a role and its holder, a question and its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


class PickTextScreen(ModalScreen[tuple[str, str] | None]):
    """A list to choose from and a box to type in; dismisses with ``(option id, text)``, or None.

    Args:
        title: the dialog's title.
        options: what to choose from (each option's id is what is returned).
        hint: what to do, shown until an option is chosen.
        placeholder: the text box's placeholder.
        prompt: for a chosen option id, the line shown over the box and the text it starts with.
        suggestions: texts the box offers to complete (people's names, say).
        check: for an option id and the text typed, what is wrong with it (None when it will
            do); the dialog stays open and says so.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    """Escape changes nothing."""

    def __init__(
        self,
        title: str,
        options: list[Option],
        *,
        hint: str,
        placeholder: str,
        prompt: Callable[[str], tuple[str, str]],
        suggestions: list[str] | None = None,
        check: Callable[[str, str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.check = check
        self.heading = title
        self.options = options
        self.hint = hint
        self.placeholder = placeholder
        self.prompt = prompt
        self.suggestions = suggestions or []
        self.chosen: str | None = None
        """The id of the option chosen, once one is."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading, id="dialog-title", markup=False)
            yield OptionList(*self.options, id="choices")
            yield Label(self.hint, id="text-label", classes="hint", markup=False)
            suggester = SuggestFromList(self.suggestions, case_sensitive=False) if self.suggestions else None
            yield Input(placeholder=self.placeholder, id="text", suggester=suggester)

    def on_mount(self) -> None:
        self.query_one("#choices", OptionList).focus()

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.chosen = event.option.id
        assert self.chosen is not None
        label, start = self.prompt(self.chosen)
        self.query_one("#text-label", Label).update(label)
        box = self.query_one("#text", Input)
        box.value = start
        box.focus()

    @on(Input.Submitted, "#text")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if self.chosen is None:
            self.query_one("#choices", OptionList).focus()
            return
        text = event.value.strip()
        if not text:
            return
        problem = self.check(self.chosen, text) if self.check is not None else None
        if problem is not None:
            self.query_one("#text-label", Label).update(problem)
            return
        self.dismiss((self.chosen, text))

    def action_cancel(self) -> None:
        """Change nothing."""
        self.dismiss(None)
