"""Bayesian equivalent-circuit fits: one spectrum, a batch, or a multi-temperature joint fit.

:func:`fit_spectra` fits every spectrum on its own (:func:`fit_spectrum`): the lin-KK check, the
least-squares start, the misfit and inductive checks (nassb.inference.eis.checks), and then its
posterior.  Where the posterior is nearly normal in the fit's coordinates (a well-determined
spectrum), it comes from the Laplace approximation corrected by Pareto-smoothed importance
sampling, and where it is skewed or curved, from a mixture of t distributions adapted to it from
there (nassb.inference.eis.laplace), in a fraction of a second; where the importance sampling's
diagnostics refuse it (an arc outside the window, a ridge), tempered sequential Monte Carlo
(nassb.inference.eis.smc) in seconds.  Both sample in coordinates in which a broad or nearly
flat arc beyond the window does not bend the posterior, where the circuit has a CPE arc or a
series resistance beside an arc (nassb.inference.eis.sheet), and the draws are mapped back
exactly.  Where SMC is refused too, the spectrum keeps SMC's
particles with its gate failed, naming the diagnostics that refused them, rather than minutes of
NUTS: NUTS samples the spectrum's own model (nassb.inference.eis.model) only when asked
(``method="nuts"``).  A batch is fitted
in worker processes or on a Dask cluster (nassb.inference.eis.batch).  Each spectrum's
posterior is the one it gets alone, whatever the other spectra are and whichever worker fits
it: its draws come from a seed derived from the call's seed and its own data, so a spectrum
fitted alone gives the very same draws.

A joint Arrhenius fit (``arrhenius``) is one NUTS run over all spectra on purpose: the named
resistances follow Eq. 4 across the spectra's temperatures.

The results (:class:`~nassb.inference.eis.results.SpectrumFit`, one per spectrum, and the
:class:`~nassb.inference.eis.results.EISFit` that holds them) are described in
nassb.inference.eis.results.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ...priors import DataError, NassbError, OptionError
from ..diagnostics import Diagnostics
from ..sampling import SamplerSettings, sample
from ..threads import one_blas_thread
from .checks import inductive, misfit, relative_residuals
from .circuit import Circuit
from .coordinates import Layout
from .batch import run_batch
from .expressions import Derived, parse_all_derived
from .leastsq import LeastSquares, fit_least_squares
from .results import EISFit, SpectrumFit, joint_note
from .settings import METHODS, TARGET_ACCEPT, EISSettings
from .units import _derived_units, _parameter_units
from .spectrum import Spectrum

if TYPE_CHECKING:
    from .laplace import ImportanceDraws


__all__ = [
    "METHODS",
    "TARGET_ACCEPT",
    "EISFit",
    "EISSettings",
    "SpectrumFit",
    "_derived_units",
    "_parameter_units",
    "fit_spectra",
    "fit_spectrum",
]


def fit_spectra(spectra: list[Spectrum], circuit: Circuit | str, settings: EISSettings = EISSettings(), *,
                jobs: int | None = 1, executor=None, keep_going: bool = False) -> EISFit:
    """Fit every spectrum with ``circuit``, each on its own (or all jointly with ``arrhenius``).

    Parameters
    ----------
    spectra : list of Spectrum
        Frequencies in Hz, impedances in ohm (or ohm cm^2 for area-normalised files).
    circuit : Circuit or str
    settings : EISSettings
    jobs : int, optional
        Spectra fitted at once in worker processes (None: one per core); 1 fits them here, one
        after the other.  Each spectrum's draws come from its own seed, so the results do not
        depend on it.
    executor : optional
        Where to fit them instead: anything with ``submit(fn, *args)`` returning a future with
        ``result()`` (a ``concurrent.futures`` executor, or a ``dask.distributed.Client`` for
        thousands of spectra on a cluster).
    keep_going : bool
        A spectrum that cannot be fitted (no finite least-squares start) is left out and named in
        ``EISFit.failed`` instead of stopping the batch (as long as one is fitted).

    Returns
    -------
    EISFit
        One :class:`SpectrumFit` per spectrum, in order.
    """
    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    _check(spectra, circuit, settings)
    layout = Layout.of(circuit)
    derived = _parse(circuit, settings.derive)
    # Units first: a derived quantity that adds ohm to farad is refused before any sampling.
    _derived_units(derived, _parameter_units(circuit, settings.area, spectra[0].unit))
    sampler = settings.sampler
    if sampler.target_accept < TARGET_ACCEPT:
        sampler = replace(sampler, target_accept=TARGET_ACCEPT)
    sampler.check()
    settings = replace(settings, sampler=sampler)
    seed = sampler.resolved_seed()
    if settings.arrhenius:
        return _fit_joint(list(spectra), circuit, layout, derived, settings, seed)
    task = partial(fit_task, circuit=circuit.text, settings=settings, seed=seed)
    outcomes = run_batch(list(spectra), task, jobs=jobs, executor=executor, progress=settings.sampler.progress)
    failed = {s.name: out for s, out in zip(spectra, outcomes) if isinstance(out, str)}
    fits = [out for out in outcomes if not isinstance(out, str)]
    if failed and (not keep_going or not fits):
        name, message = next(iter(failed.items()))
        raise DataError(message, file=next(s.source for s in spectra if s.name == name))
    return EISFit(fits, circuit, settings, derived, seed, failed=failed)


def fit_task(spectrum: Spectrum, circuit: str, settings: EISSettings, seed: int, progress: bool = False):
    """One spectrum's fit, or the message of the error that stopped it: the task of a batch
    (:mod:`.batch`; a module-level function, so that worker processes and Dask can run it)."""
    try:
        return fit_spectrum(spectrum, circuit, settings, seed=seed, progress=progress)
    except NassbError as err:
        return f"{spectrum.name}: {err.message}" if not err.message.startswith(spectrum.name) else err.message


def fit_spectrum(spectrum: Spectrum, circuit: Circuit | str, settings: EISSettings = EISSettings(), *,
                 seed: int | None = None, derived: list[Derived] | None = None, layout: Layout | None = None,
                 progress: bool = False) -> SpectrumFit:
    """The posterior of one spectrum on its own: lin-KK, least squares, the data checks, then
    Laplace + PSIS, SMC, or NUTS where asked (see the module docstring).

    ``seed`` is the call's seed (the spectrum's own derives from it and the data, so a batch and a
    single fit give one spectrum the same draws); None uses ``settings.sampler``'s.
    """
    started = time.perf_counter()
    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    layout = layout or Layout.of(circuit)
    derived = _parse(circuit, settings.derive) if derived is None else derived
    seed = settings.sampler.resolved_seed() if seed is None else seed
    own = spectrum_seed(seed, spectrum)
    kk = _kk(spectrum) if settings.kk else None
    start = fit_least_squares(spectrum, layout)
    residual = relative_residuals(spectrum, circuit.complex_impedance(start.values, spectrum.omega))
    bad_fit = misfit(spectrum, residual, kk["rms"] if kk else None)
    inductance = inductive(spectrum, circuit, kk["rms"] if kk else start.rms)
    found = _without_nuts(spectrum, layout, start, settings, own, kk)
    if found is None:
        found = _nuts(spectrum, layout, start, replace(settings.sampler, progress=progress), own, ())
    posterior, diagnostics = found
    diagnostics = diagnostics.with_problems(*_problems(kk, bad_fit, spectrum))
    return SpectrumFit(circuit, spectrum, settings, posterior, start, derived, diagnostics, own, kk=kk,
                       misfit=bad_fit, inductive=inductance, seconds=time.perf_counter() - started)


def _without_nuts(spectrum: Spectrum, layout: Layout, start, settings: EISSettings, seed: int,
                  kk: dict | None) -> tuple[dict, Diagnostics] | None:
    """(posterior, diagnostics) without NUTS, or None for ``method="nuts"``.

    ``auto``: Laplace + PSIS (or its adapted mixture), then tempered SMC where they are refused.
    Where SMC is refused too, the spectrum keeps SMC's particles, marked as not trusted (its gate
    fails, naming the diagnostics that refused them), instead of minutes of NUTS: NUTS samples
    it only when asked (``method="nuts"``).  ``laplace`` and ``smc`` stop at their own method,
    failing the gate where its diagnostics refuse it.
    """
    from .smc import SMCDraws

    if settings.method == "nuts":
        return None
    sampler = settings.sampler
    count = sampler.chains * sampler.draws
    with one_blas_thread():
        draws, earlier = _fast_draws(spectrum, layout, start, settings.method, count, seed)
    posterior = _posterior(layout, draws.theta, draws.noise, (sampler.chains, sampler.draws))
    rhat, ess = getattr(draws, "rhat", None), draws.ess
    if isinstance(draws, SMCDraws) and not draws.checked:
        ess = float(draws.distinct)
    diagnostics = Diagnostics(method=draws.method, chains=1, draws_per_chain=count, max_rhat=rhat,
                              min_ess_bulk=ess, min_ess_tail=ess, notes=(*earlier, draws.verdict))
    if not draws.accepted:
        if kk is not None and not kk["ok"]:
            advice = "its lin-KK check failed too; --method nuts samples it (minutes)"
        elif settings.method == "auto":
            advice = ("these draws are the best the fast methods found, not trusted; --method nuts samples it "
                      "(minutes)")
        else:
            advice = "sample it with --method nuts"
        diagnostics = diagnostics.with_problems(f"{spectrum.name}: {draws.verdict}; {advice}")
    return posterior, diagnostics


def _fast_draws(spectrum: Spectrum, layout: Layout, start: LeastSquares, method: str, count: int,
                seed: int) -> tuple[ImportanceDraws, tuple[str, ...]]:
    """(draws, the verdicts of the stages before them): Laplace + PSIS, then SMC started at the
    mode and along the ridges of the arcs' time constants (nassb.inference.eis.ridge) where
    ``auto`` has it refused, or SMC alone for ``method="smc"``.  Both sample in the sheet
    coordinates (nassb.inference.eis.sheet) where the circuit has a CPE arc or a series
    resistance beside an arc, and the draws are mapped back to the fitted coordinates."""
    from .laplace import LogPosterior, find_mode, importance_sample
    from .ridge import ridge_components
    from .sheet import SheetPosterior
    from .smc import smc_sample

    density = LogPosterior(spectrum, layout)
    mode = find_mode(density, start.theta)
    sheet = SheetPosterior.of(density, mode)
    target: LogPosterior | SheetPosterior = density if sheet is None else sheet
    at = mode if sheet is None else sheet.mode(mode)
    rng = np.random.default_rng(seed)
    earlier: tuple[str, ...] = ()
    if method != "smc":
        draws = importance_sample(target, at, count, rng)
        if draws.accepted or method == "laplace":
            return (draws if sheet is None else sheet.draws(draws)), earlier
        earlier = (draws.verdict,)
    ridge = ridge_components(density, mode)
    draws = smc_sample(target, at, count, rng, ridge=ridge if sheet is None else sheet.mixture(ridge))
    return (draws if sheet is None else sheet.draws(draws)), earlier


def _nuts(spectrum: Spectrum, layout: Layout, start, sampler: SamplerSettings, seed: int,
          notes: tuple[str, ...]) -> tuple[dict, Diagnostics]:
    """(posterior, diagnostics) by NUTS on the spectrum's own model (cached per circuit)."""
    from .model import spectrum_model

    pmodel = spectrum_model(spectrum, layout, start)
    idata = sample(pmodel, sampler, seed)
    free = [v.name for v in pmodel.free_RVs]
    circuit = layout.circuit
    diagnostics = Diagnostics.from_idata(idata, free + [p.name for p in circuit.parameters]).with_notes(*notes)
    posterior = {name: np.asarray(idata.posterior[name].isel(spectrum=0)) for name in [*circuit.names, "noise"]}
    return posterior, diagnostics


