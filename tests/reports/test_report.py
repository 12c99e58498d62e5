"""The cell report: Table 1 in it, written whole or not at all, user strings escaped, and a real
browser that loads every figure of report.html from disk."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from nassb.priors import load_card
from nassb.reports import report as report_module
from nassb.reports.cell_report import cell_report
from nassb.reports.report import write_report


@pytest.fixture(scope="module")
def paper_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "paper-cell-1"
    html = write_report(cell_report(load_card("paper-cell-1"), seed=1, command=["nassb", "report", "paper-cell-1"]),
                        out)
    return html


def test_report_holds_table_1(paper_report):
    md = (paper_report.parent / "report.md").read_text()
    for text in ("239 ± 10 Wh/l", "118 ± 5 Wh/kg", "138 ± 6 Wh/kg"):
        assert text in md
    summary = json.loads((paper_report.parent / "summary.json").read_text())
    gum = summary["methods"]["gum"]["quantities"]
    assert gum["E_V_real"]["mean"] == pytest.approx(238.6, abs=0.1)
    assert gum["E_m_real"]["sd"] == pytest.approx(5.3, abs=0.05)
    assert summary["provenance"]["card_sha256"] == load_card("paper-cell-1").sha256
    assert "halving" not in md and "would shrink u(E\\_V\\_real) from 9.6 to 6.9 Wh/l" in md
    # The paper's conventions are named, and how the outputs move together is shown (JCGM 102).
    assert "paper convention: U = 3.4 V plateau" in md and "Eq. 5 as published" in md
    corr = summary["methods"]["mc"]["covariance"]
    i, j = corr["names"].index("E_V_real"), corr["names"].index("E_m_real")
    assert 0.5 < corr["correlation"][i][j] < 1.0  # thicker layers lower both energies
    files = sorted(p.relative_to(paper_report.parent).as_posix() for p in paper_report.parent.rglob("*") if p.is_file())
    assert files == [".nassb-report", "draws.nc", "figures/budget.png", "figures/densities.png",
                     "figures/resistances.png", "report.html", "report.md", "summary.json"]


def test_html_is_self_contained(paper_report):
    html = paper_report.read_text()
    assert html.count("data:image/png;base64,") == 3
    assert "http://" not in html and "https://" not in html


def test_an_interrupted_report_leaves_the_previous_one_whole(paper_report, tmp_path):
    out = tmp_path / "r"
    shutil.copytree(paper_report.parent, out)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    report = cell_report(load_card("paper-cell-2"), seed=2)

    class Interrupted:
        def to_netcdf(self, *args, **kwargs):
            raise KeyboardInterrupt  # the user pressed Ctrl-C while the last file was written

    report.datasets["last.nc"] = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        write_report(report, out)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no staging left behind
    del report.datasets["last.nc"]
    write_report(report, out)
    assert "paper-cell-2" in (out / "report.md").read_text()


def test_user_strings_are_escaped(write_card, tmp_path):
    name = '<script>alert("x")</script> & <b>bold</b> | `code`'
    card = load_card(write_card(f'base = "paper-cell-2"\n[cell]\nname = {json.dumps(name)}\n'))
    html_path = write_report(cell_report(card, seed=3), tmp_path / "esc")
    html = html_path.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>bold</b>" not in html
    md = (tmp_path / "esc" / "report.md").read_text()
    assert "<script>" not in md and "\\|" in md and "\\`code\\`" in md


def test_report_command_prints_the_html_path(nassb, tmp_path):
    run = nassb("report", "paper-cell-2", "--out", str(tmp_path / "cli"))
    assert run.code == 0 and run.out.strip() == str(tmp_path / "cli" / "report.html")


def _chromium():
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(path) and os.path.exists("/usr/bin/chromedriver"):
            return path
    if os.environ.get("CI"):
        pytest.fail("CI must provide Debian's chromium and chromium-driver (.ci/run installs them)")
    pytest.skip("no chromium / chromedriver here")


def test_report_opens_in_a_real_browser(paper_report, tmp_path):
    binary = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(paper_report.as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);")
        assert len(images) == 3
        assert all(done and width > 0 for done, width, _ in images), images
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        text = driver.find_element("tag name", "body").text
        for number in ("239 ± 10 Wh/l", "118 ± 5 Wh/kg", "278 ± 11 Wh/l", "cathode.thickness"):
            assert number in text
    finally:
        driver.quit()


def test_report_module_renders_without_a_browser():
    files = report_module.render(report_module.Report(title="t <i>", kind="cell"))
    assert b"t &lt;i&gt;" in files["report.html"]


def test_study_report_lists_proposals_and_the_papers_cells(nassb, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    assert nassb("design", "--storage", storage, "--study", "r", "--trials", "25", "--seed", "1", "--json").code == 0
    run = nassb("report", "--study", "r", "--storage", storage, "--out", str(tmp_path / "sr"))
    assert run.code == 0, run.err
    md = (tmp_path / "sr" / "report.md").read_text()
    assert "paper-roadmap-3-no-reservoir" in md and "Optimisation history" in md
    summary = json.loads((tmp_path / "sr" / "summary.json").read_text())
    assert summary["n_trials"] == 25 and set(summary["baselines"]) >= {"paper-cell-1", "paper-cell-2"}
    missing = nassb("report", "--study", "nope", "--storage", storage)
    assert missing.code == 2 and "no study 'nope'" in missing.err


def test_report_needs_exactly_one_subject(nassb):
    run = nassb("report")
    assert run.code == 2 and "exactly one of a card, a study, a campaign or an Arrhenius series" in run.err


@pytest.mark.slow
def test_arrhenius_report(nassb, tmp_path):
    from ..conftest import REPO

    csv = REPO / "priors" / "data" / "synthetic" / "nzsp-conductivity.csv"
    run = nassb("report", "--arrhenius", str(csv), "--at", "30 degC", "--out", str(tmp_path / "ar"))
    assert run.code == 0, run.err
    summary = json.loads((tmp_path / "ar" / "summary.json").read_text())
    low, high = summary["quantities"]["activation_energy"]["ci95"]
    assert low < 0.28 < high
    assert (tmp_path / "ar" / "figures" / "arrhenius.png").stat().st_size > 0


def test_out_never_replaces_a_directory_nassb_did_not_write(nassb, tmp_path):
    own = tmp_path / "thesis"
    own.mkdir()
    (own / "thesis.tex").write_text("precious")
    run = nassb("report", "paper-cell-2", "--out", str(own))
    assert run.code == 2 and "not an nassb report directory" in run.err
    assert (own / "thesis.tex").read_text() == "precious"
    # A report directory nassb wrote is replaced as a whole.
    assert nassb("report", "paper-cell-2", "--out", str(tmp_path / "rep")).code == 0
    assert nassb("report", "paper-cell-2", "--out", str(tmp_path / "rep"), "--seed", "4").code == 0
    assert (tmp_path / "rep" / ".nassb-report").is_file()


def test_a_study_report_refuses_a_card_changed_since(nassb, tmp_path, write_card):
    card = write_card('base = "paper-cell-1"\n[cell]\nname = "mutable"\n', "mutable.toml")
    storage = f"sqlite:///{tmp_path / 's.db'}"
    assert nassb("design", str(card), "--storage", storage, "--study", "m", "--trials", "3", "--json").code == 0
    card.write_text('base = "paper-cell-2"\n[cell]\nname = "mutable"\n')
    run = nassb("report", "--study", "m", "--storage", storage, "--out", str(tmp_path / "r"))
    assert run.code == 2 and "changed since the study was made" in run.err
