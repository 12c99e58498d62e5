"""No traceback on any input: extreme numbers in every card field and every number option end in
exit code 0 (with a warning where the value is implausible) or 2 with one line; overflowing
results are "n/a (non-finite)" or a one-line error; --out refuses folders nassb did not write and
is checked before any work; user text never reaches matplotlib's mathtext."""

from __future__ import annotations

import errno
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nassb.priors import fields as F

from ..conftest import MINIMAL_CARD, run_process

PAPER_MATERIALS = ("sodium", "nzsp-tape", "nvp-composite", "naclo4-ecpc")
CARD_FIELDS = ([(section, key) for section, specs in F.SECTION_FIELDS.items() for key in specs]
               + [(f"materials.{m}", key) for m in PAPER_MATERIALS for key in F.MATERIAL_FIELDS])
EXTREMES = (0.0, -0.0, 5e-324, 1e-320, 1e-300, 1e-12, 1.0, 30.0, 1e12, 1e300, 1.7976931348623157e308,
            -1.0, -1e-320, -1e300)
NUMBERS = st.one_of(st.sampled_from(EXTREMES), st.floats(allow_nan=False, allow_infinity=False))
QUICK = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _clean(nassb, *args: str):
    """Run nassb in-process: any exception escaping main() is the traceback a user would see."""
    try:
        run = nassb(*args)
    except Exception as err:  # noqa: BLE001 - the test is that nothing escapes
        pytest.fail(f"nassb {' '.join(args)} raised {type(err).__name__}: {err}")
    assert run.code in (0, 2), (args, run.code, run.err)
    assert "Traceback" not in run.err
    # Every line on stderr is nassb's own: no numpy warning naming a line of our source.
    assert all(line.startswith("nassb") for line in run.err.splitlines() if line.strip()), run.err
    if run.code == 2:
        errors = [line for line in run.err.splitlines() if line.startswith("nassb") and "warning:" not in line]
        assert len(errors) == 1, run.err
    return run


def _entry(form: str, x: float, y: float) -> str:
    if form == "bare":
        return repr(x)
    if form == "text":
        return json.dumps(f"{x!r} ± {y!r}")
    return f"{{ value = {x!r}, sd = {y!r} }}"


@QUICK
@given(where=st.sampled_from(CARD_FIELDS), form=st.sampled_from(("bare", "text", "table")), x=NUMBERS, y=NUMBERS)
def test_any_number_in_any_card_field(nassb, tmp_path, where, form, x, y):
    section, key = where
    card = tmp_path / "card.toml"
    card.write_text(f'base = "paper-cell-1"\n[{section}]\n{key} = {_entry(form, x, y)}\n', encoding="utf-8")
    _clean(nassb, "propagate", str(card))
    _clean(nassb, "propagate", str(card), "--method", "mc", "--draws", "200", "--seed", "1")
    _clean(nassb, "risk", str(card), "--seed", "1")


def _option_value(draw_int: bool):
    integers = st.one_of(st.integers(-3, 3), st.sampled_from((0, 10**6, 10**300)))
    floats = NUMBERS.map(repr)
    return st.one_of(integers.map(str), floats) if draw_int else floats


@QUICK
@given(draws=st.one_of(st.integers(-5, 3000).map(str), NUMBERS.map(repr), st.just(str(10**30))),
       digits=_option_value(True), seed=st.one_of(st.integers(0, 2**70).map(str), NUMBERS.map(repr)))
def test_any_number_option_of_propagate(nassb, draws, digits, seed):
    _clean(nassb, "propagate", "paper-cell-1", "--method", "mc", "--draws", draws, "--digits", digits, "--seed", seed)
    _clean(nassb, "propagate", "paper-cell-1", "--draws", draws)  # refused under gum


@QUICK
@given(current=NUMBERS.map(repr), cycles=_option_value(True), seed=_option_value(True))
def test_any_number_option_of_risk(nassb, current, cycles, seed):
    _clean(nassb, "risk", "paper-cell-1", "--current", current, "--cycles", cycles, "--seed", seed)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(("--quantile", "--max-fracture", "--max-short", "--max-drop", "--min-retention",
                               "--current", "--cycles", "--seed", "--top", "--trials")),
       value=_option_value(True))
def test_any_number_option_of_design(nassb, tmp_path, option, value):
    args = ["design", "--storage", f"sqlite:///{tmp_path / 'study.db'}", "--json", option, value]
    if option != "--trials":
        args += ["--trials", "1"]
    elif value.lstrip("-").isdigit() and int(value) > 2:
        args[-1] = "2"  # any count is accepted; two trials keep the test quick
    _clean(nassb, *args)


# --- the probe's one-line reproductions --------------------------------------------------------

def _card(write_card, old: str, new: str):
    assert old in MINIMAL_CARD
    return str(write_card(MINIMAL_CARD.replace(old, new)))


