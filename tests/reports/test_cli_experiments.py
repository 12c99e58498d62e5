"""``nassb next-experiment``: the JSON other tools read, the table, and bad input in one line."""

from __future__ import annotations

import sys
import types

import pytest
from nassb.design import ranking
from nassb.inference.risk.predict import RiskModel


@pytest.fixture(autouse=True)
def short_search(monkeypatch):
    monkeypatch.setattr(ranking, "SEARCH_TRIALS", 6)


def test_json_lists_the_experiments_best_first(nassb):
    run = nassb("next-experiment", "--outcomes", "10", "--json")
    assert run.code == 0, run.err
    document = run.json()
    entries = document["experiments"]
    assert len(entries) == 10
    assert [e["evsi"] for e in entries] == sorted((e["evsi"] for e in entries), reverse=True)
    for e in entries:
        assert {"name", "evsi", "evsi_se", "cost", "evsi_per_cost", "interval_shrinkage"} <= set(e)
        assert e["cost"] == e["days"] > 0
    assert document["unit"] == "Wh/l" and document["settings"]["outcomes"] == 10


def test_text_is_a_table_with_the_costs_and_the_shrinkage(nassb):
    run = nassb("next-experiment", "paper-cell-1", "--outcomes", "10", "--cost", "cells")
    assert run.code == 0, run.err
    header = next(line for line in run.out.splitlines() if line.startswith("#"))
    for column in ("experiment", "EVSI [Wh/l]", "specimens", "days", "per cell", "-fracture", "-short"):
        assert column in header
    assert "biaxial strength, 10 tapes of 50 µm" in run.out and "candidate designs" in run.out


@pytest.mark.parametrize(("args", "words"), [
    (("--outcomes", "1"), "--outcomes"),
    (("--campaign", "lab", "--posterior", "x.nc"), "not both"),
    (("--seed", "-3"), "--seed"),
])
def test_bad_options_are_one_line(nassb, args, words):
    run = nassb("next-experiment", *args)
    assert run.code == 2 and run.out == ""
    assert len(run.err.strip().splitlines()) == 1 and words in run.err


def test_a_bad_experiments_file_is_one_line_naming_file_and_field(nassb, tmp_path):
    path = tmp_path / "more.toml"
    path.write_text('[[experiment]]\nkind = "critical_current"\ncells = 2.5\n', encoding="utf-8")
    run = nassb("next-experiment", "--experiments", str(path))
    assert run.code == 2 and run.out == ""
    assert run.err.strip().splitlines() == [f"nassb: {path}: experiment[1].cells: must be a whole number >= 1, got 2.5"]


def test_a_missing_campaign_module_is_one_line(nassb, monkeypatch):
    monkeypatch.setitem(sys.modules, "nassb.design.campaign", None)  # import fails as if absent
    run = nassb("next-experiment", "--campaign", "lab")
    assert run.code == 2 and run.err.strip() == "nassb: --campaign: campaigns are not available in this nassb"


def test_a_campaign_is_opened_by_name_and_storage(nassb, monkeypatch):
    opened = []
    risk = RiskModel({k: v[:600] for k, v in RiskModel.load().draws.items()})

    class Campaign:
        card = "paper-cell-1"

        @classmethod
        def open(cls, name, storage):
            opened.append((name, storage))
            return cls()

        def risk_model(self):
            return risk

        def candidate_designs(self):
            return [{"name": "r1-p1", "design": {"cathode.theoretical_capacity": 0.8, "cathode.porosity": 0.5,
                                                  "separator.thickness": 80.0, "anode.reservoir_thickness": 33.0,
                                                  "cell.pressure": 0.05}}]

        def design_settings(self):
            return {"objective": "E_V", "cycles": 60}

    module = types.ModuleType("nassb.design.campaign")
    module.Campaign = Campaign  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nassb.design.campaign", module)
    run = nassb("next-experiment", "--campaign", "lab", "--storage", "sqlite:///lab.db", "--outcomes", "8", "--json")
    assert run.code == 0, run.err
    assert opened == [("lab", "sqlite:///lab.db")]
    document = run.json()
    assert document["decision"]["designs"][0]["name"] == "r1-p1" and document["settings"]["cycles"] == 60


def test_the_decision_options_reach_the_ranking_and_are_recorded(nassb):
    run = nassb("next-experiment", "--limit-confidence", "0.9", "--max-short", "0.3", "--outcomes", "20", "--json")
    assert run.code == 0, run.err
    s = run.json()["settings"]
    assert s["limit_confidence"] == 0.9 and s["limits"]["max_short"] == 0.3
    assert "probability 0.9" in s["limits_judged_on"]
    bad = nassb("next-experiment", "--limit-confidence", "1.5")
    assert bad.code == 2 and "--limit-confidence" in bad.err