def spectrum_seed(seed: int, spectrum: Spectrum) -> int:
    """A spectrum's own seed: from the call's and a checksum of its frequencies and impedances
    (the same spectrum gets the same draws alone or in any batch)."""
    key = zlib.crc32(np.ascontiguousarray(spectrum.frequency, dtype=float).tobytes()
                     + np.ascontiguousarray(spectrum.z, dtype=complex).tobytes())
    return int(np.random.SeedSequence([int(seed), key]).generate_state(1)[0])


def _problems(kk: dict | None, bad_fit, spectrum: Spectrum) -> list[str]:
    """What fails a spectrum's gate beyond its draws: a failed lin-KK check, a misfit."""
    out = []
    if kk is not None and not kk["ok"]:
        out.append(kk["warning"])
    if bad_fit is not None:
        out.append(bad_fit.sentence(spectrum.name))
    return out


def _posterior(layout: Layout, theta: np.ndarray, noise: np.ndarray, shape: tuple[int, int]) -> dict:
    """Parameter values (raw units) of coordinate draws, shaped (chain, draw)."""
    logs, log_tau, exponents, _ = layout.unpack(theta)
    values = layout.values(logs, log_tau, exponents)
    out = {p.name: np.asarray(values[p.name], dtype=float).reshape(shape) for p in layout.circuit.parameters}
    out["noise"] = np.asarray(noise, dtype=float).reshape(shape)
    return out