@pytest.mark.parametrize("method", ["gum", "mc"])
def test_a_thickness_of_1e300_is_not_a_traceback(nassb, write_card, method):
    card = _card(write_card, 'thickness = "50 ± 4 um"', "thickness = 1e300")
    run = _clean(nassb, "propagate", card, "--method", method, *(["--draws", "1000"] if method == "mc" else []))
    assert "separator.thickness" in run.err and "plausible" in run.err
    if run.code == 0:
        assert "n/a (non-finite)" in run.out or "e" in run.out


@pytest.mark.parametrize("entry", ['"1e308 um"', '"50 ± 1e300 um"'])
def test_a_monte_carlo_overflow_names_the_card_and_the_field(nassb, write_card, entry):
    # It said "cannot convert float infinity to integer", naming neither.
    card = _card(write_card, 'thickness = "50 ± 4 um"', f"thickness = {entry}")
    run = _clean(nassb, "propagate", card, "--method", "mc", "--draws", "1000", "--seed", "1")
    assert "infinity" not in run.err
    assert f"nassb: warning: {card}: separator.thickness: " in run.err or f"nassb: {card}: separator.thickness: " \
        in run.err, run.err


def test_non_finite_monte_carlo_draws_name_the_input_that_overflows(write_card):
    from nassb.inference.model import CellModel
    from nassb.inference.montecarlo import overflow_error
    from nassb.priors import load_card

    with pytest.warns(UserWarning):
        card = load_card(_card(write_card, 'thickness = "50 ± 4 um"', 'thickness = "50 ± 1e300 um"'))
    err = overflow_error(CellModel(card), "3 of 1000 Monte Carlo draws of E_V_theo are not finite numbers")
    assert err.file == card.origin and err.field == "separator.thickness"
    assert str(err).startswith(f"{card.origin}: separator.thickness: 3 of 1000 Monte Carlo draws")


def test_a_temperature_of_1e_minus_300_under_mc_is_one_line(nassb, write_card):
    card = _card(write_card, 'temperature = "25 degC"', "temperature = 1e-300")
    run = _clean(nassb, "propagate", card, "--method", "mc", "--draws", "1000")
    assert run.code == 2 and "not finite" in run.err and '"1e-300 degC"' in run.err
    gum = _clean(nassb, "propagate", card)
    assert gum.code == 0 and "R_separator   n/a (non-finite)" in gum.out


def test_a_report_of_an_overflowing_card_is_one_line(nassb, write_card, tmp_path):
    card = str(write_card('base = "paper-cell-1"\n[cell]\ntemperature = 1e-300\n'))
    run = _clean(nassb, "report", card, "--out", str(tmp_path / "r"))
    assert run.code == 2 and not (tmp_path / "r").exists()


@pytest.mark.parametrize("method", ["gum", "mc"])
def test_a_huge_result_is_written_with_an_exponent(nassb, write_card, method):
    card = _card(write_card, 'temperature = "25 degC"', "temperature = 30")
    draws = ["--draws", "2000", "--seed", "1"] if method == "mc" else []
    run = _clean(nassb, "propagate", card, "--method", method, *draws)
    assert run.code == 0 and '"30 degC"' in run.err
    line = next(line for line in run.out.splitlines() if line.startswith("R_separator"))
    assert len(line) < 100 and "e4" in line and line.count("(") == line.count(")"), line


def test_propagate_out_refuses_a_folder_nassb_did_not_write(nassb, tmp_path):
    own = tmp_path / "thesis"
    own.mkdir()
    (own / "thesis.tex").write_text("precious")
    run = nassb("propagate", "paper-cell-1", "--out", str(own))
    assert run.code == 2 and "--out" in run.err and "not an nassb result directory" in run.err
    assert sorted(p.name for p in own.iterdir()) == ["thesis.tex"]
    out = tmp_path / "result"
    assert nassb("propagate", "paper-cell-1", "--out", str(out)).code == 0
    assert nassb("propagate", "paper-cell-1", "--method", "mc", "--draws", "500", "--out", str(out)).code == 0
    assert json.loads((out / "summary.json").read_text())["method"] == "mc"
    assert (out / ".nassb").is_file() and (out / "result.nc").is_file()


