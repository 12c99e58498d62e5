"""An impedance fit as text: the rows of its parameters (shared by the terminal table and the
report), the diagnostics gate spectrum by spectrum, and the listing of spectra read."""

from __future__ import annotations

import math

from ..vocabulary import typeset
from .format import interval, with_uncertainty
from .tables import columns

TINY = 1e-30  # below any physical ohm, farad, henry or CPE Q: a least-squares value at its bound 0
# The range inside which least squares keeps a CPE exponent (nassb.inference.eis.leastsq.N_RANGE,
# which a test holds equal to this: the display layer sits below inference and cannot import it).
N_RANGE = (0.05, 0.9995)


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


def eis_table(fit) -> str:
    """An impedance fit as text: one block per spectrum (posterior, 95 % interval, least
    squares), or, for many spectra, one row per spectrum of the resistances and derived values
    with its method and gate; then the diagnostics gate, naming every spectrum that fails."""
    if fit.kind == "eis-spectrum":
        fit = _OneSpectrum(fit)
    doc = fit.to_json()
    spectra = (doc["spectra"] if isinstance(doc, dict) and "spectra" in doc
               else (doc if isinstance(doc, list) else [doc]))
    lines = [f"{fit.circuit.text}: Bayesian equivalent-circuit fit, {len(spectra)} spectr"
             f"{'um' if len(spectra) == 1 else 'a'}"
             + (f", area {fit.settings.area:g} cm²" if fit.settings.area else ""),
             method_line(fit), spectra[0]["assumption"] if len(spectra) == 1 else fit.assumption]
    if isinstance(doc, dict) and doc.get("joint"):
        lines.append(f"values at {doc['reference_temperature'] - 273.15:g} °C")
        lines.extend(_eis_rows(dict(doc["parameters"]), None))
    if len(spectra) == 1 or (isinstance(doc, dict) and doc.get("joint") and len(spectra) <= 3):
        for spec in spectra:
            lines.append("")
            lines.append(_spectrum_title(spec))
            lines.extend(_eis_rows({**spec["parameters"], **spec["derived"]}, spec["least_squares"]))
    else:
        names = [n for n in fit.circuit.names if fit.circuit.parameter(n).kind == "R"] + [d.name for d in fit.derived]
        rows = [("spectrum", *names, "method", "gate")]
        for spec, one in zip(spectra, fit.fits):
            merged = {**spec["parameters"], **spec["derived"]}
            rows.append((_spectrum_title(spec), *(_mean_sd(merged[n]) for n in names),
                         short_method(one.method), spectrum_verdict(one)))
        units = {**spectra[0]["parameters"], **spectra[0]["derived"]}
        lines.append("")
        lines.append("resistances in " + ", ".join(dict.fromkeys(typeset(units[n]["unit"]) for n in names)))
        lines.extend(columns(rows))
    lines.append("")
    lines.extend(gate_lines(fit))
    return "\n".join(lines)


class _OneSpectrum:
    """One spectrum's fit read as a batch of one (what a batch's table reads of it)."""

    joint_diagnostics = None

    def __init__(self, fit):
        self.fits = [fit]
        self.circuit, self.settings, self.derived, self.seed = fit.circuit, fit.settings, fit.derived, fit.seed
        self.to_json = fit.to_json


def _mean_sd(q: dict) -> str:
    if q["sd"] is None:
        return f"median {q.get('median', float('nan')):.4g}"
    return with_uncertainty(q["mean"], q["sd"])


def _spectrum_title(spec: dict) -> str:
    extra = [f"{spec['temperature'] - 273.15:g} °C" if spec.get("temperature") else "",
             f"cycle {spec['cycle']}" if spec.get("cycle") is not None else ""]
    joined = ", ".join(e for e in extra if e)
    return f"{spec['spectrum']}" + (f" ({joined})" if joined else "")


def _eis_rows(quantities: dict, least_squares: dict | None) -> list[str]:
    rows = [["parameter", "posterior", "95 % interval", "least squares" if least_squares else ""],
            *spectrum_rows(quantities, least_squares)]
    return columns(rows)


def spectra_table(listing) -> str:
    """One row per spectrum read: what, where from, how many points over which frequencies."""
    rows = [["spectrum", "cycle", "temperature", "points", "f_min Hz", "f_max Hz", "skipped"]]
    for r in listing.rows:
        rows.append([r["spectrum"], "" if r["cycle"] is None else str(r["cycle"]),
                     "" if r["temperature"] is None else f"{r['temperature'] - 273.15:g} °C", str(r["points"]),
                     f"{r['f_min']:.3g}", f"{r['f_max']:.3g}", "; ".join(r["skipped"]) or "-"])
    return "\n".join([listing.title, "", *columns(rows)])
