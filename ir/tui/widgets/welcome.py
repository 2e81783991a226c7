"""The greeting of an empty workspace: what ir is and the ways in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Static

from ir.tui.labels import tr

SAMPLE_SCENARIO = "open-bucket-reporter"
"""The shipped scenario the welcome's sample drill runs: a reporter finds an open bucket."""

SAMPLE_SPEED = 60.0
"""The sample drill runs an hour of scenario time a minute (its three days in 72 minutes)."""


class Welcome(Vertical):
    """Shown instead of the incident lists while the workspace has no incidents.

    Its buttons post ``Button.Pressed``; the dashboard acts on ``#declare`` and ``#sample-drill``.
    """

    def __init__(self, workspace: str, lang: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.workspace = workspace
        self.lang = lang

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static(tr("Welcome to ir", lang), id="welcome-title")
        yield Static(
            tr("This workspace has no incidents yet. When a possible breach is reported, declare an "
               "incident: ir walks the team through its playbook, phase by phase, and keeps a "
               "verifiable record of everything done. To see how, start a sample drill: an exercise "
               "in which a reporter finds customer data in an open storage bucket.", lang),
            id="welcome-text",
        )
        yield Static(tr("Workspace: {path}", lang, path=self.workspace), id="welcome-path")
        with Center(id="welcome-actions"):
            yield Button(tr("Declare an incident (n)", lang), id="declare", variant="primary")
        with Center(id="welcome-drill"):
            yield Button(tr("Start a sample drill", lang), id="sample-drill", variant="warning")
