"""Fixtures for the terminal app: the real app on a real workspace file, driven by Pilot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ir.clock import VirtualClock
from ir.tui import IrApp, make_app


@pytest.fixture
def app_factory(db_path: Path, clock: VirtualClock) -> Callable[..., IrApp]:
    """Builds the app as the command line does, on the test workspace and virtual clock."""

    def build(
        *, actor: str = "alice", lang: str = "en", poll_seconds: float = 0.5, control_seconds: float = 1.0,
        warm_up: bool = True,
    ) -> IrApp:
        app = make_app(db_path, clock=clock, actor=actor, lang=lang, poll_seconds=poll_seconds,
                       control_seconds=control_seconds, warm_up=warm_up)
        # Pilot waits for every animation after each key; they are cosmetic, so skip them.
        app.animation_level = "none"
        return app

    return build
