"""Scoring a candidate design: its posterior predictive over the calibrated draws.

Nothing is sampled per trial.  The card's inputs are drawn once (common random numbers), the
design's layers replace the card's, and the one cell model plus the risk forms are evaluated on
all draws at once: a few milliseconds per design.

A design is cycled at a C-rate of its own delivered capacity (default C/10) or at a fixed current
density.  Per draw, the pore liquid's limiting current sets the utilisation and the current
(:mod:`nassb.design.transport`); the risks are evaluated at that current, and the energy the
design delivers counts the ohmic drop there: E_V_rate = (U - j R_cell) C_delivered / stack
thickness, beside the paper's convention E_V_real = U C_delivered / stack thickness.
"""

from __future__ import annotations

import functools

import numpy as np

from ..inference import CellModel
from ..inference import cell as eq
from ..inference.cell import swelling
from ..inference.montecarlo import draw_inputs
from ..inference.risk import RiskModel
from ..inference.statistics import summarise_named
from ..priors import CardError, CellCard, OptionError
from . import readings, transport, variables
from .defaults import DEFAULT_C_RATE, rate_name

class DesignScorer:
    """Evaluates designs (dicts of design variables, canonical units) for one card.

    Parameters
    ----------
    card : CellCard
        Materials, uncertainties and the cell's utilisation at a slow rate come from it.
    risk : RiskModel
        Calibrated draws; their number sets the number of card draws.
    cycles : int
        Target number of cycles.
    c_rate : float, optional
        C-rate (1/h) of each design's own delivered capacity: the current follows per draw.
        Default 0.1 (C/10) when no ``current`` is given.
    current : float, optional
        A fixed cycling current density instead, mA/cm^2.
    seed : int
        Seed of the card's draws (common to every design).
    """

    def __init__(self, card: CellCard, risk: RiskModel, *, cycles: int, c_rate: float | None = None,
                 current: float | None = None, seed: int = 0):
        if c_rate is not None and current is not None:
            raise OptionError("give a C-rate or a current density, not both", field="c_rate")
        if current is None:
            c_rate = DEFAULT_C_RATE if c_rate is None else float(c_rate)
            if not (np.isfinite(c_rate) and c_rate > 0):
                raise OptionError(f"must be > 0, got {c_rate!r}", field="c_rate")
        elif not (np.isfinite(current) and current > 0):
            raise OptionError(f"must be > 0, got {current!r}", field="current")
        self.card, self.risk, self.cycles = card, risk, int(cycles)
        readings.know(risk)  # its readings computed when a design's limits are held under them
        # A card built on a selected shard (paper-cell-2) is scored as built, its designs too.
        self.selected_shard = card.separator.flag("selected_shard")
        self.c_rate: float | None = None if c_rate is None or current is not None else float(c_rate)
        self.current: float | None = None if current is None else float(current)
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
        # Delivered over theoretical capacity at the card's (slow) rate, against the nominal
        # theoretical capacity: the design sets its own capacity, so only the delivery's
        # uncertainty carries over.
        self.utilisation = (np.asarray(self.base["cathode.delivered_capacity"]) / float(y0["C_theo"])
                            if model.has_delivered else np.ones(n))
        self.solid_density = nominal[model.name_of("cathode", "density")]
        # Capacity per volume of cathode solid (mAh/cm^3), as the card's cathode has it.
        self.volumetric_capacity = float(eq.solid_volumetric_capacity(float(y0["C_theo"]), float(y0["porosity"]),
                                                                      nominal["cathode.thickness"]))
        self.swelling = swelling(self.base[model.name_of("anode", "density")],
                                 self.base[model.name_of("anode", "specific_capacity")])
        self.voltage = np.asarray(self.base["cell.voltage"], dtype=float)
        self.temperature = np.asarray(self.base["cell.temperature"], dtype=float)
        # Where the calibrated draws describe the pore liquid, the utilisation follows the
        # transport limit at the cycling current; otherwise it is the card's.
        self.transport = transport.has_transport(risk)
        self.transference = rng.uniform(*transport.TRANSFERENCE_RANGE, n) if self.transport else None

    @property
    def utilisation_note(self) -> str:
        """How the utilisation at the cycling current is obtained, in words."""
        card = f"{float(np.mean(self.utilisation)):.0%}"
        if self.transport:
            return (f"the card's utilisation ({card}), lowered where the pore liquid's limiting current "
                    "falls below the cycling current (transport model, design/transport.py)")
        return f"the card's utilisation ({card}) at every rate and thickness"

    @property
    def rate_text(self) -> str:
        """The cycling condition in words: ``C/10 of each design's own capacity`` or ``0.2 mA/cm²``."""
        if self.c_rate is None:
            return f"{self.current:.3g} mA/cm²"
        return f"{rate_name(self.c_rate)} of each design's own delivered capacity"

    def layers(self, design: dict) -> dict[str, float]:
        """The cathode thickness (um) that holds the design's capacity at its porosity."""
        return {"cathode.thickness": float(eq.cathode_thickness_for_capacity(
            design["cathode.theoretical_capacity"], design["cathode.porosity"], self.volumetric_capacity))}

    def limiting_current(self, thickness, porosity) -> np.ndarray:
        """Per-draw limiting current density (mA/cm^2) of the pore liquid; inf without a transport model."""
        if not self.transport:
            return np.full(self.risk.size, np.inf)
        d = self.risk.draws
        r_ion = transport.ionic_resistance(thickness, porosity, d["rate.liquid_conductivity"],
                                           d["rate.macmullin"], d["rate.bruggeman"])
        return transport.limiting_current(r_ion, self.transference, self.temperature)

    def score(self, design: dict) -> dict[str, np.ndarray]:
        """Per-draw energies, current, utilisation and risks of one design (variables by card path).

        Returns E_V_rate, E_m_rate (U - j R_cell), E_V_real, E_m_real (U), ``current``
        (mA/cm^2), ``utilisation`` and the risks.
        """
        model, d = self.model, design
        capacity, porosity = d["cathode.theoretical_capacity"], d["cathode.porosity"]
        x = dict(self.base)
        thickness = self.layers(d)["cathode.thickness"]
        x["cathode.thickness"] = thickness * self.cat_noise
        x["separator.thickness"] = d["separator.thickness"] * self.sep_noise
        x["anode.reservoir_thickness"] = d["anode.reservoir_thickness"]
        drawn_porosity = porosity
        loading = 1.0
        if model.derived_porosity or model.derived_capacity:
            # The design's loading, with the card's loading uncertainty (a weighed quantity).
            loading = eq.loading_for_porosity(porosity, self.solid_density, thickness)
            x["cathode.loading"] = loading * self.loading_noise
            if model.derived_porosity:
                drawn_porosity = eq.derived_porosity(x["cathode.loading"], x[model.name_of("cathode", "density")],
                                                     x["cathode.thickness"])
        if not model.derived_porosity:
            x["cathode.porosity"] = porosity
        j_lim = self.limiting_current(x["cathode.thickness"], drawn_porosity)
        current, utilisation = transport.at_rate(capacity, self.utilisation, j_lim, c_rate=self.c_rate,
                                                 current=self.current)
        delivered = capacity * utilisation
        # The cell equations see the delivered capacity; a card without one describes a cell
        # that delivers its theoretical capacity, so that capacity stands for the delivered one.
        held = capacity if model.has_delivered else delivered
        if model.derived_capacity:
            x["cathode.active_fraction"] = 1.0
            x[model.name_of("cathode", "specific_capacity")] = eq.specific_capacity_for(held, loading)
        else:
            x["cathode.theoretical_capacity"] = held
        if model.has_delivered:
            x["cathode.delivered_capacity"] = delivered
        for variable in variables.generic():  # the declared variables beyond the five above
            variable.set(x, d[variable.name])
        y = model.evaluate(x)
        state = "real" if model.has_delivered else "theo"
        risk = self.risk.score(
            pressure=d["cell.pressure"], separator_thickness=x["separator.thickness"], area=self.area,
            current=current, cycles=float(self.cycles), reservoir_thickness=d["anode.reservoir_thickness"],
            swelling=self.swelling, capacity=delivered, cathode_thickness=x["cathode.thickness"],
            porosity=y["porosity"], r_separator=y["R_separator"], r_interface=y["R_interface"],
            selected_shard=self.selected_shard)
        # The voltage the cell keeps at the cycling current: U - j R_cell (never below zero).
        kept = np.maximum(self.voltage - eq.ohmic_drop(current, risk.R_cell), 0.0) / self.voltage
        n = self.risk.size
        # Without a delivered capacity the theoretical one is what the design delivers; the
        # quantities keep the names of propagate's delivered state.
        e_v, e_m = y[f"E_V_{state}"], y[f"E_m_{state}"]
        out = {"E_V_rate": e_v * kept, "E_m_rate": e_m * kept, "E_V_real": e_v, "E_m_real": e_m,
               "current": current, "utilisation": utilisation, **risk.as_dict()}
        return {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in out.items()}

    def design_of_card(self, card: CellCard) -> dict:
        """A card's own cell as a design (for scoring the paper's cells on the same footing)."""
        model = CellModel(card)
        nominal = model.nominal()
        y = model.evaluate(nominal)
        if card.cell.get("pressure") is None:
            raise CardError("missing, needed to score the card as a design", file=card.origin, field="cell.pressure")
        return {name: v.card_value(card, nominal, y) for name, v in variables.VARIABLES.items()}


