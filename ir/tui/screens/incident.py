"""The incident view: the main workspace of a responder, in panes (work, timeline, report, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from ir.engine.playbook import Playbook
from ir.engine.service import Expect
from ir.engine.views import incident_view
from ir.errors import IrError
from ir.i18n import pick
from ir.tui.commands import PaletteCommand
from ir.tui.messages import WorkspaceChanged
from ir.tui.panels import panels
from ir.tui.widgets.decision_field import DecisionField
from ir.tui.widgets.incident_panel import IncidentPanel
from ir.tui.widgets.task_list import TaskList
from ir.tui.widgets.timeline_panel import TimelinePanel
from ir.tui.widgets.transition_list import TransitionList
from ir.workspace import Workspace

if TYPE_CHECKING:
    from ir.tui.app import IrApp


class IncidentScreen(Screen[None]):
    """One incident. Every action is committed at once, with what this screen showed
    (``Expect``), so an action taken on a stale view is refused rather than misapplied.

    Args:
        incident_id: the incident to show.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("right_square_bracket", "next_panel", "Next pane", key_display="]"),
        Binding("left_square_bracket", "previous_panel", "Previous pane", key_display="[", show=False),
        Binding("n", "note", "Note"),
        Binding("r", "reload", "Refresh", show=False),
        *[Binding(str(i), f"panel({i - 1})", f"Pane {i}", show=False) for i in range(1, 10)],
    ]
    """Incident keys; the panes add their own (tasks: space, a, g; steps: enter)."""

    # No automatic focus: it would pull the Work pane back to the front whenever the
    # focused widget is hidden by a pane switch. Panes take the focus themselves.
    AUTO_FOCUS = ""

    app: IrApp  # type: ignore[assignment]

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.view: dict[str, Any] | None = None
        self.playbook: Playbook | None = None
        self._bar = Text()

    # ------------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="incident-bar")
        yield Static("EXERCISE — this is a drill; nothing reaches real recipients", id="exercise-banner")
        with TabbedContent(id="panes"):
            for index, spec in enumerate(panels()):
                with TabPane(spec.title, id=f"pane-{spec.id}"):
                    # Only the first pane is built now: the others are built when first
                    # shown, which keeps opening an incident quick.
                    if index == 0:
                        yield spec.build(self.incident_id)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = self.incident_id
        self.query_one("#exercise-banner").display = False
        self.reload()
        front = self._panels()[0]
        front.activated()
        self.call_after_refresh(front.focus_first)

    def _panels(self) -> list[IncidentPanel]:
        return list(self.query(IncidentPanel))

    async def _front_panel(self) -> IncidentPanel:
        """The pane showing, built first if it has not been shown before."""
        active = self.query_one("#panes", TabbedContent).active
        pane = self.query_one(f"#{active}", TabPane)
        built = pane.query(IncidentPanel)
        if built:
            return built.first()
        spec = next(s for s in panels() if f"pane-{s.id}" == active)
        panel = spec.build(self.incident_id)
        await pane.mount(panel)
        if self.view is not None and self.playbook is not None:
            panel.show(self.view, self.playbook)
        return panel

    # ------------------------------------------------------------------ reading

    def reload(self, *, force: bool = False) -> None:
        """Read the incident; re-render only if it changed (or ``force``)."""
        ws = self.app.ws
        try:
            state = ws.incidents.get(self.incident_id)
            pb = ws.incidents.playbook_of(state)
        except IrError as exc:
            self.app.report_error("read the incident", exc)
            return
        if not force and self.view is not None and state.seq == self.view["seq"]:
            return
        self.playbook = pb
        self.view = incident_view(pb, state, ws.lang)
        self._show_bar(self.view, pb)
        for panel in self._panels():
            panel.show(self.view, pb)

    def _show_bar(self, view: dict[str, Any], pb: Playbook) -> None:
        lang = self.app.ws.lang
        bar = Text()
        if view["mode"] == "drill":
            bar.append(" EXERCISE ", style="bold black on yellow")
            bar.append(" ")
        bar.append(view["id"], style="bold")
        bar.append(f"  {view['severity']}", style="bold")
        phase = pick(pb.phase_map[view["phase"]].title, lang)
        bar.append(f"  {phase}{' (closed)' if view['final'] else ''}", style="cyan")
        bar.append(f"  {view['owner'] or '—'}", style="italic")
        # The title comes last: the bar keeps to one line and cuts the title short.
        bar.append(f"  {view['title']}")
        if bar != self._bar:  # an update re-lays out the screen: only when it changed
            self._bar = bar
            self.query_one("#incident-bar", Static).update(bar)
        self.query_one("#exercise-banner").display = view["mode"] == "drill"
        self.sub_title = pick(pb.title, lang)

    def on_workspace_changed(self, message: WorkspaceChanged) -> None:
        self.reload()

    @on(TabbedContent.TabActivated, "#panes")
    async def _pane_changed(self, event: TabbedContent.TabActivated) -> None:
        for panel in self._panels():
            panel.front = False
        front = await self._front_panel()
        front.activated()
        if self.focused is None or front not in self.focused.ancestors:
            front.focus_first()

    # ----------------------------------------------------------------- commands

    def _expect_phase(self) -> Expect:
        """What this screen showed: commands on tasks and decisions need the same phase."""
        assert self.view is not None
        return Expect(phase=self.view["phase"])

    def on_task_list_toggled(self, message: TaskList.Toggled) -> None:
        expect, undo = self._expect_phase(), message.done

        def toggle(ws: Workspace) -> Any:
            return ws.incidents.complete_task(self.incident_id, message.task_id, undo=undo, expect=expect)

        what = "mark the task not done" if undo else "mark the task done"
        self.app.run_command(what, toggle, incident_id=self.incident_id)

    def on_task_list_assign_requested(self, message: TaskList.AssignRequested) -> None:
        from ir.tui.screens.assign import AssignScreen

        assert self.view is not None and self.playbook is not None
        task = next(t for t in self.view["tasks"] if t["id"] == message.task_id)
        expect = self._expect_phase()

        def assign(person: str | None) -> None:
            if person:
                self.app.run_command(
                    "assign the task",
                    lambda ws: ws.incidents.assign(self.incident_id, task["id"], person, expect=expect),
                    incident_id=self.incident_id,
                )

        self.app.push_screen(AssignScreen(task, self.playbook, self.view["roles"], self.app.ws.lang), assign)

    def on_task_list_guidance_requested(self, message: TaskList.GuidanceRequested) -> None:
        from ir.tui.screens.text import TextScreen

        assert self.view is not None
        task = next(t for t in self.view["tasks"] if t["id"] == message.task_id)
        body = task["guidance"] or "This task has no guidance in the playbook."
        self.app.push_screen(TextScreen(task["title"], f"Role: {task['role']}\n\n{body}"))

    def on_decision_field_answered(self, message: DecisionField.Answered) -> None:
        expect = self._expect_phase()

        def answer(ws: Workspace) -> Any:
            return ws.incidents.answer(self.incident_id, message.decision_id, message.value, expect=expect)

        self.app.run_command("record the answer", answer, incident_id=self.incident_id)

    def on_transition_list_chosen(self, message: TransitionList.Chosen) -> None:
        assert self.view is not None and self.playbook is not None
        trigger = message.trigger
        # The screen's phase and version go with the command: if anyone moved the incident
        # since, the service refuses instead of moving it twice.
        expect = Expect(phase=self.view["phase"], seq=self.view["seq"])
        if not trigger["allowed"]:
            self._fire(trigger["name"], None, expect)
            return
        self._confirm_fire(trigger, expect)

    def _confirm_fire(self, trigger: dict[str, Any], expect: Expect) -> None:
        from ir.tui.screens.confirm import ConfirmScreen

        assert self.playbook is not None
        dest = self.playbook.phase_map[trigger["dest"]]
        dest_title = pick(dest.title, self.app.ws.lang)
        if dest.final:
            body = (f"This moves {self.incident_id} to '{dest_title}', a final phase: the incident "
                    "closes and cannot be reopened. Only notes can be added afterwards.")
        else:
            body = f"This moves {self.incident_id} to '{dest_title}'. The step is recorded and cannot be taken back."

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self._fire(trigger["name"], reason or None, expect)

        screen = ConfirmScreen(trigger["title"], body, confirm="Close incident" if dest.final else "Take step",
                               danger=dest.final, reason_prompt="Reason (optional, recorded with the step)")
        self.app.push_screen(screen, confirmed)

    def _fire(self, trigger: str, reason: str | None, expect: Expect) -> None:
        def fire(ws: Workspace) -> Any:
            return ws.incidents.fire(self.incident_id, trigger, reason=reason, expect=expect)

        self.app.run_command("take the step", fire, incident_id=self.incident_id)

    def on_timeline_panel_note_added(self, message: TimelinePanel.NoteAdded) -> None:
        text = message.text
        panel = message.panel
        self.app.run_command(
            "add the note",
            lambda ws: ws.incidents.note(self.incident_id, text),
            incident_id=self.incident_id,
            on_done=lambda _events: panel.clear_note(text),
        )

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read the incident again."""
        self.reload(force=True)

    def action_panel(self, index: int) -> None:
        """Bring pane ``index`` (0-based) to the front."""
        specs = panels()
        if 0 <= index < len(specs):
            self.query_one("#panes", TabbedContent).active = f"pane-{specs[index].id}"

    async def show_panel(self, panel_id: str) -> IncidentPanel:
        """Bring the pane ``panel_id`` to the front, built, and return it."""
        self.query_one("#panes", TabbedContent).active = f"pane-{panel_id}"
        return await self._front_panel()

    def action_next_panel(self) -> None:
        """The pane to the right."""
        self._step_panel(1)

    def action_previous_panel(self) -> None:
        """The pane to the left."""
        self._step_panel(-1)

    def _step_panel(self, step: int) -> None:
        ids = [f"pane-{s.id}" for s in panels()]
        tabs = self.query_one("#panes", TabbedContent)
        tabs.active = ids[(ids.index(tabs.active) + step) % len(ids)]

    async def action_note(self) -> None:
        """Write a note: the timeline's note box."""
        panel = await self.show_panel("timeline")
        if isinstance(panel, TimelinePanel):
            panel.focus_note()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pane keys beyond the panes there are do nothing."""
        if action == "panel" and parameters and isinstance(parameters[0], int):
            return parameters[0] < len(panels())
        return True

    def palette_commands(self) -> list[PaletteCommand]:
        """Panes, the next steps, and the tasks of this phase."""
        commands = [PaletteCommand(f"Show {s.title}", "Bring the pane to the front", _call(self.action_panel, i))
                    for i, s in enumerate(panels())]
        commands.append(PaletteCommand("Add a note", "Write in the timeline", self.action_note))
        commands.append(PaletteCommand("Back to the dashboard", "Leave this incident", self.action_back))
        if self.view is None:
            return commands
        for trigger in self.view["triggers"]:
            state = "allowed" if trigger["allowed"] else "blocked: " + "; ".join(trigger["blocked_by"])
            commands.append(PaletteCommand(f"Step: {trigger['title']}", state,
                                           _call(self.on_transition_list_chosen, TransitionList.Chosen(trigger))))
        for task in self.view["tasks"]:
            if task["phase"] == self.view["phase"]:
                verb = "Undo" if task["done"] else "Done"
                commands.append(PaletteCommand(f"{verb}: {task['title']}", f"Task {task['id']} ({task['role']})",
                                               _call(self.on_task_list_toggled, TaskList.Toggled(task["id"], task["done"]))))
        return commands


def _call(fn: Any, arg: Any) -> Any:
    return lambda: fn(arg)
