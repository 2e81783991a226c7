"""Drill fixtures: the mini scenario in the workspace's own scenarios/ folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.workspace import Workspace
from tests.drills.helpers import write_scenario


@pytest.fixture
def mini(ws: Workspace) -> Path:
    """The mini scenario, available to ``ws`` as ``mini``."""
    return write_scenario(ws)
