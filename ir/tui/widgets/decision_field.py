"""One decision as a form field of its kind: yes/no, choice, several choices, number, time, text, counts."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Select, SelectionList, Static

from ir.engine.playbook import Decision
from ir.i18n import pick

PLACEHOLDERS = {
    "integer": "a whole number, e.g. 1500000 — Enter saves",
    "datetime": "now, or e.g. 2026-11-20T09:30+08:00 — Enter saves",
    "text": "Enter saves",
    "counts": "KEY=NUMBER, e.g. CN=1500000, DE=40 — Enter saves",
}
"""What each typed field asks for."""


def editable(value: Any, kind: str) -> str:
    """A stored answer as text the same field accepts back (no thousands separators)."""
    if value is None:
        return ""
    if kind == "counts" and isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


class DecisionField(Vertical):
    """A decision's question, guidance and editor; posts :class:`Answered` when the user answers.

    Yes/no and choice answers are recorded as soon as they are picked; typed answers on
    Enter; several choices with the Save button. A typed answer being edited is never
    overwritten by a refresh unless its committed value changed because of this field.

    Args:
        decision: the playbook's decision.
        lang: display language.
        value: the committed answer (None when unanswered).
    """

    class Answered(Message):
        """The user answered the decision with ``value`` (text, yes/no, a choice or a list)."""

        def __init__(self, decision_id: str, value: Any) -> None:
            super().__init__()
            self.decision_id = decision_id
            self.value = value

    def __init__(self, decision: Decision, lang: str, value: Any = None) -> None:
        super().__init__(id=f"decision-{decision.id}", classes="decision")
        self.decision = decision
        self.lang = lang
        self.value: Any = None
        self._initial = value
        self._ready = False
        self._shown_once = False
        self._shown_text = ""
        self._shown_multi: list[str] = []
        self._pending = False

    @property
    def kind(self) -> str:
        """The decision's fact type."""
        return self.decision.type

    def compose(self) -> ComposeResult:
        yield Static(self._question(), classes="question")
        if self.decision.guidance:
            yield Static(pick(self.decision.guidance, self.lang), classes="hint")
        yield from self._editor()

    def _question(self) -> Text:
        text = Text()
        answered = self.value is not None
        text.append("✓ " if answered else "? ", style="bold green" if answered else "bold yellow")
        text.append(pick(self.decision.question, self.lang), style="bold")
        if self.decision.role:
            text.append(f"  {self.decision.role}", style="italic dim")
        return text

    def _choices(self) -> list[tuple[str, str]]:
        return [(pick(c.title, self.lang) or c.id, c.id) for c in self.decision.choices or []]

    def _editor(self) -> ComposeResult:
        if self.kind == "bool":
            yield Select([("yes", True), ("no", False)], prompt="not answered", compact=True, classes="editor")
        elif self.kind == "choice":
            yield Select(self._choices(), prompt="not answered", compact=True, classes="editor")
        elif self.kind == "multi":
            with Horizontal(classes="multi"):
                yield SelectionList[str](*self._choices(), classes="editor", compact=True)
                yield Button("Save", classes="save", compact=True)
        else:
            yield Input(placeholder=PLACEHOLDERS.get(self.kind, ""), compact=True, classes="editor")

    # ------------------------------------------------------------------- showing

    def on_mount(self) -> None:
        self._ready = True
        self.show(self._initial)

    def show(self, value: Any) -> None:
        """Show the committed answer, without disturbing an answer still being typed."""
        if not self._ready:  # not composed yet: on_mount shows the latest value
            self._initial = value
            return
        changed = value != self.value
        self.value = value
        if changed or not self._shown_once:
            self._shown_once = True
            self.query_one(".question", Static).update(self._question())
        if self.kind in ("bool", "choice"):
            select = self.query_one(".editor", Select)
            target = Select.NULL if value is None else value
            if select.value != target:
                with self.prevent(Select.Changed):
                    select.value = target
        elif self.kind == "multi":
            self._show_multi(value, changed)
        else:
            self._show_text(value, changed)

    def _show_text(self, value: Any, changed: bool) -> None:
        field = self.query_one(".editor", Input)
        text = editable(value, self.kind)
        editing = field.value != self._shown_text
        if not editing or (changed and self._pending):
            with self.prevent(Input.Changed):
                field.value = text
            self._pending = False
        self._shown_text = text
        field.set_class(field.value != text, "-dirty")

    def _show_multi(self, value: Any, changed: bool) -> None:
        picker = self.query_one(".editor", SelectionList)
        wanted = set(value or [])
        editing = set(picker.selected) != set(self._shown_multi)
        if not editing or (changed and self._pending):
            with self.prevent(SelectionList.SelectedChanged):
                picker.deselect_all()
                for choice in wanted:
                    picker.select(choice)
            self._pending = False
        self._shown_multi = sorted(wanted)
        picker.set_class(set(picker.selected) != wanted, "-dirty")

    # ------------------------------------------------------------------ answering

    @on(Select.Changed)
    def _picked(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != Select.NULL and event.value != self.value:
            self.post_message(self.Answered(self.decision.id, event.value))

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        self._pending = True
        self.post_message(self.Answered(self.decision.id, event.value))

    @on(Input.Changed)
    def _editing(self, event: Input.Changed) -> None:
        event.stop()
        event.input.set_class(event.value != self._shown_text, "-dirty")

    @on(SelectionList.SelectedChanged)
    def _ticked(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        event.selection_list.set_class(set(event.selection_list.selected) != set(self._shown_multi), "-dirty")

    @on(Button.Pressed, ".save")
    def _save(self, event: Button.Pressed) -> None:
        event.stop()
        self._pending = True
        self.post_message(self.Answered(self.decision.id, sorted(self.query_one(".editor", SelectionList).selected)))
