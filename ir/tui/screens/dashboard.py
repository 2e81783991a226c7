"""The dashboard: open incidents with their deadlines, drills apart, and the way in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Header, Input, Label, Select
from textual.worker import get_current_worker

from ir.engine.state import SEVERITIES, IncidentState
from ir.errors import IrError
from ir.tui.commands import PaletteCommand
from ir.tui.data import IncidentRow, carry_deadlines, load_rows, with_deadlines
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed, WorkspaceChanged
from ir.tui.widgets.incident_table import IncidentTable
from ir.tui.widgets.key_bar import KeyBar
from ir.tui.widgets.welcome import SAMPLE_SCENARIO, SAMPLE_SPEED, Welcome

if TYPE_CHECKING:
    from ir.tui.app import IrApp
    from ir.workspace import Workspace

TICK_SECONDS = 15.0
"""How often ages and countdowns move on (they show minutes)."""


class DashboardScreen(Screen[None]):
    """Open live incidents, most urgent first; drills listed apart as EXERCISE."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "declare", "Declare"),
        Binding("d", "drill", "Drill"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("c", "toggle_closed", "Closed"),
        Binding("r", "reload", "Refresh", show=False),
        Binding("escape", "clear_search", "Clear search", show=False),
    ]
    """Dashboard keys (Enter on a row opens the incident)."""

    AUTO_FOCUS = "#live"

    class Loaded(Message):
        """The incident rows, read by a worker; ``complete`` once their deadlines are in."""

        def __init__(self, rows: list[IncidentRow], complete: bool) -> None:
            super().__init__()
            self.rows = rows
            self.complete = complete

    app: IrApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[IncidentRow] | None = None
        self.complete = False
        """Whether the rows shown carry their deadlines (the second half of a load)."""
        self._stale = False

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        yield Header()
        with Horizontal(id="filters"):
            yield Input(placeholder=tr("Search id, title, owner, phase…", lang), id="search", compact=True)
            yield Select(
                [(s, s) for s in SEVERITIES], prompt=tr("Any severity", lang), id="severity", compact=True
            )
            yield Checkbox(tr("Closed", lang), id="show-closed", compact=True)
        yield Label("", id="live-title", classes="section-title")
        yield IncidentTable(lang=lang, id="live")
        yield Label("", id="drill-title", classes="section-title exercise")
        yield IncidentTable(lang=lang, id="drills")
        yield Welcome(str(self.app.ws.store.path), lang, id="welcome")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = tr("Incidents", self.app.ws.lang)
        self.query_one("#welcome").display = False
        self.set_interval(TICK_SECONDS, self._tick, name="dashboard-tick")
        self.load()

    # ------------------------------------------------------------------ loading

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def load(self) -> None:
        """Read every incident in a worker with its own connection: the list first, then the
        deadlines, which take longest (a thousand incidents ask a thousand questions)."""
        worker = get_current_worker()
        try:
            with self.app.open_workspace() as ws:
                states = ws.incidents.list(mode=None, include_closed=True)
                rows = load_rows(ws, deadlines=False, states=states)
                if worker.is_cancelled:
                    return
                self.post_message(self.Loaded(rows, complete=False))
                rows = with_deadlines(ws, rows, states)
        except IrError as exc:
            self.post_message(ActionFailed("list incidents", str(exc), type(exc).__name__, refresh=False))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(rows, complete=True))

    def on_dashboard_screen_loaded(self, message: Loaded) -> None:
        self.rows = message.rows if message.complete else carry_deadlines(message.rows, self.rows)
        self.complete = message.complete
        self._show()
        if self.complete:
            # After this frame is drawn: loading ahead does not hold up the first full screen.
            self.call_after_refresh(self.app.dashboard_complete, self.first_id())

    def first_id(self) -> str | None:
        """The incident under the cursor: the one most likely opened next."""
        return self.query_one("#live", IncidentTable).current_id() or self.query_one("#drills", IncidentTable).current_id()

    def on_workspace_changed(self, message: WorkspaceChanged) -> None:
        # Hidden under an incident, the list is re-read when it shows again, not on every change.
        if self._visible():
            self.load()
        else:
            self._stale = True

    def _visible(self) -> bool:
        """On top, or under a dialog (a modal screen shows what is beneath it)."""
        stack = self.app.screen_stack
        return stack[-1] is self or (isinstance(stack[-1], ModalScreen) and len(stack) > 1 and stack[-2] is self)

    def _show(self) -> None:
        if self.rows is None:
            return
        empty = not self.rows
        self.query_one("#welcome").display = empty
        for widget_id in ("#filters", "#live-title", "#live"):
            self.query_one(widget_id).display = not empty
        if empty:
            self._show_drills([])
            self._ensure_focus()
            return
        shown = self._filtered()
        live = [r for r in shown if not r.exercise]
        drills = [r for r in shown if r.exercise]
        now = self.app.ws.clock.now()
        self.query_one("#live", IncidentTable).show(live, now)
        closed = self.query_one("#show-closed", Checkbox).value
        kind = "Incidents ({count})" if closed else "Open incidents ({count})"
        self.query_one("#live-title", Label).update(tr(kind, self.app.ws.lang, count=len(live)))
        self._show_drills(drills)
        self._ensure_focus()

    def _ensure_focus(self) -> None:
        """Keep the focus on something visible (the welcome's button goes when incidents come)."""
        focused = self.focused
        if focused is not None and all(node.display for node in focused.ancestors_with_self):
            return
        empty = not self.rows
        target = self.query_one("#declare", Button) if empty else self.query_one("#live", IncidentTable)
        target.focus()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.load()
        self._ensure_focus()

    def _show_drills(self, drills: list[IncidentRow]) -> None:
        table = self.query_one("#drills", IncidentTable)
        table.display = bool(drills)
        title = self.query_one("#drill-title", Label)
        title.display = bool(drills)
        title.update(tr("Drills — EXERCISE ({count})", self.app.ws.lang, count=len(drills)))
        table.show(drills, self.app.ws.clock.now())

    def _filtered(self) -> list[IncidentRow]:
        assert self.rows is not None
        query = self.query_one("#search", Input).value.strip()
        severity = self.query_one("#severity", Select).value
        closed = self.query_one("#show-closed", Checkbox).value
        return [
            r
            for r in self.rows
            if (closed or not r.final)
            and (severity == Select.NULL or r.severity == severity)
            and (not query or r.matches(query))
        ]

    def _tick(self) -> None:
        now = self.app.ws.clock.now()
        for table in self.query(IncidentTable):
            table.tick(now)

    # ---------------------------------------------------------------- filtering

    @on(Input.Changed, "#search")
    @on(Select.Changed, "#severity")
    @on(Checkbox.Changed, "#show-closed")
    def _filter_changed(self, event: Message) -> None:
        self._show()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#live", IncidentTable).focus()

    def action_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        """Empty the search box and go back to the list."""
        self.query_one("#search", Input).value = ""
        self.query_one("#live", IncidentTable).focus()

    def action_toggle_closed(self) -> None:
        """Show or hide closed incidents."""
        box = self.query_one("#show-closed", Checkbox)
        box.value = not box.value

    def action_reload(self) -> None:
        """Read the workspace again."""
        self.load()

    # ------------------------------------------------------------------ opening

    def on_incident_table_opened(self, message: IncidentTable.Opened) -> None:
        self.open_incident(message.incident_id)

    def open_incident(self, incident_id: str) -> None:
        """Show one incident."""
        self.app.show_incident(incident_id)

    @on(Button.Pressed, "#declare")
    def action_declare(self) -> None:
        """Open the declaration form; a declared incident opens straight away."""
        from ir.tui.screens.declare import DeclareScreen

        def opened(incident_id: str | None) -> None:
            if incident_id:
                self.open_incident(incident_id)

        self.app.push_screen(DeclareScreen(), opened)

    @on(Button.Pressed, "#sample-drill")
    def start_sample_drill(self) -> None:
        """Start the shipped sample scenario as a paced drill, and open it."""
        self._start_drill(SAMPLE_SCENARIO, SAMPLE_SPEED)

    def action_drill(self) -> None:
        """Choose a scenario and start it as a drill; it opens straight away."""
        from ir.tui.screens.scenarios import ScenariosScreen

        def chosen(choice: tuple[str, float] | None) -> None:
            if choice is not None:
                self._start_drill(*choice)

        self.app.push_screen(ScenariosScreen(), chosen)

    def _start_drill(self, scenario: str, speed: float) -> None:
        def start(ws: Workspace) -> IncidentState:
            return ws.drills.start(scenario, speed=speed)

        def started(state: IncidentState) -> None:
            self.notify(tr("{incident} started: EXERCISE", self.app.ws.lang, incident=state.id),
                        title=tr("Drill started", self.app.ws.lang))
            self.open_incident(state.id)

        self.app.run_command("start the drill", start, on_done=started)

    def palette_commands(self) -> list[PaletteCommand]:
        """Declare, start a drill, filter, and open any listed incident by id or title."""
        lang = self.app.ws.lang
        commands = [
            PaletteCommand(tr("Declare an incident", lang), tr("Open the declaration form", lang), self.action_declare),
            PaletteCommand(tr("Start a drill", lang), tr("Choose a scenario to exercise", lang), self.action_drill),
            PaletteCommand(tr("Start the sample drill", lang), SAMPLE_SCENARIO, self.start_sample_drill),
            PaletteCommand(tr("Show or hide closed incidents", lang), tr("Toggle the closed filter", lang),
                           self.action_toggle_closed),
        ]
        for row in self.rows or []:
            mark = " [EXERCISE]" if row.exercise else ""
            commands.append(
                PaletteCommand(f"Open {row.id}{mark}: {row.title}", f"{row.phase_title} · {row.severity}",
                               _opener(self, row.id))
            )
        return commands


def _opener(screen: DashboardScreen, incident_id: str) -> Any:
    return lambda: screen.open_incident(incident_id)
