"""The app's own words (headings, pane titles, buttons, key descriptions) in each display language.

Playbooks, scenarios and rules bring their own text in both languages; these are the words
the app adds around them. English is the key: a label missing from a locale's table shows
in English, so a new label never breaks the app.
"""

from __future__ import annotations

from typing import Any

from ir.tui.labels_zh import ZH_CN

LABELS: dict[str, dict[str, str]] = {"zh-CN": ZH_CN}
"""Translations by locale, keyed by the English label."""


def tr(text: str, lang: str, /, **values: Any) -> str:
    """``text`` in ``lang`` (English when the table has no entry), with ``{name}`` filled in from ``values``."""
    label = LABELS.get(lang, {}).get(text, text)
    return label.format(**values) if values else label
