"""A card that cannot exist: the cathode's thickness, porosity, loading, densities and capacity
checked against each other where a card gives more of them than the stack equations need.

Two relations tie them (inference/cell.py, paper-equations.md):

* the solids: loading m = (1 - P) rho_solid d (``derived_porosity`` read backwards);
* the capacity: C_theo = m x active_fraction x q (``capacity_from_loading``), with the active
  fraction at most 1 where the card does not give it.

A value that breaks a relation by more than three combined standard uncertainties (first order)
and more than :data:`RELATIVE_TOLERANCE` is possible on paper but not in a cell: a warning names
the fields and the value the others imply.  Nothing is changed; the numbers are the card's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import fields as F
from .errors import warn

if TYPE_CHECKING:
    from .card import CellCard
    from .quantity import Measured

SIGMAS = 3.0
"""Combined standard uncertainties a relation may be off by before a card is warned about."""
RELATIVE_TOLERANCE = 0.02
"""Relative slack for exact values rounded as printed (the paper's 2.52 mAh/cm^2, 23.1 mg/cm^2)."""
_MG_PER_UM = 0.1  # (g/cm^3) x um -> mg/cm^2


def _rel(q: Measured | None) -> float:
    return 0.0 if q is None or not q.value else q.sd / abs(q.value)


def _text(q: Measured, unit: str) -> str:
    shown = f"{q.value:.3g}" if q.sd <= 0 else f"{q.value:.3g} ± {q.sd:.2g}"
    return f"{shown} {unit}".rstrip()


def _beyond(given: float, implied: float, sd: float) -> bool:
    """Whether ``given`` differs from ``implied`` by more than the tolerance."""
    return abs(given - implied) > max(SIGMAS * sd, RELATIVE_TOLERANCE * abs(implied))


def _implausible(quantities, specs) -> bool:
    return any(key in specs and specs[key].plausibility(v.value, v.sd) is not None for key, v in quantities.items())


def check_cathode(card: CellCard) -> list[str]:
    """Warn (one line each, naming the card and the fields) where the cathode's quantities break
    the stack relations; returns the warnings' messages."""
    cathode = card.cathode
    material = cathode.material.name
    d, porosity = cathode.quantities["thickness"], cathode.get("porosity")
    loading, fraction = cathode.get("loading"), cathode.get("active_fraction")
    capacity = cathode.get("theoretical_capacity")
    density, specific = cathode.material.get("density"), cathode.material.get("specific_capacity")
    if density is None:
        return []
    rho, q = f"materials.{material}.density", f"materials.{material}.specific_capacity"
    if _implausible(cathode.quantities, F.CATHODE_FIELDS) or _implausible(cathode.material.quantities,
                                                                         F.MATERIAL_FIELDS):
        return []  # an implausible value has its own warning (a wrong unit, most often): one per mistake
    messages: list[tuple[str, str]] = []
    if porosity is not None and loading is not None:  # the solids: m = (1 - P) rho d
        implied = 1.0 - loading.value / (_MG_PER_UM * density.value * d.value)
        sd = (1.0 - implied) * math.sqrt(_rel(loading) ** 2 + _rel(density) ** 2 + _rel(d) ** 2)
        if _beyond(porosity.value, implied, math.hypot(sd, porosity.sd)):
            messages.append(("cathode.porosity", (
                f"{_text(porosity, '')} does not fit cathode.loading {_text(loading, 'mg/cm^2')}, cathode.thickness "
                f"{_text(d, 'um')} and {rho} {_text(density, 'g/cm^3')}: they imply a porosity of {implied:.2f} "
                f"± {sd:.2f}")))
    if capacity is not None and specific is not None:
        messages.extend(_capacity(d, porosity, loading, fraction, capacity, density, specific, rho, q))
    for field, message in messages:
        warn(message, file=card.origin, field=field)
    return [m for _, m in messages]


def _capacity(d, porosity, loading, fraction, capacity, density, specific, rho: str, q: str) -> list[tuple[str, str]]:
    """The capacity relation C = m f q, with m from the loading or from (1 - P) rho d."""
    if loading is not None:
        m, m_rel, held = loading.value, _rel(loading), f"cathode.loading {_text(loading, 'mg/cm^2')}"
    elif porosity is not None:
        m = (1.0 - porosity.value) * density.value * d.value * _MG_PER_UM
        m_rel = math.sqrt((porosity.sd / (1.0 - porosity.value)) ** 2 + _rel(density) ** 2 + _rel(d) ** 2)
        held = (f"cathode.thickness {_text(d, 'um')} at cathode.porosity {_text(porosity, '')} and {rho} "
                f"{_text(density, 'g/cm^3')} holds {m:.3g} mg/cm^2 of solids")
    else:
        return []
    if fraction is not None:
        implied = m * fraction.value * specific.value * 1e-3
        sd = implied * math.sqrt(m_rel ** 2 + _rel(fraction) ** 2 + _rel(specific) ** 2)
        if _beyond(capacity.value, implied, math.hypot(sd, capacity.sd)):
            return [("cathode.theoretical_capacity", (
                f"{_text(capacity, 'mAh/cm^2')} does not fit {held}, cathode.active_fraction "
                f"{_text(fraction, '')} and {q} {_text(specific, 'mAh/g')}: they imply {implied:.3g} ± {sd:.2g} "
                "mAh/cm^2"))]
        return []
    most = m * specific.value * 1e-3  # every gram of the solids active: the most they can hold
    need = capacity.value / most  # the active fraction the card implies
    sd = need * math.sqrt(m_rel ** 2 + _rel(capacity) ** 2 + _rel(specific) ** 2)
    if need - 1.0 <= max(SIGMAS * sd, RELATIVE_TOLERANCE):
        return []
    field = "cathode.loading" if loading is not None else "cathode.thickness"
    least = (d.value * need if loading is None else m * need)
    unit = "um" if loading is None else "mg/cm^2"
    return [(field, (
        f"{held}, at most {most:.3g} mAh/cm^2 at {q} {_text(specific, 'mAh/g')} even if all of it were active, "
        f"but cathode.theoretical_capacity is {_text(capacity, 'mAh/cm^2')} (an active fraction of {need:.2f}); "
        f"the others imply {field} >= {least:.3g} {unit}"))]
