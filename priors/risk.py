"""The risk models' priors (priors/data/risk.toml) and the observed cells that calibrate them
(priors/data/risk-observations.toml, in the grammar of :mod:`nassb.priors.lab`), read and
checked like any card.

``risk.toml`` holds three kinds of table:

* ``[MODEL.PARAMETER]`` (:data:`PARAMETERS`): a parameter of one of the four risk models, its
  prior, its source and the experiment that would measure it;
* ``[lab.PARAMETER]`` (:data:`LAB_PARAMETERS`): the offset of a lab's own cells from the seed
  paper's lab, on the log scale of a parameter where labs plausibly differ (a hierarchical term
  whose between-lab spread is the prior's sd);
* ``[nuisance.NAME]`` (:data:`NUISANCES`): what the observations need but the risk models do not
  carry (the current collector's impedance at 0.1 Hz, cell-to-cell scatter of what was measured).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import fields as F
from .errors import CardError
from .quantity import FieldSpec, Measured, parse_quantity
from .tomlfile import read_toml

_POSITIVE = FieldSpec("", 0.0, math.inf, low_open=True, words="a positive number")
_REAL = FieldSpec("", words="a number")
_FRACTION = FieldSpec("", 0.0, 1.0, low_open=True, high_open=True, words="a fraction")
_AREA_RESISTANCE = FieldSpec("ohm*cm^2", 0.0, math.inf, low_open=True, words="an area resistance")
PARAMETERS: dict[str, dict[str, FieldSpec]] = {
    "fracture": {
        "strength": FieldSpec("MPa", 0.0, math.inf, low_open=True, words="a strength"),
        "weibull_modulus": _POSITIVE,
        "span_reference": F.THICKNESS,
        "span_exponent": _REAL,
        "selection_factor": FieldSpec("", 0.0, 1.0, low_open=True, words="a fraction"),
    },
    "short": {
        "ccd_reference": FieldSpec("mA/cm^2", 0.0, math.inf, low_open=True, words="a current density"),
        "ccd_modulus": _POSITIVE,
        "cycle_exponent": _POSITIVE,
        "pressure_exponent": _REAL,
        "reservoir_exponent": _REAL,
        "thickness_exponent": _REAL,
        "capacity_exponent": _REAL,
    },
    "rate": {
        "liquid_conductivity": F.CONDUCTIVITY,
        "macmullin": FieldSpec("", 1.0, math.inf, words="a MacMullin number (>= 1)"),
        "bruggeman": _POSITIVE,
        "electronic_conductivity": F.CONDUCTIVITY,
        "charge_transfer": _AREA_RESISTANCE,
        "contact_reference": _AREA_RESISTANCE,
        "contact_exponent": FieldSpec("", 0.0, math.inf, words="a non-negative number"),
        "formation_reference": _POSITIVE,
        "formation_exponent": FieldSpec("", 0.0, math.inf, words="a non-negative number"),
    },
    "inventory": {
        "first_loss": _FRACTION,
        "loss": _FRACTION,
        "fade": _FRACTION,
    },
}
"""Every risk parameter by model: its canonical unit and bounds (card grammar)."""

LAB_PARAMETERS: dict[str, FieldSpec] = {
    "strength": _REAL,   # ln of the lab's strength scale over the paper's (fracture.strength)
    "ccd": _REAL,        # ln of the lab's critical current scale over the paper's (short.ccd_reference)
    "contact": _REAL,    # ln of the lab's contact resistance over the paper's (rate.contact_reference)
    # The lab's own sensitivities: how its cells' short circuit moves with the current, the
    # cycles, the pressure, the reservoir and the separator may differ from the paper's lab's.
    "ccd_modulus": _REAL,         # ln of a factor on short.ccd_modulus
    "cycle_exponent": _REAL,      # ln of a factor on short.cycle_exponent
    "pressure_exponent": _REAL,   # added to short.pressure_exponent
    "reservoir_exponent": _REAL,  # added to short.reservoir_exponent
    "thickness_exponent": _REAL,  # added to short.thickness_exponent
}
"""Lab-level offsets and the parameter each moves (:data:`LAB_SCALES`, :data:`LAB_SHIFTS`)."""
LAB_SCALES = {"lab.strength": "fracture.strength", "lab.ccd": "short.ccd_reference",
              "lab.contact": "rate.contact_reference", "lab.ccd_modulus": "short.ccd_modulus",
              "lab.cycle_exponent": "short.cycle_exponent"}
"""Offsets that multiply their parameter by exp(offset)."""
LAB_SHIFTS = {"lab.pressure_exponent": "short.pressure_exponent", "lab.reservoir_exponent": "short.reservoir_exponent",
              "lab.thickness_exponent": "short.thickness_exponent"}
"""Offsets added to their parameter (an exponent: a different slope in log-log)."""
_SCALE_OF = {target: offset for offset, target in LAB_SCALES.items()}
_SHIFT_OF = {target: offset for offset, target in LAB_SHIFTS.items()}


def lab_value(theta, name: str, lab=1.0, xp=np):
    """Parameter ``name`` as a lab's cells have it: the paper's value moved by the lab's offset
    (scaled or shifted) where ``theta`` carries one, times ``lab`` (1 for a lab's cell, 0 for the
    paper's; an array of either broadcasts).  ``theta``: numpy draws or PyTensor variables."""
    value = theta[name]
    scale, shift = _SCALE_OF.get(name), _SHIFT_OF.get(name)
    if scale is not None and scale in theta:
        value = value * xp.exp(theta[scale] * lab)
    if shift is not None and shift in theta:
        value = value + theta[shift] * lab
    return value


NUISANCES: dict[str, FieldSpec] = {
    "collector_impedance": _AREA_RESISTANCE,
    "collector_exponent": _FRACTION,
    "resistance_scatter": _POSITIVE,
    "resistance_scatter_before_formation": _POSITIVE,
    "first_loss_scatter": _POSITIVE,
    "loss_scatter": _POSITIVE,
    "fade_scatter": _POSITIVE,
    "efficiency_precision": _POSITIVE,
}
"""What the observations need besides the risk parameters (see priors/README.md)."""

CURRENT = FieldSpec("mA/cm^2", 0.0, math.inf, low_open=True, words="a current density")


@dataclass(frozen=True)
class RiskPrior:
    """One parameter of a risk model: its prior, and the experiment that would measure it."""

    name: str          # "fracture.strength"
    prior: Measured
    experiment: str


def _read(name: str, path: str | Path | None) -> tuple[dict, str]:
    if path is None:
        text = (resources.files("nassb.priors") / "data" / name).read_text("utf-8")
        label = name
    else:
        return read_toml(path, what="risk priors file")[0], str(path)
    try:
        return tomllib.loads(text), label
    except tomllib.TOMLDecodeError as err:
        raise CardError(f"not valid TOML: {err}", file=label) from None


def _table(raw: dict, where: str, spec: FieldSpec, label: str, *, uncertain: bool) -> RiskPrior:
    section, _, key = where.partition(".")
    table = raw.get(section, {}).get(key)
    if not isinstance(table, dict):
        raise CardError("missing parameter table", file=label, field=where)
    table = dict(table)
    experiment = table.pop("experiment", "")
    try:
        prior = parse_quantity(table, spec)
    except CardError as err:
        raise err.located(file=label, field=where) from None
    if uncertain and not prior.uncertain:
        raise CardError("a risk parameter needs a distribution, not a fixed value", file=label, field=where)
    return RiskPrior(where, prior, experiment)


def load_risk_priors(path: str | Path | None = None) -> dict[str, RiskPrior]:
    """Every risk parameter's prior by its name (``"fracture.strength"``)."""
    raw, label = _read("risk.toml", path)
    return {f"{m}.{k}": _table(raw, f"{m}.{k}", spec, label, uncertain=True)
            for m, specs in PARAMETERS.items() for k, spec in specs.items()}


def load_lab_priors(path: str | Path | None = None) -> dict[str, RiskPrior]:
    """The priors of the lab-level offsets (``"lab.strength"``, ...): ln of a factor."""
    raw, label = _read("risk.toml", path)
    return {f"lab.{k}": _table(raw, f"lab.{k}", spec, label, uncertain=True) for k, spec in LAB_PARAMETERS.items()}


def load_nuisances(path: str | Path | None = None) -> dict[str, Measured]:
    """The nuisance quantities of the observations (``"collector_impedance"``, ...)."""
    raw, label = _read("risk.toml", path)
    return {k: _table(raw, f"nuisance.{k}", spec, label, uncertain=False).prior for k, spec in NUISANCES.items()}


def load_risk_observations(path: str | Path | None = None):
    """The seed paper's observed cells (priors/data/risk-observations.toml), or those of ``path``.

    Returns a :class:`nassb.priors.lab.ObservedCells`.
    """
    from .lab import load_observed_cells

    return load_observed_cells(path, paper=path is None)
