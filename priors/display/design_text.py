"""A design study as text: what to build and what is predicted, as two tables that fit a
terminal, then the calibrated range, what each design rests on and its prior sensitivity."""

from __future__ import annotations

from ..vocabulary import term, typeset
from .format import with_uncertainty
from .tables import columns, quantity_cells

# Short names of the variables a proposal may take beyond the calibrated range.
_SHORT = {"separator.thickness": "separator", "cell.pressure": "pressure", "cathode.theoretical_capacity": "capacity",
          "cathode.porosity": "porosity", "cathode.thickness": "cathode", "anode.reservoir_thickness": "reservoir",
          "current": "current"}
DESIGN_HEADER = ["", "capacity", "porosity", "separator", "reservoir", "pressure", "cathode", "current",
                 "extrapolated"]
PREDICTION_HEADER = ["", "E_V Wh/l", "E_m Wh/kg", "P_fracture [95 %]", "P_short [95 %]", "drop V", "retention",
                     "limited by"]


# The limits in the "limited by" column, short so that the table fits a terminal.
LIMIT_SHORT = {"P_fracture": "fracture", "P_short": "short", "ohmic_drop": "drop", "retention": "retention",
               "current_range": "current"}


def _energy(q: dict, name: str) -> dict:
    """The energy at the cycling current, or (a study made before it existed) the paper's one."""
    return q.get(f"{name}_rate") or q[f"{name}_real"]


def _design_rows(label: str, entry: dict) -> tuple[list[str], list[str]]:
    """(design cells, prediction cells) of one proposal or baseline."""
    d, q = entry["design"], entry["quantities"]

    def value(name: str, fmt: str) -> str:
        v = d[name]
        return f"{v['value']:{fmt}} {typeset(v['unit'])}".rstrip()

    current = entry.get("current")
    beyond = entry.get("extrapolated")
    design = [label, value("cathode.theoretical_capacity", ".2f"), value("cathode.porosity", ".2f"),
              value("separator.thickness", ".0f"), value("anode.reservoir_thickness", ".0f"),
              value("cell.pressure", ".3g"), value("cathode.thickness", ".0f"),
              f"{current['mean']:.3g} {typeset(current['unit'])}" if current else "",
              ("yes" if beyond else "-") if beyond is not None else ""]
    e_v, e_m = _energy(q, "E_V"), _energy(q, "E_m")
    risk = [label, with_uncertainty(e_v["mean"], e_v["sd"]), with_uncertainty(e_m["mean"], e_m["sd"]),
            *(" ".join(quantity_cells(n, q[n])) for n in ("P_fracture", "P_short")),
            f"{q['ohmic_drop']['mean']:.3f}", f"{q['retention']['mean']:.2f}",
            ", ".join(LIMIT_SHORT.get(c, c) for c in entry["active_constraints"])
            or ("-" if entry["feasible"] else "infeasible")]
    return design, risk


def _signed(x: float, reliable: bool = True) -> str:
    text = "0" if abs(x) < 1e-9 else f"{x:+.2g}"
    return text if reliable else text + "?"


def sensitivity_line(label: str, entry: dict, objective: str) -> str | None:
    """One line: how a design's objective and risks move when the uninformed priors are widened
    (a shift whose weights have k-hat above 0.7 is marked ``?``)."""
    s = entry.get("prior_sensitivity")
    if not s:
        return None
    unit = typeset(term(objective).unit)
    o, risks = s["objective"], s["quantities"]
    mark = "" if o.get("reliable", True) else "?"
    parts = [f"{objective} {_signed(o['shift'])} {unit}".rstrip() + mark]
    for name, short in (("P_fracture", "P_fracture"), ("P_short", "P_short"), ("ohmic_drop", "drop"),
                        ("retention", "retention")):
        if name in risks:
            parts.append(f"{short} {_signed(risks[name]['shift'], risks[name].get('reliable', True))}")
    line = f"  {label}  " + ", ".join(parts)
    if s.get("feasible_widened") is not None:
        line += "; within the limits: " + ("yes" if s["feasible_widened"] else "no")
    if s.get("by_parameter"):
        name, shift = max(s["by_parameter"].items(), key=lambda kv: abs(kv[1]))
        line += f"; most from {name} ({_signed(shift)} {unit}".rstrip() + ")"
    return line


