"""Turning a template, an incident's facts and a person into a letter: text, HTML or e-mail.

A template body is plain text with a little structure: ``# `` starts the title line,
``## `` a heading, ``- `` a list item, and a blank line ends a paragraph. The text format
drops the markers; the HTML format wraps the blocks in an autoescaped page; the e-mail format
carries both in one MIME message.

Rendering a million letters the obvious way runs the whole template a million times. When a
template reads person fields only as plain ``{{ person.field }}`` outputs, the letter is
rendered once with a marker for each field, and each person's letter is that text with their
values filled in (escaped for HTML): the same bytes, many times faster. Any other use of
``person`` (a condition, a filter, a loop) renders each letter in full.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import datetime as dt
import hashlib
import json
import re
import signal
import threading
import time
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr
from typing import Any

from jinja2 import Template
from jinja2.exceptions import SecurityError
from markupsafe import escape

from ir.clock import parse_instant
from ir.errors import IrError
from ir.notices.pii import Cipher
from ir.notices.templates import MAX_OUTPUT, PERSON_FIELDS, sandbox

FORMATS = ("txt", "html", "eml")
"""Output formats of ``ir notices render``."""

MONTHS = ("", "January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")

EXERCISE_TEXT = {
    "en": "EXERCISE - This notice was produced in a drill. It is not a real notification and no personal data was affected.",
    "zh-CN": "EXERCISE 演练 —— 本通知为应急演练生成的内容，并非真实通知，未涉及真实个人信息。",
}
EXERCISE_SUBJECT = {"en": "[EXERCISE] ", "zh-CN": "[EXERCISE 演练] "}
"""How a drill's notices are marked, whatever the template says."""

_MARK = "\x00"
_BLANKS = re.compile(r"\n{3,}")
_HTML_BLANKS = re.compile(r"(?:<br>\n)+(</p>)|(<p[^>]*>)(?:<br>\n)+|(?:<br>\n){2,}")
_LAYOUT = """<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>body{font-family:sans-serif;font-size:11pt;line-height:1.5;max-width:42em;margin:2em auto;padding:0 1em}h1{font-size:16pt}h2{font-size:13pt;margin-top:1.5em}.exercise{border:2px solid #b00;color:#b00;padding:.5em;font-weight:bold}</style>
</head>
<body>
{% for kind, lines in blocks %}
{% if kind == "h1" %}
<h1>{{ lines[0] }}</h1>
{% elif kind == "h2" %}
<h2>{{ lines[0] }}</h2>
{% elif kind == "ul" %}
<ul>
{% for line in lines %}
<li>{{ line }}</li>
{% endfor %}
</ul>
{% else %}
<p{% if kind == "exercise" %} class="exercise"{% endif %}>{% for line in lines %}{{ line }}{% if not loop.last %}<br>
{% endif %}{% endfor %}</p>
{% endif %}
{% endfor %}
</body>
</html>
"""


@dataclass(frozen=True)
class Plan:
    """Everything needed to render one run's notices; plain data, sent to worker processes.

    Attributes:
        variables: the incident's facts plus ``notice``, ``incident`` and ``exercise``.
        titles: data category id -> title in the template's language.
        incident_categories: the incident's ``data_categories`` (for people with none of their own).
        sender: the From address (e-mail format only).
        seed: what Message-IDs are derived from (incident and template).
        date_header: the e-mail Date header (one per run, so reruns produce the same bytes).
    """

    template_id: str
    title: str
    audience: str
    locale: str
    zone: str
    body: str
    subject: str
    fast: bool
    fmt: str
    variables: dict[str, Any]
    titles: dict[str, str]
    incident_categories: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    defaults: dict[str, str] = field(default_factory=dict)
    exercise: bool = False
    sender: str = ""
    seed: str = ""
    date_header: str = ""
    incident_id: str = ""


