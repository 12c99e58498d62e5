"""Score a cell card's risks: the calibrated draws paired with Monte Carlo draws of the card."""

from __future__ import annotations

import numpy as np

from ...priors import CardError, CellCard, Measured
from ...priors.risk import load_risk_priors
from ..cell import swelling
from ..model import CellModel
from ..montecarlo import draw_inputs
from ..result import PropagationResult, summary_dataset
from .predict import RiskModel, RiskScore

CALIBRATED_SEPARATOR = "nzsp-tape"  # what the observations in priors/data/risk-observations.toml used
MODEL_OF = {"P_fracture": "fracture", "P_short": "short", "R_cell": "rate", "ohmic_drop": "rate",
            "retention": "inventory"}


def _required(card: CellCard, section: str, key: str, why: str) -> Measured:
    value = card.cell.get(key) if section == "cell" else getattr(card, section).get(key)
    if value is None:
        raise CardError(f"missing, needed {why}", file=card.origin, field=f"{section}.{key}")
    return value


def default_current(card: CellCard) -> float:
    """C/10 of the card's capacity per cycle (delivered, else theoretical), in mA/cm^2."""
    model = CellModel(card)
    nominal = model.nominal()
    capacity = nominal.get("cathode.delivered_capacity")
    if capacity is None:
        capacity = float(model.evaluate(nominal)["C_theo"])
    return capacity / 10.0


def score_card(card: CellCard, *, current: Measured, cycles: int, risk: RiskModel | None = None,
               seed: int = 0) -> PropagationResult:
    """Posterior predictive of every risk for a card at ``current`` over ``cycles``.

    Each calibrated draw is paired with one Monte Carlo draw of the card's inputs, so the
    result carries both the risk models' uncertainty and the card's.
    """
    risk = risk or RiskModel.load()
    for section, key, why in (("cell", "pressure", "for fracture, short circuit and contact resistance"),
                              ("cell", "area", "for the fracture size effect"),
                              ("anode", "reservoir_thickness", "for the short circuit and the sodium inventory")):
        _required(card, section, key, why)
    if card.anode.material.get("specific_capacity") is None:
        raise CardError("missing, needed for the sodium inventory", file=card.origin,
                        field=f"materials.{card.anode.material.name}.specific_capacity")
    model = CellModel(card)
    if "R_separator" not in model.outputs or "R_interface" not in model.outputs:
        raise CardError("the separator material needs conductivity and interface_resistance for the cell resistance",
                        file=card.origin, field=f"materials.{card.separator.material.name}")
    rng = np.random.default_rng(seed)
    n = risk.size
    x = draw_inputs(model, rng, n)
    y = model.evaluate(x)
    pressure = card.cell["pressure"].sample(rng, n)
    area = card.cell["area"].sample(rng, n)
    j = current.sample(rng, n)
    capacity = x.get("cathode.delivered_capacity", y["C_theo"])

    def drawn(name: str, prior: Measured):
        # An input the cell equations do not use (a card with a measured charged anode) still
        # has a card value the risks need: draw it here.
        return x[name] if name in x else prior.sample(rng, n)

    anode = card.anode.material
    s = swelling(drawn(f"{anode.name}.density", anode.get("density")),
                 drawn(f"{anode.name}.specific_capacity", anode.get("specific_capacity")))
    score = risk.score(
        pressure=pressure, separator_thickness=x["separator.thickness"], area=area, current=j, cycles=float(cycles),
        reservoir_thickness=drawn("anode.reservoir_thickness", card.anode.get("reservoir_thickness")), swelling=s,
        capacity=capacity,
        cathode_thickness=x["cathode.thickness"], porosity=y["porosity"],
        r_separator=y["R_separator"], r_interface=y["R_interface"])
    return _result(card, score, risk, current, cycles, seed)


def _result(card, score: RiskScore, risk: RiskModel, current: Measured, cycles: int, seed: int) -> PropagationResult:
    names = list(RiskScore.UNITS)
    values = score.as_dict()
    stats = []
    for name in names:
        v = np.broadcast_to(values[name], (risk.size,))
        low, high = np.quantile(v, [0.025, 0.975])
        stats.append((float(v.mean()), float(v.std(ddof=1)), float(low), float(high)))
    stats = np.array(stats)
    ds = summary_dataset(names, [RiskScore.UNITS[n] for n in names], stats[:, 0], stats[:, 1], stats[:, 2],
                         stats[:, 3], attrs={"cell": card.name, "card": card.origin, "card_sha256": card.sha256,
                                             "method": "risk", "seed": seed, "draws": risk.size})
    priors = load_risk_priors()
    informative = {}
    for name in names:
        parameter, r2 = risk.most_informative(np.broadcast_to(values[name], (risk.size,)), MODEL_OF[name])
        informative[name] = {"parameter": parameter, "rank_r2": round(r2, 3),
                             "experiment": priors[parameter].experiment if parameter in priors else ""}
    extras = {"conditions": {"current": {"value": float(current.value), "unit": "mA/cm^2"}, "cycles": cycles},
              "most_informative": informative}
    if card.separator.material.name != CALIBRATED_SEPARATOR:
        extras["caveat"] = (f"the risk models are calibrated on {CALIBRATED_SEPARATOR} tapes; for "
                            f"{card.separator.material.name} their fracture and short-circuit parameters are the "
                            "NaSICON ones until a calibration of its own exists")
    return PropagationResult(ds, extras=extras)
