"""Obligations of a live incident through the real workspace: recorded, fulfilled, overdue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ir.clock import VirtualClock
from ir.engine.commands import NewEvent
from ir.errors import ContentErrors, InvalidInput, NotFound, Refused
from ir.store import Event
from ir.workspace import Workspace

AWARE = "2026-11-20T09:30+08:00"


def open_leak(ws: Workspace, **facts: object) -> str:
    base = {"aware_at": AWARE, "subjects": "CN=1500000,DE=40,US-CA=600"}
    return ws.incidents.open("personal-data-leak", title="Customer table exposed", facts={**base, **facts}).id


def assessments(ws: Workspace, incident_id: str) -> list[Event]:
    return ws.incidents.timeline(incident_id, kinds=["obligations.assessed"])


def status(ws: Workspace, incident_id: str) -> dict[str, str]:
    return {t.obligation.rule: t.status for t in ws.obligations.for_incident(incident_id)}


def test_opening_an_incident_records_its_duties(ws: Workspace) -> None:
    incident_id = open_leak(ws)
    [event] = assessments(ws, incident_id)
    rules = [ob["rule"] for ob in event.payload["obligations"]]
    assert rules == sorted(rules)
    assert {"cn-pipl-regulator", "cn-cac-report", "eu-gdpr-authority", "us-ca-individuals", "us-ca-ag"} <= set(rules)
    assert status(ws, incident_id)["eu-gdpr-authority"] == "pending"


def test_an_incident_without_relevant_facts_records_nothing(ws: Workspace) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="Maybe nothing").id
    ws.incidents.answer(incident_id, "aware_at", AWARE)
    assert assessments(ws, incident_id) == []
    assert ws.obligations.for_incident(incident_id) == []
    assert ws.obligations.next_deadline(incident_id) is None


def test_changed_facts_record_a_new_list_and_unrelated_changes_do_not(ws: Workspace) -> None:
    incident_id = open_leak(ws)
    ws.incidents.note(incident_id, "bucket closed")
    ws.incidents.answer(incident_id, "root_cause", "public ACL on the bucket")
    ws.incidents.complete_task(incident_id, "record_report")
    assert len(assessments(ws, incident_id)) == 1
    ws.incidents.answer(incident_id, "high_risk", "yes")
    latest = assessments(ws, incident_id)[-1]
    assert len(assessments(ws, incident_id)) == 2
    assert "eu-gdpr-individuals" in [ob["rule"] for ob in latest.payload["obligations"]]
    ws.incidents.set_facts(incident_id, {"organisation": "Example Ltd"})
    assert len(assessments(ws, incident_id)) == 2  # a notice field, not a fact the rules read
    ws.incidents.set_facts(incident_id, {"harm_avoided": "no"})
    # Same duties, but now on an answer rather than an assumption: that is recorded too.
    [pipl] = [ob for ob in assessments(ws, incident_id)[-1].payload["obligations"] if ob["rule"] == "cn-pipl-individuals"]
    assert pipl["assumed"] == []


def test_the_assessment_follows_the_fact_it_was_caused_by_in_the_same_transaction(ws: Workspace) -> None:
    incident_id = open_leak(ws)
    ws.incidents.set_facts(incident_id, {"subjects": "CN=10"})
    events = ws.incidents.timeline(incident_id)
    assert [e.kind for e in events[-2:]] == ["fact.set", "obligations.assessed"]
    assert events[-1].at == events[-2].at
    assert "cn-cac-report" not in [ob["rule"] for ob in events[-1].payload["obligations"]]


def test_fulfil_on_time_is_met_and_after_the_deadline_is_late(ws: Workspace, clock: VirtualClock) -> None:
    incident_id = open_leak(ws)
    clock.set(dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.timezone.utc))
    ws.obligations.fulfil(incident_id, "cn-cac-report")  # due 05:30Z, done 06:00Z
    clock.set(dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.timezone.utc))
    ws.obligations.fulfil(incident_id, "eu-gdpr-authority", at="2026-11-22T12:00:00+01:00", note="via the BfDI portal")
    states = status(ws, incident_id)
    assert states["eu-gdpr-authority"] == "met"
    assert states["cn-cac-report"] == "late"
    [cac] = [t for t in ws.obligations.for_incident(incident_id) if t.obligation.rule == "cn-cac-report"]
    assert cac.outcome.fulfilled_at == "2026-11-20T06:00:00Z" and cac.outcome.fulfilled_by == "alice"


def test_overdue_follows_the_incidents_clock(ws: Workspace, clock: VirtualClock) -> None:
    incident_id = open_leak(ws)
    assert status(ws, incident_id)["cn-cac-report"] == "pending"
    nxt = ws.obligations.next_deadline(incident_id)
    assert nxt is not None and nxt.rule == "cn-cac-report" and nxt.kind == "legal" and nxt.at == "2026-11-20T05:30:00Z"
    clock.set(dt.datetime(2026, 11, 20, 5, 31, tzinfo=dt.timezone.utc))
    [cac] = [t for t in ws.obligations.for_incident(incident_id) if t.obligation.rule == "cn-cac-report"]
    assert cac.status == "overdue" and cac.remaining_seconds == -60 and cac.remaining_text == "overdue 1m"
    assert ws.obligations.next_deadline(incident_id).overdue  # type: ignore[union-attr]


def test_a_drill_runs_on_its_own_virtual_clock(ws: Workspace) -> None:
    drill_clock = VirtualClock(dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc))
    ws.clock_providers.insert(0, lambda state: drill_clock if state.mode == "drill" else None)
    state = ws.incidents.open("personal-data-leak", title="Exercise", mode="drill", facts={"aware_at": AWARE, "subjects": "CN=2000000"})
    drill_clock.advance(dt.timedelta(hours=5))  # the wall clock has not moved
    assert status(ws, state.id)["cn-cac-report"] == "overdue"
    assert "EXERCISE" in ws.obligations.compliance_report(state.id)


def test_a_clock_that_starts_from_another_duty_resolves_when_it_is_fulfilled(ws: Workspace, clock: VirtualClock) -> None:
    incident_id = open_leak(ws)
    [ag] = [t.obligation for t in ws.obligations.for_incident(incident_id) if t.obligation.rule == "us-ca-ag"]
    assert ag.due_at is None and "us-ca-individuals is not fulfilled yet" in ag.due_text
    clock.set(dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc))
    ws.obligations.fulfil(incident_id, "us-ca-individuals", at="2026-12-01T10:00:00-08:00")
    assert assessments(ws, incident_id)[-1].seq == ws.incidents.get(incident_id).seq
    [ag] = [t.obligation for t in ws.obligations.for_incident(incident_id) if t.obligation.rule == "us-ca-ag"]
    assert ag.due_at == "2026-12-17T07:59:59Z" and ag.clock_started_at == "2026-12-01T18:00:00Z"


def test_waiving_is_an_outcome_with_its_reason(ws: Workspace) -> None:
    incident_id = open_leak(ws)
    ws.obligations.waive(incident_id, "cn-pipl-individuals", "the leaked copy was deleted within minutes; no harm possible")
    [item] = [t for t in ws.obligations.for_incident(incident_id) if t.obligation.rule == "cn-pipl-individuals"]
    assert item.status == "waived" and item.outcome.waived_by == "alice" and "deleted" in (item.outcome.waived_reason or "")
    report = ws.obligations.compliance_report(incident_id)
    assert "## Decisions not to notify" in report and "deleted within minutes" in report


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (lambda ws, i: ws.obligations.fulfil(i, "eu-gdpr-nothing"), NotFound, "has no obligation 'eu-gdpr-nothing'"),
        (lambda ws, i: ws.obligations.fulfil(i, "eu-gdpr-authority", at="2027-01-01T00:00:00Z"), InvalidInput, "is in the future"),
        (lambda ws, i: ws.obligations.fulfil(i, "eu-gdpr-authority", at="yesterday"), InvalidInput, "--at: 'yesterday' is not an ISO 8601"),
        (lambda ws, i: ws.obligations.waive(i, "eu-gdpr-authority", "  "), InvalidInput, "reason is empty"),
        (lambda ws, i: ws.obligations.fulfil("INC-2099-0001", "eu-gdpr-authority"), NotFound, "no incident"),
    ],
)
def test_bad_requests_change_nothing(ws: Workspace, action, error: type[Exception], message: str) -> None:  # type: ignore[no-untyped-def]
    incident_id = open_leak(ws)
    before = ws.incidents.get(incident_id).seq
    with pytest.raises(error, match=message):
        action(ws, incident_id)
    assert ws.incidents.get(incident_id).seq == before


def test_a_duty_is_fulfilled_once_and_not_waived_after(ws: Workspace) -> None:
    incident_id = open_leak(ws)
    ws.obligations.fulfil(incident_id, "eu-gdpr-authority")
    with pytest.raises(Refused, match="already fulfilled"):
        ws.obligations.fulfil(incident_id, "eu-gdpr-authority")
    with pytest.raises(Refused, match="cannot be waived"):
        ws.obligations.waive(incident_id, "eu-gdpr-authority", "changed my mind")
    ws.obligations.waive(incident_id, "eu-gdpr-record", "kept in the DPO's register instead")
    with pytest.raises(Refused, match="already waived"):
        ws.obligations.waive(incident_id, "eu-gdpr-record", "again")


def test_the_profile_decides_the_operator_type(ws: Workspace) -> None:
    ws.profile.set({"cii_operator": "true", "notice_targets": '{"cn-pipl-regulator": 1}'})
    incident_id = open_leak(ws)
    obligations = {t.obligation.rule: t.obligation for t in ws.obligations.for_incident(incident_id)}
    assert obligations["cn-cac-report"].due_at == "2026-11-20T02:30:00Z"
    assert obligations["cn-pipl-regulator"].target_at == "2026-11-20T02:30:00Z"
    assert obligations["cn-pipl-regulator"].target_source == "notice_targets"
    ws.incidents.set_facts(incident_id, {"notice_targets": "default=2"})  # the incident overrides the profile
    obligations = {t.obligation.rule: t.obligation for t in ws.obligations.for_incident(incident_id)}
    assert obligations["cn-pipl-regulator"].target_at == "2026-11-20T03:30:00Z"


def test_a_bad_fact_value_never_blocks_the_incident(ws: Workspace) -> None:
    incident_id = open_leak(ws)
    with pytest.raises(InvalidInput, match="determined_at"):
        ws.incidents.set_facts(incident_id, {"determined_at": "yesterday"})  # typed by the playbook
    # A record written before the playbook typed the fact can still hold such a value.
    ws.incidents.record(incident_id, [NewEvent("fact.set", {"facts": {"determined_at": "yesterday"}})])
    notes = ws.obligations.notes(incident_id)
    assert any("determined_at" in p and "ISO 8601" in p for p in notes.problems)
    ws.incidents.note(incident_id, "still works")


def test_a_broken_workspace_rule_file_never_blocks_the_incident(ws: Workspace, db_path: Path) -> None:
    incident_id = open_leak(ws)
    (db_path.parent / "rules").mkdir()
    (db_path.parent / "rules" / "bad.yaml").write_text("jurisdiction: CN\nregime: x\ntitle: x\nrules: []\n", encoding="utf-8")
    ws.incidents.set_facts(incident_id, {"high_risk": "yes"})  # accepted; the assessment waits
    with pytest.raises(ContentErrors, match=r"bad\.yaml"):
        ws.obligations.notes(incident_id)


def test_a_changed_rule_file_is_recorded_on_request(ws: Workspace, db_path: Path) -> None:
    incident_id = open_leak(ws)
    assert ws.obligations.reassess(incident_id) == []
    shipped = Path(__file__).resolve().parents[2] / "ir" / "obligations" / "rules" / "cn-pipl.yaml"
    (db_path.parent / "rules").mkdir()
    (db_path.parent / "rules" / "cn-pipl.yaml").write_text(
        shipped.read_text(encoding="utf-8").replace("target: {hours: 4}", "target: {hours: 2}"), encoding="utf-8"
    )
    assert ws.obligations.notes(incident_id).stale
    [event] = ws.obligations.reassess(incident_id)
    [pipl] = [ob for ob in event.payload["obligations"] if ob["rule"] == "cn-pipl-regulator"]
    assert pipl["target_at"] == "2026-11-20T03:30:00Z"
    assert not ws.obligations.notes(incident_id).stale


def test_rebuild_reproduces_the_obligations_tables_and_the_chain_verifies(ws: Workspace, clock: VirtualClock) -> None:
    incident_id = open_leak(ws)
    ws.incidents.answer(incident_id, "high_risk", "yes")
    ws.obligations.fulfil(incident_id, "us-ca-individuals", note="letters mailed")
    ws.obligations.waive(incident_id, "cn-pipl-individuals", "harm avoided")
    ws.incidents.set_facts(incident_id, {"subjects": "CN=20,US-CA=600"})
    report = ws.audit.rebuild()
    assert report.identical, report.differences
    assert report.rows["incident_obligations"] > 0 and report.rows["obligation_outcomes"] == 2
    assert ws.audit.verify().ok


def test_the_compliance_report_lists_due_done_and_met_or_missed(ws: Workspace, clock: VirtualClock) -> None:
    incident_id = open_leak(ws)
    clock.set(dt.datetime(2026, 11, 20, 7, 0, tzinfo=dt.timezone.utc))
    ws.obligations.fulfil(incident_id, "eu-gdpr-authority")
    report = ws.obligations.compliance_report(incident_id)
    lines = {line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| `")}
    assert "2026-11-20T05:30:00Z" in lines["`cn-cac-report` ⚠"] and "missed: overdue 1h 30m, not done" in lines["`cn-cac-report` ⚠"]
    assert "2026-11-20T07:00:00Z" in lines["`eu-gdpr-authority`"] and lines["`eu-gdpr-authority`"].rstrip().endswith("| met |")
    assert "open: past own target" in lines["`cn-pipl-regulator`"]
    assert "## Not verified in the reference" in report and "`us-ca-ag`: deadline" in report


def test_the_reactor_picks_up_an_edited_rule_file_within_seconds(ws: Workspace, db_path: Path, clock: VirtualClock) -> None:
    incident_id = open_leak(ws)
    shipped = Path(__file__).resolve().parents[2] / "ir" / "obligations" / "rules" / "cn-pipl.yaml"
    (db_path.parent / "rules").mkdir()
    (db_path.parent / "rules" / "cn-pipl.yaml").write_text(
        shipped.read_text(encoding="utf-8").replace("target: {hours: 4}", "target: {hours: 1}"), encoding="utf-8"
    )
    clock.advance(dt.timedelta(seconds=3))
    ws.incidents.answer(incident_id, "high_risk", "yes")
    [pipl] = [ob for ob in assessments(ws, incident_id)[-1].payload["obligations"] if ob["rule"] == "cn-pipl-regulator"]
    assert pipl["target_at"] == "2026-11-20T02:30:00Z"


def test_fulfilment_and_waiver_can_be_recorded_for_another_person(ws: Workspace) -> None:
    incident_id = open_leak(ws)
    fulfilled = ws.obligations.fulfil(incident_id, "cn-pipl-regulator", actor="dora")
    waived = ws.obligations.waive(incident_id, "us-ca-individuals", "all six hundred were test accounts", actor="erin")
    assert (fulfilled[0].kind, fulfilled[0].actor) == ("obligation.fulfilled", "dora")
    assert (waived[0].kind, waived[0].actor) == ("obligation.waived", "erin")
    assert ws.obligations.fulfil(incident_id, "eu-gdpr-authority")[0].actor == "alice"


def soonest_by_status(ws: Workspace, incident_id: str) -> tuple[str, str] | None:
    """The soonest open duty, worked out from each duty's status (an independent path)."""
    open_duties = [
        (t.obligation.due_at or t.obligation.target_at, t.obligation.rule)
        for t in ws.obligations.for_incident(incident_id)
        if t.status in ("pending", "overdue") and (t.obligation.due_at or t.obligation.target_at)
    ]
    return min(open_duties, key=lambda d: d[0]) if open_duties else None


def test_next_deadlines_agree_with_duty_status_as_duties_are_done(ws: Workspace, clock: VirtualClock) -> None:
    ids = [open_leak(ws), open_leak(ws, subjects="DE=40,US-CA=600"), open_leak(ws, subjects="CN=10")]
    for step in range(6):
        found = ws.obligations.next_deadlines([ws.incidents.get(i) for i in ids])
        for incident_id in ids:
            expected = soonest_by_status(ws, incident_id)
            got = found.get(incident_id)
            if expected is None:
                assert got is None
            else:
                assert got is not None and got.at == expected[0]  # ties may pick either duty
                assert got.kind == ("legal" if got.at == next(
                    t.obligation.due_at for t in ws.obligations.for_incident(incident_id) if t.obligation.rule == got.rule
                ) else "target")
            single = ws.obligations.next_deadline(incident_id)
            assert (single.rule if single else None) == (got.rule if got else None)
            if got is not None and step % 2 == 0:
                ws.obligations.fulfil(incident_id, got.rule)
            elif got is not None:
                ws.obligations.waive(incident_id, got.rule, "handled by the group DPO")
        clock.advance(dt.timedelta(hours=5))
    assert ws.obligations.next_deadlines([]) == {}
