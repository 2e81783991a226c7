"""Delivering notices by SMTP, each person exactly once, and the exercise outbox for drills.

Per message the sender speaks SMTP step by step: ``MAIL FROM``, ``RCPT TO``, ``DATA`` and the
whole message except its final ``<CRLF>.<CRLF>``. Only then does it record, durably, that the
notice is ``sending``; then it sends the final dot and waits for the reply, and records
``sent`` on 250. A server accepts a message only on that final dot, so a notice that was
still ``queued`` when a run stopped was never accepted and is simply sent again; one left
``sending`` may or may not have been accepted (the reply was lost with the run) and is
reported as *unconfirmed* instead of being sent twice. ``--resend-unconfirmed`` sends those
again with the same Message-ID, so receiving systems that drop duplicates by Message-ID
deliver it once.

A drill's notices never reach a server: they are written as ``.eml`` files to the
workspace's ``outbox/<incident>/`` folder, whose file names depend only on the person, so a
rerun rewrites a file instead of adding one.
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.clock import format_instant
from ir.engine.commands import NewEvent
from ir.errors import InvalidInput
from ir.notices.letters import Letter, Renderer, missing_reason
from ir.notices.render import letter_path
from ir.store import notices as deliverydb

if TYPE_CHECKING:
    from ir.engine.state import IncidentState
    from ir.workspace import Workspace

MAX_ATTEMPTS = 5
"""Temporary failures (4xx, a dropped connection) before a notice is marked failed."""

RECONNECTS = 3
"""Connection attempts in a row before a run stops (the server is down)."""

BATCH = 200
"""Queued notices read from the store at a time."""

PASSES = 3
"""Passes over the queue in one run (temporary failures are tried again in the next pass)."""

GIVE_UP_AFTER = 10
"""Temporary failures in a row, with nothing accepted between them, that stop a run."""


class ServerUnavailable(Exception):
    """The SMTP server cannot be reached or keeps dropping the connection."""


@dataclass
class SendResult:
    """What one ``ir notices send`` run did.

    Attributes:
        sent: notices the server accepted (or written to the outbox) in this run.
        failed: notices marked failed in this run.
        unconfirmed: notices whose fate is unknown (from this or earlier runs) and were not resent.
        queued: notices still waiting (the run stopped early).
        outbox: the exercise outbox folder (drills).
        stopped: why the run stopped before the queue was empty.
    """

    incident_id: str
    template: str
    sent: int = 0
    failed: int = 0
    unconfirmed: int = 0
    queued: int = 0
    outbox: str | None = None
    stopped: str | None = None
    seq: int | None = None
    failures: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The ``notices.sent`` event payload."""
        out: dict[str, Any] = {"template": self.template, "sent": self.sent, "failed": self.failed}
        if self.unconfirmed:
            out["unconfirmed"] = self.unconfirmed
        if self.queued:
            out["queued"] = self.queued
        if self.outbox:
            out["outbox"] = self.outbox
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "incident": self.incident_id, "template": self.template, "sent": self.sent, "failed": self.failed,
            "unconfirmed": self.unconfirmed, "queued": self.queued, "outbox": self.outbox, "stopped": self.stopped,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class Server:
    """Where and how to connect.

    Attributes:
        host, port: the SMTP server.
        starttls: upgrade the connection with STARTTLS (and verify the certificate).
        cafile: extra CA certificates to trust (a relay with a private CA).
        timeout: seconds to wait for the server.
    """

    host: str
    port: int
    starttls: bool = False
    cafile: str | None = None
    timeout: float = 30.0

    @classmethod
    def parse(cls, text: str, **options: Any) -> Server:
        """Read ``HOST:PORT`` (``[v6addr]:PORT`` for IPv6).

        Raises:
            InvalidInput: not HOST:PORT.
        """
        host, sep, port = text.strip().rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidInput(f"--smtp '{text}': write HOST:PORT, e.g. mail.example.com:587")
        return cls(host, int(port), **options)


class Pacer:
    """Keeps to at most ``rate`` messages per second (no limit when None)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = time.monotonic()

    def wait(self) -> None:
        """Sleep until the next message may start."""
        if not self.interval:
            return
        now = time.monotonic()
        if now < self.next:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


class Connection:
    """One SMTP connection, reopened when it drops."""

    def __init__(self, server: Server, sender: str) -> None:
        self.server = server
        self.sender = sender
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        """The live connection (connecting, and upgrading with STARTTLS, if needed)."""
        if self.smtp is not None:
            return self.smtp
        failures = []
        for attempt in range(RECONNECTS):
            try:
                smtp = smtplib.SMTP(self.server.host, self.server.port, timeout=self.server.timeout)
                smtp.ehlo()
                if self.server.starttls:
                    context = ssl.create_default_context(cafile=self.server.cafile)
                    smtp.starttls(context=context)
                    smtp.ehlo()
                self.smtp = smtp
                return smtp
            except ssl.SSLError as exc:
                raise ServerUnavailable(f"TLS with {self.server.host}:{self.server.port} failed: {exc.reason or exc}") from None
            except smtplib.SMTPNotSupportedError:
                raise ServerUnavailable(f"{self.server.host}:{self.server.port} does not offer STARTTLS") from None
            except (OSError, smtplib.SMTPException) as exc:
                failures.append(str(exc) or type(exc).__name__)
                time.sleep(0.2 * 2**attempt)
        raise ServerUnavailable(f"cannot connect to {self.server.host}:{self.server.port} ({failures[-1]})")

    def drop(self) -> None:
        """Close the connection (a message in progress is discarded by the server)."""
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def quit(self) -> None:
        """Say goodbye politely."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.smtp = None


