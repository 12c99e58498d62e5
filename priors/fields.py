"""The card schema: every field a card may hold, its canonical unit and its physical bounds.

Canonical units are the units the cell equations are written in (inference/cell.py): lengths
in um, capacities in mAh/cm^2, densities in g/cm^3, conductivities in mS/cm, temperatures in K.
A plain number on a card is read in its field's canonical unit.
"""

from __future__ import annotations

import math

from .quantity import FieldSpec

INF = math.inf

THICKNESS = FieldSpec("um", 0.0, INF, low_open=True, words="a thickness")
THICKNESS_OR_ZERO = FieldSpec("um", 0.0, INF, words="a thickness")
FRACTION = FieldSpec("", 0.0, 1.0, low_open=True, high_open=True, words="a fraction")
FRACTION_TO_ONE = FieldSpec("", 0.0, 1.0, low_open=True, words="a fraction")
AREAL_CAPACITY = FieldSpec("mAh/cm^2", 0.0, INF, low_open=True, words="an areal capacity")
LOADING = FieldSpec("mg/cm^2", 0.0, INF, low_open=True, words="a mass loading")
VOLTAGE = FieldSpec("V", 0.0, INF, low_open=True, words="a voltage")
TEMPERATURE = FieldSpec("K", 0.0, INF, low_open=True, words="a temperature")
AREA = FieldSpec("cm^2", 0.0, INF, low_open=True, words="an area")
PRESSURE = FieldSpec("MPa", 0.0, INF, words="a pressure")
DENSITY = FieldSpec("g/cm^3", 0.0, INF, low_open=True, words="a density")
SPECIFIC_CAPACITY = FieldSpec("mAh/g", 0.0, INF, low_open=True, words="a specific capacity")
CONDUCTIVITY = FieldSpec("mS/cm", 0.0, INF, low_open=True, words="a conductivity")
ENERGY = FieldSpec("eV", 0.0, INF, words="an activation energy")
AREA_RESISTANCE = FieldSpec("ohm*cm^2", 0.0, INF, words="an area resistance")

# Section -> quantity fields (name -> spec).  Text fields (names, material references) are
# listed apart in TEXT_FIELDS.
CELL_FIELDS = {
    "voltage": VOLTAGE,
    "temperature": TEMPERATURE,
    "area": AREA,
    "pressure": PRESSURE,
}
ANODE_FIELDS = {
    "reservoir_thickness": THICKNESS_OR_ZERO,
    "charged_thickness": THICKNESS,
    "plating_uncertainty": THICKNESS_OR_ZERO,
}
SEPARATOR_FIELDS = {
    "thickness": THICKNESS,
}
CATHODE_FIELDS = {
    "thickness": THICKNESS,
    "porosity": FRACTION,
    "loading": LOADING,
    "active_fraction": FRACTION_TO_ONE,
    "theoretical_capacity": AREAL_CAPACITY,
    "delivered_capacity": AREAL_CAPACITY,
}
MATERIAL_FIELDS = {
    "density": DENSITY,
    "specific_capacity": SPECIFIC_CAPACITY,
    "conductivity": CONDUCTIVITY,
    "reference_temperature": TEMPERATURE,
    "activation_energy": ENERGY,
    "interface_resistance": AREA_RESISTANCE,
    "interface_activation_energy": ENERGY,
}

SECTION_FIELDS = {
    "cell": CELL_FIELDS,
    "anode": ANODE_FIELDS,
    "separator": SEPARATOR_FIELDS,
    "cathode": CATHODE_FIELDS,
}
TEXT_FIELDS = {
    "cell": ("name", "description", "source"),
    "anode": ("material", "source"),
    "separator": ("material", "source"),
    "cathode": ("material", "electrolyte", "source"),
    "material": ("description", "source"),
}
REQUIRED = {
    "cell": ("name", "voltage", "temperature"),
    "anode": ("material",),
    "separator": ("material", "thickness"),
    "cathode": ("material", "thickness"),
}
