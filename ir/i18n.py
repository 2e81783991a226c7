"""Text in more than one language: responders read English or Chinese (zh-CN)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ir.errors import InvalidInput

LOCALES = ("en", "zh-CN")
"""Locales that content files may provide; English is the fallback."""

DEFAULT_LOCALE = "en"


def pick(text: Mapping[str, str] | str | None, lang: str = DEFAULT_LOCALE) -> str:
    """Return ``text`` in ``lang``, falling back to English, then to any language given."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    for key in (lang, DEFAULT_LOCALE, *text.keys()):
        if key in text and text[key]:
            return text[key]
    return ""


def locale_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Choose the display locale: ``IR_LANG``, else a ``zh`` system locale, else English."""
    env = os.environ if environ is None else environ
    chosen = env.get("IR_LANG", "").strip()
    if chosen:
        return normalise_locale(chosen)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "zh-CN" if value.lower().startswith("zh") else DEFAULT_LOCALE
    return DEFAULT_LOCALE


def normalise_locale(value: str) -> str:
    """Map spellings such as ``zh``, ``zh_CN.UTF-8`` or ``EN`` onto :data:`LOCALES`.

    Raises:
        InvalidInput: the locale is not one ir has text for.
    """
    low = value.strip().replace("_", "-").split(".")[0].lower()
    if low.startswith("zh"):
        return "zh-CN"
    if low.startswith("en"):
        return "en"
    raise InvalidInput(f"unknown language '{value}' (choose one of: {', '.join(LOCALES)})")
