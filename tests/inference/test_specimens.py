"""Specimens are not cells; bounds hold in the Bayesian model; a prior-data conflict fails the
gate.  The model's structure is checked without sampling; one slow test samples the issue's
mm-for-um replicates file through the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nassb.inference import CellModel
from nassb.inference.bayes import build
from nassb.inference.conflicts import CONFLICT_SD, _prior_z
from nassb.inference.observation_terms import data_conflicts, specimen_groups
from nassb.priors import CardError, DataError, load_card
from nassb.priors.observations import JointMeasurement

from ..conftest import REPO

SYNTHETIC = REPO / "priors" / "data" / "synthetic"


def _mm_card(write_card, tmp_path):
    # The case: a 50 um separator read in mm and typed under a [mm] header.
    (tmp_path / "mm.csv").write_text("# SYNTHETIC test data: a unit mistake\nthickness [mm]\n50.1\n49\n51\n")
    return write_card("""
        base = "paper-cell-1"
        [[observations]]
        kind = "replicates"
        quantity = "separator.thickness"
        file = "mm.csv"
        reading_sd = "1 um"
    """)


def _series_card(write_card, **keys):
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    return write_card(f"""
        base = "paper-cell-1"
        [[observations]]
        kind = "arrhenius"
        quantity = "nzsp-tape.conductivity"
        file = "{SYNTHETIC / 'nzsp-conductivity.csv'}"
        {extra}
    """)


def test_each_observation_is_a_specimen_and_the_card_says_which_is_the_cells(write_card):
    card = load_card(write_card(f"""
        base = "paper-cell-1"
        [[observations]]
        kind = "arrhenius"
        quantity = "nzsp-tape.conductivity"
        file = "{SYNTHETIC / 'nzsp-conductivity.csv'}"
        specimen = "tape-7"
        cell_sample = true
        specimen_spread = "19 %"
        [[observations]]
        kind = "measurement"
        quantity = "separator.resistance"
        value = "3.3 ± 0.1 ohm*cm^2"
        specimen = "tape-7"
        [[observations]]
        kind = "measurement"
        quantity = "nzsp-tape.conductivity"
        value = "1.4 ± 0.1 mS/cm"
        [[observations]]
        kind = "arrhenius"
        quantity = "nzsp-tape.interface_resistance"
        file = "{SYNTHETIC / 'nzsp-interface-resistance.csv'}"
    """))
    groups = specimen_groups(CellModel(card))
    conductivity = groups["nzsp-tape.conductivity"]
    # The series and the resistance of tape 7 are one specimen; the third observation another.
    assert conductivity.labels == ["tape-7", "observations[2]"] and conductivity.cell == "tape-7"
    assert conductivity.spread.relative and conductivity.spread.value == pytest.approx(0.19)
    assert groups["nzsp-tape.interface_resistance"].cell is None  # the cell's interface: a new one
    pmodel, report, hierarchical = build(CellModel(card))
    assert hierarchical  # two specimens of one tape population: the second is centred on it
    for name in ("nzsp-tape.conductivity_population", "nzsp-tape.conductivity_specimen_spread",
                 "nzsp-tape.interface_resistance_population"):
        assert name in report
    # The cell's conductivity is tape 7's (its anchor), its interface a new draw.
    assert "nzsp-tape.conductivity_cell_z" not in pmodel.named_vars
    assert "nzsp-tape.interface_resistance_cell_z" in pmodel.named_vars


@pytest.mark.parametrize("keys, field, words", [
    ({"cell_sample": "tape-7"}, "observations[0].cell_sample", "true or false"),
    ({"specimen_spread": "-5 %"}, "observations[0].specimen_spread", "> 0"),
    ({"specimen_spread": "3 kg"}, "observations[0].specimen_spread", ""),
])
def test_bad_specimen_keys_name_their_field(write_card, keys, field, words):
    with pytest.raises(CardError) as caught:
        load_card(_series_card(write_card, **keys))
    assert caught.value.field == field and words in caught.value.message


def test_specimen_keys_apply_to_specimen_quantities_only(write_card):
    with pytest.raises(CardError) as caught:
        load_card(write_card("""
            base = "paper-cell-1"
            [[observations]]
            kind = "measurement"
            quantity = "separator.thickness"
            value = "50 ± 1 um"
            cell_sample = true
        """))
    assert caught.value.field == "observations[0].cell_sample" and "layer quantity" in caught.value.message


def test_two_specimens_cannot_both_be_the_cells(write_card):
    path = write_card(f"""
        base = "paper-cell-1"
        [[observations]]
        kind = "arrhenius"
        quantity = "nzsp-tape.conductivity"
        file = "{SYNTHETIC / 'nzsp-conductivity.csv'}"
        cell_sample = true
        [[observations]]
        kind = "measurement"
        quantity = "nzsp-tape.conductivity"
        value = "1.4 ± 0.1 mS/cm"
        cell_sample = true
    """)
    with pytest.raises(CardError) as caught:
        load_card(path)
    assert caught.value.field == "observations[1].cell_sample"


def _fit_summary(tmp_path, covariance=True, unit="ohm*cm^2", area=0.503):
    doc = {"spectrum": "s.csv", "temperature": 303.15, "circuit": "R_A-p(R_B,CPE_B)-p(R_C,CPE_C)", "area": area,
           "parameters": {"R_A": {"mean": 2.7, "sd": 0.3, "unit": unit}},
           "derived": {"R_separator": {"mean": 6.9, "sd": 0.1, "unit": unit},
                       "R_interface": {"mean": 1.5, "sd": 0.05, "unit": unit}}}
    if covariance:
        doc["covariance"] = {"names": ["R_A", "R_separator", "R_interface"],
                             "matrix": [[0.09, 0.0, 0.0], [0.0, 0.01, -0.003], [0.0, -0.003, 0.0025]]}
    (tmp_path / "fit").mkdir(exist_ok=True)
    (tmp_path / "fit" / "summary.json").write_text(json.dumps(doc))


def _joint_card(write_card, extra=""):
    return write_card(f"""
        base = "paper-cell-2"
        {extra}
        [[observations]]
        kind = "measurement"
        quantity = ["separator.resistance", "nzsp-tape.interface_resistance"]
        fit = "fit/summary.json"
        derived = ["R_separator", "R_interface"]
    """)


def test_a_fit_enters_with_its_covariance(write_card, tmp_path):
    _fit_summary(tmp_path)
    obs = load_card(_joint_card(write_card)).observations[0]
    assert isinstance(obs, JointMeasurement) and not obs.note
    assert [p.quantity for p in obs.parts] == ["separator.resistance", "nzsp-tape.interface_resistance"]
    assert obs.parts[0].temperature == 303.15
    np.testing.assert_allclose(obs.covariance, [[0.01, -0.003], [-0.003, 0.0025]])
    pmodel, _, _ = build(CellModel(load_card(_joint_card(write_card))))
    observed = pmodel["observations_0_observed"]
    np.testing.assert_allclose(pmodel.rvs_to_values[observed].data, [6.9, 1.5])
    # Without a covariance in the summary: independent sd's, and a note that says so.
    _fit_summary(tmp_path, covariance=False)
    obs = load_card(_joint_card(write_card)).observations[0]
    np.testing.assert_allclose(obs.covariance, np.diag([0.01, 0.0025]))
    assert "no covariance" in obs.note and "independent" in obs.note


def test_a_covariance_that_is_not_one_is_refused(write_card, tmp_path):
    _fit_summary(tmp_path)
    path = tmp_path / "fit" / "summary.json"
    doc = json.loads(path.read_text())
    doc["covariance"]["matrix"][1][2] = doc["covariance"]["matrix"][2][1] = 0.5  # |rho| > 1
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="positive definite"):
        load_card(_joint_card(write_card))


def test_a_resistance_in_ohm_takes_the_cards_area_and_its_uncertainty(write_card, tmp_path):
    # A fit without --area gives ohm: normalised by the card's [cell] area, 0.503 ± 0.013 cm^2
    # (an 8 mm disc cut to ± 0.1 mm: 2 x 0.1 / 8 = 2.5 %).
    assert pytest.approx(0.025) == 2 * 0.1 / 8
    _fit_summary(tmp_path, unit="ohm", area=None)
    card = load_card(_joint_card(write_card, '[cell]\narea = "0.503 ± 0.013 cm^2"'))
    assert [p.per_area for p in card.observations[0].parts] == [False, False]
    pmodel, report, _ = build(CellModel(card))
    assert "cell.area" in [rv.name for rv in pmodel.free_RVs] and "cell.area" in report
    # A card without an area cannot normalise it.
    with pytest.raises(CardError) as caught:
        build(CellModel(load_card(_joint_card(write_card, "[cell]\narea = false"))))
    assert "[cell] area" in caught.value.message


def test_a_value_in_ohm_is_r_over_the_area(write_card):
    from scipy import stats

    card = load_card(write_card("""
        base = "paper-cell-1"
        [cell]
        area = "0.503 ± 0.013 cm^2"
        [[observations]]
        kind = "measurement"
        quantity = "nzsp-tape.interface_resistance"
        value = "2.9 ± 0.1 ohm"
        cell_sample = true
    """))
    obs = card.observations[0]
    assert not obs.per_area and obs.value.value == 2.9 and obs.value.unit == "ohm"
    pmodel, _, _ = build(CellModel(card))
    point = pmodel.initial_point()
    outputs = pmodel.replace_rvs_by_values([pmodel["nzsp-tape.interface_resistance"], pmodel["cell.area"]])
    cell, area = pmodel.compile_fn(outputs, inputs=pmodel.value_vars, on_unused_input="ignore")(point)
    logp = pmodel.compile_logp(vars=[pmodel["observations_0_observed"]])(point)
    assert logp == pytest.approx(stats.norm.logpdf(2.9, cell / area, 0.1), rel=1e-9)


# -- bounds and conflicts ----------------------------------------------------------------------

def test_bounds_hold_for_every_bounded_input_population_and_specimen(write_card, tmp_path):
    model = CellModel(load_card(_mm_card(write_card, tmp_path)))
    pmodel, _, _ = build(model)
    # Every free variable is sampled through a transform onto its bounds, or has none to keep.
    for rv in pmodel.free_RVs:
        name = rv.name
        base = name.removesuffix("_population_mean")
        if base in model.inputs and math.isfinite(model.inputs[base].truncation()[0]):
            assert pmodel.rvs_to_transforms[rv] is not None, name
    # The cell's new tape cannot be thinner than nothing: a point where it would be has no density.
    logp = pmodel.compile_logp()
    point = pmodel.initial_point()
    assert np.isfinite(logp(point))
    point["separator.thickness_cell_z"] = np.array(-1e4)
    assert logp(point) == -np.inf


def test_a_replicates_file_in_mm_is_a_prior_data_conflict(write_card, tmp_path):
    conflicts = data_conflicts(CellModel(load_card(_mm_card(write_card, tmp_path))))
    assert len(conflicts) == 1
    words = conflicts[0]
    assert "observations[0]" in words and "separator.thickness" in words and "units" in words
    # 50033 um against 50 ± 4 um (with a spread scale of 4 and 1 um readings): 8.7e3 sd.
    z = (np.mean([50100, 49000, 51000]) - 50) / math.sqrt(4 ** 2 + 4 ** 2 + 1 ** 2)
    assert f"{z:.3g}" in words


def test_the_example_card_and_sane_data_raise_no_conflict():
    assert data_conflicts(CellModel(load_card("example-cell-1-synthetic"))) == []


def test_a_measurement_a_thousand_times_off_is_a_conflict(write_card):
    card = write_card("""
        base = "paper-cell-1"
        [[observations]]
        kind = "measurement"
        quantity = "nzsp-tape.interface_resistance"
        value = "1500 ± 100 ohm*cm^2"
    """)
    (conflict,) = data_conflicts(CellModel(load_card(card)))
    assert "observations[0]" in conflict and "specimen spread" in conflict


def test_prior_z_is_the_normal_deviate_of_the_priors_probability():
    from nassb.priors import fields, parse_quantity

    normal = parse_quantity("50 ± 4 um", fields.THICKNESS)
    assert _prior_z(normal, 50 + 5 * 4) == pytest.approx(5.0, rel=1e-6)
    lognormal = parse_quantity({"value": "1.6 ± 0.3 mS/cm", "dist": "lognormal"}, fields.CONDUCTIVITY)
    mu, sigma = lognormal.lognormal_parameters()
    assert _prior_z(lognormal, math.exp(mu - 4.5 * sigma)) == pytest.approx(4.5, rel=1e-6)
    assert _prior_z(normal, -1.0) == math.inf
    assert CONFLICT_SD == 4.0


@pytest.mark.slow
def test_bayes_strict_fails_on_the_mm_file_and_every_draw_respects_the_bounds(nassb, write_card, tmp_path):
    from nassb.inference.result import load_result

    run = nassb("propagate", str(_mm_card(write_card, tmp_path)), "--method", "bayes", "--strict", "--seed", "1",
                "--draws", "200", "--tune", "300", "--chains", "2", "--json", "--out", str(tmp_path / "out"))
    assert run.code == 3
    assert "prior-data conflict" in run.err and "observations[0]" in run.err
    doc = run.json()
    assert doc["diagnostics"]["ok"] is False
    assert any("prior-data conflict" in p for p in doc["diagnostics"]["problems"])
    result = load_result(tmp_path / "out" / "result.nc")
    for name in ("separator.thickness", "separator.thickness_population_mean", "E_V_theo", "E_V_real",
                 "E_m_theo", "R_separator"):
        assert np.all(result.draws(name) > 0), name


def test_latent_specimens_have_the_truncated_normal_density(write_card, tmp_path):
    from scipy import stats

    # A porosity population near its bound 0: the cut-off mass matters, and the density of the
    # specimens must be the truncated normal's, normaliser included.
    (tmp_path / "p.csv").write_text("# SYNTHETIC test data\nsample,porosity\nA,0.05\nA,0.06\nB,0.02\nB,0.03\n")
    card = load_card(write_card("""
        base = "paper-cell-1"
        [cathode]
        porosity = "0.04 ± 0.03"
        [[observations]]
        kind = "replicates"
        quantity = "cathode.porosity"
        file = "p.csv"
        reading_sd = 0.01
        cell_sample = "A"
    """))
    pmodel, _, _ = build(CellModel(card))
    theta = pmodel["cathode.porosity_specimen"]
    terms = [theta, *(p for p in pmodel.potentials if p.name == "cathode.porosity_specimen_bounds")]
    point = pmodel.initial_point()
    logp = pmodel.compile_logp(vars=terms, jacobian=False)(point)
    names = ["cathode.porosity_population_mean", "cathode.porosity_specimen_spread", "cathode.porosity_specimen"]
    centre, spread, values = pmodel.compile_fn(pmodel.replace_rvs_by_values([pmodel[n] for n in names]),
                                               inputs=pmodel.value_vars, on_unused_input="ignore")(point)
    expected = stats.truncnorm.logpdf(values, (0 - centre) / spread, (1 - centre) / spread, centre, spread).sum()
    assert logp == pytest.approx(expected, rel=1e-9)
