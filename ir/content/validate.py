"""Validation of content documents with errors that name file, line and field."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Annotated, Any, TypeVar, Union

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict

from ir.content.yamlfile import Document, Loc
from ir.errors import ContentError, ContentErrors
from ir.i18n import LOCALES


class Strict(BaseModel):
    """Base for content models: unknown keys are errors, values are not silently coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


M = TypeVar("M", bound=BaseModel)

MAX_REPORTED = 100
"""Most problems reported for one file: a hostile file can have tens of thousands, and each
costs a lookup for a close match; past this many, one more line says how many were left out."""


def _local_text(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("text is empty")
        return {"en": value}
    if isinstance(value, dict):
        if not value:
            raise ValueError("give the text in at least one language")
        for key, text in value.items():
            if key not in LOCALES:
                raise ValueError(f"unknown language '{key}' (use {', '.join(LOCALES)})")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"text for '{key}' must be a non-empty string")
        return dict(value)
    raise ValueError("expected text, or a mapping of language to text (en, zh-CN)")


LocalText = Annotated[dict[str, str], BeforeValidator(_local_text)]
"""Text in one or more languages; a plain string means English."""


def validate_document(doc: Document, model: type[M], data: Any = None) -> M:
    """Validate ``doc.data`` (or ``data``) against ``model``.

    Raises:
        ContentErrors: every problem found, each with file, line and field.
    """
    payload = doc.data if data is None else data
    if payload is None:
        raise ContentErrors([ContentError(doc.path, None, "", "file is empty")])
    try:
        return model.model_validate(payload)
    except pydantic.ValidationError as exc:
        found = exc.errors()
        errors = [_to_content_error(doc, model, err) for err in found[:MAX_REPORTED]]
        if len(found) > MAX_REPORTED:
            errors.append(ContentError(doc.path, None, "", f"{len(found) - MAX_REPORTED} more problem(s) not shown"))
        raise ContentErrors(errors) from None


def _to_content_error(doc: Document, model: type[BaseModel], err: Any) -> ContentError:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if hint:
            problem = f"unknown key (did you mean '{hint[0]}'?)"
        else:
            problem = f"unknown key (allowed: {', '.join(allowed)})" if allowed else "unknown key"
    elif kind == "missing":
        problem = "required but missing"
    else:
        problem = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    # Validators on a whole model report at the model's own position.
    return doc.error(loc, problem)


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Names a content author may write at ``loc`` (aliases where a field has one)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field_by_key(current, str(part))
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) in (list, tuple) and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional/Union-with-None wrappers from a type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else args[0]
        else:
            return tp
