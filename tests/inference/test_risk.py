"""Risk models: the shipped calibration reproduces what the paper saw, the forms move the right
way, and the command line scores cards."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nassb.inference.risk import RiskModel
from nassb.inference.risk import forms
from nassb.inference.risk.calibrate import input_fingerprints
from nassb.priors.risk import load_risk_observations, load_risk_priors


@pytest.fixture(scope="module")
def risk():
    return RiskModel.load()


def test_shipped_calibration_is_current():
    # The posterior shipped in priors/data was sampled from today's priors, observations and
    # forms; change any of them and `nassb risk-calibrate --out priors/data/risk-posterior.nc`.
    import xarray as xr
    from importlib import resources

    path = resources.files("nassb.priors") / "data" / "risk-posterior.nc"
    with xr.open_dataset(str(path), engine="h5netcdf", group="posterior") as ds:
        for key, digest in input_fingerprints().items():
            assert ds.attrs[key] == digest, f"{key}: the shipped calibration is stale"
        assert ds.attrs["diagnostics_divergences"] == 0
        assert ds.attrs["diagnostics_max_rhat"] < 1.01


def test_every_parameter_has_a_source_and_an_experiment():
    for name, prior in load_risk_priors().items():
        assert prior.prior.source, name
        assert prior.experiment, name


def test_every_observation_states_its_citation_and_assumption():
    obs = load_risk_observations()
    for group in (obs.fracture, obs.short, obs.resistance, obs.efficiency):
        assert group
        for o in group:
            assert o.citation and o.assumption


def test_fracture_reproduces_the_papers_tapes(risk):
    assert risk.fracture(0.1, 50.0, 0.503).mean() > 0.8           # 50 um tapes cracked above ~0.05 MPa
    assert risk.fracture(0.005, 50.0, 0.503).mean() < 0.1         # cell 1 survived 0.005 MPa
    assert 0.2 < risk.fracture(1.0, 110.0, 0.503).mean() < 0.8    # 110 um at 1 MPa: 'not consistently'


def test_short_circuit_reproduces_the_papers_cells(risk):
    # At about 1 mA/cm2, cell-1-like cells shorted within 10 cycles.
    assert risk.short(1.0, 10, 0.02, 36.0, 50.0, 2.0).mean() > 0.8
    # Cell 2 ran 70 cycles at 0.5 mA/cm2: surviving them must be plausible, not certain.
    survive = 1.0 - risk.short(0.5, 70, 1.0, 36.0, 110.0, 1.1).mean()
    assert 0.1 < survive < 0.7


def test_cell_resistances_after_formation(risk):
    # Cell 2 at 1 MPa: about 120 ohm cm2; cell 1 at 0.005 MPa: about 590 (Fig. 7).
    from nassb.inference.risk.calibrate import _card_resistances

    for card, pressure, observed in (("paper-cell-1", 0.005, 590), ("paper-cell-2", 1.0, 120)):
        c = _card_resistances(card)
        r = risk.resistance(c["R_separator"], c["R_interface"], c["thickness"], c["porosity"], pressure)
        assert np.median(r) == pytest.approx(observed, rel=0.3), card


def test_retention_with_and_without_a_reservoir():
    # Zero excess loses capacity from the first cycle; a reservoir of R buys R / (loss C) cycles.
    assert forms.retention(100, 0.01, 2.0, 0.0) == pytest.approx(0.99 ** 100)
    assert forms.retention(100, 0.01, 2.0, 4.0) == pytest.approx(1.0)      # 200 cycles covered
    assert forms.retention(300, 0.01, 2.0, 4.0) == pytest.approx(0.99 ** 100)


def test_transmission_line_limits():
    # R_ion << R_ct: R_ct + R_ion/3 (to first order in R_ion/R_ct); R_ion >> R_ct: sqrt(R_ion R_ct).
    sigma = 10.0                                           # mS/cm
    r_ion = 100e-4 / (sigma * 1e-3 * 0.63 ** 1.5)          # 2.0 ohm cm2 through 100 um
    r = forms.cathode_resistance(100.0, 0.63, sigma, 1.5, 200.0)
    assert r == pytest.approx(200.0 + r_ion / 3, rel=1e-4)
    r_ion = 100e-4 / (1e-3 * 1e-3 * 0.63 ** 1.5)
    r = forms.cathode_resistance(100.0, 0.63, 1e-3, 1.5, 1e-3)
    assert r == pytest.approx(math.sqrt(r_ion * 1e-3), rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.001, 5.0), dp=st.floats(0.001, 5.0), t=st.floats(20.0, 300.0), dt=st.floats(1.0, 100.0))
def test_fracture_grows_with_pressure_and_falls_with_thickness(risk, p, dp, t, dt):
    base = risk.fracture(p, t, 0.5).mean()
    assert risk.fracture(p + dp, t, 0.5).mean() >= base
    assert risk.fracture(p, t + dt, 0.5).mean() <= base


@settings(max_examples=40, deadline=None)
@given(j=st.floats(0.01, 5.0), dj=st.floats(0.01, 5.0), n=st.integers(1, 1000), reservoir=st.floats(0.0, 200.0))
def test_shorts_grow_with_current_and_cycles(risk, j, dj, n, reservoir):
    base = risk.short(j, n, 1.0, reservoir, 100.0, 1.0).mean()
    assert risk.short(j + dj, n, 1.0, reservoir, 100.0, 1.0).mean() >= base
    assert risk.short(j, n + 1, 1.0, reservoir, 100.0, 1.0).mean() >= base


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2000), reservoir=st.floats(0.0, 20.0), more=st.floats(0.01, 20.0))
def test_more_reservoir_never_retains_less(risk, n, reservoir, more):
    assert np.all(risk.retention(n, 2.0, reservoir + more) >= risk.retention(n, 2.0, reservoir))


def test_risk_command_scores_paper_cell_2(nassb):
    doc = nassb("risk", "paper-cell-2", "--current", "0.5 mA/cm^2", "--cycles", "70", "--json").json()
    q = doc["quantities"]
    assert set(q) == {"P_fracture", "P_short", "ohmic_drop", "retention", "R_cell"}
    assert q["ohmic_drop"]["unit"] == "V" and q["R_cell"]["unit"] == "ohm*cm^2"
    # The paper's cell 2: about 120 ohm cm2 at 0.5 mA/cm2, i.e. about 60 mV.
    assert q["ohmic_drop"]["ci95"][0] < 0.06 < q["ohmic_drop"]["ci95"][1]
    assert q["ohmic_drop"]["mean"] == pytest.approx(0.06, rel=0.3)
    for name in q:
        assert doc["most_informative"][name]["experiment"]
    assert doc["conditions"] == {"current": {"value": 0.5, "unit": "mA/cm^2"}, "cycles": 70}


def test_risk_command_defaults_to_c_over_10_and_says_what_to_measure(nassb):
    run = nassb("risk", "paper-cell-1")
    assert run.code == 0
    assert "at 0.214 mA/cm² over 100 cycles" in run.out
    assert "what would narrow each most" in run.out


@pytest.mark.parametrize("args, words", [
    (["risk", "paper-cell-1", "--current", "fast"], "--current"),
    (["risk", "paper-cell-1", "--current", "0.5 V"], "is not"),
    (["risk", "paper-cell-1", "--cycles", "0"], "--cycles"),
])
def test_risk_bad_options(nassb, args, words):
    run = nassb(*args)
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1 and words in run.err


def test_risk_needs_an_area(nassb):
    # The example Li card gives no electrode area: the fracture size effect needs one.
    from ..conftest import REPO

    run = nassb("risk", str(REPO / "priors" / "examples" / "li-garnet-nmc.toml"))
    assert run.code == 2 and "cell.area: missing" in run.err


def test_designs_broadcast_against_draws(risk):
    # The design search can score a batch of designs in one broadcast over (designs, draws);
    # its cost is measured in bench/bench_risk.py, not here.
    pressure = np.linspace(0.01, 2.0, 50)[:, None]
    probabilities = risk.fracture(pressure, 80.0, 1.0)
    assert probabilities.shape == (50, risk.size)
    assert np.all(np.diff(probabilities.mean(axis=1)) >= 0)


@pytest.mark.slow
def test_risk_calibrate_writes_draws_that_score_cards(nassb, tmp_path):
    out = tmp_path / "risk.nc"
    run = nassb("risk-calibrate", "--out", str(out), "--draws", "300", "--tune", "300", "--chains", "2",
                "--seed", "3", "--json")
    assert run.code == 0, run.err  # without --strict a short run that misses the gate still writes
    doc = run.json()
    assert set(doc["parameters"]) == set(load_risk_priors())
    fresh = RiskModel.load(out)
    assert fresh.size == 600
    assert 0.15 < fresh.fracture(1.0, 110.0, 0.503).mean() < 0.85
    scored = nassb("risk", "paper-cell-2", "--posterior", str(out), "--json").json()
    assert scored["quantities"]["P_fracture"]["ci95"][1] <= 1.0
