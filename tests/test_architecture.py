"""Layering rules, checked on the source: who may import what, and who may read the clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "ir"


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_content" not in p.parts)


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """Ids of nodes under `if TYPE_CHECKING:` (annotations only, no runtime import)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_blocks(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def area(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else path.stem


def uses(found: set[str], name: str) -> bool:
    return any(mod == name or mod.startswith(name + ".") for mod in found)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_layering(path: Path) -> None:
    found = imports_of(path)
    where = area(path)
    if where != "store":
        assert not uses(found, "sqlite3") and not uses(found, "sqlite_utils"), "only ir/store talks to SQLite"
    if where != "tui":
        assert not uses(found, "textual"), "only ir/tui imports textual"
    if where not in ("cli", "tui"):
        assert not uses(found, "click"), "the core does not import click"
    if where in ("cli", "tui"):
        assert not uses(found, "ir.store"), "the shells call services, not the store"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_only_the_clock_module_reads_the_wall_clock(path: Path) -> None:
    if path == PACKAGE / "clock.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            target = ast.unparse(node.func.value)
            assert not (name in ("now", "utcnow", "today") and target.split(".")[-1] in ("datetime", "date")), (
                f"{path.name}:{node.lineno} reads the wall clock; use the injected clock"
            )
            assert not (name == "time" and target == "time"), f"{path.name}:{node.lineno} reads time.time()"


def test_the_headless_core_does_not_load_textual() -> None:
    code = (
        "import sys, ir.workspace, ir.cli\n"
        "from ir.cli import cli\n"
        "assert 'textual' not in sys.modules, 'textual loaded'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_a_plain_command_does_not_load_unrelated_capabilities() -> None:
    """Start-up cost is paid by every command: only what the command uses is imported."""
    code = (
        "import sys\n"
        "from ir.cli import main\n"
        "try:\n"
        "    main(['--db', sys.argv[1], 'incident', 'list'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('ir.drills.service', 'ir.notices.service', 'ir.obligations.engine', 'apscheduler',"
        " 'jinja2', 'textual', 'transitions.extensions.diagrams') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", code, f"{tmp}/w.db"], check=True, cwd=REPO)
