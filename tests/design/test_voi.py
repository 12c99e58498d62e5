"""Value of information by preposterior reweighting: a decision with a known answer."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from nassb.design.voi import DecisionProblem, value_of_information


@dataclass
class NoisyReading:
    """y ~ N(theta, sd): one reading of the quantity the decision turns on."""

    sd: float
    name: str = "reading"
    cost: float = 1.0
    description: str = "one noisy reading of theta"

    def simulate(self, draws, truth, rng):
        return rng.normal(draws["theta"][truth], self.sd)

    def loglik(self, draws, outcome):
        return -0.5 * ((outcome - draws["theta"]) / self.sd) ** 2


def _problem(theta):
    # Build design A (worth theta) or B (worth 0 for sure); theta ~ N(0, 1) today.
    return DecisionProblem(["A", "B"], np.vstack([theta, np.zeros_like(theta)]), {}, {}, quantile=None)


def test_evsi_matches_the_closed_form_of_a_normal_decision():
    theta = np.random.default_rng(1).normal(0.0, 1.0, 20_000)
    draws = {"theta": theta}
    value = value_of_information(_problem(theta), NoisyReading(1.0), draws, outcomes=600, seed=2)
    # E[max(E[theta | y], 0)] with Var E[theta | y] = 1 / (1 + sd^2): tau / sqrt(2 pi).
    expected = math.sqrt(0.5) / math.sqrt(2 * math.pi)
    assert value.evsi == pytest.approx(expected, abs=3 * value.evsi_se + 0.01)
    assert 0.3 < value.switch_rate < 0.7


def test_an_uninformative_experiment_is_worth_almost_nothing():
    theta = np.random.default_rng(1).normal(0.0, 1.0, 20_000)
    draws = {"theta": theta}
    vague = value_of_information(_problem(theta), NoisyReading(100.0), draws, outcomes=300, seed=3)
    sharp = value_of_information(_problem(theta), NoisyReading(0.3), draws, outcomes=300, seed=3)
    assert vague.evsi < 0.02 < sharp.evsi
    assert sharp.evsi > vague.evsi + 5 * math.hypot(sharp.evsi_se, vague.evsi_se)


def test_limits_are_judged_on_the_reweighted_means():
    rng = np.random.default_rng(4)
    risk = rng.uniform(0.0, 0.4, 4000)
    problem = DecisionProblem(["bold", "safe"], np.vstack([np.full(4000, 10.0), np.full(4000, 5.0)]),
                              {"P": np.vstack([risk, np.zeros(4000)])}, {"P": ("max", 0.15)}, quantile=None)
    w = np.full(4000, 1 / 4000)
    assert problem.choose(w)[0] == 1                # mean risk 0.2 > 0.15: the bold design is out
    low = np.where(risk < 0.2, 1.0, 0.0)
    assert problem.choose(low / low.sum())[0] == 0  # data that rule out high risks bring it back


def test_a_reading_sharper_than_the_draws_resolve_is_flagged_thin():
    # 2000 draws of theta ~ N(0, 1) resolve about 1/2000 of its range; a reading of sd 1e-4
    # leaves one or two effective draws after every outcome, a reading of sd 1 hundreds.
    theta = np.random.default_rng(5).normal(0.0, 1.0, 2000)
    draws = {"theta": theta}
    sharp = value_of_information(_problem(theta), NoisyReading(1e-4), draws, outcomes=50, seed=6)
    plain = value_of_information(_problem(theta), NoisyReading(1.0), draws, outcomes=50, seed=6)
    assert sharp.thin_share == 1.0 and sharp.min_ess < 5
    assert plain.thin_share == 0.0 and plain.to_json()["thin_share"] == 0.0


def test_a_chance_constraint_judges_the_weighted_quantile_not_the_mean():
    # Design "bold" has a risk uniform on [0, 0.2]: mean 0.1 meets a 0.15 limit, its 90 % quantile
    # (0.18) does not; with confidence 0.9 the safe design is chosen, and reweighting onto the low
    # draws (as an outcome showing the risk small would) brings the bold one back.
    rng = np.random.default_rng(7)
    risk = rng.uniform(0.0, 0.2, 4000)
    args = (["bold", "safe"], np.vstack([np.full(4000, 10.0), np.full(4000, 5.0)]),
            {"P": np.vstack([risk, np.zeros(4000)])}, {"P": ("max", 0.15)})
    w = np.full(4000, 1 / 4000)
    assert DecisionProblem(*args, quantile=None).choose(w)[0] == 0
    chance = DecisionProblem(*args, quantile=None, confidence=0.9)
    assert chance.choose(w)[0] == 1
    low = np.where(risk < 0.1, 1.0, 0.0)
    assert chance.choose(low / low.sum())[0] == 0


def test_limits_held_under_a_reading_judge_its_draws_too():
    # Design "bold" has a risk of 0.05 on half the draws and 0.25 on the others: its mean 0.15
    # meets a 0.16 limit.  Held also under a reading whose draws are the risky half, it breaks the
    # limit there and the safe design is chosen; an outcome that leaves that reading no weight
    # (all weight on the low draws) has nothing to hold under it, and the bold one comes back.
    risk = np.r_[np.full(2000, 0.05), np.full(2000, 0.25)]
    args = (["bold", "safe"], np.vstack([np.full(4000, 10.0), np.full(4000, 5.0)]),
            {"P": np.vstack([risk, np.zeros(4000)])}, {"P": ("max", 0.16)})
    w = np.full(4000, 1 / 4000)
    reading = np.arange(2000, 4000)
    assert DecisionProblem(*args, quantile=None).choose(w)[0] == 0
    held = DecisionProblem(*args, quantile=None, held=(None, reading))
    assert held.choose(w)[0] == 1
    low = np.where(risk < 0.1, 1.0, 0.0)
    assert held.choose(low / low.sum())[0] == 0
    # a chance constraint held under the reading judges the quantile of the reading's draws
    assert DecisionProblem(*args, quantile=None, confidence=0.6, held=(None, reading)).choose(w)[0] == 1
