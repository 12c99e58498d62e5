"""Bayesian propagation: the card's priors, the same cell equations as a PyTensor graph, and the
observations the card attaches, sampled with NUTS (PyMC) and judged by arviz diagnostics.

Each uncertain input becomes a PyMC variable with its card distribution, truncated at its
physical bounds wherever they cut its support (however little prior mass lies beyond: data may
push the posterior there); fixed inputs stay constants unless data observe them, when a weak
prior (normal, sd half the value, truncated the same way) replaces the fixed value.
:meth:`CellModel.evaluate` with ``xp=pytensor.tensor`` gives every output as a deterministic; a
derived porosity outside (0, 1) has zero density, as Monte Carlo drops such draws.

Specimens are not cells.  Data describe the specimens they were measured on, drawn from a
population; the cell is one more specimen of it unless an observation says it is the cell's own
(``cell_sample``).

replicates
    readings y_ij of specimen j: y_ij ~ N(theta_j, reading_sd), theta_j ~ N(mu, tau) truncated at
    the field's bounds; mu has the card's prior, tau (specimen-to-specimen spread) a half-normal
    prior with the card's sd (or ``specimen_spread``) as scale.  The cell's own value is theta of
    its specimen (``cell_sample``) or a new specimen, truncated the same way.
capacities
    discharge_k ~ N(C_delivered, s_d); discharge_k / charge_k ~ N(CE, s_ce), CE ~ U(0.5, 1.05):
    the delivered capacity is the level of the listed cycles, CE their mean efficiency.
arrhenius, and measurements of a conductivity, an interface resistance or separator.resistance
    a population of specimens on a log scale: ln X_j = ln X_pop + tau z_j, X_pop with the card's
    prior of the material's value, tau (a relative spread) half-normal with the card's relative
    uncertainty (or ``specimen_spread``) as scale.  Each series or measurement informs its own
    specimen (``specimen = NAME`` joins several); the activation energy is the material's,
    shared by its specimens.  The first specimen anchors the population (ln X_pop = ln X_1 -
    tau z_1, an exact change of variables without the funnel of a centred hierarchy); further
    specimens are centred on it.  Series use the robust Eq. 4 likelihood
    (nassb.inference.arrhenius); a measurement is value ~ N(X_j at its temperature, its sd).
    ``separator.resistance`` is d / sigma(T) of the specimen: the cell's thickness and
    conductivity for the cell's own, a thickness drawn from the card's prior otherwise.
other measurements
    value ~ N(quantity, its sd): a layer quantity measured is the cell's own.

A resistance measured in ohm is R / A with the card's area A (and its uncertainty); several
quantities of one fit are one multivariate normal with the fit's covariance.

Prior-data conflict (:mod:`.conflicts`): data many prior standard deviations from the card's
prior, or a posterior far outside the prior's bulk (more than
:data:`~nassb.inference.conflicts.CONFLICT_SD` in the normal scale of the prior's probability),
fail the diagnostics gate with a sentence that names the observation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..priors import CardError, Measured
from ..priors.observations import (
    ARRHENIUS_FIELDS,
    ArrheniusSeries,
    Capacities,
    JointMeasurement,
    Measurement,
    Replicates,
)
from ..priors.vocabulary import term
from .arrhenius import robust_loglike, sign_of
from .cell import arrhenius_factor, separator_resistance
from .conflicts import data_conflicts, posterior_conflicts
from .diagnostics import Diagnostics
from .model import CellModel
from .result import PropagationResult, add_covariance, summary_dataset
from .sampling import SamplerSettings, sample
from .specimens import (
    _FIXED_SPREAD,
    SpecimenGroup,
    _observed_inputs,
    _weak,
    group_of,
    specimen_groups,
    spread_scale,
)
from .statistics import summarise_named

HIERARCHICAL_TARGET_ACCEPT = 0.99
EXTRA_OUTPUTS = {"coulombic_efficiency": term("coulombic_efficiency").unit}


def _cuts(prior: Measured) -> bool:
    """Whether the physical bounds cut the distribution's support at all."""
    lo, hi = prior.truncation()
    if prior.dist == "lognormal":
        return lo > 0 or bool(np.isfinite(hi))
    return bool(np.isfinite(lo) or np.isfinite(hi))


