"""The base of every pane in the incident view (work, timeline, report, and those added later)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, get_current_worker

from ir.engine.playbook import Playbook
from ir.errors import IrError
from ir.tui.messages import ActionFailed

if TYPE_CHECKING:
    from ir.tui.app import IrApp
    from ir.workspace import Workspace


class IncidentPanel(Widget):
    """One pane of the incident view.

    The incident screen calls :meth:`show` with the incident's view (``incident_view``)
    and its playbook whenever the incident changes, and :meth:`activated` when the pane
    comes to the front. A panel reads more through ``self.app.ws`` (or, for slow reads, a
    worker with ``self.app.open_workspace()``) and commits changes with
    ``self.app.run_command(...)``; the built-in panes post messages instead, so the screen
    can add what it showed (``Expect``) to each command.

    The incident screen is built once and reused for every incident opened (building it
    is what makes opening an incident slow): :meth:`reset` tells the pane to forget the
    incident it showed. A worker's result must name the incident it was read for, and is
    dropped if the pane has moved on to another one meanwhile.

    Args:
        incident_id: the incident shown.
    """

    app: IrApp  # type: ignore[assignment]

    FIRST_FOCUS: ClassVar[tuple[str, ...]] = ()
    """Selectors of the widgets to focus when the pane comes to the front, tried in order."""

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.incident_id = incident_id
        self.view: dict[str, Any] | None = None
        self.playbook: Playbook | None = None
        self.front = False
        """Whether this pane is the one showing (set by the incident screen)."""

    def reset(self, incident_id: str) -> None:
        """Forget the incident shown (anything typed included): ``incident_id`` is shown next."""
        self.incident_id = incident_id
        self.view = None
        self.playbook = None
        self.front = False

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Render the incident as it now is (called on every change)."""
        self.view = view
        self.playbook = pb

    def focus_first(self) -> None:
        """Focus the pane's preferred widget, else its first widget that takes the focus."""
        for selector in self.FIRST_FOCUS:
            for widget in self.query(selector):
                if widget.focusable:
                    widget.focus()
                    return
        for widget in self.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def dialog_title(self, text: str) -> str:
        """A dialog's title, marked EXERCISE when the incident is a drill."""
        return f"EXERCISE · {text}" if self.view is not None and self.view["mode"] == "drill" else text

    def activated(self) -> None:
        """The pane came to the front: load anything deferred while it was hidden."""
        self.front = True


class ReadingPanel(IncidentPanel):
    """A pane that reads what it shows in a worker (with its own connection), only while it
    is showing: when it comes to the front, and again whenever the incident moves on.

    A subclass says what to read (:meth:`read`, on the worker's thread) and how to show it
    (:meth:`loaded`, on the UI thread); :attr:`READING` names the read for a failure.
    """

    READING: ClassVar[str] = "read the pane"
    """What a failed read was doing ("read the timeline"), as its notification says."""

    class Loaded(Message):
        """What the pane read for ``incident_id`` at incident version ``seq``."""

        def __init__(self, incident_id: str, seq: int, data: Any) -> None:
            super().__init__()
            self.incident_id = incident_id
            self.seq = seq
            self.data = data

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.loaded_seq = -1
        """The incident version shown (-1: nothing read yet)."""
        self._ahead: tuple[Worker[None], int, asyncio.Event] | None = None

    def reset(self, incident_id: str) -> None:
        """Forget what was read."""
        super().reset(incident_id)
        self.loaded_seq = -1
        self._ahead = None

    def read_ahead(self) -> asyncio.Event | None:
        """Start reading what changed while the pane was hidden, before it comes to the
        front; return an event set once it is shown (None: nothing to read). The incident
        screen waits a moment for it, so the pane comes to the front filled in: one redraw
        of the screen, not one empty and another full."""
        if self.view is None or self.view["seq"] == self.loaded_seq:
            return None
        seq = self.view["seq"]
        if self._ahead is None or not self._reading(seq):
            self._ahead = (self.load(seq), seq, asyncio.Event())
        return self._ahead[2]

    def _reading(self, seq: int) -> bool:
        """Whether a read of version ``seq`` started by :meth:`read_ahead` is under way."""
        return self._ahead is not None and self._ahead[1] == seq and not self._ahead[0].is_finished

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Read again when the incident moved on, if the pane shows."""
        super().show(view, pb)
        if self.front and view["seq"] != self.loaded_seq:
            self.load(view["seq"])

    def activated(self) -> None:
        """Read what changed while the pane was hidden (a hidden pane reads nothing), unless
        that read is under way already (:meth:`read_ahead`)."""
        super().activated()
        if self.view is not None and self.view["seq"] != self.loaded_seq and not self._reading(self.view["seq"]):
            self.load(self.view["seq"])

    def reload(self) -> None:
        """Read again now (what is read changed, not the incident)."""
        self.loaded_seq = -1
        if self.view is not None:
            self.load(self.view["seq"])

    @work(thread=True, exclusive=True, group="pane-read", exit_on_error=False)
    def load(self, seq: int) -> None:
        """Read in a worker with its own connection; the result comes back as :class:`Loaded`."""
        worker = get_current_worker()
        incident = self.incident_id
        try:
            with self.app.open_workspace() as ws:
                data = self.read(ws, incident)
        except IrError as exc:
            self.read_failed(incident, exc)
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(incident, seq, data))

    def read(self, ws: Workspace, incident_id: str) -> Any:
        """What the pane shows of ``incident_id`` (runs on the worker's thread: no widgets here)."""
        raise NotImplementedError

    def read_failed(self, incident_id: str, exc: IrError) -> None:
        """Say that a read failed (runs on the worker's thread)."""
        self.post_message(ActionFailed(self.READING, str(exc), type(exc).__name__, refresh=False))

    def on_reading_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.incident_id != self.incident_id:
            return  # read for the incident shown before
        self.loaded_seq = message.seq
        self.loaded(message.data)
        if self._ahead is not None and self._ahead[1] == message.seq:
            self._ahead[2].set()

    def loaded(self, data: Any) -> None:
        """Show what :meth:`read` returned (on the UI thread)."""
        raise NotImplementedError
