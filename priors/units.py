"""Units through pint: one registry, the spellings battery people write, and conversion to the
canonical unit of each card field (the unit the cell equations are written in)."""

from __future__ import annotations

import functools
import re
import tokenize

import numpy as np

from .errors import CardError

# What pint's unit parser raises for text it cannot read, found by feeding it random text: its
# own errors (each also a ValueError, AttributeError or TypeError), the tokenizer's, and what its
# evaluator lets through (KeyError, AssertionError, 1/0, syntax, recursion on deep nesting).
UNIT_TEXT_ERRORS: tuple[type[Exception], ...] = (
    ValueError, TypeError, AttributeError, KeyError, IndexError, AssertionError, ArithmeticError, SyntaxError,
    RecursionError, tokenize.TokenError,
)

# Spellings pint does not read by itself: micro signs, the ohm sign, degree signs, percent and
# exponents written as trailing digits ("cm2", "g/cm3").
_SPELLINGS = (
    ("µ", "u"),
    ("μ", "u"),
    ("Ω", "ohm"),
    ("°C", "degC"),
    ("°F", "degF"),
    ("%", "percent"),
    ("·", "*"),
)
# "cm2", "g/cm3", and the "mAh cm-2", "mS cm-1" of battery papers.
_TRAILING_EXPONENT = re.compile(r"(?<=[A-Za-z])(-?[1-9])\b")


@functools.lru_cache(maxsize=1)
def registry():
    """The package's pint UnitRegistry (built once, on first use)."""
    import pint

    ureg: pint.UnitRegistry = pint.UnitRegistry()
    # Battery units pint lacks: ampere hours and watt hours with their prefixes come from
    # these definitions ("mAh", "Wh", "kWh").
    ureg.define("ampere_hour = ampere * hour = Ah")
    ureg.define("watt_hour = watt * hour = Wh")
    return ureg


def normalise_unit(text: str) -> str:
    """Rewrite a unit as typed on a card into pint's grammar ("mAh/cm2" -> "mAh/cm^2")."""
    out = text.strip()
    for typed, pint_spelling in _SPELLINGS:
        out = out.replace(typed, pint_spelling)
    return _TRAILING_EXPONENT.sub(r"^\1", out)


def conversion(unit: str, canonical: str):
    """Return a function mapping magnitudes in ``unit`` to magnitudes in ``canonical``.

    The function takes a float or an array of floats.  Raises :class:`CardError` for an unknown
    unit or one of the wrong dimension.  Offset units (degC) work: the returned function
    converts absolute values, so an uncertainty is converted as the difference of two converted
    values by the caller.
    """
    ureg = registry()
    text = normalise_unit(unit) if unit else ""
    try:
        parsed = ureg.parse_units(text) if text else ureg.dimensionless
    except UNIT_TEXT_ERRORS as err:
        raise CardError(f"unknown unit {unit!r}") from err
    target = ureg.parse_units(canonical) if canonical else ureg.dimensionless
    if parsed.dimensionality != target.dimensionality:
        expected = _dimension_words(target.dimensionality)
        raise CardError(f"unit {unit!r} is not {expected} (expected a unit like {canonical or '1'})")

    def convert(magnitude):
        """A float for a float; for an array, the whole array in one conversion (a 10^6-row
        column costs milliseconds, not the tens of seconds of value-by-value conversion)."""
        if np.ndim(magnitude) == 0:
            return float(ureg.Quantity(float(magnitude), parsed).to(target).magnitude)
        with np.errstate(over="ignore", invalid="ignore"):  # the caller checks the result's bounds
            return np.asarray(ureg.Quantity(np.asarray(magnitude, dtype=float), parsed).to(target).magnitude,
                              dtype=float)

    return convert


def _dimension_words(dimensionality) -> str:
    text = str(dimensionality)
    return "dimensionless" if text == "dimensionless" else f"of dimension {text}"