def _within(prior: Measured):
    """The transform that keeps a variable inside the field's bounds (None: nothing to keep)."""
    from pymc.distributions import transforms

    lo, hi = prior.truncation()
    if prior.dist == "lognormal" and not np.isfinite(hi) and lo <= 0:
        return None
    if not (np.isfinite(lo) or np.isfinite(hi)):
        return None
    return transforms.Interval(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)


def prior_variable(name: str, prior: Measured, observed: bool = False):
    """A PyMC variable for one input (or a float for a fixed, unobserved one).

    The field's physical bounds hold in every draw: where they cut off a negligible mass the
    variable is sampled through a transform onto them (the normal's density differs from the
    truncated one by a constant only), otherwise it is a truncated distribution.
    """
    import pymc as pm

    if not prior.uncertain:
        if not observed:
            return float(prior.value)
        prior = _weak(prior)
    if prior.dist == "uniform":
        return pm.Uniform(name, lower=prior.low, upper=prior.high)
    if prior.dist == "loguniform":
        # Uniform in the logarithm: NUTS moves in ln x, the quantity is its exponential.
        import pytensor.tensor as pt

        log_x = pm.Uniform(f"{name}_log", lower=np.log(prior.low), upper=np.log(prior.high))
        return pm.Deterministic(name, pt.exp(log_x))
    lo, hi = prior.truncation()
    bounds = {"lower": lo if np.isfinite(lo) else None, "upper": hi if np.isfinite(hi) else None}
    if prior.dist == "lognormal":
        mu, sigma = prior.lognormal_parameters()
        if not _cuts(prior):
            return pm.LogNormal(name, mu=mu, sigma=sigma)  # positive as it is
        if not prior.truncated:
            return pm.LogNormal(name, mu=mu, sigma=sigma, default_transform=_within(prior))
        return pm.Truncated(name, pm.LogNormal.dist(mu=mu, sigma=sigma), **bounds)
    if not prior.truncated:
        within = _within(prior)
        if within is None:
            return pm.Normal(name, mu=prior.value, sigma=prior.sd)
        return pm.Normal(name, mu=prior.value, sigma=prior.sd, default_transform=within)
    return pm.TruncatedNormal(name, mu=prior.value, sigma=prior.sd, **bounds)



def _prior_logp(prior: Measured, value):
    """Log density of ``prior`` (as :func:`prior_variable` builds it, observed) at ``value``."""
    import pymc as pm

    prior = prior if prior.uncertain else _weak(prior)
    if prior.dist == "uniform":
        dist = pm.Uniform.dist(lower=prior.low, upper=prior.high)
    else:
        lo, hi = prior.truncation()
        bounds = {"lower": lo if np.isfinite(lo) else None, "upper": hi if np.isfinite(hi) else None}
        if prior.dist == "lognormal":
            mu, sigma = prior.lognormal_parameters()
            dist = pm.LogNormal.dist(mu=mu, sigma=sigma)
            if _cuts(prior):
                dist = pm.Truncated.dist(dist, **bounds)
        elif _cuts(prior):
            dist = pm.TruncatedNormal.dist(mu=prior.value, sigma=prior.sd, **bounds)
        else:
            dist = pm.Normal.dist(mu=prior.value, sigma=prior.sd)
    return pm.logp(dist, value)


def _bounded_normal(name: str, centre, spread, prior: Measured, shape=None):
    """Specimen values N(centre, spread) truncated at the field's physical bounds (centred).

    Sampled through a transform onto the bounds, with the truncated normal's normaliser added
    (it depends on the population): the same density as PyMC's TruncatedNormal at a fraction of
    its gradient's cost.
    """
    import pymc as pm

    within = _within(prior)
    if within is None:
        return pm.Normal(name, mu=centre, sigma=spread, shape=shape)
    theta = pm.Normal(name, mu=centre, sigma=spread, shape=shape, default_transform=within)
    pm.Potential(f"{name}_bounds", -(shape or 1) * _log_mass(centre, spread, prior))
    return theta


