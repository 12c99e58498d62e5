"""``--derive NAME=EXPR``: quantities computed from fitted parameters on every posterior draw.

An expression holds numbers, parameter names (and names derived before it), ``+ - * /``,
unary minus and parentheses, e.g. ``R_separator=R_A+R_B`` or ``R_interface=R_C/2``.  Nothing
else is evaluated: the text is parsed with :mod:`ast` and walked by hand.  It is bounded
(:data:`MAX_LENGTH` characters, :data:`MAX_TERMS` numbers and names, :data:`MAX_DEPTH` levels of
operations), its constants must be finite, and a division by a constant that is zero is
refused when it is parsed.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from typing import cast

from ...priors import OptionError

MAX_LENGTH = 1000  # characters of one expression
MAX_TERMS = 100    # numbers and names in one expression
MAX_DEPTH = 100    # operations nested in one another (a + b + c is 2 deep)
FIELD = "derive"

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Derived:
    """One derived quantity: its name, the expression as written, and its parsed tree."""

    name: str
    text: str
    tree: ast.AST

    @property
    def names(self) -> set[str]:
        return {node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name)}

    def evaluate(self, values: dict):
        """The expression over ``values`` (numbers, arrays or pint quantities by name)."""
        return _walk(self.tree, values)


def parse_all_derived(specs, names) -> list[Derived]:
    """Each ``NAME=EXPR`` of ``specs`` in turn; an expression may use the circuit's ``names`` and
    the names derived before it."""
    known = list(names)
    derived = []
    for spec in specs:
        d = parse_derived(spec, known)
        derived.append(d)
        known.append(d.name)
    return derived


def parse_derived(spec: str, known: list[str]) -> Derived:
    """Parse ``NAME=EXPR``; ``known`` are the names the expression may use.

    Raises
    ------
    OptionError
        (field ``derive``) for anything but numbers, known names, ``+ - * /`` and parentheses;
        an expression longer than the limits; a non-finite constant (``1e999``); a division by a
        constant that is zero (``R_A/0``, ``R_A/(2-2)``).
    """
    name, sep, text = spec.partition("=")
    name, text = name.strip(), text.strip()
    if not sep or not name or not text:
        raise OptionError(f"expected NAME=EXPR (e.g. R_separator=R0+R1), got {_short(spec)!r}", field=FIELD)
    if not _IDENT.match(name):
        raise OptionError(f"{_short(name)!r} is not a valid name; use letters, digits and _", field=FIELD)
    if name in known:
        raise OptionError(f"{name!r} is already a parameter or derived name", field=FIELD)
    if len(text) > MAX_LENGTH:
        raise OptionError(f"the expression of {name} is {len(text)} characters long; at most {MAX_LENGTH} are read",
                          field=FIELD)
    try:
        tree = ast.parse(text, mode="eval").body
    except (SyntaxError, MemoryError, RecursionError):  # the parser's own nesting limit
        raise OptionError(f"cannot parse {_short(text)!r}; use numbers, parameter names, + - * / and ()",
                          field=FIELD) from None
    _check_size(tree, name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in known:
                raise OptionError(f"unknown name {node.id!r} in {name}; known: {', '.join(known)}", field=FIELD)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise OptionError(f"only numbers may appear as constants in {name}, got {node.value!r}", field=FIELD)
            if not math.isfinite(_float(node.value)):
                raise OptionError(f"the constant {ast.get_source_segment(text, node) or node.value} in {name} is "
                                  "not a finite number", field=FIELD)
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Load, ast.USub, ast.UAdd, *_OPS)):
            raise OptionError(f"{type(node).__name__} is not allowed in {name}; use + - * / and ()", field=FIELD)
    _check_constants(tree, name, text)
    return Derived(name, text, tree)


def _float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer literal beyond the float range
        return math.inf


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _check_size(tree: ast.AST, name: str) -> None:
    """At most MAX_TERMS numbers and names, nested at most MAX_DEPTH operations deep (walked
    without recursion, so that no tree can exhaust the stack)."""
    terms, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise OptionError(f"the expression of {name} nests operations more than {MAX_DEPTH} deep", field=FIELD)
        if isinstance(node, (ast.Name, ast.Constant)):
            terms += 1
            if terms > MAX_TERMS:
                raise OptionError(f"the expression of {name} has more than {MAX_TERMS} numbers and names",
                                  field=FIELD)
        elif isinstance(node, ast.BinOp):
            stack += [(node.left, depth + 1), (node.right, depth + 1)]
        elif isinstance(node, ast.UnaryOp):
            stack.append((node.operand, depth + 1))


def _check_constants(tree: ast.AST, name: str, text: str) -> None:
    """Fold the parts without names: a non-finite result or a zero divisor is refused."""
    def fold(node) -> float | None:
        if isinstance(node, ast.Constant):
            return _float(cast(float, node.value))  # parse_derived let only numbers through
        if isinstance(node, ast.Name):
            return None
        if isinstance(node, ast.UnaryOp):
            inner = fold(node.operand)
            return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
        left, right = fold(node.left), fold(node.right)
        if isinstance(node.op, ast.Div) and right == 0.0:
            shown = ast.get_source_segment(text, node.right) or "0"
            which = "" if isinstance(node.right, ast.Constant) else f" (the divisor {_short(shown)} is 0)"
            raise OptionError(f"division by zero in {name}={_short(text)}{which}", field=FIELD)
        if left is None or right is None:
            return None
        try:
            value = _OPS[type(node.op)](left, right)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            shown = ast.get_source_segment(text, node) or ""
            raise OptionError(f"the constant part {_short(shown)} of {name} is not a finite number", field=FIELD)
        return value

    fold(tree)


def _walk(node, values):
    if isinstance(node, ast.Constant):
        return float(cast(float, node.value))  # parse_derived let only numbers through
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        inner = _walk(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    return _OPS[type(node.op)](_walk(node.left, values), _walk(node.right, values))
