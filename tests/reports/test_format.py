"""GUM-style rounding: the paper's Table 1 strings from its own unrounded numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nassb.priors.display.format import round_pair, with_uncertainty


@pytest.mark.parametrize("value, sd, text", [
    (277.49, 11.1, "277 ± 11"),
    (238.6, 9.7, "239 ± 10"),     # 950-999 rounds up to two digits
    (137.98, 6.2, "138 ± 6"),     # 355-949 keeps one digit
    (117.8, 5.3, "118 ± 5"),
    (174.2, 8.6, "174 ± 9"),
    (147.6, 7.3, "148 ± 7"),
    (73.7, 3.6, "74 ± 4"),
    (62.2, 3.0, "62.2 ± 3.0"),    # 100-354 keeps two
    (0.6300, 0.0300, "0.630 ± 0.030"),
    (1234.0, 0.0, "1234"),
])
def test_paper_style(value, sd, text):
    assert with_uncertainty(value, sd) == text


def test_units_are_appended_but_not_for_dimensionless():
    assert with_uncertainty(238.6, 9.7, "Wh/l") == "239 ± 10 Wh/l"
    assert with_uncertainty(0.63, 0.03, "1") == "0.630 ± 0.030"


@given(value=st.floats(-1e6, 1e6), sd=st.floats(1e-6, 1e5))
def test_at_most_two_significant_digits_and_value_rounded_alike(value, sd):
    v, u = round_pair(value, sd)
    digits = u.replace(".", "").lstrip("0")
    assert 1 <= len(digits.rstrip("0") or "0") <= 2
    assert len(v.partition(".")[2]) == len(u.partition(".")[2])
    assert abs(float(u) - sd) <= 0.5 * sd + 1e-12  # never more than half off
