"""The words rules and facts share: data categories, jurisdictions, facts, notice fields.

Everything a rule file may name is listed here, so a typo in a rule is a load error with
file and line rather than a duty that silently never applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Sensitivity = Literal["public", "internal", "sensitive"]
"""How the organisation classes a data category: freely available, internal, or sensitive."""


@dataclass(frozen=True)
class Category:
    """One category of personal information.

    Attributes:
        title: English name.
        title_zh: Chinese name (as in the personal-data-leak playbook).
        sensitivity: the organisation's sensitivity class.
        pipl_sensitive: listed as sensitive personal information in PIPL Art. 28.
    """

    title: str
    title_zh: str
    sensitivity: Sensitivity
    pipl_sensitive: bool = False


# PIPL Art. 28 lists biometrics, religious belief, specific identity, medical health,
# financial accounts, whereabouts and the information of minors under 14 as sensitive.
# Source: the Art. 28 list as quoted in playbooks/personal-data-leak.yaml (task identify_data);
# Art. 28 itself is not in the notification-law reference. A payment card (银行卡) number is a
# financial account's number, so it is marked too (source: GB/T 35273-2020, the national
# standard on personal information security, Annex B, which gives bank account numbers as
# sensitive personal information; not in the reference).
DATA_CATEGORIES: dict[str, Category] = {
    "name": Category("Name", "姓名", "public"),
    "contact": Category("Contact details", "联系方式", "internal"),
    "national_id": Category("National ID number", "身份证件号码", "sensitive"),
    "financial_account": Category("Financial account", "金融账户", "sensitive", pipl_sensitive=True),
    "payment_card": Category("Payment card", "银行卡", "sensitive", pipl_sensitive=True),
    "credentials": Category("Account credentials", "账号密码", "sensitive"),
    "health": Category("Health", "医疗健康", "sensitive", pipl_sensitive=True),
    "biometric": Category("Biometric", "生物识别", "sensitive", pipl_sensitive=True),
    "location": Category("Location / whereabouts", "行踪轨迹", "sensitive", pipl_sensitive=True),
    "minors": Category("Information of minors", "未成年人信息", "sensitive", pipl_sensitive=True),
    "religion": Category("Religious belief", "宗教信仰", "sensitive", pipl_sensitive=True),
    "specific_identity": Category("Specific identity", "特定身份", "sensitive", pipl_sensitive=True),
    "transaction_history": Category("Transaction records", "交易记录", "sensitive"),
    "date_of_birth": Category("Date of birth", "出生日期", "internal"),
    "postal_address": Category("Postal address", "通信地址", "internal"),
}
"""The data-category vocabulary (the multi-choice answers of the playbook's data_categories)."""

PIPL_SENSITIVE = frozenset(k for k, c in DATA_CATEGORIES.items() if c.pipl_sensitive)
"""Categories PIPL Art. 28 calls sensitive personal information."""

SENSITIVE = frozenset(k for k, c in DATA_CATEGORIES.items() if c.sensitivity == "sensitive")
"""Categories in the ``sensitive`` class."""

EU_MEMBER_STATES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
"""ISO 3166 codes of the 27 EU member states (source: europa.eu country list; not in the reference)."""

# The GDPR applies in Iceland, Liechtenstein and Norway through the EEA Agreement
# (EEA Joint Committee Decision 154/2018; not in the reference).
JURISDICTION_GROUPS: dict[str, frozenset[str]] = {
    "EU": EU_MEMBER_STATES,
    "EEA": EU_MEMBER_STATES | {"IS", "LI", "NO"},
}
"""Names a rule may use for several jurisdictions at once."""

TIMEZONES: dict[str, str] = {
    "CN": "Asia/Shanghai",
    "EU": "Europe/Brussels",
    "GB": "Europe/London",
    "US": "America/New_York",
    "US-CA": "America/Los_Angeles",
    "US-NY": "America/New_York",
    "US-TX": "America/Chicago",
    "US-FL": "America/New_York",
    "US-MA": "America/New_York",
    "US-WA": "America/Los_Angeles",
    "US-CO": "America/Denver",
    "SG": "Asia/Singapore",
    "AU": "Australia/Sydney",
    "CA": "America/Toronto",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "IN": "Asia/Kolkata",
    "BR": "America/Sao_Paulo",
}
"""Default local time of a rule's jurisdiction: the seat of its regulator.

Day counts end at midnight in this zone and effective dates are read in it; a rule may name
another zone with ``timezone``.
"""

FactKind = Literal["datetime", "counts", "integer", "multi", "bool"]

FACTS: dict[str, tuple[FactKind, str]] = {
    "aware_at": ("datetime", "when the organisation became aware of (discovered) the incident"),
    "determined_at": ("datetime", "when it concluded a breach occurred (sufficient evidence); TX, FL, CO, AU, CA clocks"),
    "assessed_at": ("datetime", "when it finished assessing whether the breach is notifiable (SG PDPA clock)"),
    "materiality_determined_at": ("datetime", "when an SEC registrant determined the incident material"),
    "handling_ended_at": ("datetime", "when the handling of the incident ended (CAC 30-day summary report)"),
    "subjects": ("counts", "people affected by jurisdiction: CN, DE, US-CA, ..."),
    "affected_count": ("integer", "people affected in total"),
    "data_categories": ("multi", "categories of personal information involved"),
    "encrypted": ("bool", "data unintelligible to the unauthorised party (encrypted, key not taken)"),
    "high_risk": ("bool", "likely high risk / significant or serious harm to the people affected"),
    "risk_unlikely": ("bool", "unlikely to result in any risk to the people affected"),
    "harm_avoided": ("bool", "measures taken effectively avoid harm (PIPL Art. 57 individual-notice exception)"),
    "malicious": ("bool", "caused by unauthorised access or another improper purpose (attack, insider theft)"),
    "significant_incident": ("bool", "a significant incident under NIS2 Art. 23(3)"),
    "small_processing_agent": ("bool", "a small-scale processing agent under LGPD (ANPD deadlines doubled)"),
    "cii_operator": ("bool", "operates critical information infrastructure in China"),
    "central_state_organ": ("bool", "a Chinese central or state organ or its direct unit"),
    "sec_registrant": ("bool", "files reports with the US SEC"),
    "hipaa_covered_entity": ("bool", "a HIPAA covered entity or business associate"),
    "nis2_entity": ("bool", "an essential or important entity under NIS2"),
    "financial_institution": ("bool", "a non-bank financial institution under the FTC Safeguards Rule"),
    "public_comms_provider": ("bool", "a public electronic communications service provider (UK PECR)"),
    "notice_targets": ("counts", "own targets in hours for duties with no fixed period: {rule id or 'default': hours}"),
}
"""Facts the obligations engine reads; other incident facts are ignored."""

BOOL_FACTS = frozenset(k for k, (kind, _) in FACTS.items() if kind == "bool")
TIME_FACTS = frozenset(k for k, (kind, _) in FACTS.items() if kind == "datetime")

FIELDS: dict[str, str] = {
    "organisation": "the notifying organisation's name",
    "contact": "contact point (DPO, privacy office, toll-free number, e-mail)",
    "incident_summary": "what happened: nature and circumstances of the breach",
    "occurred_at": "when the breach happened (date, estimate or range)",
    "aware_at": "when the organisation discovered it",
    "data_categories": "categories and items of personal information involved",
    "affected_count": "number (or approximate number) of people affected",
    "subjects": "people affected by jurisdiction",
    "root_cause": "cause of the breach",
    "possible_harm": "likely consequences and possible harm",
    "remedial_measures": "measures taken or proposed to address the breach and mitigate harm",
    "individual_measures": "what the people affected can do to protect themselves",
    "records_count": "approximate number of records concerned (GDPR Art. 33(3)(a))",
    "residents_count": "number of residents of the notifying jurisdiction affected",
    "notified_count": "number of people already notified directly (TX AG)",
    "planned_measures": "measures planned but not yet taken (TX AG)",
    "law_enforcement": "whether law enforcement is investigating, or notice was delayed for it",
    "notice_copy": "a copy or sample of the notice sent to individuals",
    "credit_agency_contacts": "contact details of the major credit reporting agencies",
    "identity_theft_services": "identity-theft prevention or credit-monitoring services offered",
    "security_freeze_info": "how to request a security freeze, free of charge (MA)",
    "police_report_right": "the right to obtain a police report (MA)",
    "delay_reasons": "reasons for any delay in notifying",
    "incident_grade": "the incident's grade under the CAC Grading Guide",
    "systems_affected": "the affected systems or facilities",
    "protection_measures": "technical and security measures that protected the data (LGPD Art. 48 §1)",
    "cross_border_impact": "whether the incident has, or may have, cross-border impact (NIS2)",
    "compromise_indicators": "indicators of compromise, where available (NIS2)",
    "entity_type": "the type of organisation (MA)",
    "wisp": "whether a written information security programme is maintained (MA)",
    "lessons_learned": "lessons learned (CAC summary report)",
    "corrective_actions": "corrective actions and accountability (CAC summary report)",
}
"""Notice content fields a rule may list in ``required_fields`` (named the same everywhere)."""

RECIPIENTS = (
    "regulator",
    "attorney_general",
    "individuals",
    "media",
    "credit_agencies",
    "other_organisations",
    "internal_record",
)
"""Kinds of recipient."""

DEADLINE_WORDS: dict[str, str] = {
    "immediately": "immediately",
    "without_delay": "without delay",
    "without_undue_delay": "without undue delay",
    "without_unreasonable_delay": "without unreasonable delay",
    "as_soon_as_practicable": "as soon as practicable",
    "as_soon_as_feasible": "as soon as feasible",
    "promptly": "promptly",
    "when_individuals_notified": "when the individuals are notified",
    "ongoing": "kept for every breach",
    "unspecified": "no period given in the reference",
}
"""Wording of duties with no fixed period, as the law (or the reference) puts it."""
