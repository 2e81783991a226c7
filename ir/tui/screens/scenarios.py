"""Start a drill: choose one of the workspace's scenarios and how fast its time runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ir.errors import IrError
from ir.i18n import pick
from ir.tui.labels import tr

if TYPE_CHECKING:
    from ir.drills.scenario import Scenario
    from ir.tui.app import IrApp

DEFAULT_SPEED = 60.0
"""A drill started from the app runs an hour of scenario time a minute unless told otherwise."""


def scenario_line(scenario: Scenario, lang: str) -> Text:
    """A scenario as the list shows it: id, title, length and number of injects."""
    text = Text(scenario.id, style="bold")
    text.append(f"  {pick(scenario.title, lang)}\n")
    text.append("  " + tr("{injects} injects, ENDEX {end}, playbook {playbook}", lang, injects=len(scenario.injects),
                         end=scenario.duration, playbook=scenario.playbook), style="dim")
    return text


def read_speed(text: str) -> float | None:
    """A speed typed as ``60`` or ``60x`` (None when it is not a positive number)."""
    try:
        speed = float(text.strip().rstrip("xX"))
    except ValueError:
        return None
    return speed if speed > 0 else None


class ScenariosScreen(ModalScreen[tuple[str, float] | None]):
    """The scenarios to drill; dismisses with ``(scenario id, speed)``, or None if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    """Escape starts nothing."""

    class Loaded(Message):
        """The scenarios read by a worker, and the problems of those that could not be read."""

        def __init__(self, scenarios: list[Scenario], problems: list[str]) -> None:
            super().__init__()
            self.scenarios = scenarios
            self.problems = problems

    app: IrApp  # type: ignore[assignment]

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        with Vertical(id="dialog"):
            yield Label(tr("Start a drill — EXERCISE", lang), id="dialog-title")
            yield Static(tr("Reading the scenarios…", lang), id="dialog-body", classes="hint")
            # The speed comes first: below a long list it would be off a small screen.
            with Horizontal(id="speed-row"):
                yield Label(tr("Speed", lang), classes="inline-label")
                yield Input(f"{DEFAULT_SPEED:g}", id="speed", compact=True)
                yield Label(tr("scenario seconds per second (60: an hour a minute)", lang), classes="hint")
            yield OptionList(id="scenarios")

    def on_mount(self) -> None:
        self.query_one("#scenarios", OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, group="scenarios", exit_on_error=False)
    def load(self) -> None:
        """Read and check every scenario on the workspace's search path."""
        try:
            with self.app.open_workspace() as ws:
                good, bad = ws.drills.scenarios.all()
        except IrError as exc:
            self.post_message(self.Loaded([], [str(exc)]))
            return
        self.post_message(self.Loaded(good, [str(b) for b in bad]))

    def on_scenarios_screen_loaded(self, message: Loaded) -> None:
        lang = self.app.ws.lang
        body = self.query_one("#dialog-body", Static)
        if message.problems:
            body.update(tr("Not listed, invalid: {problems}", lang, problems="; ".join(message.problems)))
        else:
            body.update(tr("Choose a scenario: Enter starts it as a drill (an exercise incident).", lang))
        self.query_one("#scenarios", OptionList).set_options(
            Option(scenario_line(s, lang), id=s.id) for s in message.scenarios
        )

    @on(OptionList.OptionSelected, "#scenarios")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        speed = read_speed(self.query_one("#speed", Input).value)
        if speed is None:
            self.notify(tr("The speed must be a number above 0, e.g. 60.", self.app.ws.lang), severity="error")
            self.query_one("#speed", Input).focus()
            return
        assert event.option.id is not None
        self.dismiss((event.option.id, speed))

    def action_cancel(self) -> None:
        """Start nothing."""
        self.dismiss(None)
