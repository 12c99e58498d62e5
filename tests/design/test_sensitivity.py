"""Prior sensitivity by importance reweighting: the rule for uninformed parameters, a known
truth (draws of the prior itself), and no change when the widened prior is the prior."""

from __future__ import annotations

import numpy as np
import pytest

from nassb.design import DesignScorer, Limits
from nassb.design.sensitivity import log_density, reweighting, shifts, weighted_quantile
from nassb.inference.risk import RiskModel
from nassb.priors import load_card
from nassb.priors.risk import load_risk_priors

PRIORS = load_risk_priors()


def _prior_draws(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: np.asarray(p.prior.sample(rng, n), dtype=float) for name, p in PRIORS.items()}


def test_the_widened_prior_equal_to_the_prior_gives_back_the_unweighted_figures():
    risk = RiskModel.load()
    same = reweighting(risk, widening=1.0)
    assert same.parameters and same.k_hat == 0.0
    scorer = DesignScorer(load_card("paper-cell-1"), risk, cycles=100)
    values = scorer.score(scorer.design_of_card(scorer.card))
    moved = shifts(values, same, "E_V_rate", 0.05, Limits())
    assert moved["objective"]["shift"] == pytest.approx(0.0, abs=1e-9)
    assert moved["objective"]["value"] == pytest.approx(np.quantile(values["E_V_rate"], 0.05))
    for name, q in moved["quantities"].items():
        assert q["widened"] == pytest.approx(values[name].mean(), rel=1e-12, abs=1e-15)
    assert all(v == pytest.approx(0.0, abs=1e-9) for v in moved["by_parameter"].values())


def test_reweighting_draws_of_the_prior_recovers_the_widened_prior():
    # Synthetic draws straight from the priors: no observation informs anything, so the
    # reweighted draws must follow the widened priors.  1.3 keeps the weights well behaved.
    draws = _prior_draws(40_000)
    rw = reweighting(RiskModel(draws), widening=1.3)
    assert set(rw.parameters) == set(PRIORS)  # every one of them is its prior's draws
    w, k = rw.weights("P_short")
    assert k < 0.7
    for name in ("short.pressure_exponent", "short.thickness_exponent"):  # normal priors
        prior = PRIORS[name].prior
        x = draws[name]
        mean = float(np.dot(w, x))
        sd = float(np.sqrt(np.dot(w, (x - mean) ** 2)))
        assert mean == pytest.approx(prior.value, abs=0.1 * prior.sd)
        assert sd == pytest.approx(1.3 * prior.sd, rel=0.05)
    # A lognormal prior widens on ln x, about the same median.
    prior = PRIORS["short.ccd_reference"].prior
    mu, sigma = prior.lognormal_parameters()
    z = np.log(draws["short.ccd_reference"])
    m = float(np.dot(w, z))
    assert m == pytest.approx(mu, abs=0.1 * sigma)
    assert float(np.sqrt(np.dot(w, (z - m) ** 2))) == pytest.approx(1.3 * sigma, rel=0.05)


def test_a_parameter_the_observations_narrowed_is_not_widened():
    draws = _prior_draws(4000, seed=1)
    prior = PRIORS["fracture.span_exponent"].prior
    draws["fracture.span_exponent"] = prior.value + 0.3 * (draws["fracture.span_exponent"] - prior.value)
    shifted = PRIORS["short.pressure_exponent"].prior
    draws["short.pressure_exponent"] = draws["short.pressure_exponent"] + shifted.sd  # moved by one prior sd
    rw = reweighting(RiskModel(draws))
    assert "fracture.span_exponent" not in rw.parameters
    assert "short.pressure_exponent" not in rw.parameters
    assert rw.per_parameter["fracture.span_exponent"]["sd_ratio"] == pytest.approx(0.3, abs=0.03)
    assert "short.thickness_exponent" in rw.parameters


def test_quantities_move_only_with_the_models_they_depend_on():
    rw = reweighting(RiskModel.load())
    assert rw.models_of("P_fracture") == ("fracture",)
    assert "fracture" not in rw.models_of("E_V_rate") and "short" not in rw.models_of("E_V_rate")
    # A parameter outside the four models may couple them: everything is reweighted together.
    draws = dict(RiskModel.load().draws)
    draws["observation.cell_1_pressure"] = np.ones(next(iter(draws.values())).size)
    coupled = reweighting(RiskModel(draws))
    assert coupled.models_of("P_fracture") == ("joint",) and list(coupled.by_model) == ["joint"]


def test_truncated_densities_are_normalised_on_their_bounds():
    from scipy import integrate

    prior = PRIORS["rate.bruggeman"].prior  # truncated normal on [1, 3.5]
    for widening in (1.0, 2.0):
        total, _ = integrate.quad(lambda x, w=widening: np.exp(log_density(prior, np.array([x]), w))[0], 1.0, 3.5)
        assert total == pytest.approx(1.0, rel=1e-6)


def test_weighted_quantiles():
    x = np.arange(1.0, 101.0)
    assert weighted_quantile(x, np.full(100, 0.01), 0.5) == pytest.approx(50.5)
    w = np.where(x > 50, 0.02, 0.0)
    assert weighted_quantile(x, w / w.sum(), 0.5) == pytest.approx(75.5)


def test_draws_of_a_prior_are_uninformed_by_its_own_truncated_moments():
    # Draws straight from each prior: the data told them nothing, so the sd ratio is 1 and the
    # shift 0 -- against the prior as sampled (truncated to its bounds), not its two numbers.
    from nassb.design.sensitivity import _scale, informed

    draws = _prior_draws(200_000, seed=3)
    truncated = 0
    for name, p in PRIORS.items():
        if p.prior.dist == "uniform":
            continue
        ratio, shift = informed(p.prior, draws[name])
        assert ratio == pytest.approx(1.0, abs=0.01), name
        assert shift == pytest.approx(0.0, abs=0.01), name
        log, centre, spread = _scale(p.prior)
        z = np.log(draws[name]) if log else draws[name]
        truncated += abs(z.mean() - centre) / spread > 0.05
    assert truncated >= 1  # at least one prior whose bounds move its mean: the case this guards