@dataclass
class Letter:
    """One rendered notice.

    Attributes:
        data: the bytes written (or sent).
        subject: the e-mail subject (with the exercise mark for a drill).
        email: the person's e-mail address ("" if none).
        recipient: who it is for, as the manifest shows it.
        message_id: the e-mail Message-ID (e-mail format).
        missing: person fields the template requires that this person lacks (then no data).
        reference: the person's reference.
    """

    data: bytes
    subject: str
    email: str = ""
    recipient: str = ""
    message_id: str = ""
    missing: list[str] = field(default_factory=list)
    reference: str = ""


LABELS = {"email": "e-mail address", "postal_address": "postal address", "categories_text": "data categories"}


def missing_reason(fields: Sequence[str]) -> str:
    """Why a person gets no letter: ``no postal address``."""
    return "no " + ", ".join(LABELS.get(f, f) for f in fields)


class Renderer:
    """Renders a plan's notices (build one per process; it compiles the template once).

    Args:
        plan: what to render.
        cipher: opens people's sealed personal fields (letters to people need one).
    """

    def __init__(self, plan: Plan, cipher: Cipher | None = None) -> None:
        self.plan = plan
        self.cipher = cipher or Cipher(None)
        self.env = sandbox()
        self.env.filters.update(_filters(plan))
        self.layout = sandbox(autoescape=True).from_string(_LAYOUT)
        self.body = self._compile(plan.body, "body")
        self.subject = self._compile(plan.subject, "subject")
        self._reference = ""
        self._fast: tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]] | None = None
        if plan.fast and plan.audience == "individual":
            self._fast = self._prepare()
        self._fast_fields: list[str] = []
        if self._fast is not None and plan.fmt == "txt":
            self._fast_fields = sorted({name for _literal, name in self._fast[0] if name})
        self._categories: dict[str, str] = {}

    # ---------------------------------------------------------------- letters

    def document(self) -> Letter:
        """The one notice of a regulator, public or internal template."""
        text = self._run(self.body, self.plan.variables, "body")
        subject = self._subject(self._run(self.subject, self.plan.variables, "subject"))
        return Letter(self._format(text, subject), subject, recipient=self.plan.audience)

    def letter(self, row: Sequence[Any]) -> Letter:
        """The letter for one person: ``row`` is (ref_hash, jurisdiction, locale, categories, sealed pii)."""
        letter = self._letter(row)
        letter.reference = letter.reference or self._reference
        return letter

    def _letter(self, row: Sequence[Any]) -> Letter:
        values = self.person(row)
        self._reference = values["reference"]
        missing = [f for f in self.plan.required if not values[f]]
        if self.plan.fmt == "eml" and not values["email"] and "email" not in missing:
            missing.append("email")
        recipient = _recipient(values, self.plan.fmt)
        if missing:
            return Letter(b"", "", values["email"], recipient, missing=missing)
        self._default(values)
        if self._fast is not None:
            body_parts, subject_parts = self._fast
            if self.plan.fmt == "txt":
                # Only an empty field can leave a blank line to tidy away.
                text = _fill(body_parts, values)
                if not all(values[name] for name in self._fast_fields):
                    text = tidy_txt(text)
                return Letter(text.encode("utf-8"), "", values["email"], recipient)
            subject = self._subject(_fill(subject_parts, values))
            if self.plan.fmt == "html":
                html = tidy_html(_fill(body_parts, _html_values(values)))
                return Letter(html.encode("utf-8"), subject, values["email"], recipient)
            text, html = body_parts
            return self._email(
                row[0], values, subject, tidy_txt(_fill(text, values)), tidy_html(_fill(html, _html_values(values))), recipient
            )
        context = {**self.plan.variables, "person": _Person(values)}
        text = self._run(self.body, context, "body")
        subject = self._subject(self._run(self.subject, context, "subject"))
        if self.plan.fmt == "eml":
            return self._email(row[0], values, subject, tidy_txt(self._txt(text)), tidy_html(self._html(text, subject)), recipient)
        return Letter(self._format(text, subject), subject, values["email"], recipient)

    def subject_for(self, row: Sequence[Any]) -> str:
        """The subject line of one person's notice, whatever the format (a text letter written
        to a file carries none): for showing a letter before it is sent."""
        values = self._default(self.person(row))
        if self._fast is not None:
            return self._subject(_fill(self._fast[1], values))
        return self._subject(self._run(self.subject, {**self.plan.variables, "person": _Person(values)}, "subject"))

    def _default(self, values: dict[str, str]) -> dict[str, str]:
        """Fill the template's defaults into the empty fields it does not require."""
        for name, default in self.plan.defaults.items():
            if not values[name] and name not in self.plan.required:
                values[name] = default
        return values

    def person(self, row: Sequence[Any]) -> dict[str, str]:
        """A person's fields as templates see them (before defaults)."""
        key, jurisdiction, locale, categories, sealed = row[:5]
        who = self.cipher.open(self.plan.incident_id, key, sealed)
        text = self._categories.get(categories)
        if text is None:
            own = json.loads(categories)
            text = self._categories[categories] = self._category_text(own or list(self.plan.incident_categories))
        return {
            "reference": who.reference,
            "name": who.name,
            "email": who.email,
            "phone": who.phone,
            "postal_address": who.postal_address,
            "jurisdiction": jurisdiction,
            "locale": locale,
            "categories_text": text,
        }

    def message_id(self, ref_hash: str) -> str:
        """The Message-ID of this run's notice to one person: the same on every run and resend."""
        digest = hashlib.sha256(f"{self.plan.seed}/{ref_hash}".encode()).hexdigest()[:32]
        domain = self.plan.sender.rpartition("@")[2] or "ir.invalid"
        return f"<{digest}.notice@{domain}>"

    # --------------------------------------------------------------- machinery

    def _prepare(self) -> tuple[Any, Any] | None:
        """Render once with a marker per person field; None if the markers do not survive."""
        marked = {name: f"{_MARK}{name}{_MARK}" for name in PERSON_FIELDS}
        context = {**self.plan.variables, "person": _Person(marked)}
        text = self._run(self.body, context, "body")
        rendered_subject = self._run(self.subject, context, "subject")
        subject = _split_marks(rendered_subject)
        if self.plan.fmt == "eml":
            title = self._subject(rendered_subject)
            body: Any = (_split_marks(self._txt(text)), _split_marks(self._html(text, title)))
            ok = body[0] is not None and body[1] is not None
        else:
            title = self._subject(rendered_subject)
            body = _split_marks(self._html(text, title) if self.plan.fmt == "html" else self._txt(text))
            ok = body is not None
        if not ok or subject is None:
            return None
        return body, subject

    def _compile(self, source: str, part: str) -> Template:
        try:
            return self.env.from_string(source)
        except Exception as exc:  # a template that does not compile: the template's fault
            raise TemplateFailed(f"template {self.plan.template_id}: the {part} cannot be compiled: {_why(exc)}") from None

    def _run(self, template: Template, context: Mapping[str, Any], part: str) -> str:
        """Render one template part within the limits (see :func:`bounded`); any failure of the
        template's own code becomes a one-line error naming the template."""
        try:
            return bounded(template, context)
        except IrError:
            raise
        except Exception as exc:  # the template's code failed: whatever it did, it is the template's fault
            raise TemplateFailed(f"template {self.plan.template_id}: the {part} cannot be rendered: {_why(exc)}") from None

    def _subject(self, subject: str) -> str:
        subject = " ".join(subject.split())
        return EXERCISE_SUBJECT[self.plan.locale] + subject if self.plan.exercise else subject

    def _format(self, text: str, subject: str) -> bytes:
        if self.plan.fmt == "html":
            return tidy_html(self._html(text, subject)).encode("utf-8")
        return tidy_txt(self._txt(text)).encode("utf-8")

    def _blocks(self, text: str) -> list[tuple[str, list[str]]]:
        blocks = blocks_of(text)
        if self.plan.exercise:
            mark = ("exercise", [EXERCISE_TEXT[self.plan.locale]])
            blocks = [mark, *blocks, mark]
        return blocks

    def _txt(self, text: str) -> str:
        out = []
        for kind, lines in self._blocks(text):
            if kind == "ul":
                out.append("\n".join(f"- {line}" for line in lines))
            else:
                out.append("\n".join(lines))
        return "\n\n".join(out) + "\n"

    def _html(self, text: str, subject: str) -> str:
        return self.layout.render(lang=self.plan.locale, title=subject or self.plan.title, blocks=self._blocks(text))

    def _email(self, key: str, values: Mapping[str, str], subject: str, text: str, html: str, recipient: str) -> Letter:
        message_id = self.message_id(key)
        data = build_email(
            sender=self.plan.sender, name=values["name"], address=values["email"], subject=subject,
            date=self.plan.date_header, message_id=message_id, text=text, html=html, exercise=self.plan.exercise,
        )
        return Letter(data, subject, values["email"], recipient, message_id)

    def _category_text(self, ids: Sequence[str]) -> str:
        return category_words(ids, self.plan.titles, self.plan.locale)


