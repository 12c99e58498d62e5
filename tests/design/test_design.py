"""The design search: scoring, a small study end to end, proposals, resume after a kill, two
workers on PostgreSQL, and one-line errors that leave the study untouched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from nassb.design import DesignScorer, Limits, design_space
from nassb.inference.risk import RiskModel
from nassb.priors import CardError, OptionError, load_card

from ..conftest import run_process

PAPER = load_card("paper-cell-1")


@pytest.fixture(scope="module")
def scorer():
    return DesignScorer(PAPER, RiskModel.load(), cycles=100)  # C/10 of each design's own capacity


def test_scoring_a_card_as_a_design_gives_its_table_1_energy(scorer):
    values = scorer.score(scorer.design_of_card(PAPER))
    # Delivered capacity 2.14 of 2.52: Table 1's 239 ± 10 Wh/l and 118 ± 5 Wh/kg.
    assert values["E_V_real"].mean() == pytest.approx(239, abs=2)
    assert values["E_m_real"].mean() == pytest.approx(118, abs=1.5)
    assert values["E_V_real"].std() == pytest.approx(10, abs=1.5)


def test_a_thinner_separator_raises_energy_and_fracture_risk(scorer):
    base = {"cathode.theoretical_capacity": 2.5, "cathode.porosity": 0.4, "separator.thickness": 100.0,
            "anode.reservoir_thickness": 20.0, "cell.pressure": 1.0}
    thin = dict(base, **{"separator.thickness": 40.0})
    a, b = scorer.score(base), scorer.score(thin)
    assert b["E_V_real"].mean() > a["E_V_real"].mean()
    assert b["P_fracture"].mean() > a["P_fracture"].mean()


def test_design_ranges_are_checked(write_card):
    with pytest.raises(CardError) as caught:
        design_space(load_card(write_card('base = "paper-cell-1"\n[design]\n'
                                          'cathode.porosity = { low = 0.6, high = 0.3 }\n')))
    assert caught.value.field == "design.cathode.porosity" and "above high" in caught.value.message
    with pytest.raises(CardError) as caught:
        design_space(load_card(write_card('base = "paper-cell-1"\n[design]\n'
                                          'separator.thickness = { low = "-5 um" }\n')))
    assert caught.value.field == "design.separator.thickness" and "must be > 0" in caught.value.message


def _design(nassb, tmp_path, *extra, name="s"):
    return nassb("design", "--storage", f"sqlite:///{tmp_path / 'study.db'}", "--study", name, "--json", *extra)


def test_a_small_study_runs_and_its_proposals_meet_every_limit(nassb, tmp_path, scorer):
    run = _design(nassb, tmp_path, "--trials", "40", "--seed", "1")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["n_trials"] == 40 and 0 < doc["n_feasible"] <= 40
    assert doc["proposals"], "no feasible proposal in 40 trials"
    space = design_space(PAPER)
    designs = []
    for p in doc["proposals"]:
        design = {k: v["value"] for k, v in p["design"].items() if k != "cathode.thickness"}
        designs.append(design)
        # Re-scored independently, every proposal meets every limit.
        means = {k: float(v.mean()) for k, v in scorer.score(design).items()}
        assert all(v <= 1e-12 for v in Limits().violations(means).values()), means
        assert set(p["quantities"]) >= {"E_V_real", "E_m_real", "P_fracture", "P_short", "ohmic_drop", "retention"}
    # Distinct, not copies of one design.
    for i in range(len(designs)):
        for j in range(i):
            assert space.distance(designs[i], designs[j]) >= 0.1
    assert set(doc["baselines"]) >= {"paper-cell-1", "paper-cell-2"}
    # Each design says what it is cycled at, what lies beyond the calibrated range and how far
    # its figures move with the uninformed priors widened.
    for entry in [*doc["proposals"], *doc["baselines"].values()]:
        assert entry["current"]["unit"] == "mA/cm^2" and entry["current"]["mean"] > 0
        assert isinstance(entry["extrapolated"], list)
        assert set(entry["extrapolated"]) <= {"separator.thickness", "cell.pressure", "cathode.theoretical_capacity",
                                              "cathode.porosity", "cathode.thickness", "anode.reservoir_thickness",
                                              "current"}
        assert set(entry["extrapolated_by"]) == set(entry["extrapolated"])
        sens = entry["prior_sensitivity"]
        assert {"objective", "quantities", "feasible_widened", "by_parameter"} <= set(sens)
        assert set(sens["quantities"]) >= {"P_fracture", "P_short", "ohmic_drop", "retention"}
        assert entry["quantities"]["E_V_rate"]["mean"] < entry["quantities"]["E_V_real"]["mean"]
    assert doc["settings"]["c_rate"] == 0.1 and doc["settings"]["current"] is None
    assert doc["settings"]["quantity"] == "E_V_rate"
    assert doc["prior_sensitivity"]["widening"] == 2 and doc["prior_sensitivity"]["parameters"]
    assert "utilisation" in doc and "calibrated_range" in doc


def test_the_design_text_reads_probabilities_as_probabilities(nassb, tmp_path):
    run = nassb("design", "--storage", f"sqlite:///{tmp_path / 't.db'}", "--study", "t", "--trials", "12",
                "--seed", "1")
    assert run.code == 0, run.err
    text = run.out
    assert "what to build" in text and "what is predicted" in text and "extrapolated" in text
    assert "C/10 of each design's own" in text and "U - jR" in text
    assert "prior sensitivity: the" in text and "k-hat" in text
    rows = text.split("what is predicted")[1].split("calibrated range")[0].splitlines()[2:]
    paper = next(r for r in rows if r.startswith("paper-cell-2"))
    # P_fracture and P_short as mean [95 % interval], never mean ± sd.
    cells = paper.split("  ")
    probabilities = [c.strip() for c in cells if "[" in c]
    assert len(probabilities) == 2 and all("±" not in c for c in probabilities)
    tables = text.split("what to build")[1].split("calibrated range")[0].splitlines()[1:]
    assert max(len(line) for line in tables if not line.startswith("what is")) <= 160
    assert "extrapolated beyond it" in text  # today's calibration has one reservoir, 36 um


def test_rerunning_adds_to_the_study_and_other_settings_are_refused(nassb, tmp_path):
    assert _design(nassb, tmp_path, "--trials", "5", "--seed", "2").code == 0
    again = _design(nassb, tmp_path, "--trials", "5", "--seed", "3")
    assert again.json()["n_trials"] == 10
    other = _design(nassb, tmp_path, "--trials", "5", "--max-short", "0.5")
    assert other.code == 2 and "exists with other settings" in other.err and other.out == ""
    assert len(other.err.strip().splitlines()) == 1
    assert _design(nassb, tmp_path, "--trials", "1").json()["n_trials"] == 11  # untouched by the refusal


@pytest.mark.parametrize("args, words", [
    (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot open the storage"),
    (["--storage", "nosuchdb://x"], "cannot open the storage"),
    (["--max-fracture", "1.5"], "--max-fracture"),
    (["--quantile", "1.5"], "--quantile"),
    (["--current", "5 V"], "--current"),
])
def test_bad_design_options_are_one_line(nassb, tmp_path, args, words):
    run = nassb("design", "--trials", "1", "--storage", f"sqlite:///{tmp_path / 'x.db'}", *args)
    assert run.code == 2 and words in run.err and len(run.err.strip().splitlines()) == 1


@pytest.mark.slow
def test_relaxed_limits_lead_to_the_papers_roadmap_region(nassb, tmp_path):
    # With every limit lifted, the best cell is the roadmap's: thin separator, dense cathode,
    # no sodium reservoir.
    doc = _design(nassb, tmp_path, "--trials", "150", "--seed", "4", "--max-fracture", "1", "--max-short", "1",
                  "--max-drop", "100", "--min-retention", "0", "--quantile", "mean").json()
    best = {k: v["value"] for k, v in doc["proposals"][0]["design"].items()}
    assert best["separator.thickness"] < 35
    assert best["anode.reservoir_thickness"] < 8
    assert best["cathode.porosity"] < 0.3
    baseline = doc["baselines"]["paper-roadmap-2-porosity"]["quantities"]["E_V_real"]["mean"]
    assert doc["proposals"][0]["quantities"]["E_V_real"]["mean"] > baseline


@pytest.mark.slow
def test_proposals_beat_paper_cell_2_under_limits_it_meets(nassb, tmp_path):
    # the limits are set just above cell 2's means under the file's reading, so they are held there
    probe = _design(nassb, tmp_path, "--trials", "1", "--current", "0.5", "--cycles", "70", "--hold", "file",
                    name="probe").json()
    cell2 = {k: v["mean"] for k, v in probe["baselines"]["paper-cell-2"]["quantities"].items()}
    limits = ["--max-fracture", f"{cell2['P_fracture'] + 0.01:.3f}", "--max-short", f"{cell2['P_short'] + 0.01:.3f}",
              "--max-drop", f"{cell2['ohmic_drop'] + 0.001:.4f}",
              "--min-retention", f"{max(cell2['retention'] - 0.01, 0):.3f}", "--hold", "file"]
    doc = _design(nassb, tmp_path, "--trials", "120", "--seed", "5", "--current", "0.5", "--cycles", "70", *limits,
                  name="beat").json()
    assert doc["baselines"]["paper-cell-2"]["feasible"]
    assert doc["proposals"][0]["quantities"]["E_V_real"]["mean"] > 1.3 * cell2["E_V_real"]


def _count(storage: str, study: str) -> list:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = optuna.load_study(study_name=study, storage=storage)
    return [t for t in s.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]


@pytest.mark.slow
def test_a_killed_worker_keeps_the_trials_it_wrote(tmp_path):
    storage = f"sqlite:///{tmp_path / 'kill.db'}"
    args = [sys.executable, "-m", "nassb.reports.cli", "design", "--storage", storage, "--study", "k", "--json"]
    worker = subprocess.Popen([*args, "--trials", "100000", "--seed", "1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            time.sleep(1.0)
            try:
                if len(_count(storage, "k")) >= 15:
                    break
            except KeyError:
                continue
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    before = {t.number for t in _count(storage, "k")}
    assert len(before) >= 15
    resumed = run_process("design", "--storage", storage, "--study", "k", "--trials", "5", "--json")
    assert resumed.returncode == 0, resumed.stderr
    after = {t.number for t in _count(storage, "k")}
    assert before <= after and len(after) == len(before) + 5


@pytest.mark.slow
def test_two_workers_share_one_postgresql_study():
    url = os.environ.get("NASSB_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide NASSB_TEST_POSTGRES (.ci/run starts the server)")
        pytest.skip("no PostgreSQL server (set NASSB_TEST_POSTGRES)")
    study = f"two-workers-{os.getpid()}-{int(time.time())}"
    args = [sys.executable, "-m", "nassb.reports.cli", "design", "--storage", url, "--study", study,
            "--trials", "15", "--json"]
    workers = [subprocess.Popen([*args, "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for seed in (1, 2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), [o[1] for o in outputs]
    numbers = sorted(t.number for t in _count(url, study))
    assert numbers == list(range(30))


def test_seeded_studies_reproduce(nassb, tmp_path):
    first = nassb("design", "--storage", f"sqlite:///{tmp_path / 'a.db'}", "--trials", "12", "--seed", "7",
                  "--json").json()
    second = nassb("design", "--storage", f"sqlite:///{tmp_path / 'b.db'}", "--trials", "12", "--seed", "7",
                   "--json").json()
    assert first["proposals"] == second["proposals"]


def test_pareto_mode_lists_a_front(nassb, tmp_path):
    doc = _design(nassb, tmp_path, "--trials", "30", "--seed", "8", "--pareto", "P_short", "--max-short", "1",
                  "--max-fracture", "1", name="pareto")
    front = doc.json()["proposals"]
    assert len(front) >= 2
    # Along a front, more energy costs more short-circuit risk.
    front.sort(key=lambda p: p["quantities"]["E_V_real"]["mean"])
    shorts = [p["quantities"]["P_short"]["mean"] for p in front]
    assert shorts[-1] >= shorts[0]


def test_scoring_a_loading_card_reproduces_its_own_uncertainty(write_card):
    # A card whose porosity and capacity follow from a weighed loading: scored as its own
    # design, its energy densities carry the card's uncertainty, as mc propagates it.
    from nassb.inference import CellModel, propagate_mc

    card = load_card(write_card("""
        base = "paper-cell-1"
        [cathode]
        porosity = false
        theoretical_capacity = false
        loading = "23.1 ± 0.5 mg/cm2"
        active_fraction = 0.925
    """))
    scorer = DesignScorer(card, RiskModel.load(), cycles=100)
    values = scorer.score(scorer.design_of_card(card))
    mc = propagate_mc(CellModel(card), draws=100_000, seed=1)
    for ours, theirs in (("E_V_real", "E_V_real"), ("E_m_real", "E_m_real")):
        assert values[ours].mean() == pytest.approx(mc[theirs]["mean"], rel=0.01)
        assert values[ours].std() == pytest.approx(mc[theirs]["sd"], rel=0.1)


def test_wide_tolerances_stay_physical(nassb, tmp_path, write_card):
    card = write_card('base = "paper-cell-1"\n[separator]\nthickness = "50 ± 25 um"\n')
    run = nassb("design", str(card), "--storage", f"sqlite:///{tmp_path / 'w.db'}", "--trials", "5", "--seed", "1",
                "--json")
    assert run.code == 0, run.err


def test_a_measured_anode_card_is_scored_for_risk_but_refused_for_design(nassb, tmp_path, write_card):
    card = write_card('base = "paper-cell-1"\n[anode]\ncharged_thickness = "55 ± 6 um"\n')
    assert nassb("risk", str(card), "--json").code == 0
    run = nassb("design", str(card), "--storage", f"sqlite:///{tmp_path / 'm.db'}", "--trials", "2")
    assert run.code == 2 and "anode.charged_thickness" in run.err


@pytest.mark.parametrize("args, words", [
    (["--objective", "E_m", "--pareto", "E_m"], "must differ"),
    (["--storage", "sqlite://"], "in-memory"),
    (["--quantile", "-0.5"], "--quantile"),
    (["--current", "0.5 ± 0.1 mA/cm^2"], "without an uncertainty"),
])
def test_more_refused_design_options(nassb, args, words):
    run = nassb("design", "--trials", "1", *args)
    assert run.code == 2 and words in run.err


def test_the_mean_objective(nassb, tmp_path):
    run = _design(nassb, tmp_path, "--trials", "3", "--quantile", "mean", name="mean")
    assert run.code == 0 and run.json()["settings"]["quantile"] is None


def test_a_posterior_missing_parameters_is_refused(nassb, tmp_path):
    import xarray as xr

    path = tmp_path / "partial.nc"
    xr.Dataset().to_netcdf(path, engine="h5netcdf")
    xr.Dataset({"fracture.strength": ("draw", np.ones(10))}).to_netcdf(path, engine="h5netcdf", mode="a",
                                                                        group="posterior")
    run = nassb("risk", "paper-cell-1", "--posterior", str(path))
    assert run.code == 2 and "missing" in run.err and len(run.err.strip().splitlines()) == 1


def test_a_chance_constraint_judges_the_limits_on_the_quantile_of_the_draws():
    from nassb.design import Limits

    rng = np.random.default_rng(0)
    values = {"P_fracture": rng.uniform(0.0, 0.2, 10_000), "P_short": rng.uniform(0.0, 0.3, 10_000),
              "ohmic_drop": np.full(10_000, 0.05), "retention": rng.uniform(0.7, 1.0, 10_000)}
    on_means = Limits().violations(Limits().judged(values))
    assert on_means["P_fracture"] <= 0 and on_means["P_short"] <= 0 and on_means["retention"] <= 0
    chance = Limits(confidence=0.9)
    judged = chance.judged(values)
    assert judged["P_short"] == pytest.approx(0.27, abs=0.005)      # the 90 % quantile of U(0, 0.3)
    assert judged["retention"] == pytest.approx(0.73, abs=0.005)    # the 10 % quantile of U(0.7, 1)
    broken = chance.violations(judged)
    assert broken["P_fracture"] > 0 and broken["P_short"] > 0 and broken["retention"] > 0
    assert broken["ohmic_drop"] <= 0


def test_held_with_probability_the_proposal_is_safer_than_on_the_means(tmp_path):
    from nassb.design.run import run_design

    common = {"trials": 40, "storage": f"sqlite:///{tmp_path / 'c.db'}", "seed": 3, "top": 1}
    means = run_design(study="means", **common).best
    chance = run_design(study="chance", limit_confidence=0.9, **common).best
    assert means is not None and chance is not None
    # The chance-constrained design keeps its 90 % quantile of P_short under the limit, so its mean
    # sits well below the limit; it pays for it in energy.
    assert chance["quantities"]["P_short"]["mean"] < means["quantities"]["P_short"]["mean"]
    assert chance["objective"] <= means["objective"] + 1e-9
    with pytest.raises(OptionError, match=r"\[0.5, 1\)"):
        run_design(study="bad", limit_confidence=1.0, **common)