def _log_mass(centre, spread, prior: Measured):
    """log P(lo <= X <= hi) for X ~ N(centre, spread) and the field's bounds."""
    import pymc as pm
    import pytensor.tensor as pt

    lo, hi = prior.truncation()
    if np.isfinite(lo) and np.isfinite(hi):
        return log_diff_normal_cdf_std((hi - centre) / spread, (lo - centre) / spread)
    if np.isfinite(lo):
        return pm.logcdf(pm.Normal.dist(0.0, 1.0), (centre - lo) / spread)
    if np.isfinite(hi):
        return pm.logcdf(pm.Normal.dist(0.0, 1.0), (hi - centre) / spread)
    return pt.as_tensor_variable(0.0)


def _new_specimen(name: str, centre, spread, prior: Measured):
    """A new specimen of a population N(centre, spread), truncated at the field's bounds.

    Written centre + spread z with z a standard normal (no funnel); the truncation is a wall at
    the bounds and the normaliser of the cut normal, so the new specimen's density integrates to
    one whatever the population and does not pull on it.
    """
    import pymc as pm
    import pytensor.tensor as pt

    z = pm.Normal(f"{name}_cell_z", 0.0, 1.0)
    value = pm.Deterministic(name, centre + spread * z)
    lo, hi = prior.truncation()
    inside = pt.as_tensor_variable(np.array(True))
    if np.isfinite(lo):
        inside = pt.and_(inside, pt.ge(value, lo))
    if np.isfinite(hi):
        inside = pt.and_(inside, pt.le(value, hi))
    pm.Potential(f"{name}_cell_bounds", pt.switch(inside, -_log_mass(centre, spread, prior), -np.inf))
    return value


def log_diff_normal_cdf_std(upper, lower):
    """log(Phi(upper) - Phi(lower)) for a standard normal, stable in the tails."""
    from pymc.distributions.dist_math import log_diff_normal_cdf

    return log_diff_normal_cdf(0.0, 1.0, upper, lower)


# -- specimens of a material's Arrhenius quantity ----------------------------------------------

def _specimens(group: SpecimenGroup, prior: Measured):
    """PyMC variables of a group: the log value of each specimen by label, and the cell's value."""
    import pymc as pm
    import pytensor.tensor as pt

    name = group.quantity
    spread = pm.HalfNormal(f"{name}_specimen_spread", sigma=spread_scale(group, prior))
    mean = prior.moments()[0]
    anchor = pm.Flat(f"{name}_specimen_log", initval=math.log(mean))
    offset = pm.Normal(f"{name}_population_z", 0.0, 1.0)
    log_population = anchor - spread * offset
    population = pm.Deterministic(f"{name}_population", pt.exp(log_population))
    # ln X_pop has the card's prior: its density in ln X_pop (the Jacobian of exp included).
    pm.Potential(f"{name}_population_prior", _prior_logp(prior, population) + log_population)
    logs = {group.labels[0]: anchor}
    for k, label in enumerate(group.labels[1:], start=1):
        logs[label] = pm.Normal(f"{name}_specimen_log_{k}", mu=log_population, sigma=spread)
    if group.cell is not None:
        cell = pm.Deterministic(name, pt.exp(logs[group.cell]))
    else:
        z = pm.Normal(f"{name}_cell_z", 0.0, 1.0)
        cell = pm.Deterministic(name, pt.exp(log_population + spread * z))
    return logs, cell


