"""Hostile files through every content loader: refused at once, in one line that names the file.

Each kind of hostile file (aliases that expand without bound, an oversize file, nesting that
would overflow the YAML composer's C stack, a million values, a Python tag, bad bytes, a
directory, a FIFO, a device, a link loop, numbers no column can hold) goes through each
entry point: playbooks, scenarios, response scripts, rule files and the ``--facts`` file, in
the library and through the command line. Nothing is written to the workspace.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ir.content.yamlfile import MAX_BYTES, MAX_DEPTH, MAX_VALUES
from ir.drills.scenario import load_scenario
from ir.drills.script import load_script
from ir.engine.playbook import load_playbook
from ir.errors import ContentError, ContentErrors
from ir.obligations.book import load_rule_file
from ir.workspace import Workspace
from tests.conftest import IrRunner, ir_process

QUICK = 2.0
"""Seconds any refusal may take (the slowest, a file of too many values, takes well under one)."""


def _write(text: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return make


def _laughs(path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _oversize(path: Path) -> None:
    # Sparse: a thousand times the limit costs no disk, and reading it would cost gigabytes.
    with path.open("wb") as fh:
        fh.truncate(MAX_BYTES * 1000)


def _directory(path: Path) -> None:
    path.mkdir()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _link_loop(path: Path) -> None:
    other = path.with_name("other-" + path.name)
    path.symlink_to(other.name)
    other.symlink_to(path.name)


HOSTILE: dict[str, tuple[Callable[[Path], None], str]] = {
    "billion laughs": (_laughs, "aliases"),
    "oversize": (_oversize, f"the limit is {MAX_BYTES}"),
    "deep flow nesting": (_write("a: " + "[" * 200_000 + "]" * 200_000), f"nested deeper than {MAX_DEPTH}"),
    "deep block nesting": (_write("- " * 300_000 + "x\n"), f"nested deeper than {MAX_DEPTH}"),
    "deep mappings": (_write("a: " + "{a: " * 100_000 + "1" + "}" * 100_000), f"nested deeper than {MAX_DEPTH}"),
    "too many values": (_write("a: [" + "1," * (MAX_VALUES * 4) + "1]\n"), f"the limit is {MAX_VALUES}"),
    "python tag": (_write("a: !!python/object/apply:os.system ['touch PWNED']\n"), "unsupported YAML tag"),
    "non-UTF-8": (_write(b"id: \xff\xfe\n"), "not UTF-8"),
    "NUL byte": (_write(b"id: a\x00b\n"), "not allowed in YAML"),
    "directory": (_directory, "is a directory"),
    "FIFO": (_fifo, "a FIFO"),
    "device": (_device, "a device"),
    "link loop": (_link_loop, "symbolic links"),
    "huge integer": (_write("a: " + "9" * 5000 + "\n"), "number too long"),
    "huge hex integer": (_write("a: 0x" + "f" * 400 + "\n"), "out of range"),
}
"""name -> (how to make it at a path, what the refusal says)."""

SEGFAULT_KINDS = ("deep flow nesting", "deep block nesting", "deep mappings")
"""Before the loader read the event stream first, these killed the process (SIGSEGV)."""

JSON_SAYS = {"billion laughs": "JSON syntax error", "python tag": "JSON syntax error", "NUL byte": "JSON syntax error",
             "huge integer": "JSON syntax error", "huge hex integer": "JSON syntax error",
             "too many values": "JSON syntax error"}
"""A ``.json`` facts file is read as JSON first: YAML-only syntax is a JSON error there."""


def hostile(tmp_path: Path, kind: str, suffix: str = ".yaml") -> Path:
    """Make the hostile file ``kind`` in its own folder."""
    folder = tmp_path / "hostile"
    folder.mkdir(exist_ok=True)
    path = folder / f"evil-{kind.replace(' ', '-').lower()}{suffix}"
    HOSTILE[kind][0](path)
    return path


def refused(call: Callable[[], Any], name: str, says: str) -> None:
    """``call`` is refused quickly, every problem one line naming ``name``, the first saying ``says``."""
    began = time.monotonic()
    with pytest.raises((ContentError, ContentErrors)) as info:
        call()
    elapsed = time.monotonic() - began
    assert elapsed < QUICK, f"took {elapsed:.1f}s"
    errors = info.value.errors if isinstance(info.value, ContentErrors) else [info.value]
    for error in errors:
        assert "\n" not in str(error)
        assert name in str(error).split(":")[0], str(error)
    assert says in str(errors[0]), str(errors[0])


def events_of(db: Path) -> list[tuple[Any, ...]]:
    """Every row of the event log, to compare before and after a refused command."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


