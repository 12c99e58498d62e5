"""Plausible ranges beside physical bounds: a suspicious value is a warning that names the file,
the field and the range; an impossible one stays an error."""

from __future__ import annotations

import warnings

import pytest

from nassb.priors import CardError, NassbWarning, builtin_cards, load_card
from nassb.priors import fields as F

from ..conftest import MINIMAL_CARD

DELIVERED = 'delivered_capacity = "2.14 mAh/cm2"'


def _load(write_card, old: str, new: str):
    assert old in MINIMAL_CARD
    path = write_card(MINIMAL_CARD.replace(old, new))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        card = load_card(path)
    return card, [w.message for w in caught if isinstance(w.message, NassbWarning)], path


@pytest.mark.parametrize("old, new, field, words", [
    ('thickness = "50 ± 4 um"', 'thickness = "10 km"', "separator.thickness", "0.1 um to 10 mm"),
    ('thickness = "50 ± 4 um"', 'thickness = "0.05 um"', "separator.thickness", "0.1 um to 10 mm"),
    ('voltage = "3.4 V"', 'voltage = "3400 V"', "cell.voltage", "0.5 to 6 V"),
    ("porosity = 0.63", "porosity = 0.999", "cathode.porosity", "0.01 to 0.95"),
    ('temperature = "25 degC"', 'temperature = "500 degC"', "cell.temperature", "150 to 700 K"),
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± 1e9 um"', "separator.thickness", "times the value"),
    (DELIVERED, f"{DELIVERED}\n[materials.nzsp-tape]\ndensity = 1e300", "materials.nzsp-tape.density",
     "0.1 to 25 g/cm^3"),
    (DELIVERED, f'{DELIVERED}\n[materials.nzsp-tape]\nconductivity = "16 S/cm"', "materials.nzsp-tape.conductivity",
     "mS/cm"),
    (DELIVERED, f'{DELIVERED}\n[materials.nzsp-tape]\nactivation_energy = "28 eV"',
     "materials.nzsp-tape.activation_energy", "0 to 2 eV"),
    ('voltage = "3.4 V"', 'voltage = "3.4 V"\npressure = "2 GPa"', "cell.pressure", "0 to 100 MPa"),
    ('voltage = "3.4 V"', 'voltage = "3.4 V"\narea = "2 m^2"', "cell.area", "cm^2"),
])
def test_implausible_values_warn_with_file_field_and_range(write_card, old, new, field, words):
    card, caught, path = _load(write_card, old, new)
    assert card is not None  # loaded: a warning, not an error
    assert len(caught) == 1, [str(w) for w in caught]
    (warning,) = caught
    assert warning.file == str(path) and warning.field == field
    assert words in warning.message and "check the number and its unit" in warning.message
    assert str(warning).startswith(f"{path}: {field}: ")


@pytest.mark.parametrize("old, new", [
    ('thickness = "50 ± 4 um"', 'thickness = "50 ± 4 um"'),
    ('reservoir_thickness = "36 ± 5 um"', "reservoir_thickness = 0"),            # no reservoir is plausible
    ('voltage = "3.4 V"', 'voltage = "3.4 V"\npressure = 0'),                    # nor is no pressure
    ('temperature = "25 degC"', 'temperature = "-40 degC"'),
    ('temperature = "25 degC"', "temperature = 298.15"),
])
def test_plausible_values_are_quiet(write_card, old, new):
    _, caught, _ = _load(write_card, old, new)
    assert caught == []


def test_every_builtin_card_is_plausible():
    with warnings.catch_warnings():
        warnings.simplefilter("error", NassbWarning)
        for name in builtin_cards():
            load_card(name)


@pytest.mark.parametrize("new, number", [("temperature = 30", "30"), ("temperature = 30.5", "30.5"),
                                         ("temperature = { value = 30, sd = 1 }", "30")])
def test_a_bare_temperature_below_150_suggests_degc(write_card, new, number):
    card, caught, path = _load(write_card, 'temperature = "25 degC"', new)
    assert card.cell["temperature"].value == pytest.approx(float(number))  # read in K, as documented
    assert len(caught) == 1 and caught[0].field == "cell.temperature" and caught[0].file == str(path)
    assert f'"{number} degC"' in caught[0].message and "read in K" in caught[0].message


def test_a_temperature_below_150_k_with_its_unit_is_a_range_warning(write_card):
    _, caught, _ = _load(write_card, 'temperature = "25 degC"', 'temperature = "30 K"')
    assert len(caught) == 1 and "150 to 700 K" in caught[0].message and "degC" in caught[0].message


