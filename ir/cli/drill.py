"""``ir drill`` and ``ir scheduler``: run exercises, control them, score, report and schedule them."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ir.cli.common import emit_json, env, json_option, table, warn, workspace_options
from ir.clock import VirtualClock, parse_instant
from ir.drills.offsets import format_offset
from ir.drills.report import FORMATS, render_report
from ir.drills.runner import control, run_instant
from ir.drills.scheduling import DEFAULT_GRACE, AlarmClock, parse_duration
from ir.drills.script import LoadedScript, load_script
from ir.engine.views import describe_event
from ir.errors import ContentErrors, InvalidInput
from ir.i18n import pick
from ir.obligations.reminders import DeadlineAlarms, MailSettings, parse_points

if TYPE_CHECKING:
    from ir.store import Event

EXERCISE = "EXERCISE"


@click.group("drill")
def group() -> None:
    """Run exercises on scenarios: injects on a compressed clock, scoring, reports, schedules."""


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        for part in filter(None, (p.strip() for p in value.split(","))):
            role, sep, person = part.partition("=")
            if not sep or not role.strip() or not person.strip():
                raise InvalidInput(f"{what} '{part}' is not ROLE=PERSON")
            out[role.strip()] = person.strip()
    return out


def _printer(as_json: bool) -> Any:
    ws = env().workspace()
    if as_json:
        return lambda ev: None
    starts: dict[str, Any] = {}
    playbooks: dict[str, Any] = {}

    def sink(ev: Event) -> None:
        if ev.kind == "drill.started":
            starts[ev.incident_id] = parse_instant(ev.payload["start"])
        if ev.incident_id not in playbooks:
            playbooks[ev.incident_id] = ws.incidents.playbook_of(ws.incidents.get(ev.incident_id))
        pb = playbooks[ev.incident_id]
        start = starts.get(ev.incident_id)
        at = format_offset((parse_instant(ev.at) - start).total_seconds()) if start else ev.at
        if ev.kind == "inject.delivered":
            p = ev.payload
            click.echo(f"[{EXERCISE}] {at} INJECT {p['inject']} · {p['channel']} · {pick(p['from'], ws.lang)} → {', '.join(p['to'])}")
            click.echo(f"    {pick(p['title'], ws.lang)}")
            for line in textwrap.wrap(pick(p["text"], ws.lang), 96):
                click.echo(f"    {line}")
        elif ev.kind.startswith(("drill.", "inject.")) and ev.kind != "drill.scored":
            click.echo(f"[{EXERCISE}] {at} {describe_event(ev.kind, ev.payload, None, ws.lang)}")
        elif ev.kind not in ("incident.opened", "drill.scored") and not ev.kind.startswith("improvement."):
            click.echo(f"[{EXERCISE}] {at} {ev.actor}: {describe_event(ev.kind, ev.payload, pb, ws.lang)}")

    return sink


def _script(path: str | None, scenario_ref: str) -> LoadedScript | None:
    if path is None:
        return None
    ws = env().workspace()
    scenario, pb = ws.drills.scenarios.get(scenario_ref)
    return load_script(Path(path), scenario, pb, path)


@group.command("run")
@click.argument("scenario")
@click.option("--speed", type=float, help="Scenario seconds per wall second (default 1: real time; 60: an hour a minute).")
@click.option("--instant", is_flag=True, help="Replay at once, from event to event (headless; use with --script).")
@click.option("--script", "script_path", metavar="RESPONSES.yaml", help="Scripted responses to play at their offsets.")
@click.option("--start", metavar="ISO", help="Scenario start instant (default: the scenario's, else now).")
@click.option("--player", "players", multiple=True, metavar="ROLE=PERSON", help="Who plays a role (repeatable).")
@json_option
@workspace_options
def run(scenario: str, speed: float | None, instant: bool, script_path: str | None, start: str | None,
        players: tuple[str, ...], as_json: bool) -> None:
    """Start a drill of SCENARIO and run it: injects arrive when due, until ENDEX.

    Without --instant this terminal is the exercise controller: players act from other
    terminals (ir incident ... DRL-ID) and `ir drill pause|resume|speed|skip|end` work from
    anywhere. Ctrl-C pauses the drill; `ir drill control ID` takes control again.
    """
    if instant and speed is not None:
        raise InvalidInput("give --speed or --instant, not both")
    ws = env().workspace()
    loaded = _script(script_path, scenario)
    cast = {**(loaded.script.players if loaded else {}), **_pairs(players, "--player")}
    begin = None
    if start:
        try:
            begin = parse_instant(start)
        except ValueError as exc:
            raise InvalidInput(f"--start: {exc}") from None
    elif loaded and loaded.script.start:
        begin = parse_instant(loaded.script.start)
    if not instant:
        _need_moving_clock(ws)
    _show_open_items(ws, scenario, as_json)
    state = ws.drills.start(scenario, speed=None if instant else (speed or 1.0), start=begin, players=cast)
    if not as_json:
        click.echo(f"{EXERCISE} {state.id}: {state.title}")
    sink = _printer(as_json)
    if instant:
        run_instant(ws.drills, state.id, loaded, sink)
    else:
        _control(state.id, loaded, sink)
    _finish(state.id, as_json)


def _need_moving_clock(ws: Any) -> None:
    if isinstance(ws.clock, VirtualClock):
        raise InvalidInput("IR_NOW freezes the clock, so a paced drill would never move; unset it or use --instant")


def _show_open_items(ws: Any, scenario: str, as_json: bool) -> None:
    if as_json:
        return
    try:
        sc, _pb = ws.drills.scenarios.get(scenario)
    except ContentErrors:
        return
    items = ws.drills.improvements(scenario_id=sc.id, include_closed=False)
    if items:
        click.echo(f"Open improvement items from earlier drills of {sc.id} (this drill retests them):")
        for i in items:
            click.echo(f"  {i['item']} [{i['status']}] {pick(i['issue'], ws.lang)} (owner {i['owner']}, due {i['due']})")


def _control(incident_id: str, loaded: LoadedScript | None, sink: Any) -> None:
    ws = env().workspace()
    try:
        control(ws.drills, incident_id, script=loaded, sink=sink)
    except KeyboardInterrupt:
        try:
            ws.drills.pause(incident_id)
            warn(f"ir: {incident_id} paused; resume with: ir drill resume {incident_id} && ir drill control {incident_id}")
        except Exception as exc:  # the drill may have ended meanwhile
            warn(f"ir: {incident_id}: {exc}")
        raise SystemExit(130) from None


def _finish(incident_id: str, as_json: bool) -> None:
    ws = env().workspace()
    status = ws.drills.status(incident_id)
    if as_json:
        emit_json(status.as_dict())
        return
    counts: dict[str, int] = {}
    for e in status.expectations:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    raised = sum(1 for i in ws.drills.improvements() if i["origin"] == incident_id)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    score_text = "n/a" if status.score is None else f"{status.score:g}"
    click.echo(f"{EXERCISE} {incident_id}: ENDEX · score {score_text}/100 ({status.rating}) · {summary}"
               f" · {raised} improvement item(s) raised")
    click.echo(f"Report: ir drill report {incident_id} --out aar.md")


@group.command("control")
@click.argument("incident_id")
@workspace_options
def control_(incident_id: str) -> None:
    """Be the exercise controller of a running paced drill (after Ctrl-C or a crash)."""
    ws = env().workspace()
    ws.drills.context(incident_id)
    _need_moving_clock(ws)
    click.echo(f"{EXERCISE} {incident_id}: taking exercise control")
    _control(incident_id, None, _printer(False))
    _finish(incident_id, False)


@group.command("scenarios")
@json_option
@workspace_options
def scenarios(as_json: bool) -> None:
    """List the scenarios available to this workspace."""
    ws = env().workspace()
    good, bad = ws.drills.scenarios.all()
    if as_json:
        emit_json([
            {"id": s.id, "version": s.version, "title": pick(s.title, ws.lang), "playbook": s.playbook,
             "duration": s.duration, "injects": len(s.injects), "expectations": len(s.expectations)}
            for s in good
        ])
    else:
        rows = [[s.id, s.version, pick(s.title, ws.lang), s.playbook, s.duration, len(s.injects)] for s in good]
        click.echo(table(["ID", "VERSION", "TITLE", "PLAYBOOK", "ENDEX", "INJECTS"], rows))
    for error in bad:
        warn(f"ir: invalid scenario: {error}")


@group.command("validate")
@click.argument("files", nargs=-1)
@click.option("--script", "script_path", metavar="RESPONSES.yaml", help="Also check a response script against the (one) scenario.")
@workspace_options
def validate(files: tuple[str, ...], script_path: str | None) -> None:
    """Check scenario files (default: every scenario on the search path)."""
    ws = env().workspace()
    catalog = ws.drills.scenarios
    paths = [Path(f) for f in files] or [e.path for e in catalog.entries()]
    errors = []
    for path in paths:
        try:
            scenario, pb = catalog.load(path, check_name=False) if path.exists() else catalog.get(str(path))
        except ContentErrors as exc:
            errors.extend(exc.errors)
            continue
        click.echo(f"ok: {path} ({scenario.id} v{scenario.version}, {len(scenario.injects)} injects, "
                   f"{len(scenario.expectations)} expectations, playbook {pb.id})")
        if script_path:
            try:
                loaded = load_script(Path(script_path), scenario, pb, script_path)
                click.echo(f"ok: {script_path} ({len(loaded.script.responses)} responses)")
            except ContentErrors as exc:
                errors.extend(exc.errors)
    if errors:
        raise ContentErrors(errors)


@group.command("list")
@click.option("--scenario", metavar="ID", help="Only drills of this scenario.")
@json_option
@workspace_options
def list_(scenario: str | None, as_json: bool) -> None:
    """List drills (exercise incidents), newest first."""
    ws = env().workspace()
    drills = ws.drills.list(scenario_id=scenario)
    if as_json:
        emit_json(drills)
        return
    if not drills:
        click.echo("No drills yet. Start one with: ir drill run open-bucket-reporter --instant")
        return
    rows = [
        [d["incident_id"] + f" [{EXERCISE}]", d["scenario_id"], d["status"], d["phase"],
         "instant" if d["speed"] is None else f"{d['speed']:g}x", "-" if d["score"] is None else f"{d['score']:g} ({d['rating']})"]
        for d in drills
    ]
    click.echo(table(["ID", "SCENARIO", "STATE", "PHASE", "PACE", "SCORE"], rows))


@group.command("status")
@click.argument("incident_id")
@json_option
@workspace_options
def status(incident_id: str, as_json: bool) -> None:
    """Scenario time, pace, next inject, the inject feed and the expectations' status."""
    ws = env().workspace()
    st = ws.drills.status(incident_id)
    if as_json:
        emit_json(st.as_dict())
        return
    d = st.as_dict()
    pace = "stepped" if st.speed is None else f"{st.speed:g}x"
    click.echo(f"{EXERCISE} — {st.incident_id}: {st.title}")
    click.echo(f"  scenario {st.scenario['id']} v{st.scenario['version']} · {st.state} · {pace} · "
               f"scenario time {d['offset_text']} of {d['endex']} ({st.now}) · phase {st.phase}")
    if st.next_inject:
        n = st.next_inject
        wait = "" if n["wall_seconds"] is None else f", in {n['wall_seconds']:.0f} s"
        click.echo(f"  next inject: {n['id']} at {n['due']}{wait}: {n['title']}")
    click.echo("")
    click.echo(table(["INJECT", "DUE", "CHANNEL", "STATE", "TITLE"],
                     [[i["id"], i["due"], i["channel"], i["status"], i["title"]] for i in st.injects]))
    click.echo("")
    click.echo(table(["EXPECTATION", "BY", "DONE", "STATUS", "TITLE"],
                     [[e["id"], e["by"] or "ENDEX", e["at"] or "-", e["status"], e["title"]] for e in st.expectations]))
    score = "n/a" if st.score is None else f"{st.score:g}"
    click.echo(f"\nscore {'(final)' if st.state == 'ended' else 'so far'}: {score}/100 ({st.rating})")


