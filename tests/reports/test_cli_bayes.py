"""The command line of the Bayesian layer: fit arrhenius, propagate --method bayes, the
diagnostics gate, --out, and one-line errors for bad data files."""

from __future__ import annotations

import json

import pytest

from ..conftest import REPO

SYNTHETIC = REPO / "priors" / "data" / "synthetic"
FAST = ["--draws", "300", "--tune", "300", "--chains", "2"]


@pytest.mark.slow
def test_fit_arrhenius_recovers_the_example_truth(nassb, tmp_path):
    run = nassb("fit", "arrhenius", str(SYNTHETIC / "nzsp-conductivity.csv"), "--at", "30 degC",
                "--seed", "5", "--json", "--out", str(tmp_path / "fit"))
    assert run.code == 0, run.err
    doc = run.json()
    assert set(doc) >= {"quantities", "at", "least_squares", "diagnostics"}
    assert doc["at"] == "30 degC"
    energy, sigma = doc["quantities"]["activation_energy"], doc["quantities"]["conductivity"]
    assert energy["unit"] == "eV" and sigma["unit"] == "mS/cm"
    assert energy["ci95"][0] < 0.28 < energy["ci95"][1]
    assert sigma["ci95"][0] < 1.6 < sigma["ci95"][1]
    assert doc["least_squares"]["activation_energy"]["value"] == pytest.approx(0.28, abs=0.01)
    assert doc["diagnostics"]["ok"] and doc["diagnostics"]["divergences"] == 0
    # --out: the InferenceData and the same JSON, whole.
    import arviz

    idata = arviz.from_netcdf(tmp_path / "fit" / "result.nc")
    assert "activation_energy" in idata.posterior
    assert json.loads((tmp_path / "fit" / "summary.json").read_text()) == doc


@pytest.mark.slow
def test_fit_arrhenius_default_is_25_degC_and_resistances_are_recognised(nassb):
    run = nassb("fit", "arrhenius", str(SYNTHETIC / "nzsp-interface-resistance.csv"), "--seed", "1", "--json", *FAST)
    doc = run.json()
    assert doc["at"] == "25 degC"
    r25 = doc["quantities"]["resistance"]
    assert r25["unit"] == "ohm*cm^2"
    # 1.5 ohm cm2 at 30 degC with 0.41 eV is 1.95 at 25 degC (the paper quotes 1.8 ± 0.8).
    assert r25["ci95"][0] < 1.95 < r25["ci95"][1]


@pytest.mark.slow
def test_seeded_fits_reproduce(nassb):
    args = ("fit", "arrhenius", str(SYNTHETIC / "nzsp-conductivity.csv"), "--seed", "11", "--json", *FAST)
    first, second = nassb(*args).json(), nassb(*args).json()
    assert first["quantities"] == second["quantities"]


@pytest.mark.slow
def test_the_gate_warns_and_strict_exits_3(nassb):
    run = nassb("propagate", "paper-cell-2", "--method", "bayes", "--draws", "25", "--tune", "25",
                "--chains", "2", "--seed", "1", "--strict", "--json")
    assert run.code == 3
    assert json.loads(run.out)["diagnostics"]["ok"] is False
    assert "warning" in run.err and "ESS < 400" in run.err
    assert "E_V_real" in run.err or "E_V_theo" in run.err
    lenient = nassb("propagate", "paper-cell-2", "--method", "bayes", "--draws", "25", "--tune", "25",
                    "--chains", "2", "--seed", "1", "--json")
    assert lenient.code == 0 and "warning" in lenient.err


@pytest.mark.slow
def test_bayes_json_has_the_gum_contract_and_diagnostics(nassb):
    run = nassb("propagate", "example-cell-1-synthetic", "--method", "bayes", "--seed", "3", "--json", *FAST)
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["method"] == "bayes"
    for name in ("E_V_theo", "E_V_real", "E_m_theo", "E_m_real", "R_separator", "R_interface",
                 "coulombic_efficiency", "separator.thickness"):
        assert set(doc["quantities"][name]) >= {"mean", "sd", "unit", "ci95"}  # a heavy tail adds median, note
    assert set(doc["diagnostics"]) >= {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences"}


def _csv(tmp_path, text: str):
    path = tmp_path / "series.csv"
    path.write_text("# SYNTHETIC test input\n" + text)
    return path


@pytest.mark.parametrize("text, field, words", [
    ("temp [degC],conductivity [mS/cm]\n30,1.6\n20,1.2\n", "temperature", "missing column"),
    ("temperature [degC],conductivity [kg]\n30,1.6\n20,1.2\n", None, "no column with a conductivity"),
    ("temperature [m],conductivity [mS/cm]\n30,1.6\n20,1.2\n", "temperature", "is not"),
    ("temperature [degC],conductivity [mS/cm]\n30,nan\n20,1.2\n", "conductivity", "not a finite number"),
    ("temperature [degC],conductivity [mS/cm]\n30,1.6\n30,1.5\n", "temperature", "two different temperatures"),
    ("temperature [degC],conductivity [mS/cm]\n30,1.6\n20,abc\n", "conductivity", "expected a number"),
    ("temperature [degC],conductivity [mS/cm]\n", None, "no data rows"),
    ("temperature [degC],conductivity [blorp]\n30,1.6\n20,1.2\n", "conductivity", "unknown unit"),
])
def test_bad_series_exit_2_with_one_line(nassb, tmp_path, text, field, words):
    path = _csv(tmp_path, text)
    run = nassb("fit", "arrhenius", str(path), "--json")
    assert run.code == 2 and run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"nassb: {path}")
    if field:
        assert f": {field}: " in lines[0]
    assert words in lines[0]


