"""The risk models' priors (priors/data/risk.toml) and the observations that calibrate them
(priors/data/risk-observations.toml), read and checked like any card."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import fields as F
from .errors import CardError
from .quantity import FieldSpec, Measured, parse_quantity

_POSITIVE = FieldSpec("", 0.0, math.inf, low_open=True, words="a positive number")
_REAL = FieldSpec("", words="a number")
PARAMETERS: dict[str, dict[str, FieldSpec]] = {
    "fracture": {
        "strength": FieldSpec("MPa", 0.0, math.inf, low_open=True, words="a strength"),
        "weibull_modulus": _POSITIVE,
        "span_reference": F.THICKNESS,
        "span_exponent": _REAL,
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
        "bruggeman": _POSITIVE,
        "charge_transfer": FieldSpec("ohm*cm^2", 0.0, math.inf, low_open=True, words="an area resistance"),
        "contact_reference": FieldSpec("ohm*cm^2", 0.0, math.inf, low_open=True, words="an area resistance"),
        "contact_exponent": FieldSpec("", 0.0, math.inf, words="a non-negative number"),
    },
    "inventory": {
        "loss": FieldSpec("", 0.0, 1.0, low_open=True, high_open=True, words="a fraction"),
    },
}
CURRENT = FieldSpec("mA/cm^2", 0.0, math.inf, low_open=True, words="a current density")


@dataclass(frozen=True)
class RiskPrior:
    """One parameter of a risk model: its prior, and the experiment that would measure it."""

    name: str          # "fracture.strength"
    prior: Measured
    experiment: str


@dataclass(frozen=True)
class FractureObservation:
    thickness: float   # um
    pressure: float    # MPa
    area: float        # cm^2
    trials: int
    failures: int
    citation: str
    assumption: str


@dataclass(frozen=True)
class ShortObservation:
    cells: int
    current: float     # mA/cm^2
    thickness: float
    pressure: float
    reservoir: float
    capacity: float    # mAh/cm^2 per cycle
    shorted_by: int | None   # shorted at some cycle <= this (interval censored)
    shorted_in: int | None   # shorted in exactly this cycle
    citation: str
    assumption: str


@dataclass(frozen=True)
class ResistanceObservation:
    card: str
    pressure: float
    value: float       # ohm cm^2
    scatter: float     # standard deviation of ln R from cell to cell
    citation: str
    assumption: str


@dataclass(frozen=True)
class EfficiencyObservation:
    minimum: float
    precision: float
    cycles: int
    citation: str
    assumption: str


@dataclass(frozen=True)
class RiskObservations:
    fracture: tuple[FractureObservation, ...]
    short: tuple[ShortObservation, ...]
    resistance: tuple[ResistanceObservation, ...]
    efficiency: tuple[EfficiencyObservation, ...]


def _load(name: str, path: str | Path | None) -> tuple[dict, str]:
    if path is None:
        text = (resources.files("nassb.priors") / "data" / name).read_text("utf-8")
        label = name
    else:
        label = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as err:
            raise CardError(f"cannot read: {err.strerror or err}", file=label) from None
    try:
        return tomllib.loads(text), label
    except tomllib.TOMLDecodeError as err:
        raise CardError(f"not valid TOML: {err}", file=label) from None


def load_risk_priors(path: str | Path | None = None) -> dict[str, RiskPrior]:
    """Every risk parameter's prior by its name (``"fracture.strength"``)."""
    raw, label = _load("risk.toml", path)
    out = {}
    for model, specs in PARAMETERS.items():
        for key, spec in specs.items():
            where = f"{model}.{key}"
            table = raw.get(model, {}).get(key)
            if not isinstance(table, dict):
                raise CardError("missing parameter table", file=label, field=where)
            table = dict(table)
            experiment = table.pop("experiment", "")
            try:
                prior = parse_quantity(table, spec)
            except CardError as err:
                raise err.located(file=label, field=where) from None
            if not prior.uncertain:
                raise CardError("a risk parameter needs a distribution, not a fixed value", file=label, field=where)
            out[where] = RiskPrior(where, prior, experiment)
    return out


def load_risk_observations(path: str | Path | None = None) -> RiskObservations:
    """The observations that calibrate the risk models."""
    raw, label = _load("risk-observations.toml", path)

    def quantity(table, key, spec, where):
        if key not in table:
            raise CardError("missing required field", file=label, field=f"{where}.{key}")
        try:
            return parse_quantity(table[key], spec).value
        except CardError as err:
            raise err.located(file=label, field=f"{where}.{key}") from None

    def count(table, key, where, required=True):
        value = table.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CardError(f"expected a whole number >= 0, got {value!r}", file=label, field=f"{where}.{key}")
        return value

    def text(table, key):
        return str(table.get(key, ""))

    fracture = []
    for i, t in enumerate(raw.get("fracture", [])):
        w = f"fracture[{i}]"
        obs = FractureObservation(quantity(t, "thickness", F.THICKNESS, w), quantity(t, "pressure", F.PRESSURE, w),
                                  quantity(t, "area", F.AREA, w), count(t, "trials", w), count(t, "failures", w),
                                  text(t, "citation"), text(t, "assumption"))
        if obs.failures > obs.trials:
            raise CardError("more failures than trials", file=label, field=f"{w}.failures")
        fracture.append(obs)
    short = []
    for i, t in enumerate(raw.get("short", [])):
        w = f"short[{i}]"
        obs = ShortObservation(count(t, "cells", w), quantity(t, "current", CURRENT, w),
                               quantity(t, "thickness", F.THICKNESS, w), quantity(t, "pressure", F.PRESSURE, w),
                               quantity(t, "reservoir", F.THICKNESS_OR_ZERO, w),
                               quantity(t, "capacity", F.AREAL_CAPACITY, w),
                               count(t, "shorted_by", w, required=False), count(t, "shorted_in", w, required=False),
                               text(t, "citation"), text(t, "assumption"))
        if (obs.shorted_by is None) == (obs.shorted_in is None):
            raise CardError("give exactly one of shorted_by and shorted_in", file=label, field=w)
        short.append(obs)
    resistance = [ResistanceObservation(str(t.get("card", "")), quantity(t, "pressure", F.PRESSURE, f"resistance[{i}]"),
                                        quantity(t, "value", F.AREA_RESISTANCE, f"resistance[{i}]"),
                                        quantity(t, "log_scatter", _POSITIVE, f"resistance[{i}]"),
                                        text(t, "citation"), text(t, "assumption"))
                  for i, t in enumerate(raw.get("resistance", []))]
    efficiency = [EfficiencyObservation(float(t["minimum"]), float(t["precision"]), count(t, "cycles", f"efficiency[{i}]"),
                                        text(t, "citation"), text(t, "assumption"))
                  for i, t in enumerate(raw.get("efficiency", []))]
    return RiskObservations(tuple(fracture), tuple(short), tuple(resistance), tuple(efficiency))
