"""The Bayesian fit itself (slow: NUTS): labels hold from a poor start."""

from __future__ import annotations

import numpy as np
import pytest

from nassb.inference.eis import fit as fit_module
from nassb.inference.eis import read_spectra
from nassb.inference.eis.fit import EISSettings, fit_spectra
from nassb.inference.eis.coordinates import Scales
from nassb.inference.eis.leastsq import LeastSquares
from nassb.inference.sampling import SamplerSettings

from .test_eis_circuit import FIG5, SYNTHETIC, truth_of


@pytest.mark.slow
def test_no_label_swap_from_a_poor_start(monkeypatch):
    """NUTS started from a point far from the optimum (the arcs parked at the window's low end,
    resistances split evenly, no whitening) still labels the fast arc R_B in every chain."""
    spectrum = read_spectra(SYNTHETIC / "na-nzsp-na-30C.csv")[0]
    truth = truth_of(spectrum)

    def poor(spectrum, layout, scales=None):
        sc = Scales.of(spectrum)
        lo, hi = -np.log(sc.omega_max), -np.log(sc.omega_min)
        # both arcs in the slow half of the window, the resistances split evenly, n = 0.7
        theta = layout.pack({n: np.log(sc.resistance / 3) for n in layout.logs}, list(lo + np.array([0.55, 0.85]) * (hi - lo)),
                            {n: 0.7 for n in layout.exponents})
        logs, log_tau, exponents, _ = layout.unpack(theta)
        values = {k: float(v) for k, v in layout.values(logs, log_tau, exponents).items()}
        return LeastSquares(values, theta, np.eye(theta.size) * 0.5, 0.05, 1)

    monkeypatch.setattr(fit_module, "fit_least_squares", poor)
    result = fit_spectra([spectrum], FIG5, EISSettings(sampler=SamplerSettings(draws=500, tune=1000, chains=3, seed=8),
                                                      kk=False))
    assert result.least_squares[0].values["R_B"] != pytest.approx(truth["R_B"], rel=0.2)  # the start was poor
    post = result.idata.posterior
    for name in ("R_A", "R_B", "R_C", "CPE_B_n", "CPE_C_n"):
        per_chain = np.asarray(post[name].isel(spectrum=0).mean(dim="draw"))
        spread = float(post[name].std())
        assert np.all(np.abs(per_chain - truth[name]) < 4 * spread + 0.02 * truth[name]), (name, per_chain, truth[name])
    assert result.diagnostics.max_rhat < 1.01
