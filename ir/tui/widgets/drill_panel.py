"""The facilitator's pane of a drill: scenario time, the inject feed, expectations, score, control."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static
from textual.widgets.option_list import Option

from ir.errors import IrError, NotFound
from ir.tui.data import DrillQuestion, DrillSnapshot, load_drill
from ir.tui.labels import tr
from ir.tui.widgets.incident_panel import ReadingPanel

if TYPE_CHECKING:
    from ir.workspace import Workspace

TICK_SECONDS = 1.0
"""How often scenario time and the wait for the next inject move on while the pane shows."""

REREAD_SECONDS = 5.0
"""How often a running drill's expectations and score are read again while the pane shows
(they change with scenario time, not only with events)."""

STATE_STYLE = {
    "delivered": "green", "pending": "dim", "waiting": "yellow", "skipped": "dim", "expired": "red",
    "met": "green", "late": "yellow", "missed": "bold red", "overdue": "bold red", "n/a": "dim",
}
"""How the state of an inject or an expectation reads."""


def _offset_text(seconds: float) -> str:
    """Scenario time as ``+1d02:30`` (days only when there are some)."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return f"+{days}d{hours:02d}:{mins:02d}" if days else f"+{hours:02d}:{mins:02d}"


def status_text(snap: DrillSnapshot, wall_now: dt.datetime, lang: str) -> Text:
    """Three lines: state, pace and scenario time; the next inject; the score so far."""
    st = snap.status
    offset = snap.offset(wall_now)
    text = Text()
    text.append(" EXERCISE ", style="bold black on yellow")
    mark = {"running": "▶ ", "paused": "⏸ ", "ended": "■ "}.get(st.state, "")
    text.append(f" {mark}{tr(st.state, lang).upper()}", style="bold")
    pace = tr("stepped", lang) if st.speed is None else f"{st.speed:g}x"
    text.append(f" · {pace} · " + tr("scenario time {now} of {end}", lang, now=_offset_text(offset),
                                     end=_offset_text(st.length)))
    text.append("\n")
    nxt = st.next_inject
    if st.state == "ended":
        text.append(tr("ENDEX: {reason}", lang, reason=st.ended_reason or "—"), style="bold")
    elif nxt is None:
        text.append(tr("No injects left: end the drill with e", lang), style="dim")
    else:
        wait = snap.next_in(wall_now)
        due = tr("in {seconds} s", lang, seconds=f"{wait:.0f}") if wait is not None else tr("when time runs", lang)
        text.append(tr("Next inject", lang) + f" {nxt['id']} {nxt['due']} ({due}): ", style="bold")
        text.append(nxt["title"])
    text.append("\n")
    score = "n/a" if st.score is None else f"{st.score:g}"
    label = tr("Score", lang) if st.state == "ended" else tr("Score so far", lang)
    text.append(f"{label} {score}/100 ({st.rating})", style="bold")
    counts: dict[str, int] = {}
    for e in st.expectations:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    for status, n in sorted(counts.items()):
        text.append(" · ")
        text.append(f"{n} {tr(status, lang)}", style=STATE_STYLE.get(status, ""))
    return text


def feed_text(snap: DrillSnapshot, lang: str) -> Text:
    """The injects delivered so far, newest first: when, channel, from, to, title and text."""
    text = Text()
    text.append(tr("Inject feed ({count}), newest first", lang, count=len(snap.status.feed)) + "\n", style="bold")
    if not snap.status.feed:
        text.append(tr("No inject delivered yet.", lang), style="dim")
    for item in reversed(snap.status.feed):
        text.append(f"{item['offset']}  ", style="bold cyan")
        text.append(f"[{item['channel']}] {item['from']} → {', '.join(item['to'])}  ", style="italic")
        text.append(f"({item['inject']})\n", style="dim")
        text.append(f"  {item['title']}\n", style="bold")
        text.append(f"  {item['text']}\n\n")
    text.rstrip()
    return text


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 1), show_edge=False, expand=True, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def injects_table(snap: DrillSnapshot, lang: str) -> Table:
    """Every inject of the scenario with its state."""
    table = _table(tr("Inject", lang), tr("Due", lang), tr("Channel", lang), tr("State", lang), tr("Title", lang))
    for i in snap.status.injects:
        state = Text(tr(i["status"], lang), style=STATE_STYLE.get(i["status"], ""))
        table.add_row(i["id"], i["due"], i["channel"], state, i["title"])
    return table


def expectations_table(snap: DrillSnapshot, lang: str) -> Table:
    """Each expectation: by when, when met, its status."""
    table = _table(tr("Expectation", lang), tr("By", lang), tr("Done", lang), tr("Status", lang), tr("Title", lang))
    for e in snap.status.expectations:
        table.add_row(e["id"], e["by"] or "ENDEX", e["at"] or "—",
                      Text(tr(e["status"], lang), style=STATE_STYLE.get(e["status"], "")), e["title"])
    return table


