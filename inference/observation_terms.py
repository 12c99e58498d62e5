"""How each kind of observation enters the Bayesian model (:mod:`.bayes`): one term per kind,
looked up by the observation's type, as a model is built term by term.

A term says which inputs its observation informs (:func:`observed_inputs`), which of its parts
measure a material's specimen (:func:`specimen_groups`), which input it builds itself as a
population of specimens (replicates), its likelihood, the readings in ohm that need the card's
area, its prior-data conflicts (:func:`data_conflicts`, with the checks of :mod:`.conflicts`)
and the notes it leaves on the diagnostics.  A new kind of observation is one new term,
:func:`register`-ed for its type; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from ..priors import CardError
from ..priors.observations import (
    ARRHENIUS_FIELDS,
    DERIVED_QUANTITIES,
    ArrheniusSeries,
    Capacities,
    JointMeasurement,
    Measurement,
    Replicates,
)
from .arrhenius import robust_loglike, sign_of
from .cell import arrhenius_factor, separator_resistance
from .conflicts import capacity_conflicts, measurement_conflicts, replicate_conflicts, series_conflicts
from .model import CellModel
from .pymc_variables import bounded_normal, new_specimen, prior_variable, safe
from .specimens import _FIXED_SPREAD, SpecimenGroup, group_of

Obs = TypeVar("Obs")


@dataclass
class Context:
    """What a term's likelihood needs of the model being built: the inputs' variables ``x``, the
    log values of the specimens of each material quantity (``logs``), the specimen groups and the
    card's area (a variable, a float, or None where nothing needs it)."""

    model: CellModel
    x: dict
    logs: dict
    groups: dict
    area: object

    def value(self, obs: Measurement, where: str):
        """The modelled value of one measured quantity (ohm cm^2 or its field's unit; ohm where
        the measurement is per electrode, not per area)."""
        import pytensor.tensor as pt

        model, x = self.model, self.x
        key = group_of(obs.quantity, model)
        label = obs.specimen or where
        if obs.quantity == "separator.resistance":
            material = model.card.separator.material.name
            temperature = obs.temperature if obs.temperature is not None else x["cell.temperature"]
            own = self.groups[key].cell == label
            thickness = x["separator.thickness"] if own else self._thickness(label)
            value = separator_resistance(thickness, pt.exp(self.logs[key][label]), x[f"{material}.activation_energy"],
                                         temperature, x[model.reference], xp=pt)
        else:
            value = pt.exp(self.logs[key][label]) if key is not None else x[obs.quantity]
            if obs.temperature is not None:  # observations.py allows it for Arrhenius fields only
                material, _, field_ = obs.quantity.partition(".")
                energy = x[f"{material}.{ARRHENIUS_FIELDS[field_]}"]
                value = value * arrhenius_factor(sign_of(field_) * energy, obs.temperature, x[model.reference], xp=pt)
        if not obs.per_area:
            value = value / self.area
        return value

    def _thickness(self, label: str):
        """Another specimen's separator thickness: a draw from the card's prior (one per specimen)."""
        import pymc as pm

        name = f"separator.thickness_of_{safe(label)}"
        model = pm.modelcontext(None)
        if name in model.named_vars:
            return model.named_vars[name]
        prior = self.model.inputs["separator.thickness"]
        return prior_variable(name, prior) if prior.uncertain else prior.value


