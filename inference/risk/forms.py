"""Physical forms of the four risks, written once for numpy arrays and PyTensor tensors.

Every function broadcasts: design variables (thickness, pressure, ...) and calibrated
parameters (one value per posterior draw) may be arrays of compatible shapes.  ``xp`` is numpy
(default) or ``pytensor.tensor``.  Units: thickness um, pressure MPa, area cm^2, current density
mA/cm^2, areal capacity mAh/cm^2, conductivity mS/cm, area resistance ohm cm^2.  The forms and
their sources are described in priors/README.md.
"""

from __future__ import annotations

import numpy as np

FORMS_VERSION = "1"
"""The version of what these forms and the likelihood (likelihood.py) compute.  A calibrated
posterior stores it and :meth:`~.predict.RiskModel.load` refuses one of another version:
change it with any change of what a form or the likelihood returns (and recalibrate), not with
an edit of the text.  tests/inference/test_risk_golden.py holds the values of version 1 and
fails on such a change."""

POISSON = 0.26
"""Poisson's ratio of NaSICON (Wolfenstine et al., Ionics 2022)."""
PLATE_FACTOR = 3.0 * (3.0 + POISSON) / 8.0
"""Peak bending stress of a simply supported circular plate under uniform pressure:
sigma = 3 (3 + nu) / 8 * p * (a / t)^2 (Timoshenko & Woinowsky-Krieger, Theory of Plates)."""
SPAN_REFERENCE_THICKNESS = 100.0   # um: the unsupported span a_ref is quoted for a 100 um tape
STRENGTH_REFERENCE_AREA = 1.0      # cm^2: sigma_0 is the characteristic strength of 1 cm^2
SHORT_REFERENCE = {"pressure": 1.0, "reservoir": 36.0, "thickness": 100.0, "capacity": 1.0}
RESERVOIR_SOFTENING = 5.0          # um: keeps the reservoir term finite at zero excess
CATHODE_REFERENCE = {"thickness": 100.0, "porosity": 0.63}
SOLID_BRUGGEMAN = 1.5              # the electronic rail's dependence on the solid fraction


# -- fracture of the separator ---------------------------------------------------------------

def span(thickness, span_reference, span_exponent, selection=1.0):
    """Unsupported span (um) of a tape: a = s a_ref (t / 100 um)^(-gamma).

    Thin tapes warp more; ``selection`` (s <= 1) is the span of a selected planar shard relative
    to a random tape's (1 for a tape as cast).
    """
    return selection * span_reference * (thickness / SPAN_REFERENCE_THICKNESS) ** (-span_exponent)


def bending_stress(pressure, thickness, span_reference, span_exponent, selection=1.0):
    """Peak bending stress (MPa) of the separator over its unsupported span:
    3 (3 + nu) / 8 p (a / t)^2."""
    return PLATE_FACTOR * pressure * (span(thickness, span_reference, span_exponent, selection) / thickness) ** 2


def fracture_hazard(pressure, thickness, area, strength, weibull_modulus, span_reference, span_exponent,
                    selection=1.0):
    """Weibull risk of rupture (A / 1 cm^2) (sigma / sigma_0)^m: P(fracture) = 1 - exp(-hazard)."""
    stress = bending_stress(pressure, thickness, span_reference, span_exponent, selection)
    return (area / STRENGTH_REFERENCE_AREA) * (stress / strength) ** weibull_modulus


def fracture_probability(pressure, thickness, area, strength, weibull_modulus, span_reference,
                         span_exponent, selection=1.0, xp=np):
    """Weibull probability that the separator cracks: 1 - exp(-(A/A_0) (sigma/sigma_0)^m)."""
    return -xp.expm1(-fracture_hazard(pressure, thickness, area, strength, weibull_modulus, span_reference,
                                      span_exponent, selection))


# -- sodium short circuit --------------------------------------------------------------------

