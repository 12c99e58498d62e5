"""Batches that finish: parallel workers and Dask give every spectrum the draws it gets alone,
an unreadable file is named and the others fitted, the SMC fallback and the least-squares start
(inductance on its own scale, values at a bound printed as such).  All spectra SYNTHETIC."""

from __future__ import annotations

import numpy as np
import pytest
from nassb.inference.eis import read_spectra
from nassb.priors import DataError
from nassb.inference.eis.api import fit_eis
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.coordinates import Layout
from nassb.inference.eis.fit import EISSettings, fit_spectra
from nassb.inference.eis import fit as fit_module
from nassb.inference.eis.laplace import LogPosterior, Mode, find_mode
from nassb.inference.eis.leastsq import fit_least_squares
from nassb.inference.eis.smc import rank_rhat, smc_sample
from nassb.inference.sampling import SamplerSettings
from nassb.priors.display.eis import least_squares_text

from .test_eis_circuit import FIG5, FIG7, SYNTHETIC, truth_of
from .test_eis_fit import _fig5_truth, synthetic

QUICK = EISSettings(sampler=SamplerSettings(draws=500, chains=2, seed=7))
FILES = [SYNTHETIC / "na-nzsp-na-30C.csv", SYNTHETIC / "na-nzsp-na-0C.csv"]


def _same_draws(a, b) -> None:
    assert [f.name for f in a.fits] == [f.name for f in b.fits]
    for x, y in zip(a.fits, b.fits):
        assert x.method == y.method
        for name in ("R_A", "R_B", "R_C"):
            np.testing.assert_array_equal(x.posterior[name], y.posterior[name])


def test_worker_processes_give_each_spectrum_its_own_draws_in_order():
    spectra = [read_spectra(p)[0] for p in FILES]
    alone = fit_spectra(spectra, FIG5, QUICK, jobs=1)
    parallel = fit_spectra(spectra, FIG5, QUICK, jobs=2)
    _same_draws(alone, parallel)


def test_a_dask_local_cluster_fits_the_batch_as_this_process_does():
    distributed = pytest.importorskip("dask.distributed")
    spectra = [read_spectra(p)[0] for p in FILES]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = fit_spectra(spectra, FIG5, QUICK, executor=client)
    _same_draws(fit_spectra(spectra, FIG5, QUICK), remote)


def test_an_unreadable_file_is_named_and_the_others_are_fitted(tmp_path, nassb):
    bad = tmp_path / "broken.csv"
    bad.write_text("this is not a spectrum\n")
    files = [str(FILES[0]), str(bad), str(FILES[1])]
    fit = fit_eis(files, FIG5, draws=250, seed=3, keep_going=True)
    assert [f.spectrum.source for f in fit.fits] == [str(FILES[0]), str(FILES[1])]
    assert list(fit.failed) == [str(bad)] and "no table" in fit.failed[str(bad)]
    with pytest.raises(DataError, match=r"broken\.csv"):
        fit_eis(files, FIG5, draws=250, seed=3)  # the API raises unless asked to go on
    run = nassb("fit", "eis", *files, "--circuit", FIG5, "--draws", "250", "--seed", "3", "--jobs", "2")
    assert run.code == 2
    assert "na-nzsp-na-30C.csv" in run.out and "na-nzsp-na-0C.csv" in run.out  # the others' results
    last = run.err.strip().splitlines()[-1]
    assert last.startswith(f"nassb: {bad}: ") and "no table" in last


