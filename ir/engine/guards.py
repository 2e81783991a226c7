"""Conditions on incident facts, as written in playbooks: ``affected_count >= 1``.

A condition is a small expression: fact names, literals (numbers, quoted strings,
``true``/``false``/``null``, lists), comparisons (``== != < <= > >= in``, ``not in``),
joined with ``and``, ``or``, ``not`` and parentheses. Nothing else is allowed, so a
playbook cannot run code. Evaluation is three-valued: a comparison on a fact nobody has
answered yet is *unknown*, and a condition that ends unknown is not met. The one exception
is ``fact == null`` (``!= null``), which asks whether the fact is still unanswered.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ir.errors import one_line

_LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}

_OPS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_UNKNOWN = object()

MAX_LENGTH = 2000
"""Longest condition accepted, in characters (the shipped playbooks' longest is about 100)."""


@dataclass(frozen=True)
class Comparison:
    """One ``left op right`` inside a condition, kept for type checks at load time."""

    left: Any
    op: str
    right: Any


@dataclass(frozen=True)
class FactRef:
    """A fact named inside a condition."""

    name: str


class Condition:
    """A parsed, safe condition.

    Attributes:
        source: the text as written in the playbook.
        facts: the fact names it reads.
        comparisons: its comparisons, for type checking against declared facts.
    """

    def __init__(self, source: str) -> None:
        self.source = source.strip()
        if len(self.source) > MAX_LENGTH:
            raise ValueError(f"condition is {len(self.source)} characters long; the limit is {MAX_LENGTH}")
        try:
            tree = ast.parse(self.source, mode="eval")
            self._tree = tree.body
            self.facts: set[str] = set()
            self.comparisons: list[Comparison] = []
            self._check(self._tree)
        except SyntaxError as exc:
            raise ValueError(one_line(f"cannot parse condition '{self.source}': {exc.msg}")) from None
        except (RecursionError, MemoryError):
            # Python's parser gives up on deep nesting ("not not not ...") with MemoryError,
            # and checking a tree nested past the recursion limit raises RecursionError.
            raise ValueError(one_line(f"condition '{self.source}' is nested too deeply")) from None

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._check(node.operand)
        elif isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise ValueError(one_line(f"write one comparison at a time in '{self.source}' (use 'and')"))
            left, right = self._operand(node.left), self._operand(node.comparators[0])
            if not isinstance(left, FactRef) and not isinstance(right, FactRef):
                raise ValueError(one_line(f"comparison in '{self.source}' names no fact"))
            self.comparisons.append(Comparison(left, type(node.ops[0]).__name__, right))
        elif isinstance(node, ast.Name):
            # A bare fact name means "is true": `breach_confirmed` == `breach_confirmed == true`.
            if node.id in _LITERAL_NAMES:
                raise ValueError(one_line(f"condition '{self.source}' is a constant"))
            self.facts.add(node.id)
            self.comparisons.append(Comparison(FactRef(node.id), "Eq", True))
        else:
            raise ValueError(one_line(f"'{ast.unparse(node)}' is not allowed in a condition"))

    def _operand(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            if node.id in _LITERAL_NAMES:
                return _LITERAL_NAMES[node.id]
            self.facts.add(node.id)
            return FactRef(node.id)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self._operand(node.operand)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._operand(el) for el in node.elts]
        raise ValueError(one_line(f"'{ast.unparse(node)}' is not allowed in a condition"))

    def evaluate(self, facts: Mapping[str, Any]) -> bool | None:
        """Evaluate against ``facts``: True, False, or None when it depends on unanswered facts."""
        result = self._eval(self._tree, facts)
        return None if result is _UNKNOWN else bool(result)

    def _eval(self, node: ast.AST, facts: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.BoolOp):
            values = [self._eval(v, facts) for v in node.values]
            if isinstance(node.op, ast.And):
                if any(v is False for v in values):
                    return False
                return _UNKNOWN if any(v is _UNKNOWN for v in values) else True
            if any(v is True for v in values):
                return True
            return _UNKNOWN if any(v is _UNKNOWN for v in values) else False
        if isinstance(node, ast.UnaryOp):
            inner = self._eval(node.operand, facts)
            return inner if inner is _UNKNOWN else not inner
        if isinstance(node, ast.Name):
            value = facts.get(node.id, _UNKNOWN)
            return value if value is _UNKNOWN else value is True
        assert isinstance(node, ast.Compare)
        presence = self._presence(node, facts)
        if presence is not None:
            return presence
        left = self._value(node.left, facts)
        right = self._value(node.comparators[0], facts)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        try:
            return bool(_OPS[type(node.ops[0])](left, right))
        except TypeError:
            return False

    def _presence(self, node: ast.Compare, facts: Mapping[str, Any]) -> bool | None:
        """`fact == null` is true while the fact is unanswered (never unknown); None if not this form."""
        left, right = self._operand(node.left), self._operand(node.comparators[0])
        ref, other = (left, right) if isinstance(left, FactRef) else (right, left)
        if not isinstance(ref, FactRef) or other is not None or isinstance(other, FactRef):
            return None
        if type(node.ops[0]) not in (ast.Eq, ast.NotEq):
            return None
        unanswered = facts.get(ref.name) is None
        return unanswered if isinstance(node.ops[0], ast.Eq) else not unanswered

    def _value(self, node: ast.AST, facts: Mapping[str, Any]) -> Any:
        operand = self._operand(node)
        return self._resolve(operand, facts)

    def _resolve(self, operand: Any, facts: Mapping[str, Any]) -> Any:
        if isinstance(operand, FactRef):
            value = facts.get(operand.name)
            return _UNKNOWN if value is None else value
        if isinstance(operand, list):
            items = [self._resolve(item, facts) for item in operand]
            return _UNKNOWN if any(i is _UNKNOWN for i in items) else items
        return operand

    def __repr__(self) -> str:
        return f"Condition({self.source!r})"
