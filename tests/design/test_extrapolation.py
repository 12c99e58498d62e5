"""The calibrated range: extrapolated proposals are marked, and a within-data search stays inside."""

from __future__ import annotations

import optuna
import pytest

from nassb.design import DesignScorer, design_space
from nassb.design import extrapolation
from nassb.design.decision import Limits
from nassb.design.run import run_design
from nassb.design.study import SearchSettings, describe_design
from nassb.inference.risk import RiskModel
from nassb.priors import OptionError, load_card

PAPER = load_card("paper-cell-1")
FILE = Limits(hold="file")  # the flags do not depend on the readings: the limits under the file's reading
# A range as RiskModel.observed_range() gives it (a stand-in calibration, not the paper's).
RANGE = {"separator.thickness": (50.0, 110.0), "cell.pressure": (0.005, 1.0),
         "cathode.theoretical_capacity": (1.1, 2.6), "anode.reservoir_thickness": (20.0, 40.0),
         "current": (0.1, 1.0)}


class RangedRisk(RiskModel):
    """The shipped draws with an observed range of its own."""

    def observed_range(self):
        return dict(RANGE)


@pytest.fixture(scope="module")
def ranged():
    base = RiskModel.load()
    return RangedRisk(base.draws, base.fingerprint)


def test_the_range_comes_from_the_risk_model_where_it_has_one(ranged):
    """A record made before porosity and cathode thickness had ranges takes those two from the
    shipped observations (the paper's cells: porosity 0.63, cathodes of 100 and 200 um)."""
    found = extrapolation.calibrated_range(ranged)
    assert {k: found[k] for k in RANGE} == RANGE
    assert found["cathode.porosity"] == pytest.approx((0.63, 0.63))
    assert found["cathode.thickness"] == pytest.approx((100.0, 200.0))


def test_the_shipped_range_covers_the_papers_cells():
    shipped = extrapolation.calibrated_range(RiskModel.load())
    assert set(shipped) <= set(extrapolation.RANGE_KEYS) and "separator.thickness" in shipped
    assert all(lo <= hi for lo, hi in shipped.values())
    for thickness in (50.0, 110.0):  # the tapes of cell 1 and cell 2
        assert not extrapolation.outside({"separator.thickness": thickness}, shipped)


@pytest.mark.parametrize("changes, expected", [
    ({}, []),
    ({"cell.pressure": 2.0}, ["cell.pressure"]),
    ({"separator.thickness": 40.0, "anode.reservoir_thickness": 0.0},
     ["separator.thickness", "anode.reservoir_thickness"]),
    ({"cathode.theoretical_capacity": 2.6, "separator.thickness": 110.0}, []),  # on the edge is inside
    ({"cathode.theoretical_capacity": 4.0}, ["cathode.theoretical_capacity"]),
])
def test_extrapolated_flags_name_exactly_the_variables_outside(ranged, changes, expected):
    design = {"cathode.theoretical_capacity": 2.0, "cathode.porosity": 0.5, "separator.thickness": 80.0,
              "anode.reservoir_thickness": 30.0, "cell.pressure": 0.5, **changes}
    scorer = DesignScorer(PAPER, ranged, cycles=100)
    described = describe_design(scorer, SearchSettings(PAPER.sha256, limits=FILE), design, ranges=RANGE)
    assert described["extrapolated"] == expected
    assert 0.1 < described["current"]["mean"] < 1.0


def test_a_current_outside_the_calibrated_currents_is_flagged(ranged):
    design = {"cathode.theoretical_capacity": 2.0, "cathode.porosity": 0.5, "separator.thickness": 80.0,
              "anode.reservoir_thickness": 30.0, "cell.pressure": 0.5}
    scorer = DesignScorer(PAPER, ranged, cycles=100, current=1.5)
    assert describe_design(scorer, SearchSettings(PAPER.sha256, current=1.5, c_rate=None, limits=FILE), design,
                           ranges=RANGE)["extrapolated"] == ["current"]


def test_within_cuts_the_space_and_refuses_what_cannot_overlap():
    space = design_space(PAPER)
    cut = {v.name: (v.low, v.high) for v in extrapolation.within(space, RANGE)}
    assert cut["separator.thickness"] == (50.0, 110.0) and cut["cell.pressure"] == (0.005, 1.0)
    assert cut["cathode.porosity"] == (0.2, 0.7)  # no observation limits it
    # At C/2 with 85 % utilisation, currents 0.1-1 mA/cm^2 mean 0.24-2.4 mAh/cm^2.
    per = 1 / (0.5 * 0.85)
    cut = {v.name: (v.low, v.high) for v in extrapolation.within(space, RANGE, capacity_per_current=per)}
    assert cut["cathode.theoretical_capacity"] == pytest.approx((1.1, 1.0 * per))
    with pytest.raises(OptionError) as caught:
        extrapolation.within(space, RANGE, capacity_per_current=1 / (0.01 * 0.85))
    assert caught.value.field == "within_data" and "calibrated current" in caught.value.message
    with pytest.raises(OptionError) as caught:
        extrapolation.within(space, RANGE, current=2.0)
    assert "outside the calibrated currents" in caught.value.message
    with pytest.raises(OptionError) as caught:
        extrapolation.within(space, dict(RANGE, **{"cell.pressure": (10.0, 20.0)}))
    assert "cell.pressure" in caught.value.message


def test_a_within_data_search_keeps_every_trial_inside_the_range(ranged, tmp_path):
    storage = f"sqlite:///{tmp_path / 'w.db'}"
    result = run_design(trials=20, storage=storage, study="w", seed=3, within_data=True, posterior=ranged)
    study = optuna.load_study(study_name="w", storage=storage)
    assert len(study.trials) == 20
    for t in study.trials:
        outside = extrapolation.outside(t.user_attrs["design"], RANGE)
        assert outside == [], (t.number, outside)
        # Where a trial's current leaves the calibrated currents, a constraint makes it infeasible.
        inside = not extrapolation.outside({"current": t.user_attrs["means"]["current"]}, RANGE)
        assert inside or not t.user_attrs["feasible"]
    assert all(p["extrapolated"] == [] for p in result.proposals)  # cathode porosity and thickness included
    assert all(p["design"]["cathode.porosity"]["value"] == pytest.approx(0.63) for p in result.proposals)
    doc = result.to_json()
    assert doc["settings"]["within_data"] is True
    assert doc["calibrated_range"]["cell.pressure"] == {"low": 0.005, "high": 1.0, "unit": "MPa"}
