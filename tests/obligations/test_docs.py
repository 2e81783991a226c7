"""docs/obligations.md stays true: its example loads and it names every fact, field and rule."""

from __future__ import annotations

import re
from pathlib import Path

from ir.content.paths import shipped_dir
from ir.obligations.book import load_book
from ir.obligations.engine import Obligation
from ir.obligations.vocabulary import DATA_CATEGORIES, FACTS, FIELDS
from tests.conftest import REPO
from tests.obligations.helpers import shipped_book

DOC = (REPO / "docs" / "obligations.md").read_text(encoding="utf-8")


def example() -> str:
    section = DOC.split("## A complete example", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "the complete example has no yaml block"
    return match.group(1)


def test_the_complete_example_is_the_shipped_california_file_and_loads(tmp_path: Path) -> None:
    shipped = (shipped_dir("rules") / "us-ca.yaml").read_text(encoding="utf-8")
    assert example() == shipped
    path = tmp_path / "us-ca.yaml"
    path.write_text(example(), encoding="utf-8")
    book = load_book([path])
    assert [r.id for r in book.rules] == ["us-ca-ag", "us-ca-individuals"]


def test_every_fact_category_field_and_rule_is_documented() -> None:
    for name in [*FACTS, *DATA_CATEGORIES, *FIELDS, *shipped_book().by_id]:
        assert f"`{name}`" in DOC, f"{name} is not in docs/obligations.md"


def test_every_json_key_is_documented() -> None:
    extras = ["status", "fulfilled_at", "fulfilled_by", "fulfil_note", "waived_reason", "waived_by", "waived_at",
              "remaining_seconds", "remaining_text", "past_target"]
    for key in [*Obligation.__dataclass_fields__, *extras]:
        assert f"`{key}`" in DOC, f"JSON key {key} is not in docs/obligations.md"