class ObservationTerm(Generic[Obs]):
    """What one kind of observation adds to the model; every method but :meth:`informs` adds
    nothing unless a kind overrides it."""

    missing = "this card does not use it (derived, or not given)"
    """Why an input the observation informs may be absent from the card (in its CardError)."""

    def informs(self, obs: Obs, model: CellModel) -> list[str]:
        """The inputs whose value the observation speaks of."""
        raise NotImplementedError

    def field(self, obs: Obs) -> str:
        """The card field a CardError about the observation's inputs names."""
        return f"{obs.where}.quantity"  # type: ignore[attr-defined]

    def specimens(self, obs: Obs) -> tuple:
        """The parts (series or measurements) of the observation that measure one specimen of a
        material quantity; :func:`.specimens.group_of` says which are a layer's own."""
        return ()

    def builds(self, obs: Obs) -> str | None:
        """The input the observation builds itself (:meth:`variable`) as a population of
        specimens: its ``_population_mean`` and ``_specimen_spread`` are reported and checked."""
        return None

    def variable(self, obs: Obs, name: str, prior):
        """The variable of the input :meth:`builds`, with the observation's likelihood."""
        raise NotImplementedError

    def likelihood(self, obs: Obs, context: Context) -> tuple[str, ...]:
        """Add the observation's likelihood to the model in context; the names it adds to report."""
        return ()

    def in_ohm(self, obs: Obs) -> tuple[Measurement, ...]:
        """The measurements in ohm (not per area), which need the card's area."""
        return ()

    def conflicts(self, obs: Obs, model: CellModel, groups: dict[str, SpecimenGroup], nominal: dict) -> list[str]:
        """Sentences of the observation's prior-data conflicts (before any sampling)."""
        return []

    def notes(self, obs: Obs) -> tuple[str, ...]:
        """Notes the observation leaves on the diagnostics."""
        return ()


TERMS: dict[type, ObservationTerm[Any]] = {}


def register(kind: type, term: ObservationTerm[Any]) -> None:
    """Make ``term`` the way observations of type ``kind`` (and its subclasses) enter the model."""
    TERMS[kind] = term


def term_of(obs: object) -> ObservationTerm[Any]:
    """The term of an observation, by its type (the nearest registered class of its MRO)."""
    for kind in type(obs).__mro__:
        if kind in TERMS:
            return TERMS[kind]
    raise TypeError(f"no observation term is registered for {type(obs).__name__}")


def built_inputs(model: CellModel) -> dict[str, Any]:
    """Input name -> the observation that builds its variable itself (the last one, if several)."""
    out = {}
    for obs in model.card.observations:
        name = term_of(obs).builds(obs)
        if name is not None:
            out[name] = obs
    return out


def observed_inputs(model: CellModel) -> dict[str, str]:
    """Input name -> the observation (``observations[i]``) that informs it first."""
    out: dict[str, str] = {}
    for obs in model.card.observations:
        term = term_of(obs)
        for name in term.informs(obs, model):
            if name not in model.inputs:
                raise CardError(f"{name!r} is not an input of this cell: {term.missing}", file=model.card.origin,
                                field=term.field(obs))
            out.setdefault(name, obs.where)
    return out


def specimen_groups(model: CellModel) -> dict[str, SpecimenGroup]:
    """The specimens each observed material quantity has, and which one is the cell's."""
    groups: dict[str, SpecimenGroup] = {}
    for obs in model.card.observations:
        for part in term_of(obs).specimens(obs):
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
    replicated = built_inputs(model)
    for key in groups:
        if key in replicated:
            raise CardError(f"{key} has replicates and series or measurements of specimens; give them as one kind",
                            file=model.card.origin, field="observations")
    return groups


def data_conflicts(model: CellModel) -> list[str]:
    """Observations whose data lie more than :data:`~.conflicts.CONFLICT_SD` prior standard
    deviations from what the card's prior expects of them (before any sampling)."""
    groups = specimen_groups(model)
    nominal = model.nominal()
    return [line for obs in model.card.observations for line in term_of(obs).conflicts(obs, model, groups, nominal)]


# -- the kinds of observation a card holds -----------------------------------------------------

class ReplicatesTerm(ObservationTerm[Replicates]):
    """Readings of specimens of a population (:func:`replicates`)."""

    def informs(self, obs: Replicates, model: CellModel) -> list[str]:
        return [obs.quantity]

    def builds(self, obs: Replicates) -> str | None:
        return obs.quantity

    def variable(self, obs: Replicates, name: str, prior):
        return replicates(name, prior, obs)

    def conflicts(self, obs: Replicates, model: CellModel, groups, nominal) -> list[str]:
        return replicate_conflicts(model, obs)


