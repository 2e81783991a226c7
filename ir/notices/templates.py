"""Notice templates: Jinja2 files with a YAML header saying what they are and what they need.

A template file is ``notice_templates/<id>.j2``::

    ---
    id: gdpr-individual-en
    title: Notice of a personal data breach
    audience: individual          # individual | regulator | public | internal
    locale: en                    # en | zh-CN
    rules: [eu-gdpr-individuals, gb-ukgdpr-individuals]
    jurisdictions: [DE, FR, GB]   # whose people get it by default (individual notices)
    subject: "About your personal data at {{ organisation }}"
    needs:
      facts: [organisation, contact, incident_summary]   # must be set before rendering
      optional: [occurred_at]                             # used when set
      person: [name]                                      # every recipient must have these
    person_defaults: {name: customer}                     # shown when a person has none
    ---
    Dear {{ person.name }}, ...

The header is validated strictly (file, line and field in every error). The body and the
subject are compiled in a sandbox with undefined variables as errors, and every variable they
read must be declared, so ``ir notices check`` can list exactly what is missing.

A workspace's templates are written by people who may not be trusted with the workspace
itself, so a template is held to what a letter needs, in two layers:

* when it is loaded, anything that reaches past plain data is refused with its line: names
  and attributes starting with ``_`` (the way into Python's internals), ``self``, the
  environment's helpers (``range``, ``lipsum``, ``cycler``, ...: none is available), filters
  outside :data:`SAFE_FILTERS`, method calls outside :data:`SAFE_METHODS`, ``include`` and
  ``import``, and ``**`` and ``%`` formatting;
* when it is rendered, Jinja2's sandbox still checks every attribute and call, ``*`` and
  ``**`` are bounded (no gigabyte strings, no huge powers), and each letter is stopped at
  :data:`MAX_OUTPUT` characters or :data:`TIME_LIMIT` seconds (see :mod:`ir.notices.letters`).
"""

from __future__ import annotations

import hashlib
import os
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BeforeValidator, Field, field_validator

from ir.content.cache import cached
from ir.content.paths import ContentPaths
from ir.content.validate import Strict, validate_document
from ir.content.yamlfile import parse_document
from ir.errors import ContentError, ContentErrors, NotFound

SUFFIX = ".j2"
"""Template files end in this."""

AUDIENCES = ("individual", "regulator", "public", "internal")
"""Who a notice is for: each affected person, a regulator, the public, or the organisation's staff."""

PERSON_FIELDS = (
    "reference", "name", "email", "phone", "postal_address", "jurisdiction", "locale", "categories_text",
)
"""What a template may read from ``person``. ``categories_text`` is the person's data
categories in words (the incident's categories if the list gave none for them)."""

CONTEXT = ("person", "notice", "incident", "exercise")
"""Names every template may read besides the incident's facts."""

FILTERS = ("date", "datetime", "number", "categories", "counts")
"""Filters ir adds (see :mod:`ir.notices.letters`)."""

SAFE_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float", "int", "items", "join",
    "last", "length", "list", "lower", "max", "min", "reject", "reverse", "round", "select", "sort", "string",
    "striptags", "sum", "title", "trim", "truncate", "unique", "upper", "wordcount",
})
"""Jinja2's filters a template may use: none can read attributes by name, build large strings,
or reach anything but the value it is given."""

SAFE_METHODS = frozenset({
    "upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith", "endswith", "items", "keys",
    "values", "get",
})
"""Methods a template may call on a value (``{{ organisation.upper() }}``)."""

MAX_TEMPLATE_BYTES = 256 * 1024
"""Largest template file accepted (a long regulator report is a few tens of kilobytes)."""

MAX_OUTPUT = 2_000_000
"""Most characters one letter or document may have (facts are at most 20,000 characters each)."""

MAX_POWER = 64
"""Largest exponent ``**`` accepts."""

DEFAULT_ZONES = {"en": "UTC", "zh-CN": "Asia/Shanghai"}
"""Time zone for dates in a letter, by its language, unless the template names one."""

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
PersonField = Literal[
    "reference", "name", "email", "phone", "postal_address", "jurisdiction", "locale", "categories_text"
]


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Needs(Strict):
    """What a template reads.

    Attributes:
        facts: incident facts that must be set before anything is rendered.
        optional: facts the template uses only when they are set (test ``is defined``).
        person: fields every recipient must have (a person without one gets no letter).
    """

    facts: list[FactName] = []
    optional: list[FactName] = []
    person: list[PersonField] = []


