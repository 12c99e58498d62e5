"""Tables out (DataFrames, --csv) and cards in (a mapping, a card's replace) for a sweep in Python."""

from __future__ import annotations

import csv
import math

import pytest

import nassb
from nassb.priors import CardError


def test_a_propagation_is_a_dataframe_with_its_units():
    for method in ("gum", "mc"):
        result = nassb.propagate("paper-cell-1", method=method, seed=1, draws=2000) if method == "mc" else \
            nassb.propagate("paper-cell-1")
        df = result.to_dataframe()
        summary = result.summary()
        assert list(df.index) == list(summary)
        assert list(df.columns[:5]) == ["mean", "sd", "ci95_low", "ci95_high", "unit"]
        assert df.loc["E_V_real", "mean"] == pytest.approx(summary["E_V_real"]["mean"])
        assert df.loc["E_V_real", "ci95_high"] == pytest.approx(summary["E_V_real"]["ci95"][1])
        assert df.loc["R_separator", "unit"] == "ohm*cm^2" and df.loc["E_V_real", "unit"] == "Wh/l"
        assert df.attrs["method"] == method and df.attrs["cell"] == "paper-cell-1"


def test_a_heavy_tail_is_nan_with_its_median_and_note():
    from nassb.inference.frames import summary_frame

    df = summary_frame({"x": {"mean": None, "sd": None, "unit": "um", "ci95": [1.0, 9.0], "median": 3.0,
                              "note": "no mean"}, "y": {"mean": 2.0, "sd": 0.1, "unit": "V", "ci95": [1.8, 2.2]}})
    assert math.isnan(df.loc["x", "mean"]) and df.loc["x", "median"] == 3.0 and df.loc["x", "note"] == "no mean"
    assert df.loc["y", "mean"] == 2.0 and df.loc["y", "note"] == ""


def test_propagate_and_design_write_their_tables_as_csv(nassb, tmp_path):
    run = nassb("propagate", "paper-cell-1", "--csv", str(tmp_path / "cell.csv"))
    assert run.code == 0, run.err
    rows = list(csv.DictReader((tmp_path / "cell.csv").open()))
    assert rows[0].keys() >= {"quantity", "mean", "sd", "ci95_low", "ci95_high", "unit"}
    e_v = next(r for r in rows if r["quantity"] == "E_V_real")
    assert float(e_v["mean"]) == pytest.approx(nassb_summary()["E_V_real"]["mean"]) and e_v["unit"] == "Wh/l"
    storage = f"sqlite:///{tmp_path / 'design.db'}"
    run = nassb("design", "--trials", "12", "--seed", "1", "--storage", storage, "--csv", str(tmp_path / "p.csv"),
                "--json")
    assert run.code == 0, run.err
    proposals = run.json()["proposals"]
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert len(rows) == len(proposals) >= 1
    first = rows[0]
    assert float(first["separator.thickness [um]"]) == pytest.approx(
        proposals[0]["design"]["separator.thickness"]["value"])
    assert "E_V_rate mean [Wh/l]" in first and "P_short mean" in first
    study = run.json()["study"]
    trials = nassb_trials(study, storage)
    assert len(trials) == 12 and "separator.thickness [um]" in trials.columns
    assert trials.attrs["units"]["objective [Wh/l]"] == "Wh/l"


def nassb_summary():
    return nassb.propagate("paper-cell-1").summary()


def nassb_trials(study, storage):
    return nassb.design_trials(study, storage)


def test_csv_that_cannot_be_written_is_one_line(nassb, tmp_path):
    (tmp_path / "taken").mkdir()
    run = nassb("propagate", "paper-cell-1", "--csv", str(tmp_path / "taken"))
    assert run.code == 2 and run.err.count("\n") == 1 and "--csv" in run.err


def test_a_card_from_a_mapping_is_validated_as_a_card_file():
    card = nassb.load_card({"base": "paper-cell-1", "cell": {"name": "swept"},
                            "cathode": {"thickness": "150 ± 5 um", "theoretical_capacity": "1.89 mAh/cm2",
                                        "delivered_capacity": "1.6 mAh/cm2"}})
    assert card.name == "swept" and card.cathode.get("thickness").value == 150
    assert card.cathode.get("thickness").sd == 5 and card.separator.get("thickness").value == 50
    with pytest.raises(CardError) as err:
        nassb.load_card({"base": "paper-cell-1", "cathode": {"thickness": object()}})
    assert err.value.field == "cathode.thickness" and err.value.file == "card mapping"
    with pytest.raises(CardError) as err:
        nassb.load_card({"base": "paper-cell-1", "cathode": {"thickness": "-3 um"}})
    assert err.value.field == "cathode.thickness"
    with pytest.raises(CardError, match="missing section"):
        nassb.load_card({"cell": {"name": "x", "voltage": "3 V", "temperature": "300 K"}})


