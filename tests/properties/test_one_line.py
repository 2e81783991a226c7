"""Whatever a user typed, a message built from it stays one line on a terminal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ir.errors import IrError, one_line

BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""Every character str.splitlines breaks on."""


@given(st.text(alphabet=st.sampled_from(BREAKS + "ab \x1b\x9b\x00"), max_size=30) | st.text(max_size=60))
def test_any_text_is_one_line_with_no_control_characters(text: str) -> None:
    shown = one_line(f"ir: error: {text}: refused")
    assert len(shown.splitlines()) == 1
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert str(IrError(text)) == one_line(text)


def test_escapes_are_readable() -> None:
    assert one_line("a\nb\x85c\u2028d\x1b[31m") == "a\\nb\\x85c\\u2028d\\x1b[31m"
