"""Arguments given as a number in the canonical unit or as a quantity string ("30 degC",
"0.503 cm^2"): one reading for every function of the API that takes them."""

from __future__ import annotations

import math

from . import fields as F
from .errors import CardError, OptionError, warn
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
    """K from a number (K) or a quantity string (``"30 degC"``).

    A number without a unit below :data:`~nassb.priors.fields.BARE_TEMPERATURE_BELOW` K is read
    in K but warned about, as on a card: ``30`` is most likely meant in degC."""
    kelvin = single(value, F.TEMPERATURE, field)
    bare = _bare_number(value)
    if bare is not None and 0 < bare < F.BARE_TEMPERATURE_BELOW:
        warn(f"a number without a unit is read in K: {bare:g} K ({bare - 273.15:.6g} degC); "
             f'write "{bare:g} degC" if degrees Celsius are meant', field=field, stacklevel=3)
    return kelvin


def _bare_number(value) -> float | None:
    """The number of an argument given without a unit (``30``, ``"30"``), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None
