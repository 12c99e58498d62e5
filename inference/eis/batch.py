"""A batch of spectra fitted in parallel: worker processes on this machine's cores, or any
executor (a Dask distributed client for thousands of spectra).

The task that fits one spectrum comes from the caller (:func:`nassb.inference.eis.fit.fit_task`,
bound to the batch's circuit, settings and seed), so this module knows nothing of fitting: it
runs the task on each spectrum here or on the workers, keeps the spectra's order and shows a
progress bar.  A spectrum's own seed derives from the call's seed and its data, so a spectrum
gets the same draws whichever worker fits it and in whatever order the workers finish.  A
spectrum that cannot be fitted comes back as its error message (a str), so that one bad spectrum
does not lose the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from .spectrum import Spectrum


def default_jobs() -> int:
    """One worker per core this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def run_batch(spectra: list[Spectrum], task: Callable[..., Any], *, jobs: int | None = 1, executor=None,
              progress: bool = False) -> list:
    """Every spectrum's ``task(spectrum, progress=...)`` (a fit or an error message), in order.

    ``task`` must pickle for worker processes and Dask (a module-level function, or a
    ``functools.partial`` of one).  ``progress``: a bar over the spectra, or one spectrum's own
    progress where there is one spectrum.
    """
    show = progress and len(spectra) > 1
    jobs = default_jobs() if jobs is None else int(jobs)
    if executor is None and (jobs <= 1 or len(spectra) <= 1):
        outcomes = []
        with _bar(len(spectra), show) as advance:
            for spectrum in spectra:
                outcomes.append(task(spectrum, progress=progress and len(spectra) == 1))
                advance(outcomes[-1])
        return outcomes
    if executor is not None:
        return _collect(executor, spectra, task, show)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(spectra))) as pool:
        return _collect(pool, spectra, task, show)


def _collect(executor, spectra: list[Spectrum], task: Callable[..., Any], show: bool) -> list:
    futures = [executor.submit(task, spectrum) for spectrum in spectra]
    outcomes = []
    with _bar(len(spectra), show) as advance:
        for future in futures:  # in order: a slow spectrum holds the bar, not the results
            outcomes.append(future.result())
            advance(outcomes[-1])
    return outcomes


@contextmanager
def _bar(total: int, show: bool):
    """A progress bar over the spectra of a batch (tqdm), or nothing."""
    if not show:
        yield lambda fit: None
        return
    from ..progress import progress_bar

    bar = progress_bar(total=total, desc="spectra", unit=" spectrum", leave=False, mininterval=0)

    def advance(fit: Any) -> None:
        what = fit[:60] if isinstance(fit, str) else f"{fit.name}: {fit.method.split(' (')[0]}"
        bar.set_postfix_str(what, refresh=False)
        bar.update(1)

    try:
        yield advance
    finally:
        bar.close()
