"""The greeting of an empty workspace: what ir is and the way in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Static


class Welcome(Vertical):
    """Shown instead of the incident lists while the workspace has no incidents.

    Its buttons post ``Button.Pressed``; the dashboard acts on ``#declare``. Later ways in
    (a sample drill) add a button here.
    """

    def __init__(self, workspace: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        yield Static("Welcome to ir", id="welcome-title")
        yield Static(
            "This workspace has no incidents yet. When a possible breach is reported, declare an "
            "incident: ir walks the team through its playbook, phase by phase, and keeps a "
            "verifiable record of everything done.",
            id="welcome-text",
        )
        yield Static(f"Workspace: {self.workspace}", id="welcome-path")
        with Center(id="welcome-actions"):
            yield Button("Declare an incident (n)", id="declare", variant="primary")
