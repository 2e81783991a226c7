"""Screenshots of the main screens at 80x24 (and the busiest panes larger) on a frozen clock,
compared with reviewed SVGs.

Regenerate only after reviewing the report: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ir.clock import VirtualClock
from ir.tui import IrApp
from ir.workspace import Workspace

from .helpers import no_blink, open_incident, settle

SIZE = (80, 24)
"""The smallest terminal the app is made for."""


def _seed(ws: Workspace, clock: VirtualClock) -> str:
    """Three live incidents (one with a running deadline) and a drill, aged by the clock."""
    facts = {"aware_at": "now", "breach_confirmed": "yes", "subjects": "CN=1500", "affected_count": "1500"}
    main = open_incident(ws, "Customer table exposed in a public bucket", severity="high", facts=facts)
    clock.advance(dt.timedelta(minutes=40))
    open_incident(ws, "Stolen laptop with HR exports", severity="medium")
    open_incident(ws, "Phishing: payroll credentials", severity="critical")
    open_incident(ws, "Quarterly tabletop", mode="drill")
    clock.advance(dt.timedelta(hours=1, minutes=15))
    ws.incidents.complete_task(main, "record_report")
    ws.incidents.complete_task(main, "open_bridge")
    ws.incidents.assign(main, "preserve_first_evidence", "bob")
    return main


async def _settled(pilot: Pilot[None]) -> None:
    await settle(pilot)
    no_blink(pilot.app)


async def _open_first(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await _settled(pilot)


def test_dashboard(snap_compare: Any, ws: Workspace, clock: VirtualClock, app_factory: Callable[..., IrApp]) -> None:
    _seed(ws, clock)
    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=_settled)


def test_incident_view(snap_compare: Any, ws: Workspace, clock: VirtualClock, app_factory: Callable[..., IrApp]) -> None:
    _seed(ws, clock)
    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=_open_first)


def test_incident_view_ready_for_the_next_step(
    snap_compare: Any, ws: Workspace, clock: VirtualClock, app_factory: Callable[..., IrApp]
) -> None:
    main = _seed(ws, clock)
    for task in ("preserve_first_evidence", "inform_dpo"):
        ws.incidents.complete_task(main, task)

    async def steps(pilot: Pilot[None]) -> None:
        await _open_first(pilot)
        # Scroll the work pane to its end: the step out of the phase, now allowed.
        pilot.app.screen.query_one("#transitions").focus()
        await _settled(pilot)

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=steps)


def test_incident_view_in_chinese(
    snap_compare: Any, ws: Workspace, clock: VirtualClock, app_factory: Callable[..., IrApp]
) -> None:
    main = open_incident(ws, "客户数据表在公共存储桶中暴露", severity="high")
    ws.incidents.complete_task(main, "record_report")
    clock.advance(dt.timedelta(minutes=25))
    assert snap_compare(app_factory(lang="zh-CN"), terminal_size=SIZE, run_before=_open_first)


def test_timeline(snap_compare: Any, ws: Workspace, clock: VirtualClock, app_factory: Callable[..., IrApp]) -> None:
    main = _seed(ws, clock)
    ws.incidents.note(main, "Bucket ACL set to private at 10:12")

    async def timeline(pilot: Pilot[None]) -> None:
        await _open_first(pilot)
        await pilot.press("2")
        await _settled(pilot)

    assert snap_compare(app_factory(), terminal_size=SIZE, run_before=timeline)


LARGE = (120, 40)
"""A roomier terminal: the same panes with nothing cut short."""


def _seed_duties(ws: Workspace) -> str:
    """An incident three days after awareness: one duty met, one waived, one due within hours, one past target."""
    facts = {"aware_at": "2026-11-17T03:00:00Z", "breach_confirmed": "yes", "subjects": "CN=1500, DE=40",
             "affected_count": "1540"}
    incident = open_incident(ws, "Customer table exposed in a public bucket", severity="high", facts=facts)
    ws.obligations.fulfil(incident, "eu-gdpr-record", "2026-11-18T09:00:00Z")
    ws.obligations.waive(incident, "cn-pipl-individuals", "data encrypted; key not taken")
    return incident


async def _obligations_pane(pilot: Pilot[None]) -> None:
    await _open_first(pilot)
    await pilot.press("3")
    await _settled(pilot)


@pytest.mark.parametrize("size", [SIZE, LARGE], ids=["80x24", "120x40"])
def test_obligations_pane(
    snap_compare: Any, ws: Workspace, app_factory: Callable[..., IrApp], size: tuple[int, int]
) -> None:
    _seed_duties(ws)
    assert snap_compare(app_factory(), terminal_size=size, run_before=_obligations_pane)


def _seed_drill(ws: Workspace, clock: VirtualClock) -> str:
    """A paced drill three scenario hours in, its injects so far delivered, a note and an answer."""
    incident = ws.drills.start("open-bucket-reporter", speed=60).id
    clock.advance(dt.timedelta(minutes=3))
    ws.drills.deliver_due(incident)
    ws.incidents.complete_task(incident, "record_report")
    ws.drills.hotwash(incident, "The bridge was open within ten minutes")
    ws.drills.discuss(incident, "m1_q2", "A holding statement, nothing more until we know")
    return incident


async def _drill_pane(pilot: Pilot[None]) -> None:
    await settle(pilot)
    pilot.app.screen.query_one("#drills").focus()
    await pilot.press("enter")
    await _settled(pilot)
    await pilot.press("6")
    await _settled(pilot)


@pytest.mark.parametrize("size", [SIZE, LARGE], ids=["80x24", "120x40"])
def test_drill_pane(
    snap_compare: Any, ws: Workspace, clock: VirtualClock, app_factory: Callable[..., IrApp], size: tuple[int, int]
) -> None:
    _seed_drill(ws, clock)
    assert snap_compare(app_factory(), terminal_size=size, run_before=_drill_pane)



def _seed_notices(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An incident with its three people and every fact the templates read, a fixed data key."""
    from ir.notices.keys import DataKey, write_key_file
    from tests.notices.conftest import FACTS, PEOPLE, write_people

    key = write_key_file(tmp_path / "keys" / "data.key", DataKey(bytes(range(32)), "snapshot"))
    monkeypatch.setenv("IR_KEY_FILE", str(key))
    incident = open_incident(ws, "Customer table exposed in a public bucket", severity="high")
    ws.subjects.import_csv(incident, write_people(tmp_path / "people.csv", PEOPLE))
    ws.incidents.set_facts(incident, {k: v for k, v in FACTS.items() if k != "incident_grade"})
    ws.incidents.assign(incident, "dpo", "bob")
    return incident


async def _notices_pane(pilot: Pilot[None]) -> None:
    await _open_first(pilot)
    await pilot.press("4")
    await _settled(pilot)
    # The Chinese letter to people: its title in the list, the data key and the release beneath.
    await pilot.press("down", "down", "down", "down")
    await _settled(pilot)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_notices_pane(
    snap_compare: Any, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    app_factory: Callable[..., IrApp], lang: str,
) -> None:
    _seed_notices(ws, tmp_path, monkeypatch)
    assert snap_compare(app_factory(lang=lang), terminal_size=SIZE, run_before=_notices_pane)
