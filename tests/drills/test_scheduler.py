"""Recurring drills: schedules in the workspace, the alarm clock, missed runs and restarts.

Time is a virtual clock on a real workspace file; "restarting the scheduler" is opening a new
Workspace and AlarmClock on the same file later.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler

from ir.clock import SystemClock, VirtualClock, parse_instant
from ir.drills.scheduling import AlarmClock, cron_trigger, occurrences
from ir.errors import InvalidInput, Refused
from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.drills.helpers import write_scenario

DAILY_10_BEIJING = "0 10 * * *"  # 02:00 UTC


@pytest.fixture
def schedule(ws: Workspace, mini: Path) -> str:
    """A daily drill of the mini scenario at 10:00 Beijing time, two hours' grace."""
    item = ws.drills.schedules.add(
        "mini", DAILY_10_BEIJING, timezone="Asia/Shanghai", grace=dt.timedelta(hours=2), speed=60,
        participants={"security": "li"},
    )
    return str(item["id"])


def runs(ws: Workspace) -> list[tuple[str, str, str | None]]:
    return [(r["due"], r["status"], r["incident_id"]) for r in ws.drills.schedules.runs()]


def reopen(db_path: Path, clock: VirtualClock) -> Workspace:
    return Workspace(db_path, clock=clock, actor="scheduler", lang="en")


def test_schedules_are_added_listed_and_removed(ws: Workspace, schedule: str) -> None:
    assert schedule == "mini-1"
    (item,) = ws.drills.schedules.list()
    assert (item["cron"], item["timezone"], item["grace_s"], item["participants"]) == (
        DAILY_10_BEIJING, "Asia/Shanghai", 7200, {"security": "li"}
    )
    assert item["next_due"] == "2026-11-20T02:00:00.000Z"
    ws.drills.schedules.remove(schedule)
    assert ws.drills.schedules.list() == []
    assert [s["active"] for s in ws.drills.schedules.list(include_removed=True)] == [False]
    with pytest.raises(Refused, match="ids are not reused"):
        ws.drills.schedules.add("mini", DAILY_10_BEIJING, schedule_id="mini-1")
    # The record: the workspace's own chain.
    events = ws.store.query("SELECT kind FROM events WHERE incident_id = 'WORKSPACE' ORDER BY seq")
    assert [e["kind"] for e in events] == ["drill_schedule.added", "drill_schedule.removed"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cron": "0 10 1 */3"}, "cron '0 10 1 */3'"),
        ({"cron": "0 25 * * *"}, "cron '0 25 * * *'"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"grace": dt.timedelta(seconds=1)}, "grace 0:00:01 is too short"),
        ({"participants": {"ciso": "kim"}}, "unknown role 'ciso'"),
        ({"speed": 0}, "speed 0 is not between"),
    ],
)
def test_bad_schedules_are_refused(ws: Workspace, mini: Path, kwargs: dict[str, object], message: str) -> None:
    args = {"cron": "0 10 1 */3 *", **kwargs}
    cron = str(args.pop("cron"))
    with pytest.raises(InvalidInput, match=message.replace("*", r"\*").replace("(", r"\(")):
        ws.drills.schedules.add("mini", cron, **args)  # type: ignore[arg-type]
    assert ws.drills.schedules.list() == []


def test_on_time_run_then_restarts_record_missed_and_run_within_grace(
    ws: Workspace, db_path: Path, clock: VirtualClock, schedule: str
) -> None:
    alarm = AlarmClock(ws)
    alarm.start_up()  # nothing due yet
    assert runs(ws) == []
    clock.set(parse_instant("2026-11-20T02:00:00Z"))
    alarm.drills.fire(schedule)  # the job, on time
    alarm.drills.fire(schedule)  # a duplicate firing starts nothing
    assert runs(ws) == [("2026-11-20T02:00:00.000Z", "ran", "DRL-2026-0001")]
    first = ws.drills.list()[0]
    assert first["speed"] == 60 and ws.incidents.get(first["incident_id"]).roles["security"] == "li"
    ws.close()

    clock.set(parse_instant("2026-11-23T03:00:00Z"))  # down for three days; today's run is an hour late
    with reopen(db_path, clock) as later:
        AlarmClock(later).start_up()
        assert runs(later) == [
            ("2026-11-20T02:00:00.000Z", "ran", "DRL-2026-0001"),
            ("2026-11-21T02:00:00.000Z", "missed", None),
            ("2026-11-22T02:00:00.000Z", "missed", None),
            ("2026-11-23T02:00:00.000Z", "ran_late", "DRL-2026-0002"),
        ]
        reasons = later.store.query("SELECT payload FROM events WHERE kind = 'drill_schedule.missed' ORDER BY seq")
        assert ['"reason":"the scheduler was not running"' in r["payload"] for r in reasons] == [True, True, False]

    clock.advance(dt.timedelta(minutes=30))
    with reopen(db_path, clock) as again:  # another restart: nothing lost, nothing twice
        AlarmClock(again).start_up()
        assert len(runs(again)) == 4 and len(again.drills.list()) == 2
        assert again.audit.verify().ok


def test_a_run_past_its_grace_is_recorded_missed_not_run(ws: Workspace, clock: VirtualClock, schedule: str) -> None:
    clock.set(parse_instant("2026-11-20T05:00:00Z"))  # three hours late, grace is two
    AlarmClock(ws).start_up()
    assert runs(ws) == [("2026-11-20T02:00:00.000Z", "missed", None)]
    assert ws.drills.list() == []


