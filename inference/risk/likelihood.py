"""The likelihood of observed cells under the risk models, written once for numpy and PyTensor.

Each observed cell (priors/lab.py) contributes what it did: cracked or not at assembly, shorted
in a cycle (interval censored) or survived its cycles (right censored), its resistance before
and after formation, its first-cycle loss, Coulombic efficiencies and fade.

A cell's uncertain conditions are marginalised, not fixed at one value, by Gauss quadrature over
their distribution (Gauss-Hermite for a normal or lognormal quantity, Gauss-Legendre in the
cumulative probability for a uniform, log-uniform or truncated one):

* its pressure, shared by every outcome of the cell (one cell, one pressure): the likelihood of
  the cell is the pressure-weighted sum of the product of its outcomes' likelihoods;
* its separator thickness, inside the fracture term (where the hazard goes as t^-(2+2 gamma) m);
  the short-circuit term takes the thickness at its value (it enters as t^a_t, a weak power);
* its cycling current, inside the short-circuit term;
* the current collector's modulus at 0.1 Hz, inside each |Z| measurement.

``count`` cells built alike each have their own conditions: the log-likelihood of the group is
``count`` times the cell's.  The same functions evaluate, on posterior draws in numpy (draws as
leading axes), the predictive probability of every observed outcome (:mod:`.checks`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...priors import CardError, Measured
from ...priors.lab import ObservedCell, ObservedCells
from ...priors.risk import lab_value
from ..cell import swelling
from ..model import CellModel
from . import forms

HERMITE_NODES = {"pressure": 3, "thickness": 5, "current": 3, "collector": 7}
"""Gauss-Hermite nodes for a normal (or lognormal) condition."""
LEGENDRE_NODES = {"pressure": 8, "thickness": 5, "current": 6, "collector": 7}
"""Gauss-Legendre nodes (in the cumulative probability) for a uniform, log-uniform or truncated one."""
_FLOOR = -1e30   # log-weight of padding nodes: exp() of it is exactly 0


def quadrature(q: Measured | None, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights that integrate over the distribution of ``q`` (one node if fixed)."""
    if q is None or not q.uncertain:
        return np.array([1.0 if q is None else float(q.value)]), np.zeros(1)
    if q.dist in ("normal", "lognormal", "truncnormal") and not q.truncated:
        x, w = np.polynomial.hermite_e.hermegauss(HERMITE_NODES[kind])
        if q.dist == "lognormal":
            mu, sigma = q.lognormal_parameters()
            nodes = np.exp(mu + sigma * x)
        else:
            nodes = q.value + q.sd * x
        return nodes, np.log(w / w.sum())
    x, w = np.polynomial.legendre.leggauss(LEGENDRE_NODES[kind])
    return q.quantiles((x + 1.0) / 2.0), np.log(w / w.sum())


@dataclass
class Batch:
    """Observed cells as arrays.  Entries (E) are the cells; each condition has its nodes and
    log-weights (padded to the same number per entry); outcomes are lists of entry rows."""

    names: list[str]
    where: list[str]
    count: np.ndarray                  # (E,)
    lab: np.ndarray                    # (E, 1): 1 for a lab's own cell
    pressure: np.ndarray               # (E, Kp) MPa
    pressure_weight: np.ndarray        # (E, Kp) log
    thickness: np.ndarray              # (E, Kt) um, the separator
    thickness_weight: np.ndarray
    current: np.ndarray                # (E, Kj) mA/cm^2, cycling
    current_weight: np.ndarray
    constants: dict[str, np.ndarray]   # (E, 1) each: area, reservoir, capacity, ...
    cracked_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    held_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    survival_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    survived: np.ndarray = field(default_factory=lambda: np.zeros(0))       # cycles survived
    event_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    event_after: np.ndarray = field(default_factory=lambda: np.zeros(0))    # cycles survived before
    event_by: np.ndarray = field(default_factory=lambda: np.zeros(0))       # shorted by this cycle
    resistances: list[dict] = field(default_factory=list)
    collector: np.ndarray = field(default_factory=lambda: np.zeros(1))      # (Kc,) ohm cm^2
    collector_weight: np.ndarray = field(default_factory=lambda: np.zeros(1))
    collector_exponent: float = 0.85
    inventory: list[dict] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.names)


