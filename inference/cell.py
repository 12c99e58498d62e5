"""The stack equations of the seed paper, written once.

Every function takes plain numbers, numpy arrays (of any shape, broadcasting) or PyTensor
tensors; only arithmetic and ``xp.exp`` are used, where ``xp`` is ``numpy`` or
``pytensor.tensor``.  They are analytic in every argument, so complex-step differentiation gives
exact first derivatives (inference/gum.py).  Nothing here knows of sodium, NZSP or NVP: the
numbers come from cards.

Units (the canonical units of priors/fields.py): thickness um, areal capacity mAh/cm^2,
loading mg/cm^2, density g/cm^3, specific capacity mAh/g, voltage V, conductivity mS/cm,
temperature K, activation energy eV, area resistance ohm cm^2.
"""

from __future__ import annotations

import numpy as np

BOLTZMANN_EV = 8.617333262e-5
"""Boltzmann constant in eV/K (CODATA 2018, exact)."""

_UM_TO_CM = 1e-4
_MG_TO_G = 1e-3


def swelling(density, specific_capacity):
    """Thickness of metal plated per unit areal charge, s = 1/(q rho).

    Parameters
    ----------
    density : g/cm^3
    specific_capacity : mAh/g

    Returns
    -------
    um per mAh/cm^2 (8.86 for sodium: 1166 mAh/g, 0.968 g/cm^3).
    """
    return 1.0 / (specific_capacity * density * _UM_TO_CM)


def charged_anode_thickness(reservoir, swelling_um, capacity, plating_deviation=0.0):
    """Anode thickness in the charged state: reservoir + plated metal (um).

    ``plating_deviation`` is the relative deviation of the plated layer from s C (non-uniform
    plating, pressing): the plated thickness is s C (1 + deviation), so its uncertainty scales
    with the plated amount.
    """
    return reservoir + swelling_um * capacity * (1.0 + plating_deviation)


def plated_mass(capacity, specific_capacity):
    """Areal mass of metal moved from the cathode to the anode by ``capacity`` (g/cm^2).

    Parameters
    ----------
    capacity : mAh/cm^2
    specific_capacity : mAh/g of the anode metal (1166 for sodium)
    """
    return capacity / specific_capacity


def derived_porosity(loading, solid_density, thickness):
    """Cathode porosity from its mass loading: P = 1 - m / (rho_solid d).

    Parameters
    ----------
    loading : mg/cm^2 (all solid components)
    solid_density : g/cm^3 (mean density of the solid components)
    thickness : um
    """
    return 1.0 - loading * _MG_TO_G / (solid_density * thickness * _UM_TO_CM)


def capacity_from_loading(loading, active_fraction, specific_capacity):
    """Theoretical areal capacity: loading x active mass fraction x specific capacity (mAh/cm^2)."""
    return loading * _MG_TO_G * active_fraction * specific_capacity


def volumetric_energy(voltage, capacity, d_anode, d_separator, d_cathode):
    """Eq. 1: E_V = U C / (d_anode + d_separator + d_cathode), in Wh/l (= mWh/cm^3)."""
    return voltage * capacity / ((d_anode + d_separator + d_cathode) * _UM_TO_CM)


def stack_mass(anode_density, d_anode, separator_density, d_separator,
               solid_density, d_cathode, porosity, liquid_density):
    """Areal mass of the stack (g/cm^2): anode + separator + cathode solids + pore liquid."""
    cathode = d_cathode * (solid_density * (1.0 - porosity) + liquid_density * porosity)
    return (anode_density * d_anode + separator_density * d_separator + cathode) * _UM_TO_CM


def gravimetric_energy(voltage, capacity, mass):
    """Eq. 5: E_m = U C / m, in Wh/kg (= mWh/g); ``mass`` in g/cm^2."""
    return voltage * capacity / mass


def arrhenius_exponent(activation_energy, temperature, reference_temperature):
    """Eq. 4 on a log scale: ln R(T) - ln R(T_ref) = E_A / k_B (1/T - 1/T_ref) (eV, K)."""
    return activation_energy / BOLTZMANN_EV * (1.0 / temperature - 1.0 / reference_temperature)


def arrhenius_factor(activation_energy, temperature, reference_temperature, xp=np):
    """Eq. 4 ratio R(T) / R(T_ref) = exp(E_A / k_B (1/T - 1/T_ref)) for an area resistance.

    A conductivity (sigma = d / R) follows the same law with ``-activation_energy``.
    """
    return xp.exp(arrhenius_exponent(activation_energy, temperature, reference_temperature))


def separator_resistance(thickness, conductivity, activation_energy, temperature,
                         reference_temperature, xp=np):
    """Area resistance of the separator at ``temperature``: d / sigma(T), in ohm cm^2.

    ``conductivity`` in mS/cm at ``reference_temperature``; sigma follows Eq. 4 (sigma = d / R).
    """
    at_reference = thickness * _UM_TO_CM / (conductivity * 1e-3)
    return at_reference * arrhenius_factor(activation_energy, temperature, reference_temperature, xp)


def interface_resistance(resistance, activation_energy, temperature, reference_temperature, xp=np):
    """Area resistance of one metal | separator interface at ``temperature`` (ohm cm^2)."""
    return resistance * arrhenius_factor(activation_energy, temperature, reference_temperature, xp)


# -- inverse relations (what a design sets, and what follows from it) ---------------------------

def loading_for_porosity(porosity, solid_density, thickness):
    """Inverse of :func:`derived_porosity`: the loading (mg/cm^2) of a cathode of ``thickness``
    (um) and solid density (g/cm^3) with that porosity, m = (1 - P) rho d."""
    return (1.0 - porosity) * solid_density * thickness * _UM_TO_CM / _MG_TO_G


def solid_volumetric_capacity(capacity, porosity, thickness):
    """Capacity per volume of cathode solid, mAh/cm^3: C / ((1 - P) d)."""
    return capacity / ((1.0 - porosity) * thickness * _UM_TO_CM)


def cathode_thickness_for_capacity(capacity, porosity, volumetric_capacity):
    """Inverse of :func:`solid_volumetric_capacity`: the cathode thickness (um) that holds
    ``capacity`` (mAh/cm^2) at ``porosity`` with solids of ``volumetric_capacity`` (mAh/cm^3)."""
    return capacity / ((1.0 - porosity) * volumetric_capacity * _UM_TO_CM)


def specific_capacity_for(capacity, loading, active_fraction=1.0):
    """Inverse of :func:`capacity_from_loading`: mAh/g of active material giving ``capacity``
    (mAh/cm^2) from ``loading`` (mg/cm^2)."""
    return capacity / (loading * _MG_TO_G * active_fraction)


def voltage_at_current(voltage, current, resistance):
    """Discharge voltage U - j R (V) of a cell of plateau ``voltage`` (V) at ``current``
    (mA/cm^2) through its area ``resistance`` (ohm cm^2)."""
    return voltage - ohmic_drop(current, resistance)


def ohmic_drop(current, resistance):
    """Ohmic voltage drop (V) of ``current`` (mA/cm^2) through ``resistance`` (ohm cm^2)."""
    return current * 1e-3 * resistance
