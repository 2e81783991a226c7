"""What the dashboard computes from the services: countdowns, urgency, deadlines, order, search."""

from __future__ import annotations

import datetime as dt

import pytest

from ir.clock import VirtualClock
from ir.tui.data import countdown, deadline_of, load_rows
from ir.tui.widgets.incident_table import clip
from ir.workspace import Workspace

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "text", "level"),
    [
        (dt.timedelta(days=2, hours=1), "2d 1h 0m", "ok"),
        (dt.timedelta(hours=24), "1d 0h 0m", "soon"),
        (dt.timedelta(hours=3, minutes=59), "3h 59m", "soon"),
        (dt.timedelta(minutes=60), "1h 0m", "urgent"),
        (dt.timedelta(minutes=5), "5m", "urgent"),
        (dt.timedelta(seconds=-1), "OVERDUE 0m", "overdue"),
        (dt.timedelta(hours=-26), "OVERDUE 1d 2h 0m", "overdue"),
    ],
)
def test_countdown_turns_as_the_deadline_nears(left: dt.timedelta, text: str, level: str) -> None:
    assert countdown(NOW + left, NOW) == (text, level)


def test_a_deadline_is_read_from_a_mapping_or_an_object() -> None:
    from_map = deadline_of({"at": "2026-11-20T09:00+08:00", "rule": "cn-pipl", "recipient_name": "CAC"})
    assert from_map is not None and from_map.due_at == NOW and from_map.what == "cn-pipl → CAC"
    assert deadline_of(None) is None
    assert deadline_of({"rule": "no time yet"}) is None


def test_clip_counts_wide_characters_twice() -> None:
    assert clip("个人信息泄露事件", 9) == "个人信息…"
    assert clip("short", 9) == "short"


def test_rows_carry_the_real_next_deadline_and_sort_the_most_urgent_first(ws: Workspace, clock: VirtualClock) -> None:
    quiet = ws.incidents.open("personal-data-leak", title="Suspicious login", severity="critical").id
    pressing = ws.incidents.open(
        "personal-data-leak", title="Customer table public", severity="low",
        facts={"aware_at": "now", "breach_confirmed": "yes", "subjects": "CN=1500", "affected_count": "1500"},
    ).id
    rows = load_rows(ws)
    assert [r.id for r in rows] == [pressing, quiet]
    due = ws.obligations.next_deadline(pressing)
    assert due is not None
    assert rows[0].deadline is not None and rows[0].deadline.due_at.isoformat().startswith(due.at[:19])
    assert rows[1].deadline is None
    assert rows[0].matches("customer PUBLIC") and not rows[0].matches("login")