def _sensitivity_header(ps: dict, target: str, objective: str) -> str:
    groups = ", ".join(f"{m} {g['k_hat']:.2f}" for m, g in ps.get("by_model", {}).items())
    limit = ps.get("reliable_k_hat", 0.7)
    quality = ("all reliable" if ps["reliable"] else
               f"above {limit:g} a shift is unreliable, marked ?: read its direction and order, not its digits")
    return (f"prior sensitivity: the {len(ps['parameters'])} priors no observation informs widened x{ps['widening']:g} "
            f"(importance reweighting; PSIS k-hat {groups}; {quality}); shift of the {target} {objective} and of "
            "the mean risks:")


def _range_text(ranges: dict) -> str:
    parts = []
    for name, r in ranges.items():
        lo, hi, unit = r["low"], r["high"], typeset(r["unit"])
        span = f"{lo:.3g}" if lo == hi else f"{lo:.3g}-{hi:.3g}"
        parts.append(f"{_SHORT.get(name, name)} {span} {unit}".rstrip())
    return ", ".join(parts)


def binding_words(entry: dict) -> str | None:
    """The reading that binds a proposal, in words, or None."""
    name = entry.get("binding_reading")
    if not name:
        return None
    row = entry["readings"][name]
    limit = row.get("limit")
    risk = row["risks"].get(limit, {})
    state = "meets its limits" if row["feasible"] else "breaks its limits"
    return (f"binding reading: {name} ({row['question']}): {limit} {risk.get('mean', float('nan')):.3g} there; "
            f"the design {state} under it")


def unrepresented_words(entries: list[dict]) -> str | None:
    """The readings the posterior's draws cannot represent (k-hat > 0.7 or too few effective
    draws), in words: shown in the JSON, neither held nor able to bind, so the proposals rest on
    the other readings of their questions; None where every reading is represented."""
    rows: dict = next((e["readings"] for e in entries if e.get("readings")), {})
    def why(row: dict) -> str:
        if row.get("kind") == "direction":
            return f"{row['ess']:.0f} of the draws go that way"
        return f"k-hat {row['k_hat']:.2f}, {row['ess']:.0f} effective draws"

    names = [f"{name} ({row['question']}; {why(row)})" for name, row in rows.items() if not row.get("reliable", True)]
    if not names:
        return None
    return ("not represented by the draws, so neither held nor binding (the proposals rest on the other readings "
            "of these questions; a calibration under one is the honest check): " + "; ".join(names))


def resting_line(label: str, entry: dict) -> str:
    """``#1  cell-1? (P_short +0.24), cell-2? (P_short +0.30)``: the observation groups a design
    rests on and the risk that moves most without each; empty where it rests on none."""
    leave = entry.get("leave_out") or {}
    parts = []
    for group in entry.get("rests_on") or []:
        shift = leave[group]
        moved = ", ".join(f"{risk} {shift['risks'][risk]:+.2g}" for risk in shift["breaks"])
        parts.append(f"{group}{'' if shift['reliable'] else '?'} ({moved})")
    return f"  {label}  {', '.join(parts)}" if parts else ""


def _beyond_word(name: str, entry: dict) -> str:
    """``porosity x0.32``: a variable outside the calibrated range and how far (where known)."""
    ratio = (entry.get("extrapolated_by") or {}).get(name)
    if ratio is None:
        return _SHORT.get(name, name)
    digits = ".2g" if abs(ratio - 1) > 0.05 else ".3g"
    return f"{_SHORT.get(name, name)} x{ratio:{digits}}"


