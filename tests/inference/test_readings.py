"""The risk posterior under each reading of the paper (priors/data/risk-readings.toml): the
weights are right in direction and size where the paper's sentences disagree, the lab's cells
could weigh the readings, and a reading the draws cannot represent is flagged."""

from __future__ import annotations

import numpy as np
import pytest
from nassb.inference.risk.predict import RiskModel
from nassb.inference.risk.readings import FILE_READING, reading_weights, resample
from nassb.priors import CardError
from nassb.priors.readings import load_readings, reading_cells


@pytest.fixture(scope="module")
def readings():
    draws = RiskModel.load().draws
    return draws, {r["name"]: r for r in reading_weights(draws)}


def _mean(draws, reading, name):
    return float(np.sum(reading["weights"] * draws[name]))


def test_every_reading_quotes_its_sentence_and_answers_a_question_with_alternatives():
    readings = load_readings()
    assert {r.question for r in readings} >= {"cell 1's stack pressure", "the current of the cells like cell 2",
                                              "whether cell 1 is one of 'the 10 cells studied'",
                                              "how many selected shards cracked at 1 MPa",
                                              "whether the cathode's resistance grows or falls with its thickness"}
    assert all(len(r.rests_on) > 30 for r in readings)
    base, changed = reading_cells(next(r for r in readings if r.name == "cell-1-at-0.05MPa"))
    assert [c.name for c in base] == [c.name for c in changed] == ["cell-1"]
    assert base.cells[0].card.cell["pressure"].dist == "loguniform"  # the file's reading: 0.005-0.05 MPa
    assert changed.cells[0].card.cell["pressure"].value == pytest.approx(0.05)
    assert changed.cells[0].outcome.cycles == base.cells[0].outcome.cycles  # nothing else changes


def test_a_reading_naming_an_unknown_entry_is_refused():
    text = """[[readings]]\nquestion = "q"\nname = "n"\nentries = ["cell-9"]\nrests_on = "a sentence"\n
[readings.set.cell-9.cell]\npressure = "1 MPa"\n"""
    with pytest.raises(CardError, match="no entry 'cell-9'") as err:
        load_readings(text)
    assert err.value.field == "readings[0].entries"


def test_cell_1_at_the_texts_pressure_needs_a_stronger_pressure_effect(readings):
    """Cell 1 survived its formation at low pressure: read at 0.05 MPa rather than 0.005, its
    survival says less against a pressure effect, and the exponent rises (0.08 -> about 0.15)."""
    draws, by_name = readings
    file_, text, table = by_name[FILE_READING], by_name["cell-1-at-0.05MPa"], by_name["cell-1-at-0.005MPa"]
    assert _mean(draws, text, "short.pressure_exponent") > _mean(draws, file_, "short.pressure_exponent") + 0.03
    assert _mean(draws, table, "short.pressure_exponent") < _mean(draws, file_, "short.pressure_exponent")
    assert text["reliable"] and text["k_hat"] < 0.7


def test_the_cells_like_cell_2_at_1_mA_give_a_hazard_that_grows_with_cycling(readings):
    """Read at 0.5-1 mA/cm2 (the file) the cycle exponent falls below 1; at 1 mA/cm2 it is above
    1, as the paper's 'after some cycles ... indicative of cell degradation' says."""
    draws, by_name = readings
    assert _mean(draws, by_name[FILE_READING], "short.cycle_exponent") < 1.0
    assert _mean(draws, by_name["like-cell-2-at-1mA"], "short.cycle_exponent") > 1.05


def test_a_direction_the_posterior_cannot_express_is_flagged(readings):
    """The shipped forms give a cathode resistance that falls with thickness in (almost) every
    draw: the other direction has (almost) no draw and is flagged unreliable, not silently used."""
    _, by_name = readings
    grows = by_name["cathode-resistance-grows-with-thickness"]
    falls = by_name["cathode-resistance-falls-with-thickness"]
    assert grows["evidence"] < 0.01 and not grows["reliable"]
    assert falls["evidence"] > 0.99 and falls["reliable"]
    assert grows["evidence"] + falls["evidence"] == pytest.approx(1.0)


def test_resampling_follows_the_weights():
    w = np.array([0.0, 0.5, 0.25, 0.25])
    idx = resample(w, np.random.default_rng(1))
    assert sorted(idx.tolist()) == [1, 1, 2, 3]
