"""Scoring a candidate design: its posterior predictive over the calibrated draws.

Nothing is sampled per trial.  The card's inputs are drawn once (common random numbers), the
design's layers replace the card's, and the one cell model plus the risk forms are evaluated on
all draws at once: a few milliseconds per design.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inference import CellModel
from ..inference import cell as eq
from ..inference.cell import swelling
from ..inference.montecarlo import draw_inputs
from ..inference.risk import RiskModel
from ..inference.statistics import summarise_named
from ..priors import CardError, CellCard

# What the objective option names, and the quantity it means (delivered capacity, the paper's
# convention for the voltage).
OBJECTIVE_QUANTITY = {"E_V": "E_V_real", "E_m": "E_m_real"}


@dataclass(frozen=True)
class Limits:
    """The constraints a design must meet (means over the posterior)."""

    max_fracture: float = 0.1
    max_short: float = 0.2
    max_drop: float = 0.1       # V at the target current
    min_retention: float = 0.8  # after the target cycles

    def violations(self, means: dict[str, float]) -> dict[str, float]:
        """Constraint values in Optuna's convention (<= 0 is feasible), relative to each limit so
        that a probability and a voltage weigh alike when the sampler ranks infeasible trials."""
        def rel(excess: float, scale: float) -> float:
            return excess / max(scale, 1e-9)

        return {
            "P_fracture": rel(means["P_fracture"] - self.max_fracture, self.max_fracture),
            "P_short": rel(means["P_short"] - self.max_short, self.max_short),
            "ohmic_drop": rel(means["ohmic_drop"] - self.max_drop, self.max_drop),
            "retention": rel(self.min_retention - means["retention"], 1.0 - self.min_retention),
        }

    def active(self, means: dict[str, float], margin: float = 0.2) -> list[str]:
        """Constraints within ``margin`` (relative) of their limit: what limits the design."""
        return [name for name, v in self.violations(means).items() if v > -margin]


class DesignScorer:
    """Evaluates designs (dicts of design variables, canonical units) for one card.

    Parameters
    ----------
    card : CellCard
        Materials, uncertainties and the cell's utilisation come from it.
    risk : RiskModel
        Calibrated draws; their number sets the number of card draws.
    current : float
        Target current density, mA/cm^2.
    cycles : int
        Target number of cycles.
    seed : int
        Seed of the card's draws (common to every design).
    """

    def __init__(self, card: CellCard, risk: RiskModel, *, current: float, cycles: int, seed: int = 0):
        self.card, self.risk, self.current, self.cycles = card, risk, float(current), int(cycles)
        if card.cell.get("area") is None:
            raise CardError("missing, needed for the fracture size effect", file=card.origin, field="cell.area")
        model = self.model = CellModel(card)
        if model.measured_anode:
            raise CardError("a measured charged_thickness fixes the anode; the design search needs "
                            "reservoir_thickness instead (set charged_thickness = false)",
                            file=card.origin, field="anode.charged_thickness")
        if "R_separator" not in model.outputs or "R_interface" not in model.outputs:
            raise CardError("the separator material needs conductivity and interface_resistance",
                            file=card.origin, field=f"materials.{card.separator.material.name}")
        rng = np.random.default_rng(seed)
        n = risk.size
        self.base = draw_inputs(model, rng, n)
        nominal = model.nominal()
        y0 = model.evaluate(nominal)
        self.area = card.cell["area"].sample(rng, n)
        # Manufacturing tolerances carried over from the card: its own draws of each layer,
        # relative to the layer's nominal value (they respect the card's bounds and shapes).
        self.sep_noise = np.asarray(self.base["separator.thickness"]) / nominal["separator.thickness"]
        self.cat_noise = np.asarray(self.base["cathode.thickness"]) / nominal["cathode.thickness"]
        self.loading_noise = (np.asarray(self.base["cathode.loading"]) / nominal["cathode.loading"]
                              if "cathode.loading" in self.base else 1.0)
        # Delivered over theoretical capacity, against the nominal theoretical capacity: the
        # design sets its own capacity, so only the delivery's uncertainty carries over.
        self.utilisation = (np.asarray(self.base["cathode.delivered_capacity"]) / float(y0["C_theo"])
                            if model.has_delivered else 1.0)
        self.solid_density = nominal[model.name_of("cathode", "density")]
        # Capacity per volume of cathode solid (mAh/cm^3), as the card's cathode has it.
        self.volumetric_capacity = float(eq.solid_volumetric_capacity(float(y0["C_theo"]), float(y0["porosity"]),
                                                                      nominal["cathode.thickness"]))
        self.swelling = swelling(self.base[model.name_of("anode", "density")],
                                 self.base[model.name_of("anode", "specific_capacity")])

    def layers(self, design: dict) -> dict[str, float]:
        """The cathode thickness (um) that holds the design's capacity at its porosity."""
        return {"cathode.thickness": float(eq.cathode_thickness_for_capacity(
            design["cathode.theoretical_capacity"], design["cathode.porosity"], self.volumetric_capacity))}

    def score(self, design: dict) -> dict[str, np.ndarray]:
        """Per-draw E_V, E_m (delivered capacity) and the risks of one design (variables by card path)."""
        model, d = self.model, design
        capacity, porosity = d["cathode.theoretical_capacity"], d["cathode.porosity"]
        x = dict(self.base)
        thickness = self.layers(d)["cathode.thickness"]
        x["cathode.thickness"] = thickness * self.cat_noise
        x["separator.thickness"] = d["separator.thickness"] * self.sep_noise
        x["anode.reservoir_thickness"] = d["anode.reservoir_thickness"]
        if model.derived_porosity or model.derived_capacity:
            # The design's loading, with the card's loading uncertainty (a weighed quantity).
            loading = eq.loading_for_porosity(porosity, self.solid_density, thickness)
            x["cathode.loading"] = loading * self.loading_noise
            if model.derived_capacity:
                x["cathode.active_fraction"] = 1.0
                x[model.name_of("cathode", "specific_capacity")] = eq.specific_capacity_for(capacity, loading)
        if not model.derived_porosity:
            x["cathode.porosity"] = porosity
        if not model.derived_capacity:
            x["cathode.theoretical_capacity"] = capacity
        delivered = capacity * self.utilisation
        if model.has_delivered:
            x["cathode.delivered_capacity"] = delivered
        y = model.evaluate(x)
        state = "real" if model.has_delivered else "theo"
        risk = self.risk.score(
            pressure=d["cell.pressure"], separator_thickness=x["separator.thickness"], area=self.area,
            current=self.current, cycles=float(self.cycles), reservoir_thickness=d["anode.reservoir_thickness"],
            swelling=self.swelling, capacity=delivered, cathode_thickness=x["cathode.thickness"],
            porosity=y["porosity"], r_separator=y["R_separator"], r_interface=y["R_interface"])
        n = self.risk.size
        # The names are those of propagate; without a delivered capacity the theoretical one is
        # what the design delivers, and the quantity keeps the name the objective looks for.
        out = {"E_V_real": y[f"E_V_{state}"], "E_m_real": y[f"E_m_{state}"], **risk.as_dict()}
        return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in out.items()}

    def design_of_card(self, card: CellCard) -> dict:
        """A card's own cell as a design (for scoring the paper's cells on the same footing)."""
        model = CellModel(card)
        nominal = model.nominal()
        y = model.evaluate(nominal)
        if card.cell.get("pressure") is None:
            raise CardError("missing, needed to score the card as a design", file=card.origin, field="cell.pressure")
        return {"cathode.theoretical_capacity": float(y["C_theo"]), "cathode.porosity": float(y["porosity"]),
                "separator.thickness": nominal["separator.thickness"],
                "anode.reservoir_thickness": nominal["anode.reservoir_thickness"],
                "cell.pressure": card.cell["pressure"].value}


def summarise(values: dict[str, np.ndarray]) -> dict[str, dict]:
    """The summary of each per-draw quantity of a design (units from the vocabulary)."""
    return {name: summarise_named(name, v) for name, v in values.items()}
