"""A lab campaign: proposals as asked trials, records and posteriors in the storage, batches that
differ, nothing lost to a killed command or to two people recording at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import optuna
import pytest
from nassb.design.campaign import DIVERSITY, Campaign, reweight
from nassb.design.campaign_records import parse_records
from nassb.design.space import design_space
from nassb.priors import CardError, OptionError, load_card
from nassb.priors.lab import load_observed_cells
from nassb.priors.risk import load_lab_priors

TRIALS = 60


def _observations(folder, name: str, entries: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(entries), "utf-8")
    return str(path)


HELD = """
    [lab]
    name = "test-lab"

    [[cells]]
    base = "r1-p1.toml"
    name = "built-1"
    source = "SYNTHETIC: a test cell"
    [cells.outcome]
    current = "0.2 mA/cm^2"
    cycles = 60
    resistance = "150 ± 15 ohm*cm^2"

    [[cells]]
    base = "paper-cell-1"
    proposal = "r1-p2"
    name = "built-2"
    source = "SYNTHETIC: a test cell"
    [cells.outcome]
    cracked = true
    """


@pytest.fixture(scope="module")
def proposed(tmp_path_factory):
    """A campaign with one round of three proposals (card files in ``cards``)."""
    folder = tmp_path_factory.mktemp("campaign")
    storage = f"sqlite:///{folder / 'lab.db'}"
    campaign = Campaign.start("lab", "paper-cell-1", storage)
    result = campaign.propose(3, out=folder / "cards", trials=TRIALS, seed=1)
    return folder, storage, campaign, result


def test_proposals_are_running_trials_with_ready_cards(proposed):
    _, storage, campaign, result = proposed
    assert result.round == 1 and len(result.proposals) == 3
    doc = result.to_json()
    assert set(doc) >= {"round", "proposals"}
    trials = optuna.load_study(study_name="lab", storage=storage).get_trials()
    assert [t.state for t in trials] == [optuna.trial.TrialState.RUNNING] * 3
    # no heartbeat: a proposal stays RUNNING for the weeks its cell takes to build
    assert campaign.study._storage.get_heartbeat_interval() is None
    assert "r1-p1" in repr(result) and "r1-p1" in result._repr_html_()
    # one cell of the batch is chosen for its expected gain, labelled; every proposal has its gain in turn
    assert [p["exploration"] for p in doc["proposals"]] == [False, False, True]
    gains = [p["expected_gain"]["value"] for p in doc["proposals"]]
    assert gains[0] > 0 and all(g >= 0 for g in gains) and doc["proposals"][0]["expected_gain"]["unit"] == "Wh/l"
    assert "(exploration, expected gain" in repr(result)
    for p, trial in zip(doc["proposals"], trials):
        assert set(p) >= {"name", "card", "design", "quantities", "readings", "binding_reading"}
        # each risk under each reading of the paper, and whether the design meets the limits there
        assert {"as-calibrated", "cell-1-at-0.05MPa", "like-cell-2-at-1mA"} <= set(p["readings"])
        for reading in p["readings"].values():
            if reading["risks"]:
                assert set(reading["risks"]) == {"P_fracture", "P_short", "ohmic_drop", "retention"}
                lo, hi = reading["risks"]["P_short"]["ci95"]
                assert 0 <= lo <= hi <= 1 and 0 <= reading["risks"]["P_short"]["mean"] <= 1
                assert isinstance(reading["feasible"], bool)
        assert p["binding_reading"] is None or p["binding_reading"] in p["readings"]
        assert p["feasible"] and trial.user_attrs["name"] == p["name"]
        card = load_card(p["card"])  # a ready-to-use card with the layers to build
        assert card.separator.get("thickness").value == pytest.approx(p["design"]["separator.thickness"]["value"],
                                                                       rel=1e-5)
        assert card.cell.get("pressure").value == pytest.approx(p["design"]["cell.pressure"]["value"], rel=1e-5)
        assert card.anode.get("reservoir_thickness").value == pytest.approx(
            p["design"]["anode.reservoir_thickness"]["value"], rel=1e-5)
        assert trial.params["cell.pressure"] == pytest.approx(p["design"]["cell.pressure"]["value"])
        # within the limits under the posterior that proposed it
        assert p["quantities"]["P_fracture"]["mean"] <= 0.1 and p["quantities"]["P_short"]["mean"] <= 0.2


def test_batch_is_diverse(proposed):
    _, _, campaign, result = proposed
    space = design_space(campaign.card)
    designs = [{k: v["value"] for k, v in p["design"].items()} for p in result.proposals]
    distances = [space.distance(a, b) for i, a in enumerate(designs) for b in designs[i + 1:]]
    assert min(distances) >= DIVERSITY
    # not three copies of one optimum: the objectives differ
    assert len({round(p["objective"], 6) for p in result.proposals}) == 3


def test_record_recalibrates_and_tells_the_answered_proposals(proposed):
    folder, storage, campaign, _ = proposed
    path = _observations(folder / "cards", "round1.toml", HELD)
    result = campaign.record(path, seed=3)
    assert result.method == "reweighting"  # two cells move the posterior little: the gate passes
    assert [c["proposal"] for c in result.cells] == ["r1-p1", "r1-p2"]
    # the lab offsets of the new cells are in the posterior, drawn from their priors and reweighted
    assert {"lab.strength", "lab.ccd", "lab.contact"} <= set(campaign.risk_model().draws)
    gate = result.posterior["gate"]
    assert gate["k_hat"] < 0.7 and gate["ess"] >= 400 and gate["distinct"] >= 400
    trials = {t.user_attrs["name"]: t for t in optuna.load_study(study_name="lab", storage=storage).get_trials()}
    assert trials["r1-p1"].state == optuna.trial.TrialState.COMPLETE
    assert trials["r1-p2"].state == optuna.trial.TrialState.COMPLETE
    assert trials["r1-p3"].state == optuna.trial.TrialState.RUNNING
    assert trials["r1-p2"].user_attrs["outcome"]["cracked"] is True
    assert set(trials["r1-p1"].user_attrs["constraints"]) == {"P_fracture", "P_short", "ohmic_drop", "retention"}
    # a second object on the same storage sees the same campaign
    status = Campaign.open("lab", storage).status().to_json()
    rounds = status["rounds"]
    assert [{k: r[k] for k in ("round", "proposed", "recorded", "open")} for r in rounds] == [
        {"round": 1, "proposed": 3, "recorded": 2, "open": 1}]
    # what the posterior that proposed them predicted for the two cells, scored before they entered it
    check = rounds[0]["calibration"]
    assert check["risks"]["fracture"]["n"] == 2 and check["risks"]["short"]["n"] == 1
    fracture = check["risks"]["fracture"]
    # one of two cracked: the Brier score is the mean of (p - 1)^2 and p^2 of the two predictions
    assert 0.0 < fracture["mean_p"] < 0.5 and fracture["observed"] == 0.5
    assert fracture["brier"] > fracture["expected_brier"]
    assert check["intervals"]["R_cell"]["n"] == 1 and 0 < check["intervals"]["R_cell"]["pit"][0] < 1
    assert status["recorded"] == 2 and len(status["posteriors"]) == 2
    assert status["posteriors"][1]["records"] == 2
    assert set(status["posteriors"][1]["parameters"]["fracture.strength"]) >= {"mean", "ci95"}
    # the same file again is refused, naming the entry
    with pytest.raises(CardError, match=r"cells\[0\]"):
        campaign.record(path)
    # the next round scores with the new posterior and keeps away from the proposal still built
    nxt = campaign.propose(2, trials=TRIALS, seed=2)
    assert nxt.round == 2 and nxt.posterior["method"] == result.method
    space = design_space(campaign.card)
    open_design = trials["r1-p3"].user_attrs["design"]
    for p in nxt.proposals:
        assert space.distance({k: v["value"] for k, v in p["design"].items()}, open_design) >= DIVERSITY
    names = [c["name"] for c in campaign.candidate_designs()]
    assert "r1-p3" in names and "built-1" in names and "built-2" not in names  # a cracked cell is not a candidate
    assert all(set(c["design"]) == set(open_design) for c in campaign.candidate_designs())
    assert campaign.design_settings()["max_short"] == 0.2


def test_a_built_cell_counts_with_its_measured_layers(tmp_path):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start("built", storage=storage)
    proposal = campaign.propose(1, out=tmp_path, trials=TRIALS, seed=4).proposals[0]
    proposed = proposal["design"]["separator.thickness"]["value"]
    built = round(proposed * 0.6, 1)  # the tape came out thinner than asked
    path = _observations(tmp_path, "built.toml", f"""
        [[cells]]
        base = "r1-p1.toml"
        name = "thin"
        [cells.separator]
        thickness = "{built} ± 3 um"
        [cells.outcome]
        current = "0.2 mA/cm^2"
        cycles = 40
        """)
    result = campaign.record(path, recalibration="reweight", seed=5)
    assert result.cells[0]["built"]["separator.thickness"]["value"] == pytest.approx(built)
    stored = parse_records(campaign._records())
    assert next(iter(stored)).card.separator.get("thickness").value == pytest.approx(built)
    trial = optuna.load_study(study_name="built", storage=storage).get_trials()[0]
    assert trial.user_attrs["built"]["separator.thickness"] == pytest.approx(built)
    scorer, settings, _ = campaign._scorer()
    from nassb.design.study import objective_value

    as_built = objective_value(scorer.score(trial.user_attrs["built"]), settings.objective, settings.quantile)
    as_proposed = objective_value(scorer.score(trial.user_attrs["design"]), settings.objective, settings.quantile)
    assert trial.value == pytest.approx(as_built) and abs(as_built - as_proposed) > 1e-3 * abs(as_proposed)


def test_reweighting_moves_the_lab_offset_the_way_the_cells_say(tmp_path):
    """Lab cells that cracked at a pressure where the paper's tapes hold: the lab's tapes are weaker."""
    from nassb.inference.risk.predict import RiskModel

    path = _observations(tmp_path, "weak.toml", """
        [[cells]]
        base = "paper-cell-1"
        name = "weak"
        count = 5
        [cells.cell]
        pressure = "0.005 MPa"
        [cells.outcome]
        cracked = true
        """)
    cells = load_observed_cells(path, paper=False)
    draws, gate = reweight(RiskModel.load().draws, cells, np.random.default_rng(0))
    prior = load_lab_priors()["lab.strength"].prior
    assert draws["lab.strength"].mean() < prior.value - 0.5 * prior.sd
    # Five cracked tapes at the lowest pressure leave few of the paper's draws: the gate counts
    # them (not their copies with other lab offsets) and sends such a record to NUTS.
    from nassb.design.campaign import MIN_DISTINCT

    assert 0 < gate["distinct"] < MIN_DISTINCT


def test_the_liu_west_kernel_keeps_the_draws_mean_and_spread():
    from nassb.design.campaign import _liu_west
    from nassb.inference.risk.predict import RiskModel

    shipped = RiskModel.load().draws
    pick = np.random.default_rng(1).choice(4000, size=4000)    # a resample: 4000 draws, ~2500 distinct
    resampled = {k: v[pick] for k, v in shipped.items()}
    moved = _liu_west(resampled, np.random.default_rng(2), 0.98)
    for k in ("fracture.strength", "short.ccd_reference", "rate.contact_exponent"):
        assert np.mean(moved[k]) == pytest.approx(np.mean(resampled[k]), rel=0.02), k
        assert np.std(moved[k]) == pytest.approx(np.std(resampled[k]), rel=0.1), k
        assert np.unique(moved[k]).size > 0.99 * moved[k].size  # the copies are moved apart


def test_a_proposal_committed_before_a_kill_is_still_there(tmp_path):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    Campaign.start("killed", storage=storage)
    script = textwrap.dedent(f"""
        import os
        from nassb.design import campaign as c
        original = c.Campaign._commit_proposal
        def commit_then_die(*args, **kwargs):
            original(*args, **kwargs)
            os._exit(9)  # killed after the first proposal was asked (its card and the others written)
        c.Campaign._commit_proposal = commit_then_die
        c.Campaign.open("killed", {storage!r}).propose(3, out={str(tmp_path / 'cards')!r}, trials={TRIALS}, seed=1)
        """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 9, run.stderr
    status = Campaign.open("killed", storage).status().to_json()
    assert [p["name"] for p in status["proposals"]] == ["r1-p1"]
    assert status["rounds"] == [{"round": 1, "proposed": 1, "recorded": 0, "open": 1, "calibration": None}]
    assert load_card(tmp_path / "cards" / "r1-p1.toml").name == "r1-p1"


def test_two_records_at_once_are_both_kept(tmp_path):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start("together", storage=storage)
    campaign.propose(2, out=tmp_path, trials=TRIALS, seed=6)
    files = []
    for i in (1, 2):
        files.append(_observations(tmp_path, f"obs{i}.toml", f"""
            [[cells]]
            base = "r1-p{i}.toml"
            name = "cell-{i}"
            [cells.outcome]
            current = "0.2 mA/cm^2"
            cycles = {20 * i}
            """))
    workers = [subprocess.Popen([sys.executable, "-m", "nassb.reports.cli", "campaign", "record", "together",
                                 "--storage", storage, f, "--recalibration", "reweight", "--seed", str(i)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i, f in enumerate(files)]
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    again = Campaign.open("together", storage)
    assert sorted(r["name"] for r in again._records()) == ["cell-1", "cell-2"]
    # each posterior covers its own record at least; the next recalibration folds in both
    again.recalibrate(recalibration="reweight", seed=0)
    assert len(again._current_posterior()["records"]) == 2
    status = again.status().to_json()
    assert status["recorded"] == 2 and all(p["open"] is False for p in status["proposals"])


def test_bad_input(tmp_path, proposed):
    _, storage, campaign, _ = proposed
    with pytest.raises(OptionError, match="no campaign 'nope'"):
        Campaign.open("nope", storage)
    with pytest.raises(OptionError, match="exists"):
        Campaign.start("lab", storage=storage)
    with pytest.raises(OptionError) as err:
        campaign.propose(0)
    assert err.value.field == "k"
    with pytest.raises(OptionError):
        Campaign.start("bad name!", storage=storage)
    with pytest.raises(OptionError):
        Campaign.start("x", storage="sqlite://")
    path = _observations(tmp_path, "bad.toml", """
        [[cells]]
        base = "paper-cell-1"
        name = "b"
        [cells.outcome]
        cycles = 10
        """)
    with pytest.raises(CardError) as err:
        campaign.record(path)
    assert err.value.file == path and err.value.field == "cells[0].outcome.current"
    path = _observations(tmp_path, "unknown.toml", """
        [[cells]]
        base = "paper-cell-1"
        proposal = "r9-p9"
        name = "u"
        [cells.outcome]
        cracked = false
        """)
    with pytest.raises(CardError) as err:
        campaign.record(path)
    assert err.value.file == path and err.value.field == "cells[0].proposal"


STRONG = """
    [[cells]]
    base = "paper-cell-1"
    name = "strong"
    count = 6
    [cells.cell]
    pressure = "0.5 MPa"
    [cells.outcome]
    current = "0.5 mA/cm^2"
    cycles = 100
    resistance = "40 ± 2 ohm*cm^2"
    """


def test_a_reweighting_that_fails_its_gate_goes_to_sequential_monte_carlo(tmp_path):
    """Cells the paper's draws hardly cover (k-hat far above 0.7): auto tempers their likelihood
    in steps (seconds, no NUTS), and the posterior then predicts them."""
    from nassb.design.calibration import calibration

    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start("gate", storage=storage)
    path = _observations(tmp_path, "strong.toml", STRONG)
    cells = load_observed_cells(path, paper=False)
    before = calibration(campaign.risk_model().draws, cells, 100.0, np.random.default_rng(0))
    result = campaign.record(path, seed=1)
    gate = result.posterior["gate"]
    assert result.method == "smc" and "sequential Monte Carlo" in repr(result)
    assert gate["completed"] and gate["steps"] >= 2 and gate["ess"] >= 400 and gate["distinct"] >= 400
    assert "the reweighting fails its gate" in gate["reason"] or "sequential Monte Carlo" in gate["reason"]
    # 40 ohm cm^2 lay in the far tail of what the paper's posterior predicted; after it, near the middle
    after = calibration(campaign.risk_model().draws, cells, 100.0, np.random.default_rng(0))
    pit_before = before["intervals"]["R_cell"]["pit"][0]
    pit_after = after["intervals"]["R_cell"]["pit"][0]
    assert pit_before < 0.025 and 0.1 < pit_after < 0.9
    # the check stored with the posterior is the one made before: the six cells surprised it
    stored = campaign.status().to_json()["rounds"][0]["calibration"]
    assert stored["intervals"]["R_cell"]["inside"] == 0 and stored["widened"]
    assert any("widened" in w for w in result.warnings)


def test_sequential_monte_carlo_that_fails_goes_to_nuts(tmp_path, monkeypatch):
    """Where tempering too fails its gate, auto hands the cells to NUTS on the paper's cells and
    every record; the result names the method."""
    from nassb.design import campaign_recalibrate
    from nassb.inference.diagnostics import Diagnostics
    from nassb.inference.risk import calibrate
    from nassb.inference.risk.predict import RiskModel

    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start("gate", storage=storage)
    path = _observations(tmp_path, "strong.toml", STRONG)
    seen = {}

    class Fake:
        diagnostics = Diagnostics("NUTS (PyMC), a stand-in for the test")
        warnings = ()

        def risk_model(self):
            shipped = RiskModel.load().draws
            return RiskModel({**shipped, **{k: np.zeros(len(shipped["fracture.strength"]))
                                            for k in ("lab.strength", "lab.ccd", "lab.contact")}})

    def fake_calibrate(*, observations, with_paper, **settings):
        seen.update(cells=[c.name for c in observations], with_paper=with_paper, settings=settings)
        return Fake()

    def failing_temper(draws, cells, rng, **kwargs):
        return draws, {"k_hat": 0.9, "ess": 12.0, "distinct": 5, "steps": 60, "completed": False, "betas": []}

    monkeypatch.setattr(calibrate, "calibrate_risks", fake_calibrate)
    monkeypatch.setattr(campaign_recalibrate, "temper", failing_temper)
    result = campaign.record(path, nuts={"draws": 50}, seed=1)
    assert result.method == "nuts" and "nuts" in repr(result)
    assert "tempering did not reach the full likelihood" in result.posterior["gate"]["reason"]
    assert seen["cells"] == ["strong"] and seen["with_paper"] and seen["settings"]["draws"] == 50
    assert campaign.status().to_json()["posteriors"][-1]["method"] == "nuts"


def test_a_record_naming_a_file_outside_its_folder_is_refused_before_anything_is_stored(tmp_path):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start("outside", storage=storage)
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "mine.toml").write_text('base = "paper-cell-1"\n[cell]\nname = "mine"\n', "utf-8")
    (tmp_path / "obs").mkdir()
    path = _observations(tmp_path / "obs", "built.toml", """
        [[cells]]
        base = "../cards/mine.toml"
        name = "far"
        [cells.outcome]
        cracked = false
        """)
    with pytest.raises(CardError, match="outside the observations file's folder") as err:
        campaign.record(path)
    assert err.value.field == "cells[0].base" and "built.toml" in str(err.value)
    assert Campaign.open("outside", storage).status().to_json()["recorded"] == 0  # nothing stored, still opens


def test_an_observations_file_with_a_byte_order_mark_records(tmp_path):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start("bom", storage=storage)
    path = tmp_path / "built.toml"
    path.write_bytes(('\ufeff[[cells]]\nbase = "paper-cell-2"\nname = "shard"\nsource = "SYNTHETIC"\n'
                      '[cells.outcome]\ncracked = false\n').encode())
    result = campaign.record(path, recalibration="reweight", seed=1)
    assert [c["name"] for c in result.cells] == ["shard"]


def test_a_storage_that_fails_under_a_campaign_is_one_line(tmp_path, monkeypatch):
    import sqlalchemy.exc

    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start("full", storage=storage)

    def full(*args, **kwargs):
        raise sqlalchemy.exc.OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(type(campaign.study), "set_user_attr", full)
    path = tmp_path / "built.toml"
    path.write_text('[[cells]]\nbase = "paper-cell-2"\nname = "c"\nsource = "SYNTHETIC"\n'
                    '[cells.outcome]\ncracked = false\n', "utf-8")
    with pytest.raises(OptionError, match="no space left on device") as err:
        campaign.record(path, recalibration="reweight")
    assert err.value.field == "storage" and "lab.db" in str(err.value)


def test_the_campaigns_of_a_storage_are_listed_and_design_studies_are_not(tmp_path):
    from nassb import run_design
    from nassb.design.campaign import list_campaigns

    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    Campaign.start("alpha", storage=storage)
    Campaign.start("beta", storage=storage)
    run_design(trials=2, storage=storage, study="a-design-study", seed=1)
    assert sorted(list_campaigns(storage)) == ["alpha", "beta"]
    with pytest.raises(OptionError, match="no such campaign file"):
        list_campaigns(f"sqlite:///{tmp_path / 'none.db'}")
