"""Where an arc's time constant makes a ridge, SMC starts along it (fast)."""

from __future__ import annotations

import math

import numpy as np
from nassb.inference.eis import laplace as L
from nassb.inference.eis import read_spectra
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.coordinates import Layout, tau_bounds
from nassb.inference.eis.leastsq import fit_least_squares
from nassb.inference.eis.ridge import DROP, MOST, ridge_components

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
    """SYNTHETIC: the unresolved arc peaks at 10 MHz above a 1 MHz sweep.  The t's lie along its
    ln tau, a step or more from the mode and within the assumed range (two decades beyond the
    window, its wall a tenth of a decade), each within ln p of the mode by the ridge's limit,
    their weights a distribution."""
    spectrum, layout, post, mode = _mode("nzsp-unresolved-arc.csv", "R0-p(R1,CPE1)-p(R2,CPE2)")
    ridge = ridge_components(post, mode)
    assert 2 <= len(ridge) <= MOST
    weights = np.array([a for a, _, _ in ridge])
    assert np.all(weights > 0) and math.isclose(weights.sum(), 1.0)
    fast = layout.coordinates.index(f"log_tau[{layout.arcs[0][0]}]")
    taus = np.array([m[fast] for _, m, _ in ridge])
    lo, hi = (math.log(b) for b in tau_bounds(spectrum))
    assert np.max(np.abs(taus - mode.x[fast])) >= 0.99
    assert lo - 0.5 < taus.min() and taus.max() < hi
    assert all(float(post(m[None])[0]) > mode.log_density - DROP - 1e-6 for _, m, _ in ridge)
    for _, _, factor in ridge:  # each a proper t: a lower-triangular factor with a positive diagonal
        assert np.allclose(factor, np.tril(factor)) and np.all(np.diag(factor) > 0)
