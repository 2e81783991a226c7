"""The one wiring point: a workspace and the services that act on it.

The command line and the terminal UI both construct a :class:`Workspace` and call its
services; neither touches the store directly.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from ir.audit import AuditService
from ir.clock import Clock, SystemClock
from ir.content.paths import ContentPaths
from ir.engine.catalog import PlaybookCatalog
from ir.engine.profile import ProfileService
from ir.engine.service import IncidentService, Reactor
from ir.engine.state import IncidentState
from ir.i18n import locale_from_env, normalise_locale
# Timeline text for every capability's events. These modules are light, unlike the services,
# so a process that never uses a capability can still read its events.
from ir.drills import describe as _drill_timeline  # noqa: F401
from ir.notices import describe as _notice_timeline  # noqa: F401
from ir.obligations import describe as _duty_timeline  # noqa: F401
from ir.store import Store
from ir.store.db import database_error_message

if TYPE_CHECKING:
    from ir.drills.service import DrillService
    from ir.engine.commands import NewEvent
    from ir.engine.service import ReactorContext
    from ir.notices.keyservice import KeyService
    from ir.notices.service import NoticeService
    from ir.notices.subjects import SubjectService
    from ir.obligations.service import ObligationService

__all__ = ["Workspace", "database_error_message", "default_actor", "default_db_path"]

_DUTY_KINDS = frozenset({"incident.opened", "decision.answered", "fact.set", "obligation.fulfilled"})
"""Event kinds that can change an incident's notification duties."""

ClockProvider = Callable[[IncidentState], "Clock | None"]
"""Gives the clock of an incident that does not run on the wall clock (e.g. a drill)."""


def default_db_path(environ: dict[str, str] | None = None) -> Path:
    """``IR_DB`` if set, else ``workspace.db`` in the user's data folder."""
    env = os.environ if environ is None else environ
    if env.get("IR_DB"):
        return Path(env["IR_DB"]).expanduser()
    return Path(platformdirs.user_data_dir("ir", appauthor=False)) / "workspace.db"


def default_actor(environ: dict[str, str] | None = None) -> str:
    """``IR_ACTOR`` if set, else the operating-system user name."""
    env = os.environ if environ is None else environ
    if env.get("IR_ACTOR", "").strip():
        return env["IR_ACTOR"].strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Workspace:
    """An open workspace with its services.

    Args:
        path: the workspace database (default: :func:`default_db_path`).
        clock: the wall clock (a virtual one in tests).
        actor: who is acting (default: :func:`default_actor`).
        lang: display language (default: from ``IR_LANG`` / the system locale).
        create: create the workspace if it does not exist.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Clock | None = None,
        actor: str | None = None,
        lang: str | None = None,
        create: bool = True,
    ) -> None:
        self.store = Store(path or default_db_path(), create=create)
        self.clock: Clock = clock or SystemClock()
        self.actor = (actor or default_actor()).strip() or "unknown"
        self.lang = normalise_locale(lang) if lang else locale_from_env()
        self.content = ContentPaths.from_env(self.store.path.parent)
        self.reactors: list[Reactor] = [self._reassess_duties]
        self.clock_providers: list[ClockProvider] = [self._drill_clock]
        self.playbooks = PlaybookCatalog(self.content)
        self.profile = ProfileService(self)
        self.incidents = IncidentService(self)
        self.audit = AuditService(self)
        self.audit.bundle_parts.append(self._notice_evidence)

    # Capability services are built on first use: a command that never touches drills or
    # notices does not pay for importing them (every CLI call and the app's launch would).

    @cached_property
    def obligations(self) -> ObligationService:
        """Notification duties: jurisdiction rules and deadline clocks."""
        from ir.obligations.service import ObligationService

        return ObligationService(self)

    @cached_property
    def drills(self) -> DrillService:
        """Exercises: scenarios, injects, scoring, scheduling."""
        from ir.drills.service import DrillService

        return DrillService(self)

    @cached_property
    def subjects(self) -> SubjectService:
        """The people affected by an incident."""
        from ir.notices.subjects import SubjectService

        return SubjectService(self)

    @cached_property
    def notices(self) -> NoticeService:
        """Notice templates, rendering and delivery."""
        from ir.notices.service import NoticeService

        return NoticeService(self)

    @cached_property
    def keys(self) -> KeyService:
        """The data key that seals affected people's personal fields (kept outside the workspace)."""
        from ir.notices.keyservice import KeyService

        return KeyService(self)

    def _notice_evidence(self, incident_id: str) -> dict[str, str]:
        """Evidence bundle part: the hashes of every notice rendered and sent (no personal data)."""
        from ir.notices.evidence import bundle_files

        return bundle_files(self, incident_id)

    def _reassess_duties(self, ctx: ReactorContext) -> list[NewEvent]:
        """Reactor: record an incident's duties again after events that may change them."""
        if not any(ev.kind in _DUTY_KINDS for ev in ctx.events):
            return []
        return self.obligations.react(ctx)

    def _drill_clock(self, state: IncidentState) -> Clock | None:
        """Clock provider: a drill's scenario clock (live incidents use the wall clock)."""
        if state.mode != "drill":
            return None
        # The run's record says where its clock is, without importing the drills capability
        # (the dashboard lists drills at launch); the drills service, once built, puts its
        # provider first for the drills it steps.
        from ir.drills.clock import recorded_clock

        return recorded_clock(self, state)

    def clock_for(self, state: IncidentState) -> Clock:
        """The clock an incident's events are stamped with: a drill's own, else the wall clock."""
        for provider in self.clock_providers:
            clock = provider(state)
            if clock is not None:
                return clock
        return self.clock

    def close(self) -> None:
        """Close the workspace's database connection."""
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
