"""The app keeps to its layer: services only, no SQL, no wall clock, Textual only when wanted."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ir.tui

TUI = Path(ir.tui.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_app_never_imports_the_store_or_sqlite_utils() -> None:
    offenders = {
        str(path.relative_to(TUI)): sorted(n for n in _imports(path) if n.startswith(("ir.store", "sqlite_utils", "sqlite3")))
        for path in TUI.rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_app_reads_time_only_from_the_injected_clock() -> None:
    calls = []
    for path in TUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today", "time", "monotonic"):
                owner = ast.unparse(node.value)
                if owner.split(".")[-1] in ("datetime", "date", "time"):
                    calls.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert calls == []


def test_commands_do_not_load_textual() -> None:
    code = "import sys, ir.cli; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_the_stylesheet_ships_inside_the_package() -> None:
    from importlib.resources import files

    assert "#incident-bar" in (files("ir.tui") / "app.tcss").read_text(encoding="utf-8")
