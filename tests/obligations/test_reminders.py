"""Deadline reminders for live incidents: planned, caught up, given once, mailed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from ir.clock import UTC, VirtualClock
from ir.drills.scheduling import AlarmClock
from ir.errors import InvalidInput
from ir.notices.delivery import Server
from ir.obligations.reminders import DeadlineAlarms, MailSettings, parse_points, plan
from ir.workspace import Workspace
from tests.conftest import START
from tests.notices.conftest import Mailbox

AWARE = "2026-11-20T09:00:00+08:00"  # = START: the CAC 4-hour report falls due at 05:00 UTC


def open_leak(ws: Workspace, **facts: str) -> str:
    base = {"aware_at": AWARE, "subjects": "CN=1500000,DE=40"}
    return ws.incidents.open("personal-data-leak", title="Customer table exposed", facts={**base, **facts}).id


def reminders(ws: Workspace, incident_id: str) -> list[dict]:  # type: ignore[type-arg]
    return [e.payload for e in ws.incidents.timeline(incident_id, kinds=["deadline.reminded"])]


@pytest.fixture
def mail() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


def duty(due: str, rule: str = "r", legal: bool = True) -> dict:  # type: ignore[type-arg]
    return {"incident_id": "INC-1", "rule": rule, "due_at": due if legal else None, "target_at": None if legal else due, "legal": legal}


def test_plan_gives_the_most_urgent_passed_point_once_and_sets_alarms_for_the_rest() -> None:
    points = parse_points("24h,4h,1h,0")
    now = dt.datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
    now_due, ahead = plan([duty("2026-11-20T05:00:00Z")], points, now, set())
    assert [(r.point, r.fire_at.hour) for r in now_due] == [("4h", 1)]  # 24h and 4h have passed: remind once, at 4h
    assert [(r.point, r.fire_at.hour) for r in ahead] == [("1h", 4), ("due", 5)]
    assert plan([duty("2026-11-20T05:00:00Z")], points, now, {now_due[0].key})[0] == []
    later = now + dt.timedelta(hours=2)
    assert [r.point for r in plan([duty("2026-11-20T05:00:00Z")], points, later, {now_due[0].key})[0]] == ["1h"]
    moved = plan([duty("2026-11-21T05:00:00Z")], points, now, {now_due[0].key})  # a new deadline is a new duty
    assert moved[0] == [] and [r.point for r in moved[1]] == ["24h", "4h", "1h", "due"]


@pytest.mark.parametrize("text", ["", "soon", "4x", "h"])
def test_bad_reminder_points_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_points(text)


def test_the_alarm_clock_reminds_on_start_and_at_each_point(ws: Workspace, clock: VirtualClock) -> None:
    incident_id = open_leak(ws)
    clock.advance(dt.timedelta(hours=2, minutes=30))  # 03:30 UTC: 1h30 before the CAC report is due
    alarm = AlarmClock(ws)
    alarm.start_up()
    given = reminders(ws, incident_id)
    cac = [r for r in given if r["rule"] == "cn-cac-report"]
    assert [(r["point"], r["remaining_seconds"]) for r in cac] == [("4h", 5400)]
    scheduler = alarm.build(BackgroundScheduler(timezone=UTC))
    job = scheduler.get_job(f"deadline:{incident_id}:cn-cac-report:1h")
    assert job is not None and job.trigger.run_date == dt.datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    clock.advance(dt.timedelta(minutes=31))  # 04:01: the 1h alarm goes off
    job.func(*job.args)
    job.func(*job.args)  # a second ring changes nothing
    assert [r["point"] for r in reminders(ws, incident_id) if r["rule"] == "cn-cac-report"] == ["4h", "1h"]
    ws.obligations.fulfil(incident_id, "cn-cac-report")
    clock.advance(dt.timedelta(hours=2))
    AlarmClock(ws).start_up()  # a restart after the deadline: the fulfilled duty is not reminded
    assert [r["point"] for r in reminders(ws, incident_id) if r["rule"] == "cn-cac-report"] == ["4h", "1h"]
    assert "reminder: cn-cac-report" in ws.incidents.postmortem(incident_id)


def test_a_restart_repeats_nothing_and_drills_are_not_reminded(ws: Workspace, clock: VirtualClock) -> None:
    live = open_leak(ws)
    drill = ws.drills.start("open-bucket-reporter", speed=1.0).id if hasattr(ws.drills, "start") else None
    clock.advance(dt.timedelta(hours=6))
    AlarmClock(ws).start_up()
    first = reminders(ws, live)
    assert any(r["rule"] == "cn-cac-report" and r["point"] == "due" and r["remaining_seconds"] < 0 for r in first)
    AlarmClock(ws).start_up()
    assert reminders(ws, live) == first
    if drill is not None:
        assert reminders(ws, drill) == []
    assert ws.audit.rebuild(check_only=True).identical


def test_reminders_are_mailed_through_the_notice_delivery_path(ws: Workspace, clock: VirtualClock, mail: Mailbox) -> None:
    incident_id = open_leak(ws, subjects="CN=1500000")
    clock.advance(dt.timedelta(hours=3, minutes=10))  # 04:10 UTC: 50 minutes before the CAC report is due
    settings = MailSettings(Server.parse(mail.address), "ir@example.com", "dpo@example.com")
    lines: list[str] = []
    DeadlineAlarms(ws, mail=settings, log=lines.append).start_up(lines.append)
    cac = next(r for r in reminders(ws, incident_id) if r["rule"] == "cn-cac-report")
    assert cac["mailed_to"] == "dpo@example.com" and "mail_error" not in cac
    subjects = [m.message["Subject"] for m in mail.received]
    assert any(f"[ir] {incident_id}: cn-cac-report" in s and "is in 50m" in s for s in subjects), subjects
    assert all(m.recipients == ["dpo@example.com"] for m in mail.received)
    assert any("cn-cac-report" in line for line in lines)


def test_a_mail_failure_is_recorded_and_does_not_stop_the_reminder(ws: Workspace, clock: VirtualClock) -> None:
    incident_id = open_leak(ws, subjects="CN=1500000")
    clock.advance(dt.timedelta(hours=5))
    from tests.notices.conftest import free_port

    settings = MailSettings(Server("127.0.0.1", free_port(), timeout=2), "ir@example.com", "dpo@example.com")
    DeadlineAlarms(ws, mail=settings).start_up(lambda _: None)
    cac = next(r for r in reminders(ws, incident_id) if r["rule"] == "cn-cac-report")
    assert cac["mailed_to"] == "dpo@example.com" and "cannot connect" in cac["mail_error"]


def test_the_scheduler_command_gives_due_reminders(ir, db_path, clock) -> None:  # type: ignore[no-untyped-def]
    incident_id = ir.ok("incident", "open", "personal-data-leak", "--title", "x", "--fact", f"aware_at={AWARE}",
                        "--fact", "subjects=CN=1500000", now="2026-11-20T01:00:00Z").stdout.strip()
    out = ir.ok("scheduler", "--once", now="2026-11-20T06:00:00Z").stdout
    assert f"{incident_id}: cn-cac-report" in out and "PASSED 1h 0m ago" in out
    assert ir("scheduler", "--once", "--remind-to", "dpo@example.com").exit_code == 2
    log = ir.ok("incident", "log", incident_id, "--kind", "deadline.reminded").stdout
    assert "reminder: cn-cac-report" in log
