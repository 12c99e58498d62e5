"""Value of information by preposterior analysis over posterior draws (no re-sampling).

For a candidate experiment e and the posterior draws theta_1..theta_S of the risk models:

1. pick a draw s as the truth and simulate the experiment's outcome y ~ p(y | theta_s, e);
2. reweight every draw by the likelihood of that outcome, w_i ~ p(y | theta_i, e) (the
   posterior after y, as importance weights on the draws we have);
3. choose again among the candidate designs with the weighted posterior: the design with the
   best objective whose risks meet the limits;
4. average over outcomes: the expected value of sample information is
   EVSI = E_y[V(w_y)] - V(w_0), V(w) the value of the best design under weights w,
   with its Monte Carlo standard error over the simulated outcomes.

With ``judged="after"`` each outcome's gain is judged under the posterior after it:
V_w(best under w) - V_w(today's design), today's design worth 0 where it breaks a limit under w
(building nothing is worth nothing).  For a value linear in the weights (a mean objective
without limits) both have the same expectation, and this one is 0 for an outcome that changes
nothing; with a quantile objective and limits on means, V(w_y) is not a martingale and the
difference of the first form can be negative (an outcome that shows today's design near a limit
to be over it lowers V without any decision being worse for it).

Per experiment it also gives the expected shrinkage of each risk's 95 % interval at the design
chosen today.  Everything is vectorised over draws and designs: seconds for ten experiments.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


THIN_ESS = 50.0
"""A reweighting of the draws to fewer effective draws than this is thin: the posterior after
that outcome rests on a few draws."""


class Experiment(Protocol):
    """What the preposterior analysis needs of a candidate experiment."""

    name: str
    cost: float           # in the unit the ranking per cost uses (cells, or days)
    description: str

    def simulate(self, draws: dict[str, np.ndarray], truth: int, rng: np.random.Generator):
        """An outcome of the experiment if draw ``truth`` were the truth."""

    def loglik(self, draws: dict[str, np.ndarray], outcome) -> np.ndarray:
        """log p(outcome | theta_i) for every draw i (up to a constant)."""


@dataclass
class DecisionProblem:
    """Candidate designs scored on every draw: the objective and the risks that have limits.

    Attributes
    ----------
    names : list of str
        A label per candidate design.
    objective : ndarray (designs, draws)
        The maximised quantity per draw (an energy density).
    risks : dict[str, ndarray (designs, draws)]
        Per-draw values of the constrained quantities (P_fracture, P_short, ...).
    limits : dict[str, tuple[str, float]]
        For each risk ``("max", limit)`` or ``("min", limit)``, judged on the weighted mean.
    quantile : float or None
        The objective is this weighted quantile (robust design) or, with None, the mean.
    confidence : float or None
        Judge the limits with this weighted posterior probability instead of on the weighted
        mean (the chance constraint of ``Limits.confidence``).
    held : tuple
        The draws the limits are held under, each a limit judged at its worst over them: None for
        the draws as they are, or an array of draw indices (a reading's resampled draws,
        :func:`nassb.design.readings.held_indices`); under weights ``w`` a set's draws weigh
        ``w[index]``.  Default: the draws as they are.
    """

    names: list[str]
    objective: np.ndarray
    risks: dict[str, np.ndarray]
    limits: dict[str, tuple[str, float]]
    quantile: float | None = 0.05
    confidence: float | None = None
    held: tuple = (None,)
    _order: np.ndarray = field(init=False, repr=False)  # each design's draws in increasing order
    _held: list = field(init=False, repr=False)  # per held set: (index, risks on its draws, their order)

    def __post_init__(self):
        self.objective = np.asarray(self.objective, dtype=float)
        self._order = np.argsort(self.objective, axis=1)
        self._held = []
        for index in self.held:
            risks = self.risks if index is None else {name: r[:, index] for name, r in self.risks.items()}
            order = ({name: np.argsort(r, axis=1) for name, r in risks.items()} if self.confidence is not None
                     else {})
            self._held.append((index, risks, order))

    @staticmethod
    def _weighted_quantile(x: np.ndarray, order: np.ndarray, w: np.ndarray, q: float) -> np.ndarray:
        """Per design (row), the weighted ``q`` quantile of its draws."""
        cumulative = np.cumsum(w[order], axis=1)
        k = np.argmax(cumulative >= q, axis=1)
        return np.take_along_axis(np.take_along_axis(x, order, axis=1), k[:, None], axis=1)[:, 0]

    def values(self, w: np.ndarray) -> np.ndarray:
        """Each design's objective under normalised weights ``w`` (-inf where it breaks a limit)."""
        if self.quantile is None:
            value = self.objective @ w
        else:
            value = self._weighted_quantile(self.objective, self._order, w, self.quantile)
        feasible = np.ones(len(self.names), dtype=bool)
        for index, risks, order in self._held:
            weights = w if index is None else w[index]
            total = weights.sum()
            if total <= 0:  # the outcome leaves this reading no weight: nothing to hold under it
                continue
            weights = weights / total
            for name, (kind, limit) in self.limits.items():
                if self.confidence is None:
                    judged = risks[name] @ weights
                else:
                    q = self.confidence if kind == "max" else 1.0 - self.confidence
                    judged = self._weighted_quantile(risks[name], order[name], weights, q)
                feasible &= (judged <= limit) if kind == "max" else (judged >= limit)
        return np.where(feasible, value, -np.inf)

    def choose(self, w: np.ndarray) -> tuple[int, float]:
        """The best design under ``w`` and its value (index -1 and 0.0 when none is feasible:
        building nothing is worth nothing)."""
        v = self.values(w)
        best = int(np.argmax(v))
        return (best, float(v[best])) if np.isfinite(v[best]) else (-1, 0.0)


