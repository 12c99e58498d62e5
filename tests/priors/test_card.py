"""Cards: built-ins, materials, bases, and every mistake named by file and field."""

from __future__ import annotations

import pytest

from nassb.priors import CardError, builtin_cards, builtin_materials, load_card

from ..conftest import MINIMAL_CARD, REPO

MINIMAL = MINIMAL_CARD


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


def test_a_base_loop_spelled_another_way_is_caught(write_card, tmp_path):
    (tmp_path / "loop").mkdir()
    write_card('base = "../loop/self.toml"\n', "loop/self.toml")
    with pytest.raises(CardError, match="loop"):
        load_card(tmp_path / "loop" / "self.toml")


def test_false_removes_a_base_field_and_the_loading_derives_porosity(write_card):
    path = write_card("""
        base = "paper-cell-1"
        [cathode]
        porosity = false
        loading = "23.1 mg/cm2"
        active_fraction = 0.925
    """)
    card = load_card(path)
    assert card.cathode.get("porosity") is None and card.cathode.get("loading").value == 23.1


def test_a_loading_that_nothing_uses_is_refused(write_card):
    path = write_card("""
        base = "paper-cell-1"
        [cathode]
        loading = "23.1 mg/cm2"
        active_fraction = 0.925
    """)
    err = _error(path)
    assert err.field == "cathode.loading" and "porosity = false" in err.message


def test_material_fields_merge_deeply(write_card):
    path = write_card(MINIMAL + '\n[materials.sodium.density]\nsource = "my own pycnometry"\n')
    density = load_card(path).anode.material.get("density")
    assert density.value == 0.968 and density.source == "my own pycnometry"


def test_a_directory_is_not_a_card(tmp_path):
    assert "is a directory" in _error(tmp_path).message


def test_paper_units_with_negative_exponents(write_card):
    path = write_card(MINIMAL.replace('theoretical_capacity = "2.52 mAh/cm2"',
                                      'theoretical_capacity = "2.52 mAh cm-2"'))
    assert load_card(path).cathode.get("theoretical_capacity").value == pytest.approx(2.52)


def _with_observation(write_card, tmp_path, observation: str, csv: str = "") -> CardError:
    if csv:
        (tmp_path / "data.csv").write_text(csv, encoding="utf-8")
    return _error(write_card(MINIMAL + "\n[[observations]]\n" + observation))


@pytest.mark.parametrize("observation, csv, field, words", [
    ('kind = "replicates"\nquantity = "separator.thickness"\nfile = "data.csv"\nreading_sd = "0 um"',
     "thickness [um]\n50\n51\n", "observations[0].reading_sd", "must be > 0"),
    ('kind = "replicates"\nquantity = "separator.thickness"\nfile = "data.csv"\nreading_sd = "1 um"\ncolumn = 5',
     "thickness [um]\n50\n51\n", "observations[0].column", "expected a non-empty string"),
    ('kind = "capacities"\nfile = "data.csv"\ncycles = [true, 5]',
     "cycle,charge [mAh/cm^2],discharge [mAh/cm^2]\n1,2.2,2.1\n", "observations[0].cycles", "expected [first, last]"),
    ('kind = "measurement"\nquantity = "separator.thickness"\nvalue = "50 ± 1 um"\ntemperature = "25 degC"',
     "", "observations[0].temperature", "conductivity, interface_resistance or separator.resistance only"),
])
def test_bad_observations_name_their_field(write_card, tmp_path, observation, csv, field, words):
    err = _with_observation(write_card, tmp_path, observation, csv)
    assert err.field == field and words in err.message


def test_two_observations_of_one_quantity_are_refused(write_card, tmp_path):
    (tmp_path / "data.csv").write_text("cycle,charge [mAh/cm^2],discharge [mAh/cm^2]\n1,2.2,2.1\n2,2.2,2.15\n")
    err = _error(write_card(MINIMAL + '\n[[observations]]\nkind = "capacities"\nfile = "data.csv"\n'
                            '\n[[observations]]\nkind = "capacities"\nfile = "data.csv"\n'))
    assert err.field == "observations[1]" and "merge the data" in err.message


def test_specimen_ids_are_text_and_readings_convert_as_differences(write_card, tmp_path):
    (tmp_path / "data.csv").write_text("\ufeff# SYNTHETIC test data\nsample,thickness [mm]\n"
                                       "20261126,0.050\n20261127,0.051\nA,0.049\nA,0.0495\n", encoding="utf-8")
    card = load_card(write_card(MINIMAL + '\n[[observations]]\nkind = "replicates"\nquantity = "separator.thickness"\n'
                                'file = "data.csv"\nreading_sd = "0.5 um"\ncell_sample = "20261127"\n'))
    obs = card.observations[0]
    assert obs.sample_names == ("20261126", "20261127", "A")
    assert obs.cell_sample == 1 and obs.values[1] == pytest.approx(51.0)
    assert obs.reading_sd == pytest.approx(0.5)


def test_a_temperature_uncertainty_converts_as_a_difference():
    from nassb.priors import fields
    from nassb.priors.quantity import parse_uncertainty

    assert parse_uncertainty("0.5 degC", fields.TEMPERATURE) == pytest.approx(0.5)
    assert parse_uncertainty("0.9 degF", fields.TEMPERATURE) == pytest.approx(0.5)


def test_a_separator_says_whether_it_is_a_selected_shard(write_card):
    """paper-cell-2 was built on a selected planar shard (the paper's 1 MPa cells); its card says
    so, and the flag is a yes or a no, nothing else."""
    assert load_card("paper-cell-2").separator.flag("selected_shard")
    assert not load_card("paper-cell-1").separator.flag("selected_shard")
    path = write_card('base = "paper-cell-1"\n[separator]\nselected_shard = "yes"\n')
    with pytest.raises(CardError) as err:
        load_card(path)
    assert err.value.field == "separator.selected_shard" and "true or false" in err.value.message