def objectives_table(snap: DrillSnapshot, lang: str) -> Table:
    """Each objective's rating (P, S, M, U) and score."""
    table = _table(tr("Objective", lang), tr("Rating", lang), tr("Score", lang), tr("Title", lang))
    for o in snap.status.objectives:
        table.add_row(o["id"], o["rating"], "n/a" if o["score"] is None else f"{o['score']:g}", o["title"])
    return table


def discussion_text(snap: DrillSnapshot, lang: str) -> Text:
    """The discussion questions with the answers recorded, and the hot-wash notes."""
    text = Text()
    text.append(tr("Discussion questions (d answers one)", lang) + "\n", style="bold")
    for q in snap.questions:
        text.append(f"{q.id}", style="bold")
        text.append(f" {q.module}: ", style="dim")
        text.append(f"{q.text}\n")
        for answer in q.answers:
            text.append(f"  → {answer}\n", style="green")
    text.append("\n" + tr("Hot wash (h adds a note)", lang) + "\n", style="bold")
    for note in snap.hotwash:
        text.append(f"• {note}\n")
    if not snap.hotwash:
        text.append(tr("No note yet.", lang), style="dim")
    text.rstrip()
    return text


class DrillPanel(ReadingPanel):
    """The exercise control of one drill, for its facilitator.

    Shows scenario time, pace and state, the next inject and when it falls due, the inject
    feed, every inject's state, the expectations and objectives with the score; and offers
    pause or resume (``p``), speed (``s``), skip to the next inject (``>``), end (``e``,
    confirmed), a hot-wash note (``h``) and a discussion answer (``d``).
    """

    FIRST_FOCUS = ("#drill-scroll",)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause/resume"),
        Binding("s", "speed", "Speed"),
        Binding("greater_than_sign", "skip", "Next inject", key_display=">"),
        Binding("e", "end", "End drill"),
        Binding("h", "hotwash", "Hot wash"),
        Binding("d", "discuss", "Discuss"),
    ]
    """Exercise-control keys."""

    READING = "read the drill"

    class Missing(Message):
        """The incident is an exercise with no drill behind it (opened without a scenario)."""

        def __init__(self, incident_id: str, reason: str) -> None:
            super().__init__()
            self.incident_id = incident_id
            self.reason = reason

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.snapshot: DrillSnapshot | None = None
        self._status_shown = ""
        self._since_read = 0.0

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        yield Static(tr("Reading the drill…", lang), id="drill-status")
        with VerticalScroll(id="drill-scroll"):
            yield Static("", id="drill-feed")
            yield Static("", id="drill-tables")
            yield Static("", id="drill-discussion")
        yield Input(placeholder=tr("Hot-wash note — Enter saves", lang), id="hotwash", compact=True)

    def on_mount(self) -> None:
        self.set_interval(TICK_SECONDS, self._tick, name="drill-clock")

    # ------------------------------------------------------------------ reading

    def reset(self, incident_id: str) -> None:
        """Forget the drill shown (and a hot-wash note not yet saved)."""
        super().reset(incident_id)
        self.snapshot = None
        self._status_shown = ""
        self.query_one("#drill-status", Static).update(tr("Reading the drill…", self.app.ws.lang))
        for section in ("#drill-feed", "#drill-tables", "#drill-discussion"):
            self.query_one(section, Static).update("")
        self.query_one("#hotwash", Input).value = ""

    def read(self, ws: Workspace, incident_id: str) -> DrillSnapshot:
        """The drill's status, feed, tables and discussion."""
        return load_drill(ws, incident_id)

    def read_failed(self, incident_id: str, exc: IrError) -> None:
        if isinstance(exc, NotFound):
            # An exercise incident opened without a scenario has no drill to control.
            self.post_message(self.Missing(incident_id, str(exc)))
        else:
            super().read_failed(incident_id, exc)

    def loaded(self, data: DrillSnapshot) -> None:
        self.snapshot = snap = data
        self._since_read = 0.0
        lang = self.app.ws.lang
        self.query_one("#drill-feed", Static).update(feed_text(snap, lang))
        sections: list[RenderableType] = [
            Text("\n" + tr("Injects", lang), style="bold"), injects_table(snap, lang),
            Text("\n" + tr("Expectations", lang), style="bold"), expectations_table(snap, lang),
            Text("\n" + tr("Objectives", lang), style="bold"), objectives_table(snap, lang), Text(""),
        ]
        self.query_one("#drill-tables", Static).update(Group(*sections))
        self.query_one("#drill-discussion", Static).update(discussion_text(snap, lang))
        self._show_status()

    def on_drill_panel_missing(self, message: Missing) -> None:
        message.stop()
        if message.incident_id != self.incident_id:
            return
        lang = self.app.ws.lang
        self.query_one("#drill-status", Static).update(
            tr("No exercise control: {reason}. Start drills from a scenario (d on the dashboard).", lang,
               reason=message.reason))

    def _show_status(self) -> None:
        if self.snapshot is None:
            return
        text = status_text(self.snapshot, self.app.ws.clock.now(), self.app.ws.lang)
        if text.plain != self._status_shown:  # a redraw only when a figure moved
            self._status_shown = text.plain
            self.query_one("#drill-status", Static).update(text)

    def _tick(self) -> None:
        if not self.front or self.snapshot is None:
            return
        self._show_status()
        self._since_read += TICK_SECONDS
        if self.snapshot.status.state == "running" and self._since_read >= REREAD_SECONDS and self.view is not None:
            self._since_read = 0.0
            self.load(self.view["seq"])

    # ----------------------------------------------------------------- commands

    def _run(self, what: str, command: Any, on_done: Any = None) -> None:
        self.app.run_command(what, command, incident_id=self.incident_id, on_done=on_done)

    def action_pause(self) -> None:
        """Pause scenario time, or resume it if paused."""
        incident = self.incident_id
        if self.snapshot is not None and self.snapshot.status.state == "paused":
            self._run("resume the drill", lambda ws: ws.drills.resume(incident))
        else:
            self._run("pause the drill", lambda ws: ws.drills.pause(incident))

    def action_speed(self) -> None:
        """Change how fast scenario time runs."""
        from ir.tui.screens.confirm import ConfirmScreen

        lang = self.app.ws.lang
        current = self.snapshot.status.speed if self.snapshot is not None else None
        incident = self.incident_id

        def check(text: str) -> str | None:
            try:
                return None if float(text.rstrip("xX")) > 0 else tr("The speed must be more than 0.", lang)
            except ValueError:
                return tr("'{text}' is not a number: e.g. 60 runs an hour a minute.", lang, text=text)

        def chosen(text: str | None) -> None:
            if text:
                speed = float(text.rstrip("xX"))
                self._run("change the speed", lambda ws: ws.drills.set_speed(incident, speed))

        body = tr("Scenario seconds per wall second: 1 is real time, 60 an hour a minute, 3600 an hour a second.", lang)
        self.app.push_screen(ConfirmScreen(self.dialog_title(tr("Speed of {incident}", lang, incident=incident)), body,
                                           lang=lang, confirm=tr("Set speed", lang), check=check,
                                           value="" if current is None else f"{current:g}",
                                           reason_prompt=tr("speed, e.g. 60", lang)), chosen)

    def action_skip(self) -> None:
        """Jump scenario time to the next inject and deliver it."""
        incident = self.incident_id
        self._run("skip to the next inject", lambda ws: ws.drills.skip_to_next(incident))

    def action_end(self) -> None:
        """ENDEX: end the drill and score it (after confirmation)."""
        from ir.tui.screens.confirm import ConfirmScreen

        lang = self.app.ws.lang
        incident = self.incident_id

        def confirmed(reason: str | None) -> None:
            if reason is not None:
                why = reason or "ENDEX called by the facilitator"
                self._run("end the drill", lambda ws: ws.drills.end(incident, why))

        body = tr("ENDEX: the injects not yet due are settled, scenario time stops and the drill is scored. "
                  "A drill that has ended cannot be restarted.", lang)
        self.app.push_screen(ConfirmScreen(self.dialog_title(tr("End {incident}", lang, incident=incident)), body,
                                           lang=lang, confirm=tr("End drill", lang), danger=True,
                                           value="ENDEX called by the facilitator",
                                           reason_prompt=tr("reason (recorded)", lang)), confirmed)

    def action_hotwash(self) -> None:
        """Write a hot-wash note: a strength, an area for improvement, an immediate action."""
        self.query_one("#hotwash", Input).focus()

    @on(Input.Submitted, "#hotwash")
    def _hotwash(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        incident = self.incident_id
        box = event.input

        def recorded(_events: object) -> None:
            if box.value.strip() == text:
                box.value = ""

        self._run("record the hot-wash note", lambda ws: ws.drills.hotwash(incident, text), on_done=recorded)

    def action_discuss(self) -> None:
        """Record the team's answer to one of the scenario's discussion questions."""
        from ir.tui.screens.pick_text import PickTextScreen

        if self.snapshot is None or not self.snapshot.questions:
            self.notify(tr("This scenario has no discussion questions.", self.app.ws.lang), severity="warning")
            return
        lang = self.app.ws.lang
        questions = {q.id: q for q in self.snapshot.questions}
        incident = self.incident_id

        def prompt(question: str) -> tuple[str, str]:
            return tr("The team's answer to {question} — Enter records it", lang, question=question), ""

        def answered(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                question, answer = choice
                self._run("record the answer", lambda ws: ws.drills.discuss(incident, question, answer))

        screen = PickTextScreen(
            self.dialog_title(tr("Discussion questions", lang)),
            [Option(question_line(q), id=q.id) for q in questions.values()],
            hint=tr("Choose a question, then type the team's answer", lang),
            placeholder=tr("the team's answer", lang), prompt=prompt,
        )
        self.app.push_screen(screen, answered)


def question_line(question: DrillQuestion) -> Text:
    """A question as the discussion dialog lists it, with how many answers it has."""
    text = Text(question.id, style="bold")
    text.append(f"  {question.text}")
    if question.answers:
        text.append(f"  ✓{len(question.answers)}", style="green")
    return text
