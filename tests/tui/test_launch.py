"""A bare ``ir`` opens the app in a real terminal, on the workspace and as the person given."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from ir.workspace import Workspace

from .helpers import open_incident

REPO = Path(__file__).resolve().parents[2]


def _read_until(fd: int, needles: list[bytes], timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(n in seen for n in needles):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def _run_in_terminal(db: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "IR_LANG": "en", "IR_ACTOR": "tester"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ir", "--db", str(db), *args],
        stdin=slave, stdout=slave, stderr=slave, cwd=REPO, env=env, close_fds=True,
    )
    os.close(slave)
    return proc, master


def test_bare_ir_opens_the_dashboard_and_quits_on_ctrl_q(db_path: Path, ws: Workspace) -> None:
    incident = open_incident(ws, "Bucket exposed")
    proc, master = _run_in_terminal(db_path, "--as", "dora")
    try:
        screen = _read_until(master, [incident.encode(), b"dora"], timeout=30)
        assert incident.encode() in screen and b"Bucket exposed" in screen and b"dora" in screen
        os.write(master, b"\x11")  # ctrl+q
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_bare_ir_with_a_bad_language_is_an_error_not_a_crash(db_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ir", "--db", str(db_path), "--lang", "fr"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert result.returncode == 2
    assert "fr" in result.stderr and "Traceback" not in result.stderr


LAUNCH_PROBE = """
import asyncio, sys
from ir.tui import make_app
from ir.tui.screens.dashboard import DashboardScreen

# The launch alone: loading ahead starts once the full screen is drawn (see test_warm_up).
app = make_app(sys.argv[1], actor="tester", lang="en", warm_up=False)

async def until_full(pilot):
    while not (isinstance(app.screen, DashboardScreen) and app.screen.complete):
        await asyncio.sleep(0.01)
    heavy = ("pydantic", "yaml", "transitions", "sqlite_utils", "jinja2", "ir.obligations.engine")
    app.exit(sorted(m for m in heavy if m in sys.modules))

print(app.run(headless=True, size=(80, 24), auto_pilot=until_full))
"""


def test_the_dashboard_shows_in_full_without_the_heavy_libraries(ws: Workspace) -> None:
    """The first screen lists incidents, drills, phases and countdowns from the store: the
    playbook models (pydantic, YAML), the state machine, the schema tool, the template
    engine and the duty evaluator are imported when a step needs them, not at launch (see
    docs/PERFORMANCE.md)."""
    open_incident(ws)
    ws.drills.start("open-bucket-reporter", speed=60.0)
    out = subprocess.run([sys.executable, "-c", LAUNCH_PROBE, str(ws.store.path)], capture_output=True, text=True,
                         timeout=60, cwd=REPO, env={**os.environ, "IR_LANG": "en"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
