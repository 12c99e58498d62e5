"""The PyMC variables of a card's priors (:mod:`.bayes`): an input with its card distribution,
kept inside the field's physical bounds; a population's specimens truncated at those bounds; and
the specimens of a material's Arrhenius quantity on a log scale, the first anchoring the
population."""

from __future__ import annotations

import math

import numpy as np

from ..priors import Measured
from .specimens import SpecimenGroup, _weak, spread_scale


def safe(where: str) -> str:
    """An observation's place (``observations[2]``) as a PyMC variable name's part."""
    return where.replace("[", "_").replace("]", "")


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


def bounded_normal(name: str, centre, spread, prior: Measured, shape=None):
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


def new_specimen(name: str, centre, spread, prior: Measured):
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

def specimen_variables(group: SpecimenGroup, prior: Measured):
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
