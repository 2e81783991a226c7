"""The content loader: positions, YAML 1.2 scalars, and refusal of unsafe input."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.content.yamlfile import MAX_BYTES, MAX_DEPTH, load_document, parse_document
from ir.errors import ContentError


def test_lines_are_recorded_for_nested_values() -> None:
    doc = parse_document("a: 1\nphases:\n  - id: x\n    tasks:\n      - id: t\n        role: dpo\n", "p.yaml")
    assert doc.data["phases"][0]["tasks"][0]["role"] == "dpo"
    assert doc.line_of(("phases", 0, "tasks", 0, "role")) == 6
    assert doc.line_of(("phases", 0, "tasks", 0, "missing_key")) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v: no", "no"),
        ("v: yes", "yes"),
        ("v: off", "off"),
        ("v: 01:30", "01:30"),
        ("v: +2d04:00", "+2d04:00"),
        ("v: 2026-01-01", "2026-01-01"),
        ("v: true", True),
        ("v: False", False),
        ("v: 12", 12),
        ("v: 1.5", 1.5),
        ("v: ~", None),
        ("v: 0x10", 16),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(text: str, expected: object) -> None:
    assert parse_document(text, "f.yaml").data["v"] == expected


def test_aliases_are_refused() -> None:
    with pytest.raises(ContentError, match=r"f\.yaml:3: b: YAML aliases"):
        parse_document("a: &x\n  k: 1\nb: *x\n", "f.yaml")


def test_duplicate_keys_are_refused_with_their_line() -> None:
    with pytest.raises(ContentError, match=r"f\.yaml:3: phases\[0\]\.id: duplicate key"):
        parse_document("phases:\n  - id: a\n    id: b\n", "f.yaml")


def test_custom_tags_are_refused() -> None:
    with pytest.raises(ContentError, match="unsupported YAML tag"):
        parse_document("a: !!python/object:os.system ls\n", "f.yaml")


def test_deep_nesting_is_refused() -> None:
    text = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(ContentError, match="nested deeper"):
        parse_document(text, "f.yaml")


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(ContentError, match=r"f\.yaml:2: YAML syntax error"):
        parse_document("a: [1, 2\nb: 3\n", "f.yaml")


def test_oversize_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (MAX_BYTES + 1), encoding="utf-8")
    with pytest.raises(ContentError, match="the limit is"):
        load_document(big, "big.yaml")


def test_missing_and_non_utf8_files_give_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="nope.yaml: no such file"):
        load_document(tmp_path / "nope.yaml", "nope.yaml")
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("标题: 泄露".encode("gb18030"))
    with pytest.raises(ContentError, match="not UTF-8"):
        load_document(bad, "gbk.yaml")


def test_utf8_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufefftitle: 个人信息泄露\n".encode())
    assert load_document(path).data == {"title": "个人信息泄露"}