def _fit_joint(spectra: list[Spectrum], circuit: Circuit, layout: Layout, derived: list[Derived],
               settings: EISSettings, seed: int) -> EISFit:
    """One NUTS run over all spectra: the ``arrhenius`` resistances follow Eq. 4."""
    from .model import build_model

    started = time.perf_counter()
    kk: list[dict | None] = [_kk(s) if settings.kk else None for s in spectra]
    starts = [fit_least_squares(s, layout) for s in spectra]
    pmodel = build_model(spectra, layout, starts, arrhenius=settings.arrhenius,
                         reference_temperature=settings.reference_temperature)
    idata = sample(pmodel, settings.sampler, seed)
    free = [v.name for v in pmodel.free_RVs]
    joint = Diagnostics.from_idata(idata, free + [p.name for p in circuit.parameters]).with_notes(
        joint_note(settings.arrhenius, len(spectra)))
    seconds = (time.perf_counter() - started) / len(spectra)
    fits = []
    for s, spectrum in enumerate(spectra):
        residual = relative_residuals(spectrum, circuit.complex_impedance(starts[s].values, spectrum.omega))
        own_kk = kk[s]
        kk_rms = own_kk["rms"] if own_kk is not None else None
        bad_fit = misfit(spectrum, residual, kk_rms)
        inductance = inductive(spectrum, circuit, kk_rms if kk_rms is not None else starts[s].rms)
        posterior = {name: np.asarray(idata.posterior[name].isel(spectrum=s)) for name in [*circuit.names, "noise"]}
        fits.append(SpectrumFit(circuit, spectrum, settings, posterior, starts[s], derived,
                                joint.with_problems(*_problems(kk[s], bad_fit, spectrum)), seed, kk=kk[s],
                                misfit=bad_fit, inductive=inductance, joint="arrhenius", seconds=seconds))
    shared = {}
    for name in settings.arrhenius:
        for key in (f"{name}_ref", f"E_A_{name}"):
            shared[key] = np.asarray(idata.posterior[key])
    return EISFit(fits, circuit, settings, derived, seed, joint_posterior=shared, joint_diagnostics=joint, idata=idata)


