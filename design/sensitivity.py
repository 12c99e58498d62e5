"""Prior sensitivity of a proposal: how far its objective and risks move when the priors of the
risk parameters that no observation informs are widened.

No sampling: the calibrated posterior draws are importance-reweighted by p_wide(theta) / p(theta)
over the uninformed parameters (the likelihood is unchanged, so the ratio of the two posteriors
is the ratio of the two priors), the weights are Pareto-smoothed (PSIS, Vehtari et al., JMLR 25
(2024) 72) and their shape estimate k-hat says whether the reweighted figures can be trusted
(k-hat <= 0.7).  The card's draws, paired one to one with the posterior draws, are independent
of theta and keep their share of each weight.

The rule for "uninformed": on the scale the prior lives on (ln theta for a lognormal, theta
otherwise), the posterior standard deviation is at least :data:`SD_RATIO` of the prior's and the
posterior mean lies within :data:`MEAN_SHIFT` prior standard deviations of the prior's: the
observations neither narrowed the parameter nor moved it.  Widening multiplies the prior's
spread on that scale by ``widening`` (default 2) about the same centre and within the same
bounds; a uniform prior cannot be widened by reweighting (no draw lies outside it) and is left.

A caveat of the method itself: widening a normal prior twofold by reweighting gives weights whose
tail has k = 0.75 in theory (w ~ exp(3 z^2 / 8)), so sd x 2 sits at the edge of what importance
sampling can do; widening by 1.5 (k = 0.56) is within it.  The k-hat that is reported says where
the figures stand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..inference.risk.registry import RISKS, limited_names

SD_RATIO = 0.8
MEAN_SHIFT = 0.5
WIDENING = 2.0
RELIABLE_K = 0.7
RULE = (f"posterior sd >= {SD_RATIO:g} x prior sd and posterior mean within {MEAN_SHIFT:g} prior sd of the prior "
        "mean (on ln theta for a lognormal prior)")


def reported() -> tuple[str, ...]:
    """What the sensitivity reports for each design beside the objective: each declared risk's
    quantities (means; inference/risk/registry.py)."""
    return tuple(o for r in RISKS.values() for o in r.shown)


def _scale(prior) -> tuple[bool, float, float]:
    """(log scale?, centre, spread) of a prior on the scale it lives on."""
    if prior.dist == "lognormal":
        mu, sigma = prior.lognormal_parameters()
        return True, mu, sigma
    return False, prior.value, prior.sd


def log_density(prior, x: np.ndarray, widening: float = 1.0) -> np.ndarray:
    """ln p(x) of a normal, truncated normal or lognormal prior whose spread (sd, or sd of ln x)
    is multiplied by ``widening``; truncated to the prior's bounds and normalised there.  The
    Jacobian of a lognormal is left out: it cancels in a ratio of two such densities."""
    from scipy import stats

    log, centre, spread = _scale(prior)
    spread = spread * widening
    lo, hi = _bounds(prior, log)
    z = np.log(x) if log else np.asarray(x, dtype=float)
    mass = stats.norm.cdf(hi, centre, spread) - stats.norm.cdf(lo, centre, spread)
    return stats.norm.logpdf(z, centre, spread) - math.log(mass)


def _bounds(prior, log: bool) -> tuple[float, float]:
    """The prior's truncation on the scale it lives on."""
    lo, hi = prior.truncation()
    if log:
        return (math.log(lo) if lo > 0 else -math.inf), (math.log(hi) if hi < math.inf else math.inf)
    return lo, hi


def prior_moments(prior) -> tuple[float, float]:
    """Mean and sd of the prior as sampled: truncated to its bounds (a normal prior on a
    positive parameter near zero has a larger mean and a smaller sd than its two numbers say)."""
    from scipy import stats

    log, centre, spread = _scale(prior)
    lo, hi = _bounds(prior, log)
    if not (math.isfinite(lo) or math.isfinite(hi)):
        return centre, spread
    a, b = (lo - centre) / spread, (hi - centre) / spread
    mean, var = stats.truncnorm.stats(a, b, loc=centre, scale=spread, moments="mv")
    return float(mean), float(math.sqrt(var))


def informed(prior, draws: np.ndarray) -> tuple[float, float]:
    """(posterior sd / prior sd, posterior mean shift in prior sd) on the prior's scale, against
    the truncated prior's own moments."""
    log, _, _ = _scale(prior)
    mean, sd = prior_moments(prior)
    z = np.log(draws) if log else np.asarray(draws, dtype=float)
    return float(z.std() / sd), float((z.mean() - mean) / sd)


