"""What a card's observations say of its inputs, for the Bayesian model (:mod:`.bayes`) and its
prior-data checks (:mod:`.conflicts`): which input each observation informs, the weak prior an
observed fixed value gets, and the specimens of a material's Arrhenius quantity (the cell's own
among them, and the scale of their spread)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..priors import CardError, Measured
from ..priors.observations import (
    ARRHENIUS_FIELDS,
    DERIVED_QUANTITIES,
    ArrheniusSeries,
    Capacities,
    JointMeasurement,
    Measurement,
    Replicates,
    Spread,
)
from .model import CellModel

_WEAK = 0.5  # sd of the weak prior given to an observed fixed value, relative to the value
_FIXED_SPREAD = 0.1  # scale of a specimen spread's prior where the card's value is fixed, relative


def _observed_inputs(model: CellModel) -> dict[str, str]:
    """Input name -> the observation (``observations[i]``) that informs it."""
    out: dict[str, str] = {}
    sep = model.card.separator.material.name
    for obs in model.card.observations:
        parts = obs.parts if isinstance(obs, JointMeasurement) else (obs,)
        for part in parts:
            if isinstance(part, Measurement) and part.quantity in DERIVED_QUANTITIES:
                names = [f"{sep}.conductivity"] + (["separator.thickness"] if part.cell_sample else [])
            elif isinstance(part, (Replicates, Measurement)):
                names = [part.quantity]
            elif isinstance(part, Capacities):
                names = ["cathode.delivered_capacity"]
            else:
                names = [part.quantity, part.energy]
            for name in names:
                if name not in model.inputs:
                    field_ = f"{obs.where}.quantity" if not isinstance(obs, Capacities) else obs.where
                    why = ("add delivered_capacity to [cathode]" if isinstance(obs, Capacities)
                           else "this card does not use it (derived, or not given)")
                    raise CardError(f"{name!r} is not an input of this cell: {why}", file=model.card.origin,
                                    field=field_)
                out.setdefault(name, obs.where)
    return out


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


def specimen_groups(model: CellModel) -> dict[str, SpecimenGroup]:
    """The specimens each observed material quantity has, and which one is the cell's."""
    groups: dict[str, SpecimenGroup] = {}
    for obs in model.card.observations:
        parts = obs.parts if isinstance(obs, JointMeasurement) else (obs,)
        for part in parts:
            if not isinstance(part, (ArrheniusSeries, Measurement)):
                continue
            key = group_of(part.quantity, model)
            if key is None:
                continue  # a layer quantity measured is the cell's own (observations.py checks)
            group = groups.setdefault(key, SpecimenGroup(key))
            label = part.specimen or obs.where
            if label not in group.labels:
                group.labels.append(label)
            if part.cell_sample:
                if group.cell not in (None, label):
                    raise CardError(f"two specimens are named as the cell's own {key}", file=model.card.origin,
                                    field=f"{obs.where}.cell_sample")
                group.cell = label
            if part.specimen_spread is not None:
                if group.spread not in (None, part.specimen_spread):
                    raise CardError(f"a second, different specimen_spread for {key}", file=model.card.origin,
                                    field=f"{obs.where}.specimen_spread")
                group.spread = part.specimen_spread
    replicated = {o.quantity for o in model.card.observations if isinstance(o, Replicates)}
    for key in groups:
        if key in replicated:
            raise CardError(f"{key} has replicates and series or measurements of specimens; give them as one kind",
                            file=model.card.origin, field="observations")
    return groups


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
