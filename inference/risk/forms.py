"""Physical forms of the four risks, written once for numpy arrays and PyTensor tensors.

Every function broadcasts: design variables (thickness, pressure, ...) and calibrated
parameters (one value per posterior draw) may be arrays of compatible shapes.  ``xp`` is numpy
(default) or ``pytensor.tensor``.  Units: thickness um, pressure MPa, area cm^2, current density
mA/cm^2, areal capacity mAh/cm^2, conductivity mS/cm, area resistance ohm cm^2.  The forms and
their sources are described in priors/README.md.
"""

from __future__ import annotations

import numpy as np

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


def bending_stress(pressure, thickness, span_reference, span_exponent):
    """Peak bending stress (MPa) of the separator over its unsupported span.

    The span shrinks as tapes get thicker (thin tapes warp more):
    a = a_ref (t / 100 um)^(-gamma).
    """
    span = span_reference * (thickness / SPAN_REFERENCE_THICKNESS) ** (-span_exponent)
    return PLATE_FACTOR * pressure * (span / thickness) ** 2


def fracture_hazard(pressure, thickness, area, strength, weibull_modulus, span_reference, span_exponent):
    """Weibull risk of rupture (A/A_0) (sigma/sigma_0)^m: P(fracture) = 1 - exp(-hazard)."""
    stress = bending_stress(pressure, thickness, span_reference, span_exponent)
    return (area / STRENGTH_REFERENCE_AREA) * (stress / strength) ** weibull_modulus


def fracture_probability(pressure, thickness, area, strength, weibull_modulus, span_reference,
                         span_exponent, xp=np):
    """Weibull probability that the separator cracks: 1 - exp(-(A/A_0) (sigma/sigma_0)^m)."""
    return 1.0 - xp.exp(-fracture_hazard(pressure, thickness, area, strength, weibull_modulus, span_reference,
                                         span_exponent))


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


def short_cumulative_hazard(current, cycles, ccd, ccd_modulus, cycle_exponent):
    """-ln P(no short within ``cycles``) = (j / j_c)^m N^beta.

    The critical current density is Weibull-scattered from cell to cell (modulus m, scale j_c)
    and falls with cycling as N^(-beta/m): a cell shorts in the cycle its CCD drops below j.
    """
    return current_stress(current, ccd, ccd_modulus) * cycles ** cycle_exponent


def current_stress(current, ccd, ccd_modulus):
    """(j / j_c)^m: the cumulative short-circuit hazard of the first cycle."""
    return (current / ccd) ** ccd_modulus


def short_probability(current, cycles, ccd, ccd_modulus, cycle_exponent, xp=np):
    """Probability that the cell shorts within ``cycles`` cycles at ``current`` (mA/cm^2)."""
    return 1.0 - xp.exp(-short_cumulative_hazard(current, cycles, ccd, ccd_modulus, cycle_exponent))


def cathode_resistance(thickness, porosity, liquid_conductivity, bruggeman, charge_transfer, xp=np):
    """Area resistance (ohm cm^2) of a porous cathode as a transmission line.

    Ionic path R_ion = d / (sigma_liquid P^b) (Bruggeman), charge transfer
    R_ct = r_ct (d_ref / d) ((1 - P_ref) / (1 - P)) (inverse to the active surface), and
    Z = sqrt(R_ion R_ct) coth(sqrt(R_ion / R_ct)).
    """
    ref = CATHODE_REFERENCE
    r_ion = thickness * 1e-4 / (liquid_conductivity * 1e-3 * porosity ** bruggeman)
    r_ct = charge_transfer * (ref["thickness"] / thickness) * ((1.0 - ref["porosity"]) / (1.0 - porosity))
    ratio = xp.sqrt(r_ion / r_ct)
    return xp.sqrt(r_ion * r_ct) / xp.tanh(ratio)


def contact_resistance(pressure, contact_reference, contact_exponent):
    """Pressure-dependent contact resistance (ohm cm^2): r_c (p / 1 MPa)^(-kappa)."""
    return contact_reference * pressure ** (-contact_exponent)


def retention(cycles, loss, capacity, reservoir_capacity, xp=np):
    """Capacity retention after ``cycles`` from the sodium inventory alone.

    Each cycle loses ``loss`` = 1 - CE of the charge cycled.  A reservoir of R mAh/cm^2 covers
    the losses for R / (loss C) cycles; after that the cycled charge itself shrinks by CE per
    cycle: retention = CE^max(0, N - R / (loss C)).
    """
    buffered = reservoir_capacity / (loss * capacity)
    return (1.0 - loss) ** xp.maximum(cycles - buffered, 0.0)
