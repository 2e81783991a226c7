"""The application: one workspace, a dashboard, and commands run through the services."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState, get_current_worker

from ir.clock import Clock
from ir.errors import InvalidInput, IrError
from ir.i18n import normalise_locale
from ir.tui.commands import IrCommands
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed, Committed, WorkspaceChanged
from ir.workspace import Workspace

T = TypeVar("T")

INCIDENT_SCREEN = "incident"
"""The name the incident view is installed under: it is built once and reused."""

PREBUILD_PAUSE = 0.05
"""Seconds between the steps of building the incident view ahead (a key pressed meanwhile
is handled first)."""

GC_THRESHOLDS = (20_000, 50, 100)
"""Garbage-collector thresholds while the app runs. Drawing a screen allocates tens of
thousands of short-lived objects; at Python's default (700 allocations) the collector runs
dozens of times per frame and a full collection lands inside a key press every few seconds.
Measured on the incident view: opening it took a quarter less time (docs/PERFORMANCE.md)."""

log = logging.getLogger(__name__)


class IrApp(App[None]):
    """The ``ir`` terminal app over one workspace.

    Args:
        ws: the open workspace; the app closes it when it exits.
        poll_seconds: how often to look for changes made by other processes.
        control_seconds: how often an open drill's view delivers the injects that fell due.
    """

    CSS_PATH = "app.tcss"
    TITLE = "ir"
    COMMANDS = App.COMMANDS | {IrCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]
    """Keys available on every screen."""

    def __init__(
        self, ws: Workspace, *, poll_seconds: float = 0.5, control_seconds: float = 1.0, warm_up: bool = True
    ) -> None:
        super().__init__()
        self.ws = ws
        self.poll_seconds = poll_seconds
        self.control_seconds = control_seconds
        self.warm_up = warm_up
        """Whether to load the incident view's code and data in the background once the
        dashboard shows (see ``ir.tui.warm``); off only to measure or test the launch alone."""
        self.warmed: Worker[int] | None = None
        """The warm-up worker, once started (it starts once per app)."""
        self.prebuilt = False
        """Whether the incident view has been built ahead with every pane and laid out."""
        self._view_built: AwaitMount | None = None
        self.sub_title = f"{ws.actor} · {ws.store.path.name}"
        self._seen_version: int | None = None
        self._poll_failed = False
        self._gc_thresholds = gc.get_threshold()

    def get_default_screen(self) -> Screen[Any]:
        """The dashboard is the bottom of the screen stack."""
        from ir.tui.screens.dashboard import DashboardScreen

        return DashboardScreen()

    def on_mount(self) -> None:
        self._gc_thresholds = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)
        self._seen_version = self._data_version()
        self.set_interval(self.poll_seconds, self._poll, name="workspace-poll")

    def on_unmount(self) -> None:
        gc.set_threshold(*self._gc_thresholds)
        self.ws.close()

    # ------------------------------------------------------------ other processes

    def _data_version(self) -> int | None:
        try:
            return self.ws.store.data_version()
        except IrError:
            return None

    def _poll(self) -> None:
        """Refresh every screen when another connection has committed (cheap when nothing did)."""
        version = self._data_version()
        if version is None:
            if not self._poll_failed:
                self.notify(tr("cannot read the workspace; retrying", self.ws.lang), severity="error")
            self._poll_failed = True
            return
        self._poll_failed = False
        if version != self._seen_version:
            self._seen_version = version
            self.broadcast_change()

    def broadcast_change(self) -> None:
        """Tell every screen on the stack (a modal's parent is visible too) to re-read."""
        for screen in self.screen_stack:
            screen.post_message(WorkspaceChanged())

    # ------------------------------------------------------------------ screens

    def dashboard_complete(self, incident_id: str | None) -> None:
        """The dashboard shows in full: once it has been drawn, load ahead what opening
        ``incident_id`` (the row under the cursor, if any) will need (once per app)."""
        if self.warm_up and self.warmed is None:
            self.warmed = self._warm(incident_id)

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _warm(self, incident_id: str | None) -> int:
        from ir.tui import warm

        worker = get_current_worker()

        def view_ready() -> None:
            if incident_id is not None and not worker.is_cancelled:
                try:
                    self.call_from_thread(self._prebuild_view, incident_id)
                except RuntimeError:
                    pass  # the app is closing: nothing to build

        try:
            with self.open_workspace() as ws:
                return warm.run(ws, incident_id, lambda: worker.is_cancelled, view_ready)
        except IrError:
            return 0  # the workspace cannot be opened now: the screens will say so

    def _prebuild_view(self, incident_id: str) -> None:
        """Build the incident view ahead, unseen, showing ``incident_id`` (the incident
        under the dashboard's cursor), as soon as its code is loaded: the first incident
        opened is then shown, not built (building takes several times longer than
        showing). Its other panes follow once loading ahead is done (:meth:`_prebuild_panes`).

        Textual builds a screen when it is first pushed; its own ``_get_screen`` (the step
        of ``push_screen`` that does so) builds it without showing it. Textual is pinned
        exactly (``pyproject.toml``); ``tests/tui/test_warm_up.py`` runs this path."""
        from ir.tui.screens.incident import IncidentScreen

        if self.is_screen_installed(INCIDENT_SCREEN):
            return  # a responder opened an incident first
        self.install_screen(IncidentScreen(incident_id), INCIDENT_SCREEN)
        self._view_built = self._get_screen(INCIDENT_SCREEN)[1]

    def _prebuild_panes(self) -> None:
        """Add the view's other panes, one at a time with a pause between (a key pressed
        meanwhile goes first), then lay the view out at the terminal's size (the screen's
        own ``_refresh_layout``, which draws nothing for a screen not showing), so that each
        pane shows at once the first time it is asked for. A responder who opens the view
        before the end has the rest built when first shown."""
        from ir.tui.screens.incident import IncidentScreen

        mounted = self._view_built
        if mounted is None:
            return
        screen = self.get_screen(INCIDENT_SCREEN, IncidentScreen)

        async def build_the_rest() -> None:
            await mounted
            for spec in screen.unbuilt():
                await asyncio.sleep(PREBUILD_PAUSE)
                if screen.opened:
                    return  # in use: what is left is built when first shown
                await screen.build_pane(spec)
            await asyncio.sleep(PREBUILD_PAUSE)
            if not screen.opened:
                screen._refresh_layout(self.size)
            self.prebuilt = True

        self.run_worker(build_the_rest(), group="prebuild", exit_on_error=False)

    def show_incident(self, incident_id: str) -> None:
        """Open an incident's view. The view is built on first use and kept: the next incident
        opens in it without building its widgets again."""
        from ir.tui.screens.incident import IncidentScreen

        if not self.is_screen_installed(INCIDENT_SCREEN):
            self.install_screen(IncidentScreen(incident_id), INCIDENT_SCREEN)
        screen = self.get_screen(INCIDENT_SCREEN, IncidentScreen)
        screen.open(incident_id)
        if screen not in self.screen_stack:
            self.push_screen(screen)

    # ------------------------------------------------------------------ commands

    def open_workspace(self) -> Workspace:
        """A second connection to the same workspace, for a worker thread (one per thread)."""
        return Workspace(self.ws.store.path, clock=self.ws.clock, actor=self.ws.actor, lang=self.ws.lang, create=False)

    def run_command(
        self,
        what: str,
        command: Callable[[Workspace], T],
        *,
        incident_id: str | None = None,
        on_done: Callable[[T], None] | None = None,
        on_failed: Callable[[ActionFailed], None] | None = None,
    ) -> None:
        """Commit a change through the services in a worker thread.

        The UI stays responsive while another process holds the write lock. The outcome
        comes back as :class:`Committed` (then ``on_done`` runs on the UI thread) or
        :class:`ActionFailed` (a notification); either way the screens re-read.

        Args:
            what: what the user is doing, for messages ("mark task done").
            command: called with the worker's own workspace; its result goes to ``on_done``.
            incident_id: the incident it changes, if any.
            on_done: called with the command's result after it committed.
            on_failed: called with the failure after it was shown.
        """
        self._command_worker(what, command, incident_id, on_done, on_failed)

    # Not exclusive: cancelling a queued command would drop something the user did.
    @work(thread=True, group="commands", exit_on_error=False)
    def _command_worker(
        self, what: str, command: Callable[[Workspace], Any], incident_id: str | None, on_done: Any, on_failed: Any
    ) -> None:
        try:
            with self.open_workspace() as ws:
                result = command(ws)
        except IrError as exc:
            self.post_message(ActionFailed(what, str(exc), type(exc).__name__, on_failed=on_failed))
            return
        except Exception as exc:  # a bug must not take the app down; the store rolled back
            log.exception("command %r failed", what)
            message = f"internal error: {type(exc).__name__}: {exc}"
            self.post_message(ActionFailed(what, message, "InternalError", on_failed=on_failed))
            return
        self.post_message(Committed(what, incident_id, result, on_done))

    def on_committed(self, message: Committed) -> None:
        # Our own commit moved the data version: note it so the poll does not re-read twice.
        self._seen_version = self._data_version()
        self.broadcast_change()
        if message.on_done is not None:
            message.on_done(message.result)

    def on_action_failed(self, message: ActionFailed) -> None:
        lang = self.ws.lang
        stale = message.kind == "StaleView"
        title = tr("Changed meanwhile", lang) if stale else tr("Could not {what}", lang, what=tr(message.what, lang))
        self.notify(message.message, title=title, severity="error", timeout=8)
        if message.refresh:
            # A refusal often means the screen was stale: show what is true now.
            self.broadcast_change()
        if message.on_failed is not None:
            message.on_failed(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers catch what a user can cause; anything else is a bug, shown, not fatal.
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            log.error("worker %s failed: %r", event.worker.name, error)
            self.notify(f"internal error in {event.worker.name}: {type(error).__name__}: {error}",
                        title=tr("Something went wrong", self.ws.lang), severity="error", timeout=10)
        elif event.worker is self.warmed and event.state == WorkerState.SUCCESS:
            self._prebuild_panes()

    def report_error(self, what: str, exc: IrError) -> None:
        """Show an error raised on the UI thread (a read that failed) and carry on."""
        self.post_message(ActionFailed(what, str(exc), type(exc).__name__, refresh=False))

    # ------------------------------------------------------------------- actions

    def action_help(self) -> None:
        """Show the keys of the current screen and a short guide."""
        from ir.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen.active_bindings, self.ws.lang))


def make_app(
    db_path: Path | str,
    *,
    clock: Clock | None = None,
    actor: str | None = None,
    lang: str | None = None,
    poll_seconds: float = 0.5,
    control_seconds: float = 1.0,
    warm_up: bool = True,
) -> IrApp:
    """Build the app on the workspace at ``db_path`` (the command line, tests and snapshots
    all construct it this way).

    Args:
        db_path: the workspace database (created if missing).
        clock: the wall clock (a virtual one for tests and demos).
        actor: who is acting (default: ``IR_ACTOR`` or the user name).
        lang: display language, ``en`` or ``zh-CN`` (default: from the environment).
        poll_seconds: how often to look for changes made by other processes.
        control_seconds: how often an open drill's view delivers the injects that fell due.
        warm_up: load the incident view ahead once the dashboard shows (see ``ir.tui.warm``).

    Raises:
        WorkspaceError: the workspace cannot be opened.
        InvalidInput: ``lang`` is not a language ir has text for.
    """
    if lang is not None:
        try:
            lang = normalise_locale(lang)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    ws = Workspace(Path(db_path), clock=clock, actor=actor, lang=lang)
    return IrApp(ws, poll_seconds=poll_seconds, control_seconds=control_seconds, warm_up=warm_up)
