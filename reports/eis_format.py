"""Rows of an impedance fit's parameters, shared by the terminal table and the report."""

from __future__ import annotations

import math

from ..priors.vocabulary import typeset
from .format import interval, with_uncertainty

TINY = 1e-30  # below any physical ohm, farad, henry or CPE Q: a least-squares value at its bound 0


def scaled(q: dict, unit: str) -> tuple[str, str]:
    """Value and 95 % interval, with a power of ten pulled out of very small or large numbers:
    ``(3.8 ± 2.2)e-8 F`` rather than ``0.000000038 ± 0.000000022 F``."""
    mean, sd, (low, high) = q["mean"], q["sd"], q["ci95"]
    if not all(v is not None and math.isfinite(v) for v in (mean, sd, low, high)):
        return f"n/a {unit}".rstrip(), "n/a"
    size = max(abs(mean), abs(high), 1e-300)
    if 1e-2 <= size < 1e5:
        return with_uncertainty(mean, sd, unit), interval(low, high, sd)
    exponent = math.floor(math.log10(size))
    f = 10.0 ** -exponent
    return (f"({with_uncertainty(mean * f, sd * f)})e{exponent} {unit}".rstrip(),
            f"{interval(low * f, high * f, sd * f)}e{exponent}")


def least_squares_text(name: str, value: float) -> str:
    """A least-squares value as printed: one at a bound of the fit says so (``0 (at bound)``,
    not ``5.976e-120``; a CPE exponent at least squares' own limit, ``0.9995 (at bound)``)."""
    from ..inference.eis.leastsq import N_RANGE

    if not math.isfinite(value):
        return f"{value}"
    if abs(value) < TINY:
        return "0 (at bound)"
    if name.endswith("_n") and (value >= N_RANGE[1] * (1 - 1e-9) or value <= N_RANGE[0] * (1 + 1e-9)):
        return f"{value:.4g} (at bound)"
    return f"{value:.4g}"


def spectrum_rows(quantities: dict, least_squares: dict | None = None) -> list[list[str]]:
    """[name, posterior, 95 % interval, least squares] per parameter or derived quantity."""
    rows = []
    for name, q in quantities.items():
        unit = typeset(q["unit"])
        ls = least_squares_text(name, least_squares[name]) if least_squares and name in least_squares else ""
        rows.append([name, *scaled(q, unit), ls])
    return rows


def short_method(method: str) -> str:
    """``Laplace + PSIS`` or ``NUTS (PyMC)`` without its numbers."""
    return method.split(" (k-hat")[0]


def method_line(fit) -> str:
    """How the posteriors were computed, in one line: per spectrum for a batch, one model for a
    joint fit."""
    if fit.joint_diagnostics is not None:
        return f"joint Arrhenius fit: {fit.joint_diagnostics.notes[0] if fit.joint_diagnostics.notes else 'one model'}"
    if len(fit.fits) == 1:
        return f"posterior: {fit.fits[0].method}"
    counts = ", ".join(f"{n} by {m}" for m, n in fit.methods.items())
    return f"each spectrum fitted on its own, as it would be alone: {counts}"


def gate_lines(fit) -> list[str]:
    """The diagnostics gate, spectrum by spectrum: one sentence for one spectrum or a joint run;
    for a batch how many pass and, for each that fails, why."""
    if fit.joint_diagnostics is not None:
        lines = [f"seed {fit.seed}; {fit.diagnostics.sentence()}"]
        return lines + [f"  {f.name}: FAILS: {'; '.join(f.diagnostics.problems)}" for f in fit.fits
                        if f.diagnostics.problems and f.diagnostics.problems != fit.joint_diagnostics.problems]
    if len(fit.fits) == 1:
        return [f"seed {fit.seed}; {fit.fits[0].diagnostics.sentence()}"]
    failing = [f for f in fit.fits if not f.ok]
    passing = len(fit.fits) - len(failing)
    lines = [f"seed {fit.seed}; {passing} of {len(fit.fits)} spectra pass the diagnostics gate"
             + (":" if failing else " (R-hat, ESS and divergences for NUTS; k-hat and ESS for importance sampling;"
                                    " lin-KK; misfit)")]
    for f in failing:
        lines.append(f"  {f.name} FAILS ({short_method(f.method)}): " + "; ".join(
            _unnamed(w, f.name) for w in f.diagnostics.warnings()))
    return lines


def _unnamed(text: str, name: str) -> str:
    return text[len(name) + 2:] if text.startswith(name + ": ") else text


def spectrum_verdict(fit) -> str:
    """``ok`` or ``FAILS`` for a spectrum's row."""
    return "ok" if fit.ok else "FAILS"