def one_line_errors(stderr: str, name: str) -> None:
    """stderr holds only ``ir: error:`` lines, each naming the file."""
    lines = stderr.splitlines()
    assert lines, "no error was printed"
    for line in lines:
        assert line.startswith("ir: error: "), stderr
        assert name in line, stderr
    assert "Traceback" not in stderr


@pytest.fixture
def shipped(ws: Workspace) -> Any:
    """The shipped open-bucket-reporter scenario and its playbook."""
    return ws.drills.scenarios.get("open-bucket-reporter")


# --------------------------------------------------------------------------- the loaders


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", [k for k in HOSTILE if k not in SEGFAULT_KINDS])
def test_every_loader_refuses_hostile_files_in_one_line(ws: Workspace, tmp_path: Path, shipped: Any, kind: str) -> None:
    path = hostile(tmp_path, kind)
    says = HOSTILE[kind][1]
    scenario, pb = shipped
    refused(lambda: load_playbook(path, path.name), path.name, says)
    refused(lambda: load_scenario(path, ws.playbooks, path.name), path.name, says)
    refused(lambda: load_script(path, scenario, pb, path.name), path.name, says)
    refused(lambda: load_rule_file(path), path.name, says)
    refused(lambda: ws.obligations.evaluate_file(path), path.name, says)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", [k for k in HOSTILE if k not in SEGFAULT_KINDS])
def test_a_hostile_json_facts_file_is_refused_in_one_line(ws: Workspace, tmp_path: Path, kind: str) -> None:
    path = hostile(tmp_path, kind, ".json")
    refused(lambda: ws.obligations.evaluate_file(path), path.name, JSON_SAYS.get(kind, HOSTILE[kind][1]))


def test_json_nested_past_the_recursion_limit_is_refused(ws: Workspace, tmp_path: Path) -> None:
    # json.loads raises RecursionError here, which once escaped as an internal error (exit 1).
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    refused(lambda: ws.obligations.evaluate_file(path), "deep.json", f"nested deeper than {MAX_DEPTH}")


