"""Safe YAML loading that remembers where every value came from.

Content errors must name the file, line and field, so the loader keeps a map from each
value's path (``("phases", 2, "tasks", 0, "role")``) to its line. It also refuses what a
hostile or careless file could use against us: aliases (unbounded expansion), duplicate
keys (silently lost data in plain YAML), custom tags, deep nesting and oversize files.

Scalars follow the YAML 1.2 core schema: only ``true``/``false`` are booleans (``no``
stays the string "no") and ``01:30`` stays a string rather than base-60 ``5400``.
Timestamps stay strings too; the validation models parse them where a date is expected.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ir.errors import ContentError, ContentErrors

MAX_BYTES = 2_000_000
"""Largest content file accepted."""

MAX_DEPTH = 40
"""Deepest nesting of mappings and sequences accepted."""

MAX_INT = 2**63
"""Whole numbers must fit a signed 64-bit integer (SQLite's)."""

MAX_VALUES = 50_000
"""Most values (scalars, mappings and sequences) in one file: the largest shipped file has
about 2,500; a million would take seconds and hundreds of megabytes to build."""

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CoreSchemaLoader(_Base):  # type: ignore[misc, valid-type]
    """A safe loader whose implicit scalar types are the YAML 1.2 core schema."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}


_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"

Loc = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed content file.

    Attributes:
        path: the file's name as shown to the user.
        data: the plain Python value (dicts, lists, scalars).
        lines: 1-based line of each value, keyed by its path inside ``data``.
    """

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """Return the line of ``loc``, or of its nearest ancestor that has one."""
        probe = tuple(loc)
        while True:
            if probe in self.lines:
                return self.lines[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def error(self, loc: Loc, problem: str) -> ContentError:
        """Build a :class:`ContentError` pointing at ``loc``."""
        return ContentError(self.path, self.line_of(loc), format_loc(loc), problem)


def format_loc(loc: Loc) -> str:
    """Render a value path the way a reader finds it: ``phases[2].tasks[0].role``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def read_text(path: Path, display: str | None = None) -> str:
    """Read a content file as UTF-8 text, refusing anything but a regular file within the limit.

    The file is opened without blocking and checked on the open descriptor, so a FIFO, a
    device (``/dev/zero``) or a directory given as a file is refused at once instead of
    hanging or filling memory, and a file that grows after the check is still read only up
    to the limit.

    Raises:
        ContentError: missing, not a regular file, unreadable, too large or not UTF-8.
    """
    shown = display or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ContentError(shown, None, "", "no such file") from None
    except IsADirectoryError:
        raise ContentError(shown, None, "", "is a directory, not a file") from None
    except OSError as exc:
        raise ContentError(shown, None, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        raw = _read_regular(fd, shown)
    finally:
        os.close(fd)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(shown, None, "", f"not UTF-8 text (byte {exc.start})") from None


def _read_regular(fd: int, shown: str) -> bytes:
    """At most :data:`MAX_BYTES` from an open regular file (ContentError otherwise)."""
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ContentError(shown, None, "", "is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise ContentError(shown, None, "", f"is not a regular file ({_kind(mode)})")
        size = os.fstat(fd).st_size
        if size > MAX_BYTES:
            raise ContentError(shown, None, "", f"file is {size} bytes; the limit is {MAX_BYTES}")
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ContentError(shown, None, "", f"cannot read: {exc.strerror or exc}") from None
    if total > MAX_BYTES:
        # It grew after the size check: still refused, and never read past the limit.
        raise ContentError(shown, None, "", f"file is over {MAX_BYTES} bytes; the limit is {MAX_BYTES}")
    return b"".join(chunks)


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def load_document(path: Path, display: str | None = None) -> Document:
    """Read and parse a YAML (or JSON) content file.

    Raises:
        ContentError: unreadable, not a regular file, too large, not UTF-8, or not safe/valid YAML.
    """
    shown = display or str(path)
    return parse_document(read_text(path, shown), shown)


def open_document(path: Path, display: str | None = None) -> Document:
    """:func:`load_document` for the content loaders: problems arrive as :class:`ContentErrors`,
    as validation problems do, so a catalog that skips invalid files catches one type."""
    try:
        return load_document(path, display)
    except ContentError as exc:
        raise ContentErrors([exc]) from None


def parse_document(text: str, display: str) -> Document:
    """Parse YAML text into a :class:`Document`.

    Raises:
        ContentError: the text is not safe, valid YAML within the limits.
    """
    if len(text) > MAX_BYTES:
        raise ContentError(display, None, "", f"text is longer than {MAX_BYTES} characters")
    _check_shape(text, display)
    loader = _CoreSchemaLoader(text)
    doc = Document(display, None)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _Builder(doc, loader).build(node, (), 0)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(display, exc) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(display, exc) from None
    except yaml.YAMLError as exc:
        raise ContentError(display, None, "", f"YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ContentError(display, None, "", f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return doc


def _check_shape(text: str, display: str) -> None:
    """Refuse too deep or too many values before any tree is built.

    The C composer builds nested collections by recursion in C: a few hundred thousand
    ``[`` would overflow its stack and kill the process, beyond the reach of any Python
    exception. The parser's event stream is flat, so it is read first, and reading stops
    at the first value past a limit; a file of a million tiny values is refused the same
    way before it costs seconds and hundreds of megabytes as a tree.
    """
    loader = _CoreSchemaLoader(text)
    depth = values = 0
    try:
        while True:
            event = loader.get_event()
            if event is None:
                return
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise ContentError(display, line, "", f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            if isinstance(event, yaml.NodeEvent):
                values += 1
                if values > MAX_VALUES:
                    line = event.start_mark.line + 1
                    raise ContentError(display, line, "", f"more than {MAX_VALUES} values; the limit is {MAX_VALUES}")
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(display, exc) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(display, exc) from None
    except yaml.YAMLError as exc:
        raise ContentError(display, None, "", f"YAML error: {' '.join(str(exc).split())}") from None
    finally:
        loader.dispose()


def _syntax_error(display: str, exc: yaml.MarkedYAMLError) -> ContentError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    problem = " ".join(p for p in (exc.context, exc.problem) if p)
    return ContentError(display, line, "", f"YAML syntax error: {problem}")


def _reader_error(display: str, exc: yaml.reader.ReaderError) -> ContentError:
    return ContentError(display, None, "", f"character {exc.character!r} at position {exc.position} is not allowed in YAML")


class _Builder:
    """Turns a composed YAML node tree into plain values, enforcing the safety limits."""

    def __init__(self, doc: Document, loader: Any) -> None:
        self.doc = doc
        self.loader = loader
        self.seen: set[int] = set()

    def fail(self, node: yaml.Node, loc: Loc, problem: str) -> ContentError:
        return ContentError(self.doc.path, node.start_mark.line + 1, format_loc(loc), problem)

    def build(self, node: yaml.Node, loc: Loc, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(node, loc, f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(node, yaml.ScalarNode):
            # The composer hands back the very same node object for every alias of an anchor.
            if id(node) in self.seen:
                # Point at the key that uses the alias, not at the anchor it names.
                line = self.doc.lines.get(loc, node.start_mark.line + 1)
                raise ContentError(self.doc.path, line, format_loc(loc), "YAML aliases (*name) are not allowed; write the value out")
            self.seen.add(id(node))
        self.doc.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, loc, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self.fail(node, loc, f"unsupported YAML tag {node.tag}")
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, loc, f"unsupported YAML tag {node.tag}")
        return self.scalar(node, loc)

    def scalar(self, node: yaml.Node, loc: Loc) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, loc, f"bad value: {' '.join(str(exc).split())}") from None
        except ValueError:
            # Python refuses to convert integers of more than 4,300 digits (a guard against
            # quadratic-time parsing); no content value needs one.
            raise self.fail(node, loc, "bad value: number too long") from None
        if isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT <= value < MAX_INT:
            # Values end up in SQLite and in JSON text, where a larger integer cannot be stored
            # or even printed (a hexadecimal one escapes the digit limit above).
            raise self.fail(node, loc, "bad value: whole number out of range (over 19 digits)")
        return value

    def mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            raise self.fail(node, loc, f"unsupported YAML tag {node.tag}")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, loc, "keys must be plain names (no merge keys or complex keys)")
            key = str(self.scalar(key_node, loc))
            child = (*loc, key)
            if key in out:
                raise self.fail(key_node, child, "duplicate key")
            self.doc.lines[child] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child, depth + 1)
        return out
