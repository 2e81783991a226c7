"""The fields of an affected person, and reading them from one spreadsheet row. Pure.

A list of affected people arrives as a CSV export from whatever system held the data, so the
header is matched loosely (``E-mail``, ``邮箱`` and ``email`` are all the e-mail column) and
``--map COLUMN=FIELD`` settles the rest. Every row is checked field by field; a row that fails
gives one reason a person can act on, and goes to the rejects file with its line number.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ir.errors import InvalidInput
from ir.notices import pii

FIELDS = ("reference", "name", "email", "phone", "postal_address", "jurisdiction", "locale", "categories")
"""Every field of a person, in the order the rejects file lists them."""

REQUIRED = ("reference", "jurisdiction")
"""Fields a row cannot do without: who the person is, and whose law protects them."""

IGNORE = "-"
"""``--map COLUMN=-`` ignores a column without a warning."""

_ALIASES = {
    "reference": ("reference", "ref", "id", "subjectid", "personid", "customerid", "userid", "編號", "编号", "客户编号", "用户编号", "参考号"),
    "name": ("name", "fullname", "姓名", "名称", "客户姓名"),
    "email": ("email", "emailaddress", "mail", "邮箱", "电子邮箱", "电子邮件", "邮件地址"),
    "phone": ("phone", "telephone", "tel", "mobile", "phonenumber", "mobilephone", "电话", "手机", "手机号", "手机号码", "联系电话"),
    "postal_address": ("postaladdress", "address", "mailingaddress", "postal", "地址", "通信地址", "邮寄地址", "联系地址"),
    "jurisdiction": ("jurisdiction", "country", "countrycode", "region", "地区", "国家地区", "司法辖区", "所在地"),
    "locale": ("locale", "language", "lang", "语言"),
    "categories": ("categories", "datacategories", "category", "data", "数据类别", "涉及数据", "信息类别"),
}
ALIASES: dict[str, str] = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
"""Header spellings (after :func:`header_key`) recognised for each field."""

LIMITS = {"reference": 200, "name": 200, "email": 254, "phone": 40, "postal_address": 500}
"""Longest value accepted per personal field, in characters."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula."""

