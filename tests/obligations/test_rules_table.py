"""Every shipped rule against the reference's facts: thresholds, exceptions, dates, clocks.

Each row gives the facts (on top of awareness at 2026-11-20T09:30+08:00, a Friday morning
in Beijing and Thursday evening in the Americas), the rule, and what must come out:
``None`` (the duty does not apply), ``due`` (the legal deadline, UTC), ``target`` (no
fixed period: the organisation's own target) or ``open`` (the clock has not started).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.obligations.helpers import AWARE, assess, shipped_book


@dataclass(frozen=True)
class Case:
    name: str
    rule: str
    facts: dict[str, Any]
    due: str | None = None
    target: str | None = None
    applies: bool = True
    fulfilled: dict[str, str] = field(default_factory=dict)
    verified: bool | None = None
    recipient: str | None = None


def no(name: str, rule: str, facts: dict[str, Any]) -> Case:
    return Case(name, rule, facts, applies=False)


CN1 = {"subjects": {"CN": 1}}
HIPAA = {"hipaa_covered_entity": True, "data_categories": ["health"]}

CASES = [
    # China: PIPL Art. 57 — any leak, "immediately"; own targets 4 h (regulator), 72 h (people).
    Case("pipl regulator: any CN subject", "cn-pipl-regulator", CN1, target="2026-11-20T05:30:00Z"),
    Case("pipl regulator: encryption is no exception", "cn-pipl-regulator", {**CN1, "encrypted": True}, target="2026-11-20T05:30:00Z"),
    no("pipl regulator: nobody in China", "cn-pipl-regulator", {"subjects": {"DE": 5}}),
    Case("pipl individuals", "cn-pipl-individuals", CN1, target="2026-11-23T01:30:00Z"),
    no("pipl individuals: measures avoid harm", "cn-pipl-individuals", {**CN1, "harm_avoided": True}),
    # China: CAC measures — 较大 and above (>= 1 million people), 1/2/4 hours by operator type.
    no("cac: 999,999 people is below 较大", "cn-cac-report", {"subjects": {"CN": 999_999}}),
    Case("cac: 1,000,000 people, ordinary operator 4 h", "cn-cac-report", {"subjects": {"CN": 1_000_000}},
         due="2026-11-20T05:30:00Z", recipient="provincial CAC", verified=False),
    Case("cac: CII operator 1 h", "cn-cac-report", {"subjects": {"CN": 1_000_000}, "cii_operator": True},
         due="2026-11-20T02:30:00Z", recipient="protection department"),
    Case("cac: central organ 2 h", "cn-cac-report", {"subjects": {"CN": 1_000_000}, "central_state_organ": True},
         due="2026-11-20T03:30:00Z", recipient="cyberspace-affairs office"),
    Case("cac: counts everyone whose PI leaked", "cn-cac-report", {"subjects": {"CN": 10, "DE": 999_990}}, due="2026-11-20T05:30:00Z"),
    no("cac: not in force on 2025-10-31 in Beijing", "cn-cac-report",
       {"subjects": {"CN": 2_000_000}, "aware_at": "2025-10-31T23:30:00+08:00"}),
    Case("cac: in force from 2025-11-01 in Beijing", "cn-cac-report",
         {"subjects": {"CN": 2_000_000}, "aware_at": "2025-11-01T00:30:00+08:00"}, due="2025-10-31T20:30:00Z"),
    Case("cac summary: waits for the end of handling", "cn-cac-summary", {"subjects": {"CN": 1_000_000}}),
    Case("cac summary: 30 days after handling ends", "cn-cac-summary",
         {"subjects": {"CN": 1_000_000}, "handling_ended_at": "2026-12-01T18:00:00+08:00"}, due="2026-12-31T15:59:59Z"),
    # EU GDPR Arts 33-34.
    Case("gdpr authority: 72 h", "eu-gdpr-authority", {"subjects": {"DE": 1}}, due="2026-11-23T01:30:00Z", verified=True),
    Case("gdpr authority: Norway is in the EEA", "eu-gdpr-authority", {"subjects": {"NO": 3}}, due="2026-11-23T01:30:00Z"),
    no("gdpr authority: Switzerland is not", "eu-gdpr-authority", {"subjects": {"CH": 3}}),
    no("gdpr authority: risk unlikely", "eu-gdpr-authority", {"subjects": {"DE": 1}, "risk_unlikely": True}),
    Case("gdpr individuals: high risk", "eu-gdpr-individuals", {"subjects": {"FR": 1}, "high_risk": True}, target="2026-11-23T01:30:00Z"),
    no("gdpr individuals: not high risk", "eu-gdpr-individuals", {"subjects": {"FR": 1}}),
    no("gdpr individuals: encrypted (Art. 34(3)(a))", "eu-gdpr-individuals", {"subjects": {"FR": 1}, "high_risk": True, "encrypted": True}),
    Case("gdpr record: every breach", "eu-gdpr-record", {"subjects": {"IT": 1}, "risk_unlikely": True}, target="2026-11-23T01:30:00Z"),
    # UK.
    Case("uk authority: ICO 72 h", "gb-ukgdpr-authority", {"subjects": {"GB": 1}}, due="2026-11-23T01:30:00Z"),
    no("uk authority: risk unlikely", "gb-ukgdpr-authority", {"subjects": {"GB": 1}, "risk_unlikely": True}),
    Case("uk individuals: high risk", "gb-ukgdpr-individuals", {"subjects": {"GB": 1}, "high_risk": True}, target="2026-11-23T01:30:00Z"),
    Case("uk record", "gb-ukgdpr-record", {"subjects": {"GB": 1}}, target="2026-11-23T01:30:00Z", verified=False),
    Case("pecr: 24 h for comms providers", "gb-pecr-ico", {"subjects": {"GB": 1}, "public_comms_provider": True}, due="2026-11-21T01:30:00Z"),
    no("pecr: not a comms provider", "gb-pecr-ico", {"subjects": {"GB": 1}}),
    Case("pecr customers", "gb-pecr-customers", {"subjects": {"GB": 1}, "public_comms_provider": True, "high_risk": True},
         target="2026-11-23T01:30:00Z", verified=False),
    # NIS2 Art. 23.
    Case("nis2 early warning 24 h", "eu-nis2-early-warning", {"nis2_entity": True, "significant_incident": True}, due="2026-11-21T01:30:00Z"),
    no("nis2: not significant", "eu-nis2-early-warning", {"nis2_entity": True}),
    Case("nis2 notification 72 h", "eu-nis2-notification", {"nis2_entity": True, "significant_incident": True}, due="2026-11-23T01:30:00Z"),
    Case("nis2 final: waits for the notification", "eu-nis2-final", {"nis2_entity": True, "significant_incident": True}),
    Case("nis2 final: one month after the notification", "eu-nis2-final", {"nis2_entity": True, "significant_incident": True},
         fulfilled={"eu-nis2-notification": "2026-11-22T10:00:00+01:00"}, due="2026-12-22T22:59:59Z"),
    # HIPAA.
    Case("hipaa individuals: 60 days from discovery", "us-hipaa-individuals", {**HIPAA, "subjects": {"US-NY": 10}}, due="2027-01-19T04:59:59Z"),
    no("hipaa: no health data", "us-hipaa-individuals", {"hipaa_covered_entity": True, "data_categories": ["name"], "subjects": {"US-NY": 10}}),
    no("hipaa: secured (encrypted) PHI", "us-hipaa-individuals", {**HIPAA, "encrypted": True, "subjects": {"US-NY": 10}}),
    no("hipaa: not a covered entity", "us-hipaa-individuals", {"data_categories": ["health"], "subjects": {"US-NY": 10}}),
    no("hipaa media: 500 in each state is not more than 500", "us-hipaa-media", {**HIPAA, "subjects": {"US-NY": 500, "US-NJ": 500}}),
    Case("hipaa media: 501 in one state", "us-hipaa-media", {**HIPAA, "subjects": {"US-NY": 501}}, due="2027-01-19T04:59:59Z"),
    Case("hipaa hhs: 499 go in the annual log", "us-hipaa-hhs", {**HIPAA, "subjects": {"US-NY": 499}}, due="2027-03-02T04:59:59Z"),
    Case("hipaa hhs: 500 with the individual notice", "us-hipaa-hhs", {**HIPAA, "subjects": {"US-NY": 500}}, due="2027-01-19T04:59:59Z"),
    # SEC Form 8-K Item 1.05: 4 business days after the materiality determination.
    Case("sec: waits for the materiality determination", "us-sec-8k", {"sec_registrant": True}),
    Case("sec: 4 business days, skipping Thanksgiving", "us-sec-8k",
         {"sec_registrant": True, "materiality_determined_at": "2026-11-24T15:00:00-05:00"}, due="2026-12-02T04:59:59Z"),
    no("sec: not in force before 2023-12-18", "us-sec-8k", {"sec_registrant": True, "aware_at": "2023-12-17T10:00:00-05:00"}),
    # FTC Safeguards Rule.
    no("ftc: 499 consumers", "us-ftc-safeguards", {"financial_institution": True, "subjects": {"US-TX": 499}}),
    Case("ftc: 500 consumers, 30 days", "us-ftc-safeguards", {"financial_institution": True, "subjects": {"US-TX": 500}}, due="2026-12-20T04:59:59Z"),
    no("ftc: encrypted", "us-ftc-safeguards", {"financial_institution": True, "encrypted": True, "subjects": {"US-TX": 900}}),
    no("ftc: not in force before 2024-05-13", "us-ftc-safeguards",
       {"financial_institution": True, "subjects": {"US-TX": 900}, "aware_at": "2024-05-12T12:00:00-04:00"}),
    # California: SB 446's 30 days from 2026-01-01, local time.
    Case("ca individuals: 30 days", "us-ca-individuals", {"subjects": {"US-CA": 1}}, due="2026-12-20T07:59:59Z"),
    no("ca individuals: encrypted", "us-ca-individuals", {"subjects": {"US-CA": 1}, "encrypted": True}),
    Case("ca individuals: 2025-12-31 23:59 in California, the old standard", "us-ca-individuals",
         {"subjects": {"US-CA": 1}, "aware_at": "2025-12-31T23:59:00-08:00"}, target="2026-01-31T07:59:59Z"),
    Case("ca individuals: 07:30 UTC on 1 January is still 2025 in California", "us-ca-individuals",
         {"subjects": {"US-CA": 1}, "aware_at": "2026-01-01T07:30:00Z"}, target="2026-01-31T07:59:59Z"),
    Case("ca individuals: 2026-01-01 00:00 in California, 30 days", "us-ca-individuals",
         {"subjects": {"US-CA": 1}, "aware_at": "2026-01-01T00:00:00-08:00"}, due="2026-02-01T07:59:59Z"),
    no("ca ag: 500 residents is not more than 500", "us-ca-ag", {"subjects": {"US-CA": 500}}),
    Case("ca ag: waits for the resident notice", "us-ca-ag", {"subjects": {"US-CA": 501}}),
    Case("ca ag: 15 days after the resident notice", "us-ca-ag", {"subjects": {"US-CA": 501}},
         fulfilled={"us-ca-individuals": "2026-12-01T10:00:00-08:00"}, due="2026-12-17T07:59:59Z"),
    # New York.
    Case("ny individuals: 30 days", "us-ny-individuals", {"subjects": {"US-NY": 1}}, due="2026-12-20T04:59:59Z", verified=False),
    no("ny individuals: before 2024-12-21", "us-ny-individuals", {"subjects": {"US-NY": 1}, "aware_at": "2024-12-20T12:00:00-05:00"}),
    Case("ny regulators: when residents are notified", "us-ny-regulators", {"subjects": {"US-NY": 1}},
         fulfilled={"us-ny-individuals": "2026-12-01T10:00:00-05:00"}, target="2026-12-02T15:00:00Z"),
    no("ny credit agencies: 5,000", "us-ny-credit-agencies", {"subjects": {"US-NY": 5000}}),
    Case("ny credit agencies: 5,001", "us-ny-credit-agencies", {"subjects": {"US-NY": 5001}}),
    # Texas.
    Case("tx individuals: 60 days, from awareness until a determination is recorded", "us-tx-individuals",
         {"subjects": {"US-TX": 1}}, due="2027-01-19T05:59:59Z"),
    Case("tx individuals: 60 days after the determination", "us-tx-individuals",
         {"subjects": {"US-TX": 1}, "determined_at": "2026-12-01T09:00:00-06:00"}, due="2027-01-31T05:59:59Z"),
    no("tx ag: 249 residents", "us-tx-ag", {"subjects": {"US-TX": 249}}),
    Case("tx ag: 250 residents, 30 days", "us-tx-ag", {"subjects": {"US-TX": 250}}, due="2026-12-20T05:59:59Z", verified=True),
    no("tx ag: before SB 768 (2023-09-01)", "us-tx-ag", {"subjects": {"US-TX": 900}, "aware_at": "2023-08-31T12:00:00-05:00"}),
    no("tx credit agencies: 10,000", "us-tx-credit-agencies", {"subjects": {"US-TX": 10_000}}),
    Case("tx credit agencies: 10,001", "us-tx-credit-agencies", {"subjects": {"US-TX": 10_001}}),
    # Florida.
    Case("fl individuals", "us-fl-individuals", {"subjects": {"US-FL": 1}}, due="2026-12-20T04:59:59Z"),
    no("fl regulator: 499", "us-fl-regulator", {"subjects": {"US-FL": 499}}),
    Case("fl regulator: 500", "us-fl-regulator", {"subjects": {"US-FL": 500}}, due="2026-12-20T04:59:59Z"),
    no("fl credit agencies: 1,000", "us-fl-credit-agencies", {"subjects": {"US-FL": 1000}}),
    Case("fl credit agencies: 1,001", "us-fl-credit-agencies", {"subjects": {"US-FL": 1001}}),
    # Massachusetts: as soon as practicable; own target 30 days.
    Case("ma individuals", "us-ma-individuals", {"subjects": {"US-MA": 1}}, target="2026-12-20T04:59:59Z"),
    Case("ma regulators", "us-ma-regulators", {"subjects": {"US-MA": 1}}, target="2026-12-20T04:59:59Z"),
    # Washington.
    Case("wa individuals", "us-wa-individuals", {"subjects": {"US-WA": 1}}, due="2026-12-20T07:59:59Z"),
    no("wa individuals: no risk of harm", "us-wa-individuals", {"subjects": {"US-WA": 1}, "risk_unlikely": True}),
    no("wa ag: 500", "us-wa-ag", {"subjects": {"US-WA": 500}}),
    Case("wa ag: 501", "us-wa-ag", {"subjects": {"US-WA": 501}}, due="2026-12-20T07:59:59Z"),
    Case("wa credit agencies: 1,001", "us-wa-credit-agencies", {"subjects": {"US-WA": 1001}}),
    # Colorado.
    Case("co individuals", "us-co-individuals", {"subjects": {"US-CO": 1}}, due="2026-12-20T06:59:59Z"),
    no("co individuals: misuse not reasonably likely", "us-co-individuals", {"subjects": {"US-CO": 1}, "risk_unlikely": True}),
    no("co ag: 499", "us-co-ag", {"subjects": {"US-CO": 499}}),
    Case("co ag: 500", "us-co-ag", {"subjects": {"US-CO": 500}}, due="2026-12-20T06:59:59Z"),
    Case("co credit agencies: 1,001", "us-co-credit-agencies", {"subjects": {"US-CO": 1001}}),
    # Singapore.
    no("sg commission: 499 and no significant harm", "sg-pdpa-commission", {"subjects": {"SG": 499}}),
    Case("sg commission: 500, waits for the assessment", "sg-pdpa-commission", {"subjects": {"SG": 500}}),
    Case("sg commission: 3 days after the day of assessment", "sg-pdpa-commission",
         {"subjects": {"SG": 1}, "high_risk": True, "assessed_at": "2026-11-25T10:00:00+08:00"}, due="2026-11-28T15:59:59Z"),
    Case("sg individuals: significant harm", "sg-pdpa-individuals",
         {"subjects": {"SG": 1}, "high_risk": True, "assessed_at": "2026-11-25T10:00:00+08:00"}, target="2026-11-28T15:59:59Z"),
    no("sg individuals: not for scale alone", "sg-pdpa-individuals", {"subjects": {"SG": 900}}),
    # Australia.
    Case("au assessment: 30 days", "au-ndb-assessment", {"subjects": {"AU": 1}}, due="2026-12-20T12:59:59Z"),
    Case("au commissioner: serious harm", "au-ndb-commissioner", {"subjects": {"AU": 1}, "high_risk": True}, target="2026-11-23T01:30:00Z"),
    no("au commissioner: no serious harm", "au-ndb-commissioner", {"subjects": {"AU": 1}}),
    Case("au individuals: after the statement", "au-ndb-individuals", {"subjects": {"AU": 1}, "high_risk": True}, verified=False),
    # Canada (CA, not US-CA).
    Case("ca commissioner: RROSH", "ca-pipeda-commissioner", {"subjects": {"CA": 1}, "high_risk": True}, target="2026-11-23T01:30:00Z"),
    no("ca commissioner: California is not Canada", "ca-pipeda-commissioner", {"subjects": {"US-CA": 10}, "high_risk": True}),
    Case("ca individuals", "ca-pipeda-individuals", {"subjects": {"CA-ON": 1}, "high_risk": True}, target="2026-11-23T01:30:00Z"),
    Case("ca organisations", "ca-pipeda-organisations", {"subjects": {"CA": 1}, "high_risk": True}, target="2026-11-23T01:30:00Z"),
    Case("ca record: every breach", "ca-pipeda-record", {"subjects": {"CA": 1}}, target="2026-11-23T01:30:00Z"),
    # Japan.
    no("jp: 1,000 people and nothing else", "jp-appi-preliminary", {"subjects": {"JP": 1000}}),
    Case("jp: more than 1,000", "jp-appi-preliminary", {"subjects": {"JP": 1001}}, target="2026-11-23T14:59:59Z"),
    Case("jp: one person's health data", "jp-appi-preliminary", {"subjects": {"JP": 1}, "data_categories": ["health"]}, target="2026-11-23T14:59:59Z"),
    Case("jp final: 30 days", "jp-appi-final", {"subjects": {"JP": 1}, "data_categories": ["payment_card"]}, due="2026-12-20T14:59:59Z"),
    Case("jp final: 60 days when improper purpose", "jp-appi-final", {"subjects": {"JP": 1}, "malicious": True}, due="2027-01-19T14:59:59Z"),
    Case("jp individuals", "jp-appi-individuals", {"subjects": {"JP": 1001}}, target="2026-11-23T14:59:59Z"),
    # South Korea: the amended Art. 34 from 2026-09-11.
    Case("kr individuals: 72 h", "kr-pipa-individuals", {"subjects": {"KR": 1}}, due="2026-11-23T01:30:00Z", verified=True),
    Case("kr individuals: before the amendment, unverified", "kr-pipa-individuals",
         {"subjects": {"KR": 1}, "aware_at": "2026-09-10T12:00:00+09:00"}, target="2026-09-13T03:00:00Z", verified=False),
    Case("kr individuals: from 2026-09-11 in Seoul", "kr-pipa-individuals",
         {"subjects": {"KR": 1}, "aware_at": "2026-09-11T00:30:00+09:00"}, due="2026-09-13T15:30:00Z", verified=True),
    no("kr regulator: 999 people", "kr-pipa-regulator", {"subjects": {"KR": 999}}),
    Case("kr regulator: 1,000 people", "kr-pipa-regulator", {"subjects": {"KR": 1000}}, due="2026-11-23T01:30:00Z"),
    Case("kr regulator: unique identifiers", "kr-pipa-regulator", {"subjects": {"KR": 1}, "data_categories": ["national_id"]}, due="2026-11-23T01:30:00Z"),
    Case("kr regulator: external unlawful access", "kr-pipa-regulator", {"subjects": {"KR": 1}, "malicious": True}, due="2026-11-23T01:30:00Z"),
    # India.
    Case("in board initial: without delay", "in-dpdp-board-initial", {"subjects": {"IN": 1}}, target="2026-11-21T01:30:00Z"),
    Case("in board: 72 h", "in-dpdp-board", {"subjects": {"IN": 1}}, due="2026-11-23T01:30:00Z"),
    Case("in individuals", "in-dpdp-individuals", {"subjects": {"IN": 1}}, target="2026-11-23T01:30:00Z"),
    # Brazil: 3 working days; 20 November (Zumbi) is a national holiday.
    Case("br anpd: 3 working days over a holiday", "br-lgpd-anpd", {"subjects": {"BR": 1}, "data_categories": ["health"]},
         due="2026-11-26T02:59:59Z", verified=False),
    Case("br anpd: doubled for small agents", "br-lgpd-anpd",
         {"subjects": {"BR": 1}, "data_categories": ["credentials"], "small_processing_agent": True}, due="2026-12-01T02:59:59Z"),
    no("br anpd: no Art. 5 criterion", "br-lgpd-anpd", {"subjects": {"BR": 1}, "data_categories": ["name"]}),
    no("br anpd: risk unlikely", "br-lgpd-anpd", {"subjects": {"BR": 1}, "data_categories": ["health"], "risk_unlikely": True}),
    Case("br individuals", "br-lgpd-individuals", {"subjects": {"BR": 1}, "data_categories": ["minors"]}, due="2026-11-26T02:59:59Z"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_rule(case: Case) -> None:
    obligations = assess({"aware_at": AWARE, **case.facts}, fulfilled=case.fulfilled)
    if not case.applies:
        assert case.rule not in obligations
        return
    assert case.rule in obligations, f"{case.rule} does not apply; got {sorted(obligations)}"
    ob = obligations[case.rule]
    assert ob.due_at == case.due, ob.due_text
    assert ob.target_at == case.target, ob.due_text
    if case.due is None and case.target is None:
        assert "not" in ob.due_text  # says why the clock has not started
    if case.verified is not None:
        assert ob.verified is case.verified
    if case.recipient is not None:
        assert case.recipient in ob.recipient_name


def test_the_table_covers_every_shipped_rule() -> None:
    tested = {c.rule for c in CASES if c.applies}
    assert tested == set(shipped_book().by_id)
