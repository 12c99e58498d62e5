"""The report of an impedance fit: every spectrum in a table (its resistances, method and gate),
the fitted parameters beside least squares, Nyquist and Bode plots with posterior bands and
residuals, the lin-KK check, a parameter series against cycle number or temperature (the paper's
Fig. 9b, Fig. 5b), the diagnostics gate spectrum by spectrum, and every warning.

The fit computes every curve (``SpectrumFit.band``, ``.predict``, ``.residuals``); this module
only lays them out.  Where only some spectra get figures, the report says which and why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..priors.display import figures
from ..priors.display.eis import (
    gate_lines,
    method_line,
    short_method,
    spectrum_rows,
    spectrum_verdict,
)
from ..priors.display.format import with_uncertainty
from .report import Report, provenance

CURVES = 60                # posterior draws drawn as lines in a Nyquist plot
MAX_SPECTRUM_FIGURES = 6   # spectra with their own table and Bode plot; every spectrum is in the overview


def eis_report(fit, command: list[str] | None = None) -> Report:
    if fit.kind == "eis-spectrum":
        from ..inference.eis.results import EISFit

        fit = EISFit([fit], fit.circuit, fit.settings, fit.derived, fit.seed)
    doc = fit.to_json()
    spectra_docs = doc["spectra"] if isinstance(doc, dict) and "spectra" in doc else (
        doc if isinstance(doc, list) else [doc])
    names = ", ".join(Path(s.name).name for s in fit.spectra[:3]) + (" ..." if len(fit.spectra) > 3 else "")
    report = Report(title=f"Impedance fit: {fit.circuit.text} ({names})", kind="fit")
    unit = "Ω cm²" if fit.settings.area or fit.spectra[0].unit != "ohm" else "Ω"
    warnings = fit.warnings
    report.sections.append({
        "title": "What the data do not determine", "kind": "text",
        "text": " ".join(warnings) if warnings else "No warning: every arc peaks inside the measured window, "
                                                    "lin-KK passes, the circuit fits as well as lin-KK allows and "
                                                    "no two resistances trade off."})
    if isinstance(doc, dict) and doc.get("joint"):
        rows = [[name, *spectrum_rows({name: q})[0][1:3]] for name, q in doc["parameters"].items()]
        celsius = doc["reference_temperature"] - 273.15
        report.sections.append({"title": f"Joint Arrhenius fit (values at {celsius:g} °C)",
                                "kind": "rows", "header": ["quantity", "posterior", "95 % interval"], "rows": rows,
                                "text": "Resistances follow Eq. 4 across the spectra; E_A in eV. "
                                        f"{doc['note'].capitalize()}."})
    report.sections.append(_overview(fit, spectra_docs, unit))
    shown, why = _shown(fit)
    if len(shown) < len(fit.fits):
        listed = ", ".join(fit.fits[s].name for s in shown)
        report.sections.append({"title": "Spectra with figures", "kind": "text",
                                "text": f"Figures for {len(shown)} of {len(fit.fits)} spectra: {listed} ({why}). "
                                        "Every spectrum is in the table above, with its method and gate."})
    for s in shown:
        spec_doc, one = spectra_docs[s], fit.fits[s]
        report.sections.append({
            "title": Path(one.name).name, "kind": "rows",
            "header": ["parameter", "posterior", "95 % interval", "least squares"],
            "rows": spectrum_rows({**spec_doc["parameters"], **spec_doc["derived"]}, spec_doc["least_squares"]),
            "text": _kk_text(spec_doc) + f" Posterior: {one.method}. {spec_doc['assumption'].capitalize()}."})
        grid = one.frequency_grid()
        key = f"bode-{s}"
        report.figures[key] = figures.bode(one.spectrum.frequency, one.spectrum.z * one.z_factor, grid,
                                           one.band(grid), one.residuals(), unit)
        report.sections.append({"title": f"{Path(one.name).name}: Bode plot and residuals", "kind": "figure",
                                "figure": key, "text": ""})
        report.sections.append(_drt_section(report, one, s, fit.circuit.text))
    report.figures["nyquist"] = figures.nyquist([fit.fits[s].nyquist_curve(CURVES) for s in shown], unit)
    report.sections.append({"title": "Nyquist plot", "kind": "figure", "figure": "nyquist",
                            "text": f"{CURVES} posterior draws of the fitted circuit over the data"
                                    + (" of the spectra with figures." if len(shown) < len(fit.fits) else ".")})
    series = _series(fit, spectra_docs)
    if series is not None:
        report.figures["series"] = figures.parameter_series(*series, unit)
        report.sections.append({"title": "Resistances across the spectra", "kind": "figure", "figure": "series",
                                "text": f"Posterior mean and 95 % interval of each resistance, all {len(fit.fits)} "
                                        "spectra."})
    report.sections.append({"title": "Sampler diagnostics", "kind": "text",
                            "text": " ".join([method_line(fit) + ".", *gate_lines(fit)])})
    report.provenance = provenance(command, files=list(dict.fromkeys(s.source for s in fit.spectra)), seed=fit.seed)
    report.summary = {"fit": doc, "provenance": report.provenance}
    report.datasets["posterior.nc"] = fit.idata
    return report


def _overview(fit, docs: list[dict], unit: str) -> dict:
    """One row per spectrum: where it is, its resistances (mean ± sd), its method and gate."""
    names = [p.name for p in fit.circuit.parameters if p.kind == "R"] + [
        d.name for d in fit.derived if fit.units().get(d.name) in ("ohm", "ohm*cm^2")]
    rows = []
    for doc, one in zip(docs, fit.fits):
        merged = {**doc["parameters"], **doc["derived"]}
        where = ", ".join(x for x in (f"{doc['temperature'] - 273.15:g} °C" if doc.get("temperature") else "",
                                      f"cycle {doc['cycle']}" if doc.get("cycle") is not None else "") if x)
        cells = [with_uncertainty(merged[n]["mean"], merged[n]["sd"]) if merged[n]["sd"] is not None else "n/a"
                 for n in names]
        rows.append([one.name, where, *cells, short_method(one.method), spectrum_verdict(one)])
    return {"title": f"Every spectrum ({len(docs)})", "kind": "rows",
            "header": ["spectrum", "conditions", *(f"{n} ({unit})" for n in names), "method", "gate"], "rows": rows,
            "text": "Posterior mean ± sd. Each spectrum is fitted on its own unless the fit is joint."}


def _shown(fit) -> tuple[list[int], str]:
    """The spectra that get figures, and why those: all when few; otherwise every one that
    fails its gate (up to the limit), then the first, the last and evenly between."""
    count = len(fit.fits)
    if count <= MAX_SPECTRUM_FIGURES:
        return list(range(count)), "all"
    failing = [s for s, f in enumerate(fit.fits) if not f.ok][:MAX_SPECTRUM_FIGURES]
    chosen = list(failing)
    for s in np.linspace(0, count - 1, MAX_SPECTRUM_FIGURES).round().astype(int):
        if len(chosen) >= MAX_SPECTRUM_FIGURES:
            break
        if int(s) not in chosen:
            chosen.append(int(s))
    parts = []
    if failing:
        parts.append(f"the {len(failing)} that fail the gate" if len(failing) > 1 else "the one that fails the gate")
    if len(chosen) > len(failing):
        parts.append("the first, the last and evenly between" if len(chosen) - len(failing) > 2 else
                     "the first and the last")
    return sorted(chosen), f"a report draws at most {MAX_SPECTRUM_FIGURES}: " + " and ".join(parts)


def _kk_text(spec_doc: dict) -> str:
    kk = spec_doc.get("kramers_kronig")
    noise = f"Posterior noise {100 * spec_doc['noise']['mean']:.2f} % of |Z|."
    if not kk:
        return f"lin-KK not run. {noise}"
    verdict = "passes" if kk["ok"] else "FAILS"
    return (f"lin-KK {verdict}: residuals rms {100 * kk['rms']:.2f} %, max {100 * kk['max']:.2f} % of |Z| "
            f"({kk['m']} RC elements); the fit's {100 * spec_doc['least_squares_rms']:.2f} %. {noise}")


def _series(fit, docs: list[dict]):
    """x (cycle or temperature), and low/mean/high of each resistance, when spectra vary in one."""
    if len(docs) < 2:
        return None
    cycles = [d.get("cycle") for d in docs]
    temperatures = [d.get("temperature") for d in docs]
    if all(c is not None for c in cycles) and len(set(cycles)) == len(cycles):
        x, label = np.array(cycles, dtype=float), "cycle number"
    elif all(t is not None for t in temperatures) and len(set(temperatures)) == len(temperatures):
        x, label = np.array(temperatures, dtype=float) - 273.15, "temperature (°C)"
    else:
        x, label = np.arange(1, len(docs) + 1, dtype=float), "spectrum"
    names = [p.name for p in fit.circuit.parameters if p.kind == "R"] + [
        d.name for d in fit.derived if fit.units().get(d.name) in ("ohm", "ohm*cm^2")]
    order = np.argsort(x)
    stats = {}
    for name in names:
        merged = [{**d["parameters"], **d["derived"]}[name] for d in docs]
        stats[name] = np.array([[q["ci95"][0], q["mean"] if q["mean"] is not None else q.get("median", np.nan),
                                 q["ci95"][1]] for q in merged]).T[:, order]
    return x[order], stats, label


def _drt_section(report: Report, one, s: int, circuit: str) -> dict:
    """The spectrum's DRT beside its fit (closed form, a tenth of a second) and the circuit its
    peaks suggest."""
    from ..inference.eis.drt_result import fit_drt
    from ..priors import NassbError
    from ..priors.display.drt import drt_figure

    try:
        drt = fit_drt(one.spectrum, area=one.area).spectra[0]
    except NassbError as err:
        return {"title": f"{one.name}: distribution of relaxation times", "kind": "text", "text": f"No DRT: {err}"}
    report.figures[f"drt-{s}"] = drt_figure(drt)
    same = "the shape of the circuit fitted" if _shape(drt.circuit) == _shape(circuit) else f"not {circuit}"
    return {"title": f"{one.name}: distribution of relaxation times", "kind": "figure", "figure": f"drt-{s}",
            "text": f"Its peaks suggest {drt.circuit} ({same}; `nassb fit drt` gives the peaks). "
                    + " ".join(drt.warnings)}


def _shape(circuit: str) -> str:
    """A circuit string without its labels: ``R_A-p(R_B,CPE_B)`` -> ``R-p(R,CPE)``."""
    import re

    return re.sub(r"(CPE|Wo|Ws|R|C|L|W|G)[A-Za-z0-9_]*", r"\1", circuit)