def test_out_and_report_are_checked_before_any_work(nassb, tmp_path, monkeypatch):
    from nassb.inference import arrhenius, propagate
    from nassb.inference.eis import api as eis_api
    from nassb.inference.risk import scoring

    def never(*args, **kwargs):
        raise AssertionError("the work started before --out was checked")

    for module, name in ((arrhenius, "fit_arrhenius"), (eis_api, "fit_eis"), (propagate, "propagate"),
                         (scoring, "score_risks")):
        monkeypatch.setattr(module, name, never)
    own = tmp_path / "thesis"
    own.mkdir()
    (own / "thesis.tex").write_text("precious")
    csv = tmp_path / "s.csv"
    csv.write_text("temperature [degC],conductivity [mS/cm]\n30,1.6\n20,1.2\n")
    spectrum = tmp_path / "z.csv"
    spectrum.write_text("frequency [Hz],Z_real [ohm],Z_imag [ohm]\n1e3,1,-1\n1e2,2,-1\n10,3,-1\n")
    for args, flag in ((["fit", "arrhenius", str(csv), "--out", str(own)], "--out"),
                       (["propagate", "paper-cell-1", "--method", "bayes", "--out", str(own)], "--out"),
                       (["risk", "paper-cell-1", "--out", str(own)], "--out"),
                       (["fit", "eis", str(spectrum), "--circuit", "R0-p(R1,C1)", "--report", str(own)], "--report")):
        run = nassb(*args)
        assert run.code == 2 and f"nassb: {flag}: " in run.err and "not an nassb" in run.err, (args, run.err)
    assert sorted(p.name for p in own.iterdir()) == ["thesis.tex"]


def test_a_full_disk_under_out_is_one_line(nassb, tmp_path, monkeypatch):
    from nassb.inference.result import PropagationResult

    def full(self, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PropagationResult, "to_netcdf", full)
    run = nassb("propagate", "paper-cell-1", "--out", str(tmp_path / "out"))
    assert run.code == 2 and run.err.count("\n") == 1
    assert run.err.startswith("nassb: --out: no space left on device")
    assert list(tmp_path.iterdir()) == []


def test_figures_draw_user_text_as_text():
    import numpy as np

    from nassb.priors.display import figures

    nasty = r"cell$\frac{1}{$.csv $x^2$ \alpha _ ^"
    pngs = [
        figures.budget_chart([{"input": nasty, "contribution": 1.0, "share": 1.0}], nasty, nasty),
        figures.densities({nasty: np.random.default_rng(0).normal(size=500)}, {nasty: {"mean": 0.0, "sd": 1.0}},
                          [nasty], {nasty: nasty}),
        figures.resistance_bands(np.array([0.0, 30.0]), {nasty: np.ones((3, 2))}, 30.0),
        figures.arrhenius_plot(np.array([280.0, 300.0]), np.array([1.0, 2.0]), np.array([280.0, 300.0]),
                               np.ones((3, 2)), nasty, nasty),
        figures.optimisation_history([1.0, 2.0], [True, False], nasty),
        figures.design_map([(0.1, 200.0, True)], {nasty: (0.2, 210.0)}, nasty, nasty),
        figures.importances({nasty: 1.0}),
        figures.nyquist([{"label": nasty, "z": np.array([1 - 1j, 2 - 1j]), "draws": np.array([[1 - 1j, 2 - 1j]])}],
                        nasty),
        figures.parameter_series(np.array([1.0, 2.0]), {nasty: np.ones((3, 2))}, nasty, nasty),
    ]
    assert all(png.startswith(b"\x89PNG") for png in pngs)


@pytest.mark.slow
def test_an_eis_report_of_a_file_named_like_mathtext(nassb, tmp_path):
    from ..conftest import REPO

    source = REPO / "priors" / "data" / "synthetic" / "eis" / "na-nzsp-na-30C.csv"
    spectrum = tmp_path / "cell$\\frac{1}{$.csv"
    spectrum.write_bytes(source.read_bytes())
    run = nassb("fit", "eis", str(spectrum), "--circuit", "R_A-p(R_B,CPE_B)-p(R_C,CPE_C)", "--draws", "100",
                "--tune", "200", "--chains", "2", "--seed", "1", "--report", str(tmp_path / "rep"))
    assert run.code in (0, 3), run.err
    assert (tmp_path / "rep" / "report.html").is_file()


def test_a_numerical_overflow_is_one_warning_line_not_numpys():
    # A current of 10^30 mA/cm^2 over 10^6 cycles overflows the short-circuit hazard: the answer
    # (P_short = 1) stands, and stderr says so in one nassb line instead of numpy's source lines.
    run = run_process("risk", "paper-cell-1", "--current", "1e30", "--cycles", "1000000", "--json")
    assert run.returncode == 0, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nassb: warning: numerical overflow"), run.stderr
    assert json.loads(run.stdout)["quantities"]["P_short"]["mean"] == pytest.approx(1.0)


def test_a_density_that_underflows_to_zero_is_one_line(nassb, tmp_path):
    # 5e-324 g/cm^3 passes the bound (> 0) but the swelling 1 / (q rho) divides by an underflowed 0.
    card = tmp_path / "card.toml"
    card.write_text('base = "paper-cell-1"\n[materials.sodium]\ndensity = "5e-324 g/cm^3"\n', encoding="utf-8")
    run = _clean(nassb, "risk", str(card), "--seed", "1")
    assert run.code == 2 and "not finite numbers" in run.err
