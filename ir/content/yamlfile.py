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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ir.errors import ContentError

MAX_BYTES = 2_000_000
"""Largest content file accepted."""

MAX_DEPTH = 40
"""Deepest nesting of mappings and sequences accepted."""

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


def load_document(path: Path, display: str | None = None) -> Document:
    """Read and parse a YAML (or JSON) content file.

    Raises:
        ContentError: unreadable, too large, not UTF-8, or not safe/valid YAML.
    """
    shown = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ContentError(shown, None, "", f"file is {size} bytes; the limit is {MAX_BYTES}")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContentError(shown, None, "", "no such file") from None
    except IsADirectoryError:
        raise ContentError(shown, None, "", "is a directory, not a file") from None
    except OSError as exc:
        raise ContentError(shown, None, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(shown, None, "", f"not UTF-8 text (byte {exc.start})") from None
    return parse_document(text, shown)


def parse_document(text: str, display: str) -> Document:
    """Parse YAML text into a :class:`Document`.

    Raises:
        ContentError: the text is not safe, valid YAML within the limits.
    """
    if len(text) > MAX_BYTES:
        raise ContentError(display, None, "", f"text is longer than {MAX_BYTES} characters")
    loader = _CoreSchemaLoader(text)
    doc = Document(display, None)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _Builder(doc, loader).build(node, (), 0)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ContentError(display, line, "", f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:
        raise ContentError(display, None, "", f"character {exc.character!r} at position {exc.position} is not allowed in YAML") from None
    except yaml.YAMLError as exc:
        raise ContentError(display, None, "", f"YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ContentError(display, None, "", f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return doc


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
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, loc, f"bad value: {exc}") from None

    def mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            raise self.fail(node, loc, f"unsupported YAML tag {node.tag}")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key_node, loc, "keys must be plain names (no merge keys or complex keys)")
            key = str(self.loader.construct_object(key_node))
            child = (*loc, key)
            if key in out:
                raise self.fail(key_node, child, "duplicate key")
            self.doc.lines[child] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child, depth + 1)
        return out