def _padded(rows: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    width = max(n.size for n, _ in rows)
    nodes = np.array([np.concatenate([n, np.full(width - n.size, n[0])]) for n, _ in rows])
    weights = np.array([np.concatenate([w, np.full(width - w.size, _FLOOR)]) for _, w in rows])
    return nodes, weights


def _constants(cell: ObservedCell) -> dict[str, float]:
    card, o, where = cell.card, cell.outcome, cell.where

    def need(section: str, key: str, why: str):
        value = card.cell.get(key) if section == "cell" else getattr(card, section).get(key)
        if value is None:
            raise CardError(f"missing, needed {why}", file=cell.file, field=f"{where}.{section}.{key}")
        return value

    need("cell", "pressure", "for fracture, short circuit and contact resistance")
    area = need("cell", "area", "for the fracture size effect").value
    reservoir = need("anode", "reservoir_thickness", "for the short circuit and the sodium inventory").value
    model = CellModel(card)
    nominal = model.nominal()
    y = model.evaluate(nominal)
    if o.resistance and ("R_separator" not in y or "R_interface" not in y):
        raise CardError("the separator material needs conductivity and interface_resistance for the cell "
                        "resistance", file=cell.file, field=f"{where}.materials.{card.separator.material.name}")
    anode = card.anode.material
    density, specific = anode.get("density"), anode.get("specific_capacity")
    for key, value in (("density", density), ("specific_capacity", specific)):
        if value is None:
            raise CardError("missing, needed for the sodium inventory", file=cell.file,
                            field=f"{where}.materials.{anode.name}.{key}")
    assert density is not None and specific is not None
    separator = card.separator.get("thickness")
    if separator is None:
        raise CardError("missing, needed for the risk models", file=cell.file, field=f"{where}.separator.thickness")
    capacity = float(nominal.get("cathode.delivered_capacity", y["C_theo"]))
    formation = o.formation_current.value if o.formation_current is not None else 1.0
    return {"area": area, "reservoir": reservoir, "capacity": capacity, "theoretical_capacity": float(y["C_theo"]),
            "thickness": float(separator.value),
            "cathode_thickness": float(nominal["cathode.thickness"]), "porosity": float(y["porosity"]),
            "r_separator": float(y.get("R_separator", 0.0)), "r_interface": float(y.get("R_interface", 0.0)),
            "selected": 1.0 if o.selected_shard else 0.0, "formation_cycles": float(o.formation_cycles),
            "formation_current": float(formation),
            "reservoir_capacity": reservoir / float(swelling(density.value, specific.value))}


def build_batch(cells: ObservedCells, nuisances: dict) -> Batch:
    """The arrays of :class:`Batch` for ``cells`` (nuisance quantities from priors/data/risk.toml)."""
    entries = list(cells)
    pressure = _padded([quadrature(c.card.cell.get("pressure"), "pressure") for c in entries])
    thickness = _padded([quadrature(c.card.separator.get("thickness") if c.outcome.cracked is not None else None,
                                    "thickness") for c in entries])
    current = _padded([quadrature(c.outcome.current, "current") for c in entries])
    consts = [_constants(c) for c in entries]
    constants = {k: np.array([[c[k]] for c in consts]) for k in consts[0]}
    b = Batch([c.name for c in entries], [c.where for c in entries], np.array([c.count for c in entries], float),
              np.array([[1.0 if c.lab else 0.0] for c in entries]), *pressure, *thickness, *current, constants)
    b.collector, b.collector_weight = quadrature(nuisances["collector_impedance"], "collector")
    b.collector_exponent = float(nuisances["collector_exponent"].value)
    cracked: list[int] = []
    held: list[int] = []
    lasted, events = [], []
    for e, cell in enumerate(entries):
        o = cell.outcome
        if o.cracked is not None:
            (cracked if o.cracked else held).append(e)
        if o.cycled and o.short is None:
            lasted.append((e, float(o.cycles)))
        elif o.cycled:
            events.append((e, o.short[0] - 1.0, float(o.short[1])))
        for r in o.resistance:
            scatter = nuisances["resistance_scatter" if r.stage == "after" else "resistance_scatter_before_formation"]
            b.resistances.append({"entry": e, "after": r.stage == "after", "log_value": math.log(r.value.value),
                                  "sigma": math.hypot(float(scatter.value), r.value.sd / r.value.value),
                                  "modulus": r.measure != "R_cell", "where": r.where})
        b.inventory.extend(_inventory(cell, e, consts[e], nuisances))
    b.cracked_rows, b.held_rows = np.array(cracked, int), np.array(held, int)
    b.survival_rows = np.array([e for e, _ in lasted], int)
    b.survived = np.array([n for _, n in lasted], float)
    b.event_rows = np.array([e for e, _, _ in events], int)
    b.event_after = np.array([a for _, a, _ in events], float)
    b.event_by = np.array([z for _, _, z in events], float)
    return b


def _inventory(cell: ObservedCell, e: int, c: dict, nuisances: dict) -> list[dict]:
    """The inventory observations of one cell, as plain numbers (each a dict with its ``kind``)."""
    o, out = cell.outcome, []
    base = {"entry": e, "count": cell.count, "capacity": c["capacity"], "reservoir_capacity": c["reservoir_capacity"]}
    if o.first_charge is not None:
        charge, discharge = o.first_charge, o.first_discharge
        assert discharge is not None  # the outcome's reader takes the two together
        loss = 1.0 - discharge.value / charge.value
        sd = math.hypot(discharge.sd / charge.value, discharge.value * charge.sd / charge.value ** 2)
        out.append({**base, "kind": "first_loss", "value": loss, "sd": sd,
                    "scatter": float(nuisances["first_loss_scatter"].value),
                    "where": f"{cell.where}.outcome.first_charge"})
    for eff in o.efficiency:
        out.append({**base, "kind": "efficiency", "value": 1.0 - eff.above,
                    "sd": float(nuisances["efficiency_precision"].value), "where": eff.where})
    if o.mean_loss is not None:
        out.append({**base, "kind": "mean_loss", "value": o.mean_loss.loss, "sd": o.mean_loss.se,
                    "scatter": float(nuisances["loss_scatter"].value), "where": o.mean_loss.where})
    # A capacities file of a zero-excess cell: its fade is its Coulombic efficiency, already counted.
    if len(o.discharge) >= 2 and not (o.capacities_file and c["reservoir"] <= 0.0):
        (a, da), (z, dz) = o.discharge[0], o.discharge[-1]
        sd = math.sqrt((da.sd / da.value) ** 2 + (dz.sd / dz.value) ** 2 + float(nuisances["fade_scatter"].value) ** 2)
        out.append({**base, "kind": "fade", "value": math.log(dz.value / da.value), "sd": sd, "cycles": (a, z),
                    "where": f"{cell.where}.outcome.discharge"})
    return out


# -- the terms, for numpy (draws as leading axes) and PyTensor (scalars) --------------------

def log1mexp_neg(x, xp):
    """log(1 - exp(-x)) for x > 0."""
    if xp is np:
        with np.errstate(divide="ignore"):
            return np.log(-np.expm1(-x))
    return xp.log1mexp(-x)


def logsumexp_last(x, xp):
    """log sum exp over the last axis, stable for very negative terms in PyTensor too (the max is
    taken out explicitly rather than left to a graph rewrite)."""
    if xp is np:
        from scipy.special import logsumexp

        return logsumexp(x, axis=-1)
    top = xp.max(x, axis=-1, keepdims=True)
    return xp.squeeze(top, axis=-1) + xp.log(xp.sum(xp.exp(x - top), axis=-1))


def _cycle_power(cycles: np.ndarray, beta):
    """cycles^beta for constant cycles >= 0, 0 at 0 without a 0^beta in the graph."""
    positive = (cycles > 0).astype(float)
    return positive * np.maximum(cycles, 1.0) ** beta


def _col(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per-entry constants of ``rows`` shaped (rows, 1, 1), against (pressure, other) nodes."""
    return a[rows][:, :, None]


def fracture_hazard(theta, b: Batch, rows: np.ndarray, xp=np):
    """The Weibull hazard of entries ``rows`` on (pressure, thickness) nodes: (rows, Kp, Kt)."""
    c = b.constants
    selection = 1.0 + _col(c["selected"], rows) * (theta["fracture.selection_factor"] - 1.0)
    strength = lab_value(theta, "fracture.strength", _col(b.lab, rows), xp)
    return forms.fracture_hazard(b.pressure[rows][:, :, None], b.thickness[rows][:, None, :], _col(c["area"], rows),
                                 strength, theta["fracture.weibull_modulus"], theta["fracture.span_reference"],
                                 theta["fracture.span_exponent"], selection)


def fracture_terms(theta, b: Batch, xp=np) -> list:
    """(rows, log-likelihood on pressure nodes) of the cells that cracked and that held."""
    out = []
    for rows, cracked in ((b.cracked_rows, True), (b.held_rows, False)):
        if rows.size:
            hazard = fracture_hazard(theta, b, rows, xp)
            ll = log1mexp_neg(hazard, xp) if cracked else -hazard
            out.append((rows, logsumexp_last(ll + b.thickness_weight[rows][:, None, :], xp)))
    return out


def _short_stresses(theta, b: Batch, rows: np.ndarray, xp):
    """(j / j_c)^m of the cycling current (rows, Kp, Kj) and of formation (rows, Kp, 1)."""
    c = b.constants
    lab = _col(b.lab, rows)
    ccd = forms.critical_current(b.pressure[rows][:, :, None], _col(c["reservoir"], rows), _col(c["thickness"], rows),
                                 _col(c["capacity"], rows),
                                 lab_value(theta, "short.ccd_reference", lab, xp),
                                 lab_value(theta, "short.pressure_exponent", lab, xp),
                                 lab_value(theta, "short.reservoir_exponent", lab, xp),
                                 lab_value(theta, "short.thickness_exponent", lab, xp),
                                 theta["short.capacity_exponent"])
    m = lab_value(theta, "short.ccd_modulus", lab, xp)
    return (forms.current_stress(b.current[rows][:, None, :], ccd, m),
            forms.current_stress(_col(c["formation_current"], rows), ccd, m))


def hazard_between(theta, b: Batch, rows: np.ndarray, a: np.ndarray, z: np.ndarray, xp):
    """H(z) - H(a) of entries ``rows`` for constant cycle counts a < z (formation included).

    Each part is a difference of the constants' powers, never of two large hazards."""
    beta = lab_value(theta, "short.cycle_exponent", _col(b.lab, rows), xp)
    cycling, formation = _short_stresses(theta, b, rows, xp)
    n = b.constants["formation_cycles"][rows][:, 0]
    a, z = np.asarray(a, float), np.asarray(z, float)

    def power(x):
        # (rows, 1, 1) against (pressure, current) nodes; draws of beta lead in numpy
        return _cycle_power(x[:, None, None], beta)

    return (formation * (power(np.minimum(z, n)) - power(np.minimum(a, n)))
            + cycling * (power(np.maximum(z, n)) - power(np.maximum(a, n))))


def short_terms(theta, b: Batch, xp=np) -> list:
    """(rows, log-likelihood on pressure nodes) of the cycled cells: survived, or shorted in an interval."""
    out = []
    if b.survival_rows.size:
        rows = b.survival_rows
        ll = -hazard_between(theta, b, rows, np.zeros(rows.size), b.survived, xp)
        out.append((rows, logsumexp_last(ll + b.current_weight[rows][:, None, :], xp)))
    if b.event_rows.size:
        rows = b.event_rows
        ll = (-hazard_between(theta, b, rows, np.zeros(rows.size), b.event_after, xp)
              + log1mexp_neg(hazard_between(theta, b, rows, b.event_after, b.event_by, xp), xp))
        out.append((rows, logsumexp_last(ll + b.current_weight[rows][:, None, :], xp)))
    return out


def cell_resistance(theta, b: Batch, rows: np.ndarray, after: np.ndarray, xp=np) -> dict:
    """R_cell and its parts (ohm cm^2) of entries ``rows`` on their pressure nodes, shaped
    (rows, Kp, 1); ``after`` (rows,) is 1 after formation, 0 before."""
    c = b.constants
    t, p = _col(c["cathode_thickness"], rows), _col(c["porosity"], rows)
    pressure = b.pressure[rows][:, :, None]
    r_ion = forms.ionic_resistance(t, p, theta["rate.liquid_conductivity"], theta["rate.macmullin"],
                                   theta["rate.bruggeman"])
    r_el = forms.electronic_resistance(t, p, theta["rate.electronic_conductivity"])
    r_ct = forms.charge_transfer_resistance(t, p, theta["rate.charge_transfer"])
    factor = forms.formation_factor(pressure, theta["rate.formation_reference"], theta["rate.formation_exponent"])
    after = np.asarray(after, float)[:, None, None]
    cathode = forms.transmission_line(r_ion, r_el, r_ct, xp=xp)
    formed = forms.transmission_line(r_ion, r_el, r_ct * (1.0 + after * (factor - 1.0)), xp=xp)
    contact = forms.contact_resistance(pressure, lab_value(theta, "rate.contact_reference", _col(b.lab, rows), xp),
                                       theta["rate.contact_exponent"])
    return {"R_cell": _col(c["r_separator"], rows) + _col(c["r_interface"], rows) + formed + contact,
            "R_cathode": cathode, "R_formation": formed - cathode, "R_contact": contact}


def resistance_z(theta, b: Batch, k: np.ndarray, xp):
    """(ln observed - ln modelled) / sigma of resistances ``k`` on (pressure, collector) nodes."""
    obs = [b.resistances[i] for i in k]
    rows = np.array([o["entry"] for o in obs], int)
    after = np.array([1.0 if o["after"] else 0.0 for o in obs])
    r = cell_resistance(theta, b, rows, after, xp)["R_cell"]
    modulus = np.array([1.0 if o["modulus"] else 0.0 for o in obs])[:, None, None] * b.collector
    z = forms.collector_modulus(r, modulus, b.collector_exponent, xp)
    sigma = np.array([o["sigma"] for o in obs])[:, None, None]
    log_value = np.array([o["log_value"] for o in obs])[:, None, None]
    return rows, (log_value - xp.log(z)) / sigma, sigma


def resistance_terms(theta, b: Batch, xp=np) -> list:
    """(rows, log-likelihood on pressure nodes) of the measured resistances, in pieces whose
    rows are unique (one per formation stage); the collector's modulus is marginalised."""
    out = []
    for after in (True, False):
        k = np.array([i for i, o in enumerate(b.resistances) if o["after"] == after], int)
        if k.size:
            rows, z, sigma = resistance_z(theta, b, k, xp)
            log_normal = -0.5 * z ** 2 - np.log(sigma) - 0.5 * math.log(2 * math.pi)
            out.append((rows, logsumexp_last(log_normal + b.collector_weight, xp)))
    return out


def _term(term):
    """A declared risk's likelihood term: its function, or the name of one of this module's."""
    return term if callable(term) else globals()[term]


def node_loglike(theta, b: Batch, xp=np):
    """Each entry's log-likelihood on its pressure nodes (E x Kp; draws leading in numpy), every
    outcome that depends on the pressure summed."""
    from .registry import RISKS

    pieces = [p for r in RISKS.values() if r.likelihood is not None for p in _term(r.likelihood)(theta, b, xp)]
    if xp is np:
        shape = np.shape(theta["fracture.strength"])[:-3] + b.pressure.shape
        total = np.zeros(shape)
        for rows, values in pieces:
            total[..., rows, :] += values
        return total
    total = xp.zeros(b.pressure.shape)
    for rows, values in pieces:
        total = xp.inc_subtensor(total[rows], values)
    return total


def inventory_loglike(theta, b: Batch, xp=np):
    """The summed log-likelihood of the first-cycle losses, efficiencies and fades."""
    total = 0.0
    for obs in b.inventory:
        total = total + obs["count"] * inventory_term(obs, theta, xp)
    return total


def inventory_potential(theta, b: Batch, xp=np):
    """:func:`inventory_loglike` where the cells observe the sodium inventory, else None."""
    return inventory_loglike(theta, b, xp) if b.inventory else None


def potentials(theta, b: Batch, xp=np) -> dict:
    """Each declared risk's log-likelihood apart from the pressure nodes (where observed), by
    its parameter group."""
    from .registry import RISKS

    out = {}
    for risk in RISKS.values():
        value = None if risk.potential is None else _term(risk.potential)(theta, b, xp)
        if value is not None:
            out[risk.model] = value
    return out


def inventory_term(obs: dict, theta, xp=np, cdf: bool = False):
    """One inventory observation's log-likelihood (or, with ``cdf``, its predictive CDF; for an
    efficiency statement the probability that it holds)."""
    q1, q, f = theta["inventory.first_loss"], theta["inventory.loss"], theta["inventory.fade"]
    kind = obs["kind"]
    if kind == "efficiency":
        z = (obs["value"] - q) / obs["sd"]
        if cdf:
            from scipy.special import ndtr

            return ndtr(z)
        return _log_normal_cdf(z, xp)
    if kind in ("first_loss", "mean_loss"):
        mean = q1 if kind == "first_loss" else q
        sigma = xp.sqrt((obs["scatter"] * mean) ** 2 + obs["sd"] ** 2)
    else:
        a, z_ = obs["cycles"]
        mean = (xp.log(forms.retention(float(z_), q, obs["capacity"], obs["reservoir_capacity"], q1, f, xp=xp))
                - xp.log(forms.retention(float(a), q, obs["capacity"], obs["reservoir_capacity"], q1, f, xp=xp)))
        sigma = obs["sd"]
    z = (obs["value"] - mean) / sigma
    if cdf:
        from scipy.special import ndtr

        return ndtr(z)
    return -0.5 * z ** 2 - xp.log(sigma) - 0.5 * math.log(2 * math.pi)


def _log_normal_cdf(z, xp):
    if xp is np:
        from scipy.special import log_ndtr

        return log_ndtr(z)
    import pymc as pm

    return pm.logcdf(pm.Normal.dist(0.0, 1.0), z)


def build_model(batch: Batch, priors: dict, lab_priors: dict | None = None):
    """The PyMC model: the priors of every risk parameter (and the lab offsets) and the observed
    cells' likelihood, each cell marginalised over its uncertain conditions."""
    import pymc as pm
    import pytensor.tensor as pt

    from ..pymc_variables import prior_variable

    with pm.Model() as model:
        theta = {name: prior_variable(name, rp.prior) for name, rp in priors.items()}
        for name, rp in (lab_priors or {}).items():
            theta[name] = prior_variable(name, rp.prior)
        per_cell = logsumexp_last(node_loglike(theta, batch, pt) + batch.pressure_weight, pt)
        pm.Potential("cells", pt.sum(per_cell * batch.count))
        for name, value in potentials(theta, batch, pt).items():
            pm.Potential(name, value)
    return model


def log_likelihood(draws: dict, b: Batch) -> np.ndarray:
    """The total log-likelihood of the observed cells (numpy), one per draw of ``draws``
    (parameter name -> 1-d array, or floats for one point)."""
    from scipy.special import logsumexp

    theta = {k: np.asarray(v, float).reshape(-1, 1, 1, 1) for k, v in draws.items()}
    per_cell = logsumexp(node_loglike(theta, b, np) + b.pressure_weight, axis=-1)
    total = (per_cell * b.count).sum(axis=-1)
    for value in potentials({k: v.ravel() for k, v in theta.items()}, b, np).values():
        total = total + np.asarray(value)
    return total