def _echo_events(events: list[Event], kinds: tuple[str, ...] | None = None) -> None:
    ws = env().workspace()
    for ev in events:
        if kinds is None or ev.kind in kinds:
            text = describe_event(ev.kind, ev.payload, None, ws.lang).removeprefix(f"[{EXERCISE}] ")
            click.echo(f"{ev.incident_id} #{ev.seq} [{EXERCISE}]: {text}")


def _control_command(name: str, help_text: str, action: str) -> None:
    @group.command(name, help=help_text)
    @click.argument("incident_id")
    @workspace_options
    def command(incident_id: str) -> None:
        _echo_events(getattr(env().workspace().drills, action)(incident_id))


_control_command("pause", "Pause scenario time (injects wait; none is lost).", "pause")
_control_command("resume", "Resume scenario time where it was paused.", "resume")
_control_command("skip", "Skip ahead to the next inject and deliver it.", "skip_to_next")


@group.command("speed")
@click.argument("incident_id")
@click.argument("speed", type=float)
@workspace_options
def speed(incident_id: str, speed: float) -> None:
    """Change the pace: SPEED scenario seconds per wall second."""
    _echo_events(env().workspace().drills.set_speed(incident_id, speed))


@group.command("end")
@click.argument("incident_id")
@click.option("--reason", default="ENDEX called by the facilitator", show_default=True)
@workspace_options
def end(incident_id: str, reason: str) -> None:
    """ENDEX: end the drill now, settle the remaining injects and score it."""
    _echo_events(env().workspace().drills.end(incident_id, reason), ("drill.ended", "drill.scored"))


