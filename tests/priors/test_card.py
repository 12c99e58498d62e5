"""Cards: built-ins, materials, bases, and every mistake named by file and field."""

from __future__ import annotations

import pytest

from nassb.priors import CardError, builtin_cards, builtin_materials, load_card

from ..conftest import REPO

MINIMAL = """
[cell]
name = "mini"
voltage = "3.4 V"
temperature = "25 degC"

[anode]
material = "sodium"
reservoir_thickness = "36 ± 5 um"

[separator]
material = "nzsp-tape"
thickness = "50 ± 4 um"

[cathode]
material = "nvp-composite"
electrolyte = "naclo4-ecpc"
thickness = "200 ± 10 um"
porosity = 0.63
theoretical_capacity = "2.52 mAh/cm2"
"""


def test_builtins_are_listed():
    assert {"paper-cell-1", "paper-cell-2"} <= set(builtin_cards())
    assert {"sodium", "nzsp-tape", "nvp-composite", "naclo4-ecpc"} <= set(builtin_materials())


def test_paper_cell_1_holds_table_1():
    card = load_card("paper-cell-1")
    assert card.name == "paper-cell-1"
    assert card.separator.get("thickness").value == 50 and card.separator.get("thickness").sd == 4
    assert card.cathode.get("thickness").value == 200 and card.cathode.get("thickness").sd == 10
    assert card.anode.get("reservoir_thickness").sd == 5
    assert card.cell["temperature"].value == pytest.approx(303.15)
    assert card.separator.material.get("conductivity").value == 1.6
    assert card.electrolyte.get("density").value == 1.38


def test_every_builtin_material_quantity_has_a_source():
    card = load_card("paper-cell-1")
    for material in (card.anode.material, card.separator.material, card.cathode.material, card.electrolyte):
        for key, q in material.quantities.items():
            assert q.source, f"{material.name}.{key} has no source"


def test_a_card_overrides_one_field_of_a_builtin_material(write_card):
    path = write_card(MINIMAL + '\n[materials.nzsp-tape]\nconductivity = "5 ± 1 mS/cm"\n')
    material = load_card(path).separator.material
    assert material.get("conductivity").value == 5
    assert material.get("density").value == 3.3  # kept from the built-in


def test_base_card_is_merged_under_a_card(write_card):
    path = write_card("""
        base = "paper-cell-1"
        [cell]
        name = "thinner cathode"
        [cathode]
        thickness = "95 ± 5 um"
    """)
    card = load_card(path)
    assert card.name == "thinner cathode"
    assert card.cathode.get("thickness").value == 95
    assert card.separator.get("thickness").value == 50


def test_base_loops_are_caught(write_card, tmp_path):
    write_card('base = "b.toml"\n', "a.toml")
    write_card('base = "a.toml"\n', "b.toml")
    with pytest.raises(CardError, match="loop"):
        load_card(tmp_path / "a.toml")


def test_example_li_garnet_nmc_card_loads():
    card = load_card(REPO / "priors" / "examples" / "li-garnet-nmc.toml")
    assert card.anode.material.name == "lithium"
    assert card.electrolyte is None


def _error(path) -> CardError:
    with pytest.raises(CardError) as caught:
        load_card(path)
    return caught.value


@pytest.mark.parametrize("old, new, field, words", [
    ('thickness = "50 ± 4 um"', 'thickness = "-50 ± 4 um"', "separator.thickness", "must be > 0"),
    ('thickness = "50 ± 4 um"', 'thickness = "nan um"', "separator.thickness", "finite"),
    ("porosity = 0.63", "porosity = 1.2", "cathode.porosity", "must lie in (0, 1)"),
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± 4 blorps"', "separator.thickness", "unknown unit"),
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± 4 g"', "separator.thickness", "is not"),
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± -4 um"', "separator.thickness", "uncertainty must be >= 0"),
    ('thickness = "50 ± 4 um"', 'thickness = "thin"', "separator.thickness", "expected a number"),
    ('material = "nzsp-tape"', 'material = "unobtainium"', "separator.material", "unknown material 'unobtainium'"),
    ('thickness = "50 ± 4 um"', 'thicknes = "50 ± 4 um"', "separator.thicknes", "unknown field"),
    ('voltage = "3.4 V"', "", "cell.voltage", "missing required field"),
    ("porosity = 0.63", "", "cathode.porosity", "give porosity, or loading"),
])
def test_bad_fields_name_file_and_field(write_card, old, new, field, words):
    assert old in MINIMAL
    path = write_card(MINIMAL.replace(old, new, 1))
    err = _error(path)
    assert err.file == str(path)
    assert err.field == field
    assert words in err.message


def test_malformed_toml_names_the_line(write_card):
    err = _error(write_card(MINIMAL.replace('name = "mini"', 'name = "mini')))
    assert err.file and "not valid TOML" in err.message and "line" in err.message


def test_missing_file_and_unknown_name():
    assert "no such card file" in _error("missing/card.toml").message
    message = _error("paper-cell-9").message
    assert "built-in cards: " in message and "paper-cell-1" in message


def test_loading_that_overfills_the_cathode_is_refused(write_card):
    card = MINIMAL.replace("porosity = 0.63", 'loading = "80 mg/cm2"\nactive_fraction = 0.925')
    err = _error(write_card(card))
    assert err.field == "cathode.loading" and "does not fit" in err.message
