"""A card's cell as a function: named uncertain inputs -> named outputs.

:class:`CellModel` reads which inputs a card gives (porosity or loading, reservoir or measured
charged thickness, resistances or not) once; :meth:`CellModel.evaluate` then applies the stack
equations of :mod:`nassb.inference.cell` to whatever the inputs are: floats, numpy arrays of
Monte Carlo draws, complex-step perturbations, or PyTensor tensors.  gum, mc and bayes all call
this one function.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..priors import CellCard, FieldSpec, Measured
from ..priors.fields import ENERGY
from ..priors.vocabulary import OUTPUTS as VOCABULARY_OUTPUTS
from . import cell as eq

# The outputs of the cell equations: name -> (unit, description), from the one vocabulary
# (less those computed elsewhere: the Coulombic efficiency of cycling data, and the energies at
# a cycling current, which need the cell resistance of the rate model).
OUTPUTS = {name: (t.unit, t.description or t.label) for name, t in VOCABULARY_OUTPUTS.items()
           if name not in ("coulombic_efficiency", "E_V_rate", "E_m_rate")}


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

    def __init__(self, card: CellCard):
        self.card = card
        self.inputs: dict[str, Measured] = {}
        anode, sep, cat = card.anode, card.separator, card.cathode

        self._add("cell.voltage", card.cell["voltage"])
        self._add("cell.temperature", card.cell["temperature"])

        self.measured_anode = anode.get("charged_thickness") is not None
        self.has_delivered = cat.get("delivered_capacity") is not None
        self.derived_porosity = cat.get("porosity") is None
        self.derived_capacity = cat.get("theoretical_capacity") is None

        if self.measured_anode:
            self._add("anode.charged_thickness", anode.get("charged_thickness"))
        else:
            self._add("anode.reservoir_thickness", anode.get("reservoir_thickness"))
            spread = anode.get("plating_uncertainty")
            if spread is not None and spread.value > 0:
                # A zero-mean deviation of the plated layer, so it appears in the budget.
                self._add("anode.plating", Measured(0.0, spread.value, "um", "normal",
                                                    bounds=FieldSpec("um"), source=spread.source))
        self._material("anode", "density")
        if not self.measured_anode or self.has_delivered:
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

        material = sep.material
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

        self.outputs = {name: unit for name, (unit, _) in OUTPUTS.items() if self._supports(name)}

    def _add(self, name: str, prior: Measured) -> None:
        self.inputs.setdefault(name, prior)

    def _material(self, role: str, key: str, default: float | None = None) -> None:
        material = getattr(self.card, role).material
        prior = material.get(key)
        if prior is None:
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

    def evaluate(self, x: Mapping[str, object], xp=np) -> dict[str, object]:
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
        out: dict[str, object] = {}
        for state, capacity in capacities.items():
            d_anode = self._anode_thickness(x, capacity, capacities)
            mass = eq.stack_mass(x[m("anode", "density")], d_anode,
                                 x[m("separator", "density")], x["separator.thickness"],
                                 x[m("cathode", "density")], x["cathode.thickness"], porosity, liquid)
            voltage = x["cell.voltage"]
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
