"""The ways out of the current phase, each allowed or saying exactly what blocks it."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ir.tui.labels import tr


def transition_prompt(trigger: dict[str, Any], dest_title: str, lang: str = "en") -> Text:
    """A transition's line: allowed (✓) or blocked (✗) with one reason per line beneath."""
    text = Text()
    if trigger["allowed"]:
        text.append("✓ ", style="bold green")
        text.append(trigger["title"], style="bold")
    else:
        text.append("✗ ", style="bold red")
        text.append(trigger["title"])
    text.append(f"  › {dest_title}", style="dim")
    for reason in trigger["blocked_by"]:
        text.append(f"\n    {tr('blocked: ', lang)}", style="red")
        text.append(reason, style="dim")
    return text


class TransitionList(OptionList):
    """Transitions out of one phase; the option ids are the trigger names."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Take step")]
    """Enter (or a click) takes the highlighted step, after confirmation."""

    class Chosen(Message):
        """The user chose a transition (allowed or not: the service has the last word)."""

        def __init__(self, trigger: dict[str, Any]) -> None:
            super().__init__()
            self.trigger = trigger

    def __init__(self, *, lang: str = "en", id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.lang = lang
        self.triggers: dict[str, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget the lines shown (another incident is shown next)."""
        self.triggers = {}
        self.clear_options()

    def show(self, triggers: list[dict[str, Any]], dest_titles: dict[str, str]) -> None:
        """Show the transitions, keeping the highlight; only changed lines are redrawn."""
        old, self.triggers = self.triggers, {t["name"]: t for t in triggers}
        if list(old) == list(self.triggers):
            changed = [t for t in triggers if old[t["name"]] != t]
            for t in changed:
                self.replace_option_prompt(t["name"], self._prompt(t, dest_titles))
            return
        self.set_options(
            Option(self._prompt(t, dest_titles), id=t["name"]) for t in triggers
        )
        if triggers:
            self.highlighted = 0

    def _prompt(self, trigger: dict[str, Any], dest_titles: dict[str, str]) -> Text:
        return transition_prompt(trigger, dest_titles.get(trigger["dest"], trigger["dest"]), self.lang)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id in self.triggers:
            self.post_message(self.Chosen(self.triggers[event.option.id]))
