"""The best cell for a card and a decision: one deterministic answer.

Scoring a design over the calibrated draws costs a few milliseconds, so the constrained optimum
need not be left to a stochastic sampler whose answer changes with its seed and budget.
:func:`best_design` scores a scrambled Sobol set of the design space (fixed seed), starts a
constrained local search (scipy's COBYQA, derivative-free, the limits as nonlinear constraints)
from the best few distinct points, and returns the best feasible design it evaluated.  The same
card, risk draws and decision give the same design, whichever command asks: ``nassb design``
seeds its study with it, ``nassb next-experiment`` names it ``search-1`` and ``nassb campaign
propose`` builds it first.  bench/bench_design.py measures its regret against differential
evolution.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from dataclasses import dataclass

import numpy as np

from .space import DesignSpace

SOBOL_POINTS = 256     # the global look (a power of two)
STARTS = 4             # local searches, from the best distinct Sobol points
LOCAL_BUDGET = 120     # evaluations per local search
START_DISTANCE = 0.15  # two starts differ by at least this in some variable (unit cube)
SEED = 0               # the Sobol scramble: fixed, so that the answer is one


@dataclass(frozen=True)
class Optimum:
    """The best design found for a decision.

    Attributes
    ----------
    design : dict or None
        Card path -> value (canonical units: mAh/cm^2, 1, um, um, MPa); None when no evaluated
        design meets the limits.
    value : float
        Its objective (the decision's quantile of E_V_rate in Wh/l or E_m_rate in Wh/kg); NaN
        without a feasible design.
    evaluations : int
        Designs scored.
    method : str
        How it was found, in words.
    """

    design: dict[str, float] | None
    value: float
    evaluations: int
    method: str

    @property
    def feasible(self) -> bool:
        return self.design is not None


class _Evaluator:
    """Scores points of the unit cube once each: the objective and the constraint values."""

    def __init__(self, space: DesignSpace, scorer, settings, ranges):
        from .study import constraints, objective_value

        self.space, self.scorer, self.settings, self.ranges = space, scorer, settings, ranges
        self.free = [v for v in space if not v.fixed]
        self._objective, self._constraints = objective_value, constraints
        self.seen: dict[tuple, tuple[float, np.ndarray]] = {}

    def design(self, u: np.ndarray) -> dict[str, float]:
        u = np.clip(u, 0.0, 1.0)
        out = {v.name: v.low for v in self.space if v.fixed}
        for v, x in zip(self.free, u, strict=True):
            out[v.name] = float(v.low * (v.high / v.low) ** x if v.log else v.low + x * (v.high - v.low))
        return {v.name: out[v.name] for v in self.space}

    def __call__(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        key = tuple(np.round(np.clip(u, 0.0, 1.0), 12))
        if key not in self.seen:
            values = self.scorer.score(self.design(np.array(key)))
            value = self._objective(values, self.settings.objective, self.settings.quantile)
            c = self._constraints(values, self.settings, self.ranges)
            self.seen[key] = (value, np.array([c[k] for k in sorted(c)]))
        return self.seen[key]

    def best_feasible(self) -> tuple[tuple, float] | None:
        feasible = [(k, v) for k, (v, c) in self.seen.items() if np.all(c <= 0) and math.isfinite(v)]
        return max(feasible, key=lambda kv: (kv[1], kv[0]), default=None)


def _rank(points: list[np.ndarray], evaluate: _Evaluator) -> list[np.ndarray]:
    """Points best first: feasible ones by objective, then the others by their total violation."""
    def key(u: np.ndarray) -> tuple:
        value, c = evaluate(u)
        excess = float(np.sum(np.maximum(c, 0.0)))
        return (0, -value) if excess <= 0 and math.isfinite(value) else (1, excess)

    return sorted(points, key=key)


def _starts(ranked: list[np.ndarray], n: int) -> list[np.ndarray]:
    chosen: list[np.ndarray] = []
    for u in ranked:
        if all(np.max(np.abs(u - c)) >= START_DISTANCE for c in chosen):
            chosen.append(u)
        if len(chosen) == n:
            break
    return chosen


def _local(evaluate: _Evaluator, start: np.ndarray, budget: int, scale: float) -> None:
    """COBYQA from ``start`` within ``budget`` new evaluations (each memoised in ``evaluate``)."""
    from scipy.optimize import Bounds, NonlinearConstraint, minimize

    limit = len(evaluate.seen) + budget

    class Spent(Exception):
        pass

    def checked(u: np.ndarray) -> tuple[float, np.ndarray]:
        key = tuple(np.round(np.clip(u, 0.0, 1.0), 12))
        if key not in evaluate.seen and len(evaluate.seen) >= limit:
            raise Spent
        return evaluate(u)

    def objective(u: np.ndarray) -> float:
        value = checked(u)[0]
        return -value / scale if math.isfinite(value) else 1e6

    constraint = NonlinearConstraint(lambda u: checked(u)[1], -np.inf, 0.0)
    with contextlib.suppress(Spent), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        minimize(objective, start, method="COBYQA", bounds=Bounds(0.0, 1.0), constraints=[constraint],
                 options={"maxfev": budget, "initial_tr_radius": 0.1, "final_tr_radius": 1e-5})


def best_design(scorer, space: DesignSpace, settings, ranges: dict | None = None, *,
                points: int = SOBOL_POINTS, starts: int = STARTS, budget: int = LOCAL_BUDGET) -> Optimum:
    """The best feasible design of ``space`` for a study's settings, found deterministically.

    Parameters
    ----------
    scorer : DesignScorer
        Scores a design over the calibrated draws (common random numbers: deterministic).
    space : DesignSpace
        The variables and their ranges (log scale where the search samples so).
    settings : SearchSettings
        The decision: objective, quantile, limits and how they are held, cycling.
    ranges : dict, optional
        The calibrated range, for a search within the data (its current constraint).
    points, starts, budget : int
        Sobol points of the global look, local searches, evaluations per local search.

    Returns
    -------
    Optimum
    """
    from scipy.stats import qmc

    evaluate = _Evaluator(space, scorer, settings, ranges)
    method = f"Sobol {points} points, COBYQA from the best {starts} ({budget} evaluations each)"
    if not evaluate.free:
        u = np.zeros(0)
        value, c = evaluate(u)
        ok = bool(np.all(c <= 0))
        return Optimum(evaluate.design(u) if ok else None, value if ok else math.nan, 1, "every variable fixed")
    sobol = qmc.Sobol(len(evaluate.free), scramble=True, seed=SEED).random(points)
    ranked = _rank(list(sobol), evaluate)
    first = evaluate(ranked[0])[0]
    scale = max(abs(first), 1e-9) if math.isfinite(first) else 1.0
    for start in _starts(ranked, starts):
        _local(evaluate, start, budget, scale)
    best = evaluate.best_feasible()
    if best is None:
        return Optimum(None, math.nan, len(evaluate.seen), method)
    key, value = best
    return Optimum(evaluate.design(np.array(key)), float(value), len(evaluate.seen), method)
