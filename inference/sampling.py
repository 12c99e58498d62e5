"""Running NUTS: the sampler settings and a quiet, stamped ``pm.sample``.

What the draws are worth is judged by :class:`nassb.inference.diagnostics.Diagnostics`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from dataclasses import dataclass

import numpy as np

from ..priors import OptionError
from .diagnostics import ESS_LIMIT, RHAT_LIMIT, Diagnostics, import_arviz  # noqa: F401  (re-exported)
from .result import stamp

NUTS_SAMPLERS = ("pymc", "nutpie")


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings: draws and tuning steps per chain, chains, seed, target acceptance.

    ``progress`` shows PyMC's progress bar (the command line turns it on for a terminal).
    ``sampler`` is the NUTS implementation: ``"pymc"`` or ``"nutpie"`` (an optional extra).
    """

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

    def check(self) -> None:
        """Refuse settings NUTS cannot use (errors name the setting)."""
        if self.sampler not in NUTS_SAMPLERS:
            raise OptionError(f"'{self.sampler}' is not a supported sampler; must be one of "
                              f"{', '.join(NUTS_SAMPLERS)}", field="sampler")
        if self.sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
            raise OptionError("nutpie is not installed: pip install 'nassb[nutpie]'", field="sampler")
        if self.chains < 2:
            raise OptionError("R-hat needs at least 2 chains", field="chains")
        if self.draws < 1 or self.tune < 1:
            raise OptionError("draws and tuning steps must be at least 1", field="draws" if self.draws < 1 else "tune")


def sample(pmodel, settings: SamplerSettings, seed: int):
    """NUTS on ``pmodel``; returns arviz InferenceData (posterior, sample_stats), stamped."""
    import pymc as pm

    settings.check()
    logging.getLogger("pymc").setLevel(logging.ERROR)
    cores = min(settings.chains, os.cpu_count() or 1)
    with pmodel, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(draws=settings.draws, tune=settings.tune, chains=settings.chains, cores=cores,
                          random_seed=seed, target_accept=settings.target_accept, nuts_sampler=settings.sampler,
                          init=settings.init, progressbar=settings.progress, compute_convergence_checks=False)
    return stamp(idata)
