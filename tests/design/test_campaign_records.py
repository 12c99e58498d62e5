"""A campaign's records stored once (by a key the storage enforces), a killed recalibration
resumed, a proposal named without a base, a parameter without a mean, and a full disk under
``propose --out``: nothing counted twice, nothing half-written, nothing that crashes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import optuna
import pytest
from nassb.design import campaign as campaign_module
from nassb.design import campaign_cards, campaign_recalibrate, campaign_records
from nassb.design.campaign import Campaign
from nassb.priors import CardError, OptionError

TRIALS = 20

ONE_CELL = """
    [[cells]]
    base = "r1-p1.toml"
    name = "built-1"
    source = "SYNTHETIC: a test cell"
    [cells.outcome]
    current = "0.2 mA/cm^2"
    cycles = 40
    """


def _storages(tmp_path) -> list[str]:
    out = [f"sqlite:///{tmp_path / 'lab.db'}"]
    if os.environ.get("NASSB_TEST_POSTGRES"):
        out.append(os.environ["NASSB_TEST_POSTGRES"])
    return out


def _write(folder, name: str, text: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(text), "utf-8")
    return str(path)


def _proposed(tmp_path, name: str, storage: str | None = None, k: int = 1) -> Campaign:
    storage = storage or f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = Campaign.start(name, storage=storage)
    campaign.propose(k, out=tmp_path, trials=TRIALS, seed=1)
    return campaign


@pytest.mark.parametrize("which", [0, 1], ids=["sqlite", "postgresql"])
def test_the_same_file_recorded_by_two_processes_at_once_is_stored_once(tmp_path, which):
    storages = _storages(tmp_path)
    if which >= len(storages):
        pytest.skip("NASSB_TEST_POSTGRES is not set")
    storage = storages[which]
    name = f"twice-{os.getpid()}-{which}"
    _proposed(tmp_path, name, storage)
    path = _write(tmp_path, "built.toml", ONE_CELL)
    workers = [subprocess.Popen([sys.executable, "-m", "nassb.reports.cli", "campaign", "record", name,
                                 "--storage", storage, path, "--recalibration", "reweight", "--no-progress"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(w.wait(timeout=300), w.stderr.read() if w.stderr else "") for w in workers]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert refused.count("\n") == 1 and "recorded" in refused and "cells[0]" in refused
    again = Campaign.open(name, storage)
    assert [r["name"] for r in again._records()] == ["built-1"]
    assert again.status().to_json()["recorded"] == 1


def test_the_storage_itself_refuses_a_twin_that_passed_the_read_check(tmp_path, monkeypatch):
    """Two commands that both read "not recorded yet" before either writes: the unique key of
    the storage stores the first and refuses the second (nothing of its file stored)."""
    campaign = _proposed(tmp_path, "race")
    path = _write(tmp_path, "built.toml", ONE_CELL)
    campaign.record(path, recalibration="reweight")
    monkeypatch.setattr(Campaign, "_records", lambda self: [])  # as if read before the first wrote
    with pytest.raises(CardError, match="at the same moment") as err:
        campaign.record(path, recalibration="reweight")
    assert err.value.field == "cells[0]"
    monkeypatch.undo()
    assert len(campaign._records()) == 1


def test_a_proposal_named_without_a_base_is_its_card(tmp_path):
    campaign = _proposed(tmp_path, "named", k=2)
    path = _write(tmp_path, "built.toml", """
        [[cells]]
        proposal = "r1-p2"
        name = "built-2"
        [cells.outcome]
        cracked = false
        """)
    result = campaign.record(path, recalibration="reweight")
    assert [c["proposal"] for c in result.cells] == ["r1-p2"]
    trial = {t.user_attrs["name"]: t for t in campaign.study.get_trials()}["r1-p2"]
    assert trial.state == optuna.trial.TrialState.COMPLETE
    # the stored record reads back on its own, as the proposal's card
    stored = next(iter(campaign_records.parse_records(campaign._records())))
    proposed = trial.user_attrs["design"]["separator.thickness"]
    assert stored.card.separator.get("thickness").value == pytest.approx(proposed, rel=1e-5)


def test_the_same_record_chooses_and_draws_the_same_way(tmp_path):
    gates = []
    for i in (1, 2):
        folder = tmp_path / f"lab{i}"
        folder.mkdir()
        campaign = Campaign.start("seeded", storage=f"sqlite:///{folder / 'lab.db'}")
        campaign.propose(1, out=folder, trials=TRIALS, seed=1)
        gates.append(campaign.record(_write(folder, "built.toml", ONE_CELL)).posterior["gate"])
    assert gates[0]["seed"] == gates[1]["seed"] and gates[0]["k_hat"] == gates[1]["k_hat"]
    assert "gate" in gates[0]["reason"]


def _heavy_tailed(monkeypatch):
    """Every posterior summary gives rate.electronic_conductivity no mean and no sd (a heavy tail,
    tail shape 1.06), as a real recalibration did."""
    original = campaign_module.parameter_summary

    def summary(draws):
        out = original(draws)
        q = out["rate.electronic_conductivity"]
        out["rate.electronic_conductivity"] = {**q, "mean": None, "sd": None, "median": q["mean"],
                                               "note": "tail shape 1.06: the mean does not exist"}
        return out

    monkeypatch.setattr(campaign_module, "parameter_summary", summary)
    monkeypatch.setattr(campaign_recalibrate, "parameter_summary", summary)


def test_a_parameter_without_a_mean_records_reports_and_shows_status(nassb, tmp_path, monkeypatch):
    _heavy_tailed(monkeypatch)
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    _proposed(tmp_path, "tail", storage)
    path = _write(tmp_path, "built.toml", ONE_CELL)
    run = nassb("campaign", "record", "tail", path, "--storage", storage, "--recalibration", "reweight")
    assert run.code == 0, run.err
    assert "rate.electronic_conductivity" in run.out and "no mean" in run.out
    run = nassb("campaign", "status", "tail", "--storage", storage)
    assert run.code == 0, run.err
    run = nassb("campaign", "status", "tail", "--storage", storage, "--json")
    assert run.json()["posteriors"][-1]["parameters"]["rate.electronic_conductivity"]["mean"] is None
    posteriors = Campaign.open("tail", storage).status().to_dataframe("posteriors")
    row = posteriors.loc[(1, "rate.electronic_conductivity")]
    assert row["mean"] != row["mean"] and row["median"] > 0  # NaN mean, with its median
    run = nassb("report", "--campaign", "tail", "--storage", storage, "--out", str(tmp_path / "report"))
    assert run.code == 0, run.err
    text = (tmp_path / "report" / "report.md").read_text()
    assert "no mean: heavy tail" in text


def test_a_killed_recalibration_is_resumed_by_a_command(nassb, tmp_path, monkeypatch):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    _proposed(tmp_path, "killed", storage)
    path = _write(tmp_path, "built.toml", ONE_CELL)

    def killed(self, **kwargs):
        raise KeyboardInterrupt  # the recalibration dies after the records were stored

    with monkeypatch.context() as m:
        m.setattr(Campaign, "recalibrate", killed)
        with pytest.raises(KeyboardInterrupt):
            Campaign.open("killed", storage).record(path)
    status = nassb("campaign", "status", "killed", "--storage", storage, "--json").json()
    assert status["pending"] == ["built-1"] and status["records"][0]["in_posterior"] is False
    assert "not yet in the posterior" in nassb("campaign", "status", "killed", "--storage", storage).out
    status_result = Campaign.open("killed", storage).status()
    records = status_result.to_dataframe("records")
    assert list(records.index) == ["built-1"] and not records.loc["built-1", "in_posterior"]
    proposals = status_result.to_dataframe()
    assert proposals.loc["r1-p1", "open"] and proposals.loc["r1-p1", "built_as"] == "built-1"
    assert proposals.attrs["units"]["separator.thickness [um]"] == "um"
    assert status_result.to_dataframe("rounds").loc[1, "recorded"] == 1
    run = nassb("campaign", "status", "killed", "--storage", storage, "--csv", str(tmp_path / "status.csv"))
    assert run.code == 0 and "r1-p1," in (tmp_path / "status.csv").read_text()
    run = nassb("report", "--campaign", "killed", "--storage", storage, "--out", str(tmp_path / "report"))
    assert run.code == 0, run.err
    text = (tmp_path / "report" / "report.md").read_text()
    assert "Records not yet in the posterior" in text and "recorded, not yet in the posterior" in text
    again = nassb("campaign", "record", "killed", path, "--storage", storage)
    assert again.code == 2 and "campaign recalibrate killed" in again.err and again.err.count("\n") == 1
    run = nassb("campaign", "recalibrate", "killed", "--storage", storage, "--recalibration", "reweight", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert [c["proposal"] for c in doc["cells"]] == ["r1-p1"] and doc["posterior"]["records"]
    status = nassb("campaign", "status", "killed", "--storage", storage, "--json").json()
    assert status["pending"] == [] and status["rounds"][0]["open"] == 0


def _tiny_tmpfs(folder) -> bool:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True,
                          check=False)
    return done.returncode == 0


def test_propose_on_a_full_disk_is_one_line_and_commits_nothing(nassb, tmp_path):
    disk = tmp_path / "disk"
    if not _tiny_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (not root, or no permission)")
    try:
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)  # fill it up
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        storage = f"sqlite:///{tmp_path / 'lab.db'}"
        assert nassb("campaign", "start", "full", "--storage", storage).code == 0
        run = nassb("campaign", "propose", "full", "--storage", storage, "--batch", "2", "--trials", str(TRIALS),
                    "--seed", "1", "--out", str(disk / "round1"))
        assert run.code == 2 and run.err.count("\n") == 1, run.err
        assert "no space left on" in run.err and "round1" in run.err
        assert not (disk / "round1").exists()  # no empty folder left
        status = Campaign.open("full", storage).status().to_json()
        assert status["proposals"] == [] and status["rounds"] == []  # nothing committed
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_card_folder_that_cannot_be_written_commits_nothing(tmp_path, monkeypatch):
    campaign = Campaign.start("nowrite", storage=f"sqlite:///{tmp_path / 'lab.db'}")

    def full(path, text):
        import errno

        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(campaign_cards, "_write_text", full)
    with pytest.raises(OptionError, match="no space left on") as err:
        campaign.propose(2, out=tmp_path / "cards", trials=TRIALS, seed=1)
    assert err.value.field == "out" and not (tmp_path / "cards").exists()
    assert campaign.status().to_json()["proposals"] == []
