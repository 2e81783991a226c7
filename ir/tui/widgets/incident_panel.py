"""The base of every pane in the incident view (work, timeline, report, and those added later)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.widget import Widget

from ir.engine.playbook import Playbook

if TYPE_CHECKING:
    from ir.tui.app import IrApp


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