class TemplateMeta(Strict):
    """A template's header."""

    id: Id
    title: Annotated[str, Field(min_length=1, max_length=200)]
    audience: Literal["individual", "regulator", "public", "internal"]
    locale: Literal["en", "zh-CN"]
    rules: Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]], BeforeValidator(_listify)] = []
    jurisdictions: Annotated[list[Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]], BeforeValidator(_listify)] = []
    subject: Annotated[str, Field(min_length=1, max_length=300)]
    needs: Needs = Needs()
    person_defaults: dict[PersonField, str] = {}
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone '{value}' (use an IANA name such as Asia/Shanghai)") from None
        return value

    @property
    def zone(self) -> str:
        """The time zone dates are shown in."""
        return self.timezone or DEFAULT_ZONES[self.locale]


class NoticeSandbox(SandboxedEnvironment):
    """Jinja2's sandbox with the operators that can exhaust memory or time bounded."""

    # Intercepted operators are also never folded into constants at compile time, so
    # ``{{ 9 ** 9 ** 9 }}`` cannot hang the compiler either.
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Refuse what would build a huge value; leave the rest to the sandbox."""
        if operator == "**" and not (isinstance(right, int) and abs(right) <= MAX_POWER and _small(left)):
            raise SecurityError(f"** is limited to exponents up to {MAX_POWER}")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT:
                    raise SecurityError(f"* would build a value of {len(seq) * times:,} items (the limit is {MAX_OUTPUT:,})")
        if operator == "%" and isinstance(left, str):
            raise SecurityError("% string formatting is not allowed in notice templates")
        return super().call_binop(context, operator, left, right)


def _small(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 10**6


def sandbox(*, autoescape: bool = False) -> NoticeSandbox:
    """The environment every template runs in: sandboxed, undefined names are errors, no
    helpers, only :data:`SAFE_FILTERS` and ir's own filters."""
    env = NoticeSandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.clear()
    env.filters = {name: fn for name, fn in env.filters.items() if name in SAFE_FILTERS}
    # Placeholders so templates compile; rendering installs the real, locale-aware filters.
    for name in FILTERS:
        env.filters.setdefault(name, _unset_filter)
    return env


def _unset_filter(value: Any, *args: Any) -> Any:
    raise RuntimeError("template filters are installed when rendering")


@dataclass
class NoticeTemplate:
    """A validated template file.

    Attributes:
        meta: its header.
        path: the file.
        shown: the file as named in messages.
        body: the Jinja text after the header.
        body_line: the file line the body starts on.
        digest: SHA-256 of the whole file (identifies exactly what was rendered).
        person_fields: the person fields the body and subject read.
        fast: person fields appear only as plain ``{{ person.x }}`` outputs, so a letter can
            be rendered once and each person's values filled in.
    """

    meta: TemplateMeta
    path: Path
    shown: str
    body: str
    body_line: int
    digest: str
    person_fields: frozenset[str] = frozenset()
    fast: bool = True
    reads: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> str:
        """The template's id."""
        return self.meta.id

    @cached_property
    def facts(self) -> list[str]:
        """Facts it reads: required first, then optional."""
        return [*self.meta.needs.facts, *self.meta.needs.optional]

    def summary(self) -> dict[str, Any]:
        """What ``ir notices templates --json`` lists."""
        m = self.meta
        return {
            "id": m.id,
            "title": m.title,
            "audience": m.audience,
            "locale": m.locale,
            "rules": list(m.rules),
            "jurisdictions": list(m.jurisdictions),
            "facts": list(m.needs.facts),
            "optional": list(m.needs.optional),
            "person": list(m.needs.person),
            "path": self.shown,
        }


def load_template(path: Path, shown: str | None = None) -> NoticeTemplate:
    """Read and fully validate one template file.

    Raises:
        ContentErrors: every problem found, each with file, line and field.
    """
    shown = shown or str(path)
    text = _read(path, shown)
    header, body, body_line = _split(text, shown)
    try:
        doc = parse_document(header, shown)
    except ContentError as exc:
        # One shape of error for every problem, so a listing can report a bad file and go on.
        raise ContentErrors([_header_line(exc)]) from None
    # The header starts on the file's second line, after the opening '---'.
    doc.lines = {loc: line + 1 for loc, line in doc.lines.items()}
    meta = validate_document(doc, TemplateMeta)
    if meta.id != path.stem:
        raise ContentErrors([doc.error(("id",), f"id '{meta.id}' must match the file name '{path.stem}'")])
    env = sandbox()
    errors: list[ContentError] = []
    trees = []
    for source, where, line in ((body, "body", body_line), (meta.subject, "subject", doc.line_of(("subject",)) or 1)):
        try:
            trees.append((env.parse(source), where, line))
        except TemplateSyntaxError as exc:
            offset = line + (exc.lineno or 1) - 1 if where == "body" else line
            errors.append(ContentError(shown, offset, where, f"template syntax error: {exc.message}"))
        except RecursionError:
            errors.append(ContentError(shown, line, where, "expressions are nested too deeply"))
    if errors:
        raise ContentErrors(errors)
    try:
        for tree, where, first in trees:
            _refuse_hostile(tree, where, first, shown, errors)
        if errors:
            raise ContentErrors(errors)
        reads, fields, fast = _analyse(meta, trees, env, shown, errors)
    except RecursionError:
        raise ContentErrors([ContentError(shown, body_line, "body", "expressions are nested too deeply")]) from None
    if errors:
        raise ContentErrors(errors)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return NoticeTemplate(meta, path, shown, body, body_line, digest, frozenset(fields), fast, frozenset(reads))


