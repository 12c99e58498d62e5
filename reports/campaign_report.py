"""A lab campaign as text (what ``nassb campaign ...`` prints) and as a report (``nassb report
--campaign NAME``): rounds, proposals and outcomes, the risk parameters round by round, the
current best cell with its predicted figures."""

from __future__ import annotations


from ..priors.vocabulary import typeset
from . import figures
from .report import Report, provenance
from .text import binding_words, columns, probability_text, quantity_cells

_SHORT = {"cathode.theoretical_capacity": "C", "cathode.porosity": "P", "separator.thickness": "sep",
          "anode.reservoir_thickness": "res", "cell.pressure": "p", "cathode.thickness": "cat"}
SHOWN = ("E_V_rate", "E_m_rate", "P_fracture", "P_short", "ohmic_drop", "retention")


def design_words(design: dict) -> str:
    """A design on one line: ``C 2.1 mAh/cm^2, P 0.45, sep 120 um, res 30 um, p 0.5 MPa``."""
    parts = []
    for name, q in design.items():
        value, unit = (q["value"], q["unit"]) if isinstance(q, dict) else (q, "")
        unit = "" if unit in ("", "1") else f" {typeset(unit)}"
        parts.append(f"{_SHORT.get(name, name)} {value:.3g}{unit}")
    return ", ".join(parts)


def _outcome_words(outcome: dict | None) -> str:
    if not outcome:
        return ""
    if outcome.get("cracked"):
        return "cracked"
    if outcome.get("short_cycle"):
        a, b = outcome["short_cycle"]
        return f"shorted in cycle {a}" + (f"-{b}" if b != a else "")
    if outcome.get("cycles"):
        return f"{outcome['cycles']} cycles, no short"
    return "held" if outcome.get("cracked") is False else "recorded"


def parameter_cell(q: dict | None, digits: int = 3) -> str:
    """A risk parameter's posterior as ``mean [low, high]``; one without a mean (a heavy tail)
    as ``median M (no mean) [low, high]``, one without a variance as ``mean (no sd) [...]``."""
    if q is None:
        return ""
    low, high = q["ci95"]
    ends = f"[{low:.{digits}g}, {high:.{digits}g}]"
    if q.get("mean") is None:
        median = q.get("median")
        centre = "median n/a" if median is None else f"median {median:.{digits}g}"
        return f"{centre} (no mean: heavy tail) {ends}"
    return f"{q['mean']:.{digits}g}" + (" (no sd: heavy tail)" if q.get("sd") is None else "") + f" {ends}"


def parameter_centre(q: dict | None) -> float:
    """The point a figure draws for a parameter: its mean, its median where it has no mean."""
    if q is None:
        return float("nan")
    value = q["mean"] if q.get("mean") is not None else q.get("median")
    return float("nan") if value is None else float(value)


def _proposal_state(proposal: dict, waiting: set[str]) -> str:
    if proposal["name"] in waiting and proposal["open"]:
        return "recorded, not yet in the posterior"
    if proposal["open"]:
        return "being built"
    return _outcome_words(proposal.get("outcome")) or "recorded"


def _quantity_line(quantities: dict) -> str:
    out = []
    for name in SHOWN:
        if name in quantities:
            out.append(f"{name} {quantity_cells(name, quantities[name])[0]}")
    return ", ".join(out)


def campaign_text(result) -> str:
    """The text of a campaign result (proposal, record or status)."""
    if result.kind == "campaign-proposal":
        scored = f"scored with the posterior {result.posterior.get('key', '')} ({result.posterior.get('method', '')})"
        lines = [result.title, scored, ""]
        for p in result.proposals:
            gain = p.get("expected_gain")
            label = ("exploration" if p.get("exploration") else "best") + (
                f", expected gain {gain['value']:.3g} {typeset(gain['unit'])}" if gain else "")
            lines.append(f"{p['name']}  {p['card']}  ({label})")
            lines.append(f"  build: {design_words(p['design'])}")
            lines.append(f"  predicted: {_quantity_line(p['quantities'])}")
            binding = binding_words(p)
            if binding:
                lines.append(f"  {binding}")
    elif result.kind == "campaign-record":
        post = result.posterior
        gate = post.get("gate", {})
        how = post.get("method", "")
        if how == "reweighting" and "k_hat" in gate:
            how += (f" (PSIS k-hat {gate['k_hat']:.2f}, ESS {gate['ess']:.0f}, resampled to equal weights, "
                    "moved apart by a Liu-West kernel)")
        elif how == "smc" and "steps" in gate:
            how = (f"sequential Monte Carlo ({gate['steps']} tempering steps, smallest ESS {gate['ess']:.0f} of a "
                   "step, Liu-West moves)")
        lines = [result.title, f"recalibrated by {how}: {len(post.get('records', []))} record(s) in the posterior"]
        if gate.get("reason"):
            lines.append(f"why: {gate['reason']} (seed {gate.get('seed')})")
        if post.get("calibration"):
            from ..design.calibration import calibration_words

            lines.append("what the posterior predicted for these cells before they entered it:")
            lines += [f"  {line}" for line in calibration_words(post["calibration"])]
        lines.append("")
        for c in result.cells:
            answers = f"answers {c['proposal']}" if c["proposal"] else "answers no proposal"
            lines.append(f"{c['name']} (round {c['round']}, {answers}): {_outcome_words(c.get('outcome'))}")
        table: list[tuple[str, ...]] = [(n, parameter_cell(q, 4), typeset(q["unit"]))
                                         for n, q in result.summary().items()]
        lines += ["", *columns(table)]
    else:
        doc = result.to_json()
        lines = [result.title, f"{doc['settings']['description']}; card {doc['card']}", ""]
        rounds: list[tuple[str, ...]] = [("round", "proposed", "recorded", "open")]
        rounds += [(str(r["round"]), str(r["proposed"]), str(r["recorded"]), str(r["open"])) for r in doc["rounds"]]
        lines += columns(rounds)
        checked = [r for r in doc["rounds"] if r.get("calibration")]
        if checked:
            from ..design.calibration import round_words

            lines += ["", "calibration (predicted before the cells entered the posterior):"]
            lines += columns([("round", "Brier fracture", "Brier short", "R_cell inside 95 %", "widened")]
                             + [round_words(r["round"], r["calibration"]) for r in checked])
        method = doc["posteriors"][-1]["method"]
        how = "the calibration shipped with nassb" if method == "shipped" else f"the last by {method}"
        lines.append(f"recorded cells: {doc['recorded']}; posteriors: {len(doc['posteriors'])} ({how})")
        if doc.get("pending"):
            lines.append(f"not yet in the posterior: {', '.join(doc['pending'])}")
        best = doc.get("best")
        if best:
            lines += ["", f"best cell: {best['name']} ({best['source']}): {design_words(best['design'])}",
                      f"  predicted: {_quantity_line(best['quantities'])}"]
    warnings = result.warnings
    return "\n".join(lines + (["", *(f"warning: {w}" for w in warnings)] if warnings else []))


def parameter_rounds(posteriors: list[dict], names: list[str], **kwargs):
    """Each risk parameter's posterior mean and 95 % interval after each recalibration, in one
    panel (:func:`~nassb.reports.figures.parameter_rounds`)."""
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
