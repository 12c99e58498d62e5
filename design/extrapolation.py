"""The calibrated range: where the cells that calibrate the risk models lie, and which design
variables of a proposal leave it.

A risk model is a physical form whose parameters a handful of cells pin down; beyond the
thicknesses, pressures, capacities, reservoirs and currents of those cells its predictions rest
on the form alone.  A proposal outside the range is marked "extrapolated" with the variables
that leave it; ``within_data`` keeps the search inside.

The range comes from ``RiskModel.observed_range()`` where the risk model offers it (every
calibrating cell of its own calibration), else from the observations shipped with nassb
(:func:`shipped_range`, the calibration's own reading of the paper's cells).
"""

from __future__ import annotations

import math

from ..priors import OptionError
from .space import DesignSpace, Variable

CURRENT = "current"
# The quantities a range covers: the design variables the observations constrain, and the
# cycling current (mA/cm^2), a condition of the design rather than a variable of it.
RANGE_KEYS = ("separator.thickness", "cell.pressure", "cathode.theoretical_capacity", "cathode.porosity",
              "cathode.thickness", "anode.reservoir_thickness", CURRENT)
TOLERANCE = 1e-9  # relative: a value on the edge of the range is inside it


def calibrated_range(risk) -> dict[str, tuple[float, float]]:
    """Card path (and ``"current"``) -> (low, high) over the cells that calibrate ``risk``.

    Units: um, MPa, mAh/cm^2, 1, um, um, mA/cm^2.
    """
    observed = getattr(risk, "observed_range", None)
    raw = observed() if callable(observed) else shipped_range()
    if raw and any(k not in raw for k in RANGE_KEYS):
        # A calibration recorded before every variable had a range: the others from the
        # observations it was calibrated on, the shipped ones (the paper's cells).
        raw = {**shipped_range(), **raw}
    return {k: (float(lo), float(hi)) for k, (lo, hi) in raw.items()}


def shipped_range(path=None) -> dict[str, tuple[float, float]]:
    """The range of the observed cells shipped with nassb (priors/data/risk-observations.toml),
    or of an observations file: the risk calibration's own reading of them."""
    from ..inference.risk.calibrate import observed_range
    from ..priors.risk import load_risk_observations

    return {k: (float(lo), float(hi)) for k, (lo, hi) in observed_range(load_risk_observations(path)).items()}


def outside(values: dict[str, float], ranges: dict[str, tuple[float, float]]) -> list[str]:
    """The names among ``values`` (design variables and ``"current"``) outside their range,
    in the order of :data:`RANGE_KEYS`."""
    out = []
    for name in RANGE_KEYS:
        if name not in values or name not in ranges:
            continue
        lo, hi = ranges[name]
        v = values[name]
        if v < lo - TOLERANCE * abs(lo) or v > hi + TOLERANCE * abs(hi):
            out.append(name)
    return out


def how_far(values: dict[str, float], ranges: dict[str, tuple[float, float]]) -> dict[str, float]:
    """For each name of ``values`` outside its range, how far out: the ratio of the value to the
    nearer end (above 1 beyond the top, below 1 under the bottom; 0.32 is a third of the lowest
    calibrated value)."""
    out = {}
    for name in outside(values, ranges):
        lo, hi = ranges[name]
        v = values[name]
        end = hi if v > hi else lo
        out[name] = float(v / end) if end else math.inf
    return out


def current_excess(current: float, ranges: dict[str, tuple[float, float]]) -> float:
    """How far a current density lies outside the calibrated currents, relative to the nearer
    end (<= 0 inside): a constraint that keeps a within-data search at calibrated currents."""
    if CURRENT not in ranges:
        return -1.0
    lo, hi = ranges[CURRENT]
    if current < lo:
        return (lo - current) / lo
    if current > hi:
        return (current - hi) / hi
    return -min(current - lo, hi - current) / max(hi, 1e-300)


def within(space: DesignSpace, ranges: dict[str, tuple[float, float]], *, capacity_per_current: float | None = None,
           current: float | None = None, volumetric_capacity: float | None = None) -> DesignSpace:
    """The design space cut to the calibrated range.

    Parameters
    ----------
    space : DesignSpace
    ranges : dict
        From :func:`calibrated_range`.
    capacity_per_current : float, optional
        mAh/cm^2 of theoretical capacity per mA/cm^2 of cycling current (1 / (C-rate x
        utilisation)): a C-rate search also keeps the capacity where its current is calibrated.
    current : float, optional
        A fixed cycling current (mA/cm^2); refused when outside the calibrated currents.
    volumetric_capacity : float, optional
        mAh/cm^3 of cathode solid: the cathode thickness follows from the capacity and the
        porosity, so the capacity is also kept where every porosity of the range gives a
        calibrated cathode thickness (a box inside the thickness range, conservative).

    Raises
    ------
    OptionError
        Where the range and the design space do not overlap, naming the variable.
    """
    bounds = dict(ranges)
    if current is not None and CURRENT in ranges and outside({CURRENT: current}, ranges):
        lo, hi = ranges[CURRENT]
        raise OptionError(f"the current {current:.3g} mA/cm^2 lies outside the calibrated currents "
                          f"{lo:.3g}-{hi:.3g} mA/cm^2", field="within_data")
    if capacity_per_current is not None and CURRENT in ranges:
        lo, hi = ranges[CURRENT]
        cap = ranges.get("cathode.theoretical_capacity", (0.0, math.inf))
        span = (lo * capacity_per_current, hi * capacity_per_current)
        if span[0] > cap[1] or span[1] < cap[0]:
            raise OptionError(
                f"no calibrated capacity is cycled at a calibrated current: the calibrating cells ran at "
                f"{lo:.3g}-{hi:.3g} mA/cm^2, which at this C-rate means {span[0]:.3g}-{span[1]:.3g} mAh/cm^2, "
                f"and hold {cap[0]:.3g}-{cap[1]:.3g} mAh/cm^2", field="within_data")
        bounds["cathode.theoretical_capacity"] = (max(span[0], cap[0]), min(span[1], cap[1]))
    if volumetric_capacity is not None and "cathode.thickness" in ranges:
        porosity = next((v for v in space if v.name == "cathode.porosity"), None)
        if porosity is not None:
            p_lo, p_hi = porosity.low, porosity.high
            if "cathode.porosity" in bounds:
                p_lo, p_hi = max(p_lo, bounds["cathode.porosity"][0]), min(p_hi, bounds["cathode.porosity"][1])
            t_lo, t_hi = ranges["cathode.thickness"]
            # thickness = C / (1e-4 vc (1 - p)): C in [t_lo vc' (1 - p_lo), t_hi vc' (1 - p_hi)] keeps it inside
            per_um = 1e-4 * volumetric_capacity
            cap = bounds.get("cathode.theoretical_capacity", (0.0, math.inf))
            bounds["cathode.theoretical_capacity"] = (max(cap[0], t_lo * per_um * (1 - p_lo)),
                                                      min(cap[1], t_hi * per_um * (1 - p_hi)))
    out = []
    for v in space:
        if v.name not in bounds:
            out.append(v)
            continue
        lo, hi = max(v.low, bounds[v.name][0]), min(v.high, bounds[v.name][1])
        if lo > hi:
            raise OptionError(f"the design range of {v.name} ({v.low:g}-{v.high:g} {v.unit}) misses the calibrated "
                              f"range {bounds[v.name][0]:g}-{bounds[v.name][1]:g} {v.unit}", field="within_data")
        out.append(Variable(v.name, v.unit, lo, hi, v.log and lo > 0))
    return DesignSpace(tuple(out))
