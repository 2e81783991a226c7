"""The current phase's tasks as a checklist: toggle done, assign, read guidance."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ir.tui.labels import tr


def task_prompt(task: dict[str, Any], lang: str = "en") -> Text:
    """One checklist line: box, title, role, assignee, optional marker."""
    text = Text()
    text.append("[x] " if task["done"] else "[ ] ", style="bold green" if task["done"] else "bold")
    text.append(task["title"], style="dim" if task["done"] else "")
    text.append(f"  {task['role']}", style="italic dim")
    if task["assignee"]:
        text.append(f" › {task['assignee']}", style="cyan")
    if not task["required"]:
        text.append(f" ({tr('optional', lang)})", style="dim")
    if task["done"] and task["done_by"]:
        text.append("  " + tr("done by {person}", lang, person=task["done_by"]), style="dim")
    return text


class TaskList(OptionList):
    """Tasks of one phase; the option ids are the task ids."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space,enter", "toggle", "Done/undo", key_display="space"),
        Binding("a", "assign", "Assign"),
        Binding("g", "guidance", "Guidance"),
    ]
    """Checklist keys (a click toggles too)."""

    class Toggled(Message):
        """The user wants the task done, or undone when ``done`` (what the screen showed)."""

        def __init__(self, task_id: str, done: bool) -> None:
            super().__init__()
            self.task_id = task_id
            self.done = done

    class AssignRequested(Message):
        """The user wants to give the task to a role or person."""

        def __init__(self, task_id: str) -> None:
            super().__init__()
            self.task_id = task_id

    class GuidanceRequested(Message):
        """The user wants to read how to do the task."""

        def __init__(self, task_id: str) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(self, *, lang: str = "en", id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.lang = lang
        self.tasks: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget the lines shown (another incident is shown next)."""
        self.tasks = {}
        self.clear_options()

    def show(self, tasks: list[dict[str, Any]]) -> None:
        """Show the checklist, keeping the highlight on the same task.

        Only the lines that changed are redrawn: ticking a task redraws one line, not the pane.
        """
        current = self.current_task()
        old, self.tasks = self.tasks, {t["id"]: t for t in tasks}
        if list(old) == list(self.tasks):
            changed = [t for t in tasks if old[t["id"]] != t]
            for task in changed:
                self.replace_option_prompt(task["id"], task_prompt(task, self.lang))
            return
        self.set_options(Option(task_prompt(t, self.lang), id=t["id"]) for t in tasks)
        if current in self.tasks:
            self.highlighted = self.get_option_index(current)
        elif tasks:
            self.highlighted = 0

    def current_task(self) -> str | None:
        """The highlighted task's id."""
        if self.highlighted is None or self.option_count == 0:
            return None
        return self.get_option_at_index(self.highlighted).id

    def action_toggle(self) -> None:
        """Mark the highlighted task done, or undo it."""
        task = self.current_task()
        if task is not None:
            self.post_message(self.Toggled(task, self.tasks[task]["done"]))

    def action_assign(self) -> None:
        """Ask for a role or person to give the highlighted task to."""
        task = self.current_task()
        if task is not None:
            self.post_message(self.AssignRequested(task))

    def action_guidance(self) -> None:
        """Show the highlighted task's guidance."""
        task = self.current_task()
        if task is not None:
            self.post_message(self.GuidanceRequested(task))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # A click on a line ticks its box, as a click on a checkbox does.
        event.stop()
        self.action_toggle()
