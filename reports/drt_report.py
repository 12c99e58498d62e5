"""A DRT as a report: per spectrum its DRT figure and peaks table
(:mod:`nassb.priors.display.drt`), the circuit they suggest and the Bode figure of the DRT
model; a Nyquist figure of all.

The DRT result computes every number and curve (``SpectrumDRT.band``, ``.predict``,
``.residuals``); this module only lays them out.
"""

from __future__ import annotations

import numpy as np

from ..priors.display import figures
from ..priors.display.drt import drt_figure, peak_rows
from ..priors.vocabulary import typeset
from .report import Report, provenance

MAX_SPECTRUM_FIGURES = 6
CURVES = 60


def nyquist_curve(one) -> dict:
    return {"label": one.name, "z": one.spectrum.z, "draws": one.predict(draws=CURVES)}


def bode_png(one) -> bytes:
    """The Bode figure of the DRT model: |Z| and phase with the 95 % band, and residuals."""
    grid = one.frequency_grid()
    z = one.predict(grid, draws=1000)
    q = [2.5, 50, 97.5]
    band = np.stack([np.percentile(np.abs(z), q, axis=0), np.percentile(-np.degrees(np.angle(z)), q, axis=0)], axis=1)
    unit = "Ω cm²" if one.unit != "ohm" else "Ω"
    return figures.bode(one.spectrum.frequency, one.spectrum.z, grid, band, one.residuals(), unit)


def drt_report(result, command: list[str] | None = None) -> Report:
    """The report of ``fit drt``: per spectrum its DRT figure, peaks table, suggested circuit and
    Bode figure; a Nyquist figure of all; every warning."""
    docs = result.to_json()
    docs = docs if isinstance(docs, list) else [docs]
    names = ", ".join(s.name for s in result.spectra[:3]) + (" ..." if len(result.spectra) > 3 else "")
    report = Report(title=f"Distribution of relaxation times ({names})", kind="fit")
    warnings = result.warnings
    report.sections.append({
        "title": "What the data do not determine", "kind": "text",
        "text": " ".join(warnings) if warnings else "No warning: every peak is resolved inside the measured window."})
    report.sections.append({
        "title": "Suggested circuits", "kind": "rows", "header": ["spectrum", "circuit", "peaks (resolved)"],
        "rows": [[d["spectrum"], d["circuit"], f"{len(d['peaks'])} ({sum(p['resolved'] for p in d['peaks'])})"]
                 for d in docs],
        "text": "R0 (L0 where the inductance is significant) and one p(R,CPE) per probable peak inside the "
                "measured window, fastest first: pass it to `nassb fit eis --circuit`."})
    shown = list(range(min(len(docs), MAX_SPECTRUM_FIGURES)))
    for s in shown:
        doc, one = docs[s], result.spectra[s]
        key = f"drt-{s}"
        report.figures[key] = drt_figure(one)
        unit = typeset(doc["unit"])
        report.sections.append({"title": f"{one.name}: peaks", "kind": "rows",
                                "header": ["peak", "tau", "95 % interval", "f", f"R / {unit}", "95 % interval", "P",
                                           ""], "rows": peak_rows(doc),
                                "text": f"Suggested circuit: {doc['circuit']}. P is the share of posterior draws in "
                                        "which the peak stands out."})
        report.sections.append({"title": f"{one.name}: DRT", "kind": "figure", "figure": key,
                                "text": "Posterior median of gamma with the 95 % band; peaks marked (solid: a "
                                        "resolved arc, dashed: not resolved or hiding another)."})
        report.figures[f"bode-{s}"] = bode_png(one)
        report.sections.append({"title": f"{one.name}: Bode plot of the DRT model", "kind": "figure",
                                "figure": f"bode-{s}", "text": ""})
    if len(shown) < len(docs):
        report.sections.append({"title": "Spectra with figures", "kind": "text",
                                "text": f"Figures for the first {len(shown)} of {len(docs)} spectra."})
    unit = "Ω cm²" if result.spectra[0].unit != "ohm" else "Ω"
    report.figures["nyquist"] = figures.nyquist([nyquist_curve(result.spectra[s]) for s in shown], unit)
    report.sections.append({"title": "Nyquist plot", "kind": "figure", "figure": "nyquist",
                            "text": f"{CURVES} posterior draws of the DRT model over the data."})
    report.provenance = provenance(command, files=list(dict.fromkeys(s.spectrum.source for s in result.spectra)))
    report.summary = {"drt": docs, "provenance": report.provenance}
    return report
