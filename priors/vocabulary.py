"""One vocabulary: every quantity nassb reads or reports, by the one name it has everywhere.

A :class:`Term` gives a name (the card path of an input, ``"separator.thickness"``, or the JSON
name of an output, ``"E_V_real"``), its canonical unit in pint's spelling (what JSON and NetCDF
carry), a label in words (what a report shows), its kind (a quantity, a probability, a
fraction) and a description.  Card fields come from the schema (:mod:`nassb.priors.fields`);
outputs, risks and design variables are listed here.  Code asks :func:`term` instead of writing
a name, a unit or a label a second time.

:func:`typeset` writes a canonical unit the way a reader expects it: ``ohm*cm^2`` as ``Ω cm²``,
``um`` as ``µm``.  JSON keeps the canonical spelling, which pint reads back.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from . import fields as F

KINDS = ("quantity", "probability", "fraction", "count")


@dataclass(frozen=True)
class Term:
    """One quantity of the vocabulary.

    Attributes
    ----------
    name : str
        The one name: a card path (``"cathode.porosity"``) or an output (``"E_V_real"``).
    unit : str
        Canonical unit, pint spelling (``"ohm*cm^2"``); ``"1"`` for a pure number.
    label : str
        Words for a report (``"separator thickness"``).
    kind : str
        ``"quantity"``, ``"probability"`` (reported as a mean with an interval, never ± sd),
        ``"fraction"`` or ``"count"``.
    description : str
        One sentence: what it is and where it comes from (equation, convention).
    low, high : float
        Physical bounds of the quantity (an energy density is > 0, a porosity in (0, 1)).
    """

    name: str
    unit: str
    label: str
    kind: str = "quantity"
    description: str = ""
    low: float = -math.inf
    high: float = math.inf

    @property
    def unit_text(self) -> str:
        """The unit typeset for a reader (``Ω cm²``); empty for a pure number."""
        return typeset(self.unit)


def _t(name: str, unit: str, label: str, description: str = "", kind: str = "quantity") -> Term:
    high = 1.0 if kind in ("probability", "fraction") else math.inf
    return Term(name, unit, label, kind, description, 0.0, high)


OUTPUTS: dict[str, Term] = {t.name: t for t in (
    _t("E_V_theo", "Wh/l", "volumetric energy density, theoretical capacity",
       "Eq. 1: U C_theo over the stack thickness in the charged state"),
    _t("E_V_real", "Wh/l", "volumetric energy density, delivered capacity",
       "Eq. 1 with the delivered capacity (the paper's convention: U is the plateau voltage)"),
    _t("E_m_theo", "Wh/kg", "gravimetric energy density, theoretical capacity",
       "Eq. 5: U C_theo over the stack's areal mass"),
    _t("E_m_real", "Wh/kg", "gravimetric energy density, delivered capacity",
       "Eq. 5 with the delivered capacity (the paper's convention: U is the plateau voltage)"),
    _t("E_V_rate", "Wh/l", "volumetric energy density at the cycling current",
       "energy at the cycling current, U - jR: (U - j R_cell) C_delivered over the stack thickness; the "
       "paper's convention E_V_real uses U"),
    _t("E_m_rate", "Wh/kg", "gravimetric energy density at the cycling current",
       "energy at the cycling current, U - jR: (U - j R_cell) C_delivered over the stack's areal mass; the "
       "paper's convention E_m_real uses U"),
    _t("d_anode_theo", "um", "charged anode thickness, theoretical capacity",
       "reservoir plus the sodium plated by the theoretical capacity"),
    _t("d_anode_real", "um", "charged anode thickness, delivered capacity",
       "reservoir plus the sodium plated by the delivered capacity"),
    _t("porosity", "1", "cathode porosity", "given, or derived from the loading: P = 1 - m / (rho d)",
       "fraction"),
    _t("C_theo", "mAh/cm^2", "theoretical areal capacity", "of the cathode"),
    Term("utilisation", "1", "utilisation", "fraction", "delivered over theoretical capacity", 0.0, math.inf),
    _t("R_separator", "ohm*cm^2", "separator area resistance",
       "d / sigma(T) at the cell temperature (Eq. 4)"),
    _t("R_interface", "ohm*cm^2", "interface area resistance",
       "one anode | separator interface at the cell temperature (Eq. 4)"),
    _t("coulombic_efficiency", "1", "Coulombic efficiency", "mean discharge over charge of the cycles observed",
       "fraction"),
)}

RISKS: dict[str, Term] = {t.name: t for t in (
    _t("P_fracture", "1", "probability that the separator cracks",
       "Weibull strength against the bending stress at the stack pressure", "probability"),
    _t("P_short", "1", "probability of a sodium short circuit",
       "within the target cycles at the cycling current", "probability"),
    _t("R_cell", "ohm*cm^2", "cell area resistance",
       "after formation: separator + interface + cathode + contact + formation"),
    _t("R_cathode", "ohm*cm^2", "cathode area resistance",
       "porous cathode before formation: transmission line of ionic and electronic rails and charge transfer"),
    _t("R_contact", "ohm*cm^2", "contact area resistance",
       "the cathode's planar contacts (separator, current collector) at the stack pressure"),
    Term("R_formation", "ohm*cm^2", "formation change of resistance", "quantity",
         "what formation changed in the cathode's charge transfer (negative where it fell)"),
    _t("ohmic_drop", "V", "ohmic voltage drop", "j R_cell at the cycling current"),
    _t("retention", "1", "capacity retention",
       "discharge after the target cycles over the cathode's: sodium inventory (first-cycle loss included) and fade",
       "fraction"),
)}

# Design variables are card fields (the search varies exactly what a card would say), declared
# in nassb.design.variables.

_FIELD_LABELS = {
    "cell.voltage": "cell voltage",
    "cell.temperature": "cell temperature",
    "cell.area": "electrode area",
    "cell.pressure": "stack pressure",
    "cell.resistance": "measured cell area resistance",
    "anode.reservoir_thickness": "sodium reservoir thickness",
    "anode.charged_thickness": "measured charged anode thickness",
    "anode.plating_uncertainty": "uncertainty of the plated layer",
    "anode.plating": "relative deviation of the plated layer",
    "separator.thickness": "separator thickness",
    "separator.resistance": "separator area resistance",
    "cathode.thickness": "cathode thickness",
    "cathode.porosity": "cathode porosity",
    "cathode.loading": "cathode mass loading",
    "cathode.active_fraction": "active mass fraction",
    "cathode.theoretical_capacity": "theoretical areal capacity",
    "cathode.delivered_capacity": "delivered areal capacity",
}
_MATERIAL_LABELS = {
    "density": "density",
    "specific_capacity": "specific capacity",
    "conductivity": "ionic conductivity",
    "reference_temperature": "reference temperature",
    "activation_energy": "activation energy",
    "interface_resistance": "interface area resistance",
    "interface_activation_energy": "interface activation energy",
}
_FRACTIONS = {"cathode.porosity", "cathode.active_fraction"}


def _card_terms() -> dict[str, Term]:
    out = {}
    for section, specs in F.SECTION_FIELDS.items():
        for key, spec in specs.items():
            name = f"{section}.{key}"
            out[name] = Term(name, spec.unit or "1", _FIELD_LABELS.get(name, key.replace("_", " ")),
                             "fraction" if name in _FRACTIONS else "quantity", low=spec.low, high=spec.high)
    out["anode.plating"] = Term("anode.plating", "1", _FIELD_LABELS["anode.plating"], "quantity",
                                "zero-mean relative deviation of the plated layer's thickness", -1.0)
    out["separator.resistance"] = Term("separator.resistance", "ohm*cm^2", _FIELD_LABELS["separator.resistance"],
                                       "quantity", "d / sigma(T) of the card's separator")
    return out


TERMS: dict[str, Term] = {**_card_terms(), **OUTPUTS, **RISKS}


def term(name: str) -> Term:
    """The vocabulary entry of ``name``.

    Material quantities are named ``MATERIAL.field`` (``"nzsp-tape.conductivity"``): any
    material name with a field of :data:`nassb.priors.fields.MATERIAL_FIELDS`.  A name the
    vocabulary does not know gets a plain entry (its own name as label, no unit).
    """
    if name in TERMS:
        return TERMS[name]
    material, _, key = name.rpartition(".")
    if material and key in F.MATERIAL_FIELDS:
        spec = F.MATERIAL_FIELDS[key]
        return Term(name, spec.unit or "1", f"{material} {_MATERIAL_LABELS[key]}", low=spec.low, high=spec.high)
    return Term(name, "", name)


def unit_of(name: str) -> str:
    """Canonical unit of ``name`` (``"1"`` for a pure number, ``""`` when unknown)."""
    return term(name).unit


_SUPERSCRIPTS = str.maketrans("0123456789-.n+()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·ⁿ⁺⁽⁾")
_WORDS = ((re.compile(r"\bohm\b"), "Ω"), (re.compile(r"\bum\b"), "µm"), (re.compile(r"\bdegC\b"), "°C"),
          (re.compile(r"\bpercent\b"), "%"))
_POWER = re.compile(r"\^\((-?[0-9.n+-]+)\)|\^(-?[0-9.]+)|\*\*\(?(-?[0-9.]+)\)?")


def _negated(factors: str) -> str:
    """The factors of a denominator as negative powers: ``cm^2`` -> ``cm^-2``."""
    out = []
    for factor in factors.split("*"):
        base, _, power = factor.partition("^")
        power = power.strip("()") or "1"
        out.append(f"{base}^{power[1:] if power.startswith('-') else '-' + power}")
    return "*".join(out)


def typeset(unit: str) -> str:
    """A canonical unit as a reader writes it: ``ohm*cm^2`` -> ``Ω cm²``, ``um`` -> ``µm``,
    ``mAh/cm^2`` -> ``mAh/cm²``, ``1/K`` -> ``K⁻¹``, ``F*s^(n-1)/cm^2`` -> ``F sⁿ⁻¹ cm⁻²``;
    ``"1"`` and ``""`` -> ``""``.  Every text and HTML output and every figure writes units
    through this one function; JSON keeps the canonical spelling, which pint reads back."""
    if unit in ("", "1", "dimensionless"):
        return ""
    text = unit
    for pattern, symbol in _WORDS:
        text = pattern.sub(symbol, text)
    numerator, slash, denominator = text.partition("/")
    if numerator == "1" and denominator.startswith("(") and denominator.endswith(")"):  # 1/(Wh/l) -> (Wh/l)⁻¹
        text = f"{denominator}^-1"
    elif slash and "/" not in denominator and "(" not in denominator and (numerator == "1" or "*" in numerator):
        text = " ".join(p for p in (numerator if numerator != "1" else "", _negated(denominator)) if p)
    text = _POWER.sub(lambda m: next(g for g in m.groups() if g is not None).translate(_SUPERSCRIPTS), text)
    return text.replace("*", " ")


def typeset_quantity(text: str) -> str:
    """A quantity as the user wrote it, its unit typeset: ``"25 degC"`` -> ``"25 °C"``,
    ``"50 um"`` -> ``"50 µm"`` (text without a unit unchanged)."""
    number, _, unit = str(text).strip().partition(" ")
    return f"{number} {typeset(unit.strip())}".strip() if unit.strip() else str(text)


# Symbols of the outputs as a paper writes them: a letter with a subscript.
_SUBSCRIPTS = {"separator": "sep", "interface": "int", "cathode": "cat", "contact": "con", "formation": "form",
               "fracture": "frac", "anode": "an"}


def symbol_parts(name: str) -> tuple[str, list[str]] | None:
    """An output's symbol as (letter, subscripts): ``E_V_real`` -> ``("E", ["V", "real"])``,
    ``R_separator`` -> ``("R", ["sep"])``; None for a name that is not ``Letter_subscript``
    (a card path, ``porosity``)."""
    head, _, rest = name.partition("_")
    if not rest or len(head) != 1 or not head.isalpha() or "." in name:
        return None
    return head, [_SUBSCRIPTS.get(p, p) for p in rest.split("_")]


def symbol_text(name: str) -> str:
    """An output's symbol in plain text: ``E_V,real``, ``R_sep`` (the name itself otherwise)."""
    parts = symbol_parts(name)
    return name if parts is None else f"{parts[0]}_{','.join(parts[1])}"
