"""Score a cell card's risks: the calibrated draws paired with Monte Carlo draws of the card."""

from __future__ import annotations

import numpy as np

from ...priors import CardError, CellCard, Measured, OptionError
from ...priors.risk import load_risk_priors
from ..cell import swelling
from ..model import CellModel
from ..montecarlo import draw_inputs
from ..result import Result
from ..statistics import summarise_named
from ...priors.vocabulary import term
from . import registry
from .predict import RiskModel, RiskScore

CALIBRATED_SEPARATOR = "nzsp-tape"  # what the observations in priors/data/risk-observations.toml used
DRIVES = 0.05
"""Below this squared rank correlation no single risk parameter is named as the driver."""
CONDITIONS = ("drawn", "fixed")
"""How score_risks takes the card's pressure and area: drawn from their uncertainties or fixed."""
CARD_INPUTS = "the card's own inputs: see the uncertainty budget of 'nassb propagate CARD'"


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


def parse_current(current, card: CellCard | None = None, c_rate: float | None = None) -> Measured:
    """The cycling current density (mA/cm^2) from a number, a quantity string or a C-rate.

    ``current`` wins; otherwise ``c_rate`` (default 0.1, C/10) of the card's capacity per cycle
    (delivered, else theoretical).
    """
    from ...priors import OptionError, parse_quantity
    from ...priors.risk import CURRENT

    if current is None:
        if card is None:
            raise OptionError("give a current density or a card for the C-rate", field="current")
        rate = 0.1 if c_rate is None else float(c_rate)
        if not (np.isfinite(rate) and rate > 0):
            raise OptionError(f"must be > 0, got {c_rate!r}", field="c_rate")
        return Measured(default_current(card) * rate / 0.1, unit="mA/cm^2", bounds=CURRENT,
                        source=f"C/{1 / rate:g} of the card's capacity")
    if c_rate is not None:
        raise OptionError("give a current density or a C-rate, not both", field="c_rate")
    if isinstance(current, Measured):
        return current
    try:
        value = parse_quantity(current, CURRENT)
    except CardError as err:
        raise OptionError(err.message, field="current") from None
    if value.uncertain:
        raise OptionError("give one current density, without an uncertainty", field="current")
    return value


def score_risks(card, *, current=None, c_rate: float | None = None, cycles: int = 100, posterior=None,
                seed: int = 0, selected_shard: bool | None = None, formation_cycles: int = 0,
                formation_current=None, conditions: str = "drawn") -> RiskResult:
    """The risks of a card: fracture, short circuit, resistance, ohmic drop and retention.

    Parameters
    ----------
    card : CellCard, str or Path
        A card, a card file or a built-in card name.
    current : float or str, optional
        Cycling current density: mA/cm^2, or a quantity such as ``"0.5 mA/cm^2"``.
    c_rate : float, optional
        Instead of ``current``: this C-rate of the card's capacity (default 0.1, C/10).
    cycles : int
        Cycles to look ahead (P_short, retention).
    posterior : str, Path, RiskModel or CalibrationResult, optional
        Calibrated draws (default: the calibration shipped with nassb).
    seed : int
        Seed of the card's Monte Carlo draws.
    selected_shard : bool, optional
        The separator is a selected planar shard, as the seed paper's 1 MPa cells (paper-cell-2)
        were built, or a tape as cast; default: what the card says (``[separator]
        selected_shard = true``), else a tape as cast.
    formation_cycles : int
        Cycles at ``formation_current`` (mA/cm^2 or a quantity) before the ``cycles`` at
        ``current`` (default 0: the cycles start at ``current``).
    conditions : {"drawn", "fixed"}
        "drawn" (default): the card's stack pressure and electrode area are drawn from their
        uncertainties, as a lab's cells vary.  "fixed": both at their card values, as a design
        (``run_design``) and a design study's baselines score the card; the two differ most in
        R_cell, whose contact term falls steeply with pressure.
    """
    from ...priors import OptionError, load_card
    from .predict import load_risk_model

    card = card if isinstance(card, CellCard) else load_card(card)
    if isinstance(cycles, bool) or not isinstance(cycles, (int, np.integer)) or cycles < 1:
        raise OptionError(f"must be a whole number >= 1, got {cycles!r}", field="cycles")
    if isinstance(formation_cycles, bool) or not isinstance(formation_cycles, (int, np.integer)) \
            or formation_cycles < 0:
        raise OptionError(f"must be a whole number >= 0, got {formation_cycles!r}", field="formation_cycles")
    formation = None
    if formation_cycles:
        if formation_current is None:
            raise OptionError("give the current density of the formation cycles", field="formation_current")
        formation = parse_current(formation_current)
    elif formation_current is not None:
        raise OptionError("formation_current without formation_cycles", field="formation_current")
    if conditions not in CONDITIONS:
        raise OptionError(f"must be one of {', '.join(CONDITIONS)}, got {conditions!r}", field="conditions")
    return score_card(card, current=parse_current(current, card, c_rate), cycles=int(cycles), conditions=conditions,
                      risk=load_risk_model(posterior), seed=seed,
                      selected_shard=card.separator.flag("selected_shard") if selected_shard is None
                      else bool(selected_shard),
                      formation_cycles=int(formation_cycles), formation_current=formation)


