"""Designs cycled at their own rate: the current per draw, the energy at U - jR and the
transport-limited utilisation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nassb.design import DesignScorer
from nassb.design import transport
from nassb.design.run import run_design
from nassb.inference.risk import RiskModel
from nassb.priors import OptionError, load_card

PAPER = load_card("paper-cell-1")
BASE = {"cathode.theoretical_capacity": 1.5, "cathode.porosity": 0.5, "separator.thickness": 100.0,
        "anode.reservoir_thickness": 30.0, "cell.pressure": 1.0}


@pytest.fixture(scope="module")
def risk():
    return RiskModel.load()


@pytest.fixture(scope="module")
def scorer(risk):
    return DesignScorer(PAPER, risk, cycles=100)


def test_the_current_is_the_c_rate_of_each_draws_delivered_capacity(scorer):
    one = scorer.score(BASE)
    two = scorer.score(dict(BASE, **{"cathode.theoretical_capacity": 3.0}))
    for v, capacity in ((one, 1.5), (two, 3.0)):
        np.testing.assert_allclose(v["current"], 0.1 * capacity * v["utilisation"], rtol=1e-12)
    # Below the pore liquid's limit (nearly every draw of these thin cathodes), the utilisation is
    # the card's and twice the capacity is cycled at twice the current, draw by draw.
    free = np.isclose(one["utilisation"], scorer.utilisation, rtol=1e-12) & np.isclose(
        two["utilisation"], scorer.utilisation, rtol=1e-12)
    assert free.mean() > 0.99
    np.testing.assert_allclose(two["current"][free], 2 * one["current"][free], rtol=1e-12)
    assert one["current"].mean() == pytest.approx(0.1 * 1.5 * 0.849, rel=0.01)


def test_the_papers_cell_1_is_cycled_at_its_own_c10(scorer):
    # 2.14 mAh/cm^2 delivered: C/10 is the paper's 0.214 mA/cm^2.
    v = scorer.score(scorer.design_of_card(PAPER))
    assert v["current"].mean() == pytest.approx(0.214, rel=0.01)


def test_energy_at_the_cycling_current_loses_j_r_over_u(scorer):
    v = scorer.score(BASE)
    kept = 1 - v["current"] * v["R_cell"] * 1e-3 / scorer.voltage
    np.testing.assert_allclose(v["E_V_rate"] / v["E_V_real"], kept, rtol=1e-12)
    np.testing.assert_allclose(v["E_m_rate"] / v["E_m_real"], kept, rtol=1e-12)
    assert np.all(v["E_V_rate"] < v["E_V_real"])


def test_a_fixed_current_is_the_same_for_every_design(risk):
    fixed = DesignScorer(PAPER, risk, cycles=100, current=0.3)
    for capacity in (1.0, 3.0):
        values = fixed.score(dict(BASE, **{"cathode.theoretical_capacity": capacity}))
        np.testing.assert_array_equal(values["current"], 0.3)


def test_a_c_rate_and_a_current_together_are_refused(risk, tmp_path):
    with pytest.raises(OptionError) as caught:
        DesignScorer(PAPER, risk, cycles=100, c_rate=0.1, current=0.3)
    assert caught.value.field == "c_rate"
    with pytest.raises(OptionError) as caught:
        run_design(trials=1, storage=f"sqlite:///{tmp_path / 'x.db'}", c_rate=0.2, current="0.3 mA/cm^2")
    assert caught.value.field == "c_rate" and not (tmp_path / "x.db").exists()


def test_refused_c_rates(nassb):
    for value in ("0", "-1"):
        run = nassb("design", "--trials", "1", "--c-rate", value)
        assert run.code == 2 and "--c-rate" in run.err and len(run.err.strip().splitlines()) == 1
    both = nassb("design", "--trials", "1", "--c-rate", "0.2", "--current", "0.3")
    assert both.code == 2 and "--c-rate" in both.err and "not both" in both.err


def test_thick_dense_cathodes_lose_utilisation_at_a_fast_rate(risk):
    fast = DesignScorer(PAPER, risk, cycles=100, c_rate=2.0)
    thin = fast.score(dict(BASE, **{"cathode.theoretical_capacity": 1.0, "cathode.porosity": 0.6}))
    thick = fast.score(dict(BASE, **{"cathode.theoretical_capacity": 5.0, "cathode.porosity": 0.25}))
    assert thick["utilisation"].mean() < 0.9 * thin["utilisation"].mean()
    assert np.all(thick["utilisation"] <= fast.utilisation + 1e-12)
    # Slow, the same thick cathode keeps nearly the card's utilisation (the paper: no kinetic
    # limits at C/10).
    slow = DesignScorer(PAPER, risk, cycles=100).score(dict(BASE, **{"cathode.theoretical_capacity": 5.0,
                                                                     "cathode.porosity": 0.25}))
    assert slow["utilisation"].mean() > 0.97 * fast.utilisation.mean()


@settings(max_examples=60, deadline=None)
@given(capacity=st.floats(0.1, 10), utilisation=st.floats(0.3, 1.0), j_lim=st.floats(0.01, 20),
       rate=st.floats(0.05, 5))
def test_the_c_rate_current_solves_its_own_fixed_point(capacity, utilisation, j_lim, rate):
    j, u = transport.at_rate(capacity, utilisation, j_lim, c_rate=rate)
    # The current is the C-rate of what the cathode delivers at that very current.
    assert float(j) == pytest.approx(rate * float(u) * capacity, rel=1e-9)
    assert float(u) == pytest.approx(utilisation * min(1.0, j_lim / float(j)), rel=1e-9)
    assert float(u) <= utilisation * (1 + 1e-12)


def test_the_limiting_current_of_a_known_cathode():
    # 200 um, P = 0.63, 6.5 mS/cm, MacMullin number 0.63^-1.5 (Bruggeman's at the paper's
    # porosity): R_ion = 6.15 ohm cm^2; t+ = 0.35 at 303.15 K gives
    # j_lim = 12 * 0.35 * 0.026124 V / 6.15 ohm cm^2 = 17.8 mA/cm^2.
    r_ion = transport.ionic_resistance(200.0, 0.63, 6.5, 0.63 ** -1.5, 1.5)
    assert r_ion == pytest.approx(200e-4 / (6.5e-3 * 0.63 ** 1.5))
    assert transport.limiting_current(r_ion, 0.35, 303.15) == pytest.approx(17.84, rel=1e-3)


def test_without_transport_draws_the_utilisation_is_the_cards(risk):
    # A calibration whose draws lack the pore liquid leaves the card's utilisation, and says so.
    scorer = DesignScorer(PAPER, risk, cycles=100, c_rate=5.0)
    scorer.transport = False
    v = scorer.score(dict(BASE, **{"cathode.theoretical_capacity": 5.0, "cathode.porosity": 0.25}))
    np.testing.assert_allclose(v["utilisation"], scorer.utilisation)
    assert "at every rate and thickness" in scorer.utilisation_note
    assert transport.has_transport(risk) and not transport.has_transport(RiskModel({"fracture.strength": [1.0]}))


def test_the_old_corner_optimum_fails_at_its_own_c10(scorer):
    # At the card's 0.214 mA/cm^2 the search ended at 5 mAh/cm^2 and porosity 0.2 (both bounds);
    # cycled at C/10 of its own 4.2 mAh/cm^2 that cell shorts too often.
    corner = {"cathode.theoretical_capacity": 5.0, "cathode.porosity": 0.2, "separator.thickness": 152.8,
              "anode.reservoir_thickness": 59.5, "cell.pressure": 2.25}
    v = scorer.score(corner)
    # C/10 of 5 mAh/cm^2 at the card's 85 % is 0.425 mA/cm^2; a thick, dense cathode loses a
    # little of it to the pore liquid in some draws.
    assert 0.40 < v["current"].mean() <= 0.425
    assert v["P_short"].mean() > 0.4


@pytest.mark.slow
def test_the_top_proposal_at_its_own_c10_is_feasible_and_not_in_a_corner(tmp_path):
    from nassb.design import Limits, design_space

    result = run_design(trials=150, storage=f"sqlite:///{tmp_path / 'c.db'}", study="c", seed=2)
    best = result.best
    assert best is not None and best["feasible"]
    design = {k: v["value"] for k, v in best["design"].items() if k != "cathode.thickness"}
    v = DesignScorer(PAPER, RiskModel.load(), cycles=100).score(design)
    assert all(x <= 1e-9 for x in Limits().violations({k: float(a.mean()) for k, a in v.items()}).values())
    def scaled(var, x):  # where the search sees it: log-scaled variables (the pressure) by their log
        return np.log(x) if var.log else x

    on_bound = [var.name for var in design_space(PAPER)
                if min(scaled(var, design[var.name]) - scaled(var, var.low),
                       scaled(var, var.high) - scaled(var, design[var.name]))
                <= 0.01 * (scaled(var, var.high) - scaled(var, var.low))]
    # At most one variable on its box: the densest cathode the space allows (0.2) is where energy
    # goes when nothing else stops it; a second one would mean the box, not the physics, decides.
    assert len(on_bound) <= 1, on_bound
    # What binds is the physics, not the box: the short-circuit and fracture limits.
    assert set(best["active_constraints"]) & {"P_short", "P_fracture"}