def test_a_json_facts_file_of_too_many_values_is_refused(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text('{"subjects": {"CN": 1}, "a": [' + "1," * (MAX_VALUES * 4) + "1]}", encoding="utf-8")
    refused(lambda: ws.obligations.evaluate_file(path), "many.json", f"the limit is {MAX_VALUES}")


def _lying_file() -> Path | None:
    """A regular file whose size says 0 but which holds more than the limit (procfs), if any."""
    path = Path("/proc/kallsyms")
    try:
        with path.open("rb") as fh:
            return path if path.stat().st_size == 0 and len(fh.read(MAX_BYTES + 1)) > MAX_BYTES else None
    except OSError:
        return None


@pytest.mark.skipif(_lying_file() is None, reason="needs a procfs file larger than the limit")
def test_a_file_larger_than_its_size_says_is_read_only_to_the_limit(tmp_path: Path) -> None:
    # Like a file that grows after its size was checked: the read itself stops past the limit.
    link = tmp_path / "lying.yaml"
    link.symlink_to(_lying_file())
    refused(lambda: load_playbook(link, "lying.yaml"), "lying.yaml", f"the limit is {MAX_BYTES}")


# --------------------------------------------------------------------------- the command line


def _commands(path: Path) -> list[list[str]]:
    return [
        ["playbook", "validate", str(path)],
        ["drill", "validate", str(path)],
        ["drill", "validate", "open-bucket-reporter", "--script", str(path)],
        ["drill", "run", str(path), "--instant"],
        ["drill", "run", "open-bucket-reporter", "--instant", "--script", str(path)],
        ["obligations", "--facts", str(path)],
    ]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", [k for k in HOSTILE if k not in SEGFAULT_KINDS])
def test_commands_refuse_hostile_files_and_change_nothing(
    ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, kind: str
) -> None:
    ws.incidents.open("personal-data-leak", title="bystander")
    before = events_of(db_path)
    path = hostile(tmp_path, kind)
    for command in _commands(path):
        if kind == "directory" and command[0] == "obligations":
            continue  # click's own check for --facts prints usage: see the test below
        began = time.monotonic()
        result = ir(*command)
        assert time.monotonic() - began < QUICK + 3, command
        assert result.exit_code == 2, (command, result.exit_code, result.stderr)
        one_line_errors(result.stderr, path.name)
        assert events_of(db_path) == before, command


def test_a_directory_as_the_facts_file_gives_one_line(ir: IrRunner, tmp_path: Path) -> None:
    path = hostile(tmp_path, "directory")
    result = ir("obligations", "--facts", str(path))
    assert result.exit_code == 2
    one_line_errors(result.stderr, path.name)


@pytest.mark.parametrize("kind", SEGFAULT_KINDS)
def test_nesting_that_overflowed_the_composer_is_refused_by_every_command(ws: Workspace, db_path: Path, tmp_path: Path, kind: str) -> None:
    # A separate process: this once ended in SIGSEGV, which would take a test runner down with it.
    ws.incidents.open("personal-data-leak", title="bystander")
    before = events_of(db_path)
    path = hostile(tmp_path, kind)
    for command in (_commands(path)[0], _commands(path)[4], _commands(path)[5]):
        result = ir_process(*command, db=db_path, timeout=30)
        assert result.returncode == 2, (command, result.returncode, result.stderr)
        one_line_errors(result.stderr, path.name)
        assert HOSTILE[kind][1] in result.stderr
    assert events_of(db_path) == before


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["billion laughs", "deep flow nesting", "too many values", "python tag", "non-UTF-8", "huge integer"])
def test_a_hostile_rule_file_in_the_workspace_is_named_and_nothing_is_evaluated(
    ws: Workspace, db_path: Path, tmp_path: Path, kind: str
) -> None:
    rules = db_path.parent / "rules"
    rules.mkdir()
    HOSTILE[kind][0](rules / "evil.yaml")
    facts = tmp_path / "facts.yaml"
    facts.write_text("aware_at: 2026-11-20T09:00:00+08:00\nsubjects: {CN: 10}\n", encoding="utf-8")
    result = ir_process("obligations", "--facts", str(facts), db=db_path, timeout=30)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    one_line_errors(result.stderr, "evil.yaml")
    assert HOSTILE[kind][1] in result.stderr


def test_a_bad_file_among_the_scenarios_does_not_hide_the_good_ones(ws: Workspace, ir: IrRunner) -> None:
    folder = ws.store.path.parent / "scenarios"
    folder.mkdir()
    (folder / "bad.yaml").write_bytes(b"id: \xff\n")
    listed = ir("drill", "scenarios")
    assert listed.exit_code == 0, listed.stderr
    assert "open-bucket-reporter" in listed.stdout
    assert listed.stderr.strip().splitlines() == [f"ir: invalid scenario: {folder / 'bad.yaml'}: not UTF-8 text (byte 4)"]
    checked = ir("drill", "validate")
    assert checked.exit_code == 2
    assert "ok: " in checked.stdout and "open-bucket-reporter" in checked.stdout  # the rest were still checked
    one_line_errors(checked.stderr, "bad.yaml")


def test_a_bad_file_among_the_playbooks_does_not_hide_the_good_ones(ws: Workspace, ir: IrRunner) -> None:
    folder = ws.store.path.parent / "playbooks"
    folder.mkdir()
    (folder / "bad.yaml").write_bytes(b"a: \x00\n")
    listed = ir("playbook", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "personal-data-leak" in listed.stdout
    assert "bad.yaml" in listed.stderr and len(listed.stderr.strip().splitlines()) == 1


def test_a_link_loop_named_as_a_content_folder_is_not_a_folder(ws: Workspace, db_path: Path, tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    result = ir_process("drill", "scenarios", db=db_path, env={"IR_SCENARIOS_PATH": str(loop)})
    assert result.returncode == 0, result.stderr
    assert "open-bucket-reporter" in result.stdout