def critical_current(pressure, reservoir, thickness, capacity, ccd_reference, pressure_exponent,
                     reservoir_exponent, thickness_exponent, capacity_exponent):
    """Characteristic critical current density (mA/cm^2) of a cell's design.

    Power laws around the reference (1 MPa, 36 um reservoir, 100 um separator, 1 mAh/cm^2 per
    cycle): pressure and a thicker reservoir close the voids that stripping leaves, a thicker
    separator delays penetration, more capacity per cycle digs deeper voids.
    """
    ref = SHORT_REFERENCE
    return (ccd_reference
            * (pressure / ref["pressure"]) ** pressure_exponent
            * ((reservoir + RESERVOIR_SOFTENING) / (ref["reservoir"] + RESERVOIR_SOFTENING)) ** reservoir_exponent
            * (thickness / ref["thickness"]) ** thickness_exponent
            * (capacity / ref["capacity"]) ** (-capacity_exponent))


def current_stress(current, ccd, ccd_modulus):
    """(j / j_c)^m: the cumulative short-circuit hazard of the first cycle at ``current``."""
    return (current / ccd) ** ccd_modulus


def short_cumulative_hazard(current, cycles, ccd, ccd_modulus, cycle_exponent, formation_cycles=0.0,
                            formation_current=None):
    """-ln P(no short within ``cycles`` cycles run after ``formation_cycles`` at ``formation_current``).

    The critical current density is Weibull-scattered from cell to cell (modulus m, scale j_c)
    and falls with cycling as N^(-beta/m): cycle k at current j_k adds
    (j_k / j_c)^m (k^beta - (k - 1)^beta) to the cumulative hazard, so N cycles at one current
    give (j / j_c)^m N^beta, and a history of segments adds their parts.
    """
    if formation_current is None or np.all(np.asarray(formation_cycles) == 0):
        return current_stress(current, ccd, ccd_modulus) * cycles ** cycle_exponent
    start = formation_cycles ** cycle_exponent
    return (current_stress(formation_current, ccd, ccd_modulus) * start
            + current_stress(current, ccd, ccd_modulus) * ((formation_cycles + cycles) ** cycle_exponent - start))


def short_probability(current, cycles, ccd, ccd_modulus, cycle_exponent, xp=np, formation_cycles=0.0,
                      formation_current=None):
    """Probability that the cell shorts within ``cycles`` cycles at ``current`` (mA/cm^2)."""
    return -xp.expm1(-short_cumulative_hazard(current, cycles, ccd, ccd_modulus, cycle_exponent,
                                              formation_cycles, formation_current))


# -- cell resistance -------------------------------------------------------------------------

def ionic_resistance(thickness, porosity, liquid_conductivity, macmullin, bruggeman):
    """Ionic resistance (ohm cm^2) of the liquid-filled pores across the cathode thickness.

    R_ion = d N_M / sigma_liquid with the MacMullin number N_M = N_ref (P / 0.63)^(-b): N_ref at
    the paper's porosity, Bruggeman's exponent b for its change with porosity.
    """
    ref = CATHODE_REFERENCE
    return thickness * 1e-4 * macmullin * (porosity / ref["porosity"]) ** (-bruggeman) / (liquid_conductivity * 1e-3)


def electronic_resistance(thickness, porosity, electronic_conductivity):
    """Electronic resistance (ohm cm^2) of the cathode's solid (active material, carbon, binder)
    across its thickness; the conductivity is quoted at the paper's porosity and scales with the
    solid fraction as ((1 - P) / 0.37)^1.5."""
    ref = CATHODE_REFERENCE
    solid = ((1.0 - porosity) / (1.0 - ref["porosity"])) ** SOLID_BRUGGEMAN
    return thickness * 1e-4 / (electronic_conductivity * 1e-3 * solid)


def charge_transfer_resistance(thickness, porosity, charge_transfer):
    """Charge-transfer resistance (ohm cm^2 of electrode area) of all the active surface:
    r_ct (100 um / d) (0.37 / (1 - P)), inverse to the solid volume (the surface) per area."""
    ref = CATHODE_REFERENCE
    return charge_transfer * (ref["thickness"] / thickness) * ((1.0 - ref["porosity"]) / (1.0 - porosity))


