"""Content files are parsed once per process while unchanged, and read again once changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ir.content import cache
from ir.errors import ContentErrors
from ir.workspace import Workspace


def test_a_file_is_parsed_once_and_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "thing.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    calls: list[str] = []

    def load() -> str:
        calls.append("x")
        return path.read_text(encoding="utf-8")

    assert cache.cached("test", path, "thing.yaml", load) == "a: 1\n"
    assert cache.cached("test", path, "thing.yaml", load) == "a: 1\n"
    assert len(calls) == 1
    path.write_text("a: 22\n", encoding="utf-8")  # another size
    assert cache.cached("test", path, "thing.yaml", load) == "a: 22\n"
    replacement = tmp_path / "new.yaml"
    replacement.write_text("a: 33\n", encoding="utf-8")  # same size and time, another file put in its place
    stat = path.stat()
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    replacement.replace(path)
    assert cache.cached("test", path, "thing.yaml", load) == "a: 33\n"
    assert len(calls) == 3
    assert cache.cached("other-kind", path, "thing.yaml", load) == "a: 33\n" and len(calls) == 4


def test_a_file_that_fails_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("x", encoding="utf-8")
    attempts: list[int] = []

    def load() -> str:
        attempts.append(1)
        raise ValueError("broken")

    for _ in range(2):
        with pytest.raises(ValueError):
            cache.cached("test", path, "bad.yaml", load)
    assert len(attempts) == 2


def test_workspaces_in_one_process_share_parsed_content(tmp_path: Path) -> None:
    first = Workspace(tmp_path / "a.db")
    second = Workspace(tmp_path / "a.db")
    try:
        assert first.playbooks.get("personal-data-leak") is second.playbooks.get("personal-data-leak")
        one = first.notices.catalog.get("gdpr-individual-en")
        assert one is second.notices.catalog.get("gdpr-individual-en")
        assert first.drills.scenarios.get("open-bucket-reporter")[0] is second.drills.scenarios.get("open-bucket-reporter")[0]
    finally:
        first.close()
        second.close()


def test_a_workspace_playbook_edited_while_running_is_seen(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws.db")
    try:
        folder = tmp_path / "playbooks"
        folder.mkdir()
        shipped = ws.playbooks.entries()
        source = next(e.path for e in shipped if e.id == "personal-data-leak").read_text(encoding="utf-8")
        own = folder / "personal-data-leak.yaml"
        own.write_text(source.replace("en: Personal data leak", "en: EDITED", 1), encoding="utf-8")
        assert ws.playbooks.get("personal-data-leak").title["en"] == "EDITED"
        own.write_text(source.replace("en: Personal data leak", "en: AGAIN AND LONGER", 1), encoding="utf-8")
        assert ws.playbooks.get("personal-data-leak").title["en"] == "AGAIN AND LONGER"
        own.write_text("id: [", encoding="utf-8")
        with pytest.raises(ContentErrors):
            ws.playbooks.get("personal-data-leak")
    finally:
        ws.close()
