"""SYNTHETIC true labs whose laws differ in form from nassb's risk and resistance models.

A campaign tried against labs whose laws are the shipped forms (tests/design/test_campaign_simulated.py)
only learns parameters.  The labs here build cells by other laws, each written from the seed paper
and general battery physics and consistent with what the paper reports (:func:`paper_check`):

* :class:`ExponentialCurrentLab`: the short-circuit hazard of a cycle grows exponentially with the
  current; pressure helps and saturates; the separator cracks above a threshold pressure that
  grows with the square of its thickness (a logistic step, plus a floor of assembly defects); the
  cathode's ionic path falls with porosity as P^-3 (steeper than Bruggeman) and the cell is about
  half as resistive as the shipped model's median.
* :class:`PressureOptimumLab`: the short follows the cumulative charge (weighted exponentially by
  the current) with a pressure optimum (voids below it, creeping sodium above); fracture is a
  Weibull law with a threshold stress; the cathode's resistance grows past a knee thickness and
  formation at low pressure adds a resistance that fades exponentially with pressure; the
  utilisation falls linearly past a thickness that shrinks with the porosity.
* :class:`ReservoirThresholdLab`: the hazard of a cycle is a logistic step in the current whose
  critical current grows linearly with the separator's thickness and collapses below a sodium
  reservoir of a few micrometres (voids run away); a hard pressure threshold cracks separators;
  the cathode's electronic path percolates (it fails as the solid fraction nears 0.25).
* :class:`WearOutLab`: the hazard grows exponentially with the cycle number (Gompertz wear-out),
  the critical current is linear in the separator's thickness and in the logarithm of pressure;
  fracture is a Weibull law in p (110 um / t)^2 with a defect floor; the cathode's ionic
  resistance grows with the square of its thickness; the utilisation falls with current x
  thickness^2.

Every lab shares the card's materials (voltage, densities, the separator's conductivity and its
interfaces): the energy bookkeeping is nassb's cell model (:class:`nassb.design.score.DesignScorer`,
with the lab's utilisation), so the objective is the quantity the campaign maximises.  Cell-to-cell
scatter of the short circuit is a gamma frailty (variance ``frailty``): a lab's P(short) is
1 - (1 + v H)^(-1/v) for the cumulative hazard H.  Each lab draws its parameters from ``seed``
within ranges that keep it consistent with the paper.

Campaigns against them, a random baseline and the true optimum: tests/design/simlab.py.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import NamedTuple

import numpy as np

from nassb.design.decision import Decision
from nassb.design.study import objective_value

DRAWS = 200
"""Manufacturing draws of the card (layers' tolerances, materials) a lab's truth is averaged over."""
FORMATION = 4
"""Cycles of formation: a cell that shorted within them has no resistance after formation."""
_SCORERS: dict = {}


class Truth(NamedTuple):
    """What a design truly is in a lab: the objective as the campaign defines it, whether it meets
    the decision's limits with the true probabilities, and the true risks (means over the card's
    manufacturing spread)."""

    value: float
    feasible: bool
    p_fracture: float
    p_short: float
    r_cell: float


class Built(NamedTuple):
    """One cell as a lab built it: the [cells.outcome] and [cells.cathode] tables and what it truly was."""

    outcome: str
    cathode: str
    cracked: bool
    shorted: bool | None      # None for a cracked cell (never cycled)
    r_cell: float             # ohm cm^2, this cell's own (before the measurement's noise)
    energy: float             # the objective's quantity of this cell (E_V_rate or E_m_rate)
    p_fracture: float         # the design's true probabilities
    p_short: float


def _smooth_min(x, scale, sharpness=4.0):
    """min(1, scale / x) smoothed, 1 / (1 + (x / scale)^s)^(1/s): about 1 below ``scale``, about
    scale / x above it."""
    return 1.0 / (1.0 + (np.asarray(x) / scale) ** sharpness) ** (1.0 / sharpness)


class TrueLab:
    """A SYNTHETIC lab: its laws (the methods below, vectorised over arrays) and what it builds.

    Units: pressure MPa, thickness um, area cm^2, current mA/cm^2, capacity mAh/cm^2, resistance
    ohm cm^2.
    """

    name = "lab"

    def __init__(self, seed: int, card="paper-cell-1"):
        self.seed = seed
        self.card = card
        rng = np.random.default_rng(seed)
        self.theta: dict[str, float] = {
            "first_loss": rng.uniform(0.035, 0.06), "loss": rng.uniform(0.001, 0.004),
            "fade": rng.uniform(0.0002, 0.0008), "frailty": rng.uniform(0.6, 1.4)}
        self.theta.update(self.draw(rng))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed})"

    # -- the laws (a lab overrides them) ---------------------------------------------------------
    def draw(self, rng: np.random.Generator) -> dict[str, float]:
        raise NotImplementedError

    def fracture(self, pressure, thickness, area, selected=False):
        """P(the separator cracks at assembly)."""
        raise NotImplementedError

    def short_hazard(self, currents, pressure, thickness, reservoir, capacity):
        """Cumulative short-circuit hazard after each cycle of ``currents`` (last axis: cycles)."""
        raise NotImplementedError

    def cathode_resistance(self, thickness, porosity, pressure):
        """The cathode's, its contacts' and formation's area resistance after formation."""
        raise NotImplementedError

    def utilisation(self, thickness, porosity, current):
        """Delivered over theoretical capacity: the lab's ``u_max`` at a slow rate, less where the
        pore liquid cannot reach the whole thickness (a penetration depth shrinking with current
        and porosity)."""
        t = self.theta
        depth = t["u_depth"] * (porosity / 0.63) ** 1.5 * np.sqrt(0.2 / np.asarray(current))
        return t["u_max"] * _smooth_min(thickness, depth)

    def retention(self, cycles, capacity, reservoir_capacity):
        from nassb.inference.risk import forms

        t = self.theta
        return forms.retention(cycles, t["loss"], capacity, reservoir_capacity, t["first_loss"], t["fade"])

    # -- built on the laws ---------------------------------------------------------------------
    def p_short(self, hazard):
        """P(short) of a cumulative hazard, the cells' gamma frailty marginalised."""
        v = self.theta["frailty"]
        return 1.0 - (1.0 + v * np.asarray(hazard)) ** (-1.0 / v)

    def _scorer(self, decision: Decision):
        """The card's bookkeeping for the decision's cycling (shared by every lab of the card)."""
        key = (str(self.card), decision.operating)
        if key not in _SCORERS:
            from nassb.design.study import make_scorer
            from nassb.inference.risk.predict import RiskModel
            from nassb.priors import load_card

            shipped = RiskModel.load()
            risk = RiskModel({k: v[:DRAWS] for k, v in shipped.draws.items()})
            card = load_card(self.card) if isinstance(self.card, str) else self.card
            _SCORERS[key] = make_scorer(card, risk, decision.search_settings(card.sha256))
        return _SCORERS[key]

    def evaluate(self, design: dict, decision: Decision | None = None) -> dict[str, np.ndarray]:
        """Per manufacturing draw: the energies at the cycling current, the current, the
        utilisation and the true risks of a design (keys as :meth:`DesignScorer.score`'s)."""
        decision = decision if decision is not None else Decision.make()
        scorer = self._scorer(decision)
        op = decision.operating
        capacity, porosity, p = (design["cathode.theoretical_capacity"], design["cathode.porosity"],
                                 design["cell.pressure"])
        thickness = scorer.layers(design)["cathode.thickness"] * scorer.cat_noise
        if op.current is not None:
            j = np.full(thickness.shape, op.current)
            u = self.utilisation(thickness, porosity, j)
        else:  # a C-rate of the delivered capacity: the current and the utilisation agree
            j = np.full(thickness.shape, op.c_rate * 0.85 * capacity)
            for _ in range(40):
                u = self.utilisation(thickness, porosity, j)
                j = 0.5 * (j + op.c_rate * u * capacity)
            u = self.utilisation(thickness, porosity, j)
        own = copy.copy(scorer)  # the card's bookkeeping with the lab's utilisation, no transport model
        own.transport, own.utilisation = False, u
        values = own.score(design)
        j = values["current"]
        delivered = capacity * u
        sep = design["separator.thickness"] * scorer.sep_noise
        reservoir = design["anode.reservoir_thickness"]
        r_cell = values["R_separator"] + values["R_interface"] + self.cathode_resistance(thickness, porosity, p)
        currents = np.repeat(j[:, None], op.cycles, axis=1)
        hazard = self.short_hazard(currents, p, sep[:, None], reservoir, delivered[:, None])
        drop = j * r_cell * 1e-3
        kept = np.maximum(scorer.voltage - drop, 0.0) / scorer.voltage
        return {"E_V_rate": values["E_V_real"] * kept, "E_m_rate": values["E_m_real"] * kept,
                "E_V_real": values["E_V_real"], "E_m_real": values["E_m_real"], "current": j, "utilisation": u,
                "P_fracture": np.broadcast_to(self.fracture(p, sep, scorer.area, scorer.selected_shard), j.shape),
                "P_short": self.p_short(hazard[:, -1]), "hazard": hazard, "R_cell": r_cell, "ohmic_drop": drop,
                "retention": self.retention(float(op.cycles), delivered, reservoir / scorer.swelling)}

    def truth(self, design: dict, decision: Decision | None = None) -> Truth:
        """The design's true objective (the decision's quantity and quantile over the card's
        manufacturing spread) and whether it truly meets the decision's limits (on the true
        probabilities: means over the spread)."""
        decision = decision if decision is not None else Decision.make()
        values = self.evaluate(design, decision)
        means = {k: float(np.mean(v)) for k, v in values.items() if k != "hazard"}
        limits = dataclasses.replace(decision.limits, confidence=None)
        feasible = all(v <= 0 for v in limits.violations(means).values())
        return Truth(objective_value(values, decision.objective, decision.quantile), feasible,
                     means["P_fracture"], means["P_short"], means["R_cell"])

    def build(self, design, rng: np.random.Generator, decision: Decision | None = None) -> Built:
        """One cell of the design (or card, :meth:`design_of`) as the lab builds it (one draw of
        the card's manufacturing spread) and what it did: cracked at assembly, or cycled until it
        shorted or ran the decision's cycles, with its resistance after formation (where it lived through
        :data:`FORMATION` cycles) and its first-cycle capacities."""
        decision = decision if decision is not None else Decision.make()
        design = self.design_of(design, decision)
        values = self.evaluate(design, decision)
        quantity = "E_V_rate" if decision.objective == "E_V" else "E_m_rate"
        i = int(rng.integers(values["current"].size))
        p_frac, p_short = float(np.mean(values["P_fracture"])), float(np.mean(values["P_short"]))
        r_cell = float(values["R_cell"][i])
        capacity = design["cathode.theoretical_capacity"]
        delivered = capacity * float(values["utilisation"][i])
        cathode = f'delivered_capacity = "{delivered:.6g} mAh/cm^2"\n'
        energy = float(values[quantity][i])
        if rng.random() < float(values["P_fracture"][i]):
            return Built("cracked = true\n", cathode, True, None, r_cell, energy, p_frac, p_short)
        v = self.theta["frailty"]
        need = rng.exponential() / rng.gamma(1.0 / v, v)  # the cell's own frailty
        over = np.nonzero(values["hazard"][i] >= need)[0]
        lines = [f'current = "{float(values["current"][i]):.6g} mA/cm^2"']
        if over.size:
            lines.append(f"short_cycle = {int(over[0]) + 1}")
        else:
            lines.append(f"cycles = {decision.cycles}")
        if not over.size or over[0] >= FORMATION:  # measured after formation, where the cell lived through it
            measured = r_cell * float(np.exp(0.04 * rng.standard_normal()))
            lines.append(f'resistance = "{measured:.5g} ± {0.05 * measured:.3g} ohm*cm^2"')
        loss = self.theta["first_loss"] * float(np.exp(0.05 * rng.standard_normal()))
        lines.append(f'first_charge = "{delivered:.6g} mAh/cm^2"')
        lines.append(f'first_discharge = "{delivered * (1 - loss):.6g} mAh/cm^2"')
        return Built("\n".join(lines) + "\n", cathode, False, bool(over.size), r_cell, energy, p_frac, p_short)

    def outcome(self, design, rng: np.random.Generator, decision: Decision | None = None) -> str:
        """The TOML text of the [cells.outcome] table of one built cell (priors/lab.py grammar);
        ``design`` a design (card path -> value) or a card (a proposal's card file)."""
        return self.build(design, rng, decision).outcome

    def design_of(self, design, decision: Decision | None = None) -> dict:
        """A design as it is, or a card's cell as a design (a card, its name or its file)."""
        if isinstance(design, dict):
            return design
        from nassb.priors import CellCard, load_card

        card = design if isinstance(design, CellCard) else load_card(design)
        return self._scorer(decision if decision is not None else Decision.make()).design_of_card(card)


