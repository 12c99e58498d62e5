"""The design space: which cell parameters the search may change, and within which ranges.

Ranges come from a card's optional ``[design]`` table (quantities with units; defaults below,
from the seed paper and its roadmap):

    [design]
    cathode.theoretical_capacity = { low = "0.5 mAh/cm^2", high = "5 mAh/cm^2" }
    cathode.porosity = { low = 0.2, high = 0.7 }
    separator.thickness = { low = "20 um", high = "200 um" }
    anode.reservoir_thickness = { low = "0 um", high = "60 um" }
    cell.pressure = { low = "0.005 MPa", high = "5 MPa" }

Each variable is named by the card field it sets (the vocabulary's one name) and declared once
in :mod:`nassb.design.variables` (unit, default range, scale).  A variable with
``low == high`` is fixed.  Everything else (materials, their uncertainties,
utilisation) comes from the card and the calibrated risk posteriors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..priors import CardError, CellCard, parse_quantity
from .variables import VARIABLES


@dataclass(frozen=True)
class Variable:
    """One design variable: canonical unit, range, and whether the search samples it on a log scale."""

    name: str
    unit: str
    low: float
    high: float
    log: bool = False

    @property
    def fixed(self) -> bool:
        return self.low == self.high


# The short names of earlier versions, refused with the new name.
_RENAMED = {"capacity": "cathode.theoretical_capacity", "porosity": "cathode.porosity",
            "separator_thickness": "separator.thickness", "reservoir_thickness": "anode.reservoir_thickness",
            "pressure": "cell.pressure"}


@dataclass(frozen=True)
class DesignSpace:
    variables: tuple[Variable, ...]

    def __iter__(self):
        return iter(self.variables)

    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def distance(self, a: dict, b: dict) -> float:
        """Largest difference of two designs, each variable scaled to its range (log where sampled so)."""
        out = 0.0
        for v in self.variables:
            if v.fixed:
                continue
            if v.log:
                span = math.log(v.high / v.low)
                d = abs(math.log(a[v.name] / b[v.name])) / span
            else:
                d = abs(a[v.name] - b[v.name]) / (v.high - v.low)
            out = max(out, d)
        return out


def _flatten(raw: dict, origin: str) -> dict[str, object]:
    """``[design]`` with dotted keys (``cathode.porosity = {...}``) as {card path: table}."""
    out: dict[str, object] = {}
    for key, value in raw.items():
        if key in _RENAMED:
            raise CardError(f"design variables are named by their card fields: write {_RENAMED[key]}",
                            file=origin, field=f"design.{key}")
        if isinstance(value, dict) and not (set(value) & {"low", "high"}):
            for sub, table in value.items():
                out[f"{key}.{sub}"] = table
        else:
            out[key] = value
    return out


def design_space(card: CellCard, raw: dict | None = None) -> DesignSpace:
    """The design space of a card: its ``[design]`` table over the defaults."""
    tables = _flatten(dict(raw if raw is not None else card.design), card.origin)
    unknown = [k for k in tables if k not in VARIABLES]
    if unknown:
        raise CardError(f"unknown design variable; expected one of {', '.join(VARIABLES)}",
                        file=card.origin, field=f"design.{unknown[0]}")
    out = []
    for name, declared in VARIABLES.items():
        spec, low, high, log = declared.spec, declared.low, declared.high, declared.log
        table = tables.get(name, {})
        where = f"design.{name}"
        if not isinstance(table, dict) or set(table) - {"low", "high"}:
            raise CardError("expected { low = ..., high = ... }", file=card.origin, field=where)
        try:
            bounds = [parse_quantity(table.get(key, default), spec) for key, default in (("low", low), ("high", high))]
        except CardError as err:
            raise err.located(file=card.origin, field=where) from None
        if any(b.uncertain for b in bounds):
            raise CardError("a range bound is a plain value, without an uncertainty", file=card.origin, field=where)
        lo, hi = (b.value for b in bounds)
        if lo > hi:
            raise CardError(f"low ({lo:g}) is above high ({hi:g})", file=card.origin, field=where)
        out.append(Variable(name, spec.unit or "1", lo, hi, log and lo > 0))
    return DesignSpace(tuple(out))