def normalised(logw: np.ndarray) -> np.ndarray:
    w = np.exp(logw - np.max(logw))
    return w / w.sum()


def effective_sample_size(w: np.ndarray) -> float:
    return float(1.0 / np.sum(w * w))


def weighted_interval(values: np.ndarray, w: np.ndarray, p: float = 0.95) -> tuple[float, float]:
    order = np.argsort(values)
    cumulative = np.cumsum(w[order])
    tail = (1 - p) / 2
    lo = values[order][min(int(np.searchsorted(cumulative, tail)), values.size - 1)]
    hi = values[order][min(int(np.searchsorted(cumulative, 1 - tail)), values.size - 1)]
    return float(lo), float(hi)


@dataclass(frozen=True)
class ExperimentValue:
    """The value of one candidate experiment for the design decision."""

    name: str
    description: str
    evsi: float
    evsi_se: float
    cost: float
    interval_shrinkage: dict[str, float]
    switch_rate: float          # how often the outcome changes the design chosen
    min_ess: float              # the smallest effective sample size of the reweighted draws
    thin_share: float = 0.0     # the share of outcomes whose reweighted draws have ESS < THIN_ESS

    @property
    def evsi_per_cost(self) -> float:
        return self.evsi / self.cost if self.cost > 0 else math.inf

    def to_json(self) -> dict:
        return {"name": self.name, "description": self.description, "evsi": self.evsi, "evsi_se": self.evsi_se,
                "cost": self.cost, "evsi_per_cost": self.evsi_per_cost,
                "interval_shrinkage": self.interval_shrinkage, "switch_rate": self.switch_rate,
                "min_ess": self.min_ess, "thin_share": self.thin_share}


def value_of_information(problem: DecisionProblem, experiment: Experiment, draws: dict[str, np.ndarray], *,
                         outcomes: int = 200, seed: int = 0,
                         progress: Callable[[int], None] | None = None, judged: str = "before") -> ExperimentValue:
    """EVSI of ``experiment`` for ``problem`` by preposterior reweighting of ``draws``.

    ``judged``: "before" (E_y[V(w_y)] - V(w_0)) or "after" (each gain under the posterior after
    its outcome; see the module docstring)."""
    if judged not in ("before", "after"):
        raise ValueError(f"judged must be 'before' or 'after', got {judged!r}")
    rng = np.random.default_rng(seed)
    size = problem.objective.shape[1]
    w0 = np.full(size, 1.0 / size)
    chosen, value0 = problem.choose(w0)
    gains, switched, ess = [], 0, []
    shrink: dict[str, list[float]] = {name: [] for name in problem.risks}
    widths0 = ({name: np.subtract(*weighted_interval(r[chosen], w0)[::-1]) for name, r in problem.risks.items()}
               if chosen >= 0 else {})
    for k in range(outcomes):
        truth = int(rng.integers(size))
        outcome = experiment.simulate(draws, truth, rng)
        w = normalised(np.asarray(experiment.loglik(draws, outcome), dtype=float))
        ess.append(effective_sample_size(w))
        best, value = problem.choose(w)
        if judged == "before":
            gains.append(value - value0)
        else:
            kept = float(problem.values(w)[chosen]) if chosen >= 0 else 0.0
            gains.append(value - (kept if np.isfinite(kept) else 0.0))
        switched += best != chosen
        for name, r in problem.risks.items():
            if chosen >= 0 and widths0[name] > 0:
                lo, hi = weighted_interval(r[chosen], w)
                shrink[name].append(1.0 - (hi - lo) / widths0[name])
        if progress is not None:
            progress(k + 1)
    g = np.asarray(gains)
    return ExperimentValue(
        name=experiment.name, description=experiment.description,
        evsi=float(g.mean()), evsi_se=float(g.std(ddof=1) / math.sqrt(g.size)) if g.size > 1 else math.nan,
        cost=float(experiment.cost),
        interval_shrinkage={name: float(np.mean(v)) if v else 0.0 for name, v in shrink.items()},
        switch_rate=switched / outcomes, min_ess=float(np.min(ess)) if ess else float(size),
        thin_share=float(np.mean(np.asarray(ess) < THIN_ESS)) if ess else 0.0)
