"""The timeline pane (notes, filter by kind) and the post-mortem inside the app."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, Markdown, Select

from ir.tui import IrApp
from ir.tui.widgets.event_table import EventTable
from ir.tui.widgets.report_panel import ReportPanel
from ir.tui.widgets.timeline_panel import TimelinePanel
from ir.workspace import Workspace

from .helpers import open_in_app, open_incident, settle


async def test_n_writes_a_note_that_lands_in_the_timeline(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("n")
        await settle(pilot)
        panel = screen.query_one(TimelinePanel)
        assert screen.focused is panel.query_one("#note")
        await pilot.press(*"ACL fixed", "enter")
        await settle(pilot)
        table = panel.query_one("#events", EventTable)
        assert [(r.kind, r.actor, r.text) for r in table.rows_shown][1:] == [("note.added", "alice", "note: ACL fixed")]
        # The cursor follows the newest event, written out in full under the table.
        assert table.cursor_row == 1
        assert str(panel.query_one("#event-text").render()) == "#2 note.added: note: ACL fixed"
        assert panel.query_one("#note", Input).value == ""
    notes = ws.incidents.timeline(incident, kinds=["note.added"])
    assert [(e.actor, e.payload["text"]) for e in notes] == [("alice", "ACL fixed")]


async def test_timeline_filters_by_kind(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    ws.incidents.note(incident, "first")
    ws.incidents.complete_task(incident, "record_report")
    ws.incidents.note(incident, "second")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("2")
        await settle(pilot)
        panel = screen.query_one(TimelinePanel)
        table = panel.query_one("#events", EventTable)
        assert len(table.rows_shown) == 4
        kind = panel.query_one("#kind", Select)
        kind.focus()
        # The kinds offered are those in the timeline, sorted: incident.opened, note.added, task.done.
        await pilot.press("enter", "down", "down", "enter")
        await settle(pilot)
        assert kind.value == "note.added"
        assert [r.text for r in table.rows_shown] == ["note: first", "note: second"]


async def test_the_post_mortem_is_readable_in_the_app(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    ws.incidents.note(incident, "bucket closed")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("5")
        await settle(pilot)
        panel = screen.query_one(ReportPanel)
        assert panel.markdown == ws.incidents.postmortem(incident)
        assert incident in panel.markdown and "bucket closed" in panel.markdown
        assert panel.query_one(Markdown).source == panel.markdown
        # It follows the incident: a change re-renders the report being read.
        ws.incidents.note(incident, "late note")
        screen.reload()
        await settle(pilot)
        assert "late note" in panel.markdown
