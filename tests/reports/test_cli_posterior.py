"""A lab's own calibration on the command line: --posterior for design and report, the risk
command's build options, and risk-calibrate's --observations / --without-paper checked before any
sampling."""

from __future__ import annotations

import shutil
from importlib import resources

import pytest
import xarray as xr

from nassb import load_design

SHIPPED = resources.files("nassb.priors") / "data" / "risk-posterior.nc"


@pytest.fixture
def posterior(tmp_path):
    """A copy of the shipped calibration, as a lab's `risk-calibrate --out` file would be."""
    path = tmp_path / "lab-posterior.nc"
    shutil.copyfile(str(SHIPPED), path)
    return path


def _other_posterior(tmp_path):
    """Another calibration: the shipped draws' first half, the same priors and forms."""
    path = tmp_path / "other.nc"
    with xr.open_dataset(str(SHIPPED), engine="h5netcdf", group="posterior") as ds:
        half = ds.isel(draw=slice(0, ds.sizes["draw"] // 2)).load()
    half.attrs = dict(ds.attrs)
    half.to_netcdf(path, engine="h5netcdf", group="posterior")
    return path


def test_a_selected_shard_cracks_far_less_than_a_tape_at_the_papers_1_mpa(nassb, tmp_path):
    # paper-cell-2 as built (its card: a selected shard) against the same cell on a tape as cast
    card = tmp_path / "on-a-tape.toml"
    card.write_text('base = "paper-cell-2"\n[cell]\nname = "on a tape"\n[separator]\nselected_shard = false\n',
                    encoding="utf-8")
    tape = nassb("risk", str(card), "--json").json()
    shard = nassb("risk", "paper-cell-2", "--json").json()
    assert shard["conditions"]["selected_shard"] is True and "selected_shard" not in tape["conditions"]
    assert nassb("risk", str(card), "--selected-shard", "--json").json()["conditions"]["selected_shard"]
    assert tape["quantities"]["P_fracture"]["mean"] > 0.8
    assert shard["quantities"]["P_fracture"]["mean"] < 0.5 * tape["quantities"]["P_fracture"]["mean"]


def test_formation_cycles_are_scored_and_recorded(nassb):
    run = nassb("risk", "paper-cell-1", "--formation-cycles", "4", "--formation-current", "0.05 mA/cm^2", "--json")
    assert run.code == 0
    formation = run.json()["conditions"]["formation"]
    assert formation["cycles"] == 4 and formation["current"]["value"] == pytest.approx(0.05)


def test_a_formation_current_without_formation_cycles_is_one_line(nassb):
    run = nassb("risk", "paper-cell-1", "--formation-current", "0.05")
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1 and "--formation-cycles" in run.err


def test_without_paper_needs_a_labs_cells(nassb, tmp_path):
    run = nassb("risk-calibrate", "--out", str(tmp_path / "p.nc"), "--without-paper")
    assert run.code == 2 and "--observations" in run.err
    assert not (tmp_path / "p.nc").exists()


def test_a_bad_observations_file_is_one_line_before_any_sampling(nassb, tmp_path):
    bad = tmp_path / "lab.toml"
    bad.write_text('[[cells]]\nbase = "paper-cell-1"\nname = "lab-1"\n[cells.outcome]\nshort_cycle = "soon"\n',
                   encoding="utf-8")
    run = nassb("risk-calibrate", "--out", str(tmp_path / "p.nc"), "--observations", str(bad))
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1
    assert "lab.toml" in run.err and "short_cycle" in run.err
    assert not (tmp_path / "p.nc").exists()


def test_a_study_remembers_its_posterior_and_refuses_another(nassb, tmp_path, posterior):
    storage = f"sqlite:///{tmp_path / 'd.db'}"
    run = nassb("design", "--trials", "3", "--seed", "1", "--storage", storage, "--study", "lab",
                "--posterior", str(posterior), "--json")
    assert run.code == 0, run.err
    # The study is scored again on the file it recorded, without being told.
    from nassb.inference.risk.predict import RiskModel

    assert load_design("lab", storage).settings.risk == RiskModel.load(posterior).fingerprint
    # Another calibration is refused by name, not silently mixed.
    refused = nassb("report", "--study", "lab", "--storage", storage, "--posterior", str(_other_posterior(tmp_path)),
                    "--out", str(tmp_path / "r"))
    assert refused.code == 2 and "--posterior" in refused.err and "differs" in refused.err
    assert not (tmp_path / "r").exists()
    # A recorded file that is gone is named.
    posterior.unlink()
    gone = nassb("report", "--study", "lab", "--storage", storage, "--out", str(tmp_path / "r2"))
    assert gone.code == 2 and "lab-posterior.nc" in gone.err and "gone" in gone.err


def test_a_card_report_scores_its_risks_on_the_given_posterior(nassb, tmp_path, posterior):
    out = tmp_path / "report"
    run = nassb("report", "paper-cell-1", "--posterior", str(posterior), "--out", str(out))
    assert run.code == 0, run.err
    assert "Risk posterior: lab-posterior.nc" in (out / "report.md").read_text(encoding="utf-8")
