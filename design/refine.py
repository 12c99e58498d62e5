"""Local refinement: from a study's best feasible trial, a derivative-free constrained local
search on the same scorer, each evaluation run as a trial of the study.

The optimum of a design search sits on the intersection of constraints (P_fracture and P_short
bind together) and often on a bound; a sampler such as TPE finds its neighbourhood but closes
in slowly.  scipy's COBYQA (Ragonneau & Zhang, derivative-free trust-region SQP with quadratic
models) works in the unit cube of the search (log scale where the search samples so), with the
study's constraints as nonlinear constraints, starting from the best feasible trial.  Every point
it evaluates is a trial of the study: the storage keeps it, other workers see it, and a resumed
study counts it.  A point some trial of the study has evaluated already (a resumed refinement
from the same start, say) is read from that trial instead of run again.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from .space import DesignSpace
from .study_store import design_of, feasible_of, has_design

METHOD = "COBYQA"
RADIUS = 0.05          # initial trust region, as a fraction of each variable's (log) range
FINAL_RADIUS = 1e-4


class _BudgetSpent(Exception):
    """The local search asked for one evaluation more than its budget."""


def best_feasible(study):
    """The best complete feasible trial of a single-objective study, or None."""
    import optuna

    trials = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
              if feasible_of(t)]
    return max(trials, key=lambda t: t.values[0], default=None)


def _to_unit(variables: list, d: dict) -> np.ndarray:
    """A design as a point of the unit cube (log-scaled where the variable's search is)."""
    return np.array([(math.log(d[v.name] / v.low) / math.log(v.high / v.low)) if v.log
                     else (d[v.name] - v.low) / (v.high - v.low) for v in variables])


def _from_unit(variables: list, u: np.ndarray) -> dict:
    """The design at a point of the unit cube (clipped into it)."""
    u = np.clip(u, 0.0, 1.0)
    return {v.name: float(v.low * (v.high / v.low) ** ui if v.log else v.low + ui * (v.high - v.low))
            for v, ui in zip(variables, u, strict=True)}


def _key_of(u: np.ndarray) -> tuple:
    return tuple(np.round(np.clip(u, 0.0, 1.0), 12))


def _known_points(study, start, to_unit, names: list[str], scale: float) -> dict[tuple, tuple[float, np.ndarray]]:
    """Every completed trial of the study as a point of the cube with its scaled value and
    constraints: a point evaluated before is not run again (the start among them)."""
    import optuna

    seen: dict[tuple, tuple[float, np.ndarray]] = {}
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if has_design(t) and all(n in t.constraints for n in names) and t.values:
            seen[_key_of(to_unit(design_of(t)))] = (
                -t.values[0] / scale, np.array([t.constraints[n] for n in names]))
    seen[_key_of(to_unit(design_of(start)))] = (
        -start.values[0] / scale, np.array([start.constraints[n] for n in names]))
    return seen


def refine(study, space: DesignSpace, objective, budget: int, *, callbacks=None) -> int:
    """Run at most ``budget`` trials of a local search from the best feasible trial.

    Parameters
    ----------
    study : optuna.Study
        A single-objective study whose trials record their design and feasibility (:mod:`.study_store`)
        and constraints.
    space : DesignSpace
    objective : callable
        The study's objective (:func:`nassb.design.study.make_objective`).
    budget : int
        Trials the refinement may run.
    callbacks : list, optional
        Optuna callbacks of each trial it runs (e.g. the batch writer of
        :class:`nassb.design.batch.Recorder`).

    Returns
    -------
    int
        Trials run (0 without a feasible trial to start from).
    """
    import optuna
    from scipy.optimize import Bounds, NonlinearConstraint, minimize

    start = best_feasible(study)
    variables = [v for v in space if not v.fixed]
    if start is None or budget < 1 or not variables or len(study.directions) != 1:
        return 0
    design = design_of(start)

    def to_unit(d: dict) -> np.ndarray:
        return _to_unit(variables, d)

    scale = max(abs(start.values[0]), 1e-9)
    base = study.sampler
    names = list(start.constraints)
    # The start is a trial already: the search knows its value without running it again.
    x0 = to_unit(design)
    seen = _known_points(study, start, to_unit, names, scale)
    known, ran = len(seen), 0

    def evaluate(u: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal ran
        key = _key_of(u)
        if key in seen:
            return seen[key]
        if ran >= budget:
            raise _BudgetSpent
        record: dict = {}

        def run(trial):
            value = objective(trial)
            record["value"], record["constraints"] = value, dict(trial.constraints)
            return value

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.sampler = optuna.samplers.PartialFixedSampler(_from_unit(variables, np.array(key)), base)
        try:
            study.optimize(run, n_trials=1, callbacks=callbacks)
        finally:
            study.sampler = base
        ran += 1
        c = record["constraints"]
        seen[key] = (-record["value"] / scale, np.array([c[n] for n in names]))
        return seen[key]

    constraint = NonlinearConstraint(lambda u: evaluate(u)[1], -np.inf, 0.0)
    with contextlib.suppress(_BudgetSpent):
        minimize(lambda u: evaluate(u)[0], x0, method=METHOD, bounds=Bounds(0.0, 1.0), constraints=[constraint],
                 options={"maxfev": budget + known, "initial_tr_radius": RADIUS, "final_tr_radius": FINAL_RADIUS})
    return ran
