"""The declaration form: playbook, title, severity and initial facts open a new incident."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Select, Static, TextArea

from ir.engine.facts import split_assignment
from ir.engine.playbook import Playbook
from ir.engine.state import IncidentState, SEVERITIES
from ir.errors import IrError
from ir.i18n import pick
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed
from ir.tui.widgets.key_bar import KeyBar
from ir.workspace import Workspace

if TYPE_CHECKING:
    from ir.tui.app import IrApp


def parse_facts(text: str) -> dict[str, str]:
    """Read one ``KEY=VALUE`` per line (blank lines and ``#`` comments skipped).

    Raises:
        InvalidInput: a line is not ``KEY=VALUE``.
    """
    facts: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = split_assignment(line)
            facts[key] = value.strip()
    return facts


class DeclareScreen(Screen[str | None]):
    """A form that declares a new incident; dismisses with its id, or None if cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "declare", "Declare", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    """Form keys (Tab moves between fields)."""

    app: IrApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.playbooks: dict[str, Playbook] = {}
        self._busy = False

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        yield Header()
        with VerticalScroll(id="declare-form"):
            yield Label(tr("Playbook", lang), classes="field-label")
            yield Select[str]([], prompt=tr("Choose a playbook", lang), id="playbook", allow_blank=True)
            yield Static("", id="playbook-summary", classes="hint")
            yield Label(tr("Title — what happened, in a few words", lang), classes="field-label")
            yield Input(placeholder=tr("e.g. Customer table exposed in a public bucket", lang), id="title")
            yield Label(tr("Severity", lang), classes="field-label")
            yield Select[str]([(s, s) for s in SEVERITIES], value="medium", allow_blank=False, id="severity")
            yield Label(tr("Initial facts — one KEY=VALUE per line (optional)", lang), classes="field-label")
            yield TextArea(id="facts", placeholder="aware_at=now\nbreach_confirmed=yes")
            yield Static("", id="fact-names", classes="hint")
            with Horizontal(id="declare-buttons"):
                yield Button(tr("Declare (ctrl+s)", lang), id="declare", variant="primary")
                yield Button(tr("Cancel", lang), id="cancel")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = tr("Declare an incident", self.app.ws.lang)
        self._load_playbooks()
        self.query_one("#title", Input).focus()

    def _load_playbooks(self) -> None:
        good, bad = self.app.ws.playbooks.all()
        self.playbooks = {pb.id: pb for pb in good}
        lang = self.app.ws.lang
        select = self.query_one("#playbook", Select)
        select.set_options([(f"{pick(pb.title, lang)} ({pb.id})", pb.id) for pb in good])
        if len(good) == 1 or "personal-data-leak" in self.playbooks:
            select.value = "personal-data-leak" if "personal-data-leak" in self.playbooks else good[0].id
        if bad:
            self.notify(f"{bad[0]}" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""),
                        title=tr("A playbook could not be loaded", lang), severity="warning", timeout=10)

    @on(Select.Changed, "#playbook")
    def _playbook_chosen(self, event: Select.Changed) -> None:
        pb = self.playbooks.get(str(event.value)) if event.value != Select.NULL else None
        summary = self.query_one("#playbook-summary", Static)
        names = self.query_one("#fact-names", Static)
        if pb is None:
            summary.update("")
            names.update("")
            return
        lang = self.app.ws.lang
        summary.update(pick(pb.summary, lang))
        facts = ", ".join(f"{name} ({kind})" for name, kind in pb.fact_types.items())
        names.update(tr("Facts this playbook knows: {facts}", lang, facts=facts))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Leave without declaring anything."""
        self.dismiss(None)

    @on(Button.Pressed, "#declare")
    def action_declare(self) -> None:
        """Declare the incident through the incident service."""
        if self._busy:
            return
        playbook = self.query_one("#playbook", Select).value
        if playbook == Select.NULL:
            self.notify(tr("choose a playbook first", self.app.ws.lang), title=tr("Cannot declare", self.app.ws.lang),
                        severity="error")
            return
        title = self.query_one("#title", Input).value
        severity = str(self.query_one("#severity", Select).value)
        try:
            facts = parse_facts(self.query_one("#facts", TextArea).text)
        except IrError as exc:
            self.notify(str(exc), title=tr("Cannot declare", self.app.ws.lang), severity="error")
            return

        def declare(ws: Workspace) -> IncidentState:
            return ws.incidents.open(str(playbook), title=title, severity=severity, facts=facts)

        # One declaration at a time; a refusal leaves the form filled in to fix and retry.
        self._busy = True
        self.app.run_command("declare the incident", declare, on_done=self._declared, on_failed=self._refused)

    def _refused(self, failure: ActionFailed) -> None:
        self._busy = False

    def _declared(self, state: IncidentState) -> None:
        self.notify(tr("{incident} declared", self.app.ws.lang, incident=state.id),
                    title=tr("Incident declared", self.app.ws.lang))
        self.dismiss(state.id)
