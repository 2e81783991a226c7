"""Reminders of approaching and passed deadlines for live incidents.

The scheduler (``ir scheduler``) sets an alarm for each reminder point of each open duty: by
default a day, four hours and one hour before it falls due, and when it does (its legal
deadline, or the organisation's own target where the law sets no period). A reminder is an
event in the incident's chain, so it shows in the timeline and a restarted scheduler never
repeats it; when a mail address is configured it is also mailed through the same SMTP path
as notices. Anything that fell due while no scheduler ran is reminded at once on start,
only the most urgent point of each duty.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger

from ir.clock import format_instant, parse_instant
from ir.engine.commands import NewEvent
from ir.engine.report import duration_text
from ir.errors import InvalidInput, IrError
from ir.store import obligations as obligationdb

if TYPE_CHECKING:
    from ir.notices.delivery import Server
    from ir.workspace import Workspace

JOB_PREFIX = "deadline:"
"""Stable job ids: ``deadline:<incident>:<rule>:<point>``."""

DEFAULT_POINTS = (dt.timedelta(hours=24), dt.timedelta(hours=4), dt.timedelta(hours=1), dt.timedelta(0))
"""When to remind, before each deadline (zero: when it falls due)."""

Log = Callable[[str], None]


def point_label(before: dt.timedelta) -> str:
    """``24h``, ``90m`` or ``due``."""
    minutes = int(before.total_seconds() // 60)
    if minutes == 0:
        return "due"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def parse_points(text: str) -> tuple[dt.timedelta, ...]:
    """Read ``24h,4h,1h,0`` (hours or minutes before the deadline; 0 = when it falls due).

    Raises:
        InvalidInput: a part is not a number of hours or minutes.
    """
    points = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        number, unit = (part[:-1], part[-1]) if part[-1] in "hm" else (part, "h")
        if not number.isdigit():
            raise InvalidInput(f"--remind-before '{part}': write hours or minutes, e.g. 24h,4h,30m,0")
        points.add(dt.timedelta(hours=int(number)) if unit == "h" else dt.timedelta(minutes=int(number)))
    if not points:
        raise InvalidInput("--remind-before needs at least one point, e.g. 24h,1h,0")
    return tuple(sorted(points, reverse=True))


@dataclass(frozen=True)
class Reminder:
    """One reminder point of one open duty."""

    incident_id: str
    rule: str
    recipient_name: str
    citation: str
    due: str
    legal: bool
    point: str
    fire_at: dt.datetime

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of the reminder (the same duty, deadline and point is reminded once)."""
        return (self.incident_id, self.rule, self.due, self.point)

    @property
    def job_id(self) -> str:
        """The scheduler job that gives it."""
        return f"{JOB_PREFIX}{self.incident_id}:{self.rule}:{self.point}"


def plan(
    duties: Iterable[dict[str, Any]], points: tuple[dt.timedelta, ...], now: dt.datetime, given: set[tuple[str, str, str, str]]
) -> tuple[list[Reminder], list[Reminder]]:
    """Split each duty's reminder points into those to give now and those to set alarms for.

    Of the points already passed only the most urgent is given (a scheduler that was down
    through several points reminds once), unless it was given already; points still ahead
    become alarms.
    """
    now_due: list[Reminder] = []
    ahead: list[Reminder] = []
    for duty in duties:
        due = duty["due_at"] if duty["legal"] else duty["target_at"]
        at = parse_instant(due)
        reminders = [
            Reminder(duty["incident_id"], duty["rule"], duty.get("recipient_name", ""), duty.get("citation", ""), due,
                     duty["legal"], point_label(before), at - before)
            for before in sorted(points, reverse=True)
        ]
        passed = [r for r in reminders if r.fire_at <= now]
        if passed and passed[-1].key not in given:
            now_due.append(passed[-1])
        ahead.extend(r for r in reminders if r.fire_at > now and r.key not in given)
    return now_due, ahead


@dataclass
class MailSettings:
    """Where reminders are mailed (the notices delivery path)."""

    server: Server
    sender: str
    to: str


