"""A lab campaign as a report (``nassb report --campaign NAME``): rounds, proposals and outcomes,
the risk parameters round by round, the current best cell with its predicted figures.  Its text
(what ``nassb campaign ...`` prints) is :mod:`nassb.priors.display.campaign`."""

from __future__ import annotations

from ..priors.display import figures
from ..priors.display.campaign import SHOWN, design_words, outcome_words, parameter_cell
from ..priors.display.tables import probability_text, quantity_cells
from .report import Report, provenance


def _proposal_state(proposal: dict, waiting: set[str]) -> str:
    if proposal["name"] in waiting and proposal["open"]:
        return "recorded, not yet in the posterior"
    if proposal["open"]:
        return "being built"
    return outcome_words(proposal.get("outcome")) or "recorded"


def parameter_rounds(posteriors: list[dict], names: list[str], **kwargs):
    """Each risk parameter's posterior mean and 95 % interval after each recalibration, in one
    panel (:func:`~nassb.priors.display.figures.parameter_rounds`)."""
    return figures.parameter_rounds(posteriors, names, **kwargs)


def campaign_report(storage: str, name: str, *, command: list[str] | None = None) -> Report:
    """The report of a campaign (sections, figures and summary for :func:`~.report.write_report`)."""
    from ..design.campaign import Campaign

    campaign = Campaign.open(name, storage)
    status = campaign.status()
    doc = status.to_json()
    report = Report(title=f"Lab campaign: {name}", kind="study")
    limits = doc["settings"]
    report.sections.append({"title": "Campaign", "kind": "text",
                            "text": f"{doc['settings']['description']}; limits"
                                    + (" on the posterior means" if limits.get("limit_confidence") is None else "")
                                    + f": P_fracture <= "
                                    f"{limits['max_fracture']:g}, P_short <= {limits['max_short']:g}, ohmic drop <= "
                                    f"{limits['max_drop']:g} V, retention >= {limits['min_retention']:g}; card "
                                    f"{doc['card']}; {doc['recorded']} recorded cell entries ({doc['cells']} cells). "
                                    "Each round's proposals were scored with the posterior of the paper's cells and "
                                    "every cell recorded before it."})
    report.sections.append({"title": "Rounds", "kind": "rows", "header": ["round", "proposed", "recorded", "open"],
                            "rows": [[str(r["round"]), str(r["proposed"]), str(r["recorded"]), str(r["open"])]
                                     for r in doc["rounds"]], "text": ""})
    waiting = {r["proposal"] for r in doc["records"] if r["proposal"] and not r.get("in_posterior", True)}
    if doc.get("pending"):
        report.sections.append({"title": "Records not yet in the posterior", "kind": "text",
                                "text": f"{', '.join(doc['pending'])}: stored, but no recalibration covers them yet "
                                        f"(a recalibration killed or still running); 'nassb campaign recalibrate "
                                        f"{name}' folds them in and tells the proposals they answer."})
    outcomes: dict[str, list[str]] = {}
    for r in doc["records"]:
        if r["proposal"]:
            outcomes.setdefault(r["proposal"], []).append(r["name"])
    rows = []
    for p in doc["proposals"]:
        q = p["quantities"]
        energy = "E_V_rate" if doc["settings"]["objective"] == "E_V" else "E_m_rate"
        predicted = quantity_cells(energy, q[energy])[0] if energy in q else ""
        rows.append([p["name"], str(p["round"]), design_words(p["design_values"]), predicted,
                     probability_text(q["P_fracture"]["mean"]) if "P_fracture" in q else "",
                     probability_text(q["P_short"]["mean"]) if "P_short" in q else "",
                     _proposal_state(p, waiting),
                     ", ".join(outcomes.get(p["name"], []))])
    report.sections.append({"title": "Proposals and outcomes", "kind": "rows",
                            "header": ["proposal", "round", "design", "predicted energy", "P_fracture", "P_short",
                                       "outcome", "built as"], "rows": rows,
                            "text": "Predicted when proposed (posterior means); the outcome is what the built cell "
                                    "did, as recorded."})
    posteriors = doc["posteriors"]
    names = sorted(posteriors[-1]["parameters"])
    report.figures["parameters"] = parameter_rounds(posteriors, names)
    report.sections.append({"title": "Risk parameters round by round", "kind": "figure", "figure": "parameters",
                            "text": "Posterior mean (the median where a heavy tail leaves no mean) and 95 % interval "
                                    "of each risk parameter, from the paper's "
                                    "posterior (0) through each recalibration: "
                                    + "; ".join(f"{p['index']}: {p['method']}, {p['records']} record(s)"
                                                for p in posteriors) + "."})
    header = ["parameter"] + [str(p["index"]) for p in posteriors]
    table = []
    for n in names:
        row = [n]
        for p in posteriors:
            q = p["parameters"].get(n)
            row.append(parameter_cell(q))
        table.append(row)
    report.sections.append({"title": "Risk parameters: mean [95 % interval]", "kind": "rows", "header": header,
                            "rows": table, "text": ""})
    best = doc.get("best")
    if best:
        rows = [[n, *quantity_cells(n, q)] for n, q in best["quantities"].items() if n in SHOWN]
        report.sections.append({"title": f"Current best cell: {best['name']} ({best['source']})", "kind": "rows",
                                "header": ["quantity", "posterior mean", "95 % interval"], "rows": rows,
                                "text": f"Build: {design_words(best['design'])}. The best feasible cell, recorded or "
                                        "proposed, under the current posterior."})
    else:
        report.sections.append({"title": "Current best cell", "kind": "text",
                                "text": "none yet: no recorded or proposed cell meets the limits."})
    report.provenance = provenance(command, campaign=name, storage=doc["storage"], card=doc["card"])
    report.summary = {**doc, "provenance": report.provenance}
    return report