def score_card(card: CellCard, *, current: Measured, cycles: int, risk: RiskModel | None = None,
               seed: int = 0, selected_shard: bool = False, formation_cycles: int = 0,
               formation_current: Measured | None = None, conditions: str = "drawn") -> RiskResult:
    """Posterior predictive of every risk for a card at ``current`` over ``cycles``.

    Each calibrated draw is paired with one Monte Carlo draw of the card's inputs (its pressure
    included: cell 1's log-uniform pressure is drawn as the calibration marginalised it), so
    the result carries both the risk models' uncertainty and the card's.
    """
    if formation_cycles and formation_current is None:
        raise OptionError("give the current density of the formation cycles", field="formation_current")
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
    pressure: np.ndarray
    area: np.ndarray
    if conditions == "fixed":  # as a design scores the card
        pressure = np.full(n, float(card.cell["pressure"].value))
        area = np.full(n, float(card.cell["area"].value))
    else:
        pressure = np.asarray(card.cell["pressure"].sample(rng, n), dtype=float)
        area = np.asarray(card.cell["area"].sample(rng, n), dtype=float)
    j = current.sample(rng, n)
    capacity = x.get("cathode.delivered_capacity", y["C_theo"])

    def drawn(name: str, prior: Measured | None):
        # An input the cell equations do not use (a card with a measured charged anode) still
        # has a card value the risks need: draw it here.
        if name in x:
            return x[name]
        if prior is None:
            raise CardError("missing, needed for the risks", file=card.origin, field=name)
        return prior.sample(rng, n)

    anode = card.anode.material
    s = swelling(drawn(f"{anode.name}.density", anode.get("density")),
                 drawn(f"{anode.name}.specific_capacity", anode.get("specific_capacity")))
    score = risk.score(
        pressure=pressure, separator_thickness=x["separator.thickness"], area=area, current=j, cycles=float(cycles),
        reservoir_thickness=drawn("anode.reservoir_thickness", card.anode.get("reservoir_thickness")), swelling=s,
        capacity=capacity,
        cathode_thickness=x["cathode.thickness"], porosity=y["porosity"],
        r_separator=y["R_separator"], r_interface=y["R_interface"], selected_shard=selected_shard,
        formation_cycles=float(formation_cycles),
        formation_current=None if formation_current is None else float(formation_current.value))
    # The pressure drawn, as a lab's cells vary, or fixed at the card value as a design scores it.
    spread = [float(v) for v in np.quantile(pressure, [0.025, 0.975])]
    described: dict = {"current": {"value": float(current.value), "unit": "mA/cm^2"}, "cycles": cycles,
                       "pressure": {"drawn": conditions == "drawn", "mean": float(np.mean(pressure)), "ci95": spread,
                                    "unit": "MPa"}}
    if formation_cycles and formation_current is not None:
        described["formation"] = {"cycles": formation_cycles,
                                  "current": {"value": float(formation_current.value), "unit": "mA/cm^2"}}
    if selected_shard:
        described["selected_shard"] = True
    return _result(card, score, risk, described, seed)


