"""Turning what a responder types into typed fact values, and back."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ir.clock import format_fact_time, parse_instant
from ir.errors import InvalidInput

if TYPE_CHECKING:
    from ir.engine.playbook import FactType

_TRUE = {"true", "yes", "y", "1", "on", "是", "对"}
_FALSE = {"false", "no", "n", "0", "off", "否", "不"}
_COUNT_ITEM = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*[=:]\s*([0-9][0-9_,]*)\s*$")


def coerce(
    name: str, kind: FactType, raw: Any, choices: Sequence[str] = (), now: dt.datetime | None = None
) -> Any:
    """Convert ``raw`` (text from a user, or a JSON value) into the fact's stored form.

    Stored forms: bool; int; ``YYYY-MM-DDTHH:MM:SSZ`` text; text; choice id; sorted list of
    choice ids; ``{key: int}`` with keys sorted. A datetime may be given as ``now`` (the
    incident's clock).

    Raises:
        InvalidInput: the value does not fit the type, naming the fact and what is expected.
    """
    if kind == "datetime" and isinstance(raw, str) and raw.strip().lower() == "now" and now is not None:
        return format_fact_time(now)
    try:
        return _COERCERS[kind](raw, list(choices))
    except (ValueError, TypeError, OverflowError) as exc:
        # OverflowError: an instant at the very edge of the calendar ("0001-01-01T00:00+01:00")
        # has no UTC equivalent.
        raise InvalidInput(f"fact '{name}' ({kind}): {exc}") from None


def _bool(raw: Any, _: list[str]) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"'{raw}' is not yes/no (use true or false)")


def _integer(raw: Any, _: list[str]) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected a whole number, not yes/no")
    if isinstance(raw, int):
        return raw
    text = str(raw).strip().replace(",", "").replace("_", "")
    if not re.fullmatch(r"[-+]?[0-9]+", text):
        raise ValueError(f"'{raw}' is not a whole number")
    return int(text)


def _datetime(raw: Any, _: list[str]) -> str:
    try:
        return format_fact_time(parse_instant(str(raw)))
    except ValueError as exc:
        raise ValueError(f"'{raw}' is not an ISO 8601 time with offset, e.g. 2026-11-20T09:30+08:00 ({exc})") from None


def _text(raw: Any, _: list[str]) -> str:
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    if not text.strip():
        raise ValueError("text is empty")
    return text


def _choice(raw: Any, choices: list[str]) -> str:
    text = str(raw).strip()
    if text not in choices:
        raise ValueError(f"'{text}' is not one of: {', '.join(choices)}")
    return text


def _multi(raw: Any, choices: list[str]) -> list[str]:
    if isinstance(raw, str):
        text = raw.strip()
        items = json.loads(text) if text.startswith("[") else [i for i in re.split(r"[,\s]+", text) if i]
    else:
        items = list(raw)
    picked = sorted({_choice(item, choices) for item in items})
    return picked


def _counts(raw: Any, _: list[str]) -> dict[str, int]:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            raw = json.loads(text)
        else:
            out: dict[str, int] = {}
            for part in filter(None, (p.strip() for p in text.split(","))):
                match = _COUNT_ITEM.match(part)
                if not match:
                    raise ValueError(f"'{part}' is not KEY=NUMBER (e.g. CN=1500000,DE=40)")
                out[match.group(1)] = int(match.group(2).replace(",", "").replace("_", ""))
            raw = out
    if not isinstance(raw, dict):
        raise ValueError("expected counts by key, e.g. CN=1500000,DE=40")
    result: dict[str, int] = {}
    for key, value in raw.items():
        number = _integer(value, [])
        if number < 0:
            raise ValueError(f"count for '{key}' is negative")
        result[str(key)] = number
    return dict(sorted(result.items()))


_COERCERS = {
    "bool": _bool,
    "integer": _integer,
    "datetime": _datetime,
    "text": _text,
    "choice": _choice,
    "multi": _multi,
    "counts": _counts,
}


def guess(raw: str) -> Any:
    """Read an undeclared fact's value: JSON where it parses, yes/no words, else text."""
    text = raw.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, float) and value.is_integer() and "." not in text and "e" not in low:
        return int(value)
    return value


def split_assignment(text: str) -> tuple[str, str]:
    """Split ``KEY=VALUE`` (as given to ``--fact`` and ``set``).

    Raises:
        InvalidInput: there is no ``=`` or no key.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InvalidInput(f"'{text}' is not KEY=VALUE")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise InvalidInput(f"fact name '{key}' must be lower_case letters, digits and _")
    return key, value


def render(value: Any) -> str:
    """Show a fact value to a person."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in value.items())
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
