"""A lab's own cells recalibrate the risk models: lab-level offsets, fingerprints of what a
posterior was calibrated on, and the calibrated range a design may extrapolate beyond."""

from __future__ import annotations

import numpy as np
import pytest

from nassb.inference.risk import RiskModel
from nassb.inference.risk.calibrate import calibrate_risks, input_fingerprints, observed_cells, observed_range
from nassb.priors import OptionError
from nassb.priors.lab import load_observed_cells

from ..conftest import REPO

EXAMPLE = REPO / "priors" / "examples" / "lab-cells-synthetic.toml"


def test_without_the_paper_a_lab_file_is_needed():
    with pytest.raises(OptionError) as err:
        calibrate_risks(with_paper=False)
    assert err.value.field == "observations"


def test_the_lab_cells_come_after_the_papers_and_carry_the_offsets():
    cells = observed_cells(EXAMPLE)
    paper = [c for c in cells if not c.lab]
    lab = [c for c in cells if c.lab]
    assert paper and lab and list(cells)[:len(paper)] == paper
    assert observed_cells(EXAMPLE, with_paper=False).cells == load_observed_cells(EXAMPLE).cells


def test_the_fingerprints_name_the_lab_file_by_its_content(tmp_path):
    lab = load_observed_cells(EXAMPLE)
    prints = input_fingerprints(lab)
    assert prints["lab_sha256"] == lab.sha256 and prints["with_paper"] == 1
    assert input_fingerprints()["lab_sha256"] == ""
    assert input_fingerprints(lab, with_paper=False)["observations_sha256"] == ""
    # The capacities file it names is part of its content.
    copy = tmp_path / "lab.toml"
    copy.write_text(EXAMPLE.read_text())
    csv = (EXAMPLE.parent / "lab-cells-synthetic-capacities.csv").read_text()
    (tmp_path / "lab-cells-synthetic-capacities.csv").write_text(csv)
    same = load_observed_cells(copy).sha256
    (tmp_path / "lab-cells-synthetic-capacities.csv").write_text(csv.replace("2.1381", "2.1300"))
    assert load_observed_cells(copy).sha256 != same


def test_the_observed_range_spans_paper_and_lab():
    r = observed_range(observed_cells(EXAMPLE))
    assert r["anode.reservoir_thickness"] == [0.0, 36.0]          # the lab's zero-excess cell
    assert r["cell.pressure"][0] == pytest.approx(0.005) and r["cell.pressure"][1] == pytest.approx(1.0)
    assert r["current"] == [pytest.approx(0.1), pytest.approx(1.0)]


@pytest.mark.slow
def test_a_lab_whose_thin_tapes_held_gets_a_lower_fracture_risk_for_thin_tapes(tmp_path):
    # SYNTHETIC lab: its 50 um tapes held 0.1 and 0.2 MPa, where the paper's cracked.
    result = calibrate_risks(observations=EXAMPLE, draws=300, tune=400, chains=2, seed=11)
    lab = result.risk_model()
    paper = RiskModel.load()
    assert "lab.strength" in lab.draws and lab.lab == "synthetic-lab"
    assert np.mean(lab.draws["lab.strength"]) > 0.1                # the lab's tapes are stronger
    for pressure in (0.1, 0.2):
        assert lab.fracture(pressure, 50.0, 0.503).mean() < 0.7 * paper.fracture(pressure, 50.0, 0.503).mean()
    # The file remembers what it was calibrated on, and loads back with the lab's range.
    path = result.to_netcdf(tmp_path / "lab.nc")
    loaded = RiskModel.load(path)
    assert loaded.observed_range()["anode.reservoir_thickness"] == (0.0, 36.0)
    assert loaded.lab == "synthetic-lab"
    np.testing.assert_allclose(loaded.fracture(0.1, 50.0, 0.503), lab.fracture(0.1, 50.0, 0.503))
    from nassb.inference.result import load_result

    again = load_result(path)
    assert again.fingerprints["lab_sha256"] == load_observed_cells(EXAMPLE).sha256