def test_the_alarm_clock_registers_stable_jobs_with_a_real_grace(ws: Workspace, schedule: str) -> None:
    alarm = AlarmClock(ws)
    scheduler = alarm.build(BlockingScheduler())
    alarm.drills.sync(scheduler)  # a resync replaces, never duplicates
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"drill:mini-1", "alarms:resync", "drills:tick"}
    job = jobs["drill:mini-1"]
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (7200, True, 1)
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    assert scheduler._job_defaults["misfire_grace_time"] == 8 * 3600  # never APScheduler's one second

    ws.drills.schedules.remove(schedule)
    alarm.drills.sync(scheduler)
    assert "drill:mini-1" not in {j.id for j in scheduler.get_jobs()}


def test_a_run_apscheduler_reports_missed_is_recorded(ws: Workspace, schedule: str) -> None:
    alarm = AlarmClock(ws)
    due = parse_instant("2026-11-21T02:00:00Z")
    alarm._listen(JobExecutionEvent(EVENT_JOB_MISSED, "drill:mini-1", "default", due))
    assert runs(ws) == [("2026-11-21T02:00:00.000Z", "missed", None)]


def test_occurrences_follow_the_cron_in_its_time_zone() -> None:
    trigger = cron_trigger("0 10 1 */3 *", "Asia/Shanghai")
    got = occurrences(trigger, parse_instant("2026-01-01T00:00:00Z"), parse_instant("2026-12-31T00:00:00Z"))
    assert [t.strftime("%Y-%m-%dT%H:%MZ") for t in got] == [
        "2026-01-01T02:00Z", "2026-04-01T02:00Z", "2026-07-01T02:00Z", "2026-10-01T02:00Z"
    ]


def test_the_scheduler_is_exercise_control_for_the_drills_it_starts(ws: Workspace, clock: VirtualClock, schedule: str) -> None:
    clock.set(parse_instant("2026-11-20T02:00:00Z"))
    alarm = AlarmClock(ws)
    alarm.drills.fire(schedule)
    drill = ws.drills.list()[0]["incident_id"]
    clock.advance(dt.timedelta(minutes=2))  # two scenario hours at 60x
    alarm._tick()
    assert [i["status"] for i in ws.drills.status(drill).injects][:2] == ["delivered", "delivered"]
    clock.advance(dt.timedelta(minutes=10))
    alarm._tick()
    assert ws.drills.status(drill).state == "ended"


def test_blocking_scheduler_runs_the_control_jobs(db_path: Path, ws: Workspace, schedule: str) -> None:
    wall = SystemClock()
    with Workspace(db_path, clock=wall, actor="scheduler") as here:
        here.drills.schedules.fire(schedule, wall.now())
        drill = here.drills.list()[0]["incident_id"]
        here.drills.set_speed(drill, 100_000)  # six scenario hours in a fraction of a second
    errors: list[BaseException] = []
    ready = threading.Event()
    holder: list[BlockingScheduler] = []

    def serve() -> None:
        try:
            with Workspace(db_path, clock=SystemClock(), actor="scheduler") as own:  # opened in its own thread
                scheduler = AlarmClock(own, tick=0.1).build(BlockingScheduler())
                holder.append(scheduler)
                ready.set()
                scheduler.start()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=serve)
    thread.start()
    ready.wait(timeout=30)
    with Workspace(db_path, clock=wall) as watcher:
        for _ in range(100):
            if watcher.drills.status(drill).state == "ended":
                break
            time.sleep(0.1)
        state = watcher.drills.status(drill).state
    holder[0].shutdown(wait=False)
    thread.join(timeout=30)
    assert not thread.is_alive() and errors == []
    assert state == "ended"


def test_schedule_commands(ws: Workspace, ir: IrRunner, mini: Path) -> None:
    ws.close()
    added = ir.ok("drill", "schedule", "add", "mini", "--cron", "0 10 1 */3 *", "--tz", "Asia/Shanghai",
                  "--participants", "commander=chen,dpo=wang", "--grace", "4h", now="2026-11-20T09:00:00+08:00")
    assert added.stdout.strip() == "mini-1: mini at '0 10 1 */3 *' (Asia/Shanghai), next 2027-01-01T02:00:00.000Z"
    listed = ir.ok("drill", "schedule", "list", "--json", now="2026-11-20T09:00:00+08:00").json()
    assert listed["schedules"][0]["participants"] == {"commander": "chen", "dpo": "wang"}
    bad = ir("drill", "schedule", "add", "mini", "--cron", "every day")
    assert bad.exit_code == 2 and bad.stderr.startswith("ir: error: cron 'every day': ")
    late = ir.ok("scheduler", "--once", now="2027-01-01T12:00:00+08:00")  # two hours late, within four
    assert "missed: schedule mini-1" not in late.stdout
    assert "EXERCISE started: DRL-2026-0001 (schedule mini-1, due 2027-01-01T02:00:00.000Z" in late.stdout
    assert ir.ok("drill", "schedule", "list", "--json").json()["runs"][0]["status"] == "ran_late"
    assert ir.ok("drill", "schedule", "remove", "mini-1").stdout.strip() == "removed mini-1"
    gone = ir("drill", "schedule", "remove", "mini-1")
    assert gone.exit_code == 2 and "no drill schedule 'mini-1'" in gone.stderr


def test_a_schedule_names_a_scenario_by_its_id_not_a_file(ws: Workspace) -> None:
    path = write_scenario(ws, name="mini")
    with pytest.raises(InvalidInput, match="by its id"):
        ws.drills.schedules.add(str(path), "0 10 * * *")