def _psis(log_weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Normalised Pareto-smoothed weights and k-hat."""
    from ..inference.statistics import psis_weights

    return psis_weights(log_weights)


def model_of(parameter: str) -> str:
    """The risk model a parameter belongs to: the part of its name before the dot."""
    return parameter.split(".", 1)[0]


@dataclass
class Reweighting:
    """Importance weights of the calibrated draws under widened priors.

    The likelihood of each risk model involves its own parameters only and the priors are
    independent, so the posterior factorises by model and a quantity moves only with the
    parameters of the models it depends on (:func:`depends`).  Each model's uninformed
    parameters are therefore reweighted together, apart from the other models': the weights of
    a quantity are those of its models, with less noise than one weight over every parameter.
    Where the draws hold a parameter of no known model (one shared by several observations
    could couple them), every widened parameter is reweighted together instead (group
    ``"joint"``).

    Attributes
    ----------
    widening : float
        Factor on each uninformed prior's spread.
    parameters : tuple of str
        The uninformed (widened) parameters; empty when every parameter is informed.
    by_model : dict[str, dict]
        Model -> ``parameters``, ``k_hat`` and ``ess`` (1 / sum w^2) of its weights.
    per_parameter : dict
        For every parameter with a prior: ``sd_ratio``, ``mean_shift``, ``uninformed`` and, for
        the uninformed ones, ``k_hat`` of widening it alone.
    model_weights : dict[str, numpy.ndarray]
        PSIS-smoothed log weights of each model's widened parameters together.
    single : dict[str, numpy.ndarray]
        The normalised weights of widening each uninformed parameter alone.
    """

    widening: float
    parameters: tuple[str, ...]
    by_model: dict[str, dict]
    per_parameter: dict[str, dict]
    size: int
    model_weights: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    single: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    @property
    def k_hat(self) -> float:
        """The largest k-hat over the models' weights (0 when nothing is widened)."""
        return max((m["k_hat"] for m in self.by_model.values()), default=0.0)

    @property
    def reliable(self) -> bool:
        return self.k_hat <= RELIABLE_K

    def models_of(self, quantity: str) -> tuple[str, ...]:
        """The widened models a quantity depends on; a model nassb does not know moves every quantity."""
        if JOINT in self.model_weights:
            return (JOINT,)
        known = depends(quantity)
        return tuple(m for m in self.model_weights if known is None or m in known)

    def weights(self, quantity: str) -> tuple[np.ndarray | None, float]:
        """(normalised weights or None when nothing it depends on is widened, k-hat) of a quantity."""
        models = self.models_of(quantity)
        if not models:
            return None, 0.0
        log_w = np.sum([self.model_weights[m] for m in models], axis=0)
        w = np.exp(log_w - log_w.max())
        return w / w.sum(), max(self.by_model[m]["k_hat"] for m in models)

    def to_json(self) -> dict:
        return {"widening": self.widening, "rule": RULE, "parameters": list(self.parameters),
                "k_hat": round(self.k_hat, 3), "reliable": self.reliable, "reliable_k_hat": RELIABLE_K,
                "draws": self.size, "by_model": self.by_model, "per_parameter": self.per_parameter}


def known_models() -> tuple[str, ...]:
    """The parameter groups of the declared risks (inference/risk/registry.py)."""
    return tuple(dict.fromkeys(r.model for r in RISKS.values()))


JOINT = "joint"  # the group of every widened parameter, where the posterior does not factorise by model
# The risk models each energy depends on (the rate model's pore liquid in the utilisation); a
# risk's are declared with it.
ENERGY_DEPENDS = {"E_V_rate": ("rate",), "E_m_rate": ("rate",), "E_V_real": ("rate",), "E_m_real": ("rate",)}


def depends(quantity: str) -> tuple[str, ...] | None:
    """The risk models ``quantity`` depends on: an energy's here, a risk's as declared
    (inference/risk/registry.py); None for a quantity nassb does not know."""
    for risk in RISKS.values():
        if quantity in risk.shown:
            return risk.widened
    return ENERGY_DEPENDS.get(quantity)


def reweighting(risk, priors: dict | None = None, widening: float = WIDENING) -> Reweighting:
    """The weights that turn the calibrated posterior of ``risk`` into the posterior under
    priors widened ``widening``-fold for the uninformed parameters.

    Parameters
    ----------
    risk : RiskModel
        Calibrated draws (parameter name -> array).
    priors : dict[str, RiskPrior], optional
        The priors the draws were calibrated with (default: :func:`nassb.priors.risk.load_risk_priors`).
    widening : float
        Factor on the spread of each uninformed prior (> 0; 1 gives back the posterior).
    """
    from ..priors.risk import load_risk_priors

    if not (np.isfinite(widening) and widening > 0):
        raise ValueError(f"widening must be > 0, got {widening!r}")
    priors = load_risk_priors() if priors is None else priors
    per, chosen, logs = {}, [], {}
    for name in sorted(set(priors) & set(risk.draws)):
        prior = priors[name].prior
        if not prior.uncertain:
            continue
        ratio, shift = informed(prior, risk.draws[name]) if prior.dist != "uniform" else (math.nan, math.nan)
        uninformed = prior.dist != "uniform" and ratio >= SD_RATIO and abs(shift) <= MEAN_SHIFT
        per[name] = {"sd_ratio": round(ratio, 3), "mean_shift": round(shift, 3), "uninformed": uninformed}
        if uninformed:
            chosen.append(name)
            x = risk.draws[name]
            logs[name] = log_density(prior, x, widening) - log_density(prior, x, 1.0)
    single = {}
    for name in chosen:
        w, k = _psis(logs[name])
        single[name] = w
        per[name]["k_hat"] = round(k, 3)
    # Draws of a parameter outside the four models (one shared by several observations, say)
    # may couple them: then every widened parameter is reweighted together.
    factorised = all(model_of(name) in known_models() for name in risk.draws)
    group = model_of if factorised else (lambda _name: JOINT)
    by_model, model_weights = {}, {}
    for model in dict.fromkeys(group(c) for c in chosen):
        members = [c for c in chosen if group(c) == model]
        w, k = _psis(np.sum([logs[c] for c in members], axis=0))
        model_weights[model] = np.log(np.maximum(w, 1e-300))
        by_model[model] = {"parameters": members, "k_hat": round(k, 3), "ess": round(float(1.0 / np.sum(w ** 2)), 1),
                           "reliable": k <= RELIABLE_K}
    return Reweighting(float(widening), tuple(chosen), by_model, per, int(risk.size), model_weights, single)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of draws with normalised weights (the inverse of the weighted
    empirical distribution, each draw at the middle of its weight; equal weights give the
    Hazen quantile)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) - 0.5 * w
    return float(np.interp(q, cum, v))


