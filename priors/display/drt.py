"""A DRT as text and as a figure: per spectrum R_inf, L, the peaks in a table (tau, frequency,
resistance, probability) and the circuit they suggest, ready for ``fit eis``; gamma against tau
with its 95 % band and the peaks marked.

The DRT result computes every number and curve (``SpectrumDRT.band``, ``.predict``,
``.residuals``); this module only lays them out.
"""

from __future__ import annotations

import math
import shlex
from typing import TYPE_CHECKING

import numpy as np

from ..vocabulary import typeset
from .figures import OKABE_ITO, _pyplot, _rendered, axis_label, file_label
from .format import interval, with_uncertainty
from .tables import columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def hz(f: float) -> str:
    """A frequency for a sentence: ``2.0 kHz``, ``250 kHz``, ``0.50 Hz``."""
    for scale, unit in ((1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz")):
        if f >= scale:
            return f"{f / scale:.3g} {unit}"
    return f"{f:.2g} Hz"


def _seconds(tau: float) -> str:
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if tau >= scale:
            return f"{tau / scale:.3g} {unit}"
    return f"{tau / 1e-9:.3g} ns"


def _prefixed(q: dict) -> tuple[float, str]:
    """A factor and a prefixed unit (nH, µH, mH) for an inductance summary in H (or H cm²)."""
    size = max(abs(q["mean"]), q["sd"] or 0.0)
    for factor, prefix in ((1e9, "n"), (1e6, "µ"), (1e3, "m")):
        if size * factor < 1000:
            return factor, prefix + typeset(q["unit"])
    return 1.0, typeset(q["unit"])


def peak_rows(doc: dict) -> list[list[str]]:
    """One row per peak of a spectrum's JSON document: tau, f, R, P and its verdict."""
    rows = []
    for k, peak in enumerate(doc["peaks"], start=1):
        tau, r = peak["tau"], peak["R"]
        low, high = tau["ci95"]
        if not peak["in_window"]:
            verdict = "outside the measured window"
        elif peak["counted"] and peak["hidden_tau"]:
            verdict = "arc, unresolved (" + ", ".join(hz(1 / (2 * math.pi * t)) for t in peak["hidden_tau"]) \
                      + " hidden in it)"
        elif peak["counted"] and not peak["resolved"]:
            verdict = f"arc, broad ({peak['width_decades']:.1f} decades): unresolved?"
        elif peak["counted"]:
            verdict = "arc"
        else:
            verdict = "not resolved"
        rows.append([str(k), _seconds(tau["median"]), f"[{_seconds(low)}, {_seconds(high)}]",
                     hz(1 / (2 * math.pi * tau["median"])),
                     with_uncertainty(r["mean"], r["sd"], typeset(r["unit"])),
                     interval(r["ci95"][0], r["ci95"][1], r["sd"]),
                     f"{peak['probability']:.2f}", verdict])
    return rows


def drt_table(result) -> str:
    """A DRT as text: per spectrum R_inf, L, the peaks and the suggested circuit."""
    docs = result.to_json()
    docs = docs if isinstance(docs, list) else [docs]
    lines = [f"Bayesian DRT, {len(docs)} spectr{'um' if len(docs) == 1 else 'a'} (regularisation and noise "
             "learned; 95 % intervals)"]
    for doc, one in zip(docs, result.spectra):
        q = doc["quantities"]
        unit = typeset(doc["unit"])
        where = ", ".join(x for x in (f"{doc['temperature'] - 273.15:g} °C" if doc.get("temperature") else "",
                                      f"cycle {doc['cycle']}" if doc.get("cycle") is not None else "") if x)
        lines += ["", doc["spectrum"] + (f" ({where})" if where else "")]
        rows = [["quantity", "value", "95 % interval"]]
        for name, label in (("R_inf", "R_inf (series)"), ("L", "L (inductance)"), ("R_pol", "R_pol (all peaks)")):
            factor, unit_text = _prefixed(q[name]) if name == "L" else (1.0, typeset(q[name]["unit"]))
            rows.append([label, with_uncertainty(q[name]["mean"] * factor, q[name]["sd"] * factor, unit_text),
                         interval(q[name]["ci95"][0] * factor, q[name]["ci95"][1] * factor, q[name]["sd"] * factor)])
        rows.append(["noise", f"{100 * q['noise']['mean']:.2f} % of |Z|",
                     f"[{100 * q['noise']['ci95'][0]:.2f}, {100 * q['noise']['ci95'][1]:.2f}] %"])
        lines += columns(rows)
        if doc["peaks"]:
            lines.append("")
            header = ["peak", "tau", "95 % interval", "f", f"R / {unit}", "95 % interval", "P", ""]
            lines += columns([header, *peak_rows(doc)])
        reg = doc["regularisation"]
        lines += ["", f"regularisation learned: log10 lambda {reg['log10_lambda']['mean']:.1f} "
                      f"[{reg['log10_lambda']['ci95'][0]:.1f}, {reg['log10_lambda']['ci95'][1]:.1f}]; "
                      f"residuals {100 * doc['residual_rms']:.2f} % of |Z| (rms); {one.seconds:.2f} s",
                  f"suggested circuit: {doc['circuit']}",
                  f"  nassb fit eis {shlex.quote(doc['file'])} --circuit {shlex.quote(doc['circuit'])}"
                  + (f" --area {doc['area']:g}" if doc.get("area") else "")]
    warnings = result.warnings
    if warnings:
        lines += ["", *(f"warning: {w}" for w in warnings)]
    return "\n".join(lines)


@_rendered
def drt_figure(one) -> Figure:
    """gamma against tau (log axis) with the 95 % band of the projected draws, each peak marked
    at its tau with its probability, and the measured window shaded off outside."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    tau = one.posterior.tau
    band = one.band()
    ax.fill_between(tau, band[0], band[2], color=OKABE_ITO[0], alpha=0.3, label="95 % band")
    ax.plot(tau, band[1], color=OKABE_ITO[0], lw=1.8, label="posterior median")
    f = one.spectrum.frequency
    lowest, highest = 1 / (2 * math.pi * f.max()), 1 / (2 * math.pi * f.min())
    ax.axvspan(tau[0], lowest, color="0.85", alpha=0.5, lw=0)
    ax.axvspan(highest, tau[-1], color="0.85", alpha=0.5, lw=0, label="beyond the measured frequencies")
    top = float(np.max(band[2])) if np.max(band[2]) > 0 else 1.0
    for k, peak in enumerate(one.peaks, start=1):
        where = float(np.median(peak.tau))
        color = OKABE_ITO[3] if peak.counted else "0.4"
        ax.axvline(where, color=color, lw=1, ls="-" if peak.resolved else "--")
        ax.annotate(f"{k}: P {peak.probability:.2f}", (where, float(band[1][peak.index])), xytext=(4, 4),
                    textcoords="offset points", fontsize=8, color=color)
    ax.set_xscale("log")
    _powers_of_ten(ax.xaxis)
    ax.set_xlim(tau[0], tau[-1])
    ax.set_ylim(bottom=0, top=top * 1.1)
    ax.set_xlabel(axis_label("relaxation time τ", "s", words=True))
    ax.set_ylabel(axis_label("\N{GREEK SMALL LETTER GAMMA}", one.unit, words=True))
    ax.set_title(f"DRT: {file_label(one.name)}", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", framealpha=0.9)
    return fig


def _powers_of_ten(axis) -> None:
    """Tick labels 10⁻⁶ in plain text (the figures draw no mathtext)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    digits = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"10{str(round(math.log10(x))).translate(digits)}"
                                           if x > 0 else ""))
    axis.set_minor_formatter(NullFormatter())