_JURISDICTION = re.compile(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?")
_LOCALE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
_CATEGORY_ID = re.compile(r"[a-z][a-z0-9_]*")
_CATEGORY_SPLIT = re.compile(r"[;,|、，；]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_ADDRESS_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_PHONE_CHARS = str.maketrans("", "", "0123456789 ().-/+")
_DIGITS = str.maketrans("", "", "0123456789")
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,64}@[A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z0-9\-]*[A-Za-z0-9]")
_EMAIL_BAD = re.compile(r"[\s<>(),;:\"\[\]\\]")
_ZH_WORDS = {"中文", "简体中文", "汉语", "chinese"}

try:
    # For a few bytes, CPython's own SHA-256 is several times faster than OpenSSL 3's, whose
    # per-object set-up dominates; this runs once per row of a million-row import.
    from _sha256 import sha256 as _short_sha256  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - other Python builds
    _short_sha256 = hashlib.sha256


def header_key(text: str) -> str:
    """Normalise a column heading for matching: lower case, without spaces, ``_ - . /`` or a BOM."""
    return re.sub(r"[\s_\-./（）()]+", "", text.replace("\ufeff", "").strip().lower())


def unformula(value: str) -> str:
    """Undo :func:`safe_cell` (so a rejects file can be fixed and imported again)."""
    if value[:1] == "'" and value.lstrip("'")[:1] in FORMULA_START:
        return value[1:]
    return value


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @`` is escaped with a quote.

    A value that already starts with quotes before such a character gets one more, so that
    :func:`unformula` gives back exactly the value (``'=x`` is written ``''=x``).
    """
    return "'" + value if value.lstrip("'")[:1] in FORMULA_START else value


def ref_hash(reference: str) -> str:
    """The key a person is stored under: SHA-256 (hex) of their reference (UTF-8), as given."""
    return _short_sha256(reference.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ColumnMap:
    """Which column of the file holds which field.

    Attributes:
        header: the column headings as read.
        index: field -> column position.
        ignored: headings not mapped to any field (reported, not imported).
    """

    header: list[str]
    index: dict[str, int]
    ignored: list[str] = field(default_factory=list)


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """Read ``--map COLUMN=FIELD`` options into {column heading: field}.

    Raises:
        InvalidInput: a pair has no ``=`` or names an unknown field.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, name = pair.rpartition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column:
            raise InvalidInput(f"--map '{pair}': write COLUMN=FIELD, e.g. --map 'E-mail Address=email'")
        if name not in FIELDS and name != IGNORE:
            raise InvalidInput(f"--map '{pair}': unknown field '{name}' (fields: {', '.join(FIELDS)}, or - to ignore)")
        out[column] = name
    return out


def map_columns(header: Sequence[str], mapping: Mapping[str, str], source: str) -> ColumnMap:
    """Decide which column holds which field: ``mapping`` first, then the known spellings.

    Raises:
        InvalidInput: a mapped column is not in the file, two columns claim one field, or a
            required field has no column.
    """
    names = [h.replace("\ufeff", "").strip() for h in header]
    by_key = {header_key(h): i for i, h in reversed(list(enumerate(names)))}
    chosen: dict[int, str] = {}
    for column, name in mapping.items():
        position = names.index(column) if column in names else by_key.get(header_key(column))
        if position is None:
            raise InvalidInput(f"{source}: --map '{column}': no such column (columns: {', '.join(names)})")
        chosen[position] = name
    for i, heading in enumerate(names):
        if i not in chosen and header_key(heading) in ALIASES:
            chosen[i] = ALIASES[header_key(heading)]
    index: dict[str, int] = {}
    for i, name in sorted(chosen.items()):
        if name == IGNORE:
            continue
        if name in index:
            raise InvalidInput(
                f"{source}: columns '{names[index[name]]}' and '{names[i]}' both hold {name}; "
                f"choose one with --map '{names[i]}=-'"
            )
        index[name] = i
    for name in REQUIRED:
        if name not in index:
            raise InvalidInput(
                f"{source}: no column holds {name} (columns: {', '.join(names)}); name it with --map COLUMN={name}"
            )
    ignored = [h for i, h in enumerate(names) if i not in chosen]
    return ColumnMap(list(names), index, ignored)


class Reject(Exception):
    """A row that cannot be imported, with the reason."""


Seal = Callable[[str, str], bytes]
"""Seals a person's packed fields for storage: (ref_hash, packed) -> sealed value."""


class RowChecker:
    """Checks rows and turns the good ones into what the store keeps.

    Args:
        columns: where each field is in a row.
        categories: category words -> category id (ids, English and Chinese titles, lower
            case); None accepts any lower-case id.
        seal: seals the personal fields (see :mod:`ir.notices.pii`); rows leave the checker
            already sealed, so nothing downstream (sorted runs on disk included) holds them
            in the clear.
    """

    def __init__(self, columns: ColumnMap, categories: Mapping[str, str] | None, seal: Seal) -> None:
        self.columns = columns
        self.seal = seal
        self.width = len(columns.header)
        self.categories = categories
        # A missing column reads the empty string appended after the row's last field.
        self._get = operator.itemgetter(*(columns.index.get(name, self.width) for name in FIELDS))
        # Spreadsheet exports repeat the same few jurisdictions, locales and category lists.
        self._jurisdictions: dict[str, str] = {}
        self._locales: dict[tuple[str, str], str] = {}
        self._category_lists: dict[str, str] = {}

    def fields(self, record: Sequence[str]) -> list[str]:
        """The raw value of every field in :data:`FIELDS` order ("" where there is no column)."""
        padded = [*record[: self.width], *[""] * (self.width + 1 - min(len(record), self.width))]
        return list(self._get(padded))

    def check(self, line: int, record: list[str]) -> tuple[str, int, str, str, str, bytes]:
        """Check one row.

        Returns:
            ``(ref_hash, line, jurisdiction, locale, categories, pii)``, where categories is a
            JSON list of ids and pii the sealed personal fields; tuples sort by person, then line.

        Raises:
            Reject: with the reason the row cannot be imported.
        """
        if len(record) != self.width:
            raise Reject(f"has {len(record)} fields where the header has {self.width}")
        record.append("")
        values = list(map(str.strip, self._get(record)))
        record.pop()
        if "'" in "".join(values):
            values = [unformula(v) for v in values]
        reference, name, email, phone, address, jurisdiction, locale, categories = values
        if not reference:
            raise Reject("reference is empty")
        # The common case is checked with a few C-level string operations; anything unusual
        # goes through the slower checks that explain what is wrong.
        plain = reference + name + email + phone
        if (
            len(reference) > LIMITS["reference"]
            or len(name) > LIMITS["name"]
            or len(email) > LIMITS["email"]
            or len(phone) > LIMITS["phone"]
            or (not plain.isprintable() and _CONTROL.search(plain))
        ):
            for key, value in (("reference", reference), ("name", name), ("email", email), ("phone", phone)):
                _plain(key, value)
        if email and (not _EMAIL.fullmatch(email) or ".." in email or ".-" in email or "-." in email):
            _email(email)
        if phone and (
            phone.translate(_PHONE_CHARS) or "+" in phone[1:] or not 5 <= len(phone) - len(phone.translate(_DIGITS)) <= 20
        ):
            raise Reject(f"phone '{phone}' is not a phone number")
        if address and ("\n" in address or "\r" in address or len(address) > LIMITS["postal_address"] or not address.isprintable()):
            address = _address(address)
        where = self._jurisdictions.get(jurisdiction) or self._jurisdiction(jurisdiction)
        key = _short_sha256(reference.encode("utf-8")).hexdigest()
        return (
            key,
            line,
            where,
            self._locales.get((locale, where)) or self._locale(locale, where),
            self._category_lists.get(categories) or self._categories(categories),
            self.seal(key, pii.pack(reference, name, email, phone, address)),
        )

    def _jurisdiction(self, raw: str) -> str:
        found = self._jurisdictions.get(raw)
        if found is None:
            code = raw.upper()
            if not raw:
                raise Reject("jurisdiction is empty (give a code such as CN, DE or US-CA)")
            if not _JURISDICTION.fullmatch(code):
                raise Reject(f"jurisdiction '{raw}' is not a code such as CN, DE or US-CA")
            found = self._jurisdictions[raw] = code
        return found

    def _locale(self, raw: str, jurisdiction: str) -> str:
        key = (raw, jurisdiction)
        found = self._locales.get(key)
        if found is None:
            found = self._locales[key] = read_locale(raw, jurisdiction)
        return found

    def _categories(self, raw: str) -> str:
        found = self._category_lists.get(raw)
        if found is None:
            found = self._category_lists[raw] = json.dumps(read_categories(raw, self.categories), separators=(",", ":"))
        return found


def read_locale(raw: str, jurisdiction: str) -> str:
    """A person's language: ``en`` or ``zh-CN`` where ir has letters, other tags kept as given.

    Empty means Chinese for people in mainland China (CN) and English elsewhere.

    Raises:
        Reject: the value is not a language tag.
    """
    text = raw.strip()
    if not text:
        return "zh-CN" if jurisdiction.split("-")[0] == "CN" else "en"
    low = text.lower().replace("_", "-")
    if low in _ZH_WORDS or low == "zh" or low.startswith("zh-"):
        return "zh-CN"
    if low in ("en", "english") or low.startswith("en-"):
        return "en"
    if not _LOCALE_TAG.fullmatch(text):
        raise Reject(f"locale '{raw}' is not a language tag such as en, zh-CN or fr")
    language, _, rest = text.replace("_", "-").partition("-")
    return language.lower() + ("-" + rest if rest else "")


def read_categories(raw: str, known: Mapping[str, str] | None) -> list[str]:
    """The person's data categories as sorted ids, from ids or titles separated by ; , | or 、.

    Raises:
        Reject: a category is not one the incident's playbook knows.
    """
    out: set[str] = set()
    for token in _CATEGORY_SPLIT.split(raw):
        word = token.strip()
        if not word:
            continue
        key = word.lower().replace(" ", "_")
        if known is not None:
            found = known.get(key) or known.get(word.lower())
            if found is None:
                ids = sorted(set(known.values()))
                raise Reject(f"unknown data category '{word}' (known: {', '.join(ids)})")
            out.add(found)
        elif _CATEGORY_ID.fullmatch(key):
            out.add(key)
        else:
            raise Reject(f"data category '{word}' is not an id such as name or national_id")
    return sorted(out)


def _plain(name: str, value: str) -> None:
    if len(value) > LIMITS[name]:
        raise Reject(f"{name} is {len(value)} characters; the limit is {LIMITS[name]}")
    if _CONTROL.search(value):
        raise Reject(f"{name} contains a control character or line break")


def _email(value: str) -> None:
    """Explain why ``value`` is not an e-mail address ir can send to (the fast check failed)."""
    _plain("email", value)
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or not local
        or "@" in local
        or len(local) > 64
        or len(labels) < 2
        or any(not label or label.startswith("-") or label.endswith("-") for label in labels)
        or _EMAIL_BAD.search(value)
    ):
        raise Reject(f"email '{value}' is not an e-mail address")
    if not value.isascii():
        raise Reject(f"email '{value}' has non-ASCII characters (write the domain in punycode)")
    raise Reject(f"email '{value}' is not an e-mail address")


def _address(value: str) -> str:
    text = value
    if "\n" in text or "\r" in text:
        lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        text = "\n".join(line for line in lines if line)
    if len(text) > LIMITS["postal_address"]:
        raise Reject(f"postal_address is {len(text)} characters; the limit is {LIMITS['postal_address']}")
    if _ADDRESS_CONTROL.search(text) or "\u2028" in text or "\u2029" in text:
        raise Reject("postal_address contains a control character")
    return text
