"""Equivalent-circuit strings in impedance.py's grammar, and their impedance.

``R0-p(R1,CPE1)-p(R2,CPE2)``: ``-`` joins in series, ``p(a,b,...)`` in parallel, and both nest.
An element is a type and a label, ``R0``, ``CPE_CT``, ``W1``, ``Wo1``; the label makes the name
unique.  The type is the longest matching prefix, so ``Wo...`` and ``Ws...`` are finite-length
Warburg elements: a semi-infinite Warburg labelled with an ``o`` or ``s`` is written ``W_o``.

========  ==========================  ==========================================  ===================
element   parameters                  impedance (w in rad/s)                      units
========  ==========================  ==========================================  ===================
R         ``R``                       R                                           ohm
C         ``C``                       1 / (j w C)                                 F
L         ``L``                       j w L                                       H
CPE       ``CPE_Q``, ``CPE_n``        1 / (Q (j w)^n), 0 < n <= 1                 F s^(n-1), 1
W         ``W``                       sigma (1 - j) / sqrt(w)                     ohm s^-1/2
Wo        ``Wo_Z0``, ``Wo_tau``       Z0 coth(sqrt(j w tau)) / sqrt(j w tau)      ohm, s
Ws        ``Ws_Z0``, ``Ws_tau``       Z0 tanh(sqrt(j w tau)) / sqrt(j w tau)      ohm, s
G         ``G_R``, ``G_tau``          R / sqrt(1 + j w tau)                       ohm, s
========  ==========================  ==========================================  ===================

The names follow impedance.py's order: ``CPE1_Q``/``CPE1_n`` are its ``CPE1_0``/``CPE1_1``,
``Wo1_Z0``/``Wo1_tau`` its ``Wo1_0``/``Wo1_1`` (the same for Ws), ``G1_R``/``G1_tau`` its
``G1_0``/``G1_1`` (R_G and t_G).  Wo is the open (reflecting, blocking) finite-length Warburg:
at low frequency a capacitor tau/Z0 in series with Z0/3.  Ws is the short (transmissive) one:
it tends to the resistance Z0.  G is the Gerischer element.

The impedance is computed as a pair of real arrays (Z', Z'') with plain arithmetic, so that one
function serves numpy (least squares, posterior bands) and PyTensor (the NUTS model) alike:
``xp`` is ``numpy`` or ``pytensor.tensor``.  Parallel branches add admittances that each element
gives directly, so a capacitor never passes through an infinite impedance.  The finite Warburg
forms are written with exp(-2 sqrt(w tau / 2)), so cosh never overflows at large w tau, and
switch to their Taylor series below w tau = 0.01, where the closed forms would lose digits to
cancellation (and end in 0/0 at w tau -> 0).

A circuit string is bounded: at most :data:`MAX_LENGTH` characters, :data:`MAX_ELEMENTS`
elements and :data:`MAX_DEPTH` levels of nested ``p(...)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from ...priors import OptionError

ELEMENTS = ("CPE", "Wo", "Ws", "R", "C", "L", "W", "G")  # longest first: the type is the longest prefix
MAX_LENGTH = 2000   # characters of a circuit string
MAX_ELEMENTS = 200  # elements in a circuit
MAX_DEPTH = 32      # levels of nested p(...)
SERIES_BELOW = 1e-2  # w tau below which the finite Warburg elements use their Taylor series
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_FIELD = "circuit"
_TWO_PARAMETERS = {"CPE": (("Q", "Q"), ("n", "n")), "Wo": (("Z0", "Z0"), ("tau", "tau")),
                   "Ws": (("Z0", "Z0"), ("tau", "tau")), "G": (("R", "RG"), ("tau", "tau"))}


@dataclass(frozen=True)
class Parameter:
    """One fitted quantity: ``name`` (``R1``, ``CPE1_Q``), the element it belongs to, and its
    kind (``R``, ``C``, ``L``, ``Q``, ``n``, ``W``; ``Z0`` and ``tau`` of a finite Warburg, ``RG``
    and ``tau`` of a Gerischer element), which fixes its unit and its scale."""

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
        if self.kind in _TWO_PARAMETERS:
            return tuple(Parameter(f"{self.name}_{suffix}", self.name, kind)
                         for suffix, kind in _TWO_PARAMETERS[self.kind])
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
            raise OptionError("a circuit string is needed, e.g. 'R0-p(R1,CPE1)-p(R2,CPE2)'", field=_FIELD)
        self.text = re.sub(r"\s+", "", text)
        depth = _deepest(self.text)
        if depth > MAX_DEPTH:
            raise OptionError(f"the circuit nests parentheses {depth} levels deep; at most {MAX_DEPTH} are read",
                              field=_FIELD)
        if len(self.text) > MAX_LENGTH:
            raise OptionError(f"the circuit string is {len(self.text)} characters long; at most {MAX_LENGTH} are "
                              "read", field=_FIELD)
        self._pos = 0
        self._count = 0
        self.tree = self._series()
        if self._pos != len(self.text):
            self._fail("unexpected character")
        elements = list(_elements(self.tree))
        seen: set[str] = set()
        for name in [e.name for e in elements] + [p.name for e in elements for p in e.parameters
                                                  if p.name != e.name]:
            if name in seen:
                raise OptionError(f"{'element' if any(e.name == name for e in elements) else 'parameter'} "
                                  f"{name!r} appears twice in {self.text!r}; give each a unique label", field=_FIELD)
            seen.add(name)
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
    def _fail(self, what: str) -> NoReturn:
        shown = self.text[: self._pos] + " <here> " + self.text[self._pos:]
        raise OptionError(f"{what} at character {self._pos + 1} of the circuit: {shown.strip()!r}; "
                          "write elements (R, C, L, CPE, W, Wo, Ws, G) joined by '-' (series) and p(a,b) "
                          "(parallel)", field=_FIELD)

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
        self._count += 1
        if self._count > MAX_ELEMENTS:
            raise OptionError(f"the circuit has more than {MAX_ELEMENTS} elements", field=_FIELD)
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


def _deepest(text: str) -> int:
    """How deep the parentheses of a text nest (counted, not parsed)."""
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


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
    if e.kind in ("Wo", "Ws"):
        z0 = v[f"{e.name}_Z0"]
        re_, im_ = (warburg_open if e.kind == "Wo" else warburg_short)(w * v[f"{e.name}_tau"], xp)
        return z0 * re_, z0 * im_
    if e.kind == "G":
        re_, im_ = gerischer(w * v[f"{e.name}_tau"], xp)
        return v[f"{e.name}_R"] * re_, v[f"{e.name}_R"] * im_
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


# --------------------------------------------------------------------------------------------
# Finite-length Warburg and Gerischer elements in real arithmetic
#
# With x = w tau and s = sqrt(j x) = a (1 + j), a = sqrt(x / 2), e = exp(-2a):
#   tanh(s) = (P + j Q) / D,   coth(s) = (P - j Q) / D',   1 / s = (1 - j) / (2a),
#   P = 1 - e^2 = -expm1(-4a),  Q = 2 e sin(2a),
#   D = (1 + e)^2 - 4 e sin(a)^2,  D' = expm1(-2a)^2 + 4 e sin(a)^2,
# which is tanh(x + jy) = (sinh 2x + j sin 2y) / (cosh 2x + cos 2y) with numerator and denominator
# multiplied by 2 exp(-2x): nothing overflows at large x, and D, D' are sums of squares (no
# cancellation).  Below x = SERIES_BELOW the series of coth(s)/s and tanh(s)/s take over.


def _largest(xp):
    """1e300 as a float64 of the array library (PyTensor would first try it as a float32)."""
    return 1e300 if xp is np else xp.constant(1e300, dtype="float64")


def _finite_warburg_parts(x, xp):
    """(P, Q, D, D', 2a) at x = w tau, evaluated where the closed forms are accurate."""
    a = xp.sqrt(0.5 * x)
    e = xp.exp(-2.0 * a)
    sin_a = xp.sin(a)
    p = -xp.expm1(-4.0 * a)
    q = 2.0 * e * xp.sin(2.0 * a)
    d_tanh = (1.0 + e) ** 2 - 4.0 * e * sin_a ** 2
    d_coth = xp.expm1(-2.0 * a) ** 2 + 4.0 * e * sin_a ** 2
    return p, q, d_tanh, d_coth, 2.0 * a


def _split_at_series(x, xp):
    """x bounded to a finite positive range, whether the series applies, and x as each branch
    may safely see it (both branches are evaluated, and a NaN in the unused one would still
    spoil PyTensor's gradient)."""
    x = xp.minimum(xp.maximum(x, 1e-300), _largest(xp))
    small = x < SERIES_BELOW
    return small, xp.where(small, x, SERIES_BELOW), xp.where(small, SERIES_BELOW, x)


def warburg_open(x, xp=np):
    """(Re, Im) of coth(sqrt(j x)) / sqrt(j x), the open finite Warburg over Z0, at x = w tau > 0.

    At small x it is 1/(j x) + 1/3 - j x/45 - ...: a capacitor in series with Z0/3; at large x
    (1 - j) / sqrt(2 x), the semi-infinite Warburg.
    """
    small, xs, xe = _split_at_series(x, xp)
    p, q, _, d_coth, two_a = _finite_warburg_parts(xe, xp)
    re_exact, im_exact = (p - q) / (two_a * d_coth), -(p + q) / (two_a * d_coth)
    re_series = 1.0 / 3.0 - 2.0 * xs ** 2 / 945.0 + 2.0 * xs ** 4 / 93555.0
    im_series = -1.0 / xs - xs / 45.0 + xs ** 3 / 4725.0 - 1382.0 * xs ** 5 / 638512875.0
    return xp.where(small, re_series, re_exact), xp.where(small, im_series, im_exact)


def warburg_short(x, xp=np):
    """(Re, Im) of tanh(sqrt(j x)) / sqrt(j x), the short finite Warburg over Z0, at x = w tau > 0.

    At small x it is 1 - j x/3 - ...: the resistance Z0; at large x (1 - j) / sqrt(2 x).
    """
    small, xs, xe = _split_at_series(x, xp)
    p, q, d_tanh, _, two_a = _finite_warburg_parts(xe, xp)
    re_exact, im_exact = (p + q) / (two_a * d_tanh), (q - p) / (two_a * d_tanh)
    re_series = 1.0 - 2.0 * xs ** 2 / 15.0 + 62.0 * xs ** 4 / 2835.0 - 21844.0 * xs ** 6 / 6081075.0
    im_series = -xs / 3.0 + 17.0 * xs ** 3 / 315.0 - 1382.0 * xs ** 5 / 155925.0
    return xp.where(small, re_series, re_exact), xp.where(small, im_series, im_exact)


def gerischer(x, xp=np):
    """(Re, Im) of 1 / sqrt(1 + j x), the Gerischer element over R, at x = w tau >= 0.

    sqrt(1 + j x) = p + j q with p = sqrt((m + 1) / 2), q = x / sqrt(2 (m + 1)), m = |1 + j x|
    computed as M sqrt((1/M)^2 + (x/M)^2), M = max(1, x), so that neither x^2 overflows nor
    m - 1 cancels.
    """
    x = xp.minimum(xp.maximum(x, 0.0), _largest(xp))
    big = xp.maximum(x, 1.0)
    modulus = big * xp.sqrt((1.0 / big) ** 2 + (x / big) ** 2)
    p = xp.sqrt(0.5 * (modulus + 1.0))
    q = x / xp.sqrt(2.0 * (modulus + 1.0))
    return p / modulus, -q / modulus