class DeadlineAlarms:
    """Deadline reminders as an alarm source of ``ir scheduler``.

    Args:
        ws: the workspace.
        points: when to remind before each deadline.
        mail: where to mail reminders (None: the timeline only).
    """

    def __init__(self, ws: Workspace, *, points: tuple[dt.timedelta, ...] = DEFAULT_POINTS,
                 mail: MailSettings | None = None, log: Log = lambda _: None) -> None:
        self.ws = ws
        self.points = points
        self.mail = mail
        self.log = log

    def _plan(self) -> tuple[list[Reminder], list[Reminder]]:
        with self.ws.store.read() as conn:
            duties = obligationdb.open_live_duties(conn)
            given = obligationdb.reminders_given(conn)
        return plan(duties, self.points, self.ws.clock.now(), given)

    def start_up(self, log: Log) -> None:
        """Give at once every reminder that fell due while no scheduler ran."""
        for reminder in self._plan()[0]:
            self.give(reminder)

    def sync(self, scheduler: BaseScheduler) -> None:
        """An alarm per reminder point still ahead (``deadline:<incident>:<rule>:<point>``)."""
        now_due, ahead = self._plan()
        for reminder in now_due:  # fell due between two syncs (a deadline moved closer)
            self.give(reminder)
        wanted = set()
        for reminder in ahead:
            wanted.add(reminder.job_id)
            scheduler.add_job(
                self.fire, DateTrigger(run_date=reminder.fire_at), args=[reminder.incident_id, reminder.rule, reminder.point],
                id=reminder.job_id, name=f"remind {reminder.incident_id} {reminder.rule}", replace_existing=True,
                misfire_grace_time=None,  # a late reminder still matters: never drop it
            )
        for job in scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
                job.remove()

    def fire(self, incident_id: str, rule: str, point: str) -> None:
        """The job: give the reminder if its duty is still open and the point has come."""
        for reminder in self._plan()[0]:
            if (reminder.incident_id, reminder.rule) == (incident_id, rule):
                self.give(reminder)

    def give(self, reminder: Reminder) -> None:
        """Record the reminder in the incident's timeline, mail it if configured, and say it."""
        remaining = int((parse_instant(reminder.due) - self.ws.clock.now()).total_seconds())
        payload: dict[str, Any] = {
            "rule": reminder.rule, "recipient_name": reminder.recipient_name, "due": reminder.due,
            "kind": "legal" if reminder.legal else "target", "point": reminder.point, "remaining_seconds": remaining,
        }
        text = self._text(reminder, remaining)
        if self.mail is not None:
            error = self._send(reminder, text)
            payload["mailed_to"] = self.mail.to
            if error:
                payload["mail_error"] = error
        try:
            self.ws.incidents.record(reminder.incident_id, [NewEvent("deadline.reminded", payload)])
        except IrError as exc:
            self.log(f"reminder for {reminder.incident_id} not recorded: {exc}")
            return
        self.log(text)

    def _text(self, reminder: Reminder, remaining: int) -> str:
        what = "deadline" if reminder.legal else "own target"
        when = f"in {duration_text(remaining)}" if remaining > 0 else f"PASSED {duration_text(-remaining)} ago"
        return (f"{reminder.incident_id}: {reminder.rule} ({reminder.recipient_name}) {what} {reminder.due} is {when}"
                f" [{reminder.citation}]")

    def _send(self, reminder: Reminder, text: str) -> str | None:
        """Mail the reminder; return the reason it failed, or None."""
        from ir.notices.delivery import Connection, ServerUnavailable

        assert self.mail is not None
        message = EmailMessage()
        message["From"] = self.mail.sender
        message["To"] = self.mail.to
        message["Subject"] = f"[ir] {text.split(' [')[0]}"
        message["Message-ID"] = make_msgid(domain="ir.local")
        message.set_content(
            f"{text}\n\nRecorded in the incident's timeline at {format_instant(self.ws.clock.now())}.\n"
            f"Fulfil the duty with: ir obligations fulfil {reminder.incident_id} {reminder.rule}\n"
        )
        connection = Connection(self.mail.server, self.mail.sender)
        try:
            connection.open().send_message(message)
        except (ServerUnavailable, OSError, smtplib.SMTPException) as exc:
            self.log(f"reminder mail to {self.mail.to} failed: {exc}")
            return str(exc) or type(exc).__name__
        finally:
            connection.quit()
        return None
