"""Reports of a design study and of an Arrhenius fit."""

from __future__ import annotations

import numpy as np

from . import figures
from .format import with_uncertainty
from .report import Report, provenance


def _proposal_row(label: str, entry: dict) -> list[str]:
    d, q = entry["design"], entry["quantities"]
    return [label, f"{d['capacity']['value']:.2f}", f"{d['porosity']['value']:.2f}",
            f"{d['separator_thickness']['value']:.0f}", f"{d['reservoir_thickness']['value']:.0f}",
            f"{d['pressure']['value']:.3g}", f"{d['cathode_thickness']['value']:.0f}",
            with_uncertainty(q["E_V"]["mean"], q["E_V"]["sd"]), with_uncertainty(q["E_m"]["mean"], q["E_m"]["sd"]),
            f"{q['P_fracture']['mean']:.2f}", f"{q['P_short']['mean']:.2f}", f"{q['ohmic_drop']['mean']:.3f}",
            f"{q['retention']['mean']:.2f}",
            ", ".join(entry["active_constraints"]) or ("none" if entry["feasible"] else "infeasible")]


HEADER = ["", "capacity mAh/cm²", "porosity", "separator um", "reservoir um", "pressure MPa", "cathode um",
          "E_V Wh/l", "E_m Wh/kg", "P_fracture", "P_short", "drop V", "retention", "limited by"]


def study_report(storage: str, name: str, *, command: list[str] | None = None, top: int = 5) -> Report:
    from ..design import DesignScorer, design_space, proposals
    from ..design.study import baselines as score_baselines
    from ..design.study import describe, finished, load_existing, settings_of
    from ..inference.risk import RiskModel
    from ..priors import OptionError, load_card

    study = load_existing(storage, name)
    settings = settings_of(study)
    card = load_card(study.user_attrs["nassb_card"])
    if card.sha256 != settings.card_sha256:
        raise OptionError(f"the card {card.origin} changed since the study was made; its trials were scored "
                          "with the old one", field="--study")
    risk = RiskModel.load()
    if settings.risk and risk.fingerprint != settings.risk:
        raise OptionError("the risk calibration changed since the study was made", field="--study")
    space = design_space(card)
    scorer = DesignScorer(card, risk, current=settings.current, cycles=settings.cycles)
    trials = finished(study)
    report = Report(title=f"Design study: {name}", kind="study")
    feasible = [bool(t.user_attrs.get("feasible")) for t in trials]
    report.sections.append({"title": "Search", "kind": "text",
                            "text": f"{len(trials)} finished trials, {sum(feasible)} feasible; {describe(settings)}; "
                                    f"limits: P_fracture <= {settings.limits.max_fracture:g}, P_short <= "
                                    f"{settings.limits.max_short:g}, ohmic drop <= {settings.limits.max_drop:g} V, "
                                    f"retention >= {settings.limits.min_retention:g}; card {card.name}."})
    if len(trials) >= 2:
        label = ("mean " if settings.quantile is None else f"{100 * settings.quantile:g} % quantile of ") + settings.objective
        report.figures["history"] = figures.optimisation_history([t.values[0] for t in trials], feasible, label)
        report.sections.append({"title": "Optimisation history", "kind": "figure", "figure": "history", "text": ""})

    chosen = proposals(study, space, scorer, settings, top=top)
    baselines = score_baselines(settings, risk)
    rows = [_proposal_row(f"#{p['rank']}", p) for p in chosen] + [_proposal_row(k, v) for k, v in baselines.items()]
    report.sections.append({"title": "Proposals, and the paper's cells on the same footing", "kind": "rows",
                            "header": HEADER, "rows": rows,
                            "text": "Posterior means (E_V, E_m with their sd); 'limited by' names the limits within "
                                    "20 % of binding."})
    second = settings.pareto or "P_short"
    points = [(t.user_attrs["means"][second], t.user_attrs["means"][settings.objective], bool(t.user_attrs.get("feasible")))
              for t in trials]
    marks = {k: (v["quantities"][second]["mean"], v["quantities"][settings.objective]["mean"]) for k, v in baselines.items()}
    report.figures["map"] = figures.design_map(points, marks, f"{second} (posterior mean)",
                                               f"{settings.objective} (posterior mean)")
    report.sections.append({"title": ("Pareto front" if settings.pareto else "Trials") + " and the paper's cells",
                            "kind": "figure", "figure": "map", "text": ""})
    report.sections.append(_importances(study, report, feasible))
    report.provenance = provenance(command, study=name, storage=storage, card=card.origin, card_sha256=card.sha256)
    report.summary = {"study": name, "n_trials": len(trials), "n_feasible": sum(feasible), "proposals": chosen,
                      "baselines": baselines, "provenance": report.provenance}
    return report


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


def arrhenius_report(path: str, at: float, at_text: str, *, seed: int = 0, command: list[str] | None = None) -> Report:
    from ..inference.arrhenius import SIGN, fit_arrhenius, series_from_table
    from ..inference.cell import arrhenius_exponent
    from ..inference.sampling import SamplerSettings
    from ..priors.tables import read_table

    series = series_from_table(read_table(path))
    result = fit_arrhenius(series, at, SamplerSettings(seed=seed))
    post = result.idata.posterior
    energy = np.asarray(post["activation_energy"]).ravel()
    log_centre = np.asarray(post["log_value_at_centre"]).ravel()
    centre = 1.0 / float(np.mean(1.0 / series.temperature))
    grid = np.linspace(series.temperature.min() - 10, series.temperature.max() + 10, 120)
    curves = np.exp(log_centre[None, :] + arrhenius_exponent(SIGN[series.kind] * energy[None, :], grid[:, None], centre))
    band = np.percentile(curves, [2.5, 50, 97.5], axis=1)
    report = Report(title=f"Arrhenius fit: {path}", kind="fit")
    rows = []
    for name, q in result.summary().items():
        ls = result.extras["least_squares"][name]
        rows.append([name, with_uncertainty(q["mean"], q["sd"], q["unit"]), f"[{q['ci95'][0]:.4g}, {q['ci95'][1]:.4g}]",
                     with_uncertainty(ls["value"], ls.get("se", 0.0), ls["unit"])])
    report.sections.append({"title": f"Eq. 4 fitted (value at {at_text})", "kind": "rows",
                            "header": ["quantity", "posterior", "95 % interval", "least squares"], "rows": rows,
                            "text": "Student-t residuals on ln y (4 degrees of freedom); least squares beside it."})
    report.figures["arrhenius"] = figures.arrhenius_plot(series.temperature, series.values, grid, band, series.kind,
                                                         series.unit)
    report.sections.append({"title": "Data and posterior band", "kind": "figure", "figure": "arrhenius", "text": ""})
    d = result.diagnostics
    report.sections.append({"title": "Sampler diagnostics", "kind": "text",
                            "text": f"max R-hat {d['max_rhat']:.3f}, min bulk ESS {d['min_ess_bulk']:.0f}, "
                                    f"{d['divergences']} divergences" + ("" if d["ok"] else " (FAILS the gate)")})
    report.provenance = provenance(command, file=path, seed=seed, at=at_text)
    report.summary = {**result.to_json(), "at": at_text, "provenance": report.provenance}
    report.datasets["posterior.nc"] = result.idata
    return report