def test_a_card_replaced_is_a_new_validated_card_for_a_sweep():
    card = nassb.load_card("paper-cell-1")
    thinner = card.replace({"cathode.thickness": "120 ± 5 um", "cathode.theoretical_capacity": "1.51 mAh/cm2",
                            "cathode.delivered_capacity": "1.28 mAh/cm2"})
    assert thinner.cathode.get("thickness").value == 120 and card.cathode.get("thickness").value == 200
    assert thinner.sha256 != card.sha256 and thinner.name == card.name
    sweep = [card.replace(separator__thickness=f"{d} ± 4 um") for d in (30, 50, 80)]
    values = [nassb.propagate(c)["E_V_real"]["mean"] for c in sweep]
    assert values[0] > values[1] > values[2]  # a thinner separator, a denser cell
    assert card.replace({"materials.nvp-composite.density": "3.2 g/cm3"}).cathode.material.get("density").value == 3.2
    derived = card.replace(cathode__porosity=False, cathode__theoretical_capacity=False,
                           cathode__loading="23.1 mg/cm2", cathode__active_fraction=0.925)
    assert derived.cathode.get("porosity") is None and derived.cathode.get("loading").value == 23.1
    with pytest.raises(CardError) as err:
        card.replace({"cathode.thickness": "0 um"})
    assert err.value.field == "cathode.thickness" and err.value.file == "paper-cell-1"
    with pytest.raises(CardError, match="is a value"):
        card.replace({"cathode.thickness.sd": "3 um"})
    with pytest.warns(nassb.NassbWarning, match="cathode.thickness >= 189 um"):
        card.replace(cathode__thickness="120 ± 5 um")


def test_next_experiment_and_an_impedance_fit_write_their_tables(nassb, tmp_path, monkeypatch):
    from nassb.design import ranking

    from ..inference.test_eis_circuit import FIG5, SYNTHETIC

    monkeypatch.setattr(ranking, "SEARCH_TRIALS", 6)
    run = nassb("next-experiment", "--outcomes", "10", "--json", "--csv", str(tmp_path / "next.csv"))
    assert run.code == 0, run.err
    rows = list(csv.DictReader((tmp_path / "next.csv").open()))
    assert [r["experiment"] for r in rows] == [e["name"] for e in run.json()["experiments"]]
    assert float(rows[0]["EVSI [Wh/l]"]) == pytest.approx(run.json()["experiments"][0]["evsi"])
    run = nassb("fit", "eis", str(SYNTHETIC / "na-nzsp-na-30C.csv"), "--circuit", FIG5, "--area", "0.503 cm^2",
                "--seed", "3", "--json", "--csv", str(tmp_path / "fit.csv"))
    assert run.code == 0, run.err
    rows = {r["quantity"]: r for r in csv.DictReader((tmp_path / "fit.csv").open())}
    assert rows["R_A"]["unit"] == "ohm*cm^2" and rows["R_A"]["spectrum"]
    assert float(rows["R_A"]["mean"]) == pytest.approx(run.json()["parameters"]["R_A"]["mean"])


def test_a_spectra_listing_and_the_nuts_estimate(monkeypatch):
    from nassb.design import campaign_records

    from ..conftest import REPO

    files = sorted(str(p) for p in (REPO / "tests" / "data" / "eis").glob("synthetic_*.csv"))
    df = nassb.list_spectra(files).to_dataframe()
    assert len(df) == len(files) and df.attrs["units"]["f_max [Hz]"] == "Hz"
    assert (df["points"] > 0).all() and (df["skipped"] == 0).all()
    # the 2-core benchmark it rests on: 282 s for the paper's 19 cells, 348 s with 20 lab cells more
    monkeypatch.setattr(campaign_records.os, "cpu_count", lambda: 2)
    assert campaign_records.nuts_estimate_s(0, {}) == pytest.approx(282, rel=0.05)
    assert campaign_records.nuts_estimate_s(20, {}) == pytest.approx(348, rel=0.05)
    assert campaign_records.duration_words(45) == "about 45 s"
    assert campaign_records.duration_words(300) == "about 5 min"
