"""Loading ahead: once the dashboard shows, the incident view's code and data load in the background."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ir.tui import IrApp, warm
from ir.tui.screens.incident import IncidentScreen
from ir.workspace import Workspace

from .helpers import CONTROLLER, no_blink, open_incident, settle, wait_until

REPO = Path(__file__).resolve().parents[2]

WARM_PROBE = """
import asyncio, json, sys
from ir.tui import make_app

app = make_app(sys.argv[1], actor="tester", lang="en")
WATCHED = ("ir.", "jinja2", "pydantic", "transitions", "yaml", "cryptography", "markdown_it")

def loaded():
    return {m for m in sys.modules if m.startswith(WATCHED)}

async def walk(pilot):
    while not app.prebuilt:
        await asyncio.sleep(0.02)
    await pilot.pause()
    prebuilt = app.get_screen("incident")
    before = loaded()
    await pilot.press("enter")
    for key, pane in (("2", "timeline"), ("3", "obligations"), ("4", "notices"), ("5", "report")):
        await pilot.press(key)
        panel = app.screen.query_one(f"#pane-{pane}")
        while panel.loaded_seq != app.screen.view["seq"]:
            await asyncio.sleep(0.02)
    app.exit(json.dumps({"warmed": app.warmed.result, "same_view": app.screen is prebuilt,
                         "shown": app.screen.incident_id, "new": sorted(loaded() - before)}))

print(app.run(headless=True, size=(80, 24), auto_pilot=walk))
"""


def _count(steps: object) -> int:
    """The steps that do something (not the marker between the view and the rest)."""
    return sum(1 for step in steps if step is not warm.VIEW_READY)  # type: ignore[attr-defined]


def test_after_the_warm_up_opening_an_incident_and_its_panes_loads_no_more_code(ws: Workspace) -> None:
    """The first incident opened is shown in a view built ahead, and its panes find their
    code and the template engine loaded: nothing of ir or its heavy libraries is imported
    while the responder waits."""
    incident = open_incident(ws, "Bucket exposed")
    out = subprocess.run([sys.executable, "-c", WARM_PROBE, str(ws.store.path)], capture_output=True, text=True,
                         timeout=120, cwd=REPO, env={**os.environ, "IR_LANG": "en"})
    assert out.returncode == 0, out.stderr
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["warmed"] == _count(warm.steps(ws, incident))
    assert result["same_view"] is True and result["shown"] == incident
    assert result["new"] == []


def test_a_warm_up_that_meets_errors_carries_on_and_one_cancelled_stops(ws: Workspace) -> None:
    # An incident that is not there: each step that reads it fails on the workspace, and is skipped.
    steps = _count(warm.steps(ws, "INC-2026-9999"))
    ready: list[bool] = []
    assert warm.run(ws, "INC-2026-9999", lambda: False, lambda: ready.append(True)) == steps
    assert ready == [True]
    assert warm.run(ws, None, lambda: False) == _count(warm.steps(ws, None)) < steps
    assert warm.run(ws, "INC-2026-9999", lambda: True) == 0


async def test_a_drill_view_built_ahead_delivers_nothing_until_it_is_opened(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    """The view built ahead shows the drill under the cursor, but only an open drill view
    acts as its exercise controller."""
    drill = ws.drills.start("open-bucket-reporter", speed=60).id
    app = app_factory(control_seconds=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.is_screen_installed("incident") and app.get_screen("incident").is_mounted,
                         timeout=20)
        built = app.get_screen("incident", IncidentScreen)
        assert built.incident_id == drill and not built.opened
        assert not [w for w in app.workers if w.group == CONTROLLER]
        app.screen.query_one("#drills").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is built and built.opened
        assert [w for w in app.workers if w.group == CONTROLLER and w.is_running]
        await pilot.press("escape")
        await settle(pilot)
        assert not built.opened


async def test_without_warm_up_the_view_is_built_when_first_opened(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws, "Bucket exposed")
    app = app_factory(warm_up=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.warmed is None and not app.is_screen_installed("incident")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen) and app.screen.incident_id == incident


def _screen_text(svg: str) -> list[str]:
    """A screenshot's text, line by line, with each run's colours (class names differ between apps)."""
    styles = dict(re.findall(r"\.terminal-[\w-]+?-(r\d+) \{([^}]*)\}", svg))
    rows: dict[float, list[tuple[float, str]]] = {}
    for cls, x, y, text in re.findall(r'<text class="terminal-[\w-]+?-(r\d+)" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(y), []).append((float(x), f"{html.unescape(text).replace(chr(160), ' ')}[{styles.get(cls, '').strip()}]"))
    return [" ".join(t for _, t in sorted(cells)) for _, cells in sorted(rows.items())]


async def _incident_shot(app: IrApp, ahead: bool) -> list[str]:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if ahead:
            await wait_until(pilot, lambda: app.prebuilt, timeout=20)
        await pilot.press("enter")
        await settle(pilot)
        no_blink(app)
        return _screen_text(app.export_screenshot())


async def test_a_view_built_ahead_shows_what_a_view_built_on_demand_shows(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws, "Bucket exposed", facts={"aware_at": "now", "breach_confirmed": "yes"})
    ws.incidents.complete_task(incident, "record_report")
    on_demand = await _incident_shot(app_factory(warm_up=False), ahead=False)
    ahead = await _incident_shot(app_factory(), ahead=True)
    assert any("Bucket exposed" in line for line in on_demand)
    assert ahead == on_demand


def test_loading_ahead_writes_nothing(ws: Workspace) -> None:
    incident = open_incident(ws, "Bucket exposed", facts={"aware_at": "now", "breach_confirmed": "yes",
                                                          "subjects": "CN=100", "affected_count": "100"})
    before = ws.store.data_version()
    with Workspace(ws.store.path, clock=ws.clock, actor="bob", lang="en", create=False) as other:
        assert warm.run(other, incident, lambda: False) == _count(warm.steps(other, incident))
    assert ws.store.data_version() == before  # no other connection committed anything


async def test_a_view_built_ahead_fits_a_terminal_resized_since(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    open_incident(ws, "Bucket exposed")
    on_demand = app_factory(warm_up=False)
    async with on_demand.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        no_blink(on_demand)
        expected = _screen_text(on_demand.export_screenshot())
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.prebuilt, timeout=20)  # laid out at 80x24
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        no_blink(app)
        assert _screen_text(app.export_screenshot()) == expected