def build(model: CellModel):
    """The PyMC model of a card: priors, observations, and every output as a deterministic.

    Returns the model, the names of the quantities to report (outputs first, then the
    observed inputs, the populations and extras such as the Coulombic efficiency), and whether
    the model has latent specimens (a hierarchy that needs smaller steps).
    """
    import pymc as pm
    import pytensor.tensor as pt

    observed = _observed_inputs(model)
    groups = specimen_groups(model)
    replicated = {o.quantity: o for o in model.card.observations if isinstance(o, Replicates)}
    report = list(model.outputs)
    with pm.Model() as pmodel:
        x: dict = {}
        logs: dict[str, dict] = {}
        for name, prior in model.inputs.items():
            if name in replicated:
                x[name] = _replicates(name, prior, replicated[name])
            elif name in groups:
                logs[name], x[name] = _specimens(groups[name], prior)
            else:
                x[name] = prior_variable(name, prior, name in observed)
        context = _Context(model, x, logs, groups, _area(model))
        for obs in model.card.observations:
            if isinstance(obs, Capacities):
                _capacities(obs, x["cathode.delivered_capacity"])
                report.append("coulombic_efficiency")
            elif isinstance(obs, ArrheniusSeries):
                log_value = logs[obs.quantity][obs.specimen or obs.where]
                robust_loglike(_safe(obs.where), log_value, x[obs.energy], obs.temperature,
                               x[model.reference], obs.values, sign_of(obs.quantity.partition(".")[2]))
            elif isinstance(obs, JointMeasurement):
                mu = pt.stack([pt.as_tensor_variable(context.value(part, obs.where)) for part in obs.parts])
                pm.MvNormal(f"{_safe(obs.where)}_observed", mu=mu, cov=obs.covariance,
                            observed=np.array([p.value.value for p in obs.parts]))
            elif isinstance(obs, Measurement):
                # The measured value and its uncertainty as written, not the moments of a truncated prior.
                pm.Normal(f"{_safe(obs.where)}_observed", mu=context.value(obs, obs.where), sigma=obs.value.sd,
                          observed=obs.value.value)
        outputs = model.evaluate(x, xp=pt)
        if model.derived_porosity:
            p = outputs["porosity"]
            pm.Potential("porosity_in_bounds", pt.switch(pt.and_(pt.gt(p, 0.0), pt.lt(p, 1.0)), 0.0, -np.inf))
        for name, expr in outputs.items():
            pm.Deterministic(name, pt.as_tensor_variable(expr))
        extra = [*observed, *(f"{q}_population" for q in groups), *(f"{q}_specimen_spread" for q in groups),
                 *(f"{q}_population_mean" for q in replicated), *(f"{q}_specimen_spread" for q in replicated)]
        if not isinstance(context.area, (float, int, type(None))):
            extra.append("cell.area")  # an uncertain area: its posterior is worth reading
        for name in extra:
            if name not in report and name in pmodel.named_vars:
                report.append(name)
    # Centred latent specimens (replicates read more than once, a group's second specimen on)
    # under a spread learned from few specimens make a funnel; a group's anchored first
    # specimen and the cells' new specimens do not.
    hierarchical = any(len(g.labels) > 1 for g in groups.values()) or any(
        name.endswith("_specimen") for name in pmodel.named_vars)
    return pmodel, report, hierarchical


def _safe(where: str) -> str:
    return where.replace("[", "_").replace("]", "")


def _area(model: CellModel):
    """The card's electrode area (cm^2) where a resistance in ohm needs it: a variable when it
    is uncertain, a float when fixed, None when nothing needs it."""
    needs = [part for obs in model.card.observations
             for part in (obs.parts if isinstance(obs, JointMeasurement) else (obs,))
             if isinstance(part, Measurement) and not part.per_area]
    if not needs:
        return None
    area = model.card.cell.get("area")
    if area is None:
        raise CardError("a resistance in ohm needs [cell] area (cm^2) to become an area resistance",
                        file=model.card.origin, field=f"{needs[0].where}.value")
    return prior_variable("cell.area", area)


@dataclass
class _Context:
    """What a measurement's modelled value needs: the inputs, the specimens, the area."""

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

        name = f"separator.thickness_of_{_safe(label)}"
        model = pm.modelcontext(None)
        if name in model.named_vars:
            return model.named_vars[name]
        prior = self.model.inputs["separator.thickness"]
        return prior_variable(name, prior) if prior.uncertain else prior.value


def _replicates(name: str, prior: Measured, obs: Replicates):
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
    tag = _safe(obs.where)
    if single.any():
        pm.Normal(f"{tag}_single_readings", mu=centre, sigma=pt.sqrt(spread ** 2 + reading_sd ** 2),
                  observed=obs.values[single])
    if latent.size:
        theta = _bounded_normal(f"{name}_specimen", centre, spread, prior, shape=latent.size)
        position = {int(j): k for k, j in enumerate(latent)}
        repeated = ~single
        index = np.array([position[int(j)] for j in obs.samples[repeated]], dtype=int)
        pm.Normal(f"{tag}_repeated_readings", mu=theta[index], sigma=reading_sd, observed=obs.values[repeated])
        if obs.cell_sample is not None:
            return pm.Deterministic(name, theta[position[obs.cell_sample]])
    return _new_specimen(name, centre, spread, prior)


