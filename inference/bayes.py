"""Bayesian propagation: the card's priors, the same cell equations as a PyTensor graph, and the
observations the card attaches, sampled with NUTS (PyMC) and judged by arviz diagnostics.

Each uncertain input becomes a PyMC variable with its card distribution (truncated at its
physical bounds where they matter); fixed inputs stay constants unless data observe them, when a
weak prior (normal, sd half the value) replaces the fixed value.  :meth:`CellModel.evaluate`
with ``xp=pytensor.tensor`` gives every output as a deterministic.  Observations:

replicates
    readings y_ij of specimen j: y_ij ~ N(theta_j, reading_sd), theta_j ~ N(mu, tau); mu has the
    card's prior, tau (specimen-to-specimen spread) a half-normal prior with the card's sd as scale.
    The cell's own value is theta of its specimen (``cell_sample``) or a new specimen mu + tau z.
capacities
    discharge_k ~ N(C_delivered, s_d); discharge_k / charge_k ~ N(CE, s_ce), CE ~ U(0.5, 1.05):
    the delivered capacity is the level of the listed cycles, CE their mean efficiency.
arrhenius
    the robust Eq. 4 likelihood (nassb.inference.arrhenius) on the material's value at its
    reference temperature and its activation energy.
measurement
    value ~ N(quantity at the measurement temperature, its sd); ``separator.resistance`` is
    d / sigma(T) of the card's separator (an impedance fit's R_separator).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..priors import CardError, Measured
from ..priors.vocabulary import term
from ..priors.observations import (ARRHENIUS_FIELDS, DERIVED_QUANTITIES, ArrheniusSeries, Capacities,
                                   Measurement, Replicates)
from .arrhenius import robust_loglike, sign_of
from .cell import arrhenius_factor, separator_resistance
from .model import CellModel
from .diagnostics import Diagnostics
from .result import PropagationResult, summary_dataset
from .sampling import SamplerSettings, sample
from .statistics import summarise

HIERARCHICAL_TARGET_ACCEPT = 0.99
_WEAK = 0.5  # sd of the weak prior given to an observed fixed value, relative to the value
EXTRA_OUTPUTS = {"coulombic_efficiency": term("coulombic_efficiency").unit}


def _observed_inputs(model: CellModel) -> dict[str, str]:
    """Input name -> the observation (``observations[i]``) that informs it."""
    out = {}
    for obs in model.card.observations:
        if isinstance(obs, Measurement) and obs.quantity in DERIVED_QUANTITIES:
            names = ["separator.thickness", f"{model.card.separator.material.name}.conductivity"]
        elif isinstance(obs, (Replicates, Measurement)):
            names = [obs.quantity]
        elif isinstance(obs, Capacities):
            names = ["cathode.delivered_capacity"]
        else:
            names = [obs.quantity, obs.energy]
        for name in names:
            if name not in model.inputs:
                field = f"{obs.where}.quantity" if not isinstance(obs, Capacities) else obs.where
                why = ("add delivered_capacity to [cathode]" if isinstance(obs, Capacities)
                       else "this card does not use it (derived, or not given)")
                raise CardError(f"{name!r} is not an input of this cell: {why}", file=model.card.origin, field=field)
            out.setdefault(name, obs.where)
    return out


def prior_variable(name: str, prior: Measured, observed: bool = False):
    """A PyMC variable for one input (or a float for a fixed, unobserved one)."""
    import pymc as pm

    if not prior.uncertain:
        if not observed:
            return float(prior.value)
        scale = _WEAK * abs(prior.value) or 1.0
        prior = Measured(prior.value, scale, prior.unit, "normal", bounds=prior.bounds, source=prior.source)
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
        if not prior.truncated:
            return pm.LogNormal(name, mu=mu, sigma=sigma)
        return pm.Truncated(name, pm.LogNormal.dist(mu=mu, sigma=sigma), **bounds)
    if not prior.truncated:
        return pm.Normal(name, mu=prior.value, sigma=prior.sd)
    return pm.TruncatedNormal(name, mu=prior.value, sigma=prior.sd, **bounds)


def build(model: CellModel):
    """The PyMC model of a card: priors, observations, and every output as a deterministic.

    Returns the model, the names of the quantities to report (outputs first, then the
    observed inputs and extras such as the Coulombic efficiency), and whether the model has
    latent specimens (a hierarchy that needs smaller steps).
    """
    import pymc as pm
    import pytensor.tensor as pt

    observed = _observed_inputs(model)
    replicated = {o.quantity: o for o in model.card.observations if isinstance(o, Replicates)}
    report = list(model.outputs)
    with pm.Model() as pmodel:
        x = {}
        for name, prior in model.inputs.items():
            if name in replicated:
                x[name] = _replicates(name, prior, replicated[name])
            else:
                x[name] = prior_variable(name, prior, name in observed)
        for obs in model.card.observations:
            if isinstance(obs, Capacities):
                _capacities(obs, x["cathode.delivered_capacity"])
                report.append("coulombic_efficiency")
            elif isinstance(obs, ArrheniusSeries):
                robust_loglike(_safe(obs.where), pt.log(x[obs.quantity]), x[obs.energy], obs.temperature,
                               x[model.reference], obs.values, sign_of(obs.quantity.partition(".")[2]))
            elif isinstance(obs, Measurement):
                _measurement(obs, x, model)
        for name, expr in model.evaluate(x, xp=pt).items():
            pm.Deterministic(name, pt.as_tensor_variable(expr))
        for name in observed:
            if name not in report and name in pmodel.named_vars:
                report.append(name)
    hierarchical = any(name.endswith("_specimen") for name in pmodel.named_vars)
    return pmodel, report, hierarchical


def _safe(where: str) -> str:
    return where.replace("[", "_").replace("]", "")


def _replicates(name: str, prior: Measured, obs: Replicates):
    """The cell's value of a replicated quantity, with the readings' likelihood added.

    Specimens read more than once get their own (centred) latent thickness: their readings pin
    it down.  Specimens read once are marginalised, y ~ N(mu, sqrt(tau^2 + reading_sd^2)), which
    avoids the funnel of one latent value per reading.
    """
    import pymc as pm
    import pytensor.tensor as pt

    centre = prior_variable(f"{name}_population_mean", prior, observed=True)
    spread_scale = prior.sd if prior.uncertain else 0.1 * abs(prior.value)
    spread = pm.HalfNormal(f"{name}_specimen_spread", sigma=spread_scale)
    reading_sd = obs.reading_sd if obs.reading_sd is not None else pm.HalfNormal(
        f"{name}_reading_sd", sigma=spread_scale)
    counts = np.bincount(obs.samples, minlength=len(obs.sample_names))
    latent = np.flatnonzero((counts > 1) | (np.arange(counts.size) == (obs.cell_sample if obs.cell_sample is not None else -1)))
    single = np.isin(obs.samples, latent, invert=True)
    tag = _safe(obs.where)
    if single.any():
        pm.Normal(f"{tag}_single_readings", mu=centre, sigma=pt.sqrt(spread ** 2 + reading_sd ** 2),
                  observed=obs.values[single])
    if latent.size:
        theta = pm.Normal(f"{name}_specimen", mu=centre, sigma=spread, shape=latent.size)
        position = {int(j): k for k, j in enumerate(latent)}
        repeated = ~single
        index = np.array([position[int(j)] for j in obs.samples[repeated]], dtype=int)
        pm.Normal(f"{tag}_repeated_readings", mu=theta[index], sigma=reading_sd, observed=obs.values[repeated])
        if obs.cell_sample is not None:
            return pm.Deterministic(name, theta[position[obs.cell_sample]])
    new = pm.Normal(f"{name}_cell_z", 0.0, 1.0)
    return pm.Deterministic(name, centre + spread * new)


def _capacities(obs: Capacities, delivered) -> None:
    import pymc as pm

    level = float(np.mean(obs.discharge))
    scatter = pm.HalfNormal(f"{_safe(obs.where)}_discharge_scatter", sigma=0.1 * level)
    pm.Normal(f"{_safe(obs.where)}_discharge", mu=delivered, sigma=scatter, observed=obs.discharge)
    efficiency = pm.Uniform("coulombic_efficiency", lower=0.5, upper=1.05)
    ratio_scatter = pm.HalfNormal(f"{_safe(obs.where)}_efficiency_scatter", sigma=0.05)
    pm.Normal(f"{_safe(obs.where)}_efficiency", mu=efficiency, sigma=ratio_scatter,
              observed=obs.discharge / obs.charge)


def _measurement(obs: Measurement, x: dict, model: CellModel) -> None:
    import pymc as pm
    import pytensor.tensor as pt

    if obs.quantity == "separator.resistance":
        material = model.card.separator.material.name
        temperature = obs.temperature if obs.temperature is not None else x["cell.temperature"]
        value = separator_resistance(x["separator.thickness"], x[f"{material}.conductivity"],
                                     x[f"{material}.activation_energy"], temperature, x[model.reference], xp=pt)
        pm.Normal(f"{_safe(obs.where)}_observed", mu=value, sigma=obs.value.sd, observed=obs.value.value)
        return
    value = x[obs.quantity]
    if obs.temperature is not None:  # observations.py allows it for Arrhenius fields only
        material, _, key = obs.quantity.partition(".")
        energy = x[f"{material}.{ARRHENIUS_FIELDS[key]}"]
        value = value * arrhenius_factor(sign_of(key) * energy, obs.temperature, x[model.reference], xp=pt)
    # The measured value and its uncertainty as written, not the moments of a truncated prior.
    pm.Normal(f"{_safe(obs.where)}_observed", mu=value, sigma=obs.value.sd, observed=obs.value.value)


def propagate_bayes(model: CellModel, settings: SamplerSettings = SamplerSettings()) -> PropagationResult:
    """Posterior of every output given the card's priors and observations (NUTS).

    The result has the gum/mc summary (mean, sd, equal-tailed 95 % interval) plus the
    InferenceData (``result.idata``) and its :class:`Diagnostics`.  A card without observations
    gives its prior, sampled by NUTS; the diagnostics say so.
    """
    seed = settings.resolved_seed()
    pmodel, report, hierarchical = build(model)
    if hierarchical:
        # Latent specimens under a spread learned from few specimens make a funnel: smaller
        # steps (target acceptance 0.99) remove the divergences it causes with 0.9.
        settings = replace(settings, target_accept=max(settings.target_accept, HIERARCHICAL_TARGET_ACCEPT))
    idata = sample(pmodel, settings, seed)
    units = [model.outputs.get(n) or EXTRA_OUTPUTS.get(n) or (model.inputs[n].unit or "1") for n in report]
    summaries = [summarise(np.asarray(idata.posterior[n]), unit) for n, unit in zip(report, units)]
    ds = summary_dataset(report, summaries,
                         attrs={"cell": model.card.name, "card": model.card.origin,
                                "card_sha256": model.card.sha256, "method": "bayes", "seed": seed,
                                "observations": len(model.card.observations)})
    free = [v.name for v in pmodel.free_RVs]
    diag = Diagnostics.from_idata(idata, free + report)
    if not model.card.observations:
        diag = diag.with_notes("the card has no observations: this posterior is its prior, sampled by NUTS "
                               "(method 'mc' gives the same faster)")
    return PropagationResult(ds, idata=idata, diagnostics=diag, model=model)
