"""Arguments given as a number in the canonical unit or as a quantity string ("30 degC",
"0.503 cm^2"): one reading for every function of the API that takes them."""

from __future__ import annotations

import math

from . import fields as F
from .errors import CardError, OptionError
from .quantity import FieldSpec, parse_quantity


def single(value, spec: FieldSpec, field: str) -> float:
    """One value (no uncertainty) in ``spec``'s canonical unit, finite and within its bounds;
    an OptionError naming ``field`` otherwise."""
    if isinstance(value, bool):
        raise OptionError(f"expected {spec.words}, got {value!r}", field=field)
    if isinstance(value, str) and not value.strip():
        raise OptionError(f"empty; expected {spec.words}, e.g. '1 {spec.unit}'", field=field)
    try:
        quantity = parse_quantity(value if isinstance(value, str) else float(value), spec)
    except (CardError, TypeError, ValueError) as err:
        raise OptionError(getattr(err, "message", str(err)), field=field) from None
    if quantity.uncertain:
        raise OptionError(f"give one {spec.words.removeprefix('a ').removeprefix('an ')}, without an uncertainty",
                          field=field)
    if not math.isfinite(quantity.value):
        raise OptionError(f"must be a finite number, got {value!r}", field=field)
    return quantity.value


def temperature(value, field: str = "temperature") -> float:
    """K from a number (K) or a quantity string (``"30 degC"``)."""
    return single(value, F.TEMPERATURE, field)