def transmission_line(r_ion, r_el, r_ct, xp=np):
    """DC resistance (ohm cm^2) of a porous electrode with ionic and electronic rails.

    A uniform one-dimensional transmission line (de Levie; with both rails, Newman & Tobias
    1962, Paasch et al. 1993): the ionic current enters at the separator, the electronic leaves
    at the current collector, the two exchange through the distributed charge-transfer
    resistance.  With nu = sqrt((R_ion + R_el) / R_ct),

        Z = R_ion R_el / (R_ion + R_el) (1 + 2 / (nu sinh nu))
            + (R_ion^2 + R_el^2) / (R_ion + R_el) coth(nu) / nu.

    nu << 1 (kinetics limit): Z = R_ct + (R_ion + R_el) / 3, which falls with thickness
    (R_ct ~ 1/d, more active surface); nu >> 1 (transport limit): Z = R_ion R_el / (R_ion + R_el)
    + (R_ion^2 + R_el^2) / ((R_ion + R_el) nu), which grows with thickness.  Written with
    exp(-nu), stable for any nu > 0.
    """
    total = r_ion + r_el
    nu = xp.sqrt(total / r_ct)
    e1 = xp.exp(-nu)
    one_minus_e2 = -xp.expm1(-2.0 * nu)
    inverse_sinh = 2.0 * e1 / one_minus_e2           # 1 / sinh(nu)
    coth = (1.0 + e1 * e1) / one_minus_e2
    return (r_ion * r_el / total) * (1.0 + 2.0 * inverse_sinh / nu) + (r_ion ** 2 + r_el ** 2) / total * coth / nu


def cathode_resistance(thickness, porosity, liquid_conductivity, macmullin, bruggeman, electronic_conductivity,
                       charge_transfer, xp=np):
    """Area resistance (ohm cm^2) of the porous cathode before formation (:func:`transmission_line`)."""
    return transmission_line(ionic_resistance(thickness, porosity, liquid_conductivity, macmullin, bruggeman),
                             electronic_resistance(thickness, porosity, electronic_conductivity),
                             charge_transfer_resistance(thickness, porosity, charge_transfer), xp=xp)


def formation_factor(pressure, formation_reference, formation_exponent):
    """What formation multiplies the cathode's charge-transfer resistance by: f_ref (p / 1 MPa)^(-phi).

    The seed paper saw the charge-transfer arc grow during formation at about 0.05 MPa (cell 1)
    and shrink at 1 MPa (cell 2)."""
    return formation_reference * pressure ** (-formation_exponent)


def contact_resistance(pressure, contact_reference, contact_exponent):
    """Pressure-dependent contact resistance (ohm cm^2) of the cathode's planar interfaces
    (separator and current collector): r_c (p / 1 MPa)^(-kappa)."""
    return contact_reference * pressure ** (-contact_exponent)


def collector_modulus(resistance, collector, exponent, xp=np):
    """|R + Z_CC| (ohm cm^2): a resistance in series with the current collector's constant-phase
    element of modulus ``collector`` at the frequency of the measurement and phase -n pi / 2."""
    angle = exponent * np.pi / 2.0
    return xp.sqrt(resistance ** 2 + 2.0 * resistance * collector * np.cos(angle) + collector ** 2)


# -- sodium inventory ------------------------------------------------------------------------

def retention(cycles, loss, capacity, reservoir_capacity, first_loss=0.0, fade=0.0, xp=np):
    """Discharge capacity of cycle ``cycles`` over the cathode's (1 for the first cycle of a
    cell with enough sodium).

    The first cycle loses ``first_loss`` of the capacity, every later cycle ``loss`` = 1 - CE:
    sodium that plates into SEI or dead metal.  A reservoir of R mAh/cm^2 covers the first loss
    and then R' / (loss C) cycles; beyond it the cycled charge shrinks by CE each cycle.  A
    zero-excess cell therefore starts at 1 - first_loss.  Besides the inventory, the capacity
    fades by ``fade`` per cycle (electrolyte loss, resistance growth):

        retention = min(1, 1 - q1 + R / C) (1 - q)^max(0, N - 1 - max(0, R - q1 C) / (q C)) (1 - f)^(N - 1).
    """
    first = xp.minimum(1.0, 1.0 - first_loss + reservoir_capacity / capacity)
    left = xp.maximum(reservoir_capacity - first_loss * capacity, 0.0)
    buffered = left / (loss * capacity)
    inventory = first * (1.0 - loss) ** xp.maximum(cycles - 1.0 - buffered, 0.0)
    return inventory * (1.0 - fade) ** (cycles - 1.0)
