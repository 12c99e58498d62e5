"""A user file of candidate experiments (``nassb next-experiment --experiments FILE``): its
``[[experiment]]`` tables checked, each naming the file and the field of a mistake, and made into
the experiments of :mod:`.experiments`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..priors import CardError, parse_quantity
from ..priors import fields as F
from ..priors.quantity import FieldSpec
from ..priors.tomlfile import read_toml
from .experiments import BiaxialStrength, BuildAndCycle, CriticalCurrent, Profilometry

_COUNT_WORDS = "a whole number >= 1"
_PRESSURE = FieldSpec("MPa", 0.0, math.inf, low_open=True, words="a pressure")
_CURRENT = FieldSpec("mA/cm^2", 0.0, math.inf, low_open=True, words="a current density")
_STEP = FieldSpec("mA/cm^2", 0.0, math.inf, low_open=True, words="a current step")
_HOURS = FieldSpec("h", 0.0, math.inf, low_open=True, words="a duration")
_SCATTER = FieldSpec("", 0.0, math.inf, low_open=True, words="a positive number (sd of ln span)")

# kind -> setting -> ("count" | "flag" | "text" | "thicknesses" | "design" | FieldSpec)
KINDS: dict[str, dict[str, Any]] = {
    "biaxial_strength": {"tapes": "count", "thickness": F.THICKNESS, "area": F.AREA},
    "critical_current": {"cells": "count", "pressure": _PRESSURE, "reservoir": F.THICKNESS_OR_ZERO,
                         "thickness": F.THICKNESS, "start": _CURRENT, "step": _STEP, "steps": "count",
                         "cycles_per_step": "count", "hours": _HOURS},
    "profilometry": {"tapes": "count", "thicknesses": "thicknesses", "selected": "flag", "scatter": _SCATTER},
    "build_and_cycle": {"design": "design", "cells": "count", "cycles": "count"},
}
"""The kinds of a user file and the settings each takes (quantities with units; defaults as the
classes' own)."""
_CLASSES = {"biaxial_strength": BiaxialStrength, "critical_current": CriticalCurrent, "profilometry": Profilometry}


@dataclass(frozen=True)
class ExperimentSpec:
    """One entry of a user file, checked: its kind, its settings in canonical units, its cost
    (None: the experiment's own estimate) and, for ``build_and_cycle``, the design it names."""

    kind: str
    settings: dict
    name: str = ""
    cells: int | None = None
    days: float | None = None
    where: str = ""
    file: str = ""


def _count(value, file: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CardError(f"must be {_COUNT_WORDS}, got {value!r}", file=file, field=where)
    return value


def parse_experiments(raw: dict, file: str) -> list[ExperimentSpec]:
    """The ``[[experiment]]`` tables of a parsed user file, checked (CardError naming file and field)."""
    unknown = sorted(set(raw) - {"experiment"})
    if unknown:
        raise CardError(f"unknown table {unknown[0]!r}; the file lists [[experiment]] tables", file=file,
                        field=unknown[0])
    entries = raw.get("experiment")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise CardError("no [[experiment]] tables", file=file, field="experiment")
    out = []
    for i, entry in enumerate(entries):
        where = f"experiment[{i + 1}]"
        entry = dict(entry)
        kind = entry.pop("kind", None)
        if kind not in KINDS:
            raise CardError(f"must be one of {', '.join(KINDS)}, got {kind!r}", file=file, field=f"{where}.kind")
        name = entry.pop("name", "")
        if not isinstance(name, str):
            raise CardError(f"must be a text, got {name!r}", file=file, field=f"{where}.name")
        cells, days = None, None
        cost = entry.pop("cost", None)
        if cost is not None:
            if not isinstance(cost, dict) or set(cost) - {"cells", "days"}:
                raise CardError("must be a table { cells = N, days = D }", file=file, field=f"{where}.cost")
            if "cells" in cost:
                cells = _count(cost["cells"], file, f"{where}.cost.cells")
            if "days" in cost:
                d = cost["days"]
                if isinstance(d, bool) or not isinstance(d, (int, float)) or not (math.isfinite(d) and d > 0):
                    raise CardError(f"must be a number of days > 0, got {d!r}", file=file, field=f"{where}.cost.days")
                days = float(d)
        settings: dict[str, Any] = {}
        for key, value in entry.items():
            spec = KINDS[kind].get(key)
            at = f"{where}.{key}"
            if spec is None:
                raise CardError(f"unknown setting of a {kind} experiment; known: {', '.join(KINDS[kind])}",
                                file=file, field=at)
            if spec == "count":
                settings[key] = _count(value, file, at)
            elif spec == "flag":
                if not isinstance(value, bool):
                    raise CardError(f"must be true or false, got {value!r}", file=file, field=at)
                settings[key] = value
            elif spec == "design":
                if (isinstance(value, bool) or not isinstance(value, (int, str))
                        or (isinstance(value, int) and value < 1)):
                    raise CardError("must name a candidate design: its number in the ranking's table (1 is the first) "
                                    f"or its name, got {value!r}", file=file, field=at)
                settings[key] = value
            elif spec == "thicknesses":
                values = value if isinstance(value, list) else [value]
                if not values:
                    raise CardError("must list at least one thickness", file=file, field=at)
                settings[key] = tuple(_quantity(v, F.THICKNESS, file, f"{at}[{j + 1}]") for j, v in enumerate(values))
            else:
                settings[key] = _quantity(value, spec, file, at)
        if kind == "build_and_cycle" and "design" not in settings:
            raise CardError("missing: the candidate design to build (its number or name)", file=file,
                            field=f"{where}.design")
        out.append(ExperimentSpec(kind, settings, name, cells, days, where, file))
    return out


def _quantity(value, spec: FieldSpec, file: str, where: str) -> float:
    try:
        q = parse_quantity(value, spec)
    except CardError as err:
        raise err.located(file=file, field=where) from None
    if q.uncertain:
        raise CardError("a setting of an experiment is one value, not a distribution", file=file, field=where)
    return float(q.value)


def load_experiments(path: str | Path) -> list[ExperimentSpec]:
    """Read a user file of candidate experiments (TOML).

    Format, one table per experiment (quantities with their units; every setting optional but
    ``kind`` and, to build a design, ``design``)::

        [[experiment]]
        kind = "biaxial_strength"        # tapes, thickness, area
        tapes = 20
        thickness = "80 um"
        cost = { cells = 20, days = 3 }  # optional: the experiment's own estimate otherwise

        [[experiment]]
        kind = "critical_current"        # cells, pressure, reservoir, thickness, start, step,
        cells = 6                        # steps, cycles_per_step, hours
        pressure = "3 MPa"
        reservoir = "10 um"

        [[experiment]]
        kind = "profilometry"            # tapes, thicknesses, selected, scatter
        thicknesses = ["50 um", "80 um", "110 um"]

        [[experiment]]
        kind = "build_and_cycle"         # design (number in the ranking's table, or name), cells, cycles
        design = 2
        cells = 4
        cycles = 50

    ``name`` gives an experiment its own label.

    Raises
    ------
    CardError
        (one line) naming the file and the field, e.g. ``experiment[2].pressure``.
    """
    label = str(path)
    raw, _ = read_toml(path, what="experiments file")
    return parse_experiments(raw, label)


def build_experiment(spec: ExperimentSpec, designs: list[dict], *, default_cycles: int = 100):
    """The experiment of a checked file entry; ``designs`` are the scored candidate designs
    (``{"name", "design", "scorer"}``), which ``build_and_cycle`` names by number or name."""
    s = dict(spec.settings)
    if spec.kind == "build_and_cycle":
        target = s.pop("design")
        if isinstance(target, int):
            if target > len(designs):
                raise CardError(f"there are {len(designs)} candidate designs, got {target}", file=spec.file,
                                field=f"{spec.where}.design")
            chosen = designs[target - 1]
        else:
            found = [d for d in designs if d["name"] == target]
            if not found:
                raise CardError(f"no candidate design named {target!r}; they are "
                                f"{', '.join(d['name'] for d in designs)}", file=spec.file,
                                field=f"{spec.where}.design")
            chosen = found[0]
        if spec.cells is not None:
            raise CardError("the cells of a build-and-cycle experiment are its 'cells' setting, not a cost",
                            file=spec.file, field=f"{spec.where}.cost.cells")
        cells, cycles = s.get("cells", 4), s.get("cycles", default_cycles)
        label = spec.name or f"build {cells} x {chosen['name']}, cycle {cycles}"
        return BuildAndCycle.of(chosen["scorer"], chosen["design"], cells=cells, cycles=cycles, label=label,
                                cost_days=spec.days)
    extra: dict[str, Any] = {"label": spec.name, "cost_days": spec.days}
    if spec.cells is not None:
        if spec.kind == "critical_current":
            raise CardError("the cells of a critical-current experiment are its 'cells' setting, not a cost",
                            file=spec.file, field=f"{spec.where}.cost.cells")
        extra["cost_cells"] = spec.cells
    return _CLASSES[spec.kind](**s, **extra)
