"""The incident's notification duties: the law, the recipient, a live countdown, fulfil and waive."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ir.clock import Clock, parse_instant
from ir.engine.playbook import Playbook
from ir.errors import IrError
from ir.tui.data import countdown
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed
from ir.tui.widgets.incident_panel import IncidentPanel
from ir.tui.widgets.incident_table import DEADLINE_STYLE, clip

if TYPE_CHECKING:
    from ir.obligations.status import Tracked

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


class ObligationsPanel(IncidentPanel):
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

    class Loaded(Message):
        """The duties of ``incident_id`` as read by a worker at version ``seq``, with its clock."""

        def __init__(self, incident_id: str, seq: int, duties: list[Tracked], clock: Clock) -> None:
            super().__init__()
            self.incident_id = incident_id
            self.seq = seq
            self.duties = duties
            self.clock = clock

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.duties: list[Tracked] = []
        self.clock: Clock | None = None
        """The incident's clock (a drill's runs on scenario time)."""
        self.loaded_seq = -1
        self._prompts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        yield Label(tr("Notification duties", lang), id="duties-title", classes="section-title")
        yield OptionList(id="duties")
        with VerticalScroll(id="duty-scroll", can_focus=False):
            yield Static("", id="duty-detail")

    def on_mount(self) -> None:
        self.set_interval(TICK_SECONDS, self.tick, name="duty-countdowns")

    def on_resize(self) -> None:
        # The recipient is cut to the width: a wider terminal shows more of it.
        if self.duties:
            self._fill()

    # ------------------------------------------------------------------ reading

    def reset(self, incident_id: str) -> None:
        """Forget the duties shown."""
        super().reset(incident_id)
        self.duties = []
        self.clock = None
        self.loaded_seq = -1
        self._prompts = {}
        self.query_one("#duties", OptionList).clear_options()
        self.query_one("#duty-detail", Static).update("")

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Re-read the duties when the incident moved on, if the pane shows."""
        super().show(view, pb)
        if self.front and view["seq"] != self.loaded_seq:
            self.load(view["seq"])

    def activated(self) -> None:
        """Read what changed while the pane was hidden (a hidden pane reads nothing)."""
        super().activated()
        if self.view is not None and self.view["seq"] != self.loaded_seq:
            self.load(self.view["seq"])

    @work(thread=True, exclusive=True, group="obligations", exit_on_error=False)
    def load(self, seq: int) -> None:
        """Read the duties and the incident's clock in a worker with its own connection."""
        worker = get_current_worker()
        incident = self.incident_id
        try:
            with self.app.open_workspace() as ws:
                duties = ws.obligations.for_incident(incident)
                clock = ws.clock_for(ws.incidents.get(incident))
        except IrError as exc:
            self.post_message(ActionFailed("read the obligations", str(exc), type(exc).__name__, refresh=False))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(incident, seq, duties, clock))

    def on_obligations_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.incident_id != self.incident_id:
            return  # read for the incident shown before
        self.loaded_seq = message.seq
        self.duties = sorted(message.duties, key=urgency)
        self.clock = message.clock
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
        width = self._width()
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

    def action_fulfil(self) -> None:
        """Record that the highlighted duty was fulfilled, at a time (after confirmation)."""
        from ir.tui.screens.confirm import ConfirmScreen

        item = self.current()
        lang = self.app.ws.lang
        if item is None:
            return
        if item.status not in ("pending", "overdue"):
            self.notify(tr("{rule} is already {status}", lang, rule=item.obligation.rule, status=tr(item.status, lang)),
                        severity="warning")
            return
        ob = item.obligation
        body = tr("Record that this duty was met: {citation} ({regime}), to {recipient}. When? now, or the "
                  "time it was done, with its offset. The record cannot be taken back.", lang,
                  recipient=ob.recipient_name, citation=ob.citation, regime=ob.regime)
        rule, incident = ob.rule, self.incident_id

        def confirmed(text: str | None) -> None:
            if text is None:
                return
            at = None if text.lower() in ("", "now") else text
            self.app.run_command("record the fulfilment", lambda ws: ws.obligations.fulfil(incident, rule, at),
                                 incident_id=incident)

        screen = ConfirmScreen(self.dialog_title(tr("Fulfil {rule}", lang, rule=rule)), body, lang=lang,
                               confirm=tr("Record fulfilment", lang), value="now", check=self._check_time,
                               reason_prompt=tr("when: now, or e.g. 2026-11-20T09:30+08:00", lang))
        self.app.push_screen(screen, confirmed)

    def action_waive(self) -> None:
        """Record a documented decision not to notify under the highlighted duty (after confirmation)."""
        from ir.tui.screens.confirm import ConfirmScreen

        item = self.current()
        lang = self.app.ws.lang
        if item is None:
            return
        if item.status not in ("pending", "overdue"):
            self.notify(tr("{rule} is already {status}", lang, rule=item.obligation.rule, status=tr(item.status, lang)),
                        severity="warning")
            return
        ob = item.obligation
        body = tr("A documented decision not to notify {recipient} under {citation} ({regime}). Give the reason; "
                  "it is recorded with your name and cannot be taken back.", lang,
                  recipient=ob.recipient_name, citation=ob.citation, regime=ob.regime)
        rule, incident = ob.rule, self.incident_id

        def confirmed(reason: str | None) -> None:
            if reason:
                self.app.run_command("record the waiver", lambda ws: ws.obligations.waive(incident, rule, reason),
                                     incident_id=incident)

        def need_reason(text: str) -> str | None:
            return None if text else tr("Give the reason: a waiver is a documented decision not to notify.", lang)

        screen = ConfirmScreen(self.dialog_title(tr("Waive {rule}", lang, rule=rule)), body, lang=lang,
                               confirm=tr("Waive", lang), danger=True, check=need_reason,
                               reason_prompt=tr("reason for not notifying (required)", lang))
        self.app.push_screen(screen, confirmed)