def _capacities(obs: Capacities, delivered) -> None:
    import pymc as pm

    level = float(np.mean(obs.discharge))
    scatter = pm.HalfNormal(f"{_safe(obs.where)}_discharge_scatter", sigma=0.1 * level)
    pm.Normal(f"{_safe(obs.where)}_discharge", mu=delivered, sigma=scatter, observed=obs.discharge)
    efficiency = pm.Uniform("coulombic_efficiency", lower=0.5, upper=1.05)
    ratio_scatter = pm.HalfNormal(f"{_safe(obs.where)}_efficiency_scatter", sigma=0.05)
    pm.Normal(f"{_safe(obs.where)}_efficiency", mu=efficiency, sigma=ratio_scatter,
              observed=obs.discharge / obs.charge)


_DEFAULT_SETTINGS = SamplerSettings()


def propagate_bayes(model: CellModel, settings: SamplerSettings = _DEFAULT_SETTINGS) -> PropagationResult:
    """Posterior of every output given the card's priors and observations (NUTS).

    The result has the gum/mc summary (mean, sd, equal-tailed 95 % interval) plus the
    InferenceData (``result.idata``), the outputs' joint covariance and the
    :class:`Diagnostics`, which fail where the data conflict with the card's priors.  A card
    without observations gives its prior, sampled by NUTS; the diagnostics say so.
    """
    import json

    from .montecarlo import joint_covariance

    seed = settings.resolved_seed()
    conflicts = data_conflicts(model)
    pmodel, report, hierarchical = build(model)
    if hierarchical:
        # Latent specimens under a spread learned from few specimens make a funnel: smaller
        # steps (target acceptance 0.99) remove the divergences it causes with 0.9.
        settings = replace(settings, target_accept=max(settings.target_accept, HIERARCHICAL_TARGET_ACCEPT))
    idata = sample(pmodel, settings, seed)
    units = [_unit(model, n) for n in report]
    summaries = [summarise_named(n, np.asarray(idata.posterior[n]), unit) for n, unit in zip(report, units)]
    ds = summary_dataset(report, summaries,
                         attrs={"cell": model.card.name, "card": model.card.origin,
                                "card_sha256": model.card.sha256, "method": "bayes", "seed": seed,
                                "observations": len(model.card.observations),
                                "conventions": json.dumps(model.conventions())})
    heavy = {n for n, s in zip(report, summaries) if s["sd"] is None}
    draws = {n: np.asarray(idata.posterior[n]).ravel() for n in model.outputs}
    ds = add_covariance(ds, *joint_covariance(draws, heavy))
    free = [v.name for v in pmodel.free_RVs]
    diag = Diagnostics.from_idata(idata, free + report)
    groups = specimen_groups(model)
    replicated = {o.quantity for o in model.card.observations if isinstance(o, Replicates)}
    diag = diag.with_problems(*conflicts, *posterior_conflicts(model, idata.posterior, groups, replicated))
    notes = [o.note for o in model.card.observations if isinstance(o, JointMeasurement) and o.note]
    if not model.card.observations:
        notes.append("the card has no observations: this posterior is its prior, sampled by NUTS "
                     "(method 'mc' gives the same faster)")
    diag = diag.with_notes(*notes)
    return PropagationResult(ds, idata=idata, diagnostics=diag, model=model)


def _unit(model: CellModel, name: str) -> str:
    """Unit of a reported quantity: an output, an extra, an input, a population or a spread."""
    if name in model.outputs:
        return model.outputs[name]
    if name in EXTRA_OUTPUTS:
        return EXTRA_OUTPUTS[name]
    if name == "cell.area":
        return "cm^2"
    if name in model.inputs:
        return model.inputs[name].unit or "1"
    for suffix in ("_population_mean", "_population"):
        if name.endswith(suffix):
            return model.inputs[name[: -len(suffix)]].unit or "1"
    if name.endswith("_specimen_spread"):
        base = name[: -len("_specimen_spread")]
        # A material quantity's spread is relative (log scale); a layer quantity's is absolute.
        return "1" if group_of(base, model) is not None else (model.inputs[base].unit or "1")
    return "1"
