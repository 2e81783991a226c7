"""Data categories with their classification, wherever people's data is listed. Pure.

Each category carries the organisation's sensitivity class (public, internal, sensitive) and
whether PIPL Art. 28 lists it as sensitive personal information, from the shared vocabulary
(:mod:`ir.obligations.vocabulary`). A category a playbook adds that the vocabulary does not
know is shown as ``unclassified``, never silently as harmless.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ir.obligations.vocabulary import DATA_CATEGORIES

UNCLASSIFIED = "unclassified"


def classify(category: str, titles: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One category as ``{id, title, sensitivity, pipl_sensitive}``."""
    known = DATA_CATEGORIES.get(category)
    title = (titles or {}).get(category) or (known.title if known else category)
    return {
        "id": category,
        "title": title,
        "sensitivity": known.sensitivity if known else UNCLASSIFIED,
        "pipl_sensitive": bool(known and known.pipl_sensitive),
    }


def label(entry: Mapping[str, Any]) -> str:
    """``sensitive; PIPL sensitive personal information`` (how the class reads in a listing)."""
    text = str(entry["sensitivity"])
    if entry.get("pipl_sensitive"):
        text += "; PIPL sensitive personal information"
    return text


def incident_categories(facts: Mapping[str, Any]) -> list[str]:
    """The incident's ``data_categories`` fact as a list of ids."""
    value = facts.get("data_categories")
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value.strip():
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def effective_counts(by_list: Mapping[str, int], incident: Iterable[str]) -> Counter[str]:
    """People per category: a person's own categories, or the incident's when they name none
    (which is what their letter tells them)."""
    fallback = list(incident)
    counts: Counter[str] = Counter()
    for text, n in by_list.items():
        ids = json.loads(text) or fallback
        for category in ids:
            counts[category] += n
    return counts


def listing(
    by_list: Mapping[str, int] | None, incident: Iterable[str], titles: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every category involved, classified, most sensitive first; with people counts when known.

    Args:
        by_list: people per category list (JSON); None when people are not counted.
        incident: the incident's own data categories.
    """
    incident = list(incident)
    counts = effective_counts(by_list, incident) if by_list is not None else Counter()
    ids = list(dict.fromkeys([*incident, *sorted(counts)]))
    rows = []
    for category in ids:
        entry = classify(category, titles)
        entry["in_incident_facts"] = category in incident
        if by_list is not None:
            entry["people"] = counts.get(category, 0)
        rows.append(entry)
    order = {"sensitive": 0, UNCLASSIFIED: 1, "internal": 2, "public": 3}
    return sorted(rows, key=lambda e: (not e["pipl_sensitive"], order.get(e["sensitivity"], 1), e["id"]))
