"""Shared fixtures: a real SQLite workspace in a temporary folder, a virtual clock, the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ir.cli import cli
from ir.clock import VirtualClock
from ir.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
START = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc)
"""The virtual clock's start in tests: 2026-11-20 09:00 in Beijing."""


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep tests away from the user's workspace, locale and content folders."""
    for var in list(os.environ):
        if var.startswith("IR_"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("IR_ACTOR", "tester")
    monkeypatch.setenv("IR_LANG", "en")
    monkeypatch.setenv("IR_DB", str(tmp_path / "default-workspace.db"))


@pytest.fixture
def clock() -> VirtualClock:
    """A virtual clock starting at :data:`START`."""
    return VirtualClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh workspace database."""
    return tmp_path / "ws.db"


@pytest.fixture
def ws(db_path: Path, clock: VirtualClock) -> Iterator[Workspace]:
    """An open workspace on a real SQLite file, acting as 'alice' on the virtual clock."""
    workspace = Workspace(db_path, clock=clock, actor="alice", lang="en")
    yield workspace
    workspace.close()


@dataclass
class Run:
    """The outcome of one ``ir`` invocation."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.stdout)


class IrRunner:
    """Runs the real ``ir`` entry point in-process (fast) against one workspace."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def __call__(self, *args: str, actor: str | None = None, now: str | None = None, input: str | None = None) -> Run:
        env = {"IR_NOW": now} if now else {}
        argv = ["--db", str(self.db_path)] + (["--as", actor] if actor else []) + list(args)
        result = CliRunner().invoke(cli, argv, env=env, input=input, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Run:
        """Run and assert exit 0."""
        run = self(*args, **kwargs)
        assert run.exit_code == 0, f"ir {' '.join(args)} exited {run.exit_code}: {run.stderr}"
        return run


@pytest.fixture
def ir(db_path: Path) -> IrRunner:
    """The ``ir`` command line on the test workspace."""
    return IrRunner(db_path)


def ir_process(*args: str, db: Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ir`` as a separate process (for crash, concurrency and entry-point tests)."""
    full_env = {**os.environ, "IR_ACTOR": "tester", "IR_LANG": "en", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ir", "--db", str(db), *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=REPO,
    )
