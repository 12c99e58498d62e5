"""A card's cell as a function: named uncertain inputs -> named outputs.

:class:`CellModel` reads which inputs a card gives (porosity or loading, reservoir or measured
charged thickness, resistances or not) once; :meth:`CellModel.evaluate` then applies the stack
equations of :mod:`nassb.inference.cell` to whatever the inputs are: floats, numpy arrays of
Monte Carlo draws, complex-step perturbations, or PyTensor tensors.  gum, mc and bayes all call
this one function.

Conventions.  By default the model is the paper's: the energy is U C with U the plateau voltage,
and Eq. 5 weighs the charged stack as the paper does, the plated metal in the anode while the
cathode keeps its discharged mass (the metal counted twice).  ``convention="mass-conserving"``
takes the plated metal out of the cathode; a ``current`` gives the energy at U - j R with the
cell's measured area resistance R.  :meth:`CellModel.conventions` names what was used.
"""

from __future__ import annotations

import math

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..priors import CardError, CellCard, FieldSpec, Measured, OptionError
from ..priors.fields import AREA_RESISTANCE, ENERGY
from ..priors.vocabulary import OUTPUTS as VOCABULARY_OUTPUTS
from . import cell as eq

# The outputs of the cell equations: name -> (unit, description), from the one vocabulary
# (less those computed elsewhere: the Coulombic efficiency of cycling data, and the energies at
# a cycling current, which need the cell resistance of the rate model).
OUTPUTS = {name: (t.unit, t.description or t.label) for name, t in VOCABULARY_OUTPUTS.items()
           if name not in ("coulombic_efficiency", "E_V_rate", "E_m_rate")}

CONVENTIONS = ("paper", "mass-conserving")
"""``paper``: Eq. 5 as published (the plated metal in the anode, the cathode at its discharged
mass); ``mass-conserving``: the charged cathode has lost the metal plated on the anode."""

# The plated layer cannot be thinner than nothing: its relative deviation is at least -1.
PLATING_DEVIATION = FieldSpec("", -1.0, float("inf"), words="a relative deviation")


