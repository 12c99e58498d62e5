"""Candidate experiments for the value of information (:mod:`nassb.design.voi`).

Each experiment simulates its outcome from one posterior draw of the risk parameters and gives
the log-likelihood of an outcome under every draw, vectorised over the draws, on the same risk
forms the calibration uses (:mod:`nassb.inference.risk.forms`).  Draws are the parameter dict of
a :class:`~nassb.inference.risk.predict.RiskModel` (``"fracture.strength"`` -> array); where the
draws carry a lab's offsets (``lab.strength``, ``lab.ccd``, ``lab.contact``) the experiment is
the lab's own and sees the scaled parameters, as the model predicts for that lab.

Each experiment has a cost in specimens (``cells``: tapes, symmetric cells or full cells it
uses) and in ``days`` (preparing, building, testing; cells tested in parallel); ``cost`` is one of
them (``cost_unit``), the unit the ranking per cost uses.

The experiments and what they inform:

* :class:`BiaxialStrength`: ring-on-ring strength of N sintered tapes (Weibull strengths);
  informs ``fracture.strength`` and ``fracture.weibull_modulus``.
* :class:`CriticalCurrent`: stepped-current critical current density of N symmetric Na | tape |
  Na cells at a pressure, sodium thickness and tape thickness; informs ``short.ccd_reference``
  and ``short.ccd_modulus``, and, at a condition away from the reference, the exponent of that
  condition; the steps of several cycles also ``short.cycle_exponent``.
* :class:`Profilometry`: the unsupported span of N tapes of given thicknesses read from their
  warping profiles; informs ``fracture.span_reference`` and ``fracture.span_exponent`` (and,
  on selected shards, ``fracture.selection_factor``).  The risk model has no tape-to-tape scatter
  of the span: the experiment assumes a lognormal scatter (``scatter``, on the log) around the
  model's span, an assumption the user can set.
* :class:`BuildAndCycle`: build N cells of one candidate design and cycle them: cracked at
  assembly, the cycle each shorts in (or survived), the resistance after formation (lognormal
  with the calibration's ``resistance_scatter``) and the capacity retention after the cycles of
  the cells that survive (lognormal with ``fade_scatter``); informs all four risk models at that
  design.

A user file of experiments (:func:`load_experiments`) lists more, one ``[[experiment]]`` table
each with its ``kind`` and settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..inference.risk import forms
from ..priors.risk import lab_value

COST_UNITS = ("days", "cells")


def parameter(draws: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A risk parameter's draws as the lab's cells have it (moved by the lab's offset where the
    draws carry one: :func:`nassb.priors.risk.lab_value`)."""
    return np.asarray(lab_value(draws, name), dtype=float)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(-x)) for x >= 0 (-inf at 0)."""
    with np.errstate(divide="ignore"):
        return np.where(x > math.log(2.0), np.log1p(-np.exp(-x)), np.log(-np.expm1(-x)))


@dataclass(frozen=True)
class _Base:
    """Cost bookkeeping shared by the experiments."""

    def _default_days(self) -> float:
        raise NotImplementedError

    @property
    def specimens(self) -> int:
        raise NotImplementedError

    @property
    def cells(self) -> int:
        """Specimens the experiment uses (tapes or cells)."""
        override = getattr(self, "cost_cells", None)
        return int(self.specimens if override is None else override)

    @property
    def days(self) -> float:
        """Days from preparation to the last reading (specimens tested in parallel)."""
        override = getattr(self, "cost_days", None)
        return float(self._default_days() if override is None else override)

    @property
    def cost(self) -> float:
        """The cost the ranking per cost divides by, in ``cost_unit``."""
        return float(self.days if getattr(self, "cost_unit", "days") == "days" else self.cells)

    def costed(self, unit: str) -> Any:
        """The same experiment with its cost counted in ``unit`` ("days" or "cells")."""
        return replace(self, cost_unit=unit)  # type: ignore[call-arg]  # every subclass has the field


@dataclass(frozen=True)
class BiaxialStrength(_Base):
    """Ring-on-ring strength of ``tapes`` sintered tapes of ``thickness`` (um).

    Each strength is Weibull: P(fails below sigma) = 1 - exp(-(A_eff / 1 cm^2) (sigma /
    sigma_0)^m), with the loaded ``area`` A_eff (cm^2) of the test and the characteristic
    strength sigma_0 (MPa, of 1 cm^2) and modulus m of the fracture model.  The risk forms give
    the strength no dependence on thickness; the thickness names the tapes tested.  The load cell
    reads strengths far more precisely than their Weibull scatter: no measurement noise.
    """

    tapes: int = 10
    thickness: float = 50.0
    area: float = 0.2
    label: str = ""
    cost_cells: int | None = None
    cost_days: float | None = None
    cost_unit: str = "days"
    kind = "biaxial_strength"

    @property
    def name(self) -> str:
        return self.label or f"biaxial strength, {self.tapes} tapes of {self.thickness:g} µm"

    @property
    def description(self) -> str:
        return (f"ring-on-ring strength of {self.tapes} sintered {self.thickness:g} µm tapes "
                f"(loaded area {self.area:g} cm^2): fracture.strength, fracture.weibull_modulus")

    @property
    def specimens(self) -> int:
        return self.tapes

    def _default_days(self) -> float:
        return 1.0 + self.tapes / 10.0

    def simulate(self, draws, truth, rng):
        strength = parameter(draws, "fracture.strength")[truth]
        m = float(draws["fracture.weibull_modulus"][truth])
        hazard = rng.exponential(size=self.tapes)   # (A/A0)(sigma/sigma0)^m ~ Exp(1)
        return strength * (hazard * forms.STRENGTH_REFERENCE_AREA / self.area) ** (1.0 / m)

    def loglik(self, draws, outcome) -> np.ndarray:
        sigma = np.asarray(outcome, dtype=float)[None, :]
        strength = parameter(draws, "fracture.strength")[:, None]
        m = np.asarray(draws["fracture.weibull_modulus"], dtype=float)[:, None]
        log_hazard = math.log(self.area / forms.STRENGTH_REFERENCE_AREA) + m * np.log(sigma / strength)
        return np.sum(np.log(m) - np.log(sigma) + log_hazard - np.exp(log_hazard), axis=1)


@dataclass(frozen=True)
class CriticalCurrent(_Base):
    """Stepped-current critical current density of ``cells`` symmetric Na | tape | Na cells.

    Each cell is built at ``pressure`` (MPa) with ``reservoir`` um of sodium on each side and a
    ``thickness`` um tape, then cycled at the currents ``start``, ``start + step``, ... (``steps``
    of them, mA/cm^2), ``cycles_per_step`` cycles each, every half cycle ``hours`` long (so a
    cycle at j moves j * hours mAh/cm^2).  The outcome is the step in which each cell shorts (0:
    it survived every step).  The short-circuit model gives the probability: cycle k at current j
    adds (j / j_c)^m (k^beta - (k - 1)^beta) to the cumulative hazard, with j_c the critical
    current of the cell's condition and capacity per cycle (:func:`forms.critical_current`).
    """

    cells: int = 5
    pressure: float = 1.0
    reservoir: float = 36.0
    thickness: float = 100.0
    start: float = 0.1
    step: float = 0.1
    steps: int = 30
    cycles_per_step: int = 1
    hours: float = 0.5
    label: str = ""
    cost_days: float | None = None
    cost_unit: str = "days"
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # a copy starts empty
    kind = "critical_current"

    @property
    def name(self) -> str:
        return self.label or (f"CCD, {self.cells} symmetric cells at {self.pressure:g} MPa, "
                              f"{self.reservoir:g} µm Na, {self.thickness:g} µm tape")

    @property
    def description(self) -> str:
        top = self.start + (self.steps - 1) * self.step
        return (f"stepped-current ({self.start:g} to {top:g} mA/cm^2 in steps of {self.step:g}, "
                f"{self.cycles_per_step} cycle(s) of 2 x {self.hours:g} h each) symmetric cells: "
                "short.ccd_reference, short.ccd_modulus and the exponents of their condition")

    @property
    def specimens(self) -> int:
        return self.cells

    def _default_days(self) -> float:
        return 1.0 + self.steps * self.cycles_per_step * 2.0 * self.hours / 24.0

    def currents(self) -> np.ndarray:
        """The current of each step (mA/cm^2)."""
        return self.start + self.step * np.arange(self.steps)

    def _log_probabilities(self, draws) -> np.ndarray:
        """log P(short in step k) for k = 1..K in columns 1..K and log P(survived) in column 0: (S, K+1)."""
        j = self.currents()[None, :]
        ccd = forms.critical_current(self.pressure, self.reservoir, self.thickness, j * self.hours,
                                     parameter(draws, "short.ccd_reference")[:, None],
                                     parameter(draws, "short.pressure_exponent")[:, None],
                                     parameter(draws, "short.reservoir_exponent")[:, None],
                                     parameter(draws, "short.thickness_exponent")[:, None],
                                     np.asarray(draws["short.capacity_exponent"])[:, None])
        m = parameter(draws, "short.ccd_modulus")[:, None]
        beta = parameter(draws, "short.cycle_exponent")[:, None]
        n = self.cycles_per_step * np.arange(self.steps + 1, dtype=float)[None, :]
        increments = forms.current_stress(j, ccd, m) * (n[:, 1:] ** beta - n[:, :-1] ** beta)
        hazard = np.concatenate([np.zeros((increments.shape[0], 1)), np.cumsum(increments, axis=1)], axis=1)
        shorted = -hazard[:, :-1] + _log1mexp(increments)
        return np.concatenate([-hazard[:, -1:], shorted], axis=1)

    def simulate(self, draws, truth, rng):
        one = {k: np.asarray(v)[truth:truth + 1] for k, v in draws.items()}
        p = np.exp(self._log_probabilities(one)[0])
        return rng.choice(self.steps + 1, size=self.cells, p=p / p.sum())

    def loglik(self, draws, outcome) -> np.ndarray:
        counts = np.bincount(np.asarray(outcome, dtype=int), minlength=self.steps + 1).astype(float)
        # The per-draw probabilities do not depend on the outcome: computed once per set of draws.
        # Keyed by the draws' own arrays (held, so an id cannot be reused by other draws).
        arrays = tuple(draws[k] for k in sorted(draws))
        held = self._cache.get("arrays")
        if held is None or len(held) != len(arrays) or any(a is not b for a, b in zip(held, arrays, strict=True)):
            self._cache.clear()
            self._cache["arrays"] = arrays
            self._cache["logp"] = self._log_probabilities(draws)
        logp = self._cache["logp"]
        used = counts > 0
        return logp[:, used] @ counts[used]


@dataclass(frozen=True)
class Profilometry(_Base):
    """The unsupported span of ``tapes`` tapes of each of ``thicknesses`` (um), read from their
    warping profiles before stacking (the longest span the tape bridges when laid on a flat
    electrode, from the warping amplitude and wavelength).

    The fracture model's span is a = s a_ref (t / 100 um)^(-gamma) (:func:`forms.span`), s the
    selection factor of ``selected`` shards (1 for tapes as cast).  The model has no tape-to-tape
    scatter of the span, so the measured span is assumed lognormal around it with ``scatter``
    (sd of ln a, default 0.3: tapes of one batch, and the reading of a span from a profile).
    """

    tapes: int = 10
    thicknesses: tuple[float, ...] = (50.0, 110.0)
    selected: bool = False
    scatter: float = 0.3
    label: str = ""
    cost_cells: int | None = None
    cost_days: float | None = None
    cost_unit: str = "days"
    kind = "profilometry"

    @property
    def name(self) -> str:
        what = "selected shards" if self.selected else "tapes"
        sizes = ", ".join(f"{t:g}" for t in self.thicknesses)
        return self.label or f"profilometry, {self.tapes} {what} each of {sizes} µm"

    @property
    def description(self) -> str:
        informs = "fracture.span_reference, fracture.span_exponent" + (
            ", fracture.selection_factor" if self.selected else "")
        return (f"warping profiles of {self.tapes} {'selected shards' if self.selected else 'tapes'} per thickness, "
                f"the unsupported span of each (assumed lognormal scatter {self.scatter:g}): {informs}")

    @property
    def specimens(self) -> int:
        return self.tapes * len(self.thicknesses)

    def _default_days(self) -> float:
        return 0.5 + 0.05 * self.specimens

    def _log_span(self, draws) -> np.ndarray:
        selection = (np.asarray(draws["fracture.selection_factor"], dtype=float)[:, None] if self.selected else 1.0)
        a = forms.span(np.asarray(self.thicknesses, dtype=float)[None, :],
                       np.asarray(draws["fracture.span_reference"], dtype=float)[:, None],
                       np.asarray(draws["fracture.span_exponent"], dtype=float)[:, None], selection)
        return np.log(a)   # (S, thicknesses)

    def simulate(self, draws, truth, rng):
        one = {k: np.asarray(v)[truth:truth + 1] for k, v in draws.items()}
        mean = self._log_span(one)[0][:, None]
        return np.exp(mean + self.scatter * rng.standard_normal((len(self.thicknesses), self.tapes)))

    def loglik(self, draws, outcome) -> np.ndarray:
        y = np.log(np.asarray(outcome, dtype=float))          # (thicknesses, tapes)
        mean = self._log_span(draws)                           # (S, thicknesses)
        total, squares, n = y.sum(axis=1), (y * y).sum(axis=1), y.shape[1]
        # sum over tapes of (y - mean)^2, per thickness, without a (S, T, N) array
        ss = squares[None, :] - 2.0 * mean * total[None, :] + n * mean * mean
        return -0.5 * np.sum(ss, axis=1) / self.scatter ** 2


@dataclass(frozen=True)
class BuildAndCycle(_Base):
    """Build ``cells`` cells of one candidate design and cycle them ``cycles`` cycles.

    Outcomes per cell: cracked at assembly (probability P_fracture of the design), else the
    cycle it shorts in or that it survived (cumulative hazard (j / j_c)^m k^beta at the design's
    cycling current), its resistance after formation (ln R ~ N(ln R_cell, ``resistance_scatter``),
    the calibration's nuisance) and, for a cell that survives, the retention after the cycles
    (ln ~ N(ln retention, ``retention_scatter``), the calibration's ``fade_scatter``).

    The per-draw quantities come from the design scorer (:class:`~nassb.design.score.DesignScorer`)
    on the same draws as the decision: draw i pairs the risk parameters with the card's draw i
    (materials, tolerances, utilisation), so the likelihood of draw i is that of the cell the
    scorer describes there.  It is tied to the scorer's draws: ``draws`` must be those.
    """

    design: dict = field(default_factory=dict)
    cells: int = 4
    cycles: int = 100
    label: str = ""
    quantities: dict = field(default_factory=dict, repr=False, compare=False)
    resistance_scatter: float = 0.25
    retention_scatter: float = 0.01
    hours_per_cycle: float = 20.0
    cost_days: float | None = None
    cost_unit: str = "days"
    kind = "build_and_cycle"

    @classmethod
    def of(cls, scorer, design: dict, *, cells: int = 4, cycles: int = 100, label: str = "",
           cost_days: float | None = None, nuisances: dict | None = None) -> BuildAndCycle:
        """The experiment for ``design`` (card path -> value) scored by ``scorer``.

        ``nuisances`` (default: the calibration's, priors/data/risk.toml) give the resistance
        scatter and the retention's scatter.
        """
        from ..priors.risk import load_nuisances

        nuisances = nuisances or load_nuisances()
        values = scorer.score(design)
        d = scorer.risk.draws
        delivered = design["cathode.theoretical_capacity"] * values["utilisation"]
        thickness = design["separator.thickness"] * scorer.sep_noise
        ccd = forms.critical_current(design["cell.pressure"], design["anode.reservoir_thickness"], thickness,
                                     delivered, parameter(d, "short.ccd_reference"),
                                     parameter(d, "short.pressure_exponent"), parameter(d, "short.reservoir_exponent"),
                                     parameter(d, "short.thickness_exponent"), d["short.capacity_exponent"])
        stress = forms.current_stress(values["current"], ccd, parameter(d, "short.ccd_modulus"))
        kept = forms.retention(float(cycles), d["inventory.loss"], delivered,
                               design["anode.reservoir_thickness"] / scorer.swelling, d["inventory.first_loss"],
                               d["inventory.fade"])
        quantities = {"P_fracture": np.clip(values["P_fracture"], 1e-300, 1.0 - 1e-16), "stress": stress,
                      "beta": parameter(d, "short.cycle_exponent"),
                      "log_R": np.log(values["R_cell"]), "log_retention": np.log(kept)}
        hours = float(np.mean(2.0 * delivered / values["current"]))
        return cls(design=dict(design), cells=cells, cycles=cycles, label=label, quantities=quantities,
                   resistance_scatter=float(nuisances["resistance_scatter"].value),
                   retention_scatter=float(nuisances["fade_scatter"].value), hours_per_cycle=hours,
                   cost_days=cost_days)

    @property
    def name(self) -> str:
        return self.label or f"build {self.cells} cells and cycle {self.cycles}"

    @property
    def description(self) -> str:
        shown = ", ".join(f"{k}={v:.3g}" for k, v in self.design.items())
        return (f"build {self.cells} cells of ({shown}) and cycle them {self.cycles} cycles: crack, short, "
                "resistance after formation, retention")

    @property
    def specimens(self) -> int:
        return self.cells

    def _default_days(self) -> float:
        return 2.0 + self.cycles * self.hours_per_cycle / 24.0

    def _check(self, draws) -> None:
        size = next(iter(draws.values())).size
        if not self.quantities or self.quantities["stress"].size != size:
            raise ValueError("a build-and-cycle experiment is tied to its scorer's draws (BuildAndCycle.of)")

    def simulate(self, draws, truth, rng):
        self._check(draws)
        q = {k: float(v[truth]) for k, v in self.quantities.items()}
        n = self.cells
        cracked = rng.random(n) < q["P_fracture"]
        # the continuous cycle of the short: stress * T^beta ~ Exp(1)
        with np.errstate(divide="ignore"):
            at = (rng.exponential(size=n) / q["stress"]) ** (1.0 / q["beta"])
        short = np.where(at <= self.cycles, np.ceil(np.maximum(at, 1e-12)), 0).astype(int)
        short[cracked] = 0
        log_r = np.where(cracked, np.nan, q["log_R"] + self.resistance_scatter * rng.standard_normal(n))
        survived = ~cracked & (short == 0)
        log_kept = np.where(survived, q["log_retention"] + self.retention_scatter * rng.standard_normal(n), np.nan)
        return {"cracked": cracked, "short_cycle": short, "log_resistance": log_r, "log_retention": log_kept}

    def loglik(self, draws, outcome) -> np.ndarray:
        self._check(draws)
        q = self.quantities
        cracked = np.asarray(outcome["cracked"], dtype=bool)
        short = np.asarray(outcome["short_cycle"], dtype=int)
        n_cracked = int(cracked.sum())
        total = n_cracked * np.log(q["P_fracture"]) + (cracked.size - n_cracked) * np.log1p(-q["P_fracture"])
        stress, beta = q["stress"][:, None], q["beta"][:, None]
        k = short[~cracked & (short > 0)].astype(float)[None, :]
        if k.size:
            before = stress * (k - 1.0) ** beta
            total = total + np.sum(-before + _log1mexp(stress * k ** beta - before), axis=1)
        lasted = int(np.sum(~cracked & (short == 0)))
        total = total - lasted * q["stress"] * float(self.cycles) ** q["beta"]
        for key, sd in (("log_resistance", self.resistance_scatter), ("log_retention", self.retention_scatter)):
            y = np.asarray(outcome[key], dtype=float)
            y = y[np.isfinite(y)][None, :]
            if y.size:
                total = total - 0.5 * np.sum((y - q[key if key != "log_resistance" else "log_R"][:, None]) ** 2,
                                             axis=1) / sd ** 2
        return total