def test_the_method_flag_reaches_every_spectrum(nassb):
    run = nassb("fit", "eis", str(FILES[0]), "--circuit", FIG5, "--method", "smc", "--draws", "500",
                "--seed", "2", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["diagnostics"]["method"].startswith("SMC"), doc["diagnostics"]["method"]
    assert "k-hat" in doc["diagnostics"]["method"] and "R-hat" in doc["diagnostics"]["method"]
    assert nassb("fit", "eis", str(FILES[0]), "--circuit", FIG5, "--method", "magic").code == 2


def test_smc_agrees_with_the_laplace_posterior_where_that_is_exact():
    """The Fig. 5 spectrum's posterior is nearly normal (Laplace + PSIS accepts it at k-hat near
    0): tempered SMC finds the same means and sds within Monte Carlo error, and accepts."""
    spectrum = read_spectra(FILES[0])[0]
    layout = Layout.of(Circuit(FIG5))
    post = LogPosterior(spectrum, layout)
    mode = find_mode(post, fit_least_squares(spectrum, layout).theta)
    draws = smc_sample(post, mode, 2000, np.random.default_rng(4))
    assert draws.accepted and draws.rhat < 1.01, draws.verdict
    covariance = np.linalg.inv(mode.precision)[:-1, :-1]
    z = (draws.theta.mean(axis=0) - mode.x[:-1]) / np.sqrt(np.diag(covariance))
    assert np.all(np.abs(z) < 0.25), z
    ratio = draws.theta.std(axis=0) / np.sqrt(np.diag(covariance))
    assert np.all((ratio > 0.85) & (ratio < 1.2)), ratio


def test_smc_follows_a_curved_ridge_that_one_t_distribution_misses():
    """A banana, x1 ~ N(0, 1), x2 | x1 ~ N(x1^2 - 1, 1): the Laplace t at the mode (0, -1) has
    var(x2) = 1 where it is 3.  SMC's independent moves from fitted mixtures and its adapted check
    accept it and find E[x2] = 0 and var(x2) within 10 % (its far tails are still thin: some 5 %
    low, the limit the smc module states)."""

    class Banana:
        size = 3

        def __call__(self, x):
            return -0.5 * (x[..., 0] ** 2 + (x[..., 1] - (x[..., 0] ** 2 - 1)) ** 2 + x[..., 2] ** 2)

    mode = Mode(np.array([0.0, -1.0, 0.0]), np.eye(3), 0.0, True)
    draws = smc_sample(Banana(), mode, 4000, np.random.default_rng(2))
    assert draws.accepted and draws.rhat < 1.01 and draws.k_hat < 0.5, draws.verdict
    assert abs(draws.theta[:, 1].mean()) < 0.1
    assert draws.theta[:, 1].var() == pytest.approx(3.0, rel=0.1)
    assert draws.theta[:, 0].var() == pytest.approx(1.0, rel=0.1)


def test_auto_never_falls_into_nuts_and_says_why_the_fast_draws_are_not_trusted(monkeypatch):
    """SYNTHETIC: the unresolved-arc spectrum's long ridge, with the Laplace stage's and SMC's
    checks both made to refuse (a k-hat limit of 0.01; with the real one both accept it in the
    sheet coordinates, tests/inference/test_eis_sheet.py): under ``auto`` the spectrum keeps
    SMC's particles with its gate failed, naming the refused check and how to sample it, without
    a NUTS run."""
    from nassb.inference.eis import laplace as laplace_module
    from nassb.inference.eis import smc as smc_module

    def no_nuts(*args, **kwargs):
        raise AssertionError("NUTS ran under auto")

    monkeypatch.setattr(fit_module, "_nuts", no_nuts)
    monkeypatch.setattr(laplace_module, "K_HAT_LIMIT", 0.01)
    monkeypatch.setattr(smc_module, "K_HAT_LIMIT", 0.01)
    spectrum = read_spectra(SYNTHETIC / "nzsp-unresolved-arc.csv")[0]
    fit = fit_spectra([spectrum], "R0-p(R1,CPE1)-p(R2,CPE2)", QUICK).fits[0]
    assert fit.method.startswith("SMC (k-hat"), fit.method
    assert not fit.ok
    problem = next(p for p in fit.diagnostics.problems if "not accepted" in p)
    assert "check k-hat >= 0.01" in problem and "--method nuts" in problem and "not trusted" in problem
    assert problem in fit.to_json()["diagnostics"]["problems"]


def test_rank_rhat_tells_agreeing_populations_from_shifted_ones():
    rng = np.random.default_rng(0)
    same = rng.standard_normal((4, 1000, 3))
    assert rank_rhat(same) < 1.01
    shifted = same.copy()
    shifted[0] += 0.5
    assert rank_rhat(shifted) > 1.01


def test_an_inductance_starts_on_the_scale_the_high_frequencies_show():
    """SYNTHETIC: Fig. 5's cell with 3 uH of leads, up to 100 kHz (where the leads barely show):
    least squares finds L near 3 uH, not a value decades below on the ridge to L = 0."""
    truth = {"L0": 3e-6, **_fig5_truth()}
    spectrum = synthetic("L0-" + FIG5, truth, "leads-3uH", 21, noise=0.002, f_max=1e5)
    fit = fit_least_squares(spectrum, Layout.of(Circuit("L0-" + FIG5)))
    assert fit.values["L0"] == pytest.approx(3e-6, rel=0.3)


@pytest.mark.parametrize("name, value, text", [
    ("R0", 5.976e-120, "0 (at bound)"),
    ("L0", 2e-47, "0 (at bound)"),
    ("CPE1_n", 0.9995, "0.9995 (at bound)"),
    ("CPE1_n", 0.85, "0.85"),
    ("R0", 31.2, "31.2"),
])
def test_a_least_squares_value_at_a_bound_says_so(name, value, text):
    assert least_squares_text(name, value) == text


def test_the_display_layer_reads_the_bounds_and_frequencies_as_the_fit_does():
    """nassb.priors.display sits below inference: its copy of the CPE exponent's least-squares
    range and its frequency words are held equal to the fit's own here."""
    from nassb.inference.eis import drt_result, leastsq
    from nassb.priors.display import drt, eis

    assert eis.N_RANGE == leastsq.N_RANGE
    for f in (3e6, 2.0e3, 250e3, 1.0, 0.5, 1e-3):
        assert drt.hz(f) == drt_result.hz(f)


@pytest.mark.slow
def test_the_smc_fallback_covers_the_truth_at_its_stated_rate():
    """SYNTHETIC: noisy spectra of the paper's two circuits, the truth drawn around the paper's
    values (Fig. 5's 30 degC cell, eight spectra; Fig. 7's cell 2, five, 1 MHz to 0.1 Hz), each
    fitted by tempered SMC: of their 116 95 % intervals 90-99 % hold the truth, at least 85 % of
    each circuit's, and SMC's own diagnostics accept at least three in four spectra of each
    (2026-12-07: every spectrum accepted, 110 of 116 = 94.8 %: 56 of 56 and 54 of 60; 18-37 s on two
    shared cores; in the sheet coordinates of nassb.inference.eis.sheet 108 of 116 = 93.1 %: 56 of
    56 and 52 of 60).  bench/bench_eis_sbc.py runs both circuits with more spectra (Fig. 7's cell
    2: 98.8 % of 240)."""
    settings = EISSettings(sampler=SamplerSettings(draws=1000, chains=2, seed=3), method="smc")
    cases = [(FIG5, _fig5_truth(), 8, 1.0), (FIG7, truth_of(read_spectra(SYNTHETIC / "cell-2-after-formation.csv")[0]),
                                               5, 0.1)]
    every = []
    for c, (circuit, base, count, f_min) in enumerate(cases):
        rng = np.random.default_rng(11 + c)
        hits, accepted = [], 0
        for i in range(count):
            truth = {k: (min(0.99, v + rng.normal(0, 0.02)) if k.endswith("_n") else v * np.exp(rng.normal(0, 0.2)))
                     for k, v in base.items()}
            spectrum = synthetic(circuit, truth, f"coverage-{c}-{i}", 300 + 20 * c + i, f_min=f_min)
            fit = fit_spectra([spectrum], circuit, settings).fits[0]
            assert fit.method.startswith("SMC"), fit.method
            if not fit.ok:  # refused by its own diagnostics: no interval to count
                continue
            accepted += 1
            summary = fit.summary()
            hits.extend(summary[k]["ci95"][0] <= v <= summary[k]["ci95"][1] for k, v in truth.items())
        assert accepted >= 0.75 * count and np.mean(hits) >= 0.85, (circuit, accepted, np.mean(hits))
        every.extend(hits)
    assert 0.90 <= np.mean(every) <= 0.99, (len(every), np.mean(every))