class Sender:
    """Sends one template's queued notices for an incident."""

    def __init__(
        self, ws: Workspace, state: IncidentState, template: str, renderer: Renderer, *, run: str | None = None,
        progress: Callable[[int, int], None] | None = None, total: int = 0,
    ) -> None:
        self.ws = ws
        self.progress = progress
        """Told (done, total) as notices are sent, written or given up."""
        self.total = total
        self.state = state
        self.template = template
        self.renderer = renderer
        self.run = run or uuid.uuid4().hex
        self.clock = ws.clock_for(state)
        self.streak = 0
        self.letter: Letter | None = None

    def now(self) -> str:
        """The incident's time, as stored."""
        return format_instant(self.clock.now())

    def queued(self) -> Any:
        """Queued notices in key order, a batch at a time."""
        after = ""
        while True:
            with self.ws.store.read() as conn:
                rows = deliverydb.next_queued(conn, self.state.id, self.template, after, BATCH)
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    # -------------------------------------------------------------- SMTP

    def send_smtp(self, server: Server, sender: str, rate: float | None, result: SendResult) -> None:
        """Send every queued notice; stop (recording why) if the server stays unreachable.

        A notice that fails temporarily goes back to the queue and is tried again in a later
        pass of the same run (at most :data:`PASSES`), then in a later run.
        """
        connection = Connection(server, sender)
        pacer = Pacer(rate)
        try:
            for _ in range(PASSES):
                retried = len(result.failures)
                for rows in self.queued():
                    for row in rows:
                        letter = self.renderer.letter(row[:5])
                        if self._undeliverable(row[0], letter, result):
                            continue
                        pacer.wait()
                        self._deliver(connection, row[0], letter, result)
                        self._report(result)
                if len(result.failures) == retried:
                    break
        except ServerUnavailable as exc:
            result.stopped = str(exc)
        except BaseException:
            connection.drop()  # never end a half-sent message with QUIT: drop it
            raise
        connection.quit()

    def _deliver(self, connection: Connection, key: str, letter: Letter, result: SendResult) -> None:
        """One notice, exactly once: see the module's description."""
        self.letter = letter
        try:
            smtp = connection.open()
            code, reply = smtp.mail(connection.sender)
            if code != 250:
                return self._refused(connection, key, code, reply, "MAIL FROM", result)
            code, reply = smtp.rcpt(letter.email)
            if code not in (250, 251):
                return self._refused(connection, key, code, reply, "RCPT TO", result)
            code, reply = smtp.docmd("DATA")
            if code != 354:
                return self._refused(connection, key, code, reply, "DATA", result)
            smtp.send(_stuffed(letter.data))
        except (OSError, smtplib.SMTPException) as exc:
            # The end of the message was never sent: the server cannot have accepted it.
            connection.drop()
            self._retry(key, f"connection lost before the message was complete ({exc or type(exc).__name__})", result)
            return
        if not self._claim(key, letter):
            connection.drop()  # another run owns it; dropping the connection discards our copy
            return
        try:
            smtp.send(b".\r\n")
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException):
            # The final dot may have arrived: the server may have accepted the message. Leave it
            # 'sending' (unconfirmed) rather than risk a second copy.
            connection.drop()
            result.unconfirmed += 1
            return
        if 400 <= code < 500:
            self._retry(key, _reply(code, reply), result)
        else:
            at = self.now()
            with self.ws.store.write() as conn:
                if code == 250:
                    digest = hashlib.sha256(letter.data).hexdigest()
                    deliverydb.mark_sent(conn, self.state.id, self.template, key, run=self.run, sha256=digest, at=at)
                    result.sent += 1
                    self.streak = 0
                else:
                    reason = self.clean(_reply(code, reply))
                    deliverydb.mark_failed(conn, self.state.id, self.template, key, reason=reason, at=at)
                    result.failed += 1
        if code == 421:
            connection.drop()

    def _claim(self, key: str, letter: Letter) -> bool:
        with self.ws.store.write() as conn:
            return deliverydb.claim(conn, self.state.id, self.template, key, message_id=letter.message_id, run=self.run, at=self.now())

    def _refused(self, connection: Connection, key: str, code: int, reply: bytes, step: str, result: SendResult) -> None:
        """The server refused before the message: permanent (5xx) fails it, temporary retries it."""
        reason = self.clean(f"{step}: {_reply(code, reply)}")
        if code in (421, -1):
            connection.drop()  # the server is closing the connection
        else:
            try:
                connection.open().rset()
            except (OSError, smtplib.SMTPException):
                connection.drop()
        if 400 <= code < 500 or code == -1:
            self._retry(key, reason, result)
        else:
            with self.ws.store.write() as conn:
                deliverydb.mark_failed(conn, self.state.id, self.template, key, reason=reason, at=self.now())
            result.failed += 1

    def clean(self, text: str) -> str:
        """A server's reply with the recipient taken out: failure reasons are stored in the clear
        (they are not personal data once the address and name are gone), and servers often
        echo the address they refuse (``550 <anna@example.de>: no such user``)."""
        letter = self.letter
        if letter is not None:
            for value in (letter.email, _name_of(letter)):
                if len(value) >= 3:
                    text = re.sub(re.escape(value), "<recipient>", text, flags=re.IGNORECASE)
        return _ADDRESS_LIKE.sub("<address>", text)

    def _retry(self, key: str, reason: str, result: SendResult) -> None:
        """Count a temporary failure; after :data:`MAX_ATTEMPTS` the notice is marked failed."""
        reason = self.clean(reason)
        with self.ws.store.write() as conn:
            row = deliverydb.delivery(conn, self.state.id, self.template, key)
            # A claimed notice ('sending') has had its attempt counted already.
            attempts = int(row["attempts"]) + (row["status"] == deliverydb.QUEUED) if row else MAX_ATTEMPTS  # type: ignore[call-overload]
            if attempts >= MAX_ATTEMPTS:
                deliverydb.mark_failed(
                    conn, self.state.id, self.template, key, reason=f"gave up after {attempts} attempts: {reason}", at=self.now()
                )
                result.failed += 1
            else:
                deliverydb.mark_retry(conn, self.state.id, self.template, key, reason=reason, at=self.now())
                result.failures.append(reason)
        self.streak += 1
        if self.streak >= GIVE_UP_AFTER:
            raise ServerUnavailable(f"the server refused the last {self.streak} notices temporarily (last: {reason})")

    def _undeliverable(self, key: str, letter: Letter, result: SendResult) -> bool:
        """A person the notice cannot be e-mailed to is failed with the reason, once."""
        if letter.missing or not letter.email:
            if "email" in letter.missing or not letter.email:
                why = "no e-mail address (send a letter by post)"
            else:
                why = missing_reason(letter.missing)
            with self.ws.store.write() as conn:
                deliverydb.mark_failed(conn, self.state.id, self.template, key, reason=why, at=self.now())
            result.failed += 1
            return True
        return False

    # ------------------------------------------------------------- outbox

    def write_outbox(self, folder: Path, result: SendResult) -> None:
        """Write every queued notice to the exercise outbox (drills never reach a server)."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for rows in self.queued():
            done: list[tuple[str, Letter]] = []
            for row in rows:
                letter = self.renderer.letter(row[:5])
                if self._undeliverable(row[0], letter, result):
                    continue
                name = letter_path(letter.reference, row[0], "eml").rsplit("/", 1)[1]
                _write_atomically(folder / name, letter.data)
                done.append((row[0], letter))
            at = self.now()
            with self.ws.store.write() as conn:
                for key, letter in done:
                    deliverydb.mark_written(
                        conn, self.state.id, self.template, key, message_id=letter.message_id,
                        sha256=hashlib.sha256(letter.data).hexdigest(), at=at,
                    )
            result.sent += len(done)
            self._report(result)

    def _report(self, result: SendResult) -> None:
        if self.progress is not None:
            done = result.sent + result.failed
            self.progress(done, max(self.total, done))

    # ----------------------------------------------------------- summary

    def finish(self, result: SendResult) -> None:
        """Count what is left and append the run's ``notices.sent`` event."""
        with self.ws.store.read() as conn:
            counts = deliverydb.counts(conn, self.state.id, self.template).get(self.template, {})
        result.unconfirmed = counts.get(deliverydb.SENDING, 0)
        result.queued = counts.get(deliverydb.QUEUED, 0)
        if result.sent or result.failed or result.unconfirmed or result.stopped:
            events = self.ws.incidents.record(self.state.id, [NewEvent("notices.sent", result.payload())])
            result.seq = events[0].seq


def _stuffed(data: bytes) -> bytes:
    """The message as SMTP DATA without its final dot: CRLF line ends, leading dots doubled."""
    text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    if text.startswith(b"."):
        text = b"." + text
    return text.replace(b"\r\n.", b"\r\n..")


_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")


def _name_of(letter: Letter) -> str:
    """The person's name as the letter's recipient line shows it (``Name <address>``)."""
    return letter.recipient.rsplit(" <", 1)[0] if letter.recipient.endswith(">") else ""


def _reply(code: int, reply: bytes) -> str:
    text = reply.decode("utf-8", "replace").replace("\n", " ").strip()
    return f"{code} {text}" if code != -1 else f"connection closed ({text or 'no reply'})"


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
        os.fsync(handle)
    finally:
        os.close(handle)
    os.replace(temporary, path)

