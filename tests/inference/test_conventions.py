"""Conventions named and chosen: the energy at a stated current (U - jR) against hand
calculations, what a current needs, the plated layer's relative spread, and uncertain
capacities and loadings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nassb.inference import CellModel
from nassb.inference.montecarlo import draw_inputs
from nassb.inference.propagate import propagate
from nassb.priors import OptionError, load_card

SWELL = 1e4 / (1166 * 0.968)


def test_energy_at_a_current_is_u_minus_jr_by_hand():
    # Cell 1 at 0.2 mA/cm^2 through a measured 600 ± 100 ohm cm^2: j R = 0.12 V (the issue's
    # number), so every energy scales by (3.4 - 0.12) / 3.4, and R's uncertainty adds
    # E / U x j u_R to its first-order uncertainty.  (600 ± 100 is cut at 0, 6 sd away: its mean
    # moves by a few 1e-8.)
    plateau = propagate("paper-cell-1")
    at = propagate("paper-cell-1", current=0.2, resistance="600 ± 100 ohm*cm^2")
    drop = 0.2e-3 * 600
    assert drop == pytest.approx(0.12)
    for q in ("E_V_theo", "E_V_real", "E_m_theo", "E_m_real"):
        e, u = plateau[q]["mean"], plateau[q]["sd"]
        assert at[q]["mean"] == pytest.approx(e * (3.4 - drop) / 3.4, rel=1e-8), q
        expected = math.hypot(u * (3.4 - drop) / 3.4, e / 3.4 * 0.2e-3 * 100)
        assert at[q]["sd"] == pytest.approx(expected, rel=1e-6), q
    assert at["d_anode_real"] == plateau["d_anode_real"]  # thicknesses do not depend on U
    budget = {e["input"]: e for e in at.budget("E_V_real")}
    assert budget["cell.resistance"]["contribution"] == pytest.approx(plateau["E_V_real"]["mean"] / 3.4 * 0.02,
                                                                      rel=1e-6)
    conventions = at.conventions
    assert conventions["voltage"] == "U - jR" and conventions["current"]["value"] == 0.2
    assert conventions["resistance"]["value"] == 600 and "3.28 V" in conventions["text"]


def test_a_c_rate_is_of_the_delivered_capacity():
    at = propagate("paper-cell-1", c_rate=0.1, resistance="600 ohm*cm^2")
    assert at.conventions["current"]["value"] == pytest.approx(0.214)
    plateau = propagate("paper-cell-1")["E_V_real"]["mean"]
    assert at["E_V_real"]["mean"] == pytest.approx(plateau * (3.4 - 0.214e-3 * 600) / 3.4, rel=1e-12)


@pytest.mark.parametrize("options, field, words", [
    ({"current": 0.2}, "resistance", "not a cell's resistance"),
    ({"current": 0.2, "c_rate": 0.1, "resistance": "600 ohm*cm^2"}, "c_rate", "not both"),
    ({"resistance": "600 ohm*cm^2"}, "resistance", "give current or c_rate"),
    ({"current": 10, "resistance": "600 ohm*cm^2"}, "current", "reaches the cell voltage"),
    ({"current": 0.2, "resistance": "3 kg"}, "resistance", ""),
    ({"convention": "charged"}, "convention", "must be one of paper, mass-conserving"),
])
def test_what_a_current_needs_is_refused_by_name(options, field, words):
    with pytest.raises(OptionError) as caught:
        propagate("paper-cell-1", **options)
    assert caught.value.field == field and words in caught.value.message


def test_a_card_field_resistance_is_the_cells(monkeypatch, write_card):
    # Where the schema has a [cell] resistance, a card's measured value is used.
    from nassb.priors import fields

    monkeypatch.setitem(fields.CELL_FIELDS, "resistance", fields.AREA_RESISTANCE)
    path = write_card('base = "paper-cell-1"\n[cell]\nresistance = "600 ± 100 ohm*cm^2"\n')
    at = propagate(path, current=0.2)
    assert at.conventions["resistance"]["sd"] == 100
    assert at["E_V_real"]["mean"] == pytest.approx(propagate("paper-cell-1")["E_V_real"]["mean"] * 3.28 / 3.4)


def test_the_command_line_takes_the_conventions(nassb):
    run = nassb("propagate", "paper-cell-1", "--convention", "mass-conserving", "--current", "0.2 mA/cm^2",
                "--resistance", "600 ± 100 ohm*cm^2", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["conventions"]["convention"] == "mass-conserving" and doc["conventions"]["voltage"] == "U - jR"
    e_m = 3.4 * 2.52 / (3.4 * 2.52 / propagate("paper-cell-1")["E_m_theo"]["mean"] - 2.52 / 1166)
    assert doc["quantities"]["E_m_theo"]["mean"] == pytest.approx(e_m * 3.28 / 3.4, rel=1e-9)
    text = nassb("propagate", "paper-cell-1", "--c-rate", "0.1", "--resistance", "600 ohm*cm^2").out
    assert "U - jR = 3.4 V - 0.214 mA/cm^2" in text.splitlines()[1]
    refused = nassb("propagate", "paper-cell-1", "--current", "0.2")
    assert refused.code == 2 and refused.err.startswith("nassb: --resistance: ")


def test_the_plated_layers_spread_scales_with_what_is_plated():
    # Cell 1's 3.3 um at its plated 19.0 um is a relative 17.4 %: a design drawn from cell 1's
    # card that plates 5 mAh/cm2 onto no reservoir gets 17.4 % of its own 44.3 um, not 3.3 um.
    model = CellModel(load_card("paper-cell-1"))
    relative = 3.3 / (SWELL * 2.14)
    assert model.inputs["anode.plating"].sd == pytest.approx(relative, rel=1e-12)
    x = draw_inputs(model, np.random.default_rng(1), 200_000)
    x.update({"anode.reservoir_thickness": 0.0, "cathode.delivered_capacity": 5.0,
              "cathode.theoretical_capacity": 5.5})
    plated = np.asarray(model.evaluate(x)["d_anode_real"])
    assert plated.mean() == pytest.approx(SWELL * 5, rel=2e-3)
    assert plated.std() == pytest.approx(relative * SWELL * 5, rel=0.01)
    assert SWELL * 5 * relative == pytest.approx(7.7, abs=0.05)


def test_the_zero_reservoir_roadmap_carries_cell_1s_relative_spread():
    # Roadmap step 3 is all plated sodium: 22.3 um ± 17.4 % (3.9 um), not ± 3.3 um.
    result = propagate("paper-roadmap-3-no-reservoir")["d_anode_real"]
    assert result["mean"] == pytest.approx(SWELL * 2.52, rel=1e-6)
    assert result["sd"] == pytest.approx(3.9, abs=0.01)
    assert result["sd"] / result["mean"] == pytest.approx(3.3 / (SWELL * 2.14), rel=0.01)


def test_capacities_and_loading_may_carry_uncertainties(write_card):
    # The paper's cards keep them exact; a measured cell's card gives them with their ±.
    path = write_card("""
        base = "paper-cell-1"
        [cathode]
        theoretical_capacity = false
        porosity = false
        loading = "23.1 ± 0.5 mg/cm2"
        active_fraction = 0.925
        delivered_capacity = "2.14 ± 0.05 mAh/cm2"
    """)
    result = propagate(path)
    c_theo = 23.1e-3 * 0.925 * 118
    assert result["C_theo"]["mean"] == pytest.approx(c_theo, rel=1e-9)
    assert result["C_theo"]["sd"] == pytest.approx(c_theo * 0.5 / 23.1, rel=1e-9)
    utilisation = math.hypot(0.05 / c_theo, 2.14 / c_theo * 0.5 / 23.1)
    assert result["utilisation"]["sd"] == pytest.approx(utilisation, rel=1e-9)
    assert propagate("paper-cell-1")["utilisation"]["sd"] == 0  # the paper's choice


def test_a_cards_measured_cell_resistance_gives_the_energy_at_a_current(write_card):
    from nassb.inference.propagate import propagate

    path = write_card('base = "paper-cell-1"\n[cell]\nresistance = "590 ± 60 ohm*cm^2"\n')
    at_rate = propagate(path, current=0.2)["E_V_real"]["mean"]
    plateau = propagate(path)["E_V_real"]["mean"]
    # U - jR = 3.4 - 0.2e-3 * 590 = 3.282 V: the energy scales with the voltage.
    assert at_rate == pytest.approx(plateau * (3.4 - 0.2e-3 * 590) / 3.4, rel=1e-9)
