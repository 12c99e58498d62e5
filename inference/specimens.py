"""The specimens of a material's Arrhenius quantity, for the Bayesian model (:mod:`.bayes`) and
its prior-data checks (:mod:`.conflicts`): the group of specimens an observed quantity speaks of
(the cell's own among them, and the scale of their spread) and the weak prior an observed fixed
value gets.  Which observations inform which input and specimen is each kind's term's to say
(:mod:`.observation_terms`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..priors import Measured
from ..priors.observations import ARRHENIUS_FIELDS, DERIVED_QUANTITIES, Spread
from .model import CellModel

_WEAK = 0.5  # sd of the weak prior given to an observed fixed value, relative to the value
_FIXED_SPREAD = 0.1  # scale of a specimen spread's prior where the card's value is fixed, relative


def _weak(prior: Measured) -> Measured:
    """The weak prior of an observed fixed value: normal, sd half the value."""
    scale = _WEAK * abs(prior.value) or 1.0
    return Measured(prior.value, scale, prior.unit, "normal", bounds=prior.bounds, source=prior.source)


@dataclass
class SpecimenGroup:
    """The observed specimens of one material quantity (``"nzsp-tape.conductivity"``)."""

    quantity: str
    labels: list[str] = field(default_factory=list)   # in order of appearance
    cell: str | None = None                            # the label of the cell's own specimen
    spread: Spread | None = None                       # observations' Spread, if any gave one


def group_of(quantity: str, model: CellModel) -> str | None:
    """The material quantity whose specimens an observed quantity speaks of (None: the cell's own)."""
    if quantity in DERIVED_QUANTITIES:
        return f"{model.card.separator.material.name}.conductivity"
    return quantity if quantity.partition(".")[2] in ARRHENIUS_FIELDS else None


def _relative_sd(prior: Measured) -> float:
    """The prior's relative standard uncertainty (the log-scale sd of a lognormal)."""
    if not prior.uncertain:
        return _FIXED_SPREAD
    if prior.dist == "lognormal":
        return prior.lognormal_parameters()[1]
    mean, sd = prior.moments()
    return sd / abs(mean) if mean else _FIXED_SPREAD


def spread_scale(group: SpecimenGroup, prior: Measured) -> float:
    """Scale (log units, relative) of the half-normal prior of a group's specimen spread."""
    if group.spread is not None:
        return float(group.spread.fraction(prior.moments()[0]))
    return _relative_sd(prior)