# -- the labs ------------------------------------------------------------------------------------

def _logistic(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _history(currents):
    """The cycles' currents as an array with the cycles on its last axis."""
    return np.atleast_1d(np.asarray(currents, dtype=float))


class ExponentialCurrentLab(TrueLab):
    """Short: a cycle's hazard exp((j - j_c) / j_s) (an exponential, not a power law, in the
    current), j_c saturating in pressure p / (p + p_half), growing as a power of the separator's
    thickness and of the reservoir.  Fracture: a logistic step in log pressure at p_c = p50 (t /
    100 um)^2 (selected shards: a higher p_c), over a floor of assembly defects.  Cathode: kinetics
    r_k (100/t) (0.37/(1-P)) + ions r_i (t/100) (0.63/P)^3 + contact r_c (1 + p_h / p)."""

    name = "exponential-current"

    def draw(self, rng):
        j_s, p50, width = rng.uniform(0.12, 0.17), rng.uniform(0.35, 0.7), rng.uniform(0.2, 0.35)
        # the selected shards' threshold that cracks 15-35 % of them at 1 MPa (3 of 13 in the paper)
        cracked = rng.uniform(0.15, 0.35)
        selection = np.exp(-width * np.log(cracked / (1 - cracked))) / (p50 * 1.1 ** 2)
        return {"j_s": j_s, "selection": selection, "j_c": 0.75 - j_s * np.log(rng.uniform(0.18, 0.4)),
                "p_half": rng.uniform(0.004, 0.012),
                "sep_exp": rng.uniform(0.3, 0.7), "res_exp": rng.uniform(0.2, 0.5), "p50": p50,
                "width": width, "floor": rng.uniform(0.01, 0.03), "r_k": rng.uniform(15, 30),
                "r_i": rng.uniform(8, 18), "r_c": rng.uniform(8, 12), "p_h": rng.uniform(0.3, 0.8),
                "u_max": rng.uniform(0.85, 0.9), "u_depth": rng.uniform(330, 420)}

    def fracture(self, pressure, thickness, area, selected=False):
        t = self.theta
        p_c = t["p50"] * (np.asarray(thickness) / 100.0) ** 2 * np.where(selected, t["selection"], 1.0)
        return t["floor"] + (1 - t["floor"]) * _logistic(np.log(pressure / p_c) / t["width"])

    def short_hazard(self, currents, pressure, thickness, reservoir, capacity):
        t = self.theta
        j_c = (t["j_c"] * (pressure / (pressure + t["p_half"])) * (1 + t["p_half"])
               * (np.asarray(thickness) / 110.0) ** t["sep_exp"] * ((reservoir + 5.0) / 41.0) ** t["res_exp"])
        return np.cumsum(np.exp((_history(currents) - j_c) / t["j_s"]), axis=-1)

    def cathode_resistance(self, thickness, porosity, pressure):
        t = self.theta
        return (t["r_k"] * (100.0 / thickness) * (0.37 / (1 - porosity))
                + t["r_i"] * (thickness / 100.0) * (0.63 / porosity) ** 3 + t["r_c"] * (1 + t["p_h"] / pressure))


class PressureOptimumLab(TrueLab):
    """Short: (Q / Q_c)^kappa of the cumulative charge Q, each cycle's weighted by exp((j - 0.5) /
    j_q); Q_c has a pressure optimum (log-normal in p: voids below, creeping sodium above).
    Fracture: Weibull with a threshold stress, 1 - exp(-(A / 0.196) ((s - s_th)+ / s_s)^1.5) of
    s = p (100 um / t)^1.5 (selected shards: a fraction of s).  Cathode: ions grow past a knee
    thickness, (t/100) (0.63/P)^2.5 (1 + (t / t_knee)^3); formation adds r_f exp(-p / p_f).
    Utilisation falls linearly past a thickness that shrinks with the porosity."""

    name = "pressure-optimum"

    def draw(self, rng):
        s_th, s_s = rng.uniform(0.2, 0.35), rng.uniform(0.15, 0.3)
        # the selected shards' stress fraction that cracks 15-35 % of them at 1 MPa (3 of 13 in the paper)
        s_sel = s_th + s_s * (-np.log(1 - rng.uniform(0.15, 0.35))) ** (1 / 1.5)
        return {"j_q": rng.uniform(0.09, 0.12), "q_c": rng.uniform(2.5, 4.5), "kappa": rng.uniform(1.5, 2.5),
                "p_opt": float(np.exp(rng.uniform(np.log(0.5), np.log(1.5)))), "p_width": rng.uniform(1.5, 2.0),
                "sep_exp": rng.uniform(0.3, 0.8), "s_th": s_th, "s_s": s_s,
                "selection": s_sel / (100 / 110) ** 1.5, "r_k": rng.uniform(15, 30), "r_i": rng.uniform(6, 12),
                "knee": rng.uniform(150, 220), "r_c": rng.uniform(8, 20), "r_f": rng.uniform(250, 400),
                "p_f": rng.uniform(0.1, 0.3), "u_max": rng.uniform(0.85, 0.9), "u_knee": rng.uniform(210, 260),
                "u_fall": rng.uniform(0.3, 0.5)}

    def fracture(self, pressure, thickness, area, selected=False):
        t = self.theta
        stress = pressure * (100.0 / np.asarray(thickness)) ** 1.5 * np.where(selected, t["selection"], 1.0)
        excess = np.maximum(stress - t["s_th"], 0.0) / t["s_s"]
        return -np.expm1(-(np.asarray(area) / 0.196) * excess ** 1.5)

    def short_hazard(self, currents, pressure, thickness, reservoir, capacity):
        t = self.theta
        width = 2 * t["p_width"] ** 2
        optimum = np.exp(-np.log(pressure / t["p_opt"]) ** 2 / width + np.log(1 / t["p_opt"]) ** 2 / width)
        # q_c: the charge (mAh/cm^2, weighted) of the cells like cell 2 at their 5th cycle at 0.75 mA/cm^2
        q_c = t["q_c"] * np.exp(0.25 / t["j_q"]) * optimum * (np.asarray(thickness) / 110.0) ** t["sep_exp"]
        charge = np.cumsum(np.asarray(capacity) * np.exp((_history(currents) - 0.5) / t["j_q"]), axis=-1)
        return (charge / q_c) ** t["kappa"]

    def cathode_resistance(self, thickness, porosity, pressure):
        t = self.theta
        ions = t["r_i"] * (thickness / 100.0) * (0.63 / porosity) ** 2.5 * (1 + (thickness / t["knee"]) ** 3)
        return (t["r_k"] * (100.0 / thickness) + ions + t["r_c"] + t["r_f"] * np.exp(-pressure / t["p_f"]))

    def utilisation(self, thickness, porosity, current):
        t = self.theta
        knee = t["u_knee"] * (porosity / 0.63) ** 2 * np.sqrt(0.2 / np.asarray(current))
        return t["u_max"] * np.clip(1 - t["u_fall"] * np.maximum(thickness - knee, 0.0) / 100.0, 0.2, 1.0)


class ReservoirThresholdLab(TrueLab):
    """Short: a cycle's hazard h_max / (1 + exp(-(j - j_c) / s)), a logistic step in the current;
    j_c linear in the separator's thickness, nearly blind to pressure, and collapsing below a
    sodium reservoir of r_x um (exp(-(r_x - r) / r_s)): voids run away.  Fracture: a hard pressure
    threshold p_c (t / 110 um)^2 above which a tape cracks with probability 0.85 (a selected
    shard 0.25), else 0.015.  Cathode: ions (0.63/P)^3.5 and an electronic path that percolates
    ((1 - P) - 0.25)^-2, contact r_c (1 + sqrt(p_h / p))."""

    name = "reservoir-threshold"

    def draw(self, rng):
        return {"h_max": rng.uniform(0.6, 1.0), "j_c": rng.uniform(0.66, 0.8), "step": rng.uniform(0.08, 0.11),
                "r_x": rng.uniform(8, 15), "r_s": rng.uniform(2, 5), "p_c": rng.uniform(0.4, 0.9),
                "r_k": rng.uniform(12, 25), "r_i": rng.uniform(6, 12), "r_e": rng.uniform(0.15, 0.35),
                "r_c": rng.uniform(25, 40), "p_h": rng.uniform(0.3, 0.7), "u_max": rng.uniform(0.85, 0.9),
                "u_depth": rng.uniform(300, 380)}

    def fracture(self, pressure, thickness, area, selected=False):
        above = pressure > self.theta["p_c"] * (np.asarray(thickness) / 110.0) ** 2
        return np.where(above, np.where(selected, 0.25, 0.85), 0.015)

    def short_hazard(self, currents, pressure, thickness, reservoir, capacity):
        t = self.theta
        voids = np.exp(-np.maximum(t["r_x"] - reservoir, 0.0) / t["r_s"])
        j_c = t["j_c"] * (np.asarray(thickness) / 110.0) * pressure ** 0.03 * voids
        return np.cumsum(t["h_max"] * _logistic((_history(currents) - j_c) / t["step"]), axis=-1)

    def cathode_resistance(self, thickness, porosity, pressure):
        t = self.theta
        electrons = t["r_e"] * (thickness / 100.0) / np.maximum(1 - porosity - 0.25, 0.02) ** 2
        return (t["r_k"] * (100.0 / thickness) + t["r_i"] * (thickness / 100.0) * (0.63 / porosity) ** 3.5
                + electrons + t["r_c"] * (1 + np.sqrt(t["p_h"] / pressure)))


class WearOutLab(TrueLab):
    """Short: a cycle's hazard a exp(g k) (j / j_c)^3, growing exponentially with the cycle
    number k (Gompertz wear-out), j_c linear in the separator's thickness and in log pressure
    (floored), blind to the reservoir.  Fracture: Weibull in p (110 um / t)^2 / p_0 (modulus
    2.5-4, no span law) over a defect floor.  Cathode: ions (t / 100)^2 (0.63 / P)^2, a formation
    resistance r_f / (1 + p / p_h); the utilisation falls as exp(-(j / 0.2) (t / t_u)^2 (0.63/P)^1.5)."""

    name = "wear-out"

    def draw(self, rng):
        m, p0 = rng.uniform(2.5, 4.0), rng.uniform(0.7, 1.0)
        # the selected shards' stress fraction that cracks 15-35 % of them at 1 MPa
        selection = p0 * (-np.log(1 - rng.uniform(0.15, 0.35))) ** (1 / m)
        return {"a": rng.uniform(0.2, 0.32), "g": rng.uniform(0.015, 0.025), "j_c": rng.uniform(0.7, 0.8),
                "log_p": rng.uniform(0.06, 0.12), "m": m, "p0": p0, "selection": selection,
                "floor": rng.uniform(0.005, 0.02), "r_k": rng.uniform(10, 20), "r_i": rng.uniform(8, 14),
                "r_c": rng.uniform(5, 10), "r_f": rng.uniform(250, 350), "p_h": rng.uniform(0.03, 0.08),
                "u_max": rng.uniform(0.87, 0.92), "u_t": rng.uniform(700, 1000)}

    def fracture(self, pressure, thickness, area, selected=False):
        t = self.theta
        stress = pressure * (110.0 / np.asarray(thickness)) ** 2 * np.where(selected, t["selection"], 1.0)
        return t["floor"] + (1 - t["floor"]) * -np.expm1(-(np.asarray(area) / 0.196) * (stress / t["p0"]) ** t["m"])

    def short_hazard(self, currents, pressure, thickness, reservoir, capacity):
        t = self.theta
        j = _history(currents)
        j_c = t["j_c"] * (np.asarray(thickness) / 110.0) * np.maximum(1 + t["log_p"] * np.log(pressure), 0.15)
        k = np.arange(1, j.shape[-1] + 1)
        # a is the hazard per cycle of the cells like cell 2 at 0.75 mA/cm^2 around their 10th cycle
        return np.cumsum(t["a"] * np.exp(t["g"] * (k - 10)) * (j / j_c) ** 3, axis=-1)

    def cathode_resistance(self, thickness, porosity, pressure):
        t = self.theta
        return (t["r_k"] * (100.0 / thickness) + t["r_i"] * (thickness / 100.0) ** 2 * (0.63 / porosity) ** 2
                + t["r_c"] + t["r_f"] / (1 + pressure / t["p_h"]))

    def utilisation(self, thickness, porosity, current):
        t = self.theta
        return t["u_max"] * np.exp(-(np.asarray(current) / 0.2) * (thickness / t["u_t"]) ** 2
                                   * (0.63 / porosity) ** 1.5)


LABS = (ExponentialCurrentLab, PressureOptimumLab, ReservoirThresholdLab, WearOutLab)


def labs(n: int, seed: int = 0) -> list[TrueLab]:
    """``n`` labs: the kinds in turn, each with its own seed."""
    return [LABS[i % len(LABS)](seed * 1000 + i) for i in range(n)]


# -- what the paper reports ---------------------------------------------------------------------

PAPER_BANDS = {
    "cell-1 cycles its 4 formation cycles": (0.3, 1.0),
    "cell-1's 50 um tape cracks at <= 0.05 MPa": (0.0, 0.2),
    "110 um tape as cast cracks at 1 MPa": (0.5, 1.0),
    "selected 110 um shard cracks at 1 MPa": (0.08, 0.45),
    "cells like cell-2 short by cycle 14": (0.55, 1.0),
    "cells like cell-2 short by cycle 5": (0.0, 0.35),
    "cell-2 survives 74 cycles": (0.01, 0.5),
    "cell-1 R_cell after formation [ohm cm^2]": (200.0, 700.0),
    "cell-2 R_cell after formation [ohm cm^2]": (40.0, 160.0),
    "cell-1 utilisation": (0.78, 0.92),
    "cell-2 utilisation": (0.78, 0.92),
}
"""What each lab must reproduce of the seed paper (loose bands: one or a few cells each)."""


def paper_check(lab: TrueLab) -> dict[str, float]:
    """The lab's probabilities and values for the paper's cells (:data:`PAPER_BANDS`): cell 1
    (50 um tape, 0.005-0.05 MPa, 36 um reservoir, 2.14 mAh/cm^2 at 0.2 mA/cm^2), cell 2 and the
    nine like it (110 um selected shard, 1 MPa, 1.1 mAh/cm^2, four formation cycles at 0.1 mA/cm^2,
    then 0.5-1 mA/cm^2), the tapes at 1 MPa; resistances with the cards' separator (3.1 and 6.9
    ohm cm^2) and interfaces (1.5)."""
    low_p = np.exp(np.linspace(np.log(0.005), np.log(0.05), 9))
    survive_1 = 1 - lab.p_short(lab.short_hazard(np.full((9, 4), 0.2), low_p[:, None], 50.0, 36.0, 2.14)[:, -1])
    currents = np.exp(np.linspace(np.log(0.5), np.log(1.0), 9))
    history = np.concatenate([np.full((9, 4), 0.1), np.repeat(currents[:, None], 70, axis=1)], axis=1)
    like = lab.short_hazard(history, 1.0, 110.0, 36.0, 1.1)
    cell_2 = lab.short_hazard(np.concatenate([np.full(4, 0.1), np.full(70, 0.5)]), 1.0, 110.0, 36.0, 1.1)
    r_1 = 3.125 + 1.5 + lab.cathode_resistance(200.0, 0.63, np.exp(np.mean(np.log(low_p))))
    r_2 = 6.875 + 1.5 + lab.cathode_resistance(100.0, 0.63, 1.0)
    values = [float(np.mean((1 - lab.fracture(low_p, 50.0, 0.503)) * survive_1)),
              float(np.mean(lab.fracture(low_p, 50.0, 0.503))), float(lab.fracture(1.0, 110.0, 0.196)),
              float(lab.fracture(1.0, 110.0, 0.196, True)), float(np.mean(lab.p_short(like[:, 13]))),
              float(np.mean(lab.p_short(like[:, 4]))), float(1 - lab.p_short(cell_2[-1])), float(r_1), float(r_2),
              float(lab.utilisation(200.0, 0.63, 0.2)), float(lab.utilisation(100.0, 0.63, 0.1))]
    return dict(zip(PAPER_BANDS, values))
