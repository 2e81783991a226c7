"""Reading a CSV file of any size: its hash, its text encoding, and its records by line.

Exports from Chinese spreadsheets are often GB18030 (or its subset GBK), Excel likes a UTF-8
byte-order mark, and everything else is UTF-8. The whole file is read once up front to hash
it and to prove it decodes, so an import never fails half-way on a bad byte.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ir.errors import InvalidInput

CHUNK = 1 << 20
"""Bytes read at a time."""

FIELD_LIMIT = 1 << 17
"""Longest field csv accepts (a longer one rejects its row)."""

AUTO = ("utf-8", "gb18030")
"""Encodings tried, in order, when the file has no byte-order mark."""

DELIMITERS = (",", ";", "\t", "|")

_NAMES = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8", "gb18030": "GB18030", "utf-16": "UTF-16"}


@dataclass(frozen=True)
class SourceFile:
    """A CSV file checked and ready to read.

    Attributes:
        path: where it is.
        shown: its name as shown in messages.
        sha256: SHA-256 of its bytes.
        size: its size in bytes.
        encoding: the codec that reads it (``utf-8``, ``utf-8-sig``, ``gb18030``, ...).
        delimiter: the field separator found in its header.
    """

    path: Path
    shown: str
    sha256: str
    size: int
    encoding: str
    delimiter: str

    @property
    def encoding_name(self) -> str:
        """The encoding as a person names it (``UTF-8 with BOM`` rather than ``utf-8-sig``)."""
        return _NAMES.get(self.encoding, self.encoding)


def open_source(path: Path, encoding: str | None = None) -> SourceFile:
    """Hash ``path``, find (or check) its encoding and delimiter.

    Raises:
        InvalidInput: the file cannot be read, is empty, or does not decode.
    """
    shown = str(path)
    try:
        if path.is_dir():
            raise InvalidInput(f"{shown} is a folder, not a CSV file")
        with path.open("rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise InvalidInput(f"{shown}: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{shown}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise InvalidInput(f"{shown} is empty (expected a header row and one row per person)")
    codec = _codec(encoding) if encoding else _bom_codec(head)
    sha, size, problem = _scan(path, shown, codec or AUTO[0])
    if problem is not None and codec is None:
        second = _scan(path, shown, AUTO[1], hash_too=False)[2]
        if second is None:
            codec, problem = AUTO[1], None
        else:
            raise InvalidInput(f"{problem} and not GB18030 either; give its encoding with --encoding")
    if problem is not None:
        raise InvalidInput(problem)
    chosen = codec or AUTO[0]
    return SourceFile(path, shown, sha, size, chosen, _delimiter(path, chosen))


def records(source: SourceFile, position: list[int] | None = None) -> Iterator[tuple[int, list[str] | str]]:
    """Yield ``(line, fields)`` for each record, the header first (line 1).

    A record that csv cannot read yields ``(line, reason)`` instead, and reading goes on.
    Blank lines are skipped. ``line`` is where the record starts in the file.

    Args:
        source: the file.
        position: if given, ``position[0]`` is kept at the bytes read so far (for progress).
    """
    csv.field_size_limit(FIELD_LIMIT)
    with source.path.open(encoding=source.encoding, newline="") as text:
        raw = text.buffer.raw  # type: ignore[attr-defined]
        reader = csv.reader(text, delimiter=source.delimiter)
        done = 0
        count = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield done + 1, f"cannot be read as CSV ({exc})"
                done = reader.line_num
                continue
            start, done = done + 1, reader.line_num
            count += 1
            if position is not None and not count & 0xFFF:
                position[0] = raw.tell()  # a system call: only now and then
            if row:
                yield start, row


def _codec(name: str) -> str:
    try:
        found = codecs.lookup(name.strip()).name
    except LookupError:
        raise InvalidInput(f"--encoding '{name}': unknown encoding (e.g. utf-8, gb18030, gbk)") from None
    # A UTF-8 file may still start with a byte-order mark: never read it into the first heading.
    return "utf-8-sig" if found == "utf-8" else found


def _bom_codec(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _scan(path: Path, shown: str, codec: str, hash_too: bool = True) -> tuple[str, int, str | None]:
    """Hash the file and decode it with ``codec``; return (sha256, size, first problem or None)."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(codec)("strict")
    size = 0
    lines = 1
    problem: str | None = None
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                if hash_too:
                    sha.update(chunk)
                if problem is None:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as exc:
                        line = lines + chunk.count(b"\n", 0, max(exc.start, 0))
                        problem = f"{shown}:{line}: not {_NAMES.get(codec, codec)} text (byte {size + max(exc.start, 0)})"
                    lines += chunk.count(b"\n")
                size += len(chunk)
                if problem is not None and not hash_too:
                    break
            if problem is None:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    problem = f"{shown}:{lines}: not {_NAMES.get(codec, codec)} text (the file ends inside a character)"
    except OSError as exc:
        raise InvalidInput(f"{shown}: cannot read ({exc.strerror or exc})") from None
    return sha.hexdigest(), size, problem


def _delimiter(path: Path, codec: str) -> str:
    with path.open("rb") as f:
        head = f.read(1 << 16)
    text = head.decode(codec, errors="ignore")
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","
