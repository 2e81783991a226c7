"""Finding scenarios: ``IR_SCENARIOS_PATH``, the workspace's ``scenarios/`` folder, then the shipped ones.

A scenario's file is named after its id (``customer-db-ransom.yaml``); a file with the same
name earlier on the search path overrides it. Response scripts live beside them in
``scenarios/responses/<id>.yaml``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ir.content.cache import cached
from ir.content.paths import ContentPaths
from ir.drills.scenario import Scenario, load_scenario
from ir.engine.catalog import PlaybookCatalog, display_path
from ir.engine.playbook import Playbook
from ir.errors import ContentError, ContentErrors, NotFound

SUFFIXES = (".yaml", ".yml")

SCENARIO_ID = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
"""What a scenario id looks like (as the scenario schema checks it)."""


@dataclass
class Entry:
    """A scenario file found on the search path (the first one wins for each id)."""

    id: str
    path: Path


class ScenarioCatalog:
    """Scenarios available to a workspace."""

    def __init__(self, paths: ContentPaths, playbooks: PlaybookCatalog) -> None:
        self.paths = paths
        self.playbooks = playbooks

    def entries(self) -> list[Entry]:
        """One entry per scenario id, highest-priority folder first, sorted by id."""
        found: dict[str, Entry] = {}
        for folder in self.paths.dirs("scenarios"):
            for path in sorted(folder.iterdir()):
                if path.suffix in SUFFIXES and path.is_file() and path.stem not in found:
                    found[path.stem] = Entry(path.stem, path)
        return [found[k] for k in sorted(found)]

    def load(self, path: Path, *, check_name: bool = True) -> tuple[Scenario, Playbook]:
        """Load one file (cached while it is unchanged).

        Raises:
            ContentErrors: the file is not a valid scenario, or its id does not match its name.
        """
        shown = display_path(path)

        def load() -> tuple[Scenario, Playbook]:
            loaded = load_scenario(path, self.playbooks, shown)
            if check_name and loaded[0].id != path.stem:
                raise ContentErrors([ContentError(shown, 1, "id", f"id '{loaded[0].id}' must match the file name '{path.stem}'")])
            return loaded

        kind = "scenario" if check_name else "scenario-file"
        scenario, playbook = cached(kind, path, shown, load)
        # A scenario is checked against its playbook: if that file changed since, check again.
        try:
            current = self.playbooks.get(scenario.playbook)
        except (NotFound, ContentErrors):
            current = None
        if current is not playbook:
            scenario, playbook = load()
        return scenario, playbook

    def get(self, ref: str) -> tuple[Scenario, Playbook]:
        """The scenario with this id, or in this file.

        Raises:
            NotFound: no such scenario on the search path, and no such file.
            ContentErrors: the file exists but is invalid.
        """
        for entry in self.entries():
            if entry.id == ref:
                return self.load(entry.path)
        path = Path(ref).expanduser()
        if path.suffix in SUFFIXES:
            if not os.path.lexists(path):
                raise NotFound(f"no scenario file {ref}")
            # Something is there: a directory, a FIFO or a link loop is refused by the loader,
            # which says what it is.
            return self.load(path, check_name=False)
        known = ", ".join(e.id for e in self.entries()) or "none"
        raise NotFound(f"no scenario '{ref}' (available: {known})")

    def script_for(self, scenario_id: str) -> Path | None:
        """The response script shipped or kept beside a scenario, if there is one."""
        if not SCENARIO_ID.match(scenario_id):
            return None  # the id becomes a file name: "../x" would leave the responses folder
        for folder in self.paths.dirs("scenarios"):
            for suffix in SUFFIXES:
                candidate = folder / "responses" / f"{scenario_id}{suffix}"
                if candidate.is_file():
                    return candidate
        return None

    def all(self) -> tuple[list[Scenario], list[ContentError]]:
        """Every valid scenario, and the problems of the invalid ones."""
        good: list[Scenario] = []
        bad: list[ContentError] = []
        for entry in self.entries():
            try:
                good.append(self.load(entry.path)[0])
            except ContentErrors as exc:
                bad.extend(exc.errors)
        return good, bad
