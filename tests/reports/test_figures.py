"""Every figure of ``nassb report`` (card, study, campaign, Arrhenius) and of ``nassb fit eis
--report``, rendered to SVG with its text kept as text: no TeX source survives (raw mathtext on a
log axis, ``ohm*cm``, ``degC``, `` um``), the units are typeset and the file's name stands without
its directories.  Small draw and trial counts: the figures matter here, not the numbers."""

from __future__ import annotations

import re

import pytest

from nassb.priors.display import figures

from ..conftest import REPO

SYNTHETIC = REPO / "priors" / "data" / "synthetic"
# What a figure must never show: mathtext source, pint spellings of units, a path's directories.
RAW = ("$", "\\mathdefault", "^{", "ohm*cm", "ohm", "degC", " um", "1/K", "1/(", "/ (")


def _texts(svg: bytes) -> str:
    """The text a reader sees in an SVG written with ``svg.fonttype: none``: one line per <text>,
    the glyphs of a mathtext label (one <tspan> each, grouped by font) joined, entities resolved."""
    import html

    body = svg.decode("utf-8")
    assert "<text" in body, "text was drawn as paths: svg.fonttype must be none"
    lines = []
    for part in re.findall(r"<text\b[^>]*>(.*?)</text>", body, flags=re.S):
        spans = re.findall(r"<tspan\b[^>]*>(.*?)</tspan>", part, flags=re.S)
        text = "".join(spans) if spans else re.sub(r"<[^>]+>", "", part)
        lines.append(html.unescape(text).replace("\xa0", " "))
    return "\n".join(lines)


def _check(report_figures: dict[str, bytes], must: dict[str, tuple[str, ...]]) -> dict[str, str]:
    texts = {name: _texts(svg) for name, svg in report_figures.items()}
    for name, text in texts.items():
        leaked = [raw for raw in RAW if raw in text]
        assert not leaked, f"{name}: {leaked} in {text!r}"
        assert str(REPO) not in text and "/tmp" not in text, name
    for name, words in must.items():
        for word in words:
            assert word in texts[name], f"{name}: {word!r} not in {texts[name]!r}"
    return texts


def test_the_cell_reports_figures_are_typeset(monkeypatch):
    from nassb.priors import load_card
    from nassb.reports import cell_report as module

    monkeypatch.setattr(module, "REPORT_DRAWS", 20_000)
    with figures.figure_format("svg"):
        report = module.cell_report(load_card("paper-cell-1"), seed=1)
    assert set(report.figures) == {"budget", "densities", "resistances"}
    texts = _check(report.figures, {"budget": ("Wh/l",), "densities": ("Wh/l", "Wh/kg", "(Wh/l)⁻¹"),
                                    "resistances": ("Ω cm²", "°C", "10¹", "10²")})
    # The symbol E_V,real is set as a letter with a subscript: its glyphs are separate texts.
    assert "E_V_real" not in texts["densities"] and "E_V_real" not in texts["budget"]


def test_the_study_and_campaign_reports_figures_are_typeset(nassb, tmp_path):
    from nassb.reports.campaign_report import campaign_report
    from nassb.reports.study_report import study_report

    storage = f"sqlite:///{tmp_path / 's.db'}"
    assert nassb("design", "--storage", storage, "--study", "s", "--trials", "6", "--seed", "1", "--json").code == 0
    with figures.figure_format("svg"):
        report = study_report(storage, "s")
    _check(report.figures, {"history": ("Wh/l", "quantile"), "map": ("Wh/l", "paper-cell-1")})
    assert nassb("campaign", "start", "lab", "paper-cell-1", "--storage", storage).code == 0
    with figures.figure_format("svg"):
        report = campaign_report(storage, "lab")
    texts = _check(report.figures, {"parameters": ("the paper's posterior", "half-width")})
    assert texts["parameters"].count("\n") > 10  # one panel, every parameter named on its axis


def test_the_arrhenius_reports_figure_is_typeset():
    from nassb.inference.sampling import SamplerSettings
    from nassb.reports.study_report import arrhenius_report

    path = SYNTHETIC / "nzsp-conductivity.csv"
    with figures.figure_format("svg"):
        report = arrhenius_report(str(path), "30 degC", settings=SamplerSettings(draws=200, tune=200, chains=2,
                                                                                 seed=1))
    _check(report.figures, {"arrhenius": ("K⁻¹", "mS/cm", "°C", "0.5")})
    assert str(path.parent) not in report.title and "nzsp-conductivity.csv" in report.title


def test_the_impedance_reports_figures_are_typeset():
    from nassb.inference.eis.api import fit_eis
    from nassb.reports.eis_report import eis_report

    files = [str(SYNTHETIC / "eis" / f"na-nzsp-na-{t}C.csv") for t in (20, 30)]
    fit = fit_eis(files, "R_A-p(R_B,CPE_B)-p(R_C,CPE_C)", area=0.503, derive=["R_separator=R_A+R_B"], draws=300,
                  seed=1, method="laplace")
    with figures.figure_format("svg"):
        report = eis_report(fit)
    assert set(report.figures) == {"bode-0", "bode-1", "drt-0", "drt-1", "nyquist", "series"}
    _check(report.figures, {"bode-0": ("Ω cm²", "Hz", "10⁴", "°", "20"), "nyquist": ("Ω cm²", "na-nzsp-na-30C.csv"),
                            "series": ("Ω cm²", "°C")})


@pytest.mark.parametrize("value, text", [(100.0, "10²"), (1e-3, "10⁻³"), (200.0, "200"), (5e-4, "5\u00d710⁻⁴"),
                                         (1.0, "10⁰"), (0.0, "")])
def test_log_ticks_are_unicode(value, text):
    assert figures.tick_text(value) == text
    assert figures.tick_text(100.0, plain=True) == "100"  # an axis of under two decades: plain numbers


def test_labels_are_symbols_with_units():
    assert figures.axis_label("E_V_real", "Wh/l") == r"$E_{V,\mathrm{real}}$ (Wh/l)"
    assert figures.axis_label("R_separator", "ohm*cm^2") == r"$R_{\mathrm{sep}}$ (Ω cm²)"
    assert figures.axis_label("cell$1", "1") == r"cell\$1"  # a user's name is escaped, never read as math
    assert figures.file_label("/data/run 3/na-30C.csv") == "na-30C.csv"


def test_a_results_figure_shows_itself_in_a_notebook():
    """``plot()`` returns a Figure that Jupyter displays (``_repr_png_``) without pyplot, and the
    result's HTML carries the figure."""
    from nassb.inference.propagate import propagate
    from nassb.priors import load_card

    gum = propagate(load_card("paper-cell-1"), "gum")
    fig = gum.plot()
    assert fig._repr_png_().startswith(b"\x89PNG")
    assert fig.canvas.manager is None  # made without pyplot: a notebook's figure list is left alone
    html = gum._repr_html_()
    assert "<table>" in html and "data:image/png;base64," in html
