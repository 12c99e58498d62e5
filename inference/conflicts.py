"""Prior-data conflict (:mod:`.bayes`): data many prior standard deviations from the card's
prior, or a posterior far outside the prior's bulk (more than :data:`CONFLICT_SD` in the normal
scale of the prior's probability), fail the diagnostics gate with a sentence that names the
observation."""

from __future__ import annotations

import math

import numpy as np

from ..priors import Measured
from ..priors.observations import ARRHENIUS_FIELDS, ArrheniusSeries, Capacities, Measurement, Replicates
from ..priors.vocabulary import term
from .arrhenius import least_squares, sign_of
from .cell import arrhenius_exponent
from .model import CellModel
from .specimens import SpecimenGroup, _weak, group_of, spread_scale

CONFLICT_SD = 4.0
"""Data (or a posterior median) further than this many prior standard deviations from the prior
(a normal prior holds 6e-5 of its mass beyond) are a prior-data conflict: the gate fails."""


def _log_moments(prior: Measured) -> tuple[float, float]:
    """Mean and sd of ln X under a positive quantity's prior (weak where it is fixed)."""
    prior = prior if prior.uncertain else _weak(prior)
    if prior.dist == "lognormal":
        return prior.lognormal_parameters()
    mean, sd = prior.moments()
    return math.log(mean), sd / mean


def _moments(prior: Measured) -> tuple[float, float]:
    return (prior if prior.uncertain else _weak(prior)).moments()


def _sentence(where: str, what: str, z: float, prior: Measured, label: str) -> str:
    shown = str(prior if prior.uncertain else _weak(prior))
    return (f"prior-data conflict: {where} ({what}) lies {z:.3g} prior sd from the prior of {label} ({shown}); "
            "check the data's units and the card, or widen the prior")


def replicate_conflicts(model: CellModel, obs: Replicates) -> list[str]:
    """The mean reading against the prior, with the specimen spread and the reading scatter."""
    prior = model.inputs[obs.quantity]
    mean, sd = _moments(prior)
    scale = obs.specimen_spread.absolute(mean) if obs.specimen_spread is not None else sd
    reading = obs.reading_sd if obs.reading_sd is not None else float(np.std(obs.values))
    z = abs(float(np.mean(obs.values)) - mean) / math.sqrt(sd ** 2 + scale ** 2 + reading ** 2)
    if z > CONFLICT_SD:
        return [_sentence(obs.where, f"mean reading {np.mean(obs.values):.4g} {prior.unit}", z, prior, obs.quantity)]
    return []


def capacity_conflicts(model: CellModel, obs: Capacities) -> list[str]:
    """The mean discharge capacity against the prior of the delivered capacity."""
    prior = model.inputs["cathode.delivered_capacity"]
    mean, sd = _moments(prior)
    level = float(np.mean(obs.discharge))
    scatter = float(np.std(obs.discharge)) / math.sqrt(obs.discharge.size)
    z = abs(level - mean) / math.hypot(sd, scatter)
    if z > CONFLICT_SD:
        return [_sentence(obs.where, f"mean discharge {level:.4g} mAh/cm^2", z, prior, "cathode.delivered_capacity")]
    return []


def series_conflicts(model: CellModel, obs: ArrheniusSeries, group: SpecimenGroup, nominal) -> list[str]:
    out = []
    ls = least_squares(obs, nominal[model.reference])
    prior = model.inputs[obs.quantity]
    m, s = _log_moments(prior)
    fitted = ls[obs.kind]
    if fitted["value"] > 0 and math.isfinite(fitted["value"]):
        se = fitted.get("se", 0.0) / fitted["value"]
        z = abs(math.log(fitted["value"]) - m) / math.sqrt(s ** 2 + spread_scale(group, prior) ** 2 + se ** 2)
        if z > CONFLICT_SD:
            out.append(_sentence(obs.where, f"least squares {fitted['value']:.4g} {obs.unit} at the reference "
                                            "temperature", z, prior, obs.quantity))
    energy_prior = model.inputs[obs.energy]
    mean, sd = _moments(energy_prior)
    energy = ls["activation_energy"]
    if sd > 0:
        z = abs(energy["value"] - mean) / math.hypot(sd, energy.get("se", 0.0))
        if z > CONFLICT_SD:
            out.append(_sentence(obs.where, f"least-squares activation energy {energy['value']:.3g} eV", z,
                                 energy_prior, obs.energy))
    return out


