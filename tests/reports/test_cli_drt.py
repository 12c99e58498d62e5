"""``nassb fit drt``: the paper's SYNTHETIC two-arc spectrum gives two peaks and the circuit for
``fit eis`` (text, JSON, --out, --report), and bad input is one line with exit code 2."""

from __future__ import annotations

import json

import pytest

from nassb import load_result

from ..inference.test_eis_circuit import SYNTHETIC


def test_two_peaks_and_the_circuit_in_text_json_out_and_report(nassb, tmp_path):
    path = SYNTHETIC / "na-nzsp-na-30C.csv"
    run = nassb("fit", "drt", str(path), "--area", "0.503")
    assert run.code == 0 and run.err == "", run.err
    assert "suggested circuit: R0-p(R1,CPE1)-p(R2,CPE2)" in run.out
    assert f"nassb fit eis {path} --circuit 'R0-p(R1,CPE1)-p(R2,CPE2)' --area 0.503" in run.out
    assert "Ω cm²" in run.out and "arc" in run.out
    run = nassb("fit", "drt", str(path), "--area", "0.503", "--json", "--out", str(tmp_path / "out"),
                "--report", str(tmp_path / "report"))
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["circuit"] == "R0-p(R1,CPE1)-p(R2,CPE2)"
    assert [p["resolved"] for p in doc["peaks"] if p["counted"]] == [True, True]
    assert doc["peaks"][0]["tau"]["unit"] == "s" and doc["peaks"][0]["R"]["unit"] == "ohm*cm^2"
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == doc
    assert load_result(tmp_path / "out" / "result.nc").to_json() == doc
    html = (tmp_path / "report" / "report.html").read_text()
    assert "R0-p(R1,CPE1)-p(R2,CPE2)" in html and "Bode" in html and "Nyquist" in html
    figures = {p.name for p in (tmp_path / "report" / "figures").glob("*.png")}
    assert figures == {"drt-0.png", "bode-0.png", "nyquist.png"}


def test_a_batch_lists_every_spectrum_and_warns_about_an_arc_outside_the_window(nassb):
    files = [str(SYNTHETIC / "na-nzsp-na-30C.csv"), str(SYNTHETIC / "nzsp-unresolved-arc.csv")]
    run = nassb("fit", "drt", *files, "--json")
    assert run.code == 0
    docs = run.json()
    assert [d["circuit"] for d in docs] == ["R0-p(R1,CPE1)-p(R2,CPE2)", "R0-p(R1,CPE1)"]
    assert "nzsp-unresolved-arc.csv: " in run.err and "above the highest measured frequency" in run.err


@pytest.mark.parametrize("content, words", [
    ("", "no data"),
    ("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1e3,1,-1\n1e2,x,-1\n10,1,-1\n1,1,-1\n0.1,1,-1\n", "x"),
    ("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1e3,1,-1\n1e2,0,0\n10,1,-1\n1,1,-1\n0.1,1,-1\n", "|Z| = 0"),
])
def test_bad_spectra_exit_2_with_one_line(nassb, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    run = nassb("fit", "drt", str(path))
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and str(path) in run.err and words in run.err, run.err


@pytest.mark.parametrize("options, words", [
    (["--area", "-1"], "--area"),
    (["--fmin", "1e9"], "--fmin"),
    (["--fmax", "-3"], "--fmax"),
    (["--draws", "5"], "--draws"),
    (["--cycles", "7"], "cycle"),
])
def test_bad_options_exit_2_with_one_line(nassb, options, words):
    run = nassb("fit", "drt", str(SYNTHETIC / "na-nzsp-na-30C.csv"), *options)
    assert run.code == 2 and run.err.count("\n") == 1 and words in run.err, run.err


def test_a_missing_file_is_named(nassb, tmp_path):
    run = nassb("fit", "drt", str(tmp_path / "none.csv"))
    assert run.code == 2 and "none.csv" in run.err and run.err.count("\n") == 1


def test_fit_eis_takes_the_suggested_circuit_and_its_report_shows_the_drt(nassb, tmp_path):
    path = str(SYNTHETIC / "na-nzsp-na-30C.csv")
    circuit = nassb("fit", "drt", path, "--json").json()["circuit"]
    run = nassb("fit", "eis", path, "--circuit", circuit, "--seed", "1", "--draws", "250", "--chains", "2",
                "--json", "--report", str(tmp_path / "report"))
    assert run.code == 0, run.err
    assert run.json()["circuit"] == "R0-p(R1,CPE1)-p(R2,CPE2)"
    html = (tmp_path / "report" / "report.html").read_text()
    assert "distribution of relaxation times" in html and "the shape of the circuit fitted" in html
    assert (tmp_path / "report" / "figures" / "drt-0.png").is_file()
