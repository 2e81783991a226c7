"""Recurring drills: schedules kept in the workspace, and the alarm clock that runs them.

Schedules are events in the workspace's own chain (``drill_schedule.added``/``removed``)
with a projection table; the record of each occurrence (ran, ran late, missed) is a
projection too, so nothing depends on the scheduler's memory. ``ir scheduler`` runs
APScheduler 3.x as an alarm clock only: at start it records every occurrence that fell due
while it was down as missed, runs the latest one if it is still within the schedule's grace
period, then registers each schedule in a memory job store under a stable id with
``replace_existing=True``. ``misfire_grace_time`` is set to the schedule's grace period
(never APScheduler's one-second default), and a run APScheduler itself reports missed is
recorded too: no drill is dropped silently. Starting a drill claims its occurrence in the
same transaction, so a restart or a second scheduler cannot run it twice.

Deadline reminders for live incidents (:mod:`ir.obligations.reminders`) are a second
:class:`AlarmSource`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from ir.clock import UTC, as_utc, format_instant, parse_instant
from ir.errors import InvalidInput, IrError, NotFound, Refused
from ir.obligations.reminders import JOB_PREFIX as REMINDER_PREFIX
from ir.obligations.reminders import DeadlineAlarms
from ir.store import drills as drilldb
from ir.store import events as eventlog

if TYPE_CHECKING:
    from ir.drills.service import DrillService
    from ir.workspace import Workspace

DEFAULT_GRACE = dt.timedelta(hours=8)
"""How late a scheduled drill may still start (a working day), unless the schedule says otherwise."""

MIN_GRACE = dt.timedelta(minutes=1)
"""The shortest grace accepted: APScheduler's one-second default silently drops runs."""

MAX_CATCH_UP = 1000
"""Most missed occurrences recorded one by one for a schedule at start-up."""

JOB_PREFIX = "drill:"
"""Stable job ids: ``drill:<schedule id>``."""

