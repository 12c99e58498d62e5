"""``nassb campaign``: a whole round from the command line, its JSON forms, one-line errors, the report."""

from __future__ import annotations

import json
import textwrap


def test_a_whole_round(nassb, tmp_path):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    assert nassb("campaign", "start", "lab", "paper-cell-1", "--storage", storage, "--max-short", "0.25").code == 0
    run = nassb("campaign", "propose", "lab", "--storage", storage, "--batch", "2", "--out", str(tmp_path / "cards"),
                "--trials", "60", "--seed", "1", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["round"] == 1 and [p["name"] for p in doc["proposals"]] == ["r1-p1", "r1-p2"]
    for p in doc["proposals"]:
        assert set(p) >= {"name", "card", "design", "quantities"}
        assert (tmp_path / "cards" / f"{p['name']}.toml").is_file()
    obs = tmp_path / "cards" / "built.toml"
    obs.write_text(textwrap.dedent("""
        [[cells]]
        base = "r1-p1.toml"
        name = "built-1"
        [cells.outcome]
        current = "0.2 mA/cm^2"
        cycles = 30
        """), "utf-8")
    run = nassb("campaign", "record", "lab", str(obs), "--storage", storage, "--recalibration", "reweight",
                "--seed", "2", "--json")
    assert run.code == 0, run.err
    assert run.json()["cells"][0]["proposal"] == "r1-p1"
    run = nassb("campaign", "status", "lab", "--storage", storage, "--json")
    status = run.json()
    assert [{k: r[k] for k in ("round", "proposed", "recorded", "open")} for r in status["rounds"]] == [
        {"round": 1, "proposed": 2, "recorded": 1, "open": 1}]
    # the record scored against the posterior that proposed it: it held and survived 30 cycles
    check = status["rounds"][0]["calibration"]
    assert check["risks"]["fracture"]["observed"] == 0.0 and check["risks"]["short"]["observed"] == 0.0
    assert status["recorded"] == 1 and status["settings"]["max_short"] == 0.25
    assert set(status) >= {"rounds", "recorded", "best", "posteriors"}
    text = nassb("campaign", "status", "lab", "--storage", storage)
    assert text.code == 0 and "round  proposed  recorded  open" in text.out
    assert "calibration (predicted before the cells entered the posterior)" in text.out
    run = nassb("report", "--campaign", "lab", "--storage", storage, "--out", str(tmp_path / "report"))
    assert run.code == 0, run.err
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["campaign"] == "lab" and (tmp_path / "report" / "figures" / "parameters.png").is_file()
    assert "Risk parameters round by round" in (tmp_path / "report" / "report.md").read_text()


def test_bad_input_is_one_line_and_exit_2(nassb, tmp_path):
    storage = f"sqlite:///{tmp_path / 'lab.db'}"
    assert nassb("campaign", "start", "lab", "--storage", storage).code == 0
    run = nassb("campaign", "status", "nope", "--storage", storage)
    assert run.code == 2 and run.err.count("\n") == 1 and "no campaign 'nope'" in run.err
    run = nassb("campaign", "propose", "lab", "--storage", storage, "--batch", "0")
    assert run.code == 2 and "--batch" in run.err and run.err.count("\n") == 1
    bad = tmp_path / "bad.toml"
    bad.write_text('[[cells]]\nbase = "paper-cell-1"\nname = "b"\n[cells.outcome]\ncracked = "no"\n', "utf-8")
    run = nassb("campaign", "record", "lab", str(bad), "--storage", storage)
    assert run.code == 2 and run.err.count("\n") == 1
    assert str(bad) in run.err and "cells[0].outcome.cracked" in run.err
    run = nassb("campaign", "record", "lab", str(tmp_path / "missing.toml"), "--storage", storage)
    assert run.code == 2 and "missing.toml" in run.err
    run = nassb("campaign", "status", "lab", "--storage", f"sqlite:///{tmp_path / 'none.db'}")
    assert run.code == 2 and "none.db" in run.err
    run = nassb("report", "--campaign", "nope", "--storage", storage, "--out", str(tmp_path / "r"))
    assert run.code == 2 and "nope" in run.err
