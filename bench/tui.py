"""Benchmark: the terminal app on a workspace of 1,000 incidents and 100,000 events.

Measures, against a baseline started in the same run (a trivial Textual app with a header,
a table and a footer):

* launch to the first full screen: a new process, run headless, that exits as soon as the
  dashboard shows every incident (the baseline exits once its table is drawn). Both are
  timed from spawn to exit; the ratio is printed. Target: within 2x the baseline.
* key press to the updated screen, in one running app: the key goes in as the terminal
  would send it, and the clock stops when the screen shows the result and has been
  redrawn. Target: under 100 ms.

Run: .venv/bin/python bench/tui.py [--incidents N] [--events N] [--runs N] [--presses N] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc)
DETECT_TASKS = ("record_report", "open_bridge", "preserve_first_evidence", "inform_dpo")


# --------------------------------------------------------------------------- workspace


def build_workspace(path: Path, incidents: int, events: int) -> None:
    """Fill a workspace through the services: varied incidents, padded with notes to ``events``."""
    from ir.clock import VirtualClock
    from ir.engine.commands import NewEvent
    from ir.workspace import Workspace

    clock = VirtualClock(START - dt.timedelta(days=30))
    per = events // incidents
    with Workspace(path, clock=clock, actor="bench", lang="en") as ws:
        for n in range(incidents):
            clock.advance(dt.timedelta(minutes=40))
            facts = {}
            if n % 3 == 0:
                facts = {"aware_at": "now", "breach_confirmed": "yes", "subjects": f"CN={100 + n}", "affected_count": str(100 + n)}
            mode = "drill" if n % 20 == 0 else "live"
            state = ws.incidents.open("personal-data-leak", title=f"Incident {n}: customer records exposed",
                                      severity=("low", "medium", "high", "critical")[n % 4], facts=facts, mode=mode)
            for task in DETECT_TASKS[: n % 5]:
                ws.incidents.complete_task(state.id, task)
            if n % 5 == 1:  # a fifth are dismissed: closed
                ws.incidents.complete_task(state.id, "inform_dpo")
                ws.incidents.answer(state.id, "breach_confirmed", "no")
                ws.incidents.answer(state.id, "dismissal_reason", "a test file, no personal data")
                ws.incidents.fire(state.id, "dismiss")
            seq = ws.incidents.get(state.id).seq
            padding = [NewEvent("note.added", {"text": f"status update {i}"}) for i in range(per - seq)]
            if padding:
                ws.incidents.record(state.id, padding)


def count_events(path: Path) -> tuple[int, int]:
    """How many incidents and events the workspace holds (through the services)."""
    from ir.workspace import Workspace

    with Workspace(path, lang="en") as ws:
        states = ws.incidents.list(mode=None, include_closed=True)
        return len(states), sum(s.seq for s in states)


# ------------------------------------------------------------------------- child runs


def child_baseline(t0: float) -> None:
    """A trivial app: header, table, footer; exits once the table is drawn."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    print(f"imported {time.time() - t0:.4f}", flush=True)

    class Baseline(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("ID", "Title", "Phase")
            table.add_rows([(f"INC-{i}", f"Incident {i}", "detect") for i in range(20)])
            self.call_after_refresh(self._drawn)

        def _drawn(self) -> None:
            print(f"first-screen {time.time() - t0:.4f}", flush=True)
            self.exit()

    Baseline().run(headless=True, size=(80, 24))


def child_ir(t0: float, db: str) -> None:
    """The ir app on the workspace; exits once the dashboard shows every incident."""
    from ir.clock import VirtualClock
    from ir.tui import make_app
    from ir.tui.screens.dashboard import DashboardScreen

    print(f"imported {time.time() - t0:.4f}", flush=True)
    app = make_app(db, clock=VirtualClock(START), actor="bench", lang="en")

    async def until_shown(pilot: Any) -> None:
        while not (isinstance(app.screen, DashboardScreen) and app.screen.rows is not None):
            await asyncio.sleep(0.002)
        await _drawn(app)
        print(f"listed {time.time() - t0:.4f}", flush=True)
        while not app.screen.complete:  # every deadline counted down: the full screen
            await asyncio.sleep(0.002)
        await _drawn(app)
        print(f"first-screen {time.time() - t0:.4f}", flush=True)
        app.exit()

    app.run(headless=True, size=(80, 24), auto_pilot=until_shown)


async def _drawn(app: Any, since: dict[int, int] | None = None) -> None:
    """Wait until the screen has been redrawn with what is in it now; given the redraws
    counted before a key (:func:`_redraws`), also until the screen showing now has been
    drawn since (a screen just pushed may run the callback before its first frame)."""
    while True:
        done = asyncio.Event()
        app.call_after_refresh(done.set)
        await done.wait()
        screen = id(app.screen)
        if since is None or _REDRAWS.get(screen, 0) > since.get(screen, 0):
            return
        await asyncio.sleep(0.001)


_REDRAWS: dict[int, int] = {}
"""Times each screen (by id) has been drawn to the terminal, once the key-press bench starts."""


def _redraws() -> dict[int, int]:
    return dict(_REDRAWS)


def _count_redraws() -> None:
    from textual.screen import Screen

    real = Screen._compositor_refresh

    def counted(self: Screen[Any]) -> None:
        if self.is_current:
            _REDRAWS[id(self)] = _REDRAWS.get(id(self), 0) + 1
        real(self)

    Screen._compositor_refresh = counted  # type: ignore[method-assign]


def time_launch(kind: str, db: Path | None) -> dict[str, float]:
    """Spawn a child; return seconds from spawn to each point it reports, and to its exit."""
    t0 = time.time()
    args = [sys.executable, __file__, "--child", kind, "--t0", repr(t0)] + (["--db", str(db)] if db else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout
    points = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.count(" ") == 1}
    points["exit"] = time.time() - t0
    return points


# ------------------------------------------------------------------------- key presses


async def key_latencies(db: Path, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """Press keys in a running app; for each key, milliseconds from the key to the updated,
    redrawn screen (wall clock), and the CPU time the process spent meanwhile (every thread)."""
    from textual import events

    from ir.clock import VirtualClock
    from ir.tui import make_app
    from ir.tui.screens.dashboard import DashboardScreen
    from ir.tui.widgets.incident_table import IncidentTable

    # Only what the dashboard has loaded anyway: the incident view's modules load when the
    # app needs them, and importing them here first would hide that time from the keys.
    def incident_shown(incident_id: str) -> bool:
        screen = app.screen
        return (type(screen).__name__ == "IncidentScreen" and screen.incident_id == incident_id  # type: ignore[attr-defined]
                and screen.view is not None)  # type: ignore[attr-defined]

    _count_redraws()
    app = make_app(db, clock=VirtualClock(START), actor="bench", lang="en")
    results: dict[str, list[tuple[float, float]]] = {}

    async def press(label: str, key: str, done: Callable[[], bool], char: str | None = None) -> None:
        start, cpu, renders = time.perf_counter(), time.process_time(), _redraws()
        app._driver.send_message(events.Key(key, char))  # as the terminal driver delivers it
        while not done():
            await asyncio.sleep(0.001)
        await _drawn(app, renders)
        took = ((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000)
        results.setdefault(label, []).append(took)
        await asyncio.sleep(0.05)  # a person does not press keys back to back

    def loaded(screen: Any, pane: str) -> Callable[[], bool]:
        # Checked every millisecond while the app works: a lookup by id, not a query that
        # walks the screen (which would take the time it measures from the app's threads).
        panes = screen.query_one("#panes")

        def check() -> bool:
            if screen.active != pane:
                return False
            try:
                panel = panes.get_child_by_id(f"pane-{pane}")
            except Exception:  # not built yet
                return False
            return panel.loaded_seq == screen.view["seq"]  # type: ignore[attr-defined,no-any-return]

        return check

    def warmed() -> bool:
        return app.warmed is not None and app.warmed.is_finished and app.prebuilt

    async with app.run_test(size=(80, 24)) as pilot:
        while not (isinstance(app.screen, DashboardScreen) and app.screen.complete):
            await asyncio.sleep(0.01)
        complete = time.perf_counter()
        dashboard = app.screen
        table = dashboard.query_one("#live", IncidentTable)
        # At once, while the app loads the incident view ahead in the background.
        view_built: float | None = None
        while not warmed():
            row = table.cursor_row
            await press("dashboard: move the cursor while loading ahead", "down", lambda r=row: table.cursor_row == r + 1)
            if view_built is None and app.is_screen_installed("incident") and app.get_screen("incident").is_mounted:
                view_built = (time.perf_counter() - complete) * 1000
        results["loading ahead: view built, ms after full screen"] = [(view_built or 0.0, 0.0)]
        results["loading ahead: all done, ms after full screen"] = [((time.perf_counter() - complete) * 1000, 0.0)]
        await pilot.pause()
        for _ in range(repeats):
            row = table.cursor_row
            await press("dashboard: move the cursor (down)", "down", lambda r=row: table.cursor_row == r + 1)
        for _ in range(repeats):
            count = len(table.rows_shown)
            await press("dashboard: show/hide closed (c)", "c", lambda c=count: len(table.rows_shown) != c, "c")
        for n in range(repeats):
            table.cursor_row = n
            await pilot.pause()
            label = "dashboard: open another incident (enter)" if n else "dashboard: open an incident, first (enter)"
            await press(label, "enter", lambda i=table.rows_shown[n].id: incident_shown(i))
            screen: Any = app.screen
            tasks = screen.query_one("#tasks")
            await pilot.pause()
            before = screen.view["seq"]
            await press("incident: tick a task (space)", "space",
                        lambda b=before: screen.view["seq"] != b and tasks.tasks != {}, " ")
            first = " first time" if n == 0 else ""
            await press(f"incident: timeline pane{first} (2)", "2", loaded(screen, "timeline"), "2")
            await press(f"incident: obligations pane{first} (3)", "3",
                        loaded(screen, "obligations"), "3")
            await press(f"incident: notices pane{first} (4)", "4", loaded(screen, "notices"), "4")
            await press("incident: back to work pane (1)", "1", lambda: screen.active == "work", "1")
            await press("incident: back to the dashboard (escape)", "escape", lambda: app.screen is dashboard)
    return results


async def cold_open(db: Path) -> float:
    """Milliseconds to open the first incident with nothing loaded ahead: a key pressed the
    moment the dashboard is complete, in an app that does not load ahead (run in a process
    of its own, with nothing else imported)."""
    from textual import events

    from ir.clock import VirtualClock
    from ir.tui import make_app
    from ir.tui.screens.dashboard import DashboardScreen

    _count_redraws()
    app = make_app(db, clock=VirtualClock(START), actor="bench", lang="en", warm_up=False)
    async with app.run_test(size=(80, 24)):
        while not (isinstance(app.screen, DashboardScreen) and app.screen.complete):
            await asyncio.sleep(0.01)
        await _drawn(app)
        start, renders = time.perf_counter(), _redraws()
        app._driver.send_message(events.Key("enter", None))
        while not (type(app.screen).__name__ == "IncidentScreen" and app.screen.view is not None):  # type: ignore[attr-defined]
            await asyncio.sleep(0.001)
        await _drawn(app, renders)
        return (time.perf_counter() - start) * 1000


# ------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="launches of each app (median reported)")
    parser.add_argument("--presses", type=int, default=5, help="times each key is pressed (median reported)")
    parser.add_argument("--db", type=Path, help="reuse (or create) this workspace instead of a temporary one")
    parser.add_argument("--child", choices=["baseline", "ir", "cold"], help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "baseline":
        child_baseline(args.t0)
        return 0
    if args.child == "ir":
        child_ir(args.t0, str(args.db))
        return 0
    if args.child == "cold":
        print(f"{asyncio.run(cold_open(args.db)):.1f}")
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.db"
        if not db.exists():
            started = time.perf_counter()
            build_workspace(db, args.incidents, args.events)
            print(f"built the workspace in {time.perf_counter() - started:.0f} s")
        incidents, events = count_events(db)
        print(f"workspace: {incidents:,} incidents, {events:,} events")

        base: list[dict[str, float]] = []
        ours: list[dict[str, float]] = []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            base.append(time_launch("baseline", None))
            ours.append(time_launch("ir", db))

        def median(runs: list[dict[str, float]], point: str) -> float:
            return statistics.median(r[point] for r in runs)

        b_exit, o_exit = median(base, "exit"), median(ours, "exit")
        print(f"\nlaunch, median of {args.runs} runs, seconds from spawn:")
        print(f"  {'':34s} {'imported':>9s} {'listed':>8s} {'full screen':>12s} {'exit':>7s}")
        print(f"  {'baseline (header, table, footer)':34s} {median(base, 'imported'):9.3f} {'':8s} "
              f"{median(base, 'first-screen'):12.3f} {b_exit:7.3f}")
        print(f"  {f'ir dashboard, {incidents:,} incidents':34s} {median(ours, 'imported'):9.3f} "
              f"{median(ours, 'listed'):8.3f} {median(ours, 'first-screen'):12.3f} {o_exit:7.3f}")
        full = median(ours, "first-screen") / median(base, "first-screen")
        print(f"  ratio to the first full screen: {full:.2f}x (target: within 2x); to exit: {o_exit / b_exit:.2f}x")

        # The key presses change the workspace (they tick tasks): press them on a copy.
        pressed = Path(tmp) / "pressed.db"
        shutil.copyfile(db, pressed)
        latencies = asyncio.run(key_latencies(pressed, repeats=args.presses))
        # In a new process, so that nothing is imported yet.
        cold = subprocess.run([sys.executable, __file__, "--child", "cold", "--db", str(pressed)],
                              capture_output=True, text=True, check=True, timeout=120).stdout.split()[-1]
        latencies["dashboard: open an incident, nothing loaded ahead"] = [(float(cold), 0.0)]
        print("\nkey press to updated screen, ms (wall: median and worst; CPU: median):")
        for label, values in latencies.items():
            wall = [w for w, _ in values]
            cpu = statistics.median(c for _, c in values)
            print(f"  {label:48s} {statistics.median(wall):7.1f}  {max(wall):7.1f}  {cpu:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