Log = Callable[[str], None]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_SCHEDULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def parse_duration(text: str) -> dt.timedelta:
    """A duration such as ``8h``, ``30m``, ``1d`` or ``1h30m``.

    Raises:
        InvalidInput: the text is not such a duration.
    """
    match = _DURATION.match(text.strip())
    if not text.strip() or not match:
        raise InvalidInput(f"'{text}' is not a duration such as 8h, 30m, 1d or 1h30m")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return dt.timedelta(days=days, hours=hours, minutes=minutes)


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """The trigger of a five-field crontab expression in an IANA time zone.

    Raises:
        InvalidInput: the expression or the zone is not valid.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone '{timezone}' (use an IANA name such as Asia/Shanghai or UTC)") from None
    try:
        return CronTrigger.from_crontab(expr, timezone=zone)
    except ValueError as exc:
        raise InvalidInput(f"cron '{expr}': {exc} (five fields: minute hour day month weekday)") from None


def occurrences(trigger: CronTrigger, after: dt.datetime, until: dt.datetime, limit: int = MAX_CATCH_UP + 1) -> list[dt.datetime]:
    """Fire times strictly after ``after`` and at or before ``until`` (UTC), at most ``limit``."""
    out: list[dt.datetime] = []
    cursor = as_utc(after) + dt.timedelta(seconds=1)
    while len(out) < limit:
        nxt = trigger.get_next_fire_time(None, cursor)
        if nxt is None or as_utc(nxt) > as_utc(until):
            break
        out.append(as_utc(nxt))
        cursor = as_utc(nxt) + dt.timedelta(seconds=1)
    return out


class ScheduleService:
    """Drill schedules: add, list, remove; catch up on missed occurrences; fire one.

    Args:
        ws: the workspace.
        drills: the drill service that starts the drills.
    """

    def __init__(self, ws: Workspace, drills: DrillService) -> None:
        self.ws = ws
        self.drills = drills

    # ------------------------------------------------------------------ the record

    def add(
        self,
        scenario_id: str,
        cron: str,
        *,
        participants: dict[str, str] | None = None,
        speed: float = 1.0,
        grace: dt.timedelta = DEFAULT_GRACE,
        timezone: str = "UTC",
        schedule_id: str | None = None,
    ) -> dict[str, Any]:
        """Schedule a recurring drill of a scenario; returns the schedule."""
        scenario, pb = self.drills.scenarios.get(scenario_id)
        if scenario.id != scenario_id:
            raise InvalidInput("schedule a scenario by its id (a file on the search path), not by a file name")
        cron_trigger(cron, timezone)
        if grace < MIN_GRACE:
            raise InvalidInput(f"grace {grace} is too short: a drill a minute late would be dropped (use at least 1m)")
        if not 0 < speed <= 100_000:
            raise InvalidInput(f"speed {speed:g} is not between 0 and 100000")
        participants = dict(participants or {})
        unknown = [r for r in participants if r not in pb.role_ids]
        if unknown:
            raise InvalidInput(f"unknown role '{unknown[0]}' in --participants (known: {', '.join(pb.role_ids)})")
        if schedule_id is not None and not _SCHEDULE_ID.match(schedule_id):
            raise InvalidInput(f"schedule id '{schedule_id}' must be lower-case letters, digits and -")
        payload = {
            "scenario": scenario.id, "cron": cron.strip(), "timezone": timezone, "speed": speed,
            "grace_s": int(grace.total_seconds()), "participants": participants,
        }
        with self.ws.store.write() as conn:
            ident = schedule_id or _next_id(conn, scenario.id)
            if drilldb.schedule_exists(conn, ident):
                raise Refused(f"schedule '{ident}' exists (ids are not reused); choose another --id")
            self._append(conn, "drill_schedule.added", {"id": ident, **payload})
        return self.get(ident)

    def remove(self, schedule_id: str) -> None:
        """Stop a schedule (its history stays)."""
        self.get(schedule_id)
        with self.ws.store.write() as conn:
            self._append(conn, "drill_schedule.removed", {"id": schedule_id})

    def get(self, schedule_id: str) -> dict[str, Any]:
        """An active schedule.

        Raises:
            NotFound: no active schedule with that id.
        """
        for s in self.list():
            if s["id"] == schedule_id:
                return s
        raise NotFound(f"no drill schedule '{schedule_id}' (see: ir drill schedule list)")

    def list(self, *, include_removed: bool = False) -> list[dict[str, Any]]:
        """Schedules with their next occurrence."""
        with self.ws.store.read() as conn:
            items = drilldb.list_schedules(conn, include_removed=include_removed)
        now = self.ws.clock.now()
        for item in items:
            nxt = cron_trigger(item["cron"], item["timezone"]).get_next_fire_time(None, now) if item["active"] else None
            item["next_due"] = format_instant(nxt) if nxt else None
        return items

    def runs(self, schedule_id: str | None = None) -> list[dict[str, Any]]:
        """Recorded occurrences: ran, ran_late, missed."""
        with self.ws.store.read() as conn:
            return drilldb.schedule_runs(conn, schedule_id)

    def _append(self, conn: Any, kind: str, payload: dict[str, Any]) -> None:
        now = format_instant(self.ws.clock.now())
        eventlog.append(conn, drilldb.WORKSPACE_STREAM, kind, payload, actor=self.ws.actor, at=now, recorded_at=now)

    # ------------------------------------------------------------------ running

    def catch_up(self, log: Log = lambda _: None) -> list[str]:
        """Record occurrences that fell due unseen; run each schedule's latest if within grace.

        Returns:
            The drills started.
        """
        now = self.ws.clock.now()
        started = []
        for sched in self.list():
            ident = self._catch_up_one(sched, now, log)
            if ident:
                started.append(ident)
        return started

    def _catch_up_one(self, sched: dict[str, Any], now: dt.datetime, log: Log) -> str | None:
        trigger = cron_trigger(sched["cron"], sched["timezone"])
        after = parse_instant(sched["last_due"] or sched["created_at"])
        due = occurrences(trigger, after, now)
        if not due:
            return None
        grace = dt.timedelta(seconds=sched["grace_s"])
        latest = due[-1]
        runnable = now - latest <= grace
        skipped = due[:-1] if runnable else due
        if skipped:
            with self.ws.store.write() as conn:
                for when in skipped:
                    reason = "the scheduler was not running" if now - when > grace else "superseded by a later occurrence"
                    self._append(conn, "drill_schedule.missed", {"id": sched["id"], "due": format_instant(when), "run": False, "reason": reason})
                    log(f"missed: schedule {sched['id']} drill due {format_instant(when)} ({reason})")
        if not runnable:
            return None
        # The note that it runs late commits with the drill's start, never before it: a crash
        # in between would otherwise mark the occurrence as run, and no restart would run it.
        late = f"started {int((now - latest).total_seconds() // 60)} min late, within the {sched['grace_s'] // 60} min grace"
        return self.fire(sched["id"], latest, log, late=late)

    def fire(self, schedule_id: str, due: dt.datetime, log: Log = lambda _: None, *, late: str | None = None) -> str | None:
        """Start the drill of one occurrence, unless it already ran; returns the drill id.

        Args:
            late: why it starts late, recorded with the start (None: on time).
        """
        try:
            sched = self.get(schedule_id)
        except NotFound:
            return None
        due_text = format_instant(due)
        participants = sched["participants"]
        try:
            state = self.drills.start(
                sched["scenario_id"], speed=sched["speed"], players=participants, schedule={"id": schedule_id, "due": due_text},
                late=late,
            )
        except Refused as exc:
            log(f"skipped: {exc}")
            return None
        log(f"EXERCISE started: {state.id} (schedule {schedule_id}, due {due_text}, scenario {sched['scenario_id']})")
        return state.id

    def record_missed(self, schedule_id: str, due: dt.datetime, reason: str) -> None:
        """Record an occurrence the alarm clock itself missed (it will not run)."""
        with self.ws.store.write() as conn:
            self._append(conn, "drill_schedule.missed", {"id": schedule_id, "due": format_instant(due), "run": False, "reason": reason})

    def due_now(self, schedule_id: str) -> dt.datetime | None:
        """The latest occurrence at or before now (what a firing job is for)."""
        sched = self.get(schedule_id)
        now = self.ws.clock.now()
        window = occurrences(cron_trigger(sched["cron"], sched["timezone"]), now - dt.timedelta(seconds=sched["grace_s"] + 1), now)
        return window[-1] if window else None

    def tick(self, log: Log = lambda _: None) -> None:
        """Exercise control for the paced drills the scheduler started: injects, then ENDEX."""
        for drill in self.drills.list(status=None):
            if drill["schedule_id"] is None or drill["status"] == "ended" or drill["speed"] is None:
                continue
            ident = drill["incident_id"]
            for ev in self.drills.deliver_due(ident):
                if ev.kind == "inject.delivered":
                    log(f"EXERCISE {ident}: inject {ev.payload['inject']} delivered")
            ctx = self.drills.context(ident)
            if not ctx.ended and self.drills.offset(ctx) >= ctx.clock_state.length:
                self.drills.end(ident, "ENDEX: scenario time is over")
                log(f"EXERCISE {ident}: ENDEX")


def _next_id(conn: Any, scenario_id: str) -> str:
    n = 1
    while drilldb.schedule_exists(conn, f"{scenario_id}-{n}"):
        n += 1
    return f"{scenario_id}-{n}"


class AlarmSource(Protocol):
    """Something that sets alarms: catches up at start, registers jobs, reacts to a tick."""

    def start_up(self, log: Log) -> None:
        """Handle whatever fell due while no scheduler was running."""
        ...

    def sync(self, scheduler: BaseScheduler) -> None:
        """Register (or refresh) this source's jobs under stable ids."""
        ...


