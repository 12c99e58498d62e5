"""The card schema: every field a card may hold, its canonical unit and its physical bounds.

Canonical units are the units the cell equations are written in (inference/cell.py): lengths
in um, capacities in mAh/cm^2, densities in g/cm^3, conductivities in mS/cm, temperatures in K.
A plain number on a card is read in its field's canonical unit.  Each field has physical bounds
(a value outside them is an error) and a plausible range (a value outside it is a warning).
"""

from __future__ import annotations

import math

from .quantity import FieldSpec

INF = math.inf

# Plausible ranges (the ``plausible`` of each spec): a value outside one is possible but more
# often a wrong unit or a typo, so it is a warning, not an error.  They are wide on purpose:
#
# thickness        0.1 um to 10 mm      thin-film separators (~0.1 um) to thick pellets (mm);
#                                       a reservoir or plating tolerance may also be 0
# fraction         porosity 0.01-0.95, active fraction 0.2-1: a porosity above 0.95 leaves
#                  almost no solid; composites hold at least ~20 wt% active material
# areal capacity   0.01-50 mAh/cm^2     thin films to the thickest metal anodes
# loading          0.1-500 mg/cm^2
# voltage          0.5-6 V              every known cell chemistry
# temperature      150-700 K            -120 degC to 430 degC; a bare number below 150 is most
#                                       often meant in degC (a separate warning says so)
# area             0.001-10^4 cm^2      a microelectrode to a 1 m^2 pouch
# pressure         0-100 MPa            stack pressures; isostatic pressing is not a cell
# density          0.1-25 g/cm^3        lithium 0.53, sodium 0.97, osmium 22.6
# specific cap.    1-4000 mAh/g         lithium metal 3861 mAh/g is the highest
# conductivity     1e-10 to 1000 mS/cm  poor ionic conductors to the best liquids (~100)
# energy           0-2 eV               activation energies of ion transport
# area resistance  0-10^5 ohm*cm^2      a blocking interface reaches 10^4
#
# A standard uncertainty above the value itself (100 %) is implausible for every field.
REL = 1.0

THICKNESS = FieldSpec("um", 0.0, INF, low_open=True, words="a thickness", plausible=(0.1, 1e4),
                      plausible_words="0.1 um to 10 mm", max_relative_sd=REL)
THICKNESS_OR_ZERO = FieldSpec("um", 0.0, INF, words="a thickness", plausible=(0.1, 1e4), zero_plausible=True,
                              plausible_words="0, or 0.1 um to 10 mm", max_relative_sd=REL)
FRACTION = FieldSpec("", 0.0, 1.0, low_open=True, high_open=True, words="a fraction", plausible=(0.01, 0.95),
                     max_relative_sd=REL)
FRACTION_TO_ONE = FieldSpec("", 0.0, 1.0, low_open=True, words="a fraction", plausible=(0.2, 1.0),
                            max_relative_sd=REL)
AREAL_CAPACITY = FieldSpec("mAh/cm^2", 0.0, INF, low_open=True, words="an areal capacity", plausible=(0.01, 50.0),
                           max_relative_sd=REL)
LOADING = FieldSpec("mg/cm^2", 0.0, INF, low_open=True, words="a mass loading", plausible=(0.1, 500.0),
                    max_relative_sd=REL)
VOLTAGE = FieldSpec("V", 0.0, INF, low_open=True, words="a voltage", plausible=(0.5, 6.0), max_relative_sd=REL)
TEMPERATURE = FieldSpec("K", 0.0, INF, low_open=True, words="a temperature", plausible=(150.0, 700.0),
                        plausible_words="150 to 700 K, -123 to 427 degC", max_relative_sd=REL)
AREA = FieldSpec("cm^2", 0.0, INF, low_open=True, words="an area", plausible=(1e-3, 1e4), max_relative_sd=REL)
PRESSURE = FieldSpec("MPa", 0.0, INF, words="a pressure", plausible=(0.0, 100.0), max_relative_sd=REL)
DENSITY = FieldSpec("g/cm^3", 0.0, INF, low_open=True, words="a density", plausible=(0.1, 25.0), max_relative_sd=REL)
SPECIFIC_CAPACITY = FieldSpec("mAh/g", 0.0, INF, low_open=True, words="a specific capacity", plausible=(1.0, 4000.0),
                              max_relative_sd=REL)
CONDUCTIVITY = FieldSpec("mS/cm", 0.0, INF, low_open=True, words="a conductivity", plausible=(1e-10, 1e3),
                         max_relative_sd=REL)
ENERGY = FieldSpec("eV", 0.0, INF, words="an activation energy", plausible=(0.0, 2.0), max_relative_sd=REL)
AREA_RESISTANCE = FieldSpec("ohm*cm^2", 0.0, INF, words="an area resistance", plausible=(0.0, 1e5),
                            max_relative_sd=REL)

# A bare number (no unit) for a temperature below this is most likely meant in degC.
BARE_TEMPERATURE_BELOW = 150.0

# Section -> quantity fields (name -> spec).  Text fields (names, material references) are
# listed apart in TEXT_FIELDS.
CELL_FIELDS = {
    "voltage": VOLTAGE,
    "temperature": TEMPERATURE,
    "area": AREA,
    "pressure": PRESSURE,
    # The measured area resistance of the whole cell (impedance or DC), for an energy at a
    # current (U - j R); the separator and interface alone are not a cell's resistance.
    "resistance": AREA_RESISTANCE,
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
# Yes-or-no fields, by section: ``selected_shard = true`` in [separator] says the separator is a
# selected planar shard of a tape that broke (the seed paper's 1 MPa cells), not a tape as cast.
FLAG_FIELDS = {
    "cell": (),
    "anode": (),
    "separator": ("selected_shard",),
    "cathode": (),
}
REQUIRED = {
    "cell": ("name", "voltage", "temperature"),
    "anode": ("material",),
    "separator": ("material", "thickness"),
    "cathode": ("material", "thickness"),
}
