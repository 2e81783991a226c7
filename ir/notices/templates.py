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
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BeforeValidator, Field, field_validator

from ir.content.paths import ContentPaths
from ir.content.validate import Strict, validate_document
from ir.content.yamlfile import MAX_BYTES, parse_document
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


def sandbox(*, autoescape: bool = False) -> SandboxedEnvironment:
    """The environment every template runs in: sandboxed, undefined names are errors."""
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
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
    doc = parse_document(header, shown)
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
    if errors:
        raise ContentErrors(errors)
    reads, fields, fast = _analyse(meta, trees, env, shown, errors)
    if errors:
        raise ContentErrors(errors)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return NoticeTemplate(meta, path, shown, body, body_line, digest, frozenset(fields), fast, frozenset(reads))


def _read(path: Path, shown: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ContentErrors([ContentError(shown, None, "", f"file is {size} bytes; the limit is {MAX_BYTES}")])
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
        self._cache: dict[tuple[Path, float, int], NoticeTemplate] = {}

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
        stat = path.stat()
        key = (path.resolve(), stat.st_mtime, stat.st_size)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = load_template(path, _display(path))
        return cached

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
