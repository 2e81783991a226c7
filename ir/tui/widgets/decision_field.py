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
from ir.tui.labels import tr

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
    Enter; several choices with the Save button. The *why* box beneath takes the rationale
    recorded with the answer (type it first, or press Enter in it to record it with the
    answer shown). A typed answer being edited is never overwritten by a refresh unless its
    committed value changed because of this field.

    Args:
        decision: the playbook's decision.
        lang: display language.
        value: the committed answer (None when unanswered).
    """

    class Answered(Message):
        """The user answered the decision with ``value`` (text, yes/no, a choice or a list),
        and why (None when no rationale was given)."""

        def __init__(self, field: DecisionField, decision_id: str, value: Any, rationale: str | None) -> None:
            super().__init__()
            self.field = field
            self.decision_id = decision_id
            self.value = value
            self.rationale = rationale

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
        # Question and guidance share one widget: every widget costs time each time the
        # incident view is shown.
        yield Static(self._question(), classes="question")
        yield from self._editor()

    def on_descendant_focus(self) -> None:
        # The why box appears under the decision being worked on: a box under every field
        # would double the widgets a phase builds (and the time it takes to show).
        if not self.query(".why"):
            self.mount(Input(placeholder=tr("why (optional, recorded with the answer)", self.lang), compact=True,
                             classes="why"))

    def _why(self) -> Input | None:
        boxes = self.query(".why")
        return boxes.first(Input) if boxes else None

    def _question(self) -> Text:
        text = Text()
        answered = self.value is not None
        text.append("✓ " if answered else "? ", style="bold green" if answered else "bold yellow")
        text.append(pick(self.decision.question, self.lang), style="bold")
        if self.decision.role:
            text.append(f"  {self.decision.role}", style="italic dim")
        if self.decision.guidance:
            text.append("\n" + pick(self.decision.guidance, self.lang), style="dim")
        return text

    def _choices(self) -> list[tuple[str, str]]:
        return [(pick(c.title, self.lang) or c.id, c.id) for c in self.decision.choices or []]

    def _editor(self) -> ComposeResult:
        lang = self.lang
        if self.kind == "bool":
            yield Select([(tr("yes", lang), True), (tr("no", lang), False)], prompt=tr("not answered", lang),
                         compact=True, classes="editor")
        elif self.kind == "choice":
            yield Select(self._choices(), prompt=tr("not answered", lang), compact=True, classes="editor")
        elif self.kind == "multi":
            with Horizontal(classes="multi"):
                yield SelectionList[str](*self._choices(), classes="editor", compact=True)
                yield Button(tr("Save", lang), classes="save", compact=True)
        else:
            yield Input(placeholder=tr(PLACEHOLDERS.get(self.kind, ""), lang), compact=True, classes="editor")

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

    def _answer(self, value: Any) -> None:
        box = self._why()
        why = box.value.strip() if box is not None else ""
        self.post_message(self.Answered(self, self.decision.id, value, why or None))

    def _current(self) -> Any:
        """The answer the editor shows now (None when it shows none)."""
        if self.kind in ("bool", "choice"):
            value = self.query_one(".editor", Select).value
            return None if value == Select.NULL else value
        if self.kind == "multi":
            return sorted(self.query_one(".editor", SelectionList).selected)
        return self.query_one(".editor", Input).value or None

    def answer_recorded(self, rationale: str | None) -> None:
        """Empty the why box once its rationale is on record (unless the user typed on)."""
        why = self._why()
        if why is not None and rationale and why.value.strip() == rationale:
            why.value = ""

    def reset(self) -> None:
        """Forget the answer shown and anything typed (the field is reused for another incident)."""
        if not self._ready:
            self._initial = None
            return
        self.value = None
        self._shown_once = False
        self._shown_text = ""
        self._shown_multi = []
        self._pending = False
        for box in self.query(Input):
            with self.prevent(Input.Changed):
                box.value = ""
            box.remove_class("-dirty")
        for picker in self.query(SelectionList):
            with self.prevent(SelectionList.SelectedChanged):
                picker.deselect_all()
            picker.remove_class("-dirty")

    @on(Select.Changed)
    def _picked(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != Select.NULL and event.value != self.value:
            self._answer(event.value)

    @on(Input.Submitted, ".editor")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        self._pending = True
        self._answer(event.value)

    @on(Input.Submitted, ".why")
    def _why_submitted(self, event: Input.Submitted) -> None:
        # The rationale goes on record with the answer the field shows.
        event.stop()
        value = self._current()
        if value is None or not event.value.strip():
            return
        if value == self.value:
            # The service records a rationale with an answer, not on its own.
            self.notify(tr("The answer shown is already on record: give the rationale with a new answer.",
                           self.lang), severity="warning")
            return
        self._pending = self.kind not in ("bool", "choice")
        self._answer(value)

    @on(Input.Changed, ".editor")
    def _editing(self, event: Input.Changed) -> None:
        event.stop()
        event.input.set_class(event.value != self._shown_text, "-dirty")

    @on(Input.Changed, ".why")
    def _why_changed(self, event: Input.Changed) -> None:
        event.stop()

    @on(SelectionList.SelectedChanged)
    def _ticked(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        event.selection_list.set_class(set(event.selection_list.selected) != set(self._shown_multi), "-dirty")

    @on(Button.Pressed, ".save")
    def _save(self, event: Button.Pressed) -> None:
        event.stop()
        self._pending = True
        self._answer(sorted(self.query_one(".editor", SelectionList).selected))