class DrillAlarms:
    """The drill schedules as an alarm source."""

    def __init__(self, schedules: ScheduleService, log: Log) -> None:
        self.schedules = schedules
        self.log = log

    def start_up(self, log: Log) -> None:
        """Record missed drills and run those still within grace."""
        self.schedules.catch_up(log)

    def sync(self, scheduler: BaseScheduler) -> None:
        """One job per active schedule (``drill:<id>``); jobs of removed schedules go."""
        wanted = {}
        for sched in self.schedules.list():
            job_id = JOB_PREFIX + sched["id"]
            wanted[job_id] = sched
            scheduler.add_job(
                self.fire,
                cron_trigger(sched["cron"], sched["timezone"]),
                args=[sched["id"]],
                id=job_id,
                name=f"drill {sched['scenario_id']}",
                replace_existing=True,
                misfire_grace_time=sched["grace_s"],
                coalesce=True,
                max_instances=1,
            )
        for job in scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()

    def fire(self, schedule_id: str) -> None:
        """The job: start the drill of the occurrence that just fell due."""
        try:
            due = self.schedules.due_now(schedule_id)
        except NotFound:
            return
        if due is None:
            return
        late = self.schedules.ws.clock.now() - due
        # Woken late (a suspended laptop) but within grace: the record says so, with the start.
        reason = f"alarm {int(late.total_seconds())} s late" if late > dt.timedelta(minutes=1) else None
        self.schedules.fire(schedule_id, due, self.log, late=reason)

    def missed(self, event: JobExecutionEvent) -> None:
        """APScheduler gave up on a run (later than the grace period): record it."""
        if not event.job_id.startswith(JOB_PREFIX):
            return
        schedule_id = event.job_id[len(JOB_PREFIX):]
        due = as_utc(event.scheduled_run_time)
        self.schedules.record_missed(schedule_id, due, "the alarm clock ran later than the grace period")
        self.log(f"missed: schedule {schedule_id} drill due {format_instant(due)} (later than its grace period)")