@group.command("hotwash")
@click.argument("incident_id")
@click.argument("text", nargs=-1, required=True)
@workspace_options
def hotwash(incident_id: str, text: tuple[str, ...]) -> None:
    """Record a hot-wash note: a strength, an area for improvement, an immediate action."""
    _echo_events(env().workspace().drills.hotwash(incident_id, " ".join(text)))


@group.command("discuss")
@click.argument("incident_id")
@click.argument("question")
@click.argument("answer", nargs=-1, required=True)
@workspace_options
def discuss(incident_id: str, question: str, answer: tuple[str, ...]) -> None:
    """Record the team's answer to a discussion QUESTION of the scenario."""
    _echo_events(env().workspace().drills.discuss(incident_id, question, " ".join(answer)))


@group.command("score")
@click.argument("incident_id")
@json_option
@workspace_options
def score(incident_id: str, as_json: bool) -> None:
    """Show the evaluation: per expectation, per objective (P/S/M/U), overall."""
    ws = env().workspace()
    result = ws.drills.score(incident_id)
    if as_json:
        emit_json(result.payload())
        return
    rows = [[r.id, r.objective, f"{r.weight:g}", r.as_dict()["by"] or "ENDEX", r.as_dict()["at"] or "-", r.status] for r in result.expectations]
    click.echo(table(["EXPECTATION", "OBJECTIVE", "WEIGHT", "BY", "DONE", "STATUS"], rows))
    click.echo("")
    click.echo(table(["OBJECTIVE", "RATING", "SCORE"], [[o.id, o.rating, "n/a" if o.score is None else f"{o.score:g}"] for o in result.objectives]))
    overall = "n/a" if result.overall is None else f"{result.overall:g}"
    click.echo(f"\n{EXERCISE} {incident_id}: overall {overall}/100 ({result.rating})")


