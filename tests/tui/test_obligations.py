"""The obligations pane: duties with their law and countdown, fulfil and waive, the compliance report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from ir.clock import VirtualClock
from ir.tui import IrApp
from ir.tui.messages import ActionFailed
from ir.tui.screens.confirm import ConfirmScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.widgets.incident_table import DEADLINE_STYLE
from ir.tui.widgets.obligations_panel import ObligationsPanel
from ir.tui.widgets.report_panel import ReportPanel
from ir.workspace import Workspace

from .helpers import enter_text, open_in_app, open_incident, settle

FACTS = {"aware_at": "now", "breach_confirmed": "yes", "subjects": "CN=1500, DE=40", "affected_count": "1540"}
"""An incident with duties under PIPL and GDPR from the start."""


async def _obligations(pilot: Pilot[None], incident: str) -> tuple[IncidentScreen, ObligationsPanel]:
    screen = await open_in_app(pilot, incident)
    await pilot.press("3")
    await settle(pilot)
    panel = screen.query_one(ObligationsPanel)
    assert screen.active == "obligations" and screen.focused is panel.query_one("#duties")
    return screen, panel


def _line(panel: ObligationsPanel, rule: str) -> str:
    duties = panel.query_one("#duties", OptionList)
    return str(duties.get_option(rule).prompt)


async def test_each_duty_shows_its_law_recipient_countdown_and_status(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws, facts=FACTS)
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        _, panel = await _obligations(pilot, incident)
        expected = {t.obligation.rule: t for t in ws.obligations.for_incident(incident)}
        assert {d.obligation.rule for d in panel.duties} == set(expected)
        # The most pressing first: the CAC's four-hour target, then the 72-hour deadlines.
        assert panel.duties[0].obligation.rule == "cn-pipl-regulator"
        gdpr = _line(panel, "eu-gdpr-authority")
        assert gdpr.startswith("3d 0h 0m") and "pending" in gdpr and "✓ verified" in gdpr
        assert "GDPR Art. 33(1) → The competent (lead) supervisory" in gdpr
        assert _line(panel, "cn-pipl-regulator").startswith("target 4h 0m")
        # The highlighted duty's detail names the recipient, the deadline and what the notice must say.
        detail = str(panel.query_one("#duty-detail").render())
        assert "Departments performing personal-information protection duties" in detail
        assert "own target 4 hours after awareness" in detail


async def test_a_wider_terminal_shows_more_of_each_recipient(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws, facts=FACTS)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen, panel = await _obligations(pilot, incident)
        narrow = _line(panel, "eu-gdpr-authority")
        await pilot.press("1")  # away and back at the same width: the same lines
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert _line(panel, "eu-gdpr-authority") == narrow
        await pilot.resize_terminal(120, 30)
        await settle(pilot)
        wide = _line(panel, "eu-gdpr-authority")
        assert len(wide) > len(narrow) and narrow.rstrip("…") in wide


async def test_countdowns_turn_yellow_red_then_overdue_on_the_incident_clock(
    ws: Workspace, app_factory: Callable[..., IrApp], clock: VirtualClock
) -> None:
    incident = open_incident(ws, facts=FACTS)
    app = app_factory()
    async with app.run_test(size=(100, 30)) as pilot:
        _, panel = await _obligations(pilot, incident)
        duties = panel.query_one("#duties", OptionList)

        def clock_cell() -> tuple[str, str]:
            prompt = duties.get_option("eu-gdpr-authority").prompt
            first = prompt.split("\n")[0]  # type: ignore[union-attr]
            return first.plain[:17].strip(), str(first.spans[0].style)

        assert clock_cell() == ("3d 0h 0m", DEADLINE_STYLE["ok"])
        for advance, shown, level in ((dt.timedelta(hours=49), "23h 0m", "soon"),
                                      (dt.timedelta(hours=22, minutes=30), "30m", "urgent"),
                                      (dt.timedelta(hours=1), "OVERDUE 30m", "overdue")):
            clock.advance(advance)
            panel.tick()
            await pilot.pause()
            assert clock_cell() == (shown, DEADLINE_STYLE[level])
        assert "overdue" in _line(panel, "eu-gdpr-authority")


async def test_fulfil_now_is_confirmed_then_recorded(ws: Workspace, app_factory: Callable[..., IrApp],
                                                     clock: VirtualClock) -> None:
    incident = open_incident(ws, facts=FACTS)
    clock.advance(dt.timedelta(hours=2))
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        _, panel = await _obligations(pilot, incident)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.heading == "Fulfil cn-pipl-regulator"
        assert dialog.query_one("#reason", Input).value == "now"
        await pilot.press("enter")
        await settle(pilot)
        assert "met" in _line(panel, "cn-pipl-regulator")
    duty = next(t for t in ws.obligations.for_incident(incident) if t.obligation.rule == "cn-pipl-regulator")
    assert duty.status == "met"
    assert (duty.outcome.fulfilled_at, duty.outcome.fulfilled_by) == ("2026-11-20T03:00:00Z", "alice")


async def test_fulfil_at_a_time_typed_with_its_offset(ws: Workspace, app_factory: Callable[..., IrApp],
                                                     clock: VirtualClock) -> None:
    incident = open_incident(ws, facts=FACTS)
    clock.advance(dt.timedelta(hours=6))
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await _obligations(pilot, incident)
        await pilot.press("f")
        await settle(pilot)
        box = app.screen.query_one("#reason", Input)
        # Not a time, then a time to come: the dialog says why and stays open.
        box.value = "this morning"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "not a time" in str(app.screen.query_one("#dialog-problem").render())
        box.value = "2026-11-20T16:00+08:00"
        await pilot.press("enter")
        await settle(pilot)
        assert "in the future" in str(app.screen.query_one("#dialog-problem").render())
        box.value = "2026-11-20T12:30+08:00"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
    duty = next(t for t in ws.obligations.for_incident(incident) if t.obligation.rule == "cn-pipl-regulator")
    # 12:30 in Beijing is 04:30 UTC: half an hour late against the four-hour target, met in law
    # (PIPL sets no fixed period).
    assert duty.outcome.fulfilled_at == "2026-11-20T04:30:00Z" and duty.status == "met"


async def test_waive_needs_a_reason_and_is_recorded_with_it(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws, facts=FACTS)
    messages: list[object] = []
    app = app_factory()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        _, panel = await _obligations(pilot, incident)
        await pilot.press("down", "down", "w")  # eu-gdpr-authority, after the two PIPL duties
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.danger and dialog.heading == "Waive eu-gdpr-authority"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # no reason, no waiver
        await enter_text(pilot, dialog.query_one("#reason", Input), "EU residents' data was encrypted")
        await settle(pilot)
        assert "waived" in _line(panel, "eu-gdpr-authority")
        # Once waived it cannot be fulfilled: the pane says so without asking the service.
        panel.query_one("#duties", OptionList).highlighted = [d.obligation.rule for d in panel.duties].index(
            "eu-gdpr-authority")
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
    assert not [m for m in messages if isinstance(m, ActionFailed)]
    duty = next(t for t in ws.obligations.for_incident(incident) if t.obligation.rule == "eu-gdpr-authority")
    assert (duty.status, duty.outcome.waived_reason, duty.outcome.waived_by) == (
        "waived", "EU residents' data was encrypted", "alice")


async def test_cancelling_changes_nothing(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws, facts=FACTS)
    seq = ws.incidents.get(incident).seq
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await _obligations(pilot, incident)
        for key in ("f", "w"):
            await pilot.press(key)
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, IncidentScreen)
    assert ws.incidents.get(incident).seq == seq


async def test_the_compliance_report_beside_the_post_mortem(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws, facts=FACTS)
    ws.obligations.fulfil(incident, "eu-gdpr-record")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("5")
        await settle(pilot)
        panel = screen.query_one(ReportPanel)
        assert panel.kind == "postmortem" and panel.markdown == ws.incidents.postmortem(incident)
        await pilot.press("c")
        await settle(pilot)
        assert panel.kind == "compliance" and panel.markdown == ws.obligations.compliance_report(incident)
        assert "eu-gdpr-record" in panel.markdown
        await pilot.press("c")
        await settle(pilot)
        assert panel.kind == "postmortem"


async def test_an_incident_without_duties_says_where_they_come_from(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        _, panel = await _obligations(pilot, incident)
        assert panel.duties == []
        assert "No notification duty" in str(panel.query_one("#duty-detail").render())
        await pilot.press("f", "w")  # nothing highlighted: nothing happens
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