class CapacitiesTerm(ObservationTerm[Capacities]):
    """Charge and discharge capacities of listed cycles (:func:`capacities`)."""

    missing = "add delivered_capacity to [cathode]"

    def informs(self, obs: Capacities, model: CellModel) -> list[str]:
        return ["cathode.delivered_capacity"]

    def field(self, obs: Capacities) -> str:
        return obs.where

    def likelihood(self, obs: Capacities, context: Context) -> tuple[str, ...]:
        capacities(obs, context.x["cathode.delivered_capacity"])
        return ("coulombic_efficiency",)

    def conflicts(self, obs: Capacities, model: CellModel, groups, nominal) -> list[str]:
        return capacity_conflicts(model, obs)


class ArrheniusSeriesTerm(ObservationTerm[ArrheniusSeries]):
    """A temperature series of one specimen, with the robust Eq. 4 likelihood."""

    def informs(self, obs: ArrheniusSeries, model: CellModel) -> list[str]:
        return [obs.quantity, obs.energy]

    def specimens(self, obs: ArrheniusSeries) -> tuple:
        return (obs,)

    def likelihood(self, obs: ArrheniusSeries, context: Context) -> tuple[str, ...]:
        log_value = context.logs[obs.quantity][obs.specimen or obs.where]
        robust_loglike(safe(obs.where), log_value, context.x[obs.energy], obs.temperature,
                       context.x[context.model.reference], obs.values, sign_of(obs.quantity.partition(".")[2]))
        return ()

    def conflicts(self, obs: ArrheniusSeries, model: CellModel, groups, nominal) -> list[str]:
        return series_conflicts(model, obs, groups[obs.quantity], nominal)


class MeasurementTerm(ObservationTerm[Measurement]):
    """One measured value: value ~ N(the modelled quantity, its sd)."""

    def informs(self, obs: Measurement, model: CellModel) -> list[str]:
        if obs.quantity in DERIVED_QUANTITIES:
            sep = model.card.separator.material.name
            return [f"{sep}.conductivity"] + (["separator.thickness"] if obs.cell_sample else [])
        return [obs.quantity]

    def specimens(self, obs: Measurement) -> tuple:
        return (obs,)

    def likelihood(self, obs: Measurement, context: Context) -> tuple[str, ...]:
        import pymc as pm

        # The measured value and its uncertainty as written, not the moments of a truncated prior.
        pm.Normal(f"{safe(obs.where)}_observed", mu=context.value(obs, obs.where), sigma=obs.value.sd,
                  observed=obs.value.value)
        return ()

    def in_ohm(self, obs: Measurement) -> tuple[Measurement, ...]:
        return () if obs.per_area else (obs,)

    def conflicts(self, obs: Measurement, model: CellModel, groups, nominal) -> list[str]:
        return measurement_conflicts(model, obs, groups, nominal)


class JointMeasurementTerm(ObservationTerm[JointMeasurement]):
    """Several quantities of one fit: one multivariate normal with the fit's covariance."""

    def informs(self, obs: JointMeasurement, model: CellModel) -> list[str]:
        return [name for part in obs.parts for name in _MEASUREMENT.informs(part, model)]

    def specimens(self, obs: JointMeasurement) -> tuple:
        return obs.parts

    def likelihood(self, obs: JointMeasurement, context: Context) -> tuple[str, ...]:
        import pymc as pm
        import pytensor.tensor as pt

        mu = pt.stack([pt.as_tensor_variable(context.value(part, obs.where)) for part in obs.parts])
        pm.MvNormal(f"{safe(obs.where)}_observed", mu=mu, cov=obs.covariance,
                    observed=np.array([p.value.value for p in obs.parts]))
        return ()

    def in_ohm(self, obs: JointMeasurement) -> tuple[Measurement, ...]:
        return tuple(m for part in obs.parts for m in _MEASUREMENT.in_ohm(part))

    def conflicts(self, obs: JointMeasurement, model: CellModel, groups, nominal) -> list[str]:
        return [line for part in obs.parts for line in _MEASUREMENT.conflicts(part, model, groups, nominal)]

    def notes(self, obs: JointMeasurement) -> tuple[str, ...]:
        return (obs.note,) if obs.note else ()