@group.command("report")
@click.argument("incident_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write to FILE instead of stdout.")
@workspace_options
def report(incident_id: str, fmt: str, out: str | None) -> None:
    """The after-action report with its improvement plan."""
    ws = env().workspace()
    text = render_report(ws.drills, incident_id, fmt)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {out}")


@group.group("improvements", invoke_without_command=True)
@click.option("--scenario", metavar="ID", help="Only items of this scenario.")
@click.option("--open", "only_open", is_flag=True, help="Hide verified and closed items.")
@json_option
@click.pass_context
@workspace_options
def improvements(ctx: click.Context, scenario: str | None, only_open: bool, as_json: bool) -> None:
    """List improvement items across drills with their status and retest results."""
    if ctx.invoked_subcommand is not None:
        return
    ws = env().workspace()
    items = ws.drills.improvements(scenario_id=scenario, include_closed=not only_open)
    if as_json:
        emit_json(items)
        return
    if not items:
        click.echo("No improvement items: they are raised when a drill misses an expectation.")
        return
    rows = [
        [i["item"], i["status"], pick(i["issue"], ws.lang), i["owner"], i["due"],
         f"{i['last_result']} in {i['last_retest']}" if i["last_retest"] else "not retested yet"]
        for i in items
    ]
    click.echo(table(["ITEM", "STATUS", "ISSUE", "OWNER", "DUE", "RETEST"], rows))


@improvements.command("update")
@click.argument("item")
@click.option("--owner", help="Who owns the corrective action.")
@click.option("--due", metavar="YYYY-MM-DD", help="When it is due.")
@click.option("--status", type=click.Choice(["open", "done", "closed"]), help="done: action completed, awaiting retest.")
@click.option("--note", help="A note kept with the item.")
@workspace_options
def improvements_update(item: str, owner: str | None, due: str | None, status: str | None, note: str | None) -> None:
    """Change an improvement item's owner, due date, status or note."""
    ws = env().workspace()
    ev = ws.drills.update_improvement(item, owner=owner, due=due, status=status, note=note)[0]
    click.echo(f"{ev.incident_id} #{ev.seq}: {describe_event(ev.kind, ev.payload, None, ws.lang)}")


@group.group("schedule")
def schedule() -> None:
    """Recurring drills: add, list, remove (run them with `ir scheduler`)."""


