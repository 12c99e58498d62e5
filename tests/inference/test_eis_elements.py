"""Finite-length Warburg (Wo, Ws) and Gerischer (G) elements: closed forms, impedance.py's
conventions, limits, PyTensor, units and least-squares recovery (fast; no sampling).

The spectra here are SYNTHETIC: computed from the circuits they are fitted with.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nassb.inference.eis.circuit import SERIES_BELOW, Circuit, gerischer, warburg_open, warburg_short
from nassb.inference.eis.coordinates import Layout, Scales
from nassb.inference.eis.expressions import parse_derived
from nassb.inference.eis.fit import _derived_units, _parameter_units
from nassb.inference.eis.leastsq import fit_least_squares
from nassb.inference.eis.spectrum import Spectrum

OMEGA = np.logspace(-3, 7, 301)  # rad/s


def closed_open(omega, z0, tau):
    s = np.sqrt(1j * omega * tau)
    return z0 / (s * np.tanh(s))


def closed_short(omega, z0, tau):
    s = np.sqrt(1j * omega * tau)
    return z0 * np.tanh(s) / s


def closed_gerischer(omega, r, tau):
    return r / np.sqrt(1 + 1j * omega * tau)


@pytest.mark.parametrize("tau", [1e-6, 1e-3, 1.0, 100.0])
def test_elements_match_the_closed_complex_forms(tau):
    """To rounding of |Z| over 1e-3..1e7 rad/s, w tau from 1e-9 to 1e9 (the complex forms are
    the reference for |Z|; they lose digits in Re Wo and Im Ws at small w tau, where the series
    take over)."""
    cases = [("Wo1", {"Wo1_Z0": 300.0, "Wo1_tau": tau}, closed_open(OMEGA, 300.0, tau)),
             ("Ws1", {"Ws1_Z0": 40.0, "Ws1_tau": tau}, closed_short(OMEGA, 40.0, tau)),
             ("G1", {"G1_R": 150.0, "G1_tau": tau}, closed_gerischer(OMEGA, 150.0, tau))]
    for text, values, expected in cases:
        z = Circuit(text).complex_impedance(values, OMEGA)
        assert np.all(np.isfinite(z))
        assert np.max(np.abs(z - expected) / np.abs(expected)) < 1e-13, text


def test_a_circuit_of_all_elements_matches_its_closed_form():
    c = Circuit("R0-p(R1,CPE1)-Wo1-p(R2,Ws2)-G3")
    v = {"R0": 5.0, "R1": 80.0, "CPE1_Q": 1e-5, "CPE1_n": 0.9, "Wo1_Z0": 30.0, "Wo1_tau": 0.2, "R2": 60.0,
         "Ws2_Z0": 40.0, "Ws2_tau": 1e-3, "G3_R": 25.0, "G3_tau": 1e-4}
    expected = (5.0 + 1 / (1 / 80.0 + 1e-5 * (1j * OMEGA) ** 0.9) + closed_open(OMEGA, 30.0, 0.2)
                + 1 / (1 / 60.0 + 1 / closed_short(OMEGA, 40.0, 1e-3)) + closed_gerischer(OMEGA, 25.0, 1e-4))
    np.testing.assert_allclose(c.complex_impedance(v, OMEGA), expected, rtol=1e-12)
    assert c.names == ("R0", "R1", "CPE1_Q", "CPE1_n", "Wo1_Z0", "Wo1_tau", "R2", "Ws2_Z0", "Ws2_tau", "G3_R",
                       "G3_tau")
    assert [p.kind for p in c.parameters][4:] == ["Z0", "tau", "R", "Z0", "tau", "RG", "tau"]


def test_impedance_py_conventions():
    """Wo_0/Ws_0 = Z0 (ohm), Wo_1/Ws_1 = tau (s), G_0 = R_G, G_1 = t_G, as impedance.py 1.7 has them."""
    pytest.importorskip("impedance")
    from impedance.models.circuits import CustomCircuit, elements

    f = OMEGA / (2 * np.pi)
    for kind, p in (("Wo", [300.0, 2.0]), ("Ws", [40.0, 0.5]), ("G", [150.0, 1e-2])):
        ours = Circuit(f"{kind}1").complex_impedance(dict(zip(Circuit(f"{kind}1").names, p)), OMEGA)
        theirs = getattr(elements, kind)(p, f)
        assert np.max(np.abs(ours - theirs) / np.abs(theirs)) < 1e-12, kind
    guess = [5.0, 80.0, 1e-5, 0.9, 30.0, 0.2, 25.0, 1e-4]
    with pytest.warns(UserWarning):
        theirs = CustomCircuit("R0-p(R1,CPE1)-Wo1-G1", initial_guess=guess).predict(f, use_initial=True)
    c = Circuit("R0-p(R1,CPE1)-Wo1-G1")
    np.testing.assert_allclose(c.complex_impedance(dict(zip(c.names, guess)), OMEGA), theirs, rtol=1e-12)


def test_the_series_and_the_closed_forms_meet():
    """Either side of the switch the values agree to 1e-13 beyond what the step in x itself
    changes (2e-12 relative for Im Wo ~ -1/x)."""
    below, above = SERIES_BELOW * (1 - 1e-12), SERIES_BELOW * (1 + 1e-12)
    for element in (warburg_open, warburg_short):
        (re_below, im_below), (re_above, im_above) = element(np.array([below])), element(np.array([above]))
        assert re_below[0] == pytest.approx(re_above[0], rel=1e-13)
        assert im_below[0] == pytest.approx(im_above[0], rel=2.1e-12)


def test_no_overflow_or_zero_division_at_the_extremes():
    x = np.array([0.0, 1e-320, 1e-300, 1e-30, 1e30, 1e300, np.inf])
    for element in (warburg_open, warburg_short, gerischer):
        re_, im_ = element(x)
        assert np.all(np.isfinite(re_)) and np.all(np.isfinite(im_)), element.__name__
    re_, im_ = warburg_short(np.array([1e-30]))
    assert (re_[0], im_[0]) == (1.0, pytest.approx(-1e-30 / 3))
    re_, im_ = warburg_open(np.array([1e-30]))
    assert re_[0] == pytest.approx(1 / 3, rel=1e-15) and im_[0] == pytest.approx(-1e30)
    re_, im_ = warburg_open(np.array([1e30]))  # the semi-infinite Warburg (1 - j) / sqrt(2 x)
    assert re_[0] == pytest.approx(1 / np.sqrt(2e30), rel=1e-14) and im_[0] == pytest.approx(-re_[0], rel=1e-14)


@settings(max_examples=200, deadline=None)
@given(log_x=st.floats(-12, 12), z0=st.floats(1e-3, 1e6))
def test_limits_and_signs(log_x, z0):
    """Re Z > 0 and Z'' < 0 for every element; Wo is a capacitor tau/Z0 in series with Z0/3 at low
    w tau, Ws and G the resistance Z0 (R); all fall as 1/sqrt(w tau) at high w tau."""
    x = np.array([10.0 ** log_x])
    tau = 1.0
    c_open, c_short, c_g = (Circuit(t) for t in ("Wo1", "Ws1", "G1"))
    wo = c_open.complex_impedance({"Wo1_Z0": z0, "Wo1_tau": tau}, x)[0]
    ws = c_short.complex_impedance({"Ws1_Z0": z0, "Ws1_tau": tau}, x)[0]
    g = c_g.complex_impedance({"G1_R": z0, "G1_tau": tau}, x)[0]
    for z in (wo, ws, g):
        assert z.real > 0 and z.imag < 0
    assert abs(ws) <= z0 * (1 + 1e-15) and abs(g) <= z0 * (1 + 1e-15)
    if x[0] < 1e-4:
        assert wo.real == pytest.approx(z0 / 3, rel=1e-7)
        assert -1 / (x[0] * wo.imag) == pytest.approx(tau / z0, rel=1e-7)  # C = tau / Z0
        assert ws.real == pytest.approx(z0, rel=1e-7) and g.real == pytest.approx(z0, rel=1e-7)
    if x[0] > 1e4:
        semi = z0 / np.sqrt(2 * x[0])
        assert wo.real == pytest.approx(semi, rel=1e-12) and ws.real == pytest.approx(semi, rel=1e-12)
        assert abs(g) == pytest.approx(z0 / np.sqrt(x[0]), rel=1e-7)


def test_pytensor_gives_the_same_values_and_finite_gradients():
    import pytensor
    import pytensor.tensor as pt

    x = pt.dvector("x")
    outputs = []
    for element in (warburg_open, warburg_short, gerischer):
        re_, im_ = element(x, pt)
        outputs += [re_, im_, pt.grad(re_.sum() + im_.sum(), x)]
    values = np.logspace(-12, 12, 49)
    results = pytensor.function([x], outputs, mode="FAST_COMPILE")(values)
    for k, element in enumerate((warburg_open, warburg_short, gerischer)):
        re_, im_ = element(values)
        np.testing.assert_allclose(results[3 * k], re_, rtol=1e-14)
        np.testing.assert_allclose(results[3 * k + 1], im_, rtol=1e-14)
        assert np.all(np.isfinite(results[3 * k + 2])), element.__name__
    # d Im(Wo)/dx = 1/x^2 - 1/45 + ... at small x, across the switch to the series
    np.testing.assert_allclose(results[2][:10], 1 / values[:10] ** 2, rtol=1e-6)


def test_units_coordinates_and_area_of_the_new_parameters():
    c = Circuit("R0-p(R1,CPE1)-Wo1-Ws2-G3")
    assert _parameter_units(c, None, "ohm") | {} == {
        "R0": "ohm", "R1": "ohm", "CPE1_Q": "F*s^(n-1)", "CPE1_n": "1", "Wo1_Z0": "ohm", "Wo1_tau": "s",
        "Ws2_Z0": "ohm", "Ws2_tau": "s", "G3_R": "ohm", "G3_tau": "s"}
    area = _parameter_units(c, 0.5, "ohm")
    assert (area["Wo1_Z0"], area["Wo1_tau"], area["G3_R"], area["G3_tau"]) == ("ohm*cm^2", "s", "ohm*cm^2", "s")
    derived = [parse_derived("R_sum=R1+Wo1_Z0+G3_R", list(c.names)), parse_derived("t=Wo1_tau*2", list(c.names))]
    assert _derived_units(derived, area) == {"R_sum": "ohm*cm^2", "t": "s"}
    layout = Layout.of(c)
    assert {"Wo1_Z0", "Wo1_tau", "Ws2_Z0", "Ws2_tau", "G3_R", "G3_tau"} <= set(layout.logs)
    assert all(c.parameter(n).log_scale for n in ("Wo1_tau", "G3_R"))
    scales = Scales(resistance=100.0, high=5.0, omega_min=1.0, omega_max=1e6)
    assert scales.log_centre("tau") == pytest.approx(np.log(1e-3)) and scales.log_centre("Z0") == np.log(100.0)


@pytest.mark.parametrize("text, truth", [
    ("R0-p(R1,CPE1)-Wo1", {"R0": 15.0, "R1": 200.0, "CPE1_Q": 2e-6, "CPE1_n": 0.85, "Wo1_Z0": 300.0, "Wo1_tau": 2.0}),
    ("R0-p(R1,C1)-G1", {"R0": 20.0, "R1": 100.0, "C1": 1e-7, "G1_R": 150.0, "G1_tau": 1e-2}),
    ("R0-Ws1", {"R0": 5.0, "Ws1_Z0": 50.0, "Ws1_tau": 0.1}),
])
def test_least_squares_recovers_a_known_circuit(text, truth):
    """A SYNTHETIC spectrum with 0.2 % noise, 1 MHz to 10 mHz: every parameter within 2 %."""
    c = Circuit(text)
    f = np.geomspace(1e6, 1e-2, 71)
    rng = np.random.default_rng(7)
    z = c.complex_impedance(truth, 2 * np.pi * f)
    z = z + 0.002 * np.abs(z) * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size))
    fit = fit_least_squares(Spectrum(f, z, "synthetic", "synthetic"), Layout.of(c))
    assert fit.rms < 0.003
    for name, value in truth.items():
        assert fit.values[name] == pytest.approx(value, rel=0.02), name


def test_a_semi_infinite_warburg_still_parses_as_w():
    assert [e.kind for e in Circuit("R0-W1-W_o-Wo-Ws_x-G").elements] == ["R", "W", "W", "Wo", "Ws", "G"]
