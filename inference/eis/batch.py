"""A batch of spectra fitted in parallel: worker processes on this machine's cores, or any
executor (a Dask distributed client for thousands of spectra).

Each task fits one spectrum with :func:`~nassb.inference.eis.fit.fit_spectrum` from the call's
seed (its own seed derives from that and its data), so a spectrum gets the same draws whichever
worker fits it and in whatever order the workers finish; the results come back in the spectra's
order.  A spectrum that cannot be fitted comes back as its error message (a str), so that one
bad spectrum does not lose the others.
"""

from __future__ import annotations

import os
from typing import Any

from ...priors import NassbError
from .spectrum import Spectrum


def fit_task(spectrum: Spectrum, circuit: str, settings: Any, seed: int, progress: bool = False):
    """One spectrum's fit, or the message of the error that stopped it (a module-level function,
    so that worker processes and Dask can run it)."""
    from .fit import fit_spectrum

    try:
        return fit_spectrum(spectrum, circuit, settings, seed=seed, progress=progress)
    except NassbError as err:
        return f"{spectrum.name}: {err.message}" if not err.message.startswith(spectrum.name) else err.message


def default_jobs() -> int:
    """One worker per core this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def run_batch(spectra: list[Spectrum], circuit: str, settings: Any, seed: int, *, jobs: int | None = 1,
              executor=None) -> list:
    """Every spectrum's fit (or error message), in order (module docstring)."""
    from .fit import _bar

    sampler = settings.sampler
    show = sampler.progress and len(spectra) > 1
    jobs = default_jobs() if jobs is None else int(jobs)
    if executor is None and (jobs <= 1 or len(spectra) <= 1):
        outcomes = []
        with _bar(len(spectra), show) as advance:
            for spectrum in spectra:
                outcomes.append(fit_task(spectrum, circuit, settings, seed, sampler.progress and len(spectra) == 1))
                advance(outcomes[-1])
        return outcomes
    if executor is not None:
        return _collect(executor, spectra, circuit, settings, seed, show)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(spectra))) as pool:
        return _collect(pool, spectra, circuit, settings, seed, show)


def _collect(executor, spectra: list[Spectrum], circuit: str, settings: Any, seed: int, show: bool) -> list:
    from .fit import _bar

    futures = [executor.submit(fit_task, spectrum, circuit, settings, seed) for spectrum in spectra]
    outcomes = []
    with _bar(len(spectra), show) as advance:
        for future in futures:  # in order: a slow spectrum holds the bar, not the results
            outcomes.append(future.result())
            advance(outcomes[-1])
    return outcomes
