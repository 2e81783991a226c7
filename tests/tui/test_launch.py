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