class RiskResult(Result):
    """The risks of one card: per-draw values over the calibrated posterior and the card's draws.

    Attributes
    ----------
    values : dict[str, numpy.ndarray]
        Per-draw ``P_fracture``, ``P_short``, ``R_cell`` and its parts ``R_separator``,
        ``R_interface``, ``R_cathode``, ``R_contact``, ``R_formation`` (they add up to R_cell),
        ``ohmic_drop`` and ``retention`` (the first-cycle loss included).
    conditions : dict
        The current density (mA/cm^2) and cycles the risks are evaluated at; ``formation`` and
        ``selected_shard`` where given.
    most_informative : dict
        For each risk, the parameter that drives its uncertainty and the experiment that would
        measure it.
    caveat : str
        Set where the card's separator is not the one the models were calibrated on.
    """

    kind = "risk"

    def __init__(self, card_name: str, card_origin: str, card_sha256: str, values: dict[str, np.ndarray],
                 conditions: dict, most_informative: dict, seed: int, caveat: str = ""):
        self.card_name, self.card_origin, self.card_sha256 = card_name, card_origin, card_sha256
        self.values, self.conditions, self.most_informative = values, conditions, most_informative
        self.seed, self.caveat = seed, caveat
        self.idata, self.diagnostics = None, None

    @property
    def title(self) -> str:
        return self.card_name

    @property
    def draws(self) -> int:
        return int(next(iter(self.values.values())).size)

    def summary(self) -> dict[str, dict]:
        return {name: summarise_named(name, v, registry.unit(name)) for name, v in self.values.items()}

    def to_json(self) -> dict:
        out = {"cell": self.card_name, "card": self.card_origin, "method": "risk", "quantities": self.summary(),
               "conditions": self.conditions, "most_informative": self.most_informative, "seed": self.seed,
               "draws": self.draws}
        if self.caveat:
            out["caveat"] = self.caveat
        return out

    @property
    def warnings(self) -> list[str]:
        return [self.caveat] if self.caveat else []

    def _netcdf_groups(self):
        import xarray as xr

        return {"draws": xr.Dataset({k: ("draw", np.asarray(v, dtype=float)) for k, v in self.values.items()})}

    @classmethod
    def _from_netcdf(cls, document, groups, idata):
        values = {k: np.asarray(groups["draws"][k]) for k in groups["draws"].data_vars}
        return cls(document["cell"], document["card"], "", values, document["conditions"],
                   document["most_informative"], int(document["seed"]), document.get("caveat", ""))

    def plot(self, **kwargs):
        from ...priors.display import figures

        return figures.histograms(self.values, {n: term(n).unit_text for n in self.values}, self.title,
                                  as_figure=True, **kwargs)


def _result(card, score: RiskScore, risk: RiskModel, conditions: dict, seed: int) -> RiskResult:
    values = {name: np.broadcast_to(np.asarray(v, dtype=float), (risk.size,)) for name, v in score.as_dict().items()}
    priors = load_risk_priors()
    informative = {}
    for name, v in values.items():
        model = registry.driver(name)  # None: the card's own inputs alone (R_separator, R_interface)
        if model is None:
            informative[name] = {"parameter": "", "rank_r2": 0.0, "experiment": CARD_INPUTS}
            continue
        parameter, r2 = risk.most_informative(v, model)
        if r2 < DRIVES:
            informative[name] = {"parameter": "", "rank_r2": round(r2, 3),
                                 "experiment": f"no single {model} parameter drives it (largest rank r^2 "
                                               f"{r2:.2f}); {CARD_INPUTS}"}
            continue
        informative[name] = {"parameter": parameter, "rank_r2": round(r2, 3),
                             "experiment": priors[parameter].experiment if parameter in priors else ""}
    caveat = ""
    if card.separator.material.name != CALIBRATED_SEPARATOR:
        caveat = (f"the risk models are calibrated on {CALIBRATED_SEPARATOR} tapes; for "
                  f"{card.separator.material.name} their fracture and short-circuit parameters are the "
                  "NaSICON ones until a calibration of its own exists")
    return RiskResult(card.name, card.origin, card.sha256, values, conditions, informative, seed, caveat)
