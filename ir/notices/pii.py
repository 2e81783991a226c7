"""The one place where a person's personal fields are packed for storage and unpacked.

The store keeps every personal field (reference, name, e-mail, phone, postal address) in one
opaque column and never looks inside it: the column is meant to become one authenticated
encryption blob, so nothing may query, index or compare its parts in SQL. Everything that
reads or writes personal fields goes through :func:`pack` and :func:`unpack`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.encoder import encode_basestring

PERSONAL_FIELDS = ("reference", "name", "email", "phone", "postal_address")
"""The fields packed together, in their stored order."""

_DECODE = json.JSONDecoder().decode


@dataclass(frozen=True, slots=True)
class Personal:
    """A person's personal fields; empty strings where the list had nothing."""

    reference: str
    name: str = ""
    email: str = ""
    phone: str = ""
    postal_address: str = ""


def pack(reference: str, name: str, email: str, phone: str, postal_address: str) -> str:
    """Encode the personal fields as the stored text (a JSON list, in :data:`PERSONAL_FIELDS` order)."""
    # Five C-level string encodings and a join: this runs once per person on import.
    return f"[{','.join(map(encode_basestring, (reference, name, email, phone, postal_address)))}]"


def unpack(stored: str) -> Personal:
    """Decode what :func:`pack` stored."""
    return Personal(*_DECODE(stored))
