"""Bayesian propagation: prior-only agrees with Monte Carlo, data shrink what they inform by as
much as they should, Arrhenius fits recover known truths.  Sampling tests are marked slow."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from nassb.inference import CellModel, propagate_gum, propagate_mc
from nassb.inference.arrhenius import Series, fit_arrhenius, least_squares, series_from_table
from nassb.inference.bayes import build, propagate_bayes
from nassb.inference.cell import BOLTZMANN_EV
from nassb.inference.sampling import SamplerSettings
from nassb.priors import CardError, load_card
from nassb.priors.tables import read_table

from ..conftest import REPO

SYNTHETIC = REPO / "priors" / "data" / "synthetic"
QUICK = SamplerSettings(draws=500, tune=500, chains=2, seed=1)


def _arrhenius(t_kelvin, value_ref, energy, sign, t_ref=303.15):
    return value_ref * np.exp(sign * energy / BOLTZMANN_EV * (1 / t_kelvin - 1 / t_ref))


@pytest.fixture(scope="module")
def example():
    return propagate_bayes(CellModel(load_card("example-cell-1-synthetic")), SamplerSettings(seed=2))


@pytest.mark.slow
def test_prior_only_bayes_matches_monte_carlo():
    model = CellModel(load_card("paper-cell-1"))
    bayes = propagate_bayes(model, SamplerSettings(seed=3))
    assert bayes.diagnostics.ok, bayes.diagnostics
    mc = propagate_mc(model, draws=400_000, seed=3)
    ess = bayes.diagnostics.min_ess_bulk
    for q in ("E_V_theo", "E_V_real", "E_m_real", "d_anode_real", "R_separator", "R_interface"):
        b, m = bayes[q], mc[q]
        assert abs(b["mean"] - m["mean"]) < 4 * m["sd"] / math.sqrt(ess), q
        assert b["sd"] == pytest.approx(m["sd"], rel=0.08), q


def _own_tape_conductivity(series) -> tuple[float, float]:
    """Posterior mean and sd of a tape's conductivity at 30 degC from its series alone, by
    quadrature: the robust Eq. 4 likelihood (Student-t, 4 degrees of freedom, half-normal(0.2)
    scatter) on a grid of (ln sigma_ref, E_A, scatter) with the card's N(0.30, 0.10) eV prior;
    the wide population prior (1 ± 1 mS/cm, 19 % spread) is flat on this scale."""
    from scipy import stats

    ls = least_squares(series, 303.15)
    y = np.log(series.values)
    x = (1 / series.temperature - 1 / 303.15) / BOLTZMANN_EV
    a0, sa = math.log(ls["conductivity"]["value"]), ls["conductivity"]["se"] / ls["conductivity"]["value"]
    b0, sb = ls["activation_energy"]["value"], ls["activation_energy"]["se"]
    a = np.linspace(a0 - 8 * sa, a0 + 8 * sa, 121)[:, None, None]
    b = np.linspace(b0 - 8 * sb, b0 + 8 * sb, 121)[None, :, None]
    s = np.linspace(0.002, 0.15, 150)[None, None, :]
    logp = (stats.t.logpdf(y, df=4, loc=a[..., None] - b[..., None] * x, scale=s[..., None]).sum(-1)
            + stats.halfnorm.logpdf(s, scale=0.2) + stats.norm.logpdf(b, 0.30, 0.10))
    w = np.exp(logp - logp.max())
    w /= w.sum()
    value = np.broadcast_to(np.exp(a), w.shape)
    mean = float((w * value).sum())
    return mean, float(math.sqrt((w * (value - mean) ** 2).sum()))


def _new_interface_interval(series) -> tuple[float, float]:
    """95 % interval of a new interface's resistance, given one symmetric cell's series: a grid
    over the population (ln R_pop ~ the card's lognormal 2 ± 2 ohm cm^2, spread tau ~
    half-normal(0.40)) with the series' least squares as a normal likelihood of its specimen,
    then R_new = R_pop exp(tau z) sampled from the grid."""
    ls = least_squares(series, 303.15)["resistance"]
    lhat, se = math.log(ls["value"]), ls["se"] / ls["value"]
    s2 = math.log1p(1.0)
    m, s = math.log(2.0) - s2 / 2, math.sqrt(s2)
    u = np.linspace(m - 8 * s, m + 8 * s, 801)[:, None]
    tau = np.linspace(1e-4, 2.4, 800)[None, :]
    logp = (-0.5 * ((u - m) / s) ** 2 - 0.5 * (tau / 0.40) ** 2 - 0.5 * np.log(tau ** 2 + se ** 2)
            - 0.5 * (lhat - u) ** 2 / (tau ** 2 + se ** 2))
    w = np.exp(logp - logp.max()).ravel()
    rng = np.random.default_rng(0)
    pick = rng.choice(w.size, 400_000, p=w / w.sum())
    grid = (u.shape[0], tau.shape[1])
    uu, tt = np.broadcast_to(u, grid).ravel()[pick], np.broadcast_to(tau, grid).ravel()[pick]
    low, high = np.percentile(np.exp(uu + tt * rng.standard_normal(pick.size)), [2.5, 97.5])
    return float(low), float(high)


def _new_tape_thickness(readings: np.ndarray, reading_sd: float) -> tuple[float, float]:
    """Mean and sd of a new tape's thickness given one reading on each of several tapes: a grid
    over (mu ~ N(50, 4), tau ~ half-normal(4)) with y_i ~ N(mu, sqrt(tau^2 + reading_sd^2)); the
    new tape ~ N(mu, tau), so its variance is Var(mu) + E[tau^2]."""
    mu = np.linspace(30, 70, 2001)[:, None]
    tau = np.linspace(1e-4, 24, 2400)[None, :]
    var = tau ** 2 + reading_sd ** 2
    logp = (-0.5 * ((mu - 50) / 4) ** 2 - 0.5 * (tau / 4) ** 2 - 0.5 * readings.size * np.log(var)
            - 0.5 * ((readings[None, None, :] - mu[..., None]) ** 2).sum(-1) / var)
    w = np.exp(logp - logp.max())
    w /= w.sum()
    mean = float((w * mu).sum())
    return mean, math.sqrt(float((w * (mu - mean) ** 2).sum() + (w * tau ** 2).sum()))


@pytest.mark.slow
def test_example_posterior_widths_are_what_the_data_justify(example):
    assert example.diagnostics.ok, example.diagnostics
    # The cell's own tape (tape 7): its conductivity is what its series alone gives, neither
    # narrowed by a prior that repeats the data (the paper's 1.6 ± 0.3) nor widened.
    conductivity = series_from_table(read_table(SYNTHETIC / "nzsp-conductivity.csv"))
    mean, sd = _own_tape_conductivity(conductivity)
    assert example["nzsp-tape.conductivity"]["mean"] == pytest.approx(mean, abs=0.2 * sd)
    assert example["nzsp-tape.conductivity"]["sd"] == pytest.approx(sd, rel=0.1)
    # A new interface keeps the interface-to-interface spread however precise the symmetric
    # cell's series: its interval is the population's, ten times wider than the series' own.
    low, high = _new_interface_interval(series_from_table(read_table(SYNTHETIC / "nzsp-interface-resistance.csv")))
    got = example["nzsp-tape.interface_resistance"]["ci95"]
    assert math.log(got[0]) == pytest.approx(math.log(low), abs=0.12)
    assert math.log(got[1]) == pytest.approx(math.log(high), abs=0.12)
    # Ten readings on ten other tapes: the cell's tape is a new one.
    readings = read_table(SYNTHETIC / "separator-thickness.csv").find("thickness").values
    mean, sd = _new_tape_thickness(readings, 1.0)
    assert example["separator.thickness"]["mean"] == pytest.approx(mean, abs=0.1)
    assert example["separator.thickness"]["sd"] == pytest.approx(sd, rel=0.08)
    # Capacities: a normal level with unknown scatter, t with n - 1 dof: sd = s / sqrt(n) *
    # sqrt((n - 1) / (n - 3)).
    table = read_table(SYNTHETIC / "cell-1-cycling.csv")
    discharge = table.find("discharge").values
    n = discharge.size
    expected = discharge.std(ddof=1) / math.sqrt(n) * math.sqrt((n - 1) / (n - 3))
    assert example["cathode.delivered_capacity"]["mean"] == pytest.approx(discharge.mean(), abs=0.002)
    assert example["cathode.delivered_capacity"]["sd"] == pytest.approx(expected, rel=0.2)
    ratio = discharge / table.find("charge").values
    assert example["coulombic_efficiency"]["mean"] == pytest.approx(ratio.mean(), abs=0.003)
    # The populations are reported beside the cell's values.
    assert example["nzsp-tape.interface_resistance_population"]["ci95"][1] < got[1]


def _write_csv(path: Path, header: str, rows) -> Path:
    lines = ["# SYNTHETIC DATA - not measured: written by a test from known values.", header]
    lines += [",".join(f"{v:.6g}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
def test_replicates_shrink_energy_densities_by_what_the_data_justify(tmp_path, write_card):
    # Five readings of this cell's own cathode and separator: their thicknesses become known to
    # about a reading's error over sqrt(5); the energy density's sd must shrink to what first
    # order predicts with those posterior input uncertainties, no more and no less.
    rng = np.random.default_rng(7)
    _write_csv(tmp_path / "cathode.csv", "sample,thickness [um]",
               [(1, v) for v in 203.0 + rng.normal(0, 2.0, 5)] + [(2, v) for v in 196.0 + rng.normal(0, 2.0, 5)])
    _write_csv(tmp_path / "separator.csv", "sample,thickness [um]",
               [(1, v) for v in 51.0 + rng.normal(0, 1.0, 5)] + [(2, v) for v in 48.0 + rng.normal(0, 1.0, 5)])
    card = write_card("""
        base = "paper-cell-1"
        [[observations]]
        kind = "replicates"
        quantity = "cathode.thickness"
        file = "cathode.csv"
        reading_sd = "2 um"
        cell_sample = "1"
        [[observations]]
        kind = "replicates"
        quantity = "separator.thickness"
        file = "separator.csv"
        reading_sd = "1 um"
        cell_sample = "1"
    """)
    model = CellModel(load_card(card))
    post = propagate_bayes(model, SamplerSettings(seed=4))
    assert post.diagnostics.ok, post.diagnostics
    prior = propagate_gum(CellModel(load_card("paper-cell-1")))
    for name, reading in (("cathode.thickness", 2.0), ("separator.thickness", 1.0)):
        assert post[name]["sd"] == pytest.approx(reading / math.sqrt(5), rel=0.25)
    for q in ("E_V_real", "E_m_real"):
        expected = 0.0
        for entry in prior.budget(q):
            u = post[entry["input"]]["sd"] if entry["input"] in post.quantities else entry["sd"]
            expected += (entry["sensitivity"] * u) ** 2
        assert post[q]["sd"] == pytest.approx(math.sqrt(expected), rel=0.1), q
        assert post[q]["sd"] < 0.75 * prior[q]["sd"]


def test_observations_of_inputs_the_cell_does_not_use_are_refused(write_card, tmp_path):
    # paper-cell-1 gives its porosity: a loading is not an input of its equations.
    _write_csv(tmp_path / "p.csv", "loading [mg/cm^2]", [(23.0,), (23.4,)])
    path = write_card("""
        base = "paper-cell-1"
        [[observations]]
        kind = "replicates"
        quantity = "cathode.loading"
        file = "p.csv"
        reading_sd = "0.2 mg/cm^2"
    """)
    with pytest.raises(CardError) as caught:
        build(CellModel(load_card(path)))
    assert caught.value.field == "observations[0].quantity"
    assert "not an input of this cell" in caught.value.message


def test_least_squares_recovers_an_exact_line():
    t = np.linspace(263.15, 313.15, 8)
    series = Series(t, _arrhenius(t, 1.6, 0.28, -1.0), "conductivity", "exact")
    ls = least_squares(series, 303.15)
    assert ls["activation_energy"]["value"] == pytest.approx(0.28, rel=1e-10)
    assert ls["conductivity"]["value"] == pytest.approx(1.6, rel=1e-10)


def _simulated_resistance(seed: int, t: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(100 + seed)
    return _arrhenius(t, 1.5, 0.41, 1.0) * rng.lognormal(0.0, 0.04, t.size)


@pytest.mark.slow
def test_arrhenius_intervals_cover_known_truths():
    # Simulation-based recovery: ten data sets from a known law (4 % noise).  A calibrated 95 %
    # interval covers the truth about 95 % of the time; we require 8 of 10 (for a calibrated
    # interval, 7 or fewer happens with probability 1 %).
    t = np.arange(-10.0, 41.0, 5.0) + 273.15
    covered = 0
    for seed in range(10):
        series = Series(t, _simulated_resistance(seed, t), "resistance", f"simulated {seed}")
        fit = fit_arrhenius(series, at=303.15, settings=SamplerSettings(draws=500, tune=500, chains=2, seed=seed))
        low, high = fit["activation_energy"]["ci95"]
        covered += low < 0.41 < high
    assert covered >= 8


@pytest.mark.slow
def test_a_wrong_point_moves_least_squares_more_than_the_robust_fit():
    t = np.arange(-10.0, 41.0, 5.0) + 273.15
    values = _simulated_resistance(0, t)
    values[0] *= 3.0  # the coldest point, most leverage on the slope
    fit = fit_arrhenius(Series(t, values, "resistance", "one wrong point"), at=303.15, settings=QUICK)
    robust = abs(fit["activation_energy"]["mean"] - 0.41)
    ordinary = abs(fit.least_squares["activation_energy"]["value"] - 0.41)
    assert robust < 0.5 * ordinary
    assert fit["activation_energy"]["ci95"][0] < 0.41 < fit["activation_energy"]["ci95"][1]
    assert fit["resistance"]["ci95"][0] < 1.5 < fit["resistance"]["ci95"][1]


@pytest.mark.slow
def test_one_absurd_point_neither_drags_the_fit_nor_passes_silently():
    t = np.arange(-10.0, 41.0, 5.0) + 273.15
    values = _simulated_resistance(0, t)
    values[4] *= 1e300  # off by 10^300: a unit or typing error
    fit = fit_arrhenius(Series(t, values, "resistance", "absurd point"), at=303.15, settings=QUICK)
    assert fit["activation_energy"]["ci95"][0] < 0.41 < fit["activation_energy"]["ci95"][1]
    # The other ten points decide: the fit is theirs (least squares without the absurd point),
    # within a fraction of its own sd, not the truth 1.5 (those ten points, 4 % noise, say 1.58).
    keep = np.arange(t.size) != 4
    ten = least_squares(Series(t[keep], values[keep], "resistance", "the other ten"), at=303.15)
    assert abs(fit["resistance"]["mean"] - ten["resistance"]["value"]) < 0.5 * fit["resistance"]["sd"]
    assert fit.least_squares["resistance"]["value"] > 1e20                # least squares does not survive it
    # Least squares is dragged far off; the result names the point and fails the gate.
    assert not fit.ok and any("far off Eq. 4" in w and "10 degC" in w for w in fit.warnings)


@pytest.mark.slow
def test_a_slope_of_the_wrong_sign_is_reported_not_hidden_by_the_prior():
    t = np.arange(-10.0, 41.0, 5.0) + 273.15
    falling = _arrhenius(t, 1.6, 0.28, +1.0)  # a "conductivity" that falls with temperature
    fit = fit_arrhenius(Series(t, falling, "conductivity", "wrong sign"), at=303.15, settings=QUICK)
    assert fit.least_squares["activation_energy"]["value"] == pytest.approx(-0.28, rel=1e-6)
    assert not fit.ok and any("falls with temperature" in w for w in fit.warnings)


def test_temperatures_that_collide_are_refused():
    from nassb.priors import DataError
    from nassb.priors.observations import check_series

    with pytest.raises(DataError, match="span only"):
        check_series(np.array([300.0, 300.0 + 1e-9, 300.0]), np.array([1.0, 2.0, 3.0]), "x.csv")


def test_measurement_enters_as_written_not_as_truncated_moments(write_card):
    # 0.5 ± 0.6 ohm cm2 has a truncated prior mean of 0.71; the likelihood must use 0.5.
    path = write_card("""
        base = "paper-cell-1"
        [[observations]]
        kind = "measurement"
        quantity = "nzsp-tape.interface_resistance"
        value = "0.5 ± 0.6 ohm*cm^2"
    """)
    pmodel, _, _ = build(CellModel(load_card(path)))
    observed = pmodel["observations_0_observed"]
    assert float(pmodel.rvs_to_values[observed].data) == pytest.approx(0.5)


def test_example_series_read_as_conductivity_and_resistance():
    conductivity = series_from_table(read_table(SYNTHETIC / "nzsp-conductivity.csv"))
    resistance = series_from_table(read_table(SYNTHETIC / "nzsp-interface-resistance.csv"))
    assert conductivity.kind == "conductivity" and conductivity.unit == "mS/cm"
    assert resistance.kind == "resistance" and resistance.temperature.min() == pytest.approx(263.15)
    assert "SYNTHETIC" in read_table(SYNTHETIC / "nzsp-conductivity.csv").comments[0]


@pytest.mark.slow
def test_a_measurement_at_another_temperature_moves_the_reference_value(write_card):
    # One interface resistance of this cell of 1.0 ± 0.05 ohm cm2 measured at 25 degC, with E_A =
    # 0.41 ± 0.04 eV, pins the 30 degC value near 1.0 / exp(0.41/k_B (1/298.15 - 1/303.15)) = 0.77.
    path = write_card("""
        base = "paper-cell-1"
        [[observations]]
        kind = "measurement"
        quantity = "nzsp-tape.interface_resistance"
        value = "1.0 ± 0.05 ohm*cm^2"
        temperature = "25 degC"
        cell_sample = true
    """)
    result = propagate_bayes(CellModel(load_card(path)), QUICK)
    expected = 1.0 / math.exp(0.41 / BOLTZMANN_EV * (1 / 298.15 - 1 / 303.15))
    assert result["R_interface"]["mean"] == pytest.approx(expected, rel=0.05)
    assert result["R_interface"]["sd"] < 0.1


def test_the_far_point_check_reads_the_law_at_the_data_not_at_the_reported_temperature():
    # The check takes the posterior-mean line at the data's centre: where the value is reported
    # (--at, even 30 K, where a conductivity underflows to 0) cannot flag a point or fail.
    from nassb.inference.arrhenius import _checks

    t = np.arange(-10.0, 41.0, 5.0) + 273.15
    values = _arrhenius(t, 1.6, 0.28, -1.0)
    values[3] *= 50.0  # one typing error
    series = Series(t, values, "conductivity", "SYNTHETIC one wrong point")
    centre = 1.0 / float(np.mean(1.0 / t))
    law = (0.28, math.log(float(_arrhenius(centre, 1.6, 0.28, -1.0))), centre)
    for at in (303.15, 30.0, 50.0, 1e4):
        ls = least_squares(series, at)
        summary = {"activation_energy": {"mean": 0.28, "sd": 0.01}, "conductivity": {"mean": None, "sd": None}}
        problems = _checks(series, ls, summary, law)
        assert len(problems) == 1 and "1 point(s) lie far off Eq. 4" in problems[0] and "5 degC" in problems[0]


def test_a_bare_temperature_argument_is_read_in_kelvin_with_a_warning():
    from nassb.priors.arguments import temperature
    from nassb.priors.errors import NassbWarning

    with pytest.warns(NassbWarning, match='read in K: 30 K.*write "30 degC"'):
        assert temperature("30", "at") == 30.0
    with pytest.warns(NassbWarning, match="read in K"):
        assert temperature(30, "at") == 30.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert temperature("30 K", "at") == 30.0  # a unit given: meant
        assert temperature(303.15, "at") == 303.15
        assert temperature("30 degC", "at") == pytest.approx(303.15)
