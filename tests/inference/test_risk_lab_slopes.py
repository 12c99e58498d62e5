"""A lab's own sensitivities of the short circuit (``lab.pressure_exponent``, ``lab.ccd_modulus``,
... in priors/data/risk.toml): they move the lab's cells and not the paper's, in the direction
their sign says, and a lab's cells recover them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nassb.inference.risk import RiskModel
from nassb.inference.risk.likelihood import build_batch, log_likelihood
from nassb.priors.lab import load_observed_cells
from nassb.priors.risk import LAB_SHIFTS, load_lab_priors, load_nuisances, load_risk_observations

SHORT = {"separator_thickness": 60.0, "reservoir": 30.0, "capacity": 1.5, "current": 0.3, "cycles": 50.0}


@pytest.fixture(scope="module")
def shipped():
    return RiskModel.load()


def _with(risk: RiskModel, **offsets) -> RiskModel:
    draws = dict(risk.draws)
    for name, value in offsets.items():
        draws[f"lab.{name}"] = np.full(risk.size, float(value))
    return RiskModel(draws)


def _short(risk: RiskModel, pressure: float) -> float:
    s = SHORT
    return float(np.mean(risk.short(s["current"], s["cycles"], pressure, s["reservoir"], s["separator_thickness"],
                                    s["capacity"])))


def test_every_slope_has_a_prior_with_its_source():
    priors = load_lab_priors()
    for name in (*LAB_SHIFTS, "lab.ccd_modulus", "lab.cycle_exponent"):
        assert priors[name].prior.source and priors[name].experiment, name


@settings(max_examples=15, deadline=None)
@given(shift=st.floats(0.05, 0.6))
def test_a_steeper_pressure_law_helps_above_the_reference_and_hurts_below(shipped, shift):
    steeper = _with(shipped, pressure_exponent=shift)
    assert _short(steeper, 0.1) > _short(shipped, 0.1)   # (0.1 / 1 MPa)^(a + d) < (0.1)^a: a lower ccd
    assert _short(steeper, 4.0) < _short(shipped, 4.0)


def test_the_slopes_move_the_labs_cells_and_not_the_papers(shipped):
    paper = build_batch(load_risk_observations(), load_nuisances())
    draws = {k: v[:50] for k, v in shipped.draws.items()}
    moved = {**draws, "lab.pressure_exponent": np.full(50, 0.5), "lab.ccd_modulus": np.full(50, 0.4)}
    np.testing.assert_array_equal(log_likelihood(draws, paper), log_likelihood(moved, paper))


def _synthetic_lab(tmp_path, truth: RiskModel):
    """SYNTHETIC cells of a lab whose pressure helps more than the paper's lab's: at each pressure,
    eight cells cycled 50 cycles at 0.3 mA/cm^2, as many shorted as the truth expects."""
    entries = ['[lab]\nname = "steeper-pressure"\n']
    for i, pressure in enumerate((0.05, 0.2, 1.0, 3.0)):
        p = _short(truth, pressure)
        shorted = round(8 * p)
        for count, short in ((shorted, True), (8 - shorted, False)):
            if not count:
                continue
            entries.append(
                f'[[cells]]\nbase = "paper-cell-1"\nname = "syn-{i}-{"short" if short else "held"}"\n'
                f'source = "SYNTHETIC: drawn from a lab with lab.pressure_exponent = 0.5"\ncount = {count}\n'
                f'[cells.cell]\npressure = "{pressure} MPa"\n[cells.separator]\nthickness = "60 um"\n'
                f'[cells.anode]\nreservoir_thickness = "30 um"\n'
                f'[cells.outcome]\ncurrent = "0.3 mA/cm^2"\ncycles = 50\n'
                + ("short_cycle = [1, 50]\n" if short else ""))
    path = tmp_path / "lab.toml"
    path.write_text("\n".join(entries), "utf-8")
    return load_observed_cells(path)


def test_a_labs_cells_recover_a_steeper_pressure_law(shipped, tmp_path):
    from nassb.design.recalibration import posterior_log_density, temper

    truth = _with(RiskModel({k: np.full(1, np.median(v)) for k, v in shipped.draws.items()}), pressure_exponent=0.5)
    cells = _synthetic_lab(tmp_path, truth)
    rng = np.random.default_rng(5)
    draws, gate = temper(shipped.draws, cells, rng, size=2000, base=posterior_log_density())
    assert gate["completed"], gate
    prior_sd = load_lab_priors()["lab.pressure_exponent"].prior.sd
    moved = np.asarray(draws["lab.pressure_exponent"])
    assert moved.mean() > 0.5 * prior_sd, moved.mean()   # from 0 toward the truth 0.5
