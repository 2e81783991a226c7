"""The incident's notification duties: the law, the recipient, a live countdown, fulfil and waive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from ir.clock import Clock, parse_instant
from ir.tui.data import countdown
from ir.tui.labels import tr
from ir.tui.widgets.incident_panel import ReadingPanel
from ir.tui.widgets.incident_table import DEADLINE_STYLE, clip

if TYPE_CHECKING:
    from ir.obligations.engine import Obligation
    from ir.obligations.status import Tracked
    from ir.workspace import Workspace

STATUS_STYLE = {"pending": "", "overdue": "bold white on red", "met": "green", "late": "bold yellow", "waived": "cyan"}
"""How each status reads."""

TICK_SECONDS = 1.0
"""How often the countdowns move on while the pane is showing (a drill's minutes pass quickly)."""


def urgency(item: Tracked) -> tuple[bool, str]:
    """Open duties first, soonest deadline (or own target) first; done and waived ones last."""
    ob = item.obligation
    done = item.status in ("met", "late", "waived")
    # ISO UTC instants sort as text; a duty with no time at all goes after those with one.
    return done, ob.due_at or ob.target_at or "~"


def live_status(item: Tracked, now: dt.datetime) -> str:
    """The duty's status at ``now``: a pending duty turns overdue once its legal deadline passes."""
    due = item.obligation.due_at
    if item.status == "pending" and due is not None and parse_instant(due) < now:
        return "overdue"
    return item.status


def clock_cell(item: Tracked, now: dt.datetime, lang: str) -> Text:
    """The countdown to the legal deadline (or to the organisation's own target), coloured."""
    ob = item.obligation
    if item.status in ("met", "late", "waived"):
        return Text("—", style="dim")
    if ob.due_at:
        text, level = countdown(parse_instant(ob.due_at), now)
        return Text(text, style=DEADLINE_STYLE[level])
    if ob.target_at:
        text, level = countdown(parse_instant(ob.target_at), now)
        label = tr("past target", lang) if level == "overdue" else tr("target {left}", lang, left=text)
        return Text(label, style=DEADLINE_STYLE[level])
    return Text(tr("no deadline", lang), style="dim")


CLOCK_WIDTH = 18
"""Cells for the countdown column (``target 2d 23h 57m`` and a space)."""

STATUS_WIDTH = 9
"""Cells for the status column."""


def duty_prompt(item: Tracked, now: dt.datetime, lang: str, width: int = 80) -> Text:
    """Two lines of at most ``width`` cells: countdown, status, rule and whether it is verified;
    then the law and the recipient."""
    ob = item.obligation
    status = live_status(item, now)
    text = Text()
    cell = clock_cell(item, now, lang)
    text.append_text(cell)
    text.append(" " * max(1, CLOCK_WIDTH - cell.cell_len))
    word = tr(status, lang)
    text.append(word, style=STATUS_STYLE[status])
    text.append(" " * max(1, STATUS_WIDTH - cell_len(word)))
    text.append(ob.rule, style="bold")
    if ob.verified:
        text.append("  ✓ " + tr("verified", lang), style="green")
    else:
        text.append("  ? " + tr("unverified", lang), style="yellow")
    law = f"{ob.regime} · {ob.citation}"
    room = width - CLOCK_WIDTH - cell_len(law) - 4
    text.append("\n" + " " * CLOCK_WIDTH)
    text.append(law, style="italic")
    text.append(f" → {clip(ob.recipient_name, max(room, 12))}", style="dim")
    return text


def duty_detail(item: Tracked, lang: str) -> Text:
    """What a privacy officer needs about one duty: who, by when, what goes in it, what was done."""
    ob, o = item.obligation, item.outcome
    text = Text()
    text.append(f"{ob.rule}", style="bold")
    text.append(f"  {ob.regime} · {ob.citation} · {ob.jurisdiction}\n")
    text.append(tr("To: ", lang), style="bold")
    text.append(f"{ob.recipient_name} ({ob.recipient})\n")
    text.append(tr("Due: ", lang), style="bold")
    text.append(f"{ob.due_at or '—'} · {ob.due_text}\n")
    if ob.target_at and not ob.due_at:
        text.append(tr("Own target: ", lang), style="bold")
        text.append(f"{ob.target_at}\n")
    if ob.required_fields:
        text.append(tr("The notice must say: ", lang), style="bold")
        text.append(", ".join(ob.required_fields) + "\n")
    if ob.template:
        text.append(tr("Template: ", lang), style="bold")
        text.append(f"{ob.template}\n")
    if not ob.verified:
        text.append(tr("Not verified in the reference: ", lang), style="bold yellow")
        text.append(", ".join(ob.unverified) + "\n")
    if o.fulfilled_at:
        done = tr("Fulfilled {at} by {person}", lang, at=o.fulfilled_at, person=o.fulfilled_by or "?")
        text.append(done, style="green")
        text.append(f" — {o.note}\n" if o.note else "\n")
    if o.waived_reason:
        text.append(tr("Waived by {person}: ", lang, person=o.waived_by or "?"), style="cyan")
        text.append(f"{o.waived_reason}\n")
    text.rstrip()
    return text


class ObligationsPanel(ReadingPanel):
    """Each duty the rules give the incident, with its countdown on the incident's clock.

    ``f`` records a fulfilment (at a time, default now), ``w`` a documented decision not to
    notify (with its reason); both are confirmed first. The list is re-read when the incident
    changes; the countdowns move on by themselves.
    """

    FIRST_FOCUS = ("#duties",)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "fulfil", "Fulfil"),
        Binding("w", "waive", "Waive"),
    ]
    """Keys on the highlighted duty."""

    READING = "read the obligations"

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.duties: list[Tracked] = []
        self.clock: Clock | None = None
        """The incident's clock (a drill's runs on scenario time)."""
        self._prompts: dict[str, str] = {}
        self._filled_width = 0
        """The width the duties' lines were cut to."""

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        yield Label(tr("Notification duties", lang), id="duties-title", classes="section-title")
        yield OptionList(id="duties")
        with VerticalScroll(id="duty-scroll", can_focus=False):
            yield Static("", id="duty-detail")

    def on_mount(self) -> None:
        self.set_interval(TICK_SECONDS, self.tick, name="duty-countdowns")

    def on_resize(self) -> None:
        # The recipient is cut to the width: a wider terminal shows more of it. (A pane
        # coming to the front is told its size again: the same width changes nothing.)
        if self.duties and self._width() != self._filled_width:
            self._fill()

    # ------------------------------------------------------------------ reading

    def reset(self, incident_id: str) -> None:
        """Forget the duties shown."""
        super().reset(incident_id)
        self.duties = []
        self.clock = None
        self._prompts = {}
        self.query_one("#duties", OptionList).clear_options()
        self.query_one("#duty-detail", Static).update("")

    def read(self, ws: Workspace, incident_id: str) -> tuple[list[Tracked], Clock]:
        """The duties and the incident's clock."""
        return ws.obligations.for_incident(incident_id), ws.clock_for(ws.incidents.get(incident_id))

    def loaded(self, data: tuple[list[Tracked], Clock]) -> None:
        duties, self.clock = data
        self.duties = sorted(duties, key=urgency)
        self._fill()

    def _width(self) -> int:
        """The cells a duty's line may take (the pane's width once laid out)."""
        return self.size.width - 2 if self.size.width > 20 else 78

    def _now(self) -> dt.datetime:
        return (self.clock or self.app.ws.clock).now()

    def _fill(self) -> None:
        lang = self.app.ws.lang
        duties = self.query_one("#duties", OptionList)
        current = self.current()
        now = self._now()
        width = self._filled_width = self._width()
        prompts = {d.obligation.rule: duty_prompt(d, now, lang, width) for d in self.duties}
        self._prompts = {rule: p.plain for rule, p in prompts.items()}
        duties.set_options(Option(prompt, id=rule) for rule, prompt in prompts.items())
        rules = list(prompts)
        if rules:
            kept = current.obligation.rule if current is not None else None
            duties.highlighted = rules.index(kept) if kept in rules else 0
        open_count = sum(1 for d in self.duties if d.status in ("pending", "overdue"))
        title = tr("Notification duties ({total}, {open} open)", lang, total=len(rules), open=open_count)
        self.query_one("#duties-title", Label).update(title)
        if not rules:
            self.query_one("#duty-detail", Static).update(
                tr("No notification duty is recorded for this incident. Duties follow from the facts "
                   "(aware_at, subjects, data_categories, ...) as the decisions are answered.", lang))
        else:
            self._show_detail()

    def tick(self) -> None:
        """Move the countdowns on to the incident's clock now (only lines whose text changed are redrawn)."""
        if not self.front or not self.duties:
            return
        lang = self.app.ws.lang
        now = self._now()
        duties = self.query_one("#duties", OptionList)
        width = self._width()
        for item in self.duties:
            prompt = duty_prompt(item, now, lang, width)
            if self._prompts.get(item.obligation.rule) != prompt.plain:
                self._prompts[item.obligation.rule] = prompt.plain
                duties.replace_option_prompt(item.obligation.rule, prompt)

    def current(self) -> Tracked | None:
        """The highlighted duty."""
        duties = self.query_one("#duties", OptionList)
        if duties.highlighted is None or duties.option_count == 0:
            return None
        rule = duties.get_option_at_index(duties.highlighted).id
        return next((d for d in self.duties if d.obligation.rule == rule), None)

    @on(OptionList.OptionHighlighted, "#duties")
    def _show_detail(self) -> None:
        item = self.current()
        self.query_one("#duty-detail", Static).update(duty_detail(item, self.app.ws.lang) if item else "")

    @on(OptionList.OptionSelected, "#duties")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        # Enter on a duty offers to record it fulfilled: the usual thing to do with one.
        event.stop()
        self.action_fulfil()

    # ----------------------------------------------------------------- commands

    def _check_time(self, text: str) -> str | None:
        """What is wrong with a fulfilment time typed (None when it will do)."""
        lang = self.app.ws.lang
        if text.lower() in ("", "now"):
            return None
        try:
            when = parse_instant(text)
        except ValueError:
            return tr("'{text}' is not a time: write now, or e.g. 2026-11-20T09:30+08:00", lang, text=text)
        if when > self._now():
            return tr("{text} is in the future on the incident's clock", lang, text=text)
        return None

    def _open_duty(self) -> Obligation | None:
        """The highlighted duty if it is still open (else a word on why nothing happens)."""
        item = self.current()
        if item is None:
            return None
        if item.status not in ("pending", "overdue"):
            lang = self.app.ws.lang
            self.notify(tr("{rule} is already {status}", lang, rule=item.obligation.rule, status=tr(item.status, lang)),
                        severity="warning")
            return None
        return item.obligation

    def _record(self, title: str, body: str, what: str, command: Callable[[Workspace, str, str], object],
                **dialog: Any) -> None:
        """Ask about the highlighted open duty (``title`` and ``body`` name its rule, recipient,
        citation and regime), then run ``command`` with its rule and the text typed."""
        from ir.tui.screens.confirm import ConfirmScreen

        ob = self._open_duty()
        if ob is None:
            return
        lang = self.app.ws.lang
        words = {"rule": ob.rule, "recipient": ob.recipient_name, "citation": ob.citation, "regime": ob.regime}
        incident, rule = self.incident_id, ob.rule

        def confirmed(text: str | None) -> None:
            if text is not None:
                self.app.run_command(what, lambda ws: command(ws, rule, text), incident_id=incident)

        screen = ConfirmScreen(self.dialog_title(tr(title, lang, **words)), tr(body, lang, **words), lang=lang, **dialog)
        self.app.push_screen(screen, confirmed)

    def action_fulfil(self) -> None:
        """Record that the highlighted duty was fulfilled, at a time (after confirmation)."""
        lang, incident = self.app.ws.lang, self.incident_id

        def fulfil(ws: Workspace, rule: str, text: str) -> object:
            return ws.obligations.fulfil(incident, rule, None if text.lower() in ("", "now") else text)

        self._record("Fulfil {rule}",
                     "Record that this duty was met: {citation} ({regime}), to {recipient}. When? now, or the "
                     "time it was done, with its offset. The record cannot be taken back.",
                     "record the fulfilment", fulfil,
                     confirm=tr("Record fulfilment", lang), value="now", check=self._check_time,
                     reason_prompt=tr("when: now, or e.g. 2026-11-20T09:30+08:00", lang))

    def action_waive(self) -> None:
        """Record a documented decision not to notify under the highlighted duty (after confirmation)."""
        lang, incident = self.app.ws.lang, self.incident_id

        def need_reason(text: str) -> str | None:
            return None if text else tr("Give the reason: a waiver is a documented decision not to notify.", lang)

        self._record("Waive {rule}",
                     "A documented decision not to notify {recipient} under {citation} ({regime}). Give the reason; "
                     "it is recorded with your name and cannot be taken back.",
                     "record the waiver", lambda ws, rule, reason: ws.obligations.waive(incident, rule, reason),
                     confirm=tr("Waive", lang), danger=True, check=need_reason,
                     reason_prompt=tr("reason for not notifying (required)", lang))
