"""Help: the keys of the screen it was opened from, and how the app works."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown

GUIDE = """\
**How ir works.** Every action is recorded the moment you take it, in the workspace's
tamper-evident log; other people (and `ir` commands) on the same workspace see it within
seconds. A step taken on a screen that has changed meanwhile is refused: look again, then act.

**Incident view.** Work the current phase: tick tasks (space), answer decisions (pick a
value, or type and press Enter), then take the next step (Enter on it). A blocked step says
what blocks it. `[` and `]` (or 1–9) switch panes: Work, Timeline (notes with `n`), Report.

**Everywhere.** ctrl+p opens the command palette; ? shows this help; ctrl+q quits.
"""


def key_table(bindings: dict[str, ActiveBinding]) -> str:
    """The bindings as a Markdown table, one row per action."""
    seen: dict[str, list[str]] = {}
    for key, active in bindings.items():
        binding = active.binding
        label = binding.description or binding.action
        display = binding.key_display or key
        keys = seen.setdefault(label, [])
        if display not in keys:
            keys.append(display)
    rows = [f"| {', '.join(f'`{k}`' for k in keys)} | {label} |" for label, keys in seen.items()]
    return "| Key | Does |\n|---|---|\n" + "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    """Keys of the screen underneath, and a short guide.

    Args:
        bindings: the active bindings of the screen it was opened from.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "close", "Close")]
    """Any of these closes help."""

    def __init__(self, bindings: dict[str, ActiveBinding]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Help — Escape closes", id="dialog-title")
            with VerticalScroll(id="dialog-scroll"):
                yield Markdown(GUIDE + "\n" + key_table(self.bindings), id="help-text")

    def action_close(self) -> None:
        """Back to where help was opened."""
        self.dismiss(None)
