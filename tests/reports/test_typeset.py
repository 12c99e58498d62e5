"""One typesetting for people (units, probabilities, odd intervals); JSON keeps pint's spelling."""

from __future__ import annotations

import pytest

from nassb.priors.vocabulary import typeset, typeset_quantity
from nassb.priors.display.tables import quantity_cells
from nassb.priors.display.text import first_order_sentence


@pytest.mark.parametrize("unit, text", [("ohm*cm^2", "Ω cm²"), ("um", "µm"), ("degC", "°C"), ("1/K", "K⁻¹"),
                                        ("F*s^(n-1)/cm^2", "F sⁿ⁻¹ cm⁻²"), ("1/(Wh/l)", "(Wh/l)⁻¹"),
                                        ("mAh/cm^2", "mAh/cm²"), ("1", ""), ("Ω cm²", "Ω cm²")])
def test_units_are_typeset_once_for_every_output(unit, text):
    assert typeset(unit) == text
    assert typeset_quantity("25 degC") == "25 °C"


def test_a_probability_sits_inside_its_interval_and_tiny_ones_read_below_a_thousandth():
    # The cases: a long-tailed posterior and a mean that a few draws carry past its interval.
    assert quantity_cells("P_fracture", {"mean": 0.28, "sd": 0.3, "unit": "1", "ci95": [6.8e-14, 1.0]}) == \
        ("0.28", "[< 0.001, > 0.999]")
    value, span = quantity_cells("P_short", {"mean": 0.047, "sd": 0.1, "unit": "1", "ci95": [1e-26, 0.041],
                                             "median": 1e-5})
    assert (value, span) == ("median < 0.001", "[< 0.001, 0.041]")
    value, span = quantity_cells("P_short", {"mean": 0.047, "sd": 0.1, "unit": "1", "ci95": [1e-26, 0.041]})
    assert value == "mean 0.047, above its 95 % interval (a skewed posterior)"


def test_an_odd_interval_or_sd_says_why():
    _, span = quantity_cells("R_cell", {"mean": 300.0, "sd": 200.0, "unit": "ohm*cm^2", "ci95": [-90.0, 700.0]})
    assert span.startswith("[-90, 700] (first-order") and "positive" in span and "Monte Carlo" in span
    _, span = quantity_cells("R_formation", {"mean": 300.0, "sd": 400.0, "unit": "ohm*cm^2", "ci95": [-1.0, 1215.0]})
    assert "sd above the value" in span
    assert quantity_cells("E_V_real", {"mean": 239.0, "sd": 10.0, "unit": "Wh/l", "ci95": [220.0, 257.0]}) == \
        ("239 ± 10 Wh/l", "[220, 257]")


def test_the_first_order_check_names_the_end_that_fails_and_the_tolerance():
    text = first_order_sentence("E_V_real", {"adequate": False, "d_low": 0.3, "d_high": 1.9, "tolerance": 0.5},
                                "Wh/l")
    assert "interval's upper end lies further from Monte Carlo's than the 0.5 Wh/l" in text
    assert "lower end 0.3 Wh/l off, upper 1.9 Wh/l" in text and "quote the Monte Carlo interval" in text
