"""Where content is found: the workspace's own folders first, then what ir ships with."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import ir

KINDS = ("playbooks", "scenarios", "notice_templates", "rules")
"""Kinds of content, each a folder name."""


def shipped_dir(kind: str) -> Path:
    """The folder holding the content ir ships for ``kind``.

    An installed wheel carries it inside the package (``ir/_content/<kind>``); a source
    checkout (and an editable install) has it at the repository's top level, except
    jurisdiction rules, which live inside the package (``ir/obligations/rules``).
    """
    package = Path(ir.__file__).resolve().parent
    if kind == "rules":
        return package / "obligations" / "rules"
    bundled = package / "_content" / kind
    if bundled.is_dir():
        return bundled
    return package.parent / kind


@dataclass
class ContentPaths:
    """Ordered folders to search for each kind of content; earlier folders win.

    Attributes:
        extra: folders named by ``IR_<KIND>_PATH`` variables (``os.pathsep``-separated).
        workspace_dir: the folder holding the workspace database; its ``playbooks/`` etc.
            add to or override the shipped content.
    """

    workspace_dir: Path | None = None
    extra: dict[str, list[Path]] = field(default_factory=dict)

    @classmethod
    def from_env(cls, workspace_dir: Path | None, environ: dict[str, str] | None = None) -> ContentPaths:
        """Build the search path from the environment and the workspace folder."""
        env = os.environ if environ is None else environ
        extra: dict[str, list[Path]] = {}
        for kind in KINDS:
            value = env.get(f"IR_{kind.upper()}_PATH", "")
            extra[kind] = [Path(p).expanduser() for p in value.split(os.pathsep) if p]
        return cls(workspace_dir=workspace_dir, extra=extra)

    def dirs(self, kind: str) -> list[Path]:
        """Existing folders for ``kind``, highest priority first, without duplicates."""
        candidates = list(self.extra.get(kind, []))
        if self.workspace_dir is not None:
            candidates.append(self.workspace_dir / kind)
        candidates.append(shipped_dir(kind))
        seen: set[Path] = set()
        out: list[Path] = []
        for path in candidates:
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError):  # a symbolic link loop named as a folder: not a folder
                continue
            if resolved not in seen and resolved.is_dir():
                seen.add(resolved)
                out.append(path)
        return out
