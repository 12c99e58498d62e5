"""``nassb fit eis``: recovery of known truths from the synthetic spectra, the unresolved arc
(NUTS, slow), joint Arrhenius (NUTS, slow) and cycle-series fits, the flow into a card, the
strict gate and the report, and one-line errors for bad files and options (they stop before any
sampling)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from nassb.inference.eis import read_spectra

from ..inference.test_eis_circuit import FIG5, FIG7, SYNTHETIC, truth_of

AREA = 0.503  # cm^2, the synthetic files' electrode area
FAST = ["--draws", "500", "--tune", "500", "--chains", "2"]


def _covers(q: dict, truth: float) -> bool:
    return q["ci95"][0] <= truth <= q["ci95"][1]


def test_fig5_spectrum_is_recovered_with_honest_intervals(nassb, tmp_path):
    path = SYNTHETIC / "na-nzsp-na-30C.csv"
    truth = truth_of(read_spectra(path)[0])
    run = nassb("fit", "eis", str(path), "--circuit", FIG5, "--derive", "R_separator=R_A+R_B",
                "--derive", "R_interface=R_C/2", "--area", "0.503 cm^2", "--seed", "3", "--json",
                "--out", str(tmp_path / "fit"))
    assert run.code == 0, run.err
    doc = run.json()
    assert set(doc) >= {"circuit", "parameters", "derived", "least_squares", "diagnostics", "warnings"}
    assert doc["circuit"] == FIG5 and doc["temperature"] == pytest.approx(303.15)
    for name, value in truth.items():
        q = doc["parameters"][name]
        scale = AREA if name.startswith("R") else (1 / AREA if name.endswith("_Q") else 1.0)
        assert _covers(q, value * scale), (name, value * scale, q)
        assert q["ci95"][0] <= doc["least_squares"][name] <= q["ci95"][1]
    assert doc["parameters"]["R_A"]["unit"] == "ohm*cm^2"
    separator = doc["derived"]["R_separator"]
    assert separator["unit"] == "ohm*cm^2" and _covers(separator, 0.011 / 1.6e-3)  # d / sigma: 6.875
    assert separator["sd"] < 0.02 * separator["mean"]
    assert _covers(doc["derived"]["R_interface"], 1.5)
    assert doc["diagnostics"]["ok"], doc["diagnostics"]
    assert doc["kramers_kronig"]["ok"] and doc["warnings"] == []
    assert json.loads((tmp_path / "fit" / "summary.json").read_text()) == doc
    import arviz

    assert "R_A" in arviz.from_netcdf(tmp_path / "fit" / "result.nc").posterior


@pytest.mark.slow
def test_an_unresolved_arc_shows_a_tight_sum_and_wide_parts(nassb):
    """The arc peaks at 10 MHz, above the 1 MHz window: R0 and R1 trade off.  Beside it in the
    batch, a well-resolved spectrum of the same circuit gets the posterior it gets alone, and
    neither touches the other.  Under auto the fast methods, sampling in the sheet coordinates
    (nassb.inference.eis.sheet), accept the hard one without NUTS; their posterior and NUTS's
    (--method nuts) both show the tight sum and the wide parts."""
    path = SYNTHETIC / "nzsp-unresolved-arc.csv"
    good = SYNTHETIC / "na-nzsp-na-30C.csv"  # the same circuit shape, arcs inside the window
    truth = truth_of(read_spectra(path)[0])
    options = ["--circuit", "R0-p(R1,CPE1)-p(R2,CPE2)", "--derive", "R01=R0+R1", "--seed", "2", "--json", *FAST]
    run = nassb("fit", "eis", str(path), str(good), *options)
    assert run.code == 0, run.err
    fast, other = run.json()
    alone = nassb("fit", "eis", str(good), *options).json()
    assert other["parameters"] == alone["parameters"] and other["method"] == alone["method"]
    assert other["method"].startswith("Laplace + ") and fast["method"].startswith(("Laplace + ", "SMC + "))
    run = nassb("fit", "eis", str(path), *options, "--method", "nuts")
    assert run.code == 0, run.err
    nuts = run.json()
    assert nuts["method"] == "NUTS (PyMC)"
    for doc in (fast, nuts):
        p, total = doc["parameters"], doc["derived"]["R01"]
        assert _covers(total, truth["R0"] + truth["R1"]) and total["sd"] < 0.01 * total["mean"]
        for name in ("R0", "R1"):
            assert p[name]["sd"] > 0.15 * p[name]["mean"], name  # the parts are wide ...
            assert p[name]["sd"] > 10 * total["sd"]              # ... and much wider than their sum
        assert _covers(p["R2"], truth["R2"]) and p["R2"]["sd"] < 0.02 * p["R2"]["mean"]
        warning = next(w for w in doc["warnings"] if "do not separate" in w)
        assert "R0 and R1" in warning and "R0+R1" in warning
    assert "do not separate R0 and R1" in run.err


@pytest.mark.slow
def test_joint_arrhenius_fit_gives_activation_energies_from_spectra(nassb, tmp_path):
    files = sorted(str(p) for p in SYNTHETIC.glob("na-nzsp-na-*C.csv"))
    assert len(files) == 6
    run = nassb("fit", "eis", *files, "--circuit", FIG5, "--arrhenius", "R_A,R_B,R_C", "--area", "0.503",
                "--seed", "4", "--json", *FAST, "--out", str(tmp_path / "joint"))
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["joint"] == "arrhenius" and len(doc["spectra"]) == 6
    assert "one model over all 6 spectra on purpose" in doc["note"]
    assert all(s["method"] == "NUTS (PyMC)" and s["joint"] == "arrhenius" for s in doc["spectra"])
    from nassb.inference.result import Result
    from nassb.priors.jsonio import json_text

    loaded = Result.from_netcdf(tmp_path / "joint" / "result.nc")
    assert json.loads(json_text(loaded.to_json())) == doc and "joint Arrhenius fit" in repr(loaded)
    shared = doc["parameters"]
    for name, energy in (("R_A", 0.28), ("R_B", 0.28), ("R_C", 0.41)):
        assert _covers(shared[f"E_A_{name}"], energy), (name, shared[f"E_A_{name}"])
        assert shared[f"E_A_{name}"]["sd"] < 0.02
    truth30 = truth_of(read_spectra(SYNTHETIC / "na-nzsp-na-30C.csv")[0])
    for name in ("R_A", "R_B", "R_C"):
        assert _covers(shared[f"{name}_ref"], truth30[name] * AREA), name
    assert doc["diagnostics"]["divergences"] == 0


@pytest.mark.slow
def test_a_cycle_series_shows_the_growing_electrolyte_resistance(nassb, tmp_path):
    """The paper's Fig. 9b: eight spectra of one file, one batch fit, R_LE against cycle, and
    its report (Bode with bands and residuals, Nyquist with draws, the series with intervals)."""
    path = SYNTHETIC / "cell-2-cycling.csv"
    spectra = read_spectra(path)
    run = nassb("fit", "eis", str(path), "--circuit", FIG7, "--area", "0.503", "--seed", "6", "--json", *FAST,
                "--report", str(tmp_path / "report"))
    assert run.code == 0, run.err
    report = tmp_path / "report"
    assert {p.name for p in (report / "figures").iterdir()} >= {"nyquist.png", "series.png", "bode-0.png"}
    assert json.loads((report / "summary.json").read_text())["fit"] == run.json()
    html = (report / "report.html").read_text()
    assert "Resistances across the spectra" in html and "lin-KK passes" in html and "R_LE" in html
    doc = run.json()
    assert [s["cycle"] for s in doc] == [0, 10, 20, 30, 40, 50, 60, 70]
    truths = [float(line.split("R_LE =")[1].split()[0]) for s in spectra[:1] for line in s.notes
              if line.lstrip("# ").startswith("truth (cycle")]
    r_le = [s["parameters"]["R_LE"] for s in doc]
    covered = sum(_covers(q, t * AREA) for q, t in zip(r_le, truths))
    assert covered >= 7, (covered, truths)
    assert r_le[-1]["ci95"][0] > r_le[0]["ci95"][1]  # the rise is resolved, not noise
    assert np.all(np.diff([q["mean"] for q in r_le]) > -2 * max(q["sd"] for q in r_le))


@pytest.mark.slow
def test_fitted_resistances_flow_into_a_card(nassb, tmp_path, write_card):
    """fit eis --out, then a card whose measurements point at summary.json, then bayes."""
    fit = tmp_path / "fit"
    run = nassb("fit", "eis", str(SYNTHETIC / "na-nzsp-na-30C.csv"), "--circuit", FIG5, "--area", "0.503",
                "--derive", "R_separator=R_A+R_B", "--derive", "R_interface=R_C/2", "--seed", "1", "--json",
                "--out", str(fit), *FAST)
    assert run.code == 0, run.err
    card = write_card(f"""
        base = "paper-cell-2"
        [cell]
        name = "cell-2-with-impedance"
        [[observations]]
        kind = "measurement"
        quantity = "separator.resistance"
        fit = "{fit / 'summary.json'}"
        derived = "R_separator"
        cell_sample = true
        [[observations]]
        kind = "measurement"
        quantity = "nzsp-tape.interface_resistance"
        fit = "{fit / 'summary.json'}"
        derived = "R_interface"
        cell_sample = true
    """)
    prior = nassb("propagate", "paper-cell-2", "--json").json()["quantities"]
    post = nassb("propagate", str(card), "--method", "bayes", "--seed", "2", "--json", *FAST)
    assert post.code == 0, post.err
    q = post.json()["quantities"]
    # Cell 2's separator is the 110 um tape of the symmetric cells: d / sigma = 6.9 ohm cm^2.
    assert q["R_separator"]["sd"] < 0.5 * prior["R_separator"]["sd"]
    assert _covers(q["R_separator"], 6.875)
    assert q["R_interface"]["sd"] < 0.5 * prior["R_interface"]["sd"]
    assert _covers(q["R_interface"], 1.5)


def _write(spectrum, path):
    path.write_text("# SYNTHETIC\nfrequency [Hz],Z_real [ohm],Z_imag [ohm]\n" + "".join(
        f"{float(f)!r},{float(z.real)!r},{float(z.imag)!r}\n" for f, z in zip(spectrum.frequency, spectrum.z)))
    return str(path)


def test_strict_fails_on_a_misfit_and_says_which_spectrum(nassb, tmp_path):
    """Inductive points fitted without an inductor: the warning names the spectrum, the
    frequency range and the fix; --strict exits 3; the good spectrum beside it passes."""
    from ..inference.test_eis_fit import _inductive

    bad = _write(_inductive(), tmp_path / "leads.csv")
    good = str(SYNTHETIC / "na-nzsp-na-30C.csv")
    run = nassb("fit", "eis", good, bad, "--circuit", FIG5, "--strict", "--seed", "1", *FAST)
    assert run.code == 3, run.err
    assert "1 of 2 spectra pass" in run.out and "leads.csv FAILS" in run.out and "does not fit" in run.out
    assert "leads.csv: the circuit does not fit the data" in run.err and "add an L element" in run.err
    assert "na-nzsp-na-30C.csv" not in run.err
    assert nassb("fit", "eis", good, "--circuit", FIG5, "--strict", "--seed", "1", *FAST).code == 0


def test_a_report_lists_every_spectrum_and_says_which_have_figures(nassb, tmp_path):
    """Seven spectra: the report's table holds all seven; six get figures, among them the one
    that fails its gate, and the report says so."""
    from ..inference.test_eis_fit import _inductive

    files = [*sorted(str(p) for p in SYNTHETIC.glob("na-nzsp-na-*C.csv")), _write(_inductive(), tmp_path / "leads.csv")]
    run = nassb("fit", "eis", *files, "--circuit", FIG5, "--seed", "1", "--json", *FAST, "--report",
                str(tmp_path / "report"))
    assert run.code == 0, run.err
    html = (tmp_path / "report" / "report.html").read_text()
    for name in files:
        assert html.count(name) >= 1, name
    assert "Every spectrum (7)" in html and "Figures for 6 of 7 spectra" in html and "fails the gate" in html
    assert len(list((tmp_path / "report" / "figures").glob("bode-*.png"))) == 6
    assert (tmp_path / "report" / "figures" / "bode-6.png").is_file()  # the failing one is drawn


# -- bad input: one line, exit code 2, before any sampling ---------------------------------------

@pytest.mark.parametrize("content, words", [
    ("", "no data"),
    ("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n", "no data"),
    ("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1e3,1,-1\n1e2,x,-1\n10,1,-1\n1,1,-1\n0.1,1,-1\n", "x"),
    ("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1e3,1,-1\n-1e2,1,-1\n10,1,-1\n1,1,-1\n0.1,1,-1\n", "> 0"),
    ("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1e3,1,-1\n1e2,1,-1\n1e2,1,-1\n1,1,-1\n0.1,1,-1\n", "twice"),
])
def test_bad_spectra_exit_2_with_one_line(nassb, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    run = nassb("fit", "eis", str(path), "--circuit", "R0-p(R1,C1)")
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and str(path) in run.err and words in run.err, run.err


@pytest.mark.parametrize("options, words", [
    (["--circuit", "R0-p(R1"], "--circuit"),
    (["--circuit", "R0-p(R1,C1)", "--derive", "x=R7"], "unknown name 'R7'"),
    (["--circuit", "R0-p(R1,C1)", "--derive", "x=R0+C1"], "incompatible units"),
    (["--circuit", "R0-p(R1,C1)", "--area", "-1"], "--area"),
    (["--circuit", "R0-p(R1,C1)", "--area", "3 kg"], "--area"),
    (["--circuit", "R0-p(R1,C1)", "--arrhenius", "R0"], "two or more temperatures"),
    (["--circuit", "R0-p(R1,C1)", "--arrhenius", "C1"], "not a resistor"),
    (["--circuit", "R0-p(R1,C1)", "--arrhenius", "R1,R1"], "named twice"),
    (["--circuit", "R0-p(R1,C1)", "--fmin", "1e9"], "--fmin"),
])
def test_bad_options_exit_2_with_one_line(nassb, options, words):
    path = SYNTHETIC / "na-nzsp-na-30C.csv"
    run = nassb("fit", "eis", str(path), *options)
    assert run.code == 2 and run.err.count("\n") == 1 and words in run.err, run.err


def test_a_zero_impedance_is_refused_before_fitting(nassb, tmp_path):
    path = tmp_path / "zero.csv"
    path.write_text("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1e3,1,-1\n1e2,0,0\n10,1,-1\n1,1,-1\n0.1,1,-1\n")
    run = nassb("fit", "eis", str(path), "--circuit", "R0-p(R1,C1)", "--no-kk")
    assert run.code == 2 and "|Z| = 0 at 100 Hz" in run.err and str(path) in run.err, run.err


def test_a_glob_that_matches_nothing_is_named(nassb, tmp_path):
    run = nassb("fit", "eis", str(tmp_path / "*.mpt"), "--circuit", "R0-p(R1,C1)")
    assert run.code == 2 and "no file matches" in run.err


def test_a_joint_fit_needs_every_temperature(nassb, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(line for line in (SYNTHETIC / "na-nzsp-na-0C.csv").read_text().splitlines()
                               if "temperature" not in line) + "\n")
    run = nassb("fit", "eis", str(SYNTHETIC / "na-nzsp-na-30C.csv"), str(plain), "--circuit", FIG5,
                "--arrhenius", "R_A")
    assert run.code == 2 and "no temperature for" in run.err and "plain.csv" in run.err, run.err
