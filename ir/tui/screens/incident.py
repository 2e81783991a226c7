"""The incident view: the main workspace of a responder, in panes (work, timeline, obligations, ...)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, get_current_worker

from ir.engine.playbook import Playbook
from ir.engine.service import Expect
from ir.engine.views import incident_view
from ir.errors import IrError, NotFound
from ir.i18n import pick
from ir.tui.commands import PaletteCommand
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed, Committed, WorkspaceChanged
from ir.tui.panels import PanelSpec, panels
from ir.tui.widgets.decision_field import DecisionField
from ir.tui.widgets.incident_panel import IncidentPanel, ReadingPanel
from ir.tui.widgets.key_bar import KeyBar
from ir.tui.widgets.pane_bar import PaneBar
from ir.tui.widgets.task_list import TaskList
from ir.tui.widgets.timeline_panel import TimelinePanel
from ir.tui.widgets.transition_list import TransitionList
from ir.workspace import Workspace

if TYPE_CHECKING:
    from ir.tui.app import IrApp

READ_AHEAD_SECONDS = 0.25
"""How long a pane's read may hold it back before it comes to the front (then it shows what
it has and fills in when the read arrives)."""

EXERCISE_BANNER = "EXERCISE — this is a drill; nothing reaches real recipients"
"""The line under the incident bar of every drill."""


class IncidentScreen(Screen[None]):
    """One incident. Every action is committed at once, with what this screen showed
    (``Expect``), so an action taken on a stale view is refused rather than misapplied.

    The app builds this screen once and reuses it for every incident it opens
    (:meth:`open`): building its widgets takes several times longer than showing them.

    Args:
        incident_id: the incident to show.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("right_square_bracket", "next_panel", "Next pane", key_display="]"),
        Binding("left_square_bracket", "previous_panel", "Previous pane", key_display="[", show=False),
        Binding("n", "note", "Note"),
        Binding("o", "roles", "Roles"),
        Binding("r", "reload", "Refresh", show=False),
        *[Binding(str(i), f"panel({i - 1})", f"Pane {i}", show=False) for i in range(1, 10)],
    ]
    """Incident keys; the panes add their own (tasks: space, a, g; steps: enter; ...)."""

    # No automatic focus: panes take the focus themselves when they come to the front.
    AUTO_FOCUS = ""

    app: IrApp  # type: ignore[assignment]

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.view: dict[str, Any] | None = None
        self.playbook: Playbook | None = None
        self.active = panels()[0].id
        """The id of the pane showing."""
        self._bar = Text()
        self._controller: Worker[None] | None = None
        self.opened = False
        """Whether a responder has this view open (it may be built ahead, before any is)."""
        self._styled_with: object = None
        """The app's stylesheet and classes when this screen's widgets were last styled as a whole."""

    # ------------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        # No header: the incident bar says what a header would, and the line is worth more to
        # the panes at 80x24 (and a header costs time every time the view is shown).
        yield Static("", id="incident-bar")
        yield Static(tr(EXERCISE_BANNER, lang), id="exercise-banner")
        yield PaneBar(id="pane-bar")
        # Only the first pane is built now: the others are built when first shown (or
        # ahead, see IrApp._prebuild), which keeps opening an incident quick.
        with ContentSwitcher(id="panes", initial=f"pane-{self.active}"):
            yield self._build(panels()[0])
        yield KeyBar()

    def _build(self, spec: PanelSpec) -> IncidentPanel:
        panel = spec.build(self.incident_id)
        panel.id = f"pane-{spec.id}"
        return panel

    def on_mount(self) -> None:
        # Every widget was styled as it was registered, with the rules of now.
        self._styled_with = (self.app.stylesheet, self.app.classes)
        self.query_one("#exercise-banner").display = False
        self._start()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Skip Textual's restyle of every widget when the screen is shown, unless what
        styles them changed since they were styled: the stylesheet (reloaded) or the app's
        classes (which name the theme and dark or light mode). Widgets are styled as they
        mount, and the screen is reused for every incident: restyling all its panes again was
        most of the time it took to show the next one. A widget type's own CSS, added when a
        pane is first built, styles that pane's widgets as they mount and nothing already
        styled. Runs before ``Screen``'s own handler, which reads the flag."""
        styled_with = (self.app.stylesheet, self.app.classes)
        if event.refresh_styles and styled_with == self._styled_with:
            event.refresh_styles = False
        self._styled_with = styled_with

    def open(self, incident_id: str) -> None:
        """Show ``incident_id`` from its work pane, forgetting the incident shown before."""
        self.opened = True
        if not self.is_mounted:  # built when first pushed; on_mount shows it
            self.incident_id = incident_id
            return
        self._stop_controller()
        self.incident_id = incident_id
        self.view = None
        self.playbook = None
        for panel in self._panels():
            panel.reset(incident_id)
        self._start()

    def _start(self) -> None:
        """Read the incident and bring the work pane to the front."""
        self.reload(force=True)
        work = self._panels()[0]
        self._bring_to_front(work)
        self.call_after_refresh(work.focus_first)

    def _bring_to_front(self, panel: IncidentPanel) -> None:
        for other in self._panels():
            other.front = other is panel
        self.query_one("#panes", ContentSwitcher).current = panel.id
        self.active = (panel.id or "").removeprefix("pane-")
        self._show_pane_bar()
        panel.activated()

    def _panels(self) -> list[IncidentPanel]:
        return list(self.query_one("#panes", ContentSwitcher).query_children(IncidentPanel))

    def _specs(self) -> list[PanelSpec]:
        """The panes of this incident (a drill has one more)."""
        return panels(self.view)

    async def show_panel(self, panel_id: str) -> IncidentPanel:
        """Bring the pane ``panel_id`` to the front, building it on first show, and return it."""
        found = [p for p in self._panels() if p.id == f"pane-{panel_id}"]
        panel = found[0] if found else await self.build_pane(next(s for s in panels() if s.id == panel_id))
        if isinstance(panel, ReadingPanel) and (ready := panel.read_ahead()) is not None:
            # Filled in before it shows, if its read is quick (a locked workspace is not).
            with suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), READ_AHEAD_SECONDS)
        self._bring_to_front(panel)
        if self.focused is None or panel not in self.focused.ancestors:
            panel.focus_first()
        return panel

    async def build_pane(self, spec: PanelSpec) -> IncidentPanel:
        """Build the pane ``spec`` (hidden) and show it the incident."""
        panel = self._build(spec)
        panel.display = False
        await self.query_one("#panes", ContentSwitcher).mount(panel)
        if self.view is not None and self.playbook is not None:
            panel.show(self.view, self.playbook)
        return panel

    def unbuilt(self) -> list[PanelSpec]:
        """The panes not built yet."""
        built = {p.id for p in self._panels()}
        return [s for s in panels() if f"pane-{s.id}" not in built]

    def _show_pane_bar(self) -> None:
        lang = self.app.ws.lang
        self.query_one(PaneBar).show([(s.id, tr(s.title, lang)) for s in self._specs()], self.active)

    async def on_pane_bar_chosen(self, message: PaneBar.Chosen) -> None:
        await self.show_panel(message.pane_id)

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
        self._show_pane_bar()
        for panel in self._panels():
            panel.show(self.view, pb)
        if self.view["mode"] == "drill" and self._controller is None and self.opened:
            self._controller = self._control_drill(self.incident_id)

    def _show_bar(self, view: dict[str, Any], pb: Playbook) -> None:
        lang = self.app.ws.lang
        bar = Text()
        if view["mode"] == "drill":
            bar.append(" EXERCISE ", style="bold black on yellow")
            bar.append(" ")
        bar.append(view["id"], style="bold")
        bar.append(f"  {view['severity']}", style="bold")
        phase = pick(pb.phase_map[view["phase"]].title, lang)
        closed = f" ({tr('closed', lang)})" if view["final"] else ""
        bar.append(f"  {phase}{closed}", style="cyan")
        bar.append(f"  {view['owner'] or '—'}", style="italic")
        # The title comes last: the bar keeps to one line and cuts the title short.
        bar.append(f"  {view['title']}")
        if bar != self._bar:  # an update re-lays out the screen: only when it changed
            self._bar = bar
            self.query_one("#incident-bar", Static).update(bar)
        self.query_one("#exercise-banner").display = view["mode"] == "drill"

    def on_workspace_changed(self, message: WorkspaceChanged) -> None:
        self.reload()

    # ------------------------------------------------------------ exercise control

    @work(thread=True, exclusive=True, group="drill-control", exit_on_error=False)
    def _control_drill(self, incident_id: str) -> None:
        """Act as the drill's exercise controller while its view is open: deliver each inject
        when its time comes. Any number of controllers may run; the drill service records
        each inject once."""
        worker = get_current_worker()
        failed: str | None = None
        with self.app.open_workspace() as ws:
            while not worker.is_cancelled:
                try:
                    delivered = ws.drills.deliver_due(incident_id)
                    failed = None
                except NotFound:
                    return  # an exercise incident opened without a scenario: nothing to deliver
                except IrError as exc:
                    # Said once, not at every turn, until it works again.
                    if str(exc) != failed:
                        failed = str(exc)
                        self.post_message(ActionFailed("deliver injects", failed, type(exc).__name__, refresh=False))
                    delivered = []
                if delivered:
                    self.app.post_message(Committed("deliver injects", incident_id, delivered))
                worker.cancelled_event.wait(self.app.control_seconds)

    def _stop_controller(self) -> None:
        if self._controller is not None:
            self._controller.cancel()
            self._controller = None

    # ----------------------------------------------------------------- commands

    def _expect_phase(self) -> Expect:
        """What this screen showed: commands on tasks and decisions need the same phase."""
        assert self.view is not None
        return Expect(phase=self.view["phase"])

    def dialog_title(self, text: str) -> str:
        """A dialog's title, marked EXERCISE when the incident is a drill."""
        return f"EXERCISE · {text}" if self.view is not None and self.view["mode"] == "drill" else text

    def on_task_list_toggled(self, message: TaskList.Toggled) -> None:
        # The incident is read now: the command runs later, when the screen may show another.
        incident, expect, undo = self.incident_id, self._expect_phase(), message.done

        def toggle(ws: Workspace) -> Any:
            return ws.incidents.complete_task(incident, message.task_id, undo=undo, expect=expect)

        what = "mark the task not done" if undo else "mark the task done"
        self.app.run_command(what, toggle, incident_id=incident)

    def on_task_list_assign_requested(self, message: TaskList.AssignRequested) -> None:
        from ir.tui.screens.assign import AssignScreen

        assert self.view is not None and self.playbook is not None
        task = next(t for t in self.view["tasks"] if t["id"] == message.task_id)
        incident, expect = self.incident_id, self._expect_phase()

        def assign(person: str | None) -> None:
            if person:
                self.app.run_command(
                    "assign the task",
                    lambda ws: ws.incidents.assign(incident, task["id"], person, expect=expect),
                    incident_id=incident,
                )

        title = self.dialog_title(tr("Assign: {task}", self.app.ws.lang, task=task["title"]))
        self.app.push_screen(AssignScreen(title, task, self.playbook, self.view["roles"], self.app.ws.lang), assign)

    def on_task_list_guidance_requested(self, message: TaskList.GuidanceRequested) -> None:
        from ir.tui.screens.text import TextScreen

        assert self.view is not None
        lang = self.app.ws.lang
        task = next(t for t in self.view["tasks"] if t["id"] == message.task_id)
        body = task["guidance"] or tr("This task has no guidance in the playbook.", lang)
        role = tr("Role: {role}", lang, role=task["role"])
        self.app.push_screen(TextScreen(self.dialog_title(task["title"]), f"{role}\n\n{body}"))

    def on_decision_field_answered(self, message: DecisionField.Answered) -> None:
        incident, expect = self.incident_id, self._expect_phase()
        field = message.field

        def answer(ws: Workspace) -> Any:
            return ws.incidents.answer(
                incident, message.decision_id, message.value, rationale=message.rationale, expect=expect
            )

        self.app.run_command("record the answer", answer, incident_id=incident,
                             on_done=lambda _events: field.answer_recorded(message.rationale))

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
        lang = self.app.ws.lang
        dest = self.playbook.phase_map[trigger["dest"]]
        values = {"incident": self.incident_id, "phase": pick(dest.title, lang)}
        if dest.final:
            body = tr("This moves {incident} to '{phase}', a final phase: the incident closes and cannot be "
                      "reopened. Only notes can be added afterwards.", lang, **values)
        else:
            body = tr("This moves {incident} to '{phase}'. The step is recorded and cannot be taken back.",
                      lang, **values)

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                self._fire(trigger["name"], reason or None, expect)

        screen = ConfirmScreen(
            self.dialog_title(trigger["title"]), body, lang=lang,
            confirm=tr("Close incident" if dest.final else "Take step", lang), danger=dest.final,
            reason_prompt=tr("Reason (optional, recorded with the step)", lang),
        )
        self.app.push_screen(screen, confirmed)

    def _fire(self, trigger: str, reason: str | None, expect: Expect) -> None:
        incident = self.incident_id

        def fire(ws: Workspace) -> Any:
            return ws.incidents.fire(incident, trigger, reason=reason, expect=expect)

        self.app.run_command("take the step", fire, incident_id=incident)

    def on_timeline_panel_note_added(self, message: TimelinePanel.NoteAdded) -> None:
        text = message.text
        panel = message.panel
        incident = self.incident_id
        self.app.run_command(
            "add the note",
            lambda ws: ws.incidents.note(incident, text),
            incident_id=incident,
            on_done=lambda _events: panel.clear_note(text),
        )

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        """Back to the dashboard (the drill controller stops; the screen waits for the next incident)."""
        self._stop_controller()
        self.opened = False
        for panel in self._panels():
            panel.front = False
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read the incident again."""
        self.reload(force=True)

    async def action_panel(self, index: int) -> None:
        """Bring pane ``index`` (0-based) to the front."""
        specs = self._specs()
        if 0 <= index < len(specs):
            await self.show_panel(specs[index].id)

    async def action_next_panel(self) -> None:
        """The pane to the right."""
        await self._step_panel(1)

    async def action_previous_panel(self) -> None:
        """The pane to the left."""
        await self._step_panel(-1)

    async def _step_panel(self, step: int) -> None:
        ids = [s.id for s in self._specs()]
        await self.show_panel(ids[(ids.index(self.active) + step) % len(ids)])

    async def action_note(self) -> None:
        """Write a note: the timeline's note box."""
        panel = await self.show_panel("timeline")
        if isinstance(panel, TimelinePanel):
            panel.focus_note()

    def action_roles(self) -> None:
        """Give a role of the playbook to a person."""
        from ir.tui.screens.pick_text import PickTextScreen

        if self.view is None or self.playbook is None:
            return
        lang = self.app.ws.lang
        incident, holders = self.incident_id, dict(self.view["roles"])
        titles = {r.id: pick(r.title, lang) for r in self.playbook.roles}

        def prompt(role: str) -> tuple[str, str]:
            return tr("Who is {role}? — Enter gives the role", lang, role=titles[role]), holders.get(role, "")

        def assign(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                role, person = choice
                self.app.run_command(
                    "give the role",
                    lambda ws: ws.incidents.assign(incident, role, person),
                    incident_id=incident,
                )

        screen = PickTextScreen(
            self.dialog_title(tr("Roles of {incident}", lang, incident=self.incident_id)),
            [Option(role_line(role, title, holders.get(role)), id=role) for role, title in titles.items()],
            hint=tr("Choose a role, then type who holds it", lang), placeholder=tr("a person's name", lang),
            prompt=prompt, suggestions=sorted(set(holders.values())),
        )
        self.app.push_screen(screen, assign)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pane keys beyond the panes there are do nothing."""
        if action == "panel" and parameters and isinstance(parameters[0], int):
            return parameters[0] < len(self._specs())
        return True

    def palette_commands(self) -> list[PaletteCommand]:
        """Panes, roles, the next steps, and the tasks of this phase."""
        lang = self.app.ws.lang
        commands = [
            PaletteCommand(tr("Show {pane}", lang, pane=tr(s.title, lang)), tr("Bring the pane to the front", lang),
                           _call(self.action_panel, i))
            for i, s in enumerate(self._specs())
        ]
        commands.append(PaletteCommand(tr("Add a note", lang), tr("Write in the timeline", lang), self.action_note))
        commands.append(PaletteCommand(tr("Give a role to a person", lang), tr("Roles", lang), self.action_roles))
        commands.append(PaletteCommand(tr("Back to the dashboard", lang), tr("Leave this incident", lang),
                                       self.action_back))
        if self.view is None:
            return commands
        for trigger in self.view["triggers"]:
            blocked = tr("blocked: ", lang) + "; ".join(trigger["blocked_by"])
            state = tr("allowed", lang) if trigger["allowed"] else blocked
            commands.append(PaletteCommand(tr("Step: {step}", lang, step=trigger["title"]), state,
                                           _call(self.on_transition_list_chosen, TransitionList.Chosen(trigger))))
        for task in self.view["tasks"]:
            if task["phase"] == self.view["phase"]:
                verb = tr("Undo", lang) if task["done"] else tr("Done", lang)
                toggled = TaskList.Toggled(task["id"], task["done"])
                commands.append(PaletteCommand(f"{verb}: {task['title']}", f"{task['id']} ({task['role']})",
                                               _call(self.on_task_list_toggled, toggled)))
        return commands


def role_line(role: str, title: str, holder: str | None) -> Text:
    """A role as the roles dialog lists it: id, title, who holds it."""
    text = Text(role, style="bold")
    text.append(f"  {title}  ")
    text.append(holder or "—", style="cyan" if holder else "dim")
    return text


def _call(fn: Any, arg: Any) -> Any:
    return lambda: fn(arg)