def test_missing_series_file(nassb, tmp_path):
    run = nassb("fit", "arrhenius", str(tmp_path / "none.csv"))
    assert run.code == 2 and "no such data file" in run.err


def test_bad_at_temperature(nassb):
    run = nassb("fit", "arrhenius", str(SYNTHETIC / "nzsp-conductivity.csv"), "--at", "25 m")
    assert run.code == 2 and "--at" in run.err and "is not" in run.err


@pytest.mark.parametrize("observation, field, words", [
    ('kind = "guesses"', "observations[0].kind", "must be one of replicates"),
    ('kind = "arrhenius"\nquantity = "nzsp-tape.conductivity"\nfile = "none.csv"', None, "no such data file"),
    ('kind = "arrhenius"\nquantity = "nzsp-tape.density"\nfile = "s.csv"', "observations[0].quantity",
     "expected MATERIAL.conductivity"),
    ('kind = "replicates"\nquantity = "separator.thickness"\nfile = "t.csv"', "observations[0].reading_sd",
     "give reading_sd"),
    ('kind = "measurement"\nquantity = "nzsp-tape.interface_resistance"\nvalue = "1.4 ohm*cm^2"',
     "observations[0].value", "needs an uncertainty"),
])
def test_bad_observations_exit_2(nassb, write_card, tmp_path, observation, field, words):
    (tmp_path / "s.csv").write_text("temperature [degC],conductivity [mS/cm]\n30,1.6\n20,1.2\n")
    (tmp_path / "t.csv").write_text("thickness [um]\n50\n51\n")
    path = write_card(f'base = "paper-cell-1"\n[[observations]]\n{observation}\n')
    run = nassb("propagate", str(path), "--method", "bayes", *FAST)
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
    if field:
        assert f"{path}: {field}:" in lines[0]


@pytest.mark.parametrize("args, words", [
    (["propagate", "paper-cell-1", "--method", "bayes", "--chains", "1"], "R-hat needs at least 2 chains"),
    (["propagate", "paper-cell-1", "--digits", "3"], "--digits: does not apply to method 'gum'"),
    (["fit", "arrhenius", str(SYNTHETIC / "nzsp-conductivity.csv"), "--at", "25 ± 1 degC"], "without an uncertainty"),
    (["propagate", "paper-cell-1", "--method", "mc", "--draws", "1"], "at least 100 draws"),
])
def test_options_that_cannot_give_a_finite_answer_are_refused(nassb, args, words):
    run = nassb(*args)
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1 and words in run.err


def test_an_unwritable_out_is_one_line(nassb, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    run = nassb("propagate", "paper-cell-1", "--out", str(blocker / "sub"))
    assert run.code == 2 and "--out" in run.err and len(run.err.strip().splitlines()) == 1


@pytest.mark.parametrize("at", ["30", "30 K"])
def test_fit_arrhenius_at_a_far_temperature_reports_and_checks_the_points_at_the_data(nassb, at):
    # --at only says where the value is reported: 30 K (a conductivity of ~1e-39 mS/cm there)
    # neither crashes the point check nor flags every point as far off Eq. 4.
    run = nassb("fit", "arrhenius", str(SYNTHETIC / "nzsp-conductivity.csv"), "--at", at, "--seed", "3",
                "--draws", "100", "--tune", "100", "--chains", "2", "--json")
    assert run.code == 0, run.err
    assert "Traceback" not in run.err and "far off Eq. 4" not in run.err
    doc = run.json()
    assert doc["at_kelvin"] == 30.0 and doc["quantities"]["conductivity"]["ci95"][1] < 1e-20
    bare = "nassb: warning: --at: a number without a unit is read in K: 30 K"
    assert (bare in run.err) == (at == "30")
