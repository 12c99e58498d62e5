"""A card that cannot exist: thickness, porosity, loading and capacity checked against each other."""

from __future__ import annotations

import re
import warnings

import pytest

from nassb.priors import builtin_cards, load_card
from nassb.priors.errors import NassbWarning

from ..conftest import REPO


def _warnings(ref) -> list[NassbWarning]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_card(ref)
    return [w.message for w in caught if isinstance(w.message, NassbWarning) and "imply" in str(w.message)]


def _readme_override() -> str:
    text = (REPO / "README.md").read_text("utf-8")
    return next(block for block in re.findall(r"```toml\n(.*?)```", text, re.S) if "120 ± 5 um" in block)


def test_the_readme_thickness_override_without_its_capacities_warns_naming_the_thickness(write_card):
    # the README's example as it was: cell 1's 2.52 mAh/cm^2 and 63 % porosity in 120 um
    block = "\n".join(line for line in _readme_override().splitlines() if "capacity" not in line)
    found = _warnings(write_card(block))
    assert len(found) == 1
    w = found[0]
    assert w.field == "cathode.thickness" and w.file.endswith("card.toml")
    message = str(w)
    for name in ("cathode.porosity", "cathode.theoretical_capacity", "nvp-composite.density",
                 "nvp-composite.specific_capacity"):
        assert name in message
    assert "13.5 mg/cm^2" in message and "at most 1.6 mAh/cm^2" in message
    assert float(re.search(r">= (\d+) um", message).group(1)) == pytest.approx(189, abs=1)


def test_the_readme_example_as_corrected_and_every_builtin_card_pass(write_card):
    assert _warnings(write_card(_readme_override())) == []
    for name in builtin_cards():
        assert _warnings(name) == [], name


def test_a_porosity_that_does_not_fit_the_loading_warns(write_card):
    card = write_card("""
        base = "paper-cell-1"
        [cell]
        name = "both"
        [cathode]
        theoretical_capacity = false
        loading = "23.1 mg/cm2"
        active_fraction = 0.925
        porosity = "0.40 ± 0.02"
        """)
    found = _warnings(card)
    assert [w.field for w in found] == ["cathode.porosity"]
    assert "porosity of 0.62" in str(found[0])  # 1 - 23.1 / (3.05 g/cm^3 x 200 um)
    card = write_card("""
        base = "paper-cell-1"
        [cell]
        name = "both"
        [cathode]
        theoretical_capacity = false
        loading = "23.1 mg/cm2"
        active_fraction = 0.925
        porosity = "0.62 ± 0.03"
        """, name="fits.toml")
    assert _warnings(card) == []


def test_a_capacity_that_does_not_fit_loading_and_active_fraction_warns(write_card):
    card = write_card("""
        base = "paper-cell-1"
        [cell]
        name = "loaded"
        [cathode]
        porosity = false
        loading = "23.1 mg/cm2"
        active_fraction = 0.925
        theoretical_capacity = "3.5 mAh/cm2"
        delivered_capacity = "2.14 mAh/cm2"
        """)
    found = _warnings(card)
    assert [w.field for w in found] == ["cathode.theoretical_capacity"]
    assert "imply 2.52" in str(found[0])  # 23.1 mg/cm^2 x 0.925 x 118 mAh/g
