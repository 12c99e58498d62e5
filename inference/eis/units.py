"""The units of an impedance fit's parameters and derived quantities, and what reports them per
electrode area; a posterior draw's summary with its heavy-tail check."""

from __future__ import annotations

import math

import numpy as np

from ...priors import OptionError
from ..statistics import summarise
from .circuit import Circuit
from .expressions import Derived

# Area normalisation: multiply a parameter of each kind by area ** power, and its unit.
_AREA = {"R": (1, "ohm*cm^2"), "C": (-1, "F/cm^2"), "Q": (-1, "F*s^(n-1)/cm^2"), "L": (1, "H*cm^2"),
         "W": (1, "ohm*cm^2*s^-0.5"), "n": (0, "1"), "Z0": (1, "ohm*cm^2"), "RG": (1, "ohm*cm^2"), "tau": (0, "s")}


def _parameter_units(circuit: Circuit, area: float | None, spectrum_unit: str) -> dict[str, str]:
    """Each parameter's unit: raw for a spectrum in ohm without an area, else per cm^2."""
    raw = {"R": "ohm", "C": "F", "Q": "F*s^(n-1)", "L": "H", "W": "ohm*s^-0.5", "n": "1", "Z0": "ohm", "RG": "ohm",
           "tau": "s"}
    normalised = area is not None or spectrum_unit != "ohm"
    return {p.name: _AREA[p.kind][1] if normalised else raw[p.kind] for p in circuit.parameters}


def _derived_units(derived: list[Derived], units: dict[str, str]) -> dict[str, str]:
    """Units of derived quantities by pint; an expression over CPE parameters gets none ("")."""
    from pint.errors import PintError

    from ...priors.units import registry as _registry

    registry = _registry()
    pint_units = {"ohm": "ohm", "ohm*cm^2": "ohm*cm**2", "F": "F", "F/cm^2": "F/cm**2", "H": "H",
                  "H*cm^2": "H*cm**2", "ohm*s^-0.5": "ohm/s**0.5", "ohm*cm^2*s^-0.5": "ohm*cm**2/s**0.5",
                  "s": "s", "1": "dimensionless"}
    out = {}
    known = {name: registry.Quantity(1.0, pint_units.get(unit, "dimensionless")) for name, unit in units.items()}
    opaque = {name for name, unit in units.items() if unit not in pint_units}
    for d in derived:
        try:
            value = d.evaluate(known)
        except ZeroDivisionError:  # R_A/(R_B-R_B): a divisor that is 0 whatever the fit
            raise OptionError(f"division by zero in {d.name}={d.text}: its divisor is 0 for every value of the "
                              "parameters", field="derive") from None
        except PintError as err:  # pint's DimensionalityError: ohm + F
            raise OptionError(f"{d.name}={d.text} mixes incompatible units ({err})", field="derive") from None
        if not np.all(np.isfinite(getattr(value, "magnitude", value))):
            raise OptionError(f"{d.name}={d.text} is not a finite number even with every parameter at 1",
                              field="derive")
        if d.names & opaque:
            unit = ""
        else:
            quantity = registry.Quantity(1.0, value.units) if hasattr(value, "units") else None
            unit = _unit_text(quantity, pint_units) if quantity is not None else "1"
        known[d.name] = value if not (d.names & opaque) else registry.Quantity(1.0, "dimensionless")
        if d.names & opaque:
            opaque.add(d.name)
        out[d.name] = unit
    return out


def _unit_text(quantity, pint_units: dict[str, str]) -> str:
    for text, spelled in pint_units.items():
        if quantity.dimensionality == quantity._REGISTRY.Quantity(1.0, spelled).dimensionality:
            factor = quantity.to(spelled).magnitude
            if math.isclose(factor, 1.0, rel_tol=1e-12):
                return text
    return f"{quantity.units:~C}"


def summarise_draws(values, unit: str) -> dict:
    """:func:`~nassb.inference.statistics.summarise` of posterior draws, with its heavy-tail check
    judged on the shape alone (no standard-error margin, unlike
    :func:`~nassb.inference.statistics.heavy_tail`): the same tail and estimator as
    :func:`~nassb.inference.statistics.tail_shape`."""
    return summarise(values, unit, tail=_tail_note(values))


def _tail_note(values) -> str | bool:
    """The heavy-tail sentence of :func:`nassb.inference.statistics.heavy_tail`, or False."""
    from ..statistics import MEAN_SHAPE, VARIANCE_SHAPE, gpd_fit, tail_excess

    excess = tail_excess(values)
    if excess is None:
        return False
    xi, _ = gpd_fit(excess / excess.mean(), prior=False)
    if not math.isfinite(xi) or xi < VARIANCE_SHAPE:
        return False
    moment = "the mean and the variance do" if xi >= MEAN_SHAPE else "the variance does"
    return f"heavy tail: the largest draws fall off as a power (tail shape {xi:.2f}); {moment} not exist"


def area_factor(kind: str, area: float | None) -> float:
    """What a parameter of ``kind`` is multiplied by to report it per electrode area (cm^2)."""
    return area ** _AREA[kind][0] if area else 1.0
