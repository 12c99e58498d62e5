"""The report of one cell card: Table 1 by every method, where its error bars come from, the
resistances against temperature, the risks, diagnostics and provenance."""

from __future__ import annotations

import math

import numpy as np

from ..priors.vocabulary import term, typeset
from ..priors.display import figures
from ..priors.display.format import with_uncertainty
from ..priors.display.tables import quantity_cells
from ..priors.display.text import first_order_sentence
from .report import Report, provenance, table_rows

REPORT_DRAWS = 200_000
KEPT_DRAWS = 100_000
TABLE = ("E_V_theo", "E_V_real", "E_m_theo", "E_m_real", "d_anode_theo", "d_anode_real", "porosity",
         "utilisation", "R_separator", "R_interface")


def improvement_sentence(budget: list[dict], quantity: str, sd: float, unit: str) -> str:
    """Which measurement to improve first, and what halving its uncertainty would buy."""
    top = budget[0]
    shrunk = math.sqrt(max(sd ** 2 - 0.75 * top["contribution"] ** 2, 0.0))
    unit_in = f" {typeset(top['unit'])}".rstrip()
    return (f"The largest share of the variance of {quantity} ({100 * top['share']:.0f} %) comes from "
            f"{top['input']} (± {top['sd']:.3g}{unit_in}). Measuring it to ± {top['sd'] / 2:.3g}{unit_in} "
            f"would shrink u({quantity}) from {sd:.2g} to {shrunk:.2g} {unit}.")


def cell_report(card, *, seed: int = 0, command: list[str] | None = None, bayes_settings=None,
                posterior=None) -> Report:
    from ..inference import CellModel
    from ..inference.propagate import propagate
    from ..inference.sampling import SamplerSettings

    model = CellModel(card)
    gum = propagate(model, "gum")
    mc = propagate(model, "mc", draws=REPORT_DRAWS, seed=seed, keep_draws=True)
    results = {"gum": gum, "mc": mc}
    report = Report(title=f"Uncertainty report: {card.name}", kind="cell")
    if card.observations:
        results["bayes"] = propagate(model, "bayes", settings=bayes_settings or SamplerSettings(seed=seed))

    names = [n for n in TABLE if n in model.outputs]
    report.sections.append({
        "title": "Energy densities and resistances",
        "kind": "table",
        "methods": list(results),
        "rows": table_rows(results, names),
        "note": (f"gum: first order (JCGM 100), 95 % interval y ± 1.96 u. mc: {REPORT_DRAWS:,} Monte Carlo draws "
                 f"(JCGM 101), seed {seed}, probabilistically symmetric 95 % interval."
                 + (" bayes: posterior given the card's observations (NUTS)." if "bayes" in results else "")),
    })

    _conventions_and_correlation(report, mc)

    target = "E_V_real" if "E_V_real" in model.outputs else "E_V_theo"
    budget = [e for e in gum.budget(target) if e["share"] > 0]
    if budget:
        unit = typeset(gum[target]["unit"])
        report.figures["budget"] = figures.budget_chart(budget, target, unit)
        report.sections.append({
            "title": f"Where the error bar of {target} comes from",
            "kind": "budget",
            "figure": "budget",
            "sentence": improvement_sentence(budget, target, gum[target]["sd"], unit),
            "rows": [{"input": e["input"],
                      "value": with_uncertainty(e["value"], e["sd"], typeset(e["unit"])),
                      "contribution": f"{e['contribution']:.3g} {unit}", "share": f"{100 * e['share']:.1f} %"}
                     for e in budget[:8]],
        })

    energies: list[str] = [n for n in ("E_V_real", "E_m_real") if n in model.outputs] or ["E_V_theo", "E_m_theo"]
    report.figures["densities"] = figures.densities(
        {n: mc.draws(n) for n in energies}, {n: gum[n] for n in energies}, energies,
        {n: term(n).unit_text for n in energies})
    checks = {n: mc.first_order_check(n) for n in energies}
    report.sections.append({
        "title": "Distributions of the energy densities",
        "kind": "figure",
        "figure": "densities",
        "text": ". ".join(first_order_sentence(n, c, gum[n]["unit"]) for n, c in checks.items()) + ".",
    })

    _resistance_section(report, model, mc)
    report.sections.append(_risk_section(card, seed, posterior))
    bayes = results.get("bayes")
    if bayes is not None and bayes.diagnostics is not None:
        report.sections.append({"title": "Sampler diagnostics", "kind": "text",
                                "text": bayes.diagnostics.sentence()})

    report.provenance = provenance(command, card=card.origin, card_sha256=card.sha256, seed=seed,
                                   monte_carlo_draws=REPORT_DRAWS)
    report.summary = {"cell": card.name, "methods": {m: r.to_json() for m, r in results.items()},
                      "provenance": report.provenance}
    kept = mc.idata.posterior.isel(chain=0, draw=slice(0, KEPT_DRAWS)).astype("float32")
    kept.attrs = {"description": f"first {KEPT_DRAWS} Monte Carlo draws of every output (float32)", "seed": seed}
    report.datasets["draws.nc"] = kept
    if "bayes" in results:
        report.datasets["posterior.nc"] = results["bayes"].idata
    return report


