"""The documentation site (docs/) builds with warnings as errors and documents every public name;
LICENSE and CITATION.cff say what pyproject.toml and the README say."""

from __future__ import annotations

import html
import importlib
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

import nassb

from .conftest import REPO

# Subpackages whose __all__ the API reference covers, besides nassb itself.
SUBPACKAGES = ("nassb.priors", "nassb.inference", "nassb.inference.eis", "nassb.inference.eis.readers",
               "nassb.inference.risk", "nassb.design")
GUIDE = ("index", "cards", "error-bars", "impedance", "risks", "design", "campaign", "next-experiment", "reports",
         "python", "development")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site from a copy of docs/ (autosummary writes its pages into the source tree)."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(REPO / "docs", root / "docs", ignore=shutil.ignore_patterns("_build", "generated"))
    shutil.copy(REPO / "README.md", root / "README.md")  # the guide includes the README's example
    html = root / "html"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(root / "docs"), str(html)], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr[-4000:]
    return html


def _text(page) -> str:
    return page.read_text("utf-8")


def _plain(page) -> str:
    """A page's text without its markup (highlighted code is split into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", _text(page)))


def test_the_api_pages_the_issue_names_exist_with_their_parameters(site):
    for name in ("propagate", "fit_eis", "run_design", "Campaign", "next_experiment"):
        page = site / "api" / "generated" / f"nassb.{name}.html"
        assert page.is_file(), page
    assert "Parameters" in _text(site / "api" / "generated" / "nassb.propagate.html")
    campaign = _text(site / "api" / "generated" / "nassb.Campaign.html")
    for method in ("start", "open", "propose", "record", "status"):
        assert f'id="nassb.Campaign.{method}"' in campaign, method
    # a docstring's reference to the defining module links to the page of the public name
    assert 'href="nassb.run_design.html' in campaign


def test_every_public_name_has_an_api_page(site):
    generated = site / "api" / "generated"
    missing = [name for name in nassb.__all__ if not (generated / f"nassb.{name}.html").is_file()]
    for package in SUBPACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            if (generated / f"{package}.{name}.html").is_file():
                continue
            # one page per class: a subpackage's re-export of nassb's own errors links to nassb's
            if getattr(nassb, name, None) is getattr(module, name) and (generated / f"nassb.{name}.html").is_file():
                assert f"nassb.{name}" in _text(site / "api" / f"{package.split('.')[1]}.html")
                continue
            missing.append(f"{package}.{name}")
    assert not missing, f"no API page for {missing}: list them in an autosummary of docs/api/*.rst"


def test_the_user_guide_by_task_and_the_gallery_are_built(site):
    for page in GUIDE:
        assert (site / "guide" / f"{page}.html").is_file(), page
    assert (site / "tour.html").is_file()
    assert "tour.html" in _text(site / "gallery.html")
    # the seed paper is named where the built-in cards are introduced
    assert "Lowack" in _text(site / "guide" / "cards.html")
    assert "Materials Technology" in _text(site / "guide" / "cards.html")
    # how the campaign recalibrates is on its module's page
    assert "Metropolis" in _text(site / "api" / "generated" / "nassb.design.campaign.html")
    # the README's propagate example is included, not copied
    assert "uncertainty budget of E_V_real" in _text(site / "guide" / "error-bars.html")
    assert 'thickness = "120 ± 5 um"' in _plain(site / "guide" / "cards.html")


def test_license_and_citation_match_the_project():
    import yaml

    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    assert config["license"] == "MIT"
    license_text = (REPO / "LICENSE").read_text("utf-8")
    assert license_text.startswith("MIT License")
    assert "Copyright (c) 2026 the nassb developers" in license_text

    citation = yaml.safe_load((REPO / "CITATION.cff").read_text("utf-8"))
    assert citation["cff-version"] == "1.2.0"
    assert citation["license"] == "MIT"
    assert citation["version"] == config["version"]
    (paper,) = citation["references"]
    assert paper["journal"] == "Materials Technology"
    assert paper["authors"][0] == {"family-names": "Lowack", "given-names": "Ansgar"}
    assert len(paper["authors"]) == 12
    readme = (REPO / "README.md").read_text("utf-8")
    assert "Lowack et al., *Materials Technology*" in readme


def test_the_readmes_links_point_to_files_that_exist():
    readme = (REPO / "README.md").read_text("utf-8")
    targets = {t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", readme)}
    local = sorted(t for t in targets if t and not t.startswith(("http://", "https://")))
    assert "docs/guide/index.md" in local and "CITATION.cff" in local
    assert not [t for t in local if not (REPO / t).exists()]