def test_a_reference_temperature_is_checked_too(write_card):
    _, caught, _ = _load(write_card, 'delivered_capacity = "2.14 mAh/cm2"',
                         'delivered_capacity = "2.14 mAh/cm2"\n[materials.nzsp-tape]\nreference_temperature = 30\n')
    assert [w.field for w in caught] == ["materials.nzsp-tape.reference_temperature"]
    assert '"30 degC"' in caught[0].message


@pytest.mark.parametrize("old, new, field", [
    ('thickness = "50 ± 4 um"', 'thickness = "-5 um"', "separator.thickness"),
    ("porosity = 0.63", "porosity = 1.2", "cathode.porosity"),
    ('temperature = "25 degC"', 'temperature = "-300 degC"', "cell.temperature"),
    ('thickness = "50 ± 4 um"', 'thickness = "1e300 km"', "separator.thickness"),   # overflows in um
])
def test_physical_bounds_stay_errors(write_card, old, new, field):
    with pytest.raises(CardError) as caught:
        load_card(write_card(MINIMAL_CARD.replace(old, new)))
    assert caught.value.field == field


def test_delivered_above_theoretical_capacity_is_an_error(write_card):
    with pytest.raises(CardError) as caught:
        load_card(write_card(MINIMAL_CARD.replace('delivered_capacity = "2.14 mAh/cm2"',
                                                  'delivered_capacity = "3.0 mAh/cm2"')))
    assert caught.value.field == "cathode.delivered_capacity"
    assert "exceeds theoretical_capacity 2.52" in caught.value.message and "1.19" in caught.value.message


def test_delivered_above_a_capacity_derived_from_the_loading_is_an_error(write_card):
    # 23.1 mg/cm^2 x 0.925 x 118 mAh/g = 2.52 mAh/cm^2
    card = """
        base = "paper-cell-1"
        [cathode]
        porosity = false
        theoretical_capacity = false
        loading = "23.1 ± 0.5 mg/cm2"
        active_fraction = 0.925
        delivered_capacity = "DELIVERED"
    """
    assert load_card(write_card(card.replace("DELIVERED", "2.5 mAh/cm2"))).cathode.get("loading") is not None
    with pytest.raises(CardError) as caught:
        load_card(write_card(card.replace("DELIVERED", "2.6 mAh/cm2")))
    assert caught.value.field == "cathode.delivered_capacity" and "2.521" in caught.value.message


def test_every_field_has_a_plausible_range_inside_its_bounds():
    specs = [spec for table in (*F.SECTION_FIELDS.values(), F.MATERIAL_FIELDS) for spec in table.values()]
    for spec in specs:
        low, high = spec.plausible
        assert low > -float("inf") and high < float("inf"), spec
        assert spec.admits(high) and (spec.admits(low) or (spec.low_open and low == spec.low))
        assert spec.plausibility(0.5 * (low + high)) is None
        assert spec.plausibility(10 * high + 1) is not None


def test_a_truncated_normal_whose_value_lies_outside_its_own_range_is_an_error(write_card):
    # It was silently replaced by the truncated distribution's mean (61.3 ± 1.2 um for 50 um).
    entry = '{ value = "50 um", sd = "1.2 um", dist = "truncnormal", low = "60 um", high = "70 um" }'
    with pytest.raises(CardError) as raised:
        _load(write_card, 'thickness = "50 ± 4 um"', f"thickness = {entry}")
    assert raised.value.field == "separator.thickness" and raised.value.file.endswith("card.toml")
    assert "50 um lies outside its own truncation [60, 70] um" in raised.value.message
    inside = '{ value = "62 um", sd = "1.2 um", dist = "truncnormal", low = "60 um", high = "70 um" }'
    card, warned, _ = _load(write_card, 'thickness = "50 ± 4 um"', f"thickness = {inside}")
    assert card.separator.get("thickness").value == 62.0 and warned == []


def test_an_observed_cell_resistance_of_1e9_ohm_cm2_warns_naming_the_file_and_field(tmp_path):
    from nassb.priors.lab import load_observed_cells

    path = tmp_path / "lab.toml"
    path.write_text('[lab]\nname = "SYNTHETIC"\n[[cells]]\nbase = "paper-cell-1"\nname = "c1"\n'
                    '[cells.outcome]\nresistance = "1e9 ohm*cm^2"\n', encoding="utf-8")
    with pytest.warns(NassbWarning) as caught:
        load_observed_cells(path, paper=False)
    [warning] = [w.message for w in caught if "plausible" in str(w.message)]
    assert warning.file == str(path) and warning.field.endswith("outcome.resistance")
    assert "1e+09 ohm*cm^2 is outside the plausible range of an area resistance" in str(warning)
