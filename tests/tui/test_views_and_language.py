"""One incident view reused from incident to incident, the key bar, and the app's words in Chinese."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

from textual.color import Color
from textual.widgets import Input, Markdown

import ir.tui
from ir.tui import IrApp
from ir.tui.labels import tr
from ir.tui.labels_zh import ZH_CN
from ir.tui.screens.declare import DeclareScreen
from ir.tui.screens.help import HelpScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.widgets.event_table import EventTable
from ir.tui.widgets.incident_table import IncidentTable
from ir.tui.widgets.key_bar import KeyBar
from ir.tui.widgets.pane_bar import PaneBar
from ir.tui.widgets.timeline_panel import TimelinePanel
from ir.workspace import Workspace

from .helpers import open_in_app, open_incident, settle


async def _open_row(app: IrApp, pilot: object, table: str, row: int) -> IncidentScreen:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await settle(pilot)
    listed = app.screen.query_one(f"#{table}", IncidentTable)
    listed.focus()
    listed.cursor_row = row
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, IncidentScreen)
    return app.screen


async def test_the_next_incident_opens_in_the_same_view_with_nothing_of_the_last(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    first = open_incident(ws, "Bucket exposed", severity="high")
    second = open_incident(ws, "Laptop stolen", severity="low")
    ws.incidents.note(second, "laptop reported at reception")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, first)
        screen.query_one("#decision-incident_summary .editor", Input).focus()
        await pilot.press(*"half an answer")
        screen.query_one("#tasks").focus()
        await pilot.press("2")
        await settle(pilot)
        timeline = screen.query_one(TimelinePanel)
        assert [r.seq for r in timeline.rows] == [1]
        await pilot.press("escape")
        await settle(pilot)

        again = await _open_row(app, pilot, "live", 1)
        assert again is screen and screen.incident_id == second
        # Back on the work pane, with the other incident's half-typed answer gone.
        assert screen.active == "work"
        assert screen.query_one("#decision-incident_summary .editor", Input).value == ""
        await pilot.press("2")
        await settle(pilot)
        table = timeline.query_one("#events", EventTable)
        assert [r.text for r in table.rows_shown][-1] == "note: laptop reported at reception"
        # A read made for the first incident that arrives late is dropped.
        timeline.post_message(TimelinePanel.Loaded(first, 99, []))
        await settle(pilot)
        assert timeline.incident_id == second and len(table.rows_shown) == 2
    assert "incident_summary" not in ws.incidents.get(first).facts


async def test_the_drill_pane_comes_and_goes_with_the_incident(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    live = open_incident(ws, "Real leak")
    drill = ws.drills.start("open-bucket-reporter", speed=60).id
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_row(app, pilot, "drills", 0)
        assert screen.incident_id == drill and screen.query_one("#exercise-banner").display
        await pilot.press("6")
        await settle(pilot)
        assert screen.active == "drill"
        await pilot.press("escape")
        await settle(pilot)
        screen = await _open_row(app, pilot, "live", 0)
        assert screen.incident_id == live and screen.active == "work"
        assert not screen.query_one("#exercise-banner").display
        assert [p for p, _ in screen.query_one(PaneBar).panes] == ["work", "timeline", "obligations", "notices", "report"]
        await pilot.press("6")  # no sixth pane for a live incident
        await settle(pilot)
        assert screen.active == "work"


async def test_a_theme_changed_while_the_view_was_away_shows_when_it_comes_back(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    # The reused view skips Textual's restyle when it comes back, unless the styles changed.
    first = open_incident(ws, "Bucket exposed")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, first)
        bar = screen.query_one(PaneBar)
        before = bar.styles.background
        await pilot.press("escape")
        await settle(pilot)
        app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
        await settle(pilot)
        again = await _open_row(app, pilot, "live", 0)
        assert again is screen
        assert bar.styles.background != before
        assert bar.styles.background == Color.parse(app.get_css_variables()["panel"])


async def test_a_click_on_a_key_in_the_key_bar_presses_it(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        start, _end, key = next(span for span in bar._spans if span[2] == "n")
        assert "Declare" in str(bar.render())
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, DeclareScreen)


async def test_a_click_on_a_pane_name_shows_the_pane(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        bar = screen.query_one(PaneBar)
        start, _end, _pane = next(span for span in bar._spans if span[2] == "obligations")
        await pilot.click(PaneBar, offset=(start + 2, 0))
        await settle(pilot)
        assert screen.active == "obligations" and bar.active == "obligations"


async def test_the_app_speaks_chinese_where_the_playbook_does(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws, "客户数据表在公共存储桶中暴露")
    app = app_factory(lang="zh-CN")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.title == "事件"
        assert "宣布事件" in str(app.screen.query_one(KeyBar).render())
        assert str(app.screen.query_one("#live-title").render()) == "未关闭的事件（1）"
        screen = await open_in_app(pilot, incident)
        assert [t for _, t in screen.query_one(PaneBar).panes] == ["处置", "时间线", "通知义务", "通知函", "报告"]
        keys = str(screen.query_one(KeyBar).render())
        assert "完成/撤销" in keys and "返回" in keys
        assert str(screen.query_one("#tasks-title").render()) == "任务"
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.query_one("#help-text", Markdown).source
        assert "ir 如何工作" in help_text and "| 按键 | 作用 |" in help_text and "下一窗格" in help_text


def test_a_label_missing_from_a_language_shows_in_english() -> None:
    assert tr("Tasks", "zh-CN") == "任务"
    assert tr("Open incidents ({count})", "zh-CN", count=3) == "未关闭的事件（3）"
    assert tr("Open incidents ({count})", "en", count=3) == "Open incidents (3)"
    assert tr("A label nobody translated", "zh-CN") == "A label nobody translated"


def _labels(tree: ast.AST) -> list[str]:
    """The app's own words in a module: tr("..."), key and pane names, what a command or read was doing."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            where = {"tr": 0, "ActionFailed": 0, "run_command": 0, "Committed": 0, "Binding": 2, "PanelSpec": 1}.get(name or "")
            if where is not None and len(node.args) > where:
                arg = node.args[where]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append(arg.value)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "READING" for t in node.targets):
            if isinstance(node.value, ast.Constant):
                found.append(node.value.value)
    return found


def test_every_word_the_app_shows_has_its_chinese() -> None:
    package = Path(ir.tui.__file__).parent
    missing = {
        str(path.relative_to(package)): [w for w in _labels(ast.parse(path.read_text(encoding="utf-8"))) if w not in ZH_CN]
        for path in sorted(package.rglob("*.py"))
    }
    assert {k: v for k, v in missing.items() if v} == {}
    assert len(_labels(ast.parse((package / "widgets" / "notices_panel.py").read_text(encoding="utf-8")))) > 50


async def test_a_refusal_is_titled_in_the_display_language(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    drill = ws.drills.start("open-bucket-reporter", speed=None).id  # stepped: pausing is refused
    app = app_factory(lang="zh-CN")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_row(app, pilot, "drills", 0)
        assert screen.incident_id == drill
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert [n.title for n in app._notifications] == ["无法暂停演练"]