def measurement_conflicts(model: CellModel, obs: Measurement, groups, nominal) -> list[str]:
    """A measurement against its prior expectation, to first order on a log scale for the
    positive Arrhenius quantities (with the specimen spread), as written otherwise."""
    key = group_of(obs.quantity, model)
    area = model.card.cell.get("area")
    if key is None:
        prior = model.inputs[obs.quantity]
        mean, sd = _moments(prior)
        value, unc = obs.value.value, obs.value.sd
        if not obs.per_area and area is not None:
            value, unc = value * area.value, unc * area.value
        z = abs(value - mean) / math.hypot(sd, unc)
        return [_sentence(obs.where, f"{value:.4g} {prior.unit}", z, prior, obs.quantity)] if z > CONFLICT_SD else []
    prior = model.inputs[key]
    m, s = _log_moments(prior)
    variance = s ** 2 + spread_scale(groups[key], prior) ** 2
    expected = m
    temperature = obs.temperature if obs.temperature is not None else (
        nominal["cell.temperature"] if obs.quantity == "separator.resistance" else None)
    material, _, field_ = key.partition(".")
    if obs.quantity == "separator.resistance":
        d = model.inputs["separator.thickness"]
        expected = math.log(0.1 * d.moments()[0]) - m
        variance += (d.moments()[1] / d.moments()[0]) ** 2
        field_ = "conductivity"
        sign = 1.0  # a resistance: R ~ exp(+E_A / k_B T)
    else:
        sign = sign_of(field_)
    if temperature is not None:
        energy = model.inputs[f"{material}.{ARRHENIUS_FIELDS[field_]}"]
        e_mean, e_sd = energy.moments()
        dx = arrhenius_exponent(1.0, temperature, nominal[model.reference])
        expected += sign * e_mean * dx
        variance += (e_sd * dx) ** 2
    value, unc = obs.value.value, obs.value.sd
    if not obs.per_area and area is not None:
        variance += (area.sd / area.value) ** 2
        value = value * area.value
        unc = unc * area.value
    if not value > 0:
        return [f"prior-data conflict: {obs.where} ({obs.quantity} = {value:g}) is not positive"]
    z = abs(math.log(value) - expected) / math.sqrt(variance + (unc / value) ** 2)
    if z <= CONFLICT_SD:
        return []
    return [_sentence(obs.where, f"{obs.quantity} {value:.4g} {term(obs.quantity).unit}", z, prior,
                      f"{key} (with its specimen spread)")]


def _prior_z(prior: Measured, x: float) -> float:
    """How far ``x`` lies in ``prior`` (weak where fixed), as a standard normal deviate of its
    probability: |Phi^-1(F(x))|, inf outside its support."""
    from scipy import stats

    prior = prior if prior.uncertain else _weak(prior)
    lo, hi = prior.truncation()
    if prior.dist == "uniform":
        lo, hi = max(lo, prior.low), min(hi, prior.high)
        dist = stats.uniform(prior.low, prior.high - prior.low)
    elif prior.dist == "lognormal":
        mu, sigma = prior.lognormal_parameters()
        dist = stats.lognorm(s=sigma, scale=math.exp(mu))
    else:
        dist = stats.norm(prior.value, prior.sd)
    if not lo <= x <= hi:
        return math.inf
    low, high = dist.cdf(lo), dist.cdf(hi)
    if not high > low:
        return math.inf
    p = (dist.cdf(x) - low) / (high - low)
    p = min(max(p, 1e-300), 1.0 - 1e-16)
    return abs(float(stats.norm.ppf(p)))


def posterior_conflicts(model: CellModel, posterior, groups, replicated, observed) -> list[str]:
    """Observed inputs (``observed``, and populations) whose posterior median lies far outside
    their prior."""
    checks = {name: name for name in observed if name not in groups and name not in replicated}
    checks.update({f"{q}_population": q for q in groups})
    checks.update({f"{q}_population_mean": q for q in replicated})
    out = []
    for variable, input_name in checks.items():
        if variable not in posterior:
            continue
        prior = model.inputs[input_name]
        median = float(np.median(np.asarray(posterior[variable])))
        z = _prior_z(prior, median)
        if z > CONFLICT_SD:
            shown = prior if prior.uncertain else _weak(prior)
            out.append(f"prior-data conflict: the posterior of {variable} (median {median:.4g} {prior.unit}) lies "
                       f"{'outside' if math.isinf(z) else f'{z:.3g} sd into the tail of'} its prior ({shown}); the "
                       "data and the card disagree: check the data's units and the card, or widen the prior")
    return out
