"""The risks, declared once: what each computes, what it outputs and how a design limits it.

A :class:`Risk` is one risk model as the rest of nassb sees it: the parameter group of
priors/data/risk.toml it draws on (``model``), the quantities it outputs (vocabulary names, in
the order a result lists them), how they are computed from the calibrated draws and a design
(``evaluate``), which parameters drive each output, which models a prior sensitivity widens,
and the limit a design must meet (:class:`Limit`).  The scoring (:meth:`RiskModel.score
<nassb.inference.risk.predict.RiskModel.score>`), the card's risk result, the design's limits
(:class:`nassb.design.decision.Limits`), the experiment ranking, the leave-one-out, the
readings and the sensitivity all iterate :data:`RISKS`.

A new risk model is one more :class:`Risk` in :data:`BUILT_IN` (its form, outputs, limit and
its parameters' schema; :func:`register` declares one while nassb runs, as the tests do), its
priors in priors/data/risk.toml, a recalibrated posterior (``nassb risk-calibrate``) and its
tests; where cells observe it, its likelihood terms and predictive check join likelihood.py and
checks.py.  The four built-in risks keep their parameter schema in
:data:`nassb.priors.risk.PARAMETERS` (read by priors code that cannot import this package) and
their calibration in likelihood.py and checks.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np



@dataclass(frozen=True)
class Limit:
    """How a design limits a risk's quantity.

    Attributes
    ----------
    setting : str
        The decision setting that holds it (``"max_fracture"``), a field of
        :class:`~nassb.design.decision.Limits` for the built-in risks.
    upper : bool
        Limited from above (a probability, a drop); False: from below (the retention).
    default : float
        The limit where a decision does not set it (design/defaults.py repeats the built-in ones
        for the command line's help, which must not import this package; a test holds them equal).
    low, high : float
        The values a limit may take.
    """

    setting: str
    upper: bool
    default: float
    low: float = 0.0
    high: float = 1.0


@dataclass(frozen=True)
class Risk:
    """One risk model's declaration.

    Attributes
    ----------
    name : str
        The quantity a design is judged on (``"P_fracture"``).
    model : str
        Its parameter group in priors/data/risk.toml (``"fracture"``).
    outputs : tuple of str
        Every quantity it outputs (``name`` among them), vocabulary names, in result order.
    evaluate : callable
        ``evaluate(risk_model, inputs) -> {output: per-draw array}``; ``inputs`` are the keyword
        arguments of :meth:`RiskModel.score` (pressure MPa, separator_thickness um, ...).
    limit : Limit or None
    drivers : mapping
        Output -> the parameter group whose draws drive it (None: the card's own inputs);
        an output not named here is driven by ``model``.
    depends : tuple of str
        The parameter groups a prior sensitivity of ``name`` widens (default ``(model,)``).
    reported : tuple of str
        The outputs a design's prior sensitivity reports (default ``(name,)``).
    likelihood : callable, str or None
        ``likelihood(theta, batch, xp) -> [(rows, log-likelihood on the pressure nodes)]``: the
        observed cells' terms that depend on their stack pressure; a built-in risk names its
        function in likelihood.py (which reads this registry, so the registry does not import it).
    potential : callable, str or None
        ``potential(theta, batch, xp) -> log-likelihood or None``: its observations apart from the
        pressure nodes (the sodium inventory's); None where the cells observe none.  Named as
        ``likelihood`` is.
    check : str
        The predictive check of its observations (checks.py), in words.
    parameters : mapping
        Parameter name -> :class:`~nassb.priors.quantity.FieldSpec` of a risk registered
        beside the built-in ones: :func:`register` adds them to the priors' schema, so its
        ``[model.parameter]`` tables of priors/data/risk.toml are read.
    terms : tuple
        Vocabulary terms (:class:`~nassb.priors.vocabulary.Term`) of outputs the vocabulary
        does not list yet.
    """

    name: str
    model: str
    outputs: tuple[str, ...]
    evaluate: Callable[..., dict]
    limit: Limit | None = None
    drivers: Mapping[str, str | None] = field(default_factory=dict)
    depends: tuple[str, ...] = ()
    reported: tuple[str, ...] = ()
    likelihood: Callable | str | None = None
    potential: Callable | str | None = None
    check: str = ""
    parameters: Mapping = field(default_factory=dict)
    terms: tuple = ()

    def driver(self, output: str) -> str | None:
        return self.drivers.get(output, self.model)

    @property
    def shown(self) -> tuple[str, ...]:
        """The outputs a prior sensitivity reports."""
        return self.reported or (self.name,)

    @property
    def widened(self) -> tuple[str, ...]:
        """The parameter groups a prior sensitivity of its quantities widens."""
        return self.depends or (self.model,)


def _fracture(model, a: dict) -> dict:
    return {"P_fracture": model.fracture(a["pressure"], a["separator_thickness"], a["area"], a["selected_shard"])}


def _short(model, a: dict) -> dict:
    return {"P_short": model.short(a["current"], a["cycles"], a["pressure"], a["reservoir_thickness"],
                                   a["separator_thickness"], a["capacity"], a["formation_cycles"],
                                   a["formation_current"])}


def _rate(model, a: dict) -> dict:
    parts = model.resistance_parts(a["r_separator"], a["r_interface"], a["cathode_thickness"], a["porosity"],
                                   a["pressure"])
    return {"R_cell": parts["R_cell"], **{k: v for k, v in parts.items() if k != "R_cell"},
            "ohmic_drop": a["current"] * parts["R_cell"] * 1e-3}


def _inventory(model, a: dict) -> dict:
    return {"retention": model.retention(a["cycles"], a["capacity"], a["reservoir_thickness"] / a["swelling"])}


BUILT_IN: tuple[Risk, ...] = (
    Risk("P_fracture", "fracture", ("P_fracture",), _fracture,
         Limit("max_fracture", True, 0.1),
         likelihood="fracture_terms", check="cracked or held, cells built alike pooled"),
    Risk("P_short", "short", ("P_short",), _short, Limit("max_short", True, 0.2),
         depends=("short", "rate"), likelihood="short_terms",
         check="survived or shorted, per cell and per group cycled alike"),
    Risk("ohmic_drop", "rate", ("R_cell", "R_separator", "R_interface", "R_cathode", "R_contact", "R_formation",
                                "ohmic_drop"), _rate,
         Limit("max_drop", True, 0.1, high=float("inf")),
         drivers={"R_separator": None, "R_interface": None}, reported=("R_cell", "ohmic_drop"),
         likelihood="resistance_terms", check="each measured resistance against its predictive CDF"),
    Risk("retention", "inventory", ("retention",), _inventory, Limit("min_retention", False, 0.8),
         depends=("inventory", "rate"), potential="inventory_potential",
         check="each first-cycle loss, efficiency and fade against its predictive CDF"),
)
RISKS: dict[str, Risk] = {r.name: r for r in BUILT_IN}
"""Every declared risk by the name of its judged quantity, in the order results list them."""


def register(risk: Risk) -> Risk:
    """Declare a risk beside the built-in ones (its outputs follow theirs) while nassb runs (a
    test, a notebook); returns it.

    Its parameters join the priors' schema and its terms the vocabulary.  A name, an output or
    a limit setting already declared is a ValueError."""
    from ...priors import risk as priors

    taken = {o for r in RISKS.values() for o in r.outputs}
    settings = {r.limit.setting for r in RISKS.values() if r.limit}
    if risk.name in RISKS or taken & set(risk.outputs) or risk.name not in risk.outputs:
        raise ValueError(f"risk {risk.name!r}: its name must be one of its outputs, none declared already")
    if risk.limit is not None and risk.limit.setting in settings:
        raise ValueError(f"risk {risk.name!r}: the limit {risk.limit.setting!r} is declared already")
    if risk.parameters and risk.model in priors.PARAMETERS:
        raise ValueError(f"risk {risk.name!r}: the parameter group {risk.model!r} exists already")
    _declare(risk)
    RISKS[risk.name] = risk
    return risk


def _declare(risk: Risk) -> None:
    """A risk's parameters into the priors' schema, its terms into the vocabulary."""
    from ...priors import risk as priors
    from ...priors import vocabulary

    if risk.parameters:
        priors.PARAMETERS[risk.model] = dict(risk.parameters)
    for t in risk.terms:
        vocabulary.TERMS[t.name] = t


def unregister(name: str) -> None:
    """Remove a registered risk (a built-in one stays)."""
    from ...priors import risk as priors
    from ...priors import vocabulary

    if name in {r.name for r in BUILT_IN} or name not in RISKS:
        raise ValueError(f"{name!r} is not a registered risk")
    risk = RISKS.pop(name)
    if risk.parameters:
        priors.PARAMETERS.pop(risk.model, None)
    for t in risk.terms:
        vocabulary.TERMS.pop(t.name, None)


def evaluate(model, inputs: dict) -> dict[str, np.ndarray]:
    """Every output of every declared risk, in order."""
    out: dict[str, np.ndarray] = {}
    for risk in RISKS.values():
        values = risk.evaluate(model, inputs)
        out.update((o, values[o]) for o in risk.outputs)
    return out


def outputs() -> tuple[str, ...]:
    """Every output of every declared risk, in order."""
    return tuple(o for r in RISKS.values() for o in r.outputs)


def limited() -> list[Risk]:
    """The risks a design limits, in order."""
    return [r for r in RISKS.values() if r.limit is not None]


def limited_names() -> list[str]:
    """The quantities a design's limits judge, in order."""
    return [r.name for r in limited()]


def driver(output: str) -> str | None:
    """The parameter group whose draws drive ``output`` (None: the card's own inputs)."""
    for risk in RISKS.values():
        if output in risk.outputs:
            return risk.driver(output)
    raise KeyError(output)


def unit(output: str) -> str:
    """The canonical unit of a risk output (from the vocabulary)."""
    from ...priors.vocabulary import term

    return term(output).unit


for _risk in BUILT_IN:   # a risk declared in BUILT_IN with its parameters and terms (none of the four)
    _declare(_risk)