def _parse(circuit: Circuit, derive) -> list[Derived]:
    return parse_all_derived(derive, circuit.names)


def _check(spectra: list[Spectrum], circuit: Circuit, settings: EISSettings) -> None:
    if settings.method not in METHODS:
        raise OptionError(f"'{settings.method}' is not a supported method; must be one of {', '.join(METHODS)}",
                          field="method")
    if not spectra:
        raise OptionError("no spectra to fit", field="spectra")
    units = {s.unit for s in spectra}
    if len(units) > 1:
        raise OptionError("spectra in ohm and in ohm*cm^2 cannot be fitted together", field="spectra")
    if settings.area is not None:
        if not (settings.area > 0 and math.isfinite(settings.area)):
            raise OptionError(f"the area must be > 0 cm^2, got {settings.area}", field="area")
        if units == {"ohm*cm^2"}:
            raise OptionError("the spectra are already in ohm*cm^2; give no area", field="area")
    names = [s.name for s in spectra]
    for name in names:
        if names.count(name) > 1:
            raise OptionError(f"spectrum {name!r} is given twice", field="spectra")
    for s in spectra:
        if len(s) <= len(circuit.parameters) // 2 + 1:
            raise OptionError(f"{s.name}: {len(s)} frequencies cannot determine {len(circuit.parameters)} "
                              "parameters", field="circuit")
    for s in spectra:
        if np.any(np.abs(s.z) == 0):
            raise DataError(f"|Z| = 0 at {s.frequency[np.argmax(np.abs(s.z) == 0)]:g} Hz; the noise model is "
                            "relative to |Z|", file=s.source)
    if settings.arrhenius:
        if len(set(settings.arrhenius)) < len(settings.arrhenius):
            raise OptionError("a resistance is named twice", field="arrhenius")
        clash = [f"{n}_ref" for n in settings.arrhenius if f"{n}_ref" in circuit.names]
        if clash:
            raise OptionError(f"an element may not be called {clash[0]} in a joint fit", field="arrhenius")
        for name in settings.arrhenius:
            if name not in circuit.names or circuit.parameter(name).kind != "R":
                raise OptionError(f"{name!r} is not a resistor of {circuit.text}", field="arrhenius")
        if len(spectra) < 2:
            raise OptionError("a joint Arrhenius fit needs spectra at two or more temperatures", field="arrhenius")
        missing = [s.name for s in spectra if s.temperature is None]
        if missing:
            raise OptionError(f"no temperature for {missing[0]}: add '# temperature = 30 degC' to the file "
                              "or give a temperature", field="arrhenius")
        if len({round(t, 6) for t in (s.temperature for s in spectra) if t is not None}) < 2:
            raise OptionError("the spectra are all at one temperature", field="arrhenius")


def _kk(spectrum: Spectrum) -> dict:
    from .kk import lin_kk

    result = lin_kk(spectrum)
    return {"m": int(result.m), "mu": float(result.mu), "rms": float(result.rms), "max": float(result.max_abs),
            "ok": bool(result.ok), "warning": result.warning(spectrum.name)}
