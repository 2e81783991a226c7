"""`ir obligations` and `ir report compliance` through the real entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import IrRunner, ir_process

NOW = "2026-11-20T02:00:00Z"
KEYS = {
    "rule", "jurisdiction", "regime", "citation", "recipient", "recipient_name", "clock_start", "due_at",
    "due_text", "required_fields", "template", "verified",
}


def open_leak(ir: IrRunner) -> str:
    return ir.ok(
        "incident", "open", "personal-data-leak", "--title", "Customer table exposed",
        "--fact", "aware_at=2026-11-20T09:30+08:00", "--fact", "subjects=CN=1500000,DE=40,US-CA=600", now=NOW,
    ).stdout.strip()


def test_incident_json_has_the_agreed_fields_and_status(ir: IrRunner) -> None:
    incident_id = open_leak(ir)
    duties = {d["rule"]: d for d in ir.ok("obligations", incident_id, "--json", now=NOW).json()}
    assert all(KEYS <= set(d) for d in duties.values())
    gdpr = duties["eu-gdpr-authority"]
    assert gdpr["due_at"] == "2026-11-23T01:30:00Z" and gdpr["status"] == "pending" and gdpr["citation"] == "GDPR Art. 33(1)"
    assert gdpr["template"] == "gdpr-authority-en" and gdpr["verified"] is True and gdpr["clock_start"] == "awareness"
    assert duties["cn-pipl-regulator"]["due_at"] is None and duties["cn-pipl-regulator"]["target_at"] == "2026-11-20T05:30:00Z"
    later = {d["rule"]: d for d in ir.ok("obligations", incident_id, "--json", now="2026-11-20T06:00:00Z").json()}
    assert later["cn-cac-report"]["status"] == "overdue"


def test_incident_table_shows_status_due_and_unverified_marks(ir: IrRunner) -> None:
    incident_id = open_leak(ir)
    out = ir.ok("obligations", incident_id, now="2026-11-20T06:00:00Z").stdout
    assert out.startswith(f"{incident_id}: 8 notification duties (aware 2026-11-20T01:30:00Z; recorded at event #")
    [cac] = [line for line in out.splitlines() if line.split()[1:2] == ["cn-cac-report"]]
    assert cac.startswith("overdue") and "⚠" in cac and "2026-11-20T05:30:00Z" in cac and "overdue 30m" in cac
    assert "⚠ not verified in the reference: cn-cac-report (content)" in out
    assert "Could also apply once answered yes: eu-gdpr-individuals (high_risk)" in out


def test_fulfil_and_waive_print_what_was_recorded(ir: IrRunner) -> None:
    incident_id = open_leak(ir)
    done = ir.ok("obligations", "fulfil", incident_id, "us-ca-individuals", "--at", "2026-11-20T09:45+08:00",
                 "--note", "letters mailed", now=NOW).stdout
    assert f"{incident_id} #" in done and "fulfilled us-ca-individuals at 2026-11-20T01:45:00Z — letters mailed" in done
    assert "assessed 8 notification duties" in done  # the California AG's clock started
    waived = ir.ok("obligations", "waive", incident_id, "cn-pipl-individuals", "--reason", "harm avoided", now=NOW).stdout
    assert "waived cn-pipl-individuals (decided not to notify): harm avoided" in waived
    duties = {d["rule"]: d for d in ir.ok("obligations", incident_id, "--json", now=NOW).json()}
    assert duties["us-ca-individuals"]["status"] == "met" and duties["us-ca-ag"]["due_at"] == "2026-12-05T07:59:59Z"
    assert duties["cn-pipl-individuals"]["status"] == "waived" and duties["cn-pipl-individuals"]["waived_reason"] == "harm avoided"
    log = ir.ok("incident", "log", incident_id).stdout
    assert "fulfilled us-ca-individuals" in log and "waived cn-pipl-individuals" in log


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fulfil", "{id}", "eu-gdpr-authority", "--at", "tomorrow"), "ir: error: --at: 'tomorrow' is not an ISO 8601 time"),
        (("fulfil", "{id}", "eu-gdpr-nope"), "has no obligation 'eu-gdpr-nope'"),
        (("waive", "{id}", "eu-gdpr-authority", "--reason", ""), "ir: error: reason is empty"),
        (("INC-2099-0009",), "ir: error: no incident 'INC-2099-0009'"),
        ((), "ir: error: give an incident ID"),
    ],
)
def test_refusals_exit_2_with_one_line_and_change_nothing(ir: IrRunner, args: tuple[str, ...], message: str) -> None:
    incident_id = open_leak(ir)
    before = ir.ok("incident", "show", incident_id, "--json").json()["seq"]
    run = ir("obligations", *[a.replace("{id}", incident_id) for a in args], now=NOW)
    assert run.exit_code == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr
    assert ir.ok("incident", "show", incident_id, "--json").json()["seq"] == before


FACTS_YAML = """\
# A fact set, as a privacy officer writes it
aware_at: 2026-11-20T09:30:00+08:00
subjects: {CN: 1500000, DE: 40, US-CA: 600}
data_categories: [name, contact, national_id]
high_risk: true
organisation: Example Ltd
"""


def test_facts_file_yaml_and_json_give_the_same_duties(ir: IrRunner, tmp_path: Path) -> None:
    yaml_file = tmp_path / "facts.yaml"
    yaml_file.write_text(FACTS_YAML, encoding="utf-8")
    json_file = tmp_path / "facts.json"
    json_file.write_text(json.dumps({
        "aware_at": "2026-11-20T01:30:00Z", "subjects": {"CN": 1500000, "DE": 40, "US-CA": 600},
        "data_categories": ["name", "contact", "national_id"], "high_risk": True,
    }), encoding="utf-8")
    from_yaml = ir.ok("obligations", "--facts", str(yaml_file), "--json", now=NOW).json()
    from_json = ir.ok("obligations", "--facts", str(json_file), "--json", now=NOW).json()
    assert from_yaml == from_json
    rules = [d["rule"] for d in from_yaml]
    assert "eu-gdpr-individuals" in rules and "cn-cac-report" in rules
    assert all(KEYS <= set(d) and "status" not in d for d in from_yaml)
    table = ir.ok("obligations", "--facts", str(yaml_file), now=NOW).stdout
    assert "eu-gdpr-authority" in table and "2026-11-23T01:30:00Z" in table and "72 hours" in table


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bad.yaml", "aware_at: 2026-11-20T09:30:00\nsubjects: {CN: 5}\n", r"bad\.yaml:1: aware_at: '2026-11-20T09:30:00' is not an ISO 8601 time with offset"),
        ("bad.yaml", "aware_at: 2026-11-20T09:30Z\nsubjects: {CN: -5}\n", r"bad\.yaml:2: subjects: count for 'CN': -5 is negative"),
        ("bad.yaml", "aware_at: 2026-11-20T09:30Z\ndata_categories: [name, dna]\n", r"bad\.yaml:2: data_categories: unknown data category dna"),
        ("bad.yaml", "aware_at: 2026-11-20T09:30Z\nencrypted: maybe\n", r"bad\.yaml:2: encrypted: 'maybe' is not yes/no"),
        ("bad.yaml", "subjects: {US-California: 5}\n", r"bad\.yaml:1: subjects: 'US-California' is not a jurisdiction code"),
        ("bad.yaml", "aware_at: [unclosed\n", r"bad\.yaml:2: YAML syntax error"),
        ("bad.yaml", "- just\n- a list\n", r"bad\.yaml:1: expected a mapping of fact names to values"),
        ("bad.json", '{\n  "aware_at": "2026-11-20T09:30Z",\n  "subjects": {"CN": 5,}\n}\n', r"bad\.json:3: JSON syntax error"),
        ("missing.yaml", None, r"missing\.yaml: no such file"),
    ],
)
def test_a_broken_facts_file_names_file_and_line(ir: IrRunner, tmp_path: Path, name: str, text: str | None, expected: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    run = ir("obligations", "--facts", str(path))
    assert run.exit_code == 2, run.stdout
    assert run.stdout == ""
    assert re.search(expected, run.stderr), run.stderr
    assert "Traceback" not in run.stderr


def test_an_unknown_key_in_a_facts_file_is_a_warning_with_a_hint(ir: IrRunner, tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text("awre_at: 2026-11-20T09:30Z\nsubjects: {CN: 5}\n", encoding="utf-8")
    run = ir.ok("obligations", "--facts", str(path))
    assert "facts.yaml:1: awre_at: not a fact the rules read; ignored (did you mean 'aware_at'?)" in run.stderr
    assert "cn-pipl-regulator" in run.stdout and "clock not started" in run.stdout


def test_report_compliance_writes_markdown(ir: IrRunner, tmp_path: Path) -> None:
    incident_id = open_leak(ir)
    ir.ok("obligations", "fulfil", incident_id, "cn-cac-report", now="2026-11-20T06:00:00Z")
    out = tmp_path / "reports" / "compliance.md"
    run = ir.ok("report", "compliance", incident_id, "--out", str(out), now="2026-11-20T06:00:00Z")
    assert f"wrote {out}" in run.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Notification compliance: Customer table exposed ({incident_id})")
    assert "missed: late by 30m" in text
    printed = ir.ok("report", "compliance", incident_id, now="2026-11-20T06:00:00Z").stdout
    assert printed == text


def test_the_installed_entry_point_assesses_a_facts_file(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps({"aware_at": "2026-11-20T09:30+08:00", "subjects": {"GB": 3}}), encoding="utf-8")
    result = ir_process("obligations", "--facts", str(path), "--json", db=tmp_path / "ws.db", env={"IR_NOW": NOW})
    assert result.returncode == 0, result.stderr
    assert [d["rule"] for d in json.loads(result.stdout)] == ["gb-ukgdpr-authority", "gb-ukgdpr-record"]


def test_rebuild_and_verify_through_the_command_line(ir: IrRunner) -> None:
    incident_id = open_leak(ir)
    ir.ok("obligations", "fulfil", incident_id, "us-ca-individuals", now=NOW)
    ir.ok("obligations", "waive", incident_id, "cn-pipl-individuals", "--reason", "harm avoided", now=NOW)
    rebuilt = ir.ok("admin", "rebuild", "--json").json()
    assert rebuilt["identical"] and rebuilt["rows"]["obligation_outcomes"] == 2
    assert "verified" in ir.ok("audit", "verify").stdout


def test_recipient_names_follow_the_display_language(ir: IrRunner, tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text("aware_at: 2026-11-20T09:30:00+08:00\nsubjects: {CN: 5}\n", encoding="utf-8")
    out = ir.ok("--lang", "zh-CN", "obligations", "--facts", str(path), now=NOW).stdout
    assert "履行个人信息保护职责的部门" in out and "受影响的个人" in out
