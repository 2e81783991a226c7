"""Give a task to a role or a person."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ir.engine.playbook import Playbook
from ir.i18n import pick
from ir.tui.labels import tr


class AssignScreen(ModalScreen[str | None]):
    """Pick a role from the list or type a person; dismisses with it, or None if cancelled.

    Args:
        title: the dialog's title.
        task: the task (as in ``incident_view``).
        pb: the incident's playbook (for the roles).
        roles: who holds each role now.
        lang: display language.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    """Escape leaves the task as it is."""

    def __init__(self, title: str, task: dict[str, Any], pb: Playbook, roles: dict[str, str], lang: str) -> None:
        super().__init__()
        self.heading = title
        self.subject = task
        self.pb = pb
        self.roles = roles
        self.lang = lang

    def compose(self) -> ComposeResult:
        people = sorted(set(self.roles.values()))
        with Vertical(id="dialog"):
            yield Label(self.heading, id="dialog-title", markup=False)
            yield Input(
                value=self.subject["assignee"] or "",
                placeholder=tr("a person's name, or a role id — Enter assigns", self.lang),
                suggester=SuggestFromList([*self.pb.role_ids, *people], case_sensitive=False),
                id="assignee",
            )
            yield Label(tr("or choose a role:", self.lang), classes="hint")
            yield OptionList(*(self._role_option(r.id, pick(r.title, self.lang)) for r in self.pb.roles), id="roles")

    def _role_option(self, role: str, title: str) -> Option:
        text = Text(role, style="bold")
        text.append(f"  {title}")
        if role in self.roles:
            text.append(f"  ({self.roles[role]})", style="dim")
        return Option(text, id=role)

    def on_mount(self) -> None:
        self.query_one("#assignee", Input).focus()

    @on(Input.Submitted, "#assignee")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    @on(OptionList.OptionSelected, "#roles")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Leave the task as it is."""
        self.dismiss(None)