class CellModel:
    """The cell of one card as a function of its inputs.

    Parameters
    ----------
    card : CellCard
        A validated card (:func:`nassb.priors.load_card`).

    Attributes
    ----------
    inputs : dict[str, Measured]
        Every quantity the equations use, uncertain or fixed, by name.
    outputs : dict[str, str]
        Output name -> unit, for the outputs this card supports.
    """

    def __init__(self, card: CellCard, *, convention: str = "paper", current: float | None = None,
                 resistance: Measured | None = None):
        if convention not in CONVENTIONS:
            raise OptionError(f"'{convention}' is not a supported convention; must be one of "
                              f"{', '.join(CONVENTIONS)}", field="convention")
        self.card = card
        self.convention = convention
        self.inputs: dict[str, Measured] = {}
        anode, sep, cat = card.anode, card.separator, card.cathode

        self._add("cell.voltage", card.cell["voltage"])
        self._add("cell.temperature", card.cell["temperature"])
        self.current = None if current is None else float(current)
        if self.current is not None:
            self._add("cell.resistance", self._cell_resistance(resistance))

        self.measured_anode = anode.get("charged_thickness") is not None
        self.has_delivered = cat.get("delivered_capacity") is not None
        self.derived_porosity = cat.get("porosity") is None
        self.derived_capacity = cat.get("theoretical_capacity") is None

        self.plating: dict | None = None
        if self.measured_anode:
            self._add("anode.charged_thickness", anode.get("charged_thickness"))
        else:
            self._add("anode.reservoir_thickness", anode.get("reservoir_thickness"))
            self._add_plating(anode.get("plating_uncertainty"))
        self._material("anode", "density")
        if not self.measured_anode or self.has_delivered or convention == "mass-conserving":
            self._material("anode", "specific_capacity")

        self._add("separator.thickness", sep.get("thickness"))
        self._material("separator", "density")

        self._add("cathode.thickness", cat.get("thickness"))
        self._material("cathode", "density")
        if self.derived_porosity:
            self._add("cathode.loading", cat.get("loading"))
        else:
            self._add("cathode.porosity", cat.get("porosity"))
        if self.derived_capacity:
            self._add("cathode.loading", cat.get("loading"))
            self._add("cathode.active_fraction", cat.get("active_fraction"))
            self._material("cathode", "specific_capacity")
        else:
            self._add("cathode.theoretical_capacity", cat.get("theoretical_capacity"))
        if self.has_delivered:
            self._add("cathode.delivered_capacity", cat.get("delivered_capacity"))
        self.electrolyte = card.electrolyte
        if self.electrolyte is not None:
            self._add(f"{self.electrolyte.name}.density", self.electrolyte.get("density"))

        self._add_separator_material(sep.material)

        self.outputs = {name: unit for name, (unit, _) in OUTPUTS.items() if self._supports(name)}

    def _add_plating(self, spread: Measured | None) -> None:
        """The plated layer's relative deviation, an input of its own where the card gives a
        plating uncertainty."""
        if spread is not None and spread.value > 0:
            # A zero-mean relative deviation of the plated layer (it appears in the budget):
            # the card's uncertainty at its own plated thickness, so a cell that plates
            # more or less metal (another capacity, no reservoir) scales it.
            plated = self._nominal_plated_thickness()
            if not (plated > 0 and math.isfinite(spread.value / plated)):
                raise CardError(f"the plating uncertainty ({spread.value:g} um) is relative to the plated "
                                f"layer, and this card plates {plated:.3g} um: set plating_uncertainty = "
                                "false or give a capacity that plates metal", file=self.card.origin,
                                field="anode.plating_uncertainty")
            relative = spread.value / plated
            self.plating = {"relative": relative, "uncertainty": spread.value, "plated": plated}
            self._add("anode.plating", Measured(0.0, relative, "1", "normal", bounds=PLATING_DEVIATION,
                                                source=f"{spread.value:g} µm over the plated {plated:.3g} µm; "
                                                       f"{spread.source}".rstrip("; ")))

    def _add_separator_material(self, material) -> None:
        """The separator material's conductivity and interface resistance, with their
        activation energies and reference temperature, where the card gives them."""
        self.has_conductivity = material.get("conductivity") is not None
        self.has_interface = material.get("interface_resistance") is not None
        # Without a reference temperature the values were measured at the cell temperature:
        # the reference is then that same input, not a second draw of it.
        self.reference = "cell.temperature"
        if material.get("reference_temperature") is not None and (self.has_conductivity or self.has_interface):
            self.reference = f"{material.name}.reference_temperature"
            self._add(self.reference, material.get("reference_temperature"))
        if self.has_conductivity:
            self._material("separator", "conductivity")
            self._material("separator", "activation_energy", default=0.0)
        if self.has_interface:
            self._material("separator", "interface_resistance")
            self._material("separator", "interface_activation_energy", default=0.0)

    def _add(self, name: str, prior: Measured | None) -> None:
        if prior is None:  # the card's checks (priors.card) give every input the equations use
            raise CardError("missing, needed by the cell equations", field=name)
        self.inputs.setdefault(name, prior)

    def _cell_resistance(self, given: Measured | None) -> Measured:
        """The cell's measured area resistance for U - j R: given, or the card's [cell] resistance."""
        prior = given if given is not None else self.card.cell.get("resistance")
        if prior is None:
            raise OptionError("an energy at a current needs the cell's measured area resistance (ohm*cm^2, "
                              "e.g. from the DC polarisation or the impedance of this cell): give it, or "
                              "[cell] resistance on the card; the separator and interface alone are not a "
                              "cell's resistance", field="resistance")
        if not AREA_RESISTANCE.admits(prior.value):
            raise OptionError(f"must {AREA_RESISTANCE.describe_bounds()}, got {prior.value:g}", field="resistance")
        return prior

    def _nominal_plated_thickness(self) -> float:
        """Plated metal (um) at the card's delivered capacity (else theoretical), inputs at their means."""
        anode, cat = self.card.anode, self.card.cathode

        def mean(q: Measured | None) -> float:
            if q is None:  # the card's checks guarantee what a reservoir anode needs
                raise CardError("missing, needed for the plated layer", file=self.card.origin, field="anode")
            return q.moments()[0]

        s = eq.swelling(mean(anode.material.get("density")), mean(anode.material.get("specific_capacity")))
        if cat.get("delivered_capacity") is not None:
            capacity = mean(cat.get("delivered_capacity"))
        elif cat.get("theoretical_capacity") is not None:
            capacity = mean(cat.get("theoretical_capacity"))
        else:
            capacity = eq.capacity_from_loading(mean(cat.get("loading")), mean(cat.get("active_fraction")),
                                                mean(cat.material.get("specific_capacity")))
        return float(s * capacity)

    def conventions(self) -> dict:
        """The conventions this model computes with, each named (the JSON ``conventions``).

        ``convention`` (paper or mass-conserving), ``voltage`` (``plateau`` or ``U - jR``) with the
        current and resistance, ``mass``, ``plating`` (the relative spread of the plated layer) and
        ``text``: the one line a table prints.
        """
        voltage = self.inputs["cell.voltage"]
        metal = self.card.anode.material.name
        out: dict = {"convention": self.convention}
        if self.current is None:
            out["voltage"] = "plateau"
            voltage_text = f"U = {voltage.value:g} V plateau"
        else:
            r = self.inputs["cell.resistance"]
            out["voltage"] = "U - jR"
            out["current"] = {"value": self.current, "unit": "mA/cm^2"}
            out["resistance"] = {"value": r.value, "sd": r.sd, "unit": "ohm*cm^2", "source": r.source}
            drop = eq.ohmic_drop(self.current, r.value)
            voltage_text = (f"U - jR = {voltage.value:g} V - {self.current:.3g} mA/cm^2 x {r} = "
                            f"{voltage.value - drop:.3g} V")
        out["voltage_text"] = voltage_text
        if self.convention == "paper":
            out["mass"] = f"plated {metal} counted in the anode and the cathode (Eq. 5 as published)"
        else:
            out["mass"] = f"the charged cathode has lost the {metal} plated on the anode (mass conserved)"
        if self.plating is not None:
            p = self.plating
            out["plating"] = {"relative": p["relative"],
                              "text": f"plated layer ± {100 * p['relative']:.3g} % of its thickness "
                                      f"({p['uncertainty']:g} µm at the card's plated {p['plated']:.3g} µm)"}
        out["text"] = f"{self.convention} convention: {voltage_text}; {out['mass']}"
        return out

    def _material(self, role: str, key: str, default: float | None = None) -> None:
        material = getattr(self.card, role).material
        prior = material.get(key)
        if prior is None and default is not None:
            prior = Measured(default, unit="eV", bounds=ENERGY, source="not given: no temperature dependence")
        self._add(f"{material.name}.{key}", prior)

    def _supports(self, name: str) -> bool:
        if name.endswith("_real") or name == "utilisation":
            return self.has_delivered
        if name == "R_separator":
            return self.has_conductivity
        if name == "R_interface":
            return self.has_interface
        return True

    def name_of(self, role: str, key: str) -> str:
        """Input name of a material quantity of a layer (``"nzsp-tape.density"``)."""
        return f"{getattr(self.card, role).material.name}.{key}"

    @property
    def uncertain(self) -> list[str]:
        """Names of the inputs that carry an uncertainty, in card order."""
        return [name for name, prior in self.inputs.items() if prior.uncertain]

    def nominal(self) -> dict[str, float]:
        """Each input at the mean of its distribution."""
        return {name: prior.moments()[0] for name, prior in self.inputs.items()}

    def singularities(self) -> dict[str, str]:
        """Outputs whose variance does not exist, with the reason: an input whose distribution
        keeps a density at 0 (a normal or uniform reaching its physical bound) where the output
        grows without bound, y ~ x^-a with a >= 1/2 (a >= 1: no mean either).

        Found by evaluating the equations at 1e-6 and 1e-8 of the input's nominal value, the
        other inputs nominal.  A lognormal input has no density at 0 and no such tail.
        """
        nominal = self.nominal()
        out: dict[str, str] = {}
        for name in self.uncertain:
            prior = self.inputs[name]
            lo, _ = prior.truncation()
            reaches_zero = (prior.dist == "uniform" and prior.low <= 0.0) or (
                prior.dist in ("normal", "truncnormal") and lo == 0.0 and prior.mass_outside() > 0.0)
            x0 = nominal[name]
            if not reaches_zero or not x0 > 0:
                continue
            with np.errstate(all="ignore"):
                near = [self.evaluate({**nominal, name: x0 * eps}) for eps in (1e-6, 1e-8)]
            for output in self.outputs:
                y1, y2 = (abs(float(np.asarray(v[output]))) for v in near)
                if not (np.isfinite(y1) and y1 > 0) or output in out:
                    continue
                exponent = np.log(y2 / y1) / np.log(100.0) if np.isfinite(y2) else np.inf
                if exponent >= 0.45:
                    moment = "the mean and the variance do" if exponent >= 0.95 else "the variance does"
                    out[output] = (f"heavy tail from {name}: its {prior.dist} distribution reaches 0, where {output} "
                                   f"grows as {name}^-{min(exponent, 9.9):.2g}, so {moment} not exist (the "
                                   f"intervals do); a lognormal {name} has a finite sd")
        return out

    def evaluate(self, x: Mapping[str, Any], xp=np) -> dict[str, Any]:
        """Evaluate every output for inputs ``x`` (name -> float, array or tensor).

        ``xp`` supplies ``exp``: ``numpy`` (default) or ``pytensor.tensor``.
        """
        m = self.name_of
        temperature = x["cell.temperature"]
        c_theo = (eq.capacity_from_loading(x["cathode.loading"], x["cathode.active_fraction"],
                                           x[m("cathode", "specific_capacity")])
                  if self.derived_capacity else x["cathode.theoretical_capacity"])
        porosity = (eq.derived_porosity(x["cathode.loading"], x[m("cathode", "density")],
                                        x["cathode.thickness"])
                    if self.derived_porosity else x["cathode.porosity"])
        liquid = x[f"{self.electrolyte.name}.density"] if self.electrolyte is not None else 0.0

        capacities = {"theo": c_theo}
        if self.has_delivered:
            capacities["real"] = x["cathode.delivered_capacity"]
        out: dict[str, Any] = {}  # floats, arrays or tensors, as the inputs are
        voltage = x["cell.voltage"]
        if self.current is not None:
            voltage = eq.voltage_at_current(voltage, self.current, x["cell.resistance"])
        for state, capacity in capacities.items():
            d_anode = self._anode_thickness(x, capacity, capacities)
            mass = eq.stack_mass(x[m("anode", "density")], d_anode,
                                 x[m("separator", "density")], x["separator.thickness"],
                                 x[m("cathode", "density")], x["cathode.thickness"], porosity, liquid)
            if self.convention == "mass-conserving":
                mass = mass - eq.plated_mass(capacity, x[m("anode", "specific_capacity")])
            out[f"E_V_{state}"] = eq.volumetric_energy(voltage, capacity, d_anode,
                                                        x["separator.thickness"], x["cathode.thickness"])
            out[f"E_m_{state}"] = eq.gravimetric_energy(voltage, capacity, mass)
            out[f"d_anode_{state}"] = d_anode
        out["porosity"] = porosity
        out["C_theo"] = c_theo
        if self.has_delivered:
            out["utilisation"] = capacities["real"] / c_theo

        sep = self.card.separator.material.name
        if self.has_conductivity:
            out["R_separator"] = eq.separator_resistance(
                x["separator.thickness"], x[f"{sep}.conductivity"], x[f"{sep}.activation_energy"],
                temperature, x[self.reference], xp)
        if self.has_interface:
            out["R_interface"] = eq.interface_resistance(
                x[f"{sep}.interface_resistance"], x[f"{sep}.interface_activation_energy"],
                temperature, x[self.reference], xp)
        return {name: out[name] for name in self.outputs}

    def _anode_thickness(self, x, capacity, capacities):
        if self.measured_anode:
            if not self.has_delivered:
                return x["anode.charged_thickness"]
            s = eq.swelling(x[self.name_of("anode", "density")], x[self.name_of("anode", "specific_capacity")])
            return x["anode.charged_thickness"] + s * (capacity - capacities["real"])
        s = eq.swelling(x[self.name_of("anode", "density")], x[self.name_of("anode", "specific_capacity")])
        plating = x.get("anode.plating", 0.0)
        return eq.charged_anode_thickness(x["anode.reservoir_thickness"], s, capacity, plating)