class AlarmClock:
    """``ir scheduler``: APScheduler 3.x as an alarm clock over the workspace's schedules.

    Jobs run in the scheduler's own thread (a debug executor), so they use the workspace's
    connection where it was opened and never run two at once.

    Args:
        ws: the workspace.
        log: where to report what happened (the command line prints it).
        tick: seconds between exercise-control turns for scheduled paced drills.
        resync: seconds between re-reading the schedules (added or removed meanwhile).
    """

    def __init__(
        self, ws: Workspace, *, log: Log = lambda _: None, tick: float = 2.0, resync: float = 60.0,
        reminders: DeadlineAlarms | None = None,
    ) -> None:
        self.ws = ws
        self.log = log
        self.tick = tick
        self.resync = resync
        self.drills = DrillAlarms(ws.drills.schedules, log)
        self.reminders = reminders or DeadlineAlarms(ws, log=log)
        self.sources: list[AlarmSource] = [self.drills, self.reminders]

    def build(self, scheduler: BaseScheduler | None = None) -> BaseScheduler:
        """A scheduler (not started) holding every source's jobs and the housekeeping jobs."""
        scheduler = scheduler or BlockingScheduler(timezone=UTC)
        scheduler.configure(
            jobstores={"default": MemoryJobStore()},
            executors={"default": DebugExecutor()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(DEFAULT_GRACE.total_seconds())},
            timezone=UTC,
        )
        scheduler.add_listener(self._listen, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        for source in self.sources:
            source.sync(scheduler)
        scheduler.add_job(self._resync, "interval", seconds=self.resync, id="alarms:resync", args=[scheduler], replace_existing=True)
        scheduler.add_job(self._tick, "interval", seconds=self.tick, id="drills:tick", replace_existing=True)
        return scheduler

    def start_up(self) -> None:
        """Catch up on everything that fell due while no scheduler ran."""
        for source in self.sources:
            source.start_up(self.log)

    def run(self) -> None:
        """Catch up, then run until interrupted."""
        self.start_up()
        scheduler = self.build()
        jobs = [j for j in scheduler.get_jobs() if j.id.startswith(JOB_PREFIX)]
        alarms = [j for j in scheduler.get_jobs() if j.id.startswith(REMINDER_PREFIX)]
        self.log(
            f"ir scheduler: {len(jobs)} drill schedule(s) and {len(alarms)} deadline reminder(s)"
            f" on {self.ws.store.path}; Ctrl-C stops"
        )
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass

    def once(self) -> None:
        """Catch up and run one exercise-control turn, then return (for cron or a test)."""
        self.start_up()
        self._tick()

    def _resync(self, scheduler: BaseScheduler) -> None:
        for source in self.sources:
            source.sync(scheduler)

    def _tick(self) -> None:
        try:
            self.ws.drills.schedules.tick(self.log)
        except IrError as exc:
            self.log(f"exercise control: {exc}")

    def _listen(self, event: Any) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.drills.missed(event)
        elif event.code == EVENT_JOB_ERROR:
            self.log(f"job {event.job_id} failed: {type(event.exception).__name__}: {event.exception}")
