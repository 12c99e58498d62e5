"""``--derive NAME=EXPR``: quantities computed from fitted parameters on every posterior draw.

An expression holds numbers, parameter names (and names derived before it), ``+ - * /``,
unary minus and parentheses, e.g. ``R_separator=R_A+R_B`` or ``R_interface=R_C/2``.  Nothing
else is evaluated: the text is parsed with :mod:`ast` and walked by hand.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass

from ...priors import OptionError

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


def parse_derived(spec: str, known: list[str]) -> Derived:
    """Parse ``NAME=EXPR``; ``known`` are the names the expression may use."""
    field = "--derive"
    name, sep, text = spec.partition("=")
    name, text = name.strip(), text.strip()
    if not sep or not name or not text:
        raise OptionError(f"expected NAME=EXPR (e.g. R_separator=R0+R1), got {spec!r}", field=field)
    if not _IDENT.match(name):
        raise OptionError(f"{name!r} is not a valid name; use letters, digits and _", field=field)
    if name in known:
        raise OptionError(f"{name!r} is already a parameter or derived name", field=field)
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise OptionError(f"cannot parse {text!r}; use numbers, parameter names, + - * / and ()",
                          field=field) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in known:
                raise OptionError(f"unknown name {node.id!r} in {name}; known: {', '.join(known)}", field=field)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise OptionError(f"only numbers may appear as constants in {name}, got {node.value!r}", field=field)
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Load, ast.USub, ast.UAdd, *_OPS)):
            raise OptionError(f"{type(node).__name__} is not allowed in {name}; use + - * / and ()", field=field)
    return Derived(name, text, tree)


def _walk(node, values):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        inner = _walk(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    return _OPS[type(node.op)](_walk(node.left, values), _walk(node.right, values))
