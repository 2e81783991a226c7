"""Finding playbooks: the workspace's own folder first, then the shipped ones.

A playbook's file is named after its id (``personal-data-leak.yaml``); a workspace file
with the same name overrides the shipped playbook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ir.content.cache import cached
from ir.content.paths import ContentPaths
from ir.errors import ContentError, ContentErrors, NotFound

if TYPE_CHECKING:
    from ir.engine.playbook import Playbook

SUFFIXES = (".yaml", ".yml")


def display_path(path: Path) -> str:
    """A path as short as it can be shown: relative to the current folder when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


@dataclass
class Entry:
    """A playbook file found on the search path (the first one wins for each id)."""

    id: str
    path: Path


class PlaybookCatalog:
    """Playbooks available to a workspace."""

    def __init__(self, paths: ContentPaths) -> None:
        self.paths = paths

    def entries(self) -> list[Entry]:
        """One entry per playbook id, highest-priority folder first, sorted by id."""
        found: dict[str, Entry] = {}
        for folder in self.paths.dirs("playbooks"):
            for path in sorted(folder.iterdir()):
                if path.suffix in SUFFIXES and path.is_file() and path.stem not in found:
                    found[path.stem] = Entry(path.stem, path)
        return [found[k] for k in sorted(found)]

    def load(self, path: Path) -> Playbook:
        """Load one file (cached while it is unchanged); its id must match its file name.

        Raises:
            ContentErrors: the file is not a valid playbook.
        """
        shown = display_path(path)

        def load() -> Playbook:
            from ir.engine.playbook import load_playbook  # the models, when a file is first read

            playbook = load_playbook(path, shown)
            if playbook.id != path.stem:
                raise ContentErrors([ContentError(shown, 1, "id", f"id '{playbook.id}' must match the file name '{path.stem}'")])
            return playbook

        return cached("playbook", path, shown, load)

    def get(self, playbook_id: str) -> Playbook:
        """The playbook with this id.

        Raises:
            NotFound: no such playbook on the search path.
            ContentErrors: the file exists but is invalid.
        """
        for entry in self.entries():
            if entry.id == playbook_id:
                return self.load(entry.path)
        known = ", ".join(e.id for e in self.entries()) or "none"
        raise NotFound(f"no playbook '{playbook_id}' (available: {known})")

    def all(self) -> tuple[list[Playbook], list[ContentError]]:
        """Every valid playbook, and the problems of the invalid ones."""
        good: list[Playbook] = []
        bad: list[ContentError] = []
        for entry in self.entries():
            try:
                good.append(self.load(entry.path))
            except ContentErrors as exc:
                bad.extend(exc.errors)
        return good, bad
