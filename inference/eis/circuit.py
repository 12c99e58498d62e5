"""Equivalent-circuit strings in impedance.py's grammar, and their impedance.

``R0-p(R1,CPE1)-p(R2,CPE2)``: ``-`` joins in series, ``p(a,b,...)`` in parallel, and both nest.
An element is a type and a label, ``R0``, ``CPE_CT``, ``W1``; the label makes the name unique.

========  =====================  ==========================  =======================
element   parameters             impedance                   units
========  =====================  ==========================  =======================
R         ``R``                  R                           ohm
C         ``C``                  1 / (j w C)                 F
L         ``L``                  j w L                       H
CPE       ``CPE_Q``, ``CPE_n``   1 / (Q (j w)^n), 0 < n <= 1  F s^(n-1), 1
W         ``W``                  sigma (1 - j) / sqrt(w)     ohm s^-1/2
========  =====================  ==========================  =======================

(``CPE1_Q``/``CPE1_n`` are impedance.py's ``CPE1_0``/``CPE1_1``.)  The impedance is computed as
a pair of real arrays (Z', Z'') with plain arithmetic, so that one function serves numpy (least
squares, posterior bands) and PyTensor (the NUTS model) alike: ``xp`` is ``numpy`` or
``pytensor.tensor``.  Parallel branches add admittances that each element gives directly, so a
capacitor never passes through an infinite impedance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ...priors import OptionError

ELEMENTS = ("CPE", "R", "C", "L", "W")  # longest first: the type is the longest matching prefix
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Parameter:
    """One fitted quantity: ``name`` (``R1``, ``CPE1_Q``), the element it belongs to, and its
    kind (``R``, ``C``, ``L``, ``Q``, ``n``, ``W``), which fixes its unit and its scale."""

    name: str
    element: str
    kind: str

    @property
    def log_scale(self) -> bool:
        """Every kind but a CPE exponent is positive and fitted on a log scale."""
        return self.kind != "n"


@dataclass(frozen=True)
class Element:
    name: str
    kind: str  # one of ELEMENTS

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        if self.kind == "CPE":
            return (Parameter(f"{self.name}_Q", self.name, "Q"), Parameter(f"{self.name}_n", self.name, "n"))
        return (Parameter(self.name, self.name, self.kind),)


@dataclass(frozen=True)
class Series:
    parts: tuple


@dataclass(frozen=True)
class Parallel:
    parts: tuple


@dataclass(frozen=True)
class Arc:
    """A top-level parallel pair of a resistor and a capacitive element, ``p(R1,CPE1)`` or
    ``p(R1,C1)``: one semicircle with time constant tau = (R Q)^(1/n) (or R C)."""

    resistor: str
    capacitor: Element

    def label(self) -> str:
        return f"p({self.resistor},{self.capacitor.name})"


class Circuit:
    """A parsed circuit string.

    Attributes
    ----------
    text : str
        The string as given, without spaces.
    parameters : tuple of Parameter
        In the order the elements appear.
    arcs : tuple of Arc
        The simple semicircles joined in series at the top level, left to right.  nassb orders
        their time constants the same way (the left arc is the fastest), so their labels
        cannot swap between fits or chains.
    """

    def __init__(self, text: str):
        if not isinstance(text, str) or not text.strip():
            raise OptionError("a circuit string is needed, e.g. 'R0-p(R1,CPE1)-p(R2,CPE2)'", field="--circuit")
        self.text = re.sub(r"\s+", "", text)
        self._pos = 0
        self.tree = self._series()
        if self._pos != len(self.text):
            self._fail("unexpected character")
        elements = list(_elements(self.tree))
        names = [e.name for e in elements]
        for name in names:
            if names.count(name) > 1:
                raise OptionError(f"element {name!r} appears twice in {self.text!r}; give each a unique label",
                                  field="--circuit")
        self.elements = tuple(elements)
        self.parameters = tuple(p for e in elements for p in e.parameters)
        self.arcs = tuple(_arcs(self.tree))

    def __repr__(self) -> str:
        return f"Circuit({self.text!r})"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    # -- parsing ---------------------------------------------------------------------------
    def _fail(self, what: str):
        shown = self.text[: self._pos] + " <here> " + self.text[self._pos:]
        raise OptionError(f"{what} at character {self._pos + 1} of the circuit: {shown.strip()!r}; "
                          "write elements (R, C, L, CPE, W) joined by '-' (series) and p(a,b) (parallel)",
                          field="--circuit")

    def _series(self):
        parts = [self._term()]
        while self._peek("-"):
            self._pos += 1
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else Series(tuple(parts))

    def _term(self):
        if self.text.startswith("p(", self._pos):
            self._pos += 2
            parts = [self._series()]
            while self._peek(","):
                self._pos += 1
                parts.append(self._series())
            if not self._peek(")"):
                self._fail("expected ',' or ')'")
            self._pos += 1
            if len(parts) < 2:
                self._fail("p(...) needs two or more branches")
            return Parallel(tuple(parts))
        match = _NAME.match(self.text, self._pos)
        if not match:
            self._fail("expected an element or p(...)")
        name = match.group(0)
        kind = next((k for k in ELEMENTS if name.startswith(k)), None)
        if kind is None:
            self._fail(f"unknown element {name!r} (supported: {', '.join(sorted(ELEMENTS))})")
        self._pos = match.end()
        return Element(name, kind)

    def _peek(self, char: str) -> bool:
        return self._pos < len(self.text) and self.text[self._pos] == char

    # -- evaluation ------------------------------------------------------------------------
    def impedance(self, values: Mapping, omega, xp=np):
        """(Z', Z'') of the circuit at angular frequencies ``omega`` (rad/s).

        ``values`` maps every parameter name to a number or an array that broadcasts against
        ``omega`` (per-point values in a batch fit); ``xp`` is numpy or pytensor.tensor.
        """
        return _impedance(self.tree, values, omega, xp)

    def complex_impedance(self, values: Mapping, omega) -> np.ndarray:
        """Complex Z at ``omega`` with numpy (for plots, residuals and tests)."""
        re_, im_ = self.impedance(values, np.asarray(omega, dtype=float))
        return np.asarray(re_) + 1j * np.asarray(im_)

    def time_constant(self, arc: Arc, values: Mapping):
        """tau of an arc in s: (R Q)^(1/n) for a CPE, R C for a capacitor."""
        r = values[arc.resistor]
        if arc.capacitor.kind == "C":
            return r * values[arc.capacitor.name]
        q, n = values[f"{arc.capacitor.name}_Q"], values[f"{arc.capacitor.name}_n"]
        return (r * q) ** (1.0 / n)


def _elements(node):
    if isinstance(node, Element):
        yield node
    else:
        for part in node.parts:
            yield from _elements(part)


def _arcs(tree):
    top = tree.parts if isinstance(tree, Series) else (tree,)
    for node in top:
        if isinstance(node, Parallel) and len(node.parts) == 2 and all(isinstance(p, Element) for p in node.parts):
            kinds = {p.kind: p for p in node.parts}
            if "R" in kinds and ("CPE" in kinds or "C" in kinds) and len(kinds) == 2:
                yield Arc(kinds["R"].name, kinds.get("CPE") or kinds["C"])


def _impedance(node, v, w, xp):
    if isinstance(node, Element):
        return _element_z(node, v, w, xp)
    if isinstance(node, Series):
        re_, im_ = 0.0, 0.0
        for part in node.parts:
            a, b = _impedance(part, v, w, xp)
            re_, im_ = re_ + a, im_ + b
        return re_, im_
    g, b = _admittance(node, v, w, xp)
    return _reciprocal(g, b)


def _admittance(node, v, w, xp):
    if isinstance(node, Element):
        return _element_y(node, v, w, xp)
    if isinstance(node, Parallel):
        g, b = 0.0, 0.0
        for part in node.parts:
            a, c = _admittance(part, v, w, xp)
            g, b = g + a, b + c
        return g, b
    return _reciprocal(*_impedance(node, v, w, xp))


def _reciprocal(a, b):
    d = a * a + b * b
    return a / d, -b / d


def _element_z(e: Element, v, w, xp):
    if e.kind == "R":
        return v[e.name] + 0.0 * w, 0.0 * w
    if e.kind == "C":
        return 0.0 * w, -1.0 / (w * v[e.name])
    if e.kind == "L":
        return 0.0 * w, w * v[e.name]
    if e.kind == "W":
        s = v[e.name] / xp.sqrt(w)
        return s, -s
    q, n = v[f"{e.name}_Q"], v[f"{e.name}_n"]
    mag = xp.exp(-n * xp.log(w)) / q
    angle = n * (math.pi / 2)
    return mag * xp.cos(angle), -mag * xp.sin(angle)


def _element_y(e: Element, v, w, xp):
    if e.kind == "R":
        return 1.0 / v[e.name] + 0.0 * w, 0.0 * w
    if e.kind == "C":
        return 0.0 * w, w * v[e.name]
    if e.kind == "CPE":
        q, n = v[f"{e.name}_Q"], v[f"{e.name}_n"]
        mag = q * xp.exp(n * xp.log(w))
        angle = n * (math.pi / 2)
        return mag * xp.cos(angle), mag * xp.sin(angle)
    return _reciprocal(*_element_z(e, v, w, xp))
