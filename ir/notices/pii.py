"""The one place where a person's personal fields are packed, sealed, opened and unpacked.

The store keeps every personal field (reference, name, e-mail, phone, postal address) in one
opaque column and never looks inside it. The fields are packed as a JSON list, then sealed
with AES-256-GCM (authenticated encryption) under the workspace's data key:

    sealed = 0x01 | key id (8 bytes) | nonce (12 random bytes) | ciphertext and 16-byte tag

The associated data binds each value to its row (the incident and the SHA-256 of the
person's reference), so a value copied onto another person or incident does not open: the
tag check fails. The key id says which key sealed it, so rows sealed by an earlier key are
found (and named) during a rotation.

Rows written before encryption existed hold the packed JSON itself (``key_id`` ``plain``);
they open without a key and ``ir key rotate`` seals them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ir.errors import IntegrityError, Refused
from ir.notices.keys import SETUP, DataKey, NoKey

PERSONAL_FIELDS = ("reference", "name", "email", "phone", "postal_address")
"""The fields packed together, in their stored order."""

VERSION = b"\x01"
HEADER = len(VERSION) + 8
NONCE = 12
PLAIN = "plain"
"""``key_id`` of rows stored before encryption (packed JSON, not sealed)."""
PURGED = "purged"
"""``key_id`` of rows whose personal fields were destroyed (``pii`` is NULL)."""

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
    """Encode the personal fields as text (a JSON list, in :data:`PERSONAL_FIELDS` order)."""
    # Five C-level string encodings and a join: this runs once per person on import.
    return f"[{','.join(map(encode_basestring, (reference, name, email, phone, postal_address)))}]"


def unpack(packed: str) -> Personal:
    """Decode what :func:`pack` produced."""
    return Personal(*_DECODE(packed))


_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


# A forked worker inherits its parent's buffer of random nonces; using it in two processes
# would repeat nonces under one key, which breaks GCM. Every fork makes buffers stale.
os.register_at_fork(after_in_child=_forked)


class _Nonces:
    """Random 96-bit nonces, drawn from the OS a few thousand at a time (a system call per
    value costs more than the encryption on some hosts)."""

    BATCH = 4096

    def __init__(self) -> None:
        self.buffer = b""
        self.at = 0
        self.generation = -1

    def take(self) -> bytes:
        """A fresh nonce, never given out before in this or any other process."""
        if self.at >= len(self.buffer) or self.generation != _forks:
            self.buffer = os.urandom(NONCE * self.BATCH)
            self.at = 0
            self.generation = _forks
        nonce = self.buffer[self.at : self.at + NONCE]
        self.at += NONCE
        return nonce


def _aad(head: bytes, incident_id: str, ref_hash: str) -> bytes:
    return head + f"{incident_id}\x00{ref_hash}".encode()


class Cipher:
    """Seals and opens personal fields.

    Args:
        current: the key new values are sealed with (None: nothing can be sealed).
        others: further keys values may have been sealed with (during a rotation).
    """

    def __init__(self, current: DataKey | None, others: Iterable[DataKey] = ()) -> None:
        self.current = current
        self._keys: dict[bytes, AESGCM] = {}
        self._names: dict[bytes, str] = {}
        for key in [*([current] if current else []), *others]:
            self._keys.setdefault(key.ident, AESGCM(key.secret))
            self._names.setdefault(key.ident, key.fingerprint)
        self._head = VERSION + current.ident if current else b""
        self._seal = self._keys[current.ident].encrypt if current else None
        self._nonces = _Nonces()

    @property
    def key_id(self) -> str:
        """The fingerprint stored beside values this cipher seals.

        Raises:
            NoKey: no current key.
        """
        if self.current is None:
            raise NoKey(f"personal data is stored encrypted and no key is configured: {SETUP}")
        return self.current.fingerprint

    def seal(self, incident_id: str, ref_hash: str, packed: str) -> bytes:
        """Seal packed personal fields for one row (see the module's description)."""
        if self._seal is None:
            raise NoKey(f"personal data is stored encrypted and no key is configured: {SETUP}")
        nonce = self._nonces.take()
        head = self._head
        return head + nonce + self._seal(nonce, packed.encode("utf-8"), _aad(head, incident_id, ref_hash))

    def open_packed(self, incident_id: str, ref_hash: str, stored: bytes | None) -> str:
        """The packed fields of a stored value.

        Raises:
            Refused: the fields were destroyed (purged).
            NoKey: the value was sealed with a key that is not configured.
            IntegrityError: the value was altered, or moved from another row.
        """
        if stored is None:
            raise Refused(f"the personal fields of person {ref_hash[:12]}… in {incident_id} were destroyed (ir subjects purge)")
        if stored[:1] != VERSION:
            return bytes(stored).decode("utf-8")  # written before encryption (key_id 'plain')
        head = stored[:HEADER]
        aead = self._keys.get(head[1:])
        if aead is None:
            configured = f"the configured key is {self.current.fingerprint}" if self.current else "no key is configured"
            raise NoKey(
                f"personal data in {incident_id} is sealed with key {head[1:].hex()} and {configured}: {SETUP} "
                "(after an interrupted rotation, run it again)"
            )
        try:
            data = aead.decrypt(stored[HEADER : HEADER + NONCE], stored[HEADER + NONCE :], _aad(head, incident_id, ref_hash))
        except InvalidTag:
            raise IntegrityError(
                f"the personal fields of person {ref_hash[:12]}… in {incident_id} do not decrypt with key "
                f"{head[1:].hex()}: the stored value was altered or moved from another row"
            ) from None
        return data.decode("utf-8")

    def open(self, incident_id: str, ref_hash: str, stored: bytes | None) -> Personal:
        """The personal fields of a stored value (see :meth:`open_packed`)."""
        return unpack(self.open_packed(incident_id, ref_hash, stored))

    def names(self) -> dict[str, str]:
        """Fingerprints of every key this cipher can open with."""
        return {ident.hex(): name for ident, name in self._names.items()}


def key_id_of(stored: bytes | None) -> str:
    """The fingerprint of the key that sealed a stored value (``plain`` or ``purged`` otherwise)."""
    if stored is None:
        return PURGED
    return bytes(stored[1:HEADER]).hex() if stored[:1] == VERSION else PLAIN