def _conventions_and_correlation(report: Report, mc) -> None:
    """The conventions the numbers rest on, and how the outputs move together (JCGM 102)."""
    conventions = mc.conventions
    if conventions:
        plating = conventions.get("plating", {}).get("text", "")
        report.sections.append({"title": "Conventions", "kind": "text",
                                "text": conventions["text"] + (f"; {plating}" if plating else "")
                                + ". These are the paper's choices, kept so that Table 1 is reproduced; "
                                  "`nassb propagate --convention mass-conserving` and `--current` give the "
                                  "alternatives."})
    correlation = mc.correlation()
    names = [str(n) for n in correlation["row"].values]
    report.sections.append({
        "title": "How the outputs move together (JCGM 102)", "kind": "rows",
        "header": ["", *names],
        "rows": [[a, *(f"{float(correlation.sel(row=a, column=b)):.2f}" for b in names)] for a in names],
        "text": "Correlation coefficients of the Monte Carlo draws; the covariance matrix is in summary.json."})


def _resistance_section(report: Report, model, mc) -> None:
    """The separator and interface resistances against temperature, where the card gives them."""
    if "R_separator" in model.outputs or "R_interface" in model.outputs:
        temperature_c = np.linspace(-20.0, 60.0, 81)
        bands = {name: mc.band(name, temperature=temperature_c + 273.15)
                 for name in ("R_separator", "R_interface") if name in model.outputs}
        report.figures["resistances"] = figures.resistance_bands(temperature_c, bands,
                                                                 model.nominal()["cell.temperature"] - 273.15)
        report.sections.append({"title": "Separator and interface against temperature", "kind": "figure",
                                "figure": "resistances",
                                "text": "Median and 95 % band over the card's uncertainties (Eq. 4); the dashed "
                                        "line is the cell temperature."})


def _risk_section(card, seed: int, posterior=None) -> dict:
    from ..inference.risk.scoring import score_risks
    from ..priors import CardError

    try:
        result = score_risks(card, cycles=100, seed=seed, posterior=posterior)
    except CardError as err:
        return {"title": "Risks", "kind": "text", "text": f"Not scored: {err.field}: {err.message}."}
    rows = []
    for name, q in result.summary().items():
        value, span = quantity_cells(name, q)
        info = result.most_informative[name]
        rows.append({"name": name, "value": value, "interval": span,
                     "narrow": (f"{info['parameter']}: " if info["parameter"] else "") + info["experiment"]})
    current = result.conditions["current"]["value"]
    return {"title": "Risks (calibrated risk models)", "kind": "risk", "rows": rows,
            "text": f"At {current:.3g} mA/cm² (C/10) over 100 cycles. Probabilities are posterior means with their "
                    "95 % interval. "
                    + ("The risk models rest on a handful of observations in the seed paper: read the intervals, "
                       "not the means." if posterior is None else
                       f"Risk posterior: {_posterior_label(posterior)}, not the calibration shipped with nassb.")}


def _posterior_label(posterior) -> str:
    from pathlib import Path

    return Path(posterior).name if isinstance(posterior, (str, Path)) else type(posterior).__name__
