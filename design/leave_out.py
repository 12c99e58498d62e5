"""Which observation carries a proposal: leave-one-group-out by Pareto-smoothed importance sampling.

The risk models rest on a handful of observation groups (an entry of the observations file: cell
1's four formation cycles, the eight cells like cell 2, the cracked shards, ...).  A proposal's
risks may rest on one of them: leaving that group out moves them, and the lab should know before
it builds.  No sampling: the calibrated posterior draws are reweighted by 1 / p(y_g | theta), the
group's likelihood taken out, the weights Pareto-smoothed (PSIS) and their k-hat reported (above
0.7 the shift is unreliable: read its direction, not its digits).  Groups are the entries of the
observations the draws were calibrated on; with draws of another calibration (a lab's alone) the
paper's groups are not in them and nothing is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inference.risk.registry import limited_names
from ..inference.statistics import psis_weights
from .sensitivity import RELIABLE_K, statistic

# The risks whose shift is reported beside the objective are those the limits judge
# (inference/risk/registry.py).
# A design rests on a group when leaving it out takes a risk beyond its limit by more than this
# share of the limit: a design on its limits moves across them with any shift, which says nothing.
MARGIN = 0.1


@dataclass(frozen=True)
class LeaveOut:
    """The weights that leave each observation group out of a calibration.

    Attributes
    ----------
    groups : dict
        Group name -> (normalised weights over the draws, k-hat).
    cells : dict
        Group name -> how many cells it holds.
    """

    groups: dict[str, tuple[np.ndarray, float]]
    cells: dict[str, int]

    def to_json(self) -> dict:
        return {"rule": "PSIS leave-one-group-out: weights 1 / p(group | draw), Pareto-smoothed; k-hat above "
                        f"{RELIABLE_K:g} is unreliable",
                "groups": {g: {"cells": self.cells[g], "k_hat": round(k, 3), "reliable": k <= RELIABLE_K}
                           for g, (_, k) in self.groups.items()}}


def leave_out(risk, cells=None) -> LeaveOut:
    """Leave-one-group-out weights of ``risk``'s draws over the observation groups ``cells``
    (default: the observations shipped with nassb, the paper's cells).

    Draws calibrated without those cells (another lab's alone) give no groups: their
    likelihood is not in the draws to take out.
    """
    from ..inference.risk import likelihood
    from ..inference.risk.checks import entry_log_likelihood
    from ..priors.risk import load_nuisances, load_risk_observations

    if cells is None:
        if getattr(risk, "lab", "") and not _has_paper(risk):
            return LeaveOut({}, {})
        cells = load_risk_observations()
    batch = likelihood.build_batch(cells, load_nuisances())
    try:
        ll = entry_log_likelihood(risk.draws, batch)
    except KeyError:  # draws without a parameter the observations need: not their calibration
        return LeaveOut({}, {})
    groups, counts = {}, {}
    for e, name in enumerate(batch.names):
        column = ll[:, e]
        groups[name] = psis_weights(-np.where(np.isfinite(column), column, np.nanmin(column[np.isfinite(column)])))
        counts[name] = int(batch.count[e])
    return LeaveOut(groups, counts)


def _has_paper(risk) -> bool:
    return "fracture.strength" in getattr(risk, "draws", {})


def shifts(values: dict[str, np.ndarray], lo: LeaveOut, objective: str, quantile: float | None, limits) -> dict:
    """How the objective and each limited risk of one design move when each group is left out.

    Returns
    -------
    dict
        Group -> ``{"objective": shift, "risks": {name: shift of the mean (or of the quantile the
        limits judge)}, "breaks": the limits it would break by more than :data:`MARGIN` of
        themselves, "k_hat", "reliable"}``.
    """
    out = {}
    base_objective = statistic(values[objective], None, quantile)
    risks = limited_names()
    judged_quantile = {name: None if limits.confidence is None
                       else (limits.confidence if name in limits.UPPER else 1.0 - limits.confidence)
                       for name in risks}
    base = {name: statistic(values[name], None, judged_quantile[name]) for name in risks if name in values}
    for group, (w, k) in lo.groups.items():
        moved = {name: statistic(values[name], w, judged_quantile[name]) for name in base}
        breaks = ([n for n, v in limits.violations(moved).items() if v > MARGIN] if len(moved) == len(risks)
                  else [])
        out[group] = {"objective": statistic(values[objective], w, quantile) - base_objective,
                      "risks": {name: moved[name] - base[name] for name in moved},
                      "breaks": breaks, "k_hat": round(k, 3), "reliable": k <= RELIABLE_K}
    return out


def resting_on(leave: dict) -> list[str]:
    """The groups without which a design would break a limit by more than :data:`MARGIN`."""
    return [g for g, s in leave.items() if s.get("breaks")]