def _header_line(exc: ContentError) -> ContentError:
    """An error of the YAML header with its line counted in the whole file (after the first ``---``)."""
    return ContentError(exc.path, exc.line + 1 if exc.line else exc.line, exc.field, exc.problem)


def _read(path: Path, shown: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise ContentErrors([ContentError(shown, None, "", f"file is {size} bytes; the limit is {MAX_TEMPLATE_BYTES}")])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContentErrors([ContentError(shown, None, "", "no such file")]) from None
    except OSError as exc:
        raise ContentErrors([ContentError(shown, None, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise ContentErrors([ContentError(shown, None, "", f"not UTF-8 text (byte {exc.start})")]) from None


def _split(text: str, shown: str) -> tuple[str, str, int]:
    """Split the YAML header from the body; return (header, body, body's first line)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        raise ContentErrors([ContentError(shown, 1, "", "a template starts with a '---' line, then its YAML header")])
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise ContentErrors([ContentError(shown, 1, "", "the header is not closed by a '---' line")])


def _analyse(
    meta: TemplateMeta,
    trees: list[tuple[nodes.Template, str, int]],
    env: SandboxedEnvironment,
    shown: str,
    errors: list[ContentError],
) -> tuple[set[str], set[str], bool]:
    """Check every name read is declared; find the person fields read and whether only as outputs."""
    from jinja2 import meta as jmeta

    declared = set(meta.needs.facts) | set(meta.needs.optional) | set(CONTEXT) | set(env.globals)
    reads: set[str] = set()
    fields: set[str] = set()
    fast = True
    for tree, where, first in trees:
        names = jmeta.find_undeclared_variables(tree)
        reads |= names
        for name in sorted(names - declared):
            line = _line_of(tree, name)
            at = first + line - 1 if where == "body" else first
            errors.append(ContentError(shown, at, where, f"reads '{name}', which is not declared under needs (facts or optional)"))
        for node in tree.find_all(nodes.Getattr):
            if isinstance(node.node, nodes.Name) and node.node.name == "person":
                if node.attr not in PERSON_FIELDS:
                    at = first + node.lineno - 1 if where == "body" else first
                    errors.append(ContentError(shown, at, where, f"person has no field '{node.attr}' (fields: {', '.join(PERSON_FIELDS)})"))
                fields.add(node.attr)
        fast = fast and _person_only_in_outputs(tree)
    if meta.audience != "individual" and "person" in reads:
        errors.append(ContentError(shown, first_line(trees, "person"), "body", f"a {meta.audience} notice has no person to read"))
    return reads, fields, fast


_INCLUDES = (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)


def _refuse_hostile(tree: nodes.Template, where: str, first: int, shown: str, errors: list[ContentError]) -> None:
    """Refuse a construct that reaches past plain data (see the module's description); the
    first one found is reported (one payload is often several such constructs)."""
    macros = {m.name for m in tree.find_all(nodes.Macro)} | {"caller"}
    for node in tree.find_all(nodes.Node):
        problem = _hostile(node, macros)
        if problem:
            at = first + (node.lineno or 1) - 1 if where == "body" else first
            errors.append(ContentError(shown, at, where, problem))
            return


def _hostile(node: nodes.Node, macros: set[str]) -> str | None:
    """Why a template node is refused, or None."""
    if isinstance(node, _INCLUDES):
        return "a notice template cannot include, extend or import other templates"
    if isinstance(node, nodes.Name) and (node.name.startswith("_") or node.name == "self"):
        return f"'{node.name}' is not available in notice templates"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"attribute '{node.attr}' is not allowed (names starting with _ lead to Python's internals)"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and str(node.arg.value).startswith("_"):
        return f"item '{node.arg.value}' is not allowed (names starting with _ lead to Python's internals)"
    if isinstance(node, nodes.Const) and isinstance(node.value, str) and "__" in node.value:
        return "text with '__' is not allowed in expressions (it names Python's internals)"
    if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS and node.name not in FILTERS:
        return f"filter '{node.name}' is not allowed in notice templates (allowed: {', '.join(sorted(SAFE_FILTERS | set(FILTERS)))})"
    if isinstance(node, nodes.Call):
        return _hostile_call(node, macros)
    if isinstance(node, nodes.Pow):
        return "** is not allowed in notice templates"
    if isinstance(node, nodes.Mod) and isinstance(node.left, nodes.Const) and isinstance(node.left.value, str):
        return "% string formatting is not allowed in notice templates"
    return None


def _hostile_call(node: nodes.Call, macros: set[str]) -> str | None:
    target = node.node
    if isinstance(target, nodes.Getattr):
        if target.attr.startswith("_"):
            return f"attribute '{target.attr}' is not allowed (names starting with _ lead to Python's internals)"
        if target.attr in SAFE_METHODS:
            return None
        return f"calling .{target.attr}() is not allowed (methods allowed: {', '.join(sorted(SAFE_METHODS))})"
    if isinstance(target, nodes.Name) and target.name in macros:
        return None
    name = target.name if isinstance(target, nodes.Name) else type(target).__name__.lower()
    return f"calling {name}() is not allowed in notice templates"


def first_line(trees: list[tuple[nodes.Template, str, int]], name: str) -> int:
    """The file line where ``name`` is first read."""
    for tree, where, first in trees:
        line = _line_of(tree, name)
        if line:
            return first + line - 1 if where == "body" else first
    return 1


def _line_of(tree: nodes.Template, name: str) -> int:
    for node in tree.find_all(nodes.Name):
        if node.name == name and node.ctx == "load":
            return int(node.lineno)
    return 0


def _person_only_in_outputs(tree: nodes.Node) -> bool:
    """True if ``person`` is read only as a whole output expression ``{{ person.field }}``."""

    def walk(node: nodes.Node) -> bool:
        """Whether ``node`` reads ``person`` only as a whole output."""
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if _is_person_field(child):
                    continue
                if not walk(child):
                    return False
            return True
        if isinstance(node, nodes.Name) and node.name == "person":
            return False
        return all(walk(child) for child in node.iter_child_nodes())

    return walk(tree)


def _is_person_field(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) and node.node.name == "person"


@dataclass
class Entry:
    """A template file on the search path (the first one wins for each id)."""

    id: str
    path: Path


class TemplateCatalog:
    """Templates available to a workspace: ``IR_NOTICE_TEMPLATES_PATH``, the workspace's
    ``notice_templates/`` folder, then the shipped ones."""

    def __init__(self, paths: ContentPaths) -> None:
        self.paths = paths

    def entries(self) -> list[Entry]:
        """One entry per template id, highest-priority folder first, sorted by id."""
        found: dict[str, Entry] = {}
        for folder in self.paths.dirs("notice_templates"):
            for path in sorted(folder.iterdir()):
                stem = path.name[: -len(SUFFIX)]
                if path.name.endswith(SUFFIX) and path.is_file() and stem not in found:
                    found[stem] = Entry(stem, path)
        return [found[k] for k in sorted(found)]

    def load(self, path: Path) -> NoticeTemplate:
        """Load one file (cached while it is unchanged).

        Raises:
            ContentErrors: the file is not a valid template.
        """
        shown = _display(path)
        return cached("notice-template", path, shown, lambda: load_template(path, shown))

    def get(self, template_id: str) -> NoticeTemplate:
        """The template with this id.

        Raises:
            NotFound: no such template.
            ContentErrors: the file is invalid.
        """
        for entry in self.entries():
            if entry.id == template_id:
                return self.load(entry.path)
        known = ", ".join(e.id for e in self.entries()) or "none"
        raise NotFound(f"no notice template '{template_id}' (known: {known})")

    def all(self) -> Iterator[NoticeTemplate | ContentErrors]:
        """Every template, or the errors of one that does not load."""
        for entry in self.entries():
            try:
                yield self.load(entry.path)
            except ContentErrors as exc:
                yield exc


def _display(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
        return str(path) if rel.startswith("..") else rel
    except ValueError:
        return str(path)


def safe_name(text: str, limit: int = 40) -> str:
    """A file-name part made from ``text`` that cannot leave its folder (letters, digits, ``. _ -``)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:limit].strip("._-")
    return cleaned or "person"


def unique(items: Iterable[str]) -> list[str]:
    """Items in order, without repeats."""
    return list(dict.fromkeys(items))
