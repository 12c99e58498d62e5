"""Running NUTS and judging the result: settings, quiet PyMC, and the arviz diagnostics gate.

The gate (design.md): R-hat above 1.01, a bulk ESS below 400 or any divergence makes the result
untrustworthy; the warnings name the quantities.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from dataclasses import dataclass

import numpy as np

from ..priors import OptionError

SAMPLERS = ("pymc", "nutpie")
RHAT_LIMIT = 1.01
ESS_LIMIT = 400


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings: draws and tuning steps per chain, chains, seed, target acceptance."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int | None = None
    target_accept: float = 0.9
    progress: bool = False
    sampler: str = "pymc"
    init: str = "jitter+adapt_diag"

    def resolved_seed(self) -> int:
        return self.seed if self.seed is not None else int(np.random.SeedSequence().generate_state(1)[0])


def import_arviz():
    """Import arviz without its refactoring notice on stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz

    return arviz


def sample(pmodel, settings: SamplerSettings, seed: int):
    """NUTS on ``pmodel``; returns arviz InferenceData with posterior and sample_stats."""
    import pymc as pm

    if settings.sampler not in SAMPLERS:
        raise OptionError(f"'{settings.sampler}' is not a supported sampler; must be one of {', '.join(SAMPLERS)}",
                          field="--sampler")
    if settings.sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
        raise OptionError("nutpie is not installed: pip install 'nassb[nutpie]'", field="--sampler")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    cores = min(settings.chains, os.cpu_count() or 1)
    with pmodel, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=cores,
                         random_seed=seed, target_accept=settings.target_accept, nuts_sampler=settings.sampler,
                         init=settings.init,
                         progressbar=settings.progress, compute_convergence_checks=False)


def diagnostics(idata, names: list[str]) -> dict:
    """Max R-hat, min bulk and tail ESS, divergences, and the quantities that fail the gate."""
    az = import_arviz()
    varying = [n for n in names if n in idata.posterior and _varies(idata.posterior[n])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rhat = az.rhat(idata, var_names=varying)
        bulk = az.ess(idata, var_names=varying, method="bulk")
        tail = az.ess(idata, var_names=varying, method="tail")
    per = {n: (float(rhat[n].max()), float(bulk[n].min()), float(tail[n].min())) for n in varying}
    divergences = int(idata.sample_stats["diverging"].sum()) if "diverging" in idata.sample_stats else 0
    failing = sorted(n for n, (r, b, _) in per.items() if not (r <= RHAT_LIMIT and b >= ESS_LIMIT))
    return {
        "max_rhat": max((v[0] for v in per.values()), default=float("nan")),
        "min_ess_bulk": min((v[1] for v in per.values()), default=float("nan")),
        "min_ess_tail": min((v[2] for v in per.values()), default=float("nan")),
        "divergences": divergences,
        "chains": int(idata.posterior.sizes["chain"]),
        "draws_per_chain": int(idata.posterior.sizes["draw"]),
        "failing": failing,
        "ok": not failing and divergences == 0,
    }


def _varies(values) -> bool:
    """Whether a posterior variable moves at all (a fixed capacity gives rounding noise only)."""
    return float(values.std()) > 1e-12 * max(float(abs(values).mean()), 1e-300)


def gate_warnings(diag: dict) -> list[str]:
    """Plain-language warnings for a result that fails the diagnostics gate."""
    out = []
    if diag["divergences"]:
        out.append(f"{diag['divergences']} divergent transitions: the posterior may be biased; "
                   "reparametrise or raise the target acceptance")
    if diag["failing"]:
        out.append(f"R-hat > {RHAT_LIMIT} or bulk ESS < {ESS_LIMIT} for: {', '.join(diag['failing'])}; "
                   "run more draws (--draws) before trusting these")
    return out


def posterior_summary(idata, name: str) -> tuple[float, float, float, float]:
    """Mean, sd and the equal-tailed 95 % interval of one posterior variable."""
    values = np.asarray(idata.posterior[name]).ravel()
    if not _varies(values):  # a fixed quantity: no rounding noise dressed up as uncertainty
        v = float(values.mean())
        return v, 0.0, v, v
    low, high = np.quantile(values, [0.025, 0.975])
    return float(values.mean()), float(values.std(ddof=1)), float(low), float(high)