def design_table(result) -> str:
    """Proposals of a design study and the paper's cells on the same footing, as two tables
    (what to build; what is predicted) that fit a terminal, then the calibrated range and the
    prior sensitivity of each design."""
    doc = result.to_json() if hasattr(result, "to_json") else result
    st = doc["settings"]
    target = "mean" if st["quantile"] is None else f"{100 * st['quantile']:g} % quantile of"
    pareto = f" against {st['pareto']} (Pareto front)" if st.get("pareto") else ""
    rate = st.get("rate") or f"{st['current']['value']:.3g} mA/cm²"
    within = "; within the calibrated range" if st.get("within_data") else ""
    lines = [f"study {doc['study']}: {doc['n_trials']} trials, {doc['n_feasible']} feasible",
             f"maximising the {target} {st['objective']}{pareto} at the cycling current (U - jR), {rate}, over "
             f"{st['cycles']} cycles{within}",
             f"limits: P_fracture <= {st['limits']['max_fracture']:g}, P_short <= {st['limits']['max_short']:g}, "
             f"ohmic drop <= {st['limits']['max_drop']:g} V, retention >= {st['limits']['min_retention']:g} "
             f"({st['limits'].get('judged_on', 'posterior means')})"]
    if doc.get("utilisation"):
        lines.append(f"utilisation: {doc['utilisation']}")
    lines.append("")
    designs, predicted = [list(DESIGN_HEADER)], [list(PREDICTION_HEADER)]
    entries = [(f"#{p['rank']}", p) for p in doc["proposals"]] + list(doc["baselines"].items())
    for label, entry in entries:
        d, r = _design_rows(label, entry)
        designs.append(d)
        predicted.append(r)
    if not doc["proposals"]:
        lines.append("no feasible design yet: run more trials or relax the limits")
    lines.extend(["what to build (capacity theoretical, per area; current: mean over the draws):",
                  *columns(designs), "",
                  "what is predicted (E_V, E_m: mean ± sd at the cycling current, U - jR, delivered capacity; "
                  "risks: posterior mean [95 % interval]):",
                  *columns(predicted)])
    if doc["baselines"]:
        lines.extend(["", "the paper's cells are scored as designs: layers, capacity and pressure fixed at the "
                          "card values",
                      "('nassb risk CARD' draws them from the card's uncertainties instead, so its figures differ)"])
    if doc.get("calibrated_range"):
        lines.extend(["", "calibrated range (the cells the risk models rest on): "
                      + _range_text(doc["calibrated_range"])])
        beyond = [f"  {label}  {', '.join(_beyond_word(n, e) for n in e['extrapolated'])}" for label, e in entries
                  if e.get("extrapolated")]
        if beyond:
            lines.extend(["extrapolated beyond it (the risks rest on the models' forms alone there; x: the value "
                          "over the nearer end of the range):", *beyond])
    binding = [f"  {label}  {words}" for label, e in entries if (words := binding_words(e))]
    unrepresented = unrepresented_words([e for _, e in entries])
    if binding or unrepresented:
        lines.extend(["", "readings of the paper that bind (priors/data/risk-readings.toml; each risk under each "
                          "reading in the JSON's readings):", *binding])
        if unrepresented:
            lines.append(f"  {unrepresented}")
    rests = [line for line in (resting_line(label, e) for label, e in entries) if line]
    if rests:
        lines.extend(["", "what each design rests on (leave one observation group out, PSIS; ? marks k-hat > 0.7, "
                          "a direction rather than digits): the groups without which a limit breaks",
                      *rests])
    ps = doc.get("prior_sensitivity") or {}
    objective = st.get("quantity") or f"{st['objective']}_rate"
    sens = [line for line in (sensitivity_line(label, e, objective) for label, e in entries) if line]
    if ps.get("parameters") and sens:
        lines.extend(["", _sensitivity_header(ps, target, objective), *sens])
    elif ps and not ps.get("parameters"):
        lines.extend(["", "prior sensitivity: every risk parameter is informed by the observations"])
    return "\n".join(lines)
