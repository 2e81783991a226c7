"""Rule files: what ships, how a workspace overrides it, and errors that name file and line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ir.content.paths import ContentPaths, shipped_dir
from ir.errors import ContentErrors
from ir.obligations.book import RuleLoader, load_book
from ir.obligations.clocks import holiday_calendar
from ir.obligations.vocabulary import DATA_CATEGORIES, PIPL_SENSITIVE
from tests.obligations.helpers import shipped_book

TEMPLATES = {
    "cn-pipl-regulator": "pipl-regulator-zh",
    "cn-pipl-individuals": "pipl-individual-zh",
    "cn-cac-report": "cac-incident-report-zh",
    "cn-cac-summary": "cac-incident-report-zh",
    "eu-gdpr-authority": "gdpr-authority-en",
    "gb-ukgdpr-authority": "gdpr-authority-en",
    "eu-gdpr-individuals": "gdpr-individual-en",
    "gb-ukgdpr-individuals": "gdpr-individual-en",
    "us-hipaa-individuals": "hipaa-individual-en",
    **{f"us-{s}-individuals": "us-individual-en" for s in ("ca", "ny", "tx", "fl", "ma", "wa", "co")},
}
"""The templates other parts of ir rely on; every other shipped rule has none."""

AGREED_IDS = """
cn-pipl-regulator cn-pipl-individuals cn-cac-report cn-cac-summary eu-gdpr-authority
eu-gdpr-individuals eu-gdpr-record gb-ukgdpr-authority gb-ukgdpr-individuals
eu-nis2-early-warning eu-nis2-notification eu-nis2-final us-hipaa-individuals us-hipaa-hhs
us-hipaa-media us-sec-8k us-ftc-safeguards us-ca-individuals us-ca-ag us-ny-individuals
us-ny-regulators us-tx-individuals us-tx-ag us-fl-individuals us-fl-regulator
us-ma-individuals us-ma-regulators us-wa-individuals us-wa-ag us-co-individuals us-co-ag
sg-pdpa-commission sg-pdpa-individuals au-ndb-commissioner au-ndb-individuals
ca-pipeda-commissioner ca-pipeda-individuals jp-appi-preliminary jp-appi-final
jp-appi-individuals kr-pipa-individuals kr-pipa-regulator in-dpdp-board in-dpdp-individuals
br-lgpd-anpd br-lgpd-individuals
""".split()


def test_every_agreed_rule_id_ships() -> None:
    assert set(AGREED_IDS) <= set(shipped_book().by_id)


def test_templates_are_the_agreed_ones() -> None:
    for rule in shipped_book().rules:
        templates = {v.template for v in rule.versions}
        assert templates == {TEMPLATES.get(rule.id)}, rule.id


def test_every_rule_cites_its_article_and_sources() -> None:
    for rule in shipped_book().rules:
        for version in rule.versions:
            assert version.citation.strip() and version.sources.strip(), rule.id
            # A part resting on secondary sources only cannot be marked verified.
            verified_source = any(mark in version.sources for mark in ("[V]", "[N1]"))
            if not verified_source:
                assert version.unverified, f"{rule.id} cites no verified source but is marked verified"


def test_rule_ids_name_jurisdiction_regime_and_recipient() -> None:
    for rule in shipped_book().rules:
        assert re.fullmatch(r"[a-z]{2}(-[a-z0-9]+){2,}", rule.id), rule.id
        assert rule.id.startswith(rule.jurisdiction.split("-")[0].lower() + "-")


def test_the_pipl_sensitive_categories_are_marked() -> None:
    # Art. 28's list, and payment cards as the number of a financial account (银行卡).
    assert PIPL_SENSITIVE == {"biometric", "religion", "specific_identity", "health", "financial_account", "payment_card",
                              "location", "minors"}
    assert set(DATA_CATEGORIES) >= PIPL_SENSITIVE
    assert {c.sensitivity for c in DATA_CATEGORIES.values()} == {"public", "internal", "sensitive"}


GOOD = """\
jurisdiction: CN
regime: PIPL
title: test
rules:
  - id: cn-test-regulator
    citation: PIPL Art. 57
    sources: "[V] test"
    verified: true
    recipient: regulator
    recipient_name: The regulator
    applies:
      subjects_in: CN
    clock: awareness
    period: {hours: 4}
    required_fields: [organisation]
    template: null
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    clock: awareness\n", "    clok: awareness\n", r"x\.yaml:13: rules\[0\]\.clok: unknown key \(did you mean 'clock'\?\)"),
        ("      subjects_in: CN\n", "      subjects_in: CN\n      data_any: [helth]\n", r"x\.yaml:13: rules\[0\]\.applies\.data_any\[0\]: unknown data category 'helth'"),
        ("      subjects_in: CN\n", "      subjects_in: CN\n      requires: [big]\n", r"x\.yaml:13: rules\[0\]\.applies\.requires\[0\]: unknown yes/no fact 'big'"),
        ("      subjects_in: CN\n", "      subjects_in: China\n", r"x\.yaml:12: rules\[0\]\.applies\.subjects_in\[0\]: 'China' is not a jurisdiction code"),
        ("    period: {hours: 4}\n", "    period: {hours: 4, days: 1}\n", r"x\.yaml:14: rules\[0\]\.period: give exactly one of"),
        ("    period: {hours: 4}\n", "    period: {hours: 4}\n    deadline: immediately\n", r"x\.yaml:5: rules\[0\]: give a period or a deadline word, not both"),
        ("    period: {hours: 4}\n", "", r"x\.yaml:5: rules\[0\]: give a period .* or a deadline word"),
        ("    period: {hours: 4}\n", "    period: {business_days: 4}\n    calendar: XX\n", r"x\.yaml:15: rules\[0\]\.calendar: no holiday calendar for 'XX'"),
        ("    clock: awareness\n", "    clock: awareness\n    timezone: Mars/Base\n", r"rules\[0\]\.timezone: unknown time zone 'Mars/Base'"),
        ("    clock: awareness\n", "    clock: {after: cn-nothing}\n", r"x\.yaml:13: rules\[0\]\.clock\.after: no rule 'cn-nothing'"),
        ("    clock: awareness\n", "    clock: {after: cn-test-regulator}\n", r"a duty cannot start from its own fulfilment"),
        ("    required_fields: [organisation]\n", "    required_fields: [organization]\n", r"x\.yaml:15: rules\[0\]\.required_fields\[0\]: unknown notice field 'organization'"),
        ("  - id: cn-test-regulator\n", "  - id: us-test-regulator\n", r"rules\[0\]\.id: rule id must start with its jurisdiction 'cn-'"),
        ("    recipient: regulator\n", "    recipient: everyone\n", r"x\.yaml:9: rules\[0\]\.recipient"),
        ("    recipient_name: The regulator\n", "", r"rules\[0\]\.recipient_name: required but missing"),
        ("    clock: awareness\n", "    clock: awareness\n    effective_from: 2026-02-01\n    effective_to: 2026-01-01\n", r"rules\[0\]\.effective_to: is before effective_from"),
        ("      subjects_in: CN\n", "      subjects_in: CN\n      at_least: 5\n      more_than: 4\n", r"rules\[0\]\.applies: give at_least or more_than, not both"),
        ("    verified: true\n", "    verified: {trigger: true, dedline: false}\n", r"x\.yaml:8: rules\[0\]\.verified"),
    ],
)
def test_a_broken_rule_file_names_file_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    path = tmp_path / "x.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(ContentErrors) as err:
        load_book([path])
    assert any(re.search(expected, str(e)) for e in err.value.errors), [str(e) for e in err.value.errors]


