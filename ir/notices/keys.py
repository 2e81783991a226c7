"""The data key: where it comes from, how it is named, and how a key file is made.

Affected people's personal fields are sealed with a 256-bit key that never enters the
workspace database. It comes from one of two places:

* ``IR_KEY_FILE``: a key file, which must be readable by its owner only (as ssh insists for
  private keys): a key that other accounts on the host can read protects nothing from them;
* ``IR_KEY``: the key itself, for a secret manager or a CI system to pass in.

A key is named by its fingerprint: 16 hex digits derived from the key with SHA-256, stored
beside every value it sealed so that ``ir key status`` can count rows per key and a rotation
can be resumed. The fingerprint reveals nothing usable about the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ir.errors import InvalidInput, Refused

KEY_BYTES = 32
"""AES-256."""

PREFIX = "ir-key-v1:"
"""How a key is written, in a key file or in ``IR_KEY``: the prefix, then base64url."""

FILE_VAR = "IR_KEY_FILE"
ENV_VAR = "IR_KEY"

SETUP = (
    f"set {FILE_VAR} to your key file (or {ENV_VAR} to the key itself); "
    "create a key file with: ir key new"
)
"""What to do when no key is configured (the end of every such message)."""


class NoKey(Refused):
    """Personal data is needed and no data key is configured."""


@dataclass(frozen=True)
class DataKey:
    """A 256-bit data key.

    Attributes:
        secret: the key bytes (never logged, never stored in the workspace).
        source: where it came from, for messages (``IR_KEY_FILE /path`` or ``IR_KEY``).
    """

    secret: bytes = field(repr=False)
    source: str = ""

    @property
    def ident(self) -> bytes:
        """The 8-byte key id stored inside every sealed value."""
        return hashlib.sha256(b"ir key fingerprint\x00" + self.secret).digest()[:8]

    @property
    def fingerprint(self) -> str:
        """The key id as 16 hex digits (what ``ir key status`` shows and the store counts by)."""
        return self.ident.hex()


def generate() -> DataKey:
    """A new random key (from the operating system's random source)."""
    return DataKey(os.urandom(KEY_BYTES), "new")


def token(key: DataKey) -> str:
    """The key as text: ``ir-key-v1:`` and 43 base64url characters."""
    return PREFIX + base64.urlsafe_b64encode(key.secret).decode("ascii").rstrip("=")


def parse_token(text: str, source: str) -> DataKey:
    """Read a key written by :func:`token`.

    Raises:
        InvalidInput: naming ``source``, if the text is not a key.
    """
    value = text.strip()
    if not value.startswith(PREFIX):
        raise InvalidInput(f"{source}: not an ir key (it should start with {PREFIX})")
    body = value[len(PREFIX):]
    try:
        secret = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{source}: the key is not valid base64url") from None
    if len(secret) != KEY_BYTES:
        raise InvalidInput(f"{source}: the key is {len(secret)} bytes; an ir key is {KEY_BYTES}")
    return DataKey(secret, source)


def read_key_file(path: Path, what: str = FILE_VAR) -> DataKey:
    """Read a key file, refusing one that other accounts could read or change.

    Raises:
        InvalidInput: the file is missing, not a regular file, readable by group or others,
            not owned by the current user, or does not hold a key.
    """
    source = f"{what} {path}"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InvalidInput(f"{source}: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{source}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{source}: not a regular file")
    if info.st_mode & 0o077:
        raise InvalidInput(
            f"{source}: permissions {stat.S_IMODE(info.st_mode):04o} let other accounts read or change the key; "
            f"run: chmod 600 {path}"
        )
    if hasattr(os, "getuid") and info.st_uid not in (os.getuid(), 0):
        raise InvalidInput(f"{source}: owned by another account (uid {info.st_uid}); use a key file you own")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{source}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(lines) != 1:
        raise InvalidInput(f"{source}: a key file holds one line {PREFIX}... (and # comments)")
    return parse_token(lines[0], source)


def configured(environ: Mapping[str, str] | None = None) -> DataKey | None:
    """The key configured in the environment, or None.

    Raises:
        InvalidInput: both variables are set, or the one set does not give a usable key.
    """
    env = os.environ if environ is None else environ
    path = env.get(FILE_VAR, "").strip()
    text = env.get(ENV_VAR, "").strip()
    if path and text:
        raise InvalidInput(f"both {FILE_VAR} and {ENV_VAR} are set; set only one of them")
    if path:
        return read_key_file(Path(path).expanduser())
    if text:
        return parse_token(text, ENV_VAR)
    return None


def required(environ: Mapping[str, str] | None = None, *, why: str = "this needs personal data") -> DataKey:
    """The configured key.

    Raises:
        NoKey: none is configured (the message says which variable to set).
    """
    key = configured(environ)
    if key is None:
        raise NoKey(f"{why}, which is stored encrypted, and no key is configured: {SETUP}")
    return key


def write_key_file(path: Path, key: DataKey) -> Path:
    """Create a new key file readable by its owner only; never replaces an existing file.

    Raises:
        InvalidInput: the file exists or cannot be created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: losing a key loses the data it sealed, so an existing file is never replaced.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{path} exists; a key file is never overwritten (choose another --out)") from None
    except OSError as exc:
        raise InvalidInput(f"cannot create the key file {path}: {exc.strerror or exc}") from None
    text = (
        "# ir data key: it decrypts the personal data of affected people in an ir workspace.\n"
        "# Keep it secret and keep a copy apart from the workspace: without it that data is lost.\n"
        f"{token(key)}\n"
    )
    try:
        os.write(handle, text.encode("ascii"))
        os.fsync(handle)
    finally:
        os.close(handle)
    return path