_MEASUREMENT = MeasurementTerm()
register(Replicates, ReplicatesTerm())
register(Capacities, CapacitiesTerm())
register(ArrheniusSeries, ArrheniusSeriesTerm())
register(Measurement, _MEASUREMENT)
register(JointMeasurement, JointMeasurementTerm())


def replicates(name: str, prior, obs: Replicates):
    """The cell's value of a replicated quantity, with the readings' likelihood added.

    Specimens read more than once get their own (centred) latent value: their readings pin it
    down.  Specimens read once are marginalised, y ~ N(mu, sqrt(tau^2 + reading_sd^2)) (exact
    where the bounds cut off nothing), which avoids the funnel of one latent value per reading.
    The population mean, the latent specimens and the cell's new specimen respect the field's
    physical bounds.
    """
    import pymc as pm
    import pytensor.tensor as pt

    centre = prior_variable(f"{name}_population_mean", prior, observed=True)
    scale = obs.specimen_spread.absolute(prior.value) if obs.specimen_spread is not None else (
        prior.sd if prior.uncertain else _FIXED_SPREAD * abs(prior.value))
    spread = pm.HalfNormal(f"{name}_specimen_spread", sigma=scale)
    reading_sd = obs.reading_sd if obs.reading_sd is not None else pm.HalfNormal(
        f"{name}_reading_sd", sigma=scale)
    counts = np.bincount(obs.samples, minlength=len(obs.sample_names))
    cell_sample = obs.cell_sample if obs.cell_sample is not None else -1
    latent = np.flatnonzero((counts > 1) | (np.arange(counts.size) == cell_sample))
    single = np.isin(obs.samples, latent, invert=True)
    tag = safe(obs.where)
    if single.any():
        pm.Normal(f"{tag}_single_readings", mu=centre, sigma=pt.sqrt(spread ** 2 + reading_sd ** 2),
                  observed=obs.values[single])
    if latent.size:
        theta = bounded_normal(f"{name}_specimen", centre, spread, prior, shape=latent.size)
        position = {int(j): k for k, j in enumerate(latent)}
        repeated = ~single
        index = np.array([position[int(j)] for j in obs.samples[repeated]], dtype=int)
        pm.Normal(f"{tag}_repeated_readings", mu=theta[index], sigma=reading_sd, observed=obs.values[repeated])
        if obs.cell_sample is not None:
            return pm.Deterministic(name, theta[position[obs.cell_sample]])
    return new_specimen(name, centre, spread, prior)


def capacities(obs: Capacities, delivered) -> None:
    """discharge_k ~ N(C_delivered, s_d); discharge_k / charge_k ~ N(CE, s_ce), CE ~ U(0.5, 1.05)."""
    import pymc as pm

    level = float(np.mean(obs.discharge))
    scatter = pm.HalfNormal(f"{safe(obs.where)}_discharge_scatter", sigma=0.1 * level)
    pm.Normal(f"{safe(obs.where)}_discharge", mu=delivered, sigma=scatter, observed=obs.discharge)
    efficiency = pm.Uniform("coulombic_efficiency", lower=0.5, upper=1.05)
    ratio_scatter = pm.HalfNormal(f"{safe(obs.where)}_efficiency_scatter", sigma=0.05)
    pm.Normal(f"{safe(obs.where)}_efficiency", mu=efficiency, sigma=ratio_scatter,
              observed=obs.discharge / obs.charge)
