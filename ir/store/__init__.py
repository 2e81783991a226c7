"""The workspace store: the only package that writes SQL.

Importing it registers every store module's migrations and projectors; later
capabilities add a module here with their own tables and event kinds.
"""

from ir.store import events, incidents, profile, rebuild  # noqa: F401  (registration)
from ir.store import drills  # noqa: F401,E402  (registration)
from ir.store import obligations  # noqa: F401,E402  (registration)
from ir.store import subjects  # noqa: F401,E402  (registration)
from ir.store import notices  # noqa: F401,E402  (registration)
from ir.store.chain import GENESIS, ChainProblem, Event, canonical_json
from ir.store.db import Store
from ir.store.events import VerifyReport
from ir.store.rebuild import RebuildReport

__all__ = ["GENESIS", "ChainProblem", "Event", "RebuildReport", "Store", "VerifyReport", "canonical_json"]