def statistic(values: np.ndarray, weights: np.ndarray | None, quantile: float | None) -> float:
    """The weighted mean (``quantile`` None) or weighted quantile of draws; unweighted where
    ``weights`` is None."""
    if weights is None:
        weights = np.full(values.size, 1.0 / values.size)
    if quantile is None:
        return float(np.dot(weights, values))
    return weighted_quantile(values, weights, quantile)


def shifts(values: dict[str, np.ndarray], rw: Reweighting, objective: str, quantile: float | None,
           limits) -> dict:
    """How the objective and each risk of one design move under the widened priors.

    Parameters
    ----------
    values : dict
        The design's per-draw quantities (:meth:`DesignScorer.score`).
    rw : Reweighting
    objective : str
        The quantity maximised (``"E_V_rate"``).
    quantile : float or None
        Its quantile (None: the mean).
    limits : Limits
        For the design's feasibility under the widened priors.

    Returns
    -------
    dict
        ``objective`` and each of ``quantities`` (the risks): value (mean for a risk), widened,
        shift, k_hat, reliable; ``feasible_widened``; ``by_parameter``: the objective's shift
        from widening each parameter of its models alone.
    """
    def moved(v: np.ndarray, name: str, q: float | None) -> dict:
        w, k = rw.weights(name)
        # The shift is a difference of one estimator; the value is the one the search reports.
        shift = 0.0 if w is None else statistic(v, w, q) - statistic(v, None, q)
        value = float(v.mean() if q is None else np.quantile(v, q))
        return {"value": value, "widened": value + shift, "shift": shift, "k_hat": round(k, 3),
                "reliable": k <= RELIABLE_K}

    quantities: dict[str, dict] = {}
    judged: dict[str, float] = {}   # under the widened priors, as the limits judge: means or quantiles
    for name in reported():
        if name in values:
            entry = moved(values[name], name, None)
            quantities[name] = {"mean": entry.pop("value"), **entry}
            if limits.confidence is None:
                judged[name] = entry["widened"]
            else:
                q = limits.confidence if name in limits.UPPER else 1.0 - limits.confidence
                judged[name] = statistic(values[name], rw.weights(name)[0], q)
    needed = limited_names()
    feasible = (all(v <= 0 for v in limits.violations(judged).values()) if all(n in judged for n in needed)
                else None)
    out: dict = {"objective": moved(values[objective], objective, quantile), "quantities": quantities,
                 "feasible_widened": feasible}
    base = statistic(values[objective], None, quantile)
    models = rw.models_of(objective)
    out["by_parameter"] = {name: statistic(values[objective], w, quantile) - base for name, w in rw.single.items()
                           if JOINT in models or model_of(name) in models}
    return out