class TemplateFailed(IrError):
    """A template failed while rendering: refused by the sandbox, over a limit, or an error in it."""


class TemplateTooBig(Exception):
    """A letter grew past :data:`~ir.notices.templates.MAX_OUTPUT` characters."""


TIME_LIMIT = 10.0
"""Seconds one letter or document may take to render (a letter takes well under a millisecond)."""


class TemplateTimeout(Exception):
    """A letter took longer than :data:`TIME_LIMIT` seconds."""

    def __init__(self, message: str = "") -> None:
        # Raised without arguments when a watchdog interrupts a thread.
        super().__init__(message or f"it ran for more than {TIME_LIMIT:g} seconds")


def bounded(template: Template, context: Mapping[str, Any]) -> str:
    """Render ``template``, stopping it past :data:`~ir.notices.templates.MAX_OUTPUT` characters
    or :data:`TIME_LIMIT` seconds.

    The size is counted as the output is produced, so a loop that would write without end is
    stopped early. The time limit is an interval timer on a process's main thread (workers and
    the command line) and a watchdog elsewhere (the terminal app renders in a thread): a loop
    that writes nothing (nested loops over a long value) is stopped either way.
    """
    with _deadline(TIME_LIMIT):
        parts: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateTooBig(f"it produces more than {MAX_OUTPUT:,} characters")
            parts.append(chunk)
        return "".join(parts)


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        with _WATCHDOG.limit(seconds):
            yield
        return
    if not hasattr(signal, "setitimer"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _expired(signum: int, frame: Any) -> None:
    raise TemplateTimeout()


class _Watchdog:
    """Stops a thread's render past its deadline by raising :class:`TemplateTimeout` in it.

    A thread cannot take a signal, so one daemon thread checks the deadlines a few times a
    second and uses CPython's ``PyThreadState_SetAsyncExc``, which raises an exception in
    another thread at its next bytecode: a template's loops are Python bytecode, so they stop.
    """

    TICK = 0.1
    IDLE = 5.0
    """Seconds without a render after which the watching thread ends (an idle app wakes for nothing)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadlines: dict[int, float] = {}
        self.fired: set[int] = set()
        self.thread: threading.Thread | None = None

    @contextlib.contextmanager
    def limit(self, seconds: float) -> Iterator[None]:
        api = getattr(ctypes, "pythonapi", None)
        if api is None:  # not CPython: only the size is bounded
            yield
            return
        ident = threading.get_ident()
        with self.lock:
            self.fired.discard(ident)
            self.deadlines[ident] = time.monotonic() + seconds
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, name="ir-template-watchdog", daemon=True)
                self.thread.start()
        try:
            yield
        finally:
            with self.lock:
                self.deadlines.pop(ident, None)
                fired = ident in self.fired
                self.fired.discard(ident)
            if fired:
                # Fired as the render ended: take back an exception not yet delivered, and say so.
                api.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)
                raise TemplateTimeout()

    def _watch(self) -> None:
        busy = time.monotonic()
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self.lock:
                if self.deadlines:
                    busy = now
                elif now - busy > self.IDLE:
                    self.thread = None  # the next render in a thread starts another
                    return
                for ident, due in list(self.deadlines.items()):
                    if now >= due:
                        del self.deadlines[ident]
                        self.fired.add(ident)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(TemplateTimeout))


_WATCHDOG = _Watchdog()


def _why(exc: BaseException) -> str:
    if isinstance(exc, (TemplateTooBig, TemplateTimeout)):
        return str(exc)
    if isinstance(exc, SecurityError):
        return f"refused by the sandbox ({exc})"
    if isinstance(exc, RecursionError):
        return "it recurses too deeply"
    if isinstance(exc, MemoryError):
        return "it needs more memory than there is"
    return f"{type(exc).__name__}: {exc}"


class _Person:
    """What ``person`` is inside a template: read-only attributes."""

    __slots__ = tuple(PERSON_FIELDS)

    def __init__(self, values: Mapping[str, str]) -> None:
        for name in PERSON_FIELDS:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("person is read-only")


def blocks_of(text: str) -> list[tuple[str, list[str]]]:
    """Split a rendered body into blocks: (``h1`` | ``h2`` | ``ul`` | ``p``, lines)."""
    out: list[tuple[str, list[str]]] = []
    for chunk in re.split(r"\n[ \t]*\n", text.strip("\n")):
        # Lines are kept as written (even empty ones) so that a letter filled in from marked
        # text and one rendered in full come out byte for byte the same.
        lines = [line.rstrip() for line in chunk.strip("\n").split("\n")]
        if not any(line.strip() for line in lines):
            continue
        if len(lines) == 1 and lines[0].startswith("# "):
            out.append(("h1", [lines[0][2:].strip()]))
        elif len(lines) == 1 and lines[0].startswith("## "):
            out.append(("h2", [lines[0][3:].strip()]))
        elif all(line.startswith("- ") for line in lines):
            out.append(("ul", [line[2:].strip() for line in lines]))
        else:
            out.append(("p", lines))
    return out


def tidy_txt(text: str) -> str:
    """Drop the blank lines an empty field leaves (a letter never has more than one in a row)."""
    return _BLANKS.sub("\n\n", text)


def tidy_html(html: str) -> str:
    """Drop the line breaks an empty field leaves at the start or end of a paragraph."""
    return _HTML_BLANKS.sub(lambda m: m.group(1) or m.group(2) or "<br>\n", html)


def category_words(ids: Sequence[str], titles: Mapping[str, str], locale: str) -> str:
    """Data categories in words, in the playbook's order: ``name, contact details and national ID number``."""
    order = {key: n for n, key in enumerate(titles)}
    ranked = sorted(dict.fromkeys(ids), key=lambda i: (order.get(i, len(order)), i))
    words = [titles.get(i, i) for i in ranked]
    if locale == "en":
        # Titles are capitalised for lists; inside a sentence they read in lower case
        # (but "ID" and other abbreviations stay as they are).
        words = [w[0].lower() + w[1:] if len(w) > 1 and not w[1].isupper() else w for w in words]
    return join_words(words, locale)


def _split_marks(text: str) -> list[tuple[str, str | None]] | None:
    """[(literal, field name or None)] from marked text; None if a marker was damaged."""
    tokens = text.split(_MARK)
    if len(tokens) % 2 == 0:
        return None
    pairs: list[tuple[str, str | None]] = []
    for i in range(0, len(tokens), 2):
        name = tokens[i + 1] if i + 1 < len(tokens) else None
        if name is not None and name not in PERSON_FIELDS:
            return None
        pairs.append((tokens[i], name))
    return pairs


def _fill(parts: list[tuple[str, str | None]], values: Mapping[str, str]) -> str:
    return "".join([literal + (values[name] if name else "") for literal, name in parts])


def _html_values(values: Mapping[str, str]) -> dict[str, str]:
    return {k: str(escape(v)).replace("\n", "<br>\n") for k, v in values.items()}


def _recipient(values: Mapping[str, str], fmt: str) -> str:
    """Who a letter is for, on one line: e-mail letters name the address, others the post address."""
    name = values["name"]
    if fmt == "eml":
        return f"{name} <{values['email']}>" if name else values["email"]
    address = values["postal_address"].replace("\n", ", ")
    return ", ".join(p for p in (name, address) if p) or values["reference"]


def join_words(words: Sequence[str], locale: str) -> str:
    """``a, b and c`` (English) or ``a、b、c`` (Chinese)."""
    items = [w for w in words if w]
    if locale == "zh-CN":
        return "、".join(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def build_email(
    *, sender: str, name: str, address: str, subject: str, date: str, message_id: str, text: str, html: str, exercise: bool
) -> bytes:
    """A MIME message (text and HTML alternatives, UTF-8, base64) with CRLF line ends.

    The boundary comes from the Message-ID, so the same notice always has the same bytes.
    """
    boundary = "=_ir_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]
    headers = [
        f"From: {_header_address('', sender)}",
        f"To: {_header_address(name, address)}",
        f"Subject: {_header_text(subject)}",
        f"Date: {date}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    if exercise:
        headers.append("X-IR-Exercise: yes")
    lines = [*headers, ""]
    for kind, content in (("plain", text), ("html", html)):
        lines += [
            f"--{boundary}",
            f"Content-Type: text/{kind}; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            base64.encodebytes(content.encode("utf-8")).decode("ascii").rstrip("\n"),
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join("\r\n".join(line.split("\n")) for line in lines).encode("ascii")


def _header_text(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _header_address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


# -------------------------------------------------------------------- filters


def _filters(plan: Plan) -> dict[str, Any]:
    zone = zoneinfo.ZoneInfo(plan.zone)
    zh = plan.locale == "zh-CN"

    def instant(value: Any) -> dt.datetime | None:
        """A fact's time in the template's zone, or None if it is not a time."""
        try:
            return parse_instant(str(value)).astimezone(zone)
        except ValueError:
            return None

    def date(value: Any) -> str:
        """``20 November 2026`` / ``2026年11月20日``."""
        when = instant(value)
        return str(value) if when is None else format_date(when, plan.locale, plan.zone)

    def datetime(value: Any) -> str:
        """``18 November 2026, 02:15 UTC`` / ``2026年11月18日 10:15（北京时间）``."""
        when = instant(value)
        if when is None:
            return str(value)
        where = _zone_words(when, plan.zone, zh)
        if zh:
            return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}（{where}）"
        return f"{when.day} {MONTHS[when.month]} {when.year}, {when:%H:%M} {where}"

    def number(value: Any) -> str:
        """``1,500,040``."""
        try:
            return f"{int(value):,}"
        except (TypeError, ValueError):
            return str(value)

    def categories(value: Any) -> str:
        """Category ids in words, in the template's language."""
        ids = value if isinstance(value, list) else [value]
        return category_words([str(i) for i in ids], plan.titles, plan.locale)

    def counts(value: Any) -> str:
        """People by jurisdiction: ``CN: 1,500,000, DE: 40``."""
        if not isinstance(value, Mapping):
            return str(value)
        if zh:
            return "；".join(f"{k}：{int(v):,}人" for k, v in value.items())
        return ", ".join(f"{k}: {int(v):,}" for k, v in value.items())

    return {"date": date, "datetime": datetime, "number": number, "categories": categories, "counts": counts}


def format_date(instant: dt.datetime, locale: str, zone: str) -> str:
    """A date as a letter writes it: ``20 November 2026`` or ``2026年11月20日``, in ``zone``."""
    when = instant.astimezone(zoneinfo.ZoneInfo(zone))
    if locale == "zh-CN":
        return f"{when.year}年{when.month}月{when.day}日"
    return f"{when.day} {MONTHS[when.month]} {when.year}"


def _zone_words(when: dt.datetime, zone: str, zh: bool) -> str:
    if zone == "Asia/Shanghai":
        return "北京时间" if zh else "China Standard Time"
    if zone == "UTC":
        return "UTC"
    offset = when.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"