def test_the_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert [r.id for r in load_book([path]).rules] == ["cn-test-regulator"]


def test_a_rule_defined_twice_in_one_folder_is_an_error(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    with pytest.raises(ContentErrors, match=r"b\.yaml:5: rules\[0\]\.id: rule 'cn-test-regulator' is also defined in .*a\.yaml"):
        load_book(sorted(tmp_path.glob("*.yaml")))


def test_a_workspace_overrides_a_rule_by_id_and_a_file_by_name(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "rules").mkdir(parents=True)
    own_target = GOOD.replace("cn-test-regulator", "cn-pipl-regulator").replace("    period: {hours: 4}\n", "    deadline: immediately\n    target: {hours: 1}\n")
    (workspace / "rules" / "local.yaml").write_text(own_target, encoding="utf-8")
    (workspace / "rules" / "eu-gdpr.yaml").write_text(GOOD.replace("cn-test-regulator", "cn-only-one"), encoding="utf-8")
    loader = RuleLoader(ContentPaths(workspace_dir=workspace))
    book = loader.book()
    assert book.by_id["cn-pipl-regulator"].versions[0].target.amount == 1  # type: ignore[union-attr]
    assert "eu-gdpr-authority" not in book.by_id and "cn-only-one" in book.by_id  # the whole file replaced
    assert "us-ca-individuals" in book.by_id  # the rest still ships


def test_ir_rules_path_comes_before_the_workspace(tmp_path: Path) -> None:
    workspace, extra = tmp_path / "ws", tmp_path / "extra"
    for folder, hours in ((workspace / "rules", 2), (extra, 3)):
        folder.mkdir(parents=True)
        (folder / "x.yaml").write_text(GOOD.replace("{hours: 4}", f"{{hours: {hours}}}"), encoding="utf-8")
    paths = ContentPaths.from_env(workspace, {"IR_RULES_PATH": str(extra)})
    assert RuleLoader(paths).book().by_id["cn-test-regulator"].versions[0].period.amount == 3  # type: ignore[union-attr]


def test_the_loader_reloads_a_changed_file(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "rules").mkdir(parents=True)
    path = workspace / "rules" / "x.yaml"
    path.write_text(GOOD, encoding="utf-8")
    loader = RuleLoader(ContentPaths(workspace_dir=workspace))
    assert loader.book() is loader.book()  # cached while unchanged
    path.write_text(GOOD.replace("{hours: 4}", "{hours: 5}"), encoding="utf-8")
    assert loader.book().by_id["cn-test-regulator"].versions[0].period.amount == 5  # type: ignore[union-attr]


def test_shipped_rules_are_found_next_to_the_package() -> None:
    assert (shipped_dir("rules") / "cn-pipl.yaml").is_file()
    assert len(list(shipped_dir("rules").glob("*.yaml"))) == len(shipped_book().files)


def test_effective_dates_do_not_overlap_between_versions() -> None:
    for rule in shipped_book().rules:
        dated = [v for v in rule.versions if v.when is None]
        days = [dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in range(0, 3650, 7)]
        for day in days:
            assert sum(v.in_force(day) for v in dated) <= 1, (rule.id, day)


def test_every_shipped_business_day_calendar_exists() -> None:
    # Loading skips this check for shipped rules (it costs the holiday library's import).
    for rule in shipped_book().rules:
        if any(v.period is not None and v.period.unit == "business_days" for v in rule.versions):
            assert holiday_calendar(rule.calendar) is not None, rule.id
