"""What an observed cell did (the ``[cells.outcome]`` table of an observed-cells file,
:mod:`.lab`): cracked or not, how long it cycled at which current and whether it shorted, its
resistances, its capacities (given, or read from a capacities file)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import fields as F
from .errors import CardError, DataError
from .observations import _fit_entry, _fit_quantity
from .quantity import FieldSpec, Measured, parse_quantity
from .tables import read_table

CURRENT = FieldSpec("mA/cm^2", 0.0, math.inf, low_open=True, words="a current density")
MEASURES = ("R_cell", "|Z| at 0.1 Hz")
_OUTCOME_KEYS = ("cracked", "selected_shard", "current", "cycles", "short_cycle", "formation_cycles",
                 "formation_current", "resistance", "resistance_before", "resistance_measure", "capacities",
                 "first_charge", "first_discharge", "efficiency", "discharge")
CSV_CAPACITY_UNCERTAINTY = 0.001
"""Relative standard uncertainty of one charge or discharge of a capacities file (coulometry of
one instrument: its calibration error cancels in a discharge over a charge)."""
MIN_LOSS_SE = 1e-4
"""Floor of the standard error of a mean Coulombic loss from a capacities file."""


@dataclass(frozen=True)
class Resistance:
    """A measured cell resistance (ohm cm^2), after or before formation."""

    value: Measured
    stage: str        # "after" or "before" (formation)
    measure: str      # one of MEASURES
    where: str


@dataclass(frozen=True)
class Efficiency:
    """Every cycle of ``cycles`` (first, last) had a Coulombic efficiency above ``above``."""

    above: float
    cycles: tuple[int, int]
    where: str


@dataclass(frozen=True)
class MeanLoss:
    """The mean of 1 - CE over ``cycles`` (first, last), and its standard error (a capacities file)."""

    loss: float
    se: float
    cycles: tuple[int, int]
    where: str


@dataclass(frozen=True)
class Outcome:
    """What one observed cell did (see the module docstring for the keys)."""

    cracked: bool | None = None
    selected_shard: bool = False
    current: Measured | None = None
    cycles: int | None = None
    short: tuple[int, int] | None = None        # shorted in one of the cycles first..last
    formation_cycles: int = 0
    formation_current: Measured | None = None
    resistance: tuple[Resistance, ...] = ()
    first_charge: Measured | None = None
    first_discharge: Measured | None = None
    efficiency: tuple[Efficiency, ...] = ()
    mean_loss: MeanLoss | None = None
    discharge: tuple[tuple[int, Measured], ...] = ()
    capacities_file: str = ""

    @property
    def cycled(self) -> bool:
        return self.cycles is not None

    @property
    def informs(self) -> bool:
        return (self.cracked is not None or self.cycled or bool(self.resistance) or self.first_charge is not None
                or bool(self.efficiency) or self.mean_loss is not None or bool(self.discharge))


class _Table:
    """An outcome table being read: each value checked, a mistake naming the file and the field."""

    def __init__(self, t: dict, where: str, label: str):
        self.t, self.where, self.label = t, where, label

    def fail(self, message: str, key: str) -> CardError:
        return CardError(message, file=self.label, field=f"{self.where}.{key}")

    def flag(self, key: str) -> bool | None:
        value = self.t.get(key)
        if value is not None and not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {value!r}", key)
        return value

    def whole(self, key: str, low: int) -> int | None:
        value = self.t.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(f"expected a whole number >= {low}, got {value!r}", key)
        return value

    def quantity(self, key: str, spec: FieldSpec, raw=None, field: str | None = None) -> Measured | None:
        value = self.t.get(key) if raw is None else raw
        if value is None:
            return None
        try:
            return parse_quantity(value, spec)
        except CardError as err:
            raise self.fail(err.message, field or key) from None


def parse_outcome(t: dict, where: str, label: str, folder: Path | None, digest) -> Outcome:
    """The outcome of one ``[cells.outcome]`` table (``where``) of the file ``label``; files it
    names are read relative to ``folder`` and hashed into ``digest``."""
    unknown = [k for k in t if k not in _OUTCOME_KEYS]
    if unknown:
        raise CardError(f"unknown key; expected one of {', '.join(_OUTCOME_KEYS)}", file=label,
                        field=f"{where}.{unknown[0]}")
    r = _Table(t, where, label)
    cracked = r.flag("cracked")
    selected = bool(r.flag("selected_shard"))
    current, cycles, short, formation_cycles, formation_current = _cycling(r)
    resistances = _resistances(r, folder, digest)
    first_charge, first_discharge, efficiency, discharge = _capacity_entries(r)
    mean_loss = None
    capacities_file = ""
    if "capacities" in t:
        if first_charge is not None or efficiency or discharge:
            raise r.fail("give a capacities file or first_charge/efficiency/discharge, not both", "capacities")
        capacities_file, first_charge, first_discharge, mean_loss, discharge = _capacities(
            t["capacities"], f"{where}.capacities", label, folder, formation_cycles, digest)
    last = max([c for c, _ in discharge] + [e.cycles[1] for e in efficiency] + [0])
    if cycles is not None and last > cycles:
        raise r.fail(f"capacities up to cycle {last}, but only {cycles} cycles were run", "cycles")

    if cracked is None and (cycles is not None or resistances):
        cracked = False
    if cracked and (cycles is not None or resistances or first_charge is not None or discharge or efficiency):
        raise r.fail("a cracked separator has no cycling outcomes (cycles, resistance, capacities)", "cracked")
    outcome = Outcome(cracked, selected, current, cycles, short, formation_cycles, formation_current,
                      tuple(resistances), first_charge, first_discharge, tuple(efficiency), mean_loss,
                      tuple(discharge), capacities_file)
    if not outcome.informs:
        raise CardError("no outcome: give cracked, cycles with current, a resistance or capacities", file=label,
                        field=where)
    return outcome


def _cycling(r: _Table):
    """The cycling current, the cycles run, the short (first, last cycle), the formation cycles
    and their current, each checked against the others."""
    t, fail = r.t, r.fail
    current = r.quantity("current", CURRENT)
    cycles = r.whole("cycles", 1)
    formation_cycles = r.whole("formation_cycles", 0) or 0
    formation_current = r.quantity("formation_current", CURRENT)

    short = None
    if "short_cycle" in t:
        value = t["short_cycle"]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            short = (value, value)
        elif (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                 for v in value) and 1 <= value[0] <= value[1]):
            short = (value[0], value[1])
        else:
            raise fail(f"expected the cycle it shorted in (>= 1) or [first, last], got {value!r}", "short_cycle")
        if cycles is None:
            cycles = short[1]
        elif short[1] > cycles:
            raise fail(f"shorted in cycle {short[1]} but only {cycles} cycles were run", "short_cycle")
        elif short[1] < cycles:
            raise fail(f"a cell that shorted in cycle {short[1]} cannot have run {cycles} cycles; "
                       "cycles counts the cycles run until the short", "cycles")
    if cycles is not None and current is None:
        raise fail("missing: the cycling current density, needed with cycles or short_cycle", "current")
    if current is not None and cycles is None:
        raise fail("missing: how many cycles were run at this current (or short_cycle)", "cycles")
    if formation_cycles:
        if formation_current is None:
            raise fail("missing: the current density of the formation cycles", "formation_current")
        if cycles is None or formation_cycles > cycles:
            raise fail(f"{formation_cycles} formation cycles need cycles >= {formation_cycles}", "formation_cycles")
    elif formation_current is not None:
        raise fail("formation_current without formation_cycles", "formation_current")
    return current, cycles, short, formation_cycles, formation_current


def _resistances(r: _Table, folder: Path | None, digest) -> list[Resistance]:
    """The resistances after and before formation, in the measure the table names."""
    t, where = r.t, r.where
    measure = t.get("resistance_measure", "R_cell")
    if measure not in MEASURES:
        raise r.fail(f"{measure!r} is not a supported measure; must be one of {', '.join(MEASURES)}",
                     "resistance_measure")
    resistances = []
    for key, stage in (("resistance", "after"), ("resistance_before", "before")):
        if key in t:
            resistances.append(Resistance(_resistance(t[key], f"{where}.{key}", r.label, folder, digest),
                                          stage, measure, f"{where}.{key}"))
    if "resistance_measure" in t and not resistances:
        raise r.fail("resistance_measure without a resistance", "resistance_measure")
    return resistances


def _capacity_entries(r: _Table):
    """The first charge and discharge, the efficiency bounds and the discharges given in the table."""
    t, fail, where = r.t, r.fail, r.where
    first_charge = r.quantity("first_charge", F.AREAL_CAPACITY)
    first_discharge = r.quantity("first_discharge", F.AREAL_CAPACITY)
    if (first_charge is None) != (first_discharge is None):
        raise fail("give first_charge and first_discharge together", "first_charge" if first_charge is None
                   else "first_discharge")
    efficiency = []
    raw_eff = t.get("efficiency", [])
    if not isinstance(raw_eff, list) or not all(isinstance(e, dict) for e in raw_eff):
        raise fail("expected a list of tables {above = 0.99, cycles = [first, last]}", "efficiency")
    for k, e in enumerate(raw_eff):
        w = f"efficiency[{k}]"
        if set(e) - {"above", "cycles"}:
            raise fail("expected the keys above and cycles", f"{w}.{sorted(set(e) - {'above', 'cycles'})[0]}")
        above = r.quantity("", FieldSpec("", 0.0, 1.0, low_open=True, high_open=True, words="a fraction"),
                           raw=e.get("above"), field=f"{w}.above") if "above" in e else None
        if above is None:
            raise fail("missing: the efficiency every cycle was above", f"{w}.above")
        span = _span(e.get("cycles"), f"{w}.cycles", fail)
        if span[0] < 2:
            raise fail("cycle 1 is the first-cycle loss: give first_charge and first_discharge", f"{w}.cycles")
        efficiency.append(Efficiency(above.value, span, f"{where}.{w}"))
    discharge = []
    raw_dis = t.get("discharge", [])
    if not isinstance(raw_dis, list) or not all(isinstance(e, dict) for e in raw_dis):
        raise fail("expected a list of tables {cycle = N, capacity = '1.07 mAh/cm^2'}", "discharge")
    for k, e in enumerate(raw_dis):
        w = f"discharge[{k}]"
        cycle = e.get("cycle")
        if isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < 1:
            raise fail(f"expected a cycle number >= 1, got {cycle!r}", f"{w}.cycle")
        capacity = r.quantity("", F.AREAL_CAPACITY, raw=e.get("capacity"), field=f"{w}.capacity")
        if capacity is None:
            raise fail("missing: the discharge capacity", f"{w}.capacity")
        discharge.append((cycle, capacity))
    if [c for c, _ in discharge] != sorted({c for c, _ in discharge}):
        raise fail("give each cycle once, in increasing order", "discharge")
    return first_charge, first_discharge, efficiency, discharge


def _span(value, field: str, fail) -> tuple[int, int]:
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                            for v in value) and 1 <= value[0] <= value[1]):
        return value[0], value[1]
    raise fail(f"expected [first, last] cycle numbers, got {value!r}", field)


def _resistance(raw, where: str, label: str, folder: Path | None, digest) -> Measured:
    spec = F.AREA_RESISTANCE
    if isinstance(raw, dict) and "fit" in raw:
        extra = set(raw) - {"fit", "derived", "spectrum"}
        if extra:
            raise CardError("a fit takes fit, derived and spectrum", file=label, field=f"{where}.{sorted(extra)[0]}")
        if not isinstance(raw.get("fit"), str):
            raise CardError("expected the path of a 'nassb fit eis' summary.json", file=label, field=f"{where}.fit")
        if not isinstance(raw.get("derived"), str):
            raise CardError("expected the name of the fit's derived quantity or parameter", file=label,
                            field=f"{where}.derived")
        path = Path(raw["fit"]) if folder is None or Path(raw["fit"]).is_absolute() else folder / raw["fit"]
        try:
            entry, _, fit_path = _fit_entry({**raw, "fit": str(path)}, where, None)
            value, per_area = _fit_quantity(entry, raw["derived"], spec, fit_path, where)
        except CardError as err:
            raise CardError(err.message, file=err.file or label, field=err.field or where) from None
        if not per_area:
            raise CardError(f"{raw['derived']} of {path} is in ohm: fit the spectrum with its electrode area "
                            "(nassb fit eis --area) for an area resistance", file=label, field=f"{where}.fit")
        digest.update(path.read_bytes())
        _warn_implausible(value, spec, label, where)
        return value
    try:
        value = parse_quantity(raw, spec)
    except CardError as err:
        raise CardError(err.message, file=label, field=where) from None
    if not value.value > 0:
        raise CardError("a cell resistance must be > 0", file=label, field=where)
    _warn_implausible(value, spec, label, where)
    return value


def _warn_implausible(value: Measured, spec, label: str, where: str) -> None:
    """A possible but suspicious observed value (1e9 ohm cm^2 for a cell) is a warning naming it."""
    from .errors import warn

    message = spec.plausibility(value.value, value.sd)
    if message is not None:
        warn(message, file=label, field=where)


def _capacities(file, where: str, label: str, folder: Path | None, formation_cycles: int, digest):
    if not isinstance(file, str) or not file.strip():
        raise CardError("expected the path of a CSV with cycle, charge and discharge columns", file=label, field=where)
    path = Path(file) if folder is None or Path(file).is_absolute() else folder / file
    table = read_table(path, label=str(path))
    digest.update(path.read_bytes())
    cycle = table.find("cycle").values
    charge = table.find("charge", spec=F.AREAL_CAPACITY).values
    discharge = table.find("discharge", spec=F.AREAL_CAPACITY).values
    if cycle.size == 0:
        raise DataError("no data rows", file=str(path))
    if np.any(cycle != np.round(cycle)) or np.any(cycle < 1) or np.any(np.diff(cycle) <= 0):
        raise DataError("cycle numbers must be whole numbers >= 1, increasing", file=str(path), field="cycle")
    cycle = cycle.astype(int)

    def measured(x: float) -> Measured:
        return Measured(float(x), CSV_CAPACITY_UNCERTAINTY * float(x), "mAh/cm^2", "normal", bounds=F.AREAL_CAPACITY,
                        source=str(path))

    first_charge = first_discharge = None
    if cycle[0] == 1:
        first_charge, first_discharge = measured(charge[0]), measured(discharge[0])
    later = cycle >= 2
    mean_loss = None
    if later.any():
        losses = 1.0 - discharge[later] / charge[later]
        se = float(np.std(losses, ddof=1) / math.sqrt(losses.size)) if losses.size > 1 else 0.0
        se = max(se, MIN_LOSS_SE)
        mean_loss = MeanLoss(float(np.mean(losses)), se, (int(cycle[later][0]), int(cycle[later][-1])), where)
    # The fade: the first discharge after formation and the last one.
    after = cycle > max(formation_cycles, 1)
    points: tuple[tuple[int, Measured], ...] = ()
    if after.sum() >= 2:
        first, last = np.flatnonzero(after)[[0, -1]]
        points = ((int(cycle[first]), measured(discharge[first])), (int(cycle[last]), measured(discharge[last])))
    return str(path), first_charge, first_discharge, mean_loss, points