@schedule.command("add")
@click.argument("scenario")
@click.option("--cron", required=True, metavar="EXPR", help='Five-field crontab, e.g. "0 10 1 */3 *" (10:00 on the 1st, quarterly).')
@click.option("--participants", multiple=True, metavar="ROLE=PERSON,...", help="Who plays which role.")
@click.option("--speed", type=float, default=1.0, show_default=True, help="Scenario seconds per wall second.")
@click.option("--grace", default="8h", show_default=True, help="How late a missed drill may still start (e.g. 30m, 8h, 1d).")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="Time zone of the cron expression (IANA name).")
@click.option("--id", "schedule_id", metavar="NAME", help="The schedule's id (default: SCENARIO-N).")
@json_option
@workspace_options
def schedule_add(scenario: str, cron: str, participants: tuple[str, ...], speed: float, grace: str, timezone: str,
                 schedule_id: str | None, as_json: bool) -> None:
    """Schedule SCENARIO to run as a drill whenever CRON falls due."""
    ws = env().workspace()
    item = ws.drills.schedules.add(
        scenario, cron, participants=_pairs(participants, "--participants"), speed=speed,
        grace=parse_duration(grace) if grace else DEFAULT_GRACE, timezone=timezone, schedule_id=schedule_id,
    )
    if as_json:
        emit_json(item)
    else:
        click.echo(f"{item['id']}: {item['scenario_id']} at '{item['cron']}' ({item['timezone']}), next {item['next_due']}")


@schedule.command("list")
@click.option("--all", "include_removed", is_flag=True, help="Include removed schedules.")
@json_option
@workspace_options
def schedule_list(include_removed: bool, as_json: bool) -> None:
    """List drill schedules with their next and last occurrence."""
    ws = env().workspace()
    items = ws.drills.schedules.list(include_removed=include_removed)
    if as_json:
        emit_json({"schedules": items, "runs": ws.drills.schedules.runs()})
        return
    if not items:
        click.echo('No drill schedules. Add one with: ir drill schedule add SCENARIO --cron "0 10 1 */3 *"')
        return
    rows = [
        [s["id"], s["scenario_id"], s["cron"], s["timezone"], f"{s['speed']:g}x", f"{s['grace_s'] // 60}m",
         s["next_due"] or "-", s["last_due"] or "-", "" if s["active"] else "removed"]
        for s in items
    ]
    click.echo(table(["ID", "SCENARIO", "CRON", "TZ", "PACE", "GRACE", "NEXT", "LAST", ""], rows))


@schedule.command("remove")
@click.argument("schedule_id")
@workspace_options
def schedule_remove(schedule_id: str) -> None:
    """Stop a schedule (its history stays in the record)."""
    env().workspace().drills.schedules.remove(schedule_id)
    click.echo(f"removed {schedule_id}")


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Catch up (missed drills, due reminders), run one control turn, then exit.")
@click.option("--tick", type=float, default=2.0, show_default=True, help="Seconds between exercise-control turns.")
@click.option("--remind-before", default="24h,4h,1h,0", show_default=True, metavar="POINTS",
              help="When to remind before each deadline of a live incident (0: when it falls due).")
@click.option("--remind-to", metavar="ADDR", help="Also mail each reminder to this address.")
@click.option("--smtp", metavar="HOST:PORT", help="The SMTP server for reminder mail (with --remind-to).")
@click.option("--starttls", is_flag=True, help="Upgrade the SMTP connection with STARTTLS.")
@click.option("--from", "sender", metavar="ADDR", help="The reminder mail's sender (default: the --remind-to address).")
@workspace_options
def scheduler(once: bool, tick: float, remind_before: str, remind_to: str | None, smtp: str | None,
              starttls: bool, sender: str | None) -> None:
    """The alarm clock: scheduled drills (missed ones recorded, run within grace) and reminders of
    live incidents' approaching and passed deadlines, into the timeline and optionally by mail."""
    ws = env().workspace()
    log = lambda line: click.echo(line)  # noqa: E731
    mail = None
    if remind_to or smtp:
        if not (remind_to and smtp):
            raise InvalidInput("give both --remind-to and --smtp to mail reminders")
        from ir.notices.delivery import Server

        mail = MailSettings(Server.parse(smtp, starttls=starttls), sender or remind_to, remind_to)
    reminders = DeadlineAlarms(ws, points=parse_points(remind_before), mail=mail, log=log)
    alarm = AlarmClock(ws, log=log, tick=tick, reminders=reminders)
    if once:
        alarm.once()
    else:
        alarm.run()
    sys.stdout.flush()