# Quantities of a design that the vocabulary does not list (they are conditions, not outputs).
UNITS = {"current": "mA/cm^2"}


@functools.lru_cache(maxsize=1)
def _resistance_scatter() -> float:
    from ..priors.risk import load_nuisances

    return float(load_nuisances()["resistance_scatter"].value)


def built_interval(r_cell: np.ndarray, copies: int = 4) -> list[float]:
    """The 95 % interval of the resistance one built cell of a design will have: the posterior
    draws of the design's R_cell times the cell-to-cell scatter of cells built alike (log-normal,
    sd of ln R from ``[nuisance.resistance_scatter]`` of priors/data/risk.toml, the scatter the
    risk models' likelihood gives a measured cell).  The posterior ``ci95`` is of the design's
    resistance and is not meant to hold 95 % of the cells built to it; this one is.  Seeded, so
    the same draws give the same interval."""
    r = np.repeat(np.asarray(r_cell, float).ravel(), copies)
    z = np.random.default_rng(20261207).standard_normal(r.size)
    built = r * np.exp(_resistance_scatter() * z)
    return [float(np.quantile(built, 0.025)), float(np.quantile(built, 0.975))]


def summarise(values: dict[str, np.ndarray]) -> dict[str, dict]:
    """The summary of each per-draw quantity of a design (units from the vocabulary)."""
    return {name: summarise_named(name, v, UNITS.get(name)) for name, v in values.items()}
