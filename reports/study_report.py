"""Reports of a design study and of an Arrhenius fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..priors.display import figures
from ..priors.display.design_text import DESIGN_HEADER, PREDICTION_HEADER, _design_rows, _range_text, _signed
from ..priors.display.tables import quantity_cells
from ..priors.vocabulary import term, typeset, typeset_quantity
from .report import Report, provenance

SENSITIVITY_HEADER = ["", "objective", "shift", "P_fracture", "P_short", "ohmic drop V", "retention",
                      "within the limits", "largest single shift"]


def study_report(storage: str, name: str, *, command: list[str] | None = None, top: int = 5,
                 posterior=None) -> Report:
    from ..design.run import load_design
    from ..design.study import QUANTITY_OF, finished, load_existing
    from ..design.study_store import feasible_of, means_of

    result = load_design(name, storage, top=top, posterior=posterior)
    settings = result.settings
    trials = finished(load_existing(storage, name))
    report = Report(title=f"Design study: {name}", kind="study")
    feasible = [bool(feasible_of(t)) for t in trials]
    doc = result.to_json()
    report.sections.append({"title": "Search", "kind": "text",
                            "text": f"{len(trials)} finished trials, {sum(feasible)} feasible; {doc['description']}; "
                                    f"limits: P_fracture <= {settings.limits.max_fracture:g}, P_short <= "
                                    f"{settings.limits.max_short:g}, ohmic drop <= {settings.limits.max_drop:g} V, "
                                    f"retention >= {settings.limits.min_retention:g} ({settings.limits.words()}); "
                                    f"card {result.card}. "
                                    f"The objective is the energy at the cycling current, (U - j R_cell) times the "
                                    f"delivered capacity (E_V_rate, E_m_rate); the summary also gives the paper's "
                                    f"convention at U (E_V_real, E_m_real). Utilisation: {doc['utilisation']}."})
    if len(trials) >= 2:
        statistic = "posterior mean" if settings.quantile is None else f"{100 * settings.quantile:g} % quantile"
        objective = QUANTITY_OF[settings.objective]
        report.figures["history"] = figures.optimisation_history([t.values[0] for t in trials], feasible, objective,
                                                                 term(objective).unit, statistic)
        report.sections.append({"title": "Optimisation history", "kind": "figure", "figure": "history", "text": ""})

    entries = [(f"#{p['rank']}", p) for p in result.proposals] + list(result.baselines.items())
    rows = [_design_rows(label, entry) for label, entry in entries]
    ranges = doc.get("calibrated_range") or {}
    report.sections.append({"title": "Proposals: what to build", "kind": "rows", "header": DESIGN_HEADER,
                            "rows": [r[0] for r in rows],
                            "text": "Theoretical capacity per area; the cathode thickness follows from the capacity "
                                    "and the porosity; the current is the mean over the draws of the cycling current. "
                                    "The paper's cells and roadmap steps are scored on the same footing. "
                                    "'extrapolated' names what lies beyond the cells that calibrate the risk models"
                                    + (f" ({_range_text(ranges)})" if ranges else "") + ": there the risks rest on "
                                    "the models' forms alone." + _beyond_text(entries)})
    report.sections.append({"title": "Proposals: what is predicted", "kind": "rows", "header": PREDICTION_HEADER,
                            "rows": [r[1] for r in rows],
                            "text": "E_V and E_m at the cycling current (U - jR): posterior mean ± sd; probabilities: "
                                    "posterior mean [95 % interval]; 'limited by' names the limits within 20 % of "
                                    "binding."})
    sensitivity = _sensitivity_section(doc, entries)
    if sensitivity:
        report.sections.append(sensitivity)
    second = settings.pareto or "P_short"
    energy, other = QUANTITY_OF[settings.objective], QUANTITY_OF.get(second, second)
    points = [(means_of(t)[other], means_of(t)[energy], bool(feasible_of(t))) for t in trials]
    marks = {k: (v["quantities"][other]["mean"], v["quantities"][energy]["mean"]) for k, v in result.baselines.items()}
    report.figures["map"] = figures.design_map(points, marks, other, energy, term(other).unit, term(energy).unit)
    report.sections.append({"title": ("Pareto front" if settings.pareto else "Trials") + " and the paper's cells",
                            "kind": "figure", "figure": "map", "text": ""})
    report.sections.append(_importances(load_existing(storage, name), report, feasible))
    report.provenance = provenance(command, study=name, storage=result.storage, card=result.card,
                                   card_sha256=settings.card_sha256)
    report.summary = {**doc, "provenance": report.provenance}
    return report


def _beyond_text(entries: list[tuple[str, dict]]) -> str:
    from ..priors.display.design_text import _SHORT

    beyond = [f"{label}: {', '.join(_SHORT.get(n, n) for n in e['extrapolated'])}" for label, e in entries
              if e.get("extrapolated")]
    return (" Extrapolated in " + "; ".join(beyond) + ".") if beyond else ""


def _sensitivity_section(doc: dict, entries: list[tuple[str, dict]]) -> dict | None:
    """The prior sensitivity of each proposal and baseline as a table, or None without one."""
    ps = doc.get("prior_sensitivity") or {}
    if not ps.get("parameters"):
        return None
    objective = doc["settings"].get("quantity", "E_V_rate")
    unit = typeset(doc["proposals"][0]["quantities"][objective]["unit"]) if doc["proposals"] else ""
    rows = []
    for label, entry in entries:
        s = entry.get("prior_sensitivity")
        if not s:
            continue
        q = s["quantities"]

        def cell(name: str, q: dict = q) -> str:
            return _signed(q[name]["shift"], q[name]["reliable"]) if name in q else ""

        largest = max(s["by_parameter"].items(), key=lambda kv: abs(kv[1]), default=None)
        rows.append([label, f"{s['objective']['value']:.4g}",
                     _signed(s["objective"]["shift"], s["objective"]["reliable"]),
                     cell("P_fracture"), cell("P_short"), cell("ohmic_drop"), cell("retention"),
                     "" if s["feasible_widened"] is None else ("yes" if s["feasible_widened"] else "no"),
                     f"{largest[0]} {_signed(largest[1])}" if largest else ""])
    groups = ", ".join(f"{m} {g['k_hat']:.2f}" for m, g in ps.get("by_model", {}).items())
    header = [f"{h} {unit}".rstrip() if h in ("objective", "shift") else h for h in SENSITIVITY_HEADER]
    return {"title": "Prior sensitivity", "kind": "rows", "header": header, "rows": rows,
            "text": f"How each design's objective and mean risks move when the priors of the {len(ps['parameters'])} "
                    f"risk parameters that no observation informs ({', '.join(ps['parameters'])}; rule: {ps['rule']}) "
                    f"are widened x{ps['widening']:g}, by importance reweighting of the calibrated draws with "
                    f"Pareto smoothing. k-hat of each model's weights: {groups}; a shift marked ? rests on weights "
                    f"with k-hat above {ps.get('reliable_k_hat', 0.7):g} and is unreliable (its direction and order "
                    "hold, not its digits). A design whose figures move little rests on data; one whose figures "
                    "move, on the priors' assumptions."}


def _importances(study, report: Report, feasible: list[bool]) -> dict:
    """Parameter importances (Optuna's default evaluator), or why there are none."""
    title = "Parameter importances"
    if sum(feasible) < 2:
        return {"title": title, "kind": "text", "text": "not available: fewer than two feasible trials"}
    import warnings

    import optuna

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Optuna's evaluator ranks what drives low targets: negate the maximised objective.
            values = optuna.importance.get_param_importances(study, target=lambda t: -t.values[0])
    except (RuntimeError, ValueError) as err:
        return {"title": title, "kind": "text", "text": f"not available: {err}"}
    report.figures["importances"] = figures.importances(values)
    return {"title": title, "kind": "figure", "figure": "importances", "text": ""}


def arrhenius_report(path: str, at: str, *, seed: int = 0, command: list[str] | None = None,
                     settings=None) -> Report:
    """The report of an Arrhenius fit (``settings``: the sampler's, default NUTS at ``seed``)."""
    from ..inference.arrhenius import fit_arrhenius
    from ..inference.sampling import SamplerSettings

    result = fit_arrhenius(path, at=at, settings=settings or SamplerSettings(seed=seed))
    series = result.series
    report = Report(title=f"Arrhenius fit: {Path(path).name}", kind="fit")
    rows = []
    for name, q in result.summary().items():
        ls = result.least_squares[name]
        value, span = quantity_cells(name, q)
        rows.append([name, value, span, f"{ls['value']:.4g} ± {ls.get('se', 0.0):.2g} {typeset(ls['unit'])}".rstrip()])
    report.sections.append({"title": f"Eq. 4 fitted (value at {typeset_quantity(result.at_text)})", "kind": "rows",
                            "header": ["quantity", "posterior", "95 % interval", "least squares"], "rows": rows,
                            "text": "Student-t residuals on ln y (4 degrees of freedom); least squares beside it."})
    grid = np.linspace(series.temperature.min() - 10, series.temperature.max() + 10, 120)
    report.figures["arrhenius"] = figures.arrhenius_plot(series.temperature, series.values, grid, result.band(grid),
                                                         series.kind, typeset(series.unit))
    report.sections.append({"title": "Data and posterior band", "kind": "figure", "figure": "arrhenius", "text": ""})
    report.sections.append({"title": "Sampler diagnostics", "kind": "text",
                            "text": result.diagnostics.sentence()
                            + "".join(f" Warning: {w}." for w in result.diagnostics.problems)})
    report.provenance = provenance(command, file=path, seed=seed, at=at)
    report.summary = {**result.to_json(), "provenance": report.provenance}
    report.datasets["posterior.nc"] = result.idata
    return report
