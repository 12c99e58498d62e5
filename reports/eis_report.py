"""The report of an impedance fit: the fitted parameters beside least squares, Nyquist and Bode
plots with posterior bands and residuals, the lin-KK check, a parameter series against cycle
number or temperature (the paper's Fig. 9b, Fig. 5b), and every warning."""

from __future__ import annotations

import numpy as np

from . import figures
from .eis_format import spectrum_rows
from .report import Report, provenance

CURVES = 60          # posterior draws drawn as lines in a Nyquist plot
BAND_DRAWS = 400     # draws behind a Bode band
MAX_SPECTRUM_PLOTS = 4


def eis_report(fit, command: list[str] | None = None) -> Report:
    doc = fit.to_json()
    spectra_docs = doc["spectra"] if isinstance(doc, dict) and "spectra" in doc else (
        doc if isinstance(doc, list) else [doc])
    names = ", ".join(s.name for s in fit.spectra[:3]) + (" ..." if len(fit.spectra) > 3 else "")
    report = Report(title=f"Impedance fit: {fit.circuit.text} ({names})", kind="fit")
    unit = "Ω cm²" if fit.settings.area or fit.spectra[0].unit != "ohm" else "Ω"
    warnings = fit.warnings
    report.sections.append({
        "title": "What the data do not determine", "kind": "text",
        "text": " ".join(warnings) if warnings else "No warning: every arc peaks inside the measured window, "
                                                    "lin-KK passes and no two resistances trade off."})
    if isinstance(doc, dict) and doc.get("joint"):
        rows = [[name, *spectrum_rows({name: q})[0][1:3]] for name, q in doc["parameters"].items()]
        report.sections.append({"title": f"Joint Arrhenius fit (values at {doc['reference_temperature'] - 273.15:g} °C)",
                                "kind": "rows", "header": ["quantity", "posterior", "95 % interval"], "rows": rows,
                                "text": "Resistances follow Eq. 4 across the spectra; E_A in eV."})
    rng = np.random.default_rng(0)
    shown = _shown(len(fit.spectra))
    for s in shown:
        spec_doc = spectra_docs[s]
        spectrum = fit.spectra[s]
        report.sections.append({
            "title": f"{spectrum.name}", "kind": "rows",
            "header": ["parameter", "posterior", "95 % interval", "least squares"],
            "rows": spectrum_rows({**spec_doc["parameters"], **spec_doc["derived"]}, spec_doc["least_squares"]),
            "text": _kk_text(spec_doc)})
        grid, model = _model_draws(fit, s, rng)
        factor = fit.settings.area or 1.0
        key = f"bode-{s}"
        report.figures[key] = figures.bode(spectrum.frequency, spectrum.z * factor, grid, _band(model * factor),
                                           _residuals(fit, s), unit)
        report.sections.append({"title": f"{spectrum.name}: Bode plot and residuals", "kind": "figure",
                                "figure": key, "text": ""})
    curves = [{"label": fit.spectra[s].name, "z": fit.spectra[s].z * (fit.settings.area or 1.0),
               "draws": _model_draws(fit, s, rng, count=CURVES)[1] * (fit.settings.area or 1.0)} for s in shown]
    report.figures["nyquist"] = figures.nyquist(curves, unit)
    report.sections.append({"title": "Nyquist plot", "kind": "figure", "figure": "nyquist",
                            "text": f"{CURVES} posterior draws of the fitted circuit over the data."})
    series = _series(fit, spectra_docs)
    if series is not None:
        report.figures["series"] = figures.parameter_series(*series, unit)
        report.sections.append({"title": "Resistances across the spectra", "kind": "figure", "figure": "series",
                                "text": "Posterior mean and 95 % interval of each resistance per spectrum."})
    report.sections.append({"title": "Sampler diagnostics", "kind": "text",
                            "text": f"seed {fit.seed}; {fit.diagnostics.sentence()}"})
    report.provenance = provenance(command, files=[s.source for s in fit.spectra], seed=fit.seed)
    report.summary = {"fit": doc, "provenance": report.provenance}
    report.datasets["posterior.nc"] = fit.idata
    return report


def _shown(count: int) -> list[int]:
    if count <= MAX_SPECTRUM_PLOTS:
        return list(range(count))
    return sorted({0, count // 3, 2 * count // 3, count - 1})


def _model_draws(fit, s: int, rng, count: int = BAND_DRAWS):
    """A fine frequency grid over the spectrum and the model's Z at ``count`` posterior draws."""
    spectrum = fit.spectra[s]
    grid = np.logspace(np.log10(spectrum.frequency.min()), np.log10(spectrum.frequency.max()), 160)
    post = fit.idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    pick = rng.choice(total, size=min(count, total), replace=False)
    values = {p.name: np.asarray(post[p.name].isel(spectrum=s)).ravel()[pick][:, None] for p in fit.circuit.parameters}
    return grid, fit.circuit.complex_impedance(values, 2 * np.pi * grid)


def _band(z: np.ndarray) -> np.ndarray:
    modulus = np.percentile(np.abs(z), [2.5, 50, 97.5], axis=0)
    phase = np.percentile(-np.degrees(np.angle(z)), [2.5, 50, 97.5], axis=0)
    return np.stack([modulus, phase], axis=1)


def _residuals(fit, s: int) -> np.ndarray:
    """(Z - Z_model at the posterior median parameters) / |Z| at the measured frequencies."""
    spectrum = fit.spectra[s]
    post = fit.idata.posterior
    median = {p.name: float(np.median(np.asarray(post[p.name].isel(spectrum=s)))) for p in fit.circuit.parameters}
    model = fit.circuit.complex_impedance(median, spectrum.omega)
    return (spectrum.z - model) / np.abs(spectrum.z)


def _kk_text(spec_doc: dict) -> str:
    kk = spec_doc.get("kramers_kronig")
    if not kk:
        return "lin-KK not run."
    verdict = "passes" if kk["ok"] else "FAILS"
    return (f"lin-KK {verdict}: residuals rms {100 * kk['rms']:.2f} %, max {100 * kk['max']:.2f} % of |Z| "
            f"({kk['m']} RC elements). Posterior noise {100 * spec_doc['noise']['mean']:.2f} % of |Z|.")


def _series(fit, docs: list[dict]):
    """x (cycle or temperature), and low/mean/high of each resistance, when spectra vary in one."""
    if len(docs) < 2:
        return None
    cycles = [d.get("cycle") for d in docs]
    temperatures = [d.get("temperature") for d in docs]
    if all(c is not None for c in cycles) and len(set(cycles)) == len(cycles):
        x, label = np.array(cycles, dtype=float), "cycle number"
    elif all(t is not None for t in temperatures) and len(set(temperatures)) == len(temperatures):
        x, label = np.array(temperatures, dtype=float) - 273.15, "temperature / °C"
    else:
        x, label = np.arange(1, len(docs) + 1, dtype=float), "spectrum"
    names = [p.name for p in fit.circuit.parameters if p.kind == "R"] + [
        d.name for d in fit.derived if fit.units().get(d.name) in ("ohm", "ohm*cm^2")]
    order = np.argsort(x)
    stats = {}
    for name in names:
        merged = [{**d["parameters"], **d["derived"]}[name] for d in docs]
        stats[name] = np.array([[q["ci95"][0], q["mean"], q["ci95"][1]] for q in merged]).T[:, order]
    return x[order], stats, label
