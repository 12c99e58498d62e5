"""The posterior without a sampler: Pareto smoothing against arviz's, the numpy log density
against the PyMC model's, and importance sampling where the answer is known (fast)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nassb.inference.eis import laplace as L
from nassb.inference.eis import read_spectra
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.coordinates import Layout
from nassb.inference.eis.leastsq import fit_least_squares
from nassb.inference.eis.units import _tail_note
from nassb.inference.statistics import heavy_tail

from .test_eis_circuit import FIG5, SYNTHETIC


@pytest.mark.parametrize("scale, dof", [(0.3, 3), (1.0, 3), (0.8, 5), (0.5, 50)])
def test_pareto_smoothing_matches_arviz(scale, dof):
    from nassb.inference.diagnostics import import_arviz

    log_ratios = np.random.default_rng(7).standard_t(dof, size=4000) * scale
    expected, k_expected = import_arviz().psislw(log_ratios.copy())
    smoothed, k_hat = L.psis(log_ratios)
    assert k_hat == pytest.approx(float(k_expected), rel=0.02, abs=0.02)
    np.testing.assert_allclose(np.exp(smoothed), np.exp(np.asarray(expected)), rtol=0.03, atol=1e-6)
    assert np.exp(smoothed).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [-0.2, 0.3, 0.8])
def test_generalised_pareto_shape_is_recovered(shape):
    from scipy.stats import genpareto

    x = genpareto.rvs(shape, scale=2.0, size=5000, random_state=3)
    k, sigma = L.gpd_fit(x, prior=False)
    assert k == pytest.approx(shape, abs=0.06) and sigma == pytest.approx(2.0, rel=0.1)
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(L.gpd_quantile(p, shape, 2.0), genpareto.ppf(p, shape, scale=2.0), rtol=1e-10)


def test_the_fast_tail_check_agrees_with_the_statistics_module():
    rng = np.random.default_rng(0)
    for draws in (rng.normal(size=4000), rng.lognormal(0, 0.5, 4000), rng.standard_t(3, 4000),
                  rng.standard_cauchy(4000), 1 / rng.normal(1, 0.4, 4000)):
        slow, fast = heavy_tail(draws), _tail_note(draws)
        assert (slow is None) == (fast is False), (slow, fast)
        if slow:
            assert slow.split("(")[0] == fast.split("(")[0] and slow.split(";")[1] == fast.split(";")[1]


def _fig5():
    spectrum = read_spectra(SYNTHETIC / "na-nzsp-na-30C.csv")[0]
    layout = Layout.of(Circuit(FIG5))
    return spectrum, layout, fit_least_squares(spectrum, layout)


def test_the_numpy_posterior_is_the_pymc_model_and_the_cached_model_takes_the_next_spectrum():
    """ln p of the Laplace path and of the NUTS model differ by a constant at any point; the
    model kept per circuit, given another spectrum's data, is that spectrum's model (one
    compiled function serves both)."""
    from nassb.inference.eis.model import spectrum_model

    layout = Layout.of(Circuit(FIG5))
    spectra = [read_spectra(SYNTHETIC / name)[0] for name in ("na-nzsp-na-30C.csv", "na-nzsp-na-minus10C.csv")]
    starts = [fit_least_squares(s, layout) for s in spectra]
    pmodel = spectrum_model(spectra[0], layout, starts[0])
    logp = pmodel.compile_logp()
    rng = np.random.default_rng(1)
    for spectrum, start in zip(spectra, starts):
        assert spectrum_model(spectrum, layout, start) is pmodel
        post = L.LogPosterior(spectrum, layout)
        differences = []
        for _ in range(4):
            u = rng.normal(size=(1, len(layout.coordinates)))
            noise = float(start.rms * np.exp(rng.normal(0, 0.2)))
            theta = start.theta + start.scale @ u[0]
            ours = float(post(np.r_[theta, math.log(noise)][None, :])[0])
            theirs = float(logp({"u": u, "noise_log__": np.array([math.log(noise)])}))
            differences.append(theirs - ours)
        assert np.ptp(differences) < 1e-6 * max(1.0, abs(differences[0])), (spectrum.name, differences)


def test_importance_sampling_of_a_normal_target_is_exact():
    """A posterior that is exactly normal: the Laplace mode and curvature are exact, k-hat is low
    and the resampled draws have the right mean and sd."""

    class Normal:
        size = 3

        def __init__(self):
            self.mean = np.array([1.0, -2.0, 0.5])
            a = np.array([[1.0, 0.5, 0.0], [0.0, 0.3, 0.2], [0.0, 0.0, 0.1]])
            self.cov = a @ a.T

        def __call__(self, x):
            d = x - self.mean
            return -0.5 * np.einsum("...i,ij,...j->...", d, np.linalg.inv(self.cov), d)

    target = Normal()
    mode = L.Mode(target.mean, np.linalg.inv(target.cov), 0.0, True)
    draws = L.importance_sample(target, mode, 4000, np.random.default_rng(2))
    x = np.c_[draws.theta, np.log(draws.noise)]
    assert draws.accepted and draws.k_hat < 0.3 and draws.ess > 0.8 * draws.proposals and draws.rounds == 1
    assert np.all(np.abs(x.mean(axis=0) - target.mean) < 4 * np.sqrt(np.diag(target.cov) / draws.ess))
    np.testing.assert_allclose(np.cov(x.T), target.cov, rtol=0.1, atol=0.01)


def test_a_curved_posterior_is_followed_by_the_adapted_mixture():
    """A banana: x1 ~ N(0, 1), x2 | x1 ~ N(b (x1^2 - 1), 1), x3 ~ N(0, 1).  The Laplace
    approximation at the mode (0, -b, 0) has var(x2) = 1 and misses E[x2] = 0 and
    var(x2) = 1 + 2 b^2; the mixture adapted by population Monte Carlo finds both."""
    b = 0.6

    class Banana:
        size = 3

        def __call__(self, x):
            return -0.5 * (x[..., 0] ** 2 + (x[..., 1] - b * (x[..., 0] ** 2 - 1)) ** 2 + x[..., 2] ** 2)

    mode = L.Mode(np.array([0.0, -b, 0.0]), np.eye(3), 0.0, True)
    draws = L.importance_sample(Banana(), mode, 4000, np.random.default_rng(4))
    x2 = draws.theta[:, 1]
    assert draws.rounds > 1 and draws.accepted, draws.verdict
    assert "mixture of" in draws.verdict
    assert abs(x2.mean()) < 4 * np.sqrt((1 + 2 * b ** 2) / draws.ess)
    assert x2.var() == pytest.approx(1 + 2 * b ** 2, rel=0.1)


def test_a_well_determined_spectrum_is_accepted_and_an_unresolved_arc_refused():
    spectrum, layout, start = _fig5()
    post = L.LogPosterior(spectrum, layout)
    mode = L.find_mode(post, start.theta)
    assert mode.converged
    good = L.importance_sample(post, mode, 4000, np.random.default_rng(0))
    assert good.accepted and good.k_hat < 0.5 and good.ess > 0.5 * good.proposals, good.verdict
    assert good.method.startswith("Laplace + PSIS (k-hat ")
    assert np.median(good.noise) == pytest.approx(0.005, rel=0.15)  # the file's noise: 0.5 % of |Z|

    unresolved = read_spectra(SYNTHETIC / "nzsp-unresolved-arc.csv")[0]
    layout = Layout.of(Circuit("R0-p(R1,CPE1)-p(R2,CPE2)"))
    post = L.LogPosterior(unresolved, layout)
    mode = L.find_mode(post, fit_least_squares(unresolved, layout).theta)
    ridge = L.importance_sample(post, mode, 4000, np.random.default_rng(0))
    assert not ridge.accepted and "not accepted" in ridge.verdict


def test_the_mode_is_found_from_a_start_that_puts_an_arc_far_beyond_the_assumed_range():
    """SYNTHETIC (Fig. 5's file): least squares may leave an arc decades beyond the range of time
    constants the fit assumes (tau 3e6 s on yadg's vsp_peis_with), where the prior's walls stall
    Newton steps far below the posterior's mode.  From such a start the mode search brings the arc
    within the range first and reaches the mode it reaches from the least-squares point."""
    spectrum, layout, start = _fig5()
    post = L.LogPosterior(spectrum, layout)
    good = L.find_mode(post, start.theta)
    far = start.theta.copy()
    slow = layout.coordinates.index(f"log_gap[{layout.arcs[1][0]}]")
    far[slow] = math.log(math.exp(far[slow]) + 30.0)  # the slow arc 13 decades slower
    assert layout.within_bounds(far, post.window[0]) is not None
    assert layout.within_bounds(start.theta, post.window[0]) is None
    found = L.find_mode(post, far)
    assert found.log_density == pytest.approx(good.log_density, abs=0.05)
    np.testing.assert_allclose(found.x, good.x, atol=0.02)


def test_arcs_are_brought_within_the_range_in_order_and_arcs_inside_it_are_left():
    """Two arcs beyond the upper edge land below it, a tenth of ln tau apart and in order; arcs
    already inside the range, however close together, are left alone (None)."""
    layout = Layout.of(Circuit("R0-p(R1,CPE1)-p(R2,CPE2)"))
    window = np.array([0.0, 5.0])  # ln tau from -5 to 5, the range from -9.6 to 9.6
    logs, exponents = {"R0": 1.0, "R1": 2.0, "R2": 3.0}, {"CPE1_n": 0.8, "CPE2_n": 0.7}
    beyond = layout.pack(logs, [12.0, 20.0], exponents)
    moved = layout.unpack(layout.within_bounds(beyond, window))[1]
    edge = 5.0 + 2.0 * math.log(10.0)
    assert moved[1] == pytest.approx(edge) and moved[0] == pytest.approx(edge - 0.1)
    assert layout.within_bounds(layout.pack(logs, [1.0, 1.05], exponents), window) is None
    low = layout.unpack(layout.within_bounds(layout.pack(logs, [-30.0, -20.0], exponents), window))[1]
    assert low[0] == pytest.approx(-edge) and low[1] == pytest.approx(-edge + 0.1)
