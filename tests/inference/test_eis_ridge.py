"""Where an arc's time constant makes a ridge, SMC starts along it (fast)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nassb.inference.eis import laplace as L
from nassb.inference.eis import read_spectra
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.coordinates import Layout, tau_bounds
from nassb.inference.eis.leastsq import fit_least_squares
from nassb.inference.eis.ridge import DROP, MOST, STEP, ridge_components

from .test_eis_circuit import FIG5, SYNTHETIC


def _mode(name: str, circuit: str):
    spectrum = read_spectra(SYNTHETIC / name)[0]
    layout = Layout.of(Circuit(circuit))
    post = L.LogPosterior(spectrum, layout)
    return spectrum, layout, post, L.find_mode(post, fit_least_squares(spectrum, layout).theta)


def test_a_well_determined_spectrum_has_no_ridge():
    """SYNTHETIC (Fig. 5 at 30 degC): both arcs inside the window, their time constants tight:
    one step of ln tau drops ln p by far more than the ridge's limit."""
    _, _, post, mode = _mode("na-nzsp-na-30C.csv", FIG5)
    assert ridge_components(post, mode) == []


def test_an_arc_above_the_window_gives_ts_along_its_ridge_within_the_assumed_range():
    """SYNTHETIC: the unresolved arc peaks at 10 MHz above a 1 MHz sweep.  Its t's lie a step or
    more along its ln tau, within the assumed range, each within ln p of the mode by the ridge's
    limit, their weights a distribution; the second arc, inside the window, makes no ridge and
    stays where the mode has it."""
    spectrum, layout, post, mode = _mode("nzsp-unresolved-arc.csv", "R0-p(R1,CPE1)-p(R2,CPE2)")
    ridge = ridge_components(post, mode)
    assert 1 <= len(ridge) <= MOST
    weights = np.array([a for a, _, _ in ridge])
    assert np.all(weights > 0) and math.isclose(weights.sum(), 1.0)
    fast, gap = (int(i) for i in layout.tau_indices())
    taus = np.array([m[fast] for _, m, _ in ridge])
    lo, hi = (math.log(b) for b in tau_bounds(spectrum))
    assert np.all(np.abs(taus - mode.x[fast]) >= 0.99)
    assert lo - 0.5 < taus.min() and taus.max() < hi
    slow = np.array([m[fast] + math.exp(m[gap]) for _, m, _ in ridge])
    assert np.allclose(slow, mode.x[fast] + math.exp(mode.x[gap]), atol=0.3)
    assert all(float(post(m[None])[0]) > mode.log_density - DROP - 1e-6 for _, m, _ in ridge)
    for _, _, factor in ridge:  # each a proper t: a lower-triangular factor with a positive diagonal
        assert np.allclose(factor, np.tril(factor)) and np.all(np.diag(factor) > 0)


def test_a_slow_arc_below_the_window_is_stepped_in_its_own_time_constant():
    """SYNTHETIC: Fig. 5's shape with its second arc at tau = 10 s, 1.8 decades below a sweep that
    ends at 1 Hz.  Its ridge is stepped through the gap coordinate so that ln tau_2 itself moves by
    whole steps while the first arc's time constant stays at the mode's."""
    from .test_eis_fit import synthetic

    circuit = "R0-p(R1,CPE1)-p(R2,CPE2)"
    truth = {"R0": 10.0, "R1": 50.0, "CPE1_Q": 1e-4 ** 0.85 / 50.0, "CPE1_n": 0.85,
             "R2": 200.0, "CPE2_Q": 10.0 ** 0.8 / 200.0, "CPE2_n": 0.8}
    spectrum = synthetic(circuit, truth, "slow-arc", 3)
    layout = Layout.of(Circuit(circuit))
    post = L.LogPosterior(spectrum, layout)
    mode = L.find_mode(post, fit_least_squares(spectrum, layout).theta)
    fast, gap = (int(i) for i in layout.tau_indices())
    slow_mode = mode.x[fast] + math.exp(mode.x[gap])
    ridge = ridge_components(post, mode)
    moved = [m for _, m, _ in ridge if abs(m[fast] + math.exp(m[gap]) - slow_mode) > 0.5]
    assert moved, "no t along the slow arc's ridge"
    for m in moved:
        steps = (m[fast] + math.exp(m[gap]) - slow_mode) / STEP
        assert steps == pytest.approx(round(steps), abs=1e-6) and m[fast] == pytest.approx(mode.x[fast])


class _Banana:
    """x1 ~ N(0, 1), x2 | x1 ~ N(x1^2 - 1, 1), x3 ~ N(0, 1): E[x2] = 0, var(x2) = 3."""

    size = 3

    def __call__(self, x):
        return -0.5 * (x[..., 0] ** 2 + (x[..., 1] - (x[..., 0] ** 2 - 1)) ** 2 + x[..., 2] ** 2)


def test_smc_started_partly_along_a_ridge_still_targets_the_posterior():
    """The starting distribution is the tempering's q everywhere (first draws, the moves'
    tempered density, the defensive part of the proposals): t's placed off the banana's centre,
    along one arm, as a ridge would place them, change where the particles start, not what
    they converge to."""
    from nassb.inference.eis.smc import smc_sample

    mode = L.Mode(np.array([0.0, -1.0, 0.0]), np.eye(3), 0.0, True)
    arm = [(0.5, np.array([1.5, 1.25, 0.0]), 0.5 * np.eye(3)), (0.5, np.array([2.5, 5.25, 0.0]), 0.5 * np.eye(3))]
    draws = smc_sample(_Banana(), mode, 4000, np.random.default_rng(3), ridge=arm)
    assert draws.accepted, draws.verdict
    assert abs(draws.theta[:, 0].mean()) < 0.1 and abs(draws.theta[:, 1].mean()) < 0.15
    assert draws.theta[:, 1].var() == pytest.approx(3.0, rel=0.12)


def test_the_check_draws_more_proposals_where_only_its_ess_falls_short(monkeypatch):
    """A normal posterior and particles from it: 300 proposals give a k-hat far below the limit
    and an ESS below 400, so more are drawn from the same mixture, 300 at a time, until the ESS
    reaches 400; with the limit on k-hat unmet, none are."""
    from nassb.inference.eis import smc

    monkeypatch.setattr(smc, "MIN_PROPOSALS", 300)
    post = lambda x: -0.5 * np.sum(np.asarray(x) ** 2, axis=-1)  # noqa: E731
    mode = L.Mode(np.zeros(3), np.eye(3), 0.0, True)
    start = [(1.0, np.zeros(3), 1.5 * np.eye(3))]
    rng = np.random.default_rng(0)
    particles = rng.standard_normal((2000, 3))
    check = smc._check(post, mode, start, particles, 100, rng)
    assert check.x.shape[0] in (600, 900, 1200) and check.ess >= 400 and check.k_hat < 0.7
    monkeypatch.setattr(smc, "K_HAT_LIMIT", -1.0)  # no k-hat passes: no more proposals
    assert smc._check(post, mode, start, particles, 100, rng).x.shape[0] == 300
