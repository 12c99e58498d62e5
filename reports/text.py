"""Terminal text of every result, in the paper's style: one number format, units typeset, a
probability as a mean with its 95 % interval (never ± sd)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..priors.vocabulary import term, typeset, typeset_quantity
from .format import NON_FINITE, interval, round_pair, with_uncertainty

_BUDGET_FOR = ("E_V_real", "E_V_theo")
_METHOD_WORDS = {
    "gum": "first order (JCGM 100), exact derivatives",
    "mc": "Monte Carlo (JCGM 101)",
    "bayes": "Bayesian posterior (PyMC, NUTS)",
}


def columns(rows: Sequence[Sequence[str]], gap: str = "  ") -> list[str]:
    """Rows of cells as left-aligned columns."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [gap.join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def probability_text(p: float | None) -> str:
    """A probability with the digits it deserves: ``0.14``, ``0.0031``, ``< 0.001``, ``> 0.999``."""
    if p is None or p != p:  # NaN
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    if p > 0.999:
        return "> 0.999"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def probability_cells(q: dict) -> tuple[str, str]:
    """A probability and its 95 % interval, the value always inside the interval shown: the mean
    where it lies within, else the median (a skewed posterior whose mean a few draws carry past
    the upper end), else the mean said to lie outside."""
    low, high = q["ci95"]
    span = f"[{probability_text(low)}, {probability_text(high)}]" if high >= 0.001 else "all < 0.001"
    mean = q["mean"]
    if mean is None or low <= mean <= high or probability_text(mean) == probability_text(high):
        return probability_text(mean if mean is not None else q.get("median")), span
    if q.get("median") is not None:
        return f"median {probability_text(q['median'])}", span
    side = "above" if mean > high else "below"
    return f"mean {probability_text(mean)}, {side} its 95 % interval (a skewed posterior)", span


# Why an interval or an sd reads oddly, said beside it.
FIRST_ORDER_NEGATIVE = "first-order y ± 1.96 u of a positive quantity: the Monte Carlo interval is the one to quote"
WIDE_SD = "sd above the value: a skewed distribution, read the interval rather than ± sd"


def interval_note(name: str, q: dict) -> str:
    """Why an interval of ``name`` has a negative end although the quantity cannot be negative,
    or why its sd says little (it exceeds the value); empty when nothing needs saying."""
    t = term(name)
    low = q["ci95"][0]
    if t.kind == "quantity" and t.low >= 0 and low is not None and low < 0:
        return FIRST_ORDER_NEGATIVE
    mean, sd = q.get("mean"), q.get("sd")
    if t.kind == "quantity" and mean is not None and sd is not None and math.isfinite(mean) and sd > abs(mean) > 0:
        return WIDE_SD
    return ""


def quantity_cells(name: str, q: dict, *, note: bool = True) -> tuple[str, str]:
    """The value and 95 % interval cells of one summary, as every table writes them: a note on
    an odd interval or sd (:func:`interval_note`) in parentheses after the interval, or, with
    ``note=False``, a ``*`` that a footnote below the table explains (:func:`note_lines`)."""
    value, span = _quantity_cells(name, q)
    why = interval_note(name, q)
    if not why:
        return value, span
    return value, f"{span} ({why})" if note else f"{span} *"


def note_lines(summary: dict[str, dict]) -> list[str]:
    """The footnotes of a terminal table: one line per quantity marked ``*``, saying why."""
    notes = [f"  {name}: {why}" for name, q in summary.items() if (why := interval_note(name, q))]
    return ["", "* read with care:", *notes] if notes else []


def _quantity_cells(name: str, q: dict) -> tuple[str, str]:
    t = term(name)
    unit = typeset(q["unit"])
    low, high = q["ci95"]
    if t.kind == "probability":
        return probability_cells(q)
    if q["mean"] is not None and not math.isfinite(q["mean"]):
        return NON_FINITE, "n/a"
    if q["sd"] is None:
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            return NON_FINITE, "n/a"
        # A heavy tail: the median, at the precision its interval allows; no ± that means nothing.
        scale = (high - low) / 3.92 if high > low else 0.0
        median = q.get("median", q["mean"])
        shown = round_pair(median, scale)[0] if scale > 0 else f"{median:.4g}"
        shown = f"{shown} {unit}".rstrip() if unit and unit != "1" else shown
        what = "mean, sd" if q["mean"] is None else "sd"
        return f"median {shown} ({what} not defined)", interval(low, high, scale) if scale > 0 else "exact"
    if q["sd"] <= 0:
        return with_uncertainty(q["mean"], 0.0, unit), "exact"
    return with_uncertainty(q["mean"], q["sd"], unit), interval(low, high, q["sd"])


def summary_rows(summary: dict[str, dict]) -> list[tuple[str, str, str]]:
    rows = [("quantity", "value", "95 % interval")]
    rows.extend((name, *quantity_cells(name, q, note=False)) for name, q in summary.items())
    return rows


def result_text(result) -> str:
    """The text of any result (what ``nassb COMMAND`` prints and ``repr`` shows)."""
    renderers: dict[str, Callable[..., str]] = {
        "propagation": propagation_table, "arrhenius": arrhenius_table, "risk": risk_table,
        "calibration": calibration_table, "design": design_table, "eis": eis_table, "eis-spectrum": eis_table,
        "spectra": spectra_table, "drt": drt_table}
    render = renderers.get(result.kind)
    if render is not None:
        return render(result)
    lines = [result.title, "", *columns(summary_rows(result.summary())), *note_lines(result.summary())]
    return "\n".join(lines + _warning_lines(result))


def drt_table(result) -> str:
    """A DRT result as text (nassb.reports.drt_report lays it out)."""
    from .drt_report import drt_table as table

    return table(result)


def _warning_lines(result) -> list[str]:
    warnings = result.warnings
    return ["", *(f"warning: {w}" for w in warnings)] if warnings else []


def _tail_lines(summary: dict[str, dict]) -> list[str]:
    """One line per quantity whose sd (or mean) is not defined, saying why."""
    notes = [f"  {name}: {q['note']}" for name, q in summary.items() if q.get("note")]
    return ["", "not defined:", *notes] if notes else []


def propagation_table(result, *, budget_rows: int = 5) -> str:
    """A propagation as text: one row per quantity, then the leading budget entries."""
    attrs = result.dataset.attrs
    origin = attrs.get("card", "")
    title = result.cell if origin in ("", result.cell) else f"{result.cell} ({origin})"
    lines = [f"{title}: {_METHOD_WORDS.get(result.method, result.method)}"]
    if result.method == "mc":
        state = "converged" if attrs["converged"] else "NOT converged: raise the number of draws"
        digits = f", {attrs['significant_digits']} significant digits" if attrs["significant_digits"] else ""
        lines.append(f"{attrs['draws']:,} draws, seed {attrs['seed']}{digits}, {state}")
        if attrs.get("rejected_draws"):
            lines.append(f"{attrs['rejected_draws']:,} draws dropped: their derived porosity left (0, 1)")
    if result.conventions.get("text"):
        lines.append(result.conventions["text"])
    lines.append("")
    summary = result.summary()
    lines.extend(columns(summary_rows(summary)))
    lines.extend(note_lines(summary))
    lines.extend(_tail_lines(summary))
    if result.method == "mc":
        lines.extend(_first_order_lines(result))
    if result.diagnostics is not None:
        lines.extend(["", result.diagnostics.sentence()])
    target = next((q for q in _BUDGET_FOR if q in result.quantities), None)
    entries = [e for e in result.budget(target) if e["share"] > 0][:budget_rows] if target else []
    if entries:
        unit = typeset(result[target]["unit"])
        lines.extend(["", f"uncertainty budget of {target} (largest first)"])
        width = max(len(e["input"]) for e in entries)
        for e in entries:
            src = with_uncertainty(e["value"], e["sd"], typeset(e["unit"]))
            lines.append(f"  {e['input'].ljust(width)}  {e['contribution']:7.2f} {unit}  "
                         f"{100 * e['share']:5.1f} %   ({src})")
    return "\n".join(lines + _warning_lines(result))


def first_order_sentence(name: str, check: dict, unit: str) -> str:
    """JCGM 101 section 8 in words: how far each end of the first-order 95 % interval lies from
    the Monte Carlo one, against the tolerance (half a unit of the last significant digit
    stated), which end fails and what to quote."""
    unit = typeset(unit)
    d_low, d_high, tol = check["d_low"], check["d_high"], check["tolerance"]
    ends = f"lower end {_number(d_low, unit)} off, upper {_number(d_high, unit)}"
    if check["adequate"]:
        return (f"{name}: first order is adequate (JCGM 101 section 8): its 95 % interval matches Monte Carlo's "
                f"within {_number(tol, unit)}, what the stated digits resolve ({ends})")
    failing = [side for side, d in (("lower", d_low), ("upper", d_high)) if d > tol]
    which = " and ".join(failing) + (" ends" if len(failing) > 1 else " end")
    return (f"{name}: first order is not adequate (JCGM 101 section 8): its 95 % interval's {which} "
            f"{'lie' if len(failing) > 1 else 'lies'} further from Monte Carlo's than the {_number(tol, unit)} "
            f"the stated digits resolve ({ends}): the distribution is skewed, quote the Monte Carlo interval")


def _first_order_lines(result) -> list[str]:
    """JCGM 101 section 8 in the output's own units: how far first order is off, and what the
    stated digits resolve."""
    summary = result.summary()
    checks = {q: result.first_order_check(q) for q, s in summary.items() if (s["sd"] or 0) > 0}
    poor = {q: c for q, c in checks.items() if not c["adequate"]}
    heavy = [q for q, s in summary.items() if s["sd"] is None]
    if not poor and not heavy:
        return ["", "first order is adequate for every quantity (JCGM 101 section 8)"]
    lines = ["", "first order is not adequate (JCGM 101 section 8): quote the Monte Carlo intervals of"]
    lines.extend(f"  {q}: first order does not apply (no variance)" for q in heavy)
    digits = result.dataset.attrs.get("significant_digits") or 2
    for q, c in poor.items():
        unit = typeset(result[q]["unit"])
        failing = " and ".join(side for side, d in (("lower", c["d_low"]), ("upper", c["d_high"]))
                               if d > c["tolerance"]) or "an"
        lines.append(f"  {q}: the {failing} end{'s' if ' and ' in failing else ''} of the first-order interval "
                     f"{'are' if ' and ' in failing else 'is'} off by up to "
                     f"{_number(max(c['d_low'], c['d_high']), unit)}; {digits} significant digits resolve "
                     f"{_number(c['tolerance'], unit)}")
    return lines


def _number(x: float, unit: str) -> str:
    return f"{x:.2g} {unit}".rstrip()


def arrhenius_table(fit) -> str:
    lines = [f"{fit.series.file}: Eq. 4 fitted (Bayesian, Student-t residuals), values at "
             f"{typeset_quantity(fit.at_text)}", ""]
    rows = [("quantity", "posterior", "95 % interval", "least squares")]
    for name, q in fit.summary().items():
        ls = fit.least_squares[name]
        rows.append((name, *quantity_cells(name, q), with_uncertainty(ls["value"], ls.get("se", 0.0),
                                                                       typeset(ls["unit"]))))
    lines.extend(columns(rows))
    lines.extend(["", f"seed {fit.seed}; {fit.diagnostics.sentence()}"])
    return "\n".join(lines + _warning_lines(fit))


def risk_table(result) -> str:
    c = result.conditions
    lines = [f"{result.title}: risk models, posterior predictive",
             f"at {c['current']['value']:.3g} mA/cm² over {c['cycles']} cycles; {result.draws} calibrated draws, "
             "each paired with a Monte Carlo draw of the card",
             *(["the separator is a selected planar shard (as the seed paper's 1 MPa cells were built), "
                "not a tape as cast"] if c.get("selected_shard") else []), ""]
    summary = result.summary()
    lines.extend(columns(summary_rows(summary)))
    lines.extend(note_lines(summary))
    lines.extend(_tail_lines(summary))
    p = c.get("pressure")
    if p and p.get("drawn", True):
        lines.extend(["", f"the pressure is drawn from the card ({p['ci95'][0]:.3g} to {p['ci95'][1]:.3g} MPa, 95 %), "
                          "as are the layers and the area;",
                      "a design study scores the same card with pressure and area fixed at their card values "
                      "(--conditions fixed), so its figures differ"])
    elif p:
        lines.extend(["", f"pressure and area fixed at the card values ({p['mean']:.3g} MPa), as a design scores "
                          "the card; the layers are drawn"])
    lines.extend(["", "the intervals are wide: the calibration rests on a handful of observations",
                  "", "what would narrow each most:"])
    width = max(len(n) for n in result.most_informative)
    for name, info in result.most_informative.items():
        lines.append(f"  {name.ljust(width)}  " + (f"{info['parameter']}: " if info["parameter"] else "")
                     + info["experiment"])
    return "\n".join(lines + _warning_lines(result))


def calibration_table(result) -> str:
    lines = [f"risk-model calibration: {result.diagnostics.chains} chains x {result.diagnostics.draws_per_chain} "
             f"draws, seed {result.seed}", ""]
    rows = [("parameter", "posterior", "95 % interval")]
    for name, q in result.summary().items():
        rows.append((name, *quantity_cells(name, q)))
    lines.extend(columns(rows))
    lines.extend(["", result.diagnostics.sentence()])
    if result.checks:
        lines.extend(["", "posterior predictive checks (the probability of an outcome at least as extreme as the "
                      "one observed; below 0.05 is a warning):"])
        lines.extend(f"  {check_line(c)}" for c in result.checks)
    return "\n".join(lines + _warning_lines(result))


def check_line(check: dict) -> str:
    """One predictive check: its probability, the cells and the outcome; a group says how many
    cells the model expected to be still alive."""
    line = f"{check['probability']:.3f}  {check['cell']}: {check['outcome']}"
    if check.get("group"):
        line += (f"  (the group together; {check['expected']:.1f} of {check['cells']} expected still alive"
                 if "expected" in check else "  (the group together")
        line += ")"
    return line


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
    if binding:
        lines.extend(["", "readings of the paper that bind (priors/data/risk-readings.toml; each risk under each "
                          "reading in the JSON's readings):", *binding])
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


def eis_table(fit) -> str:
    """An impedance fit as text: one block per spectrum (posterior, 95 % interval, least
    squares), or, for many spectra, one row per spectrum of the resistances and derived values
    with its method and gate; then the diagnostics gate, naming every spectrum that fails."""
    from .eis_format import gate_lines, method_line, short_method, spectrum_verdict

    if fit.kind == "eis-spectrum":
        from ..inference.eis.results import EISFit

        fit = EISFit([fit], fit.circuit, fit.settings, fit.derived, fit.seed)
    doc = fit.to_json()
    spectra = (doc["spectra"] if isinstance(doc, dict) and "spectra" in doc
               else (doc if isinstance(doc, list) else [doc]))
    lines = [f"{fit.circuit.text}: Bayesian equivalent-circuit fit, {len(spectra)} spectr"
             f"{'um' if len(spectra) == 1 else 'a'}"
             + (f", area {fit.settings.area:g} cm²" if fit.settings.area else ""),
             method_line(fit)]
    if isinstance(doc, dict) and doc.get("joint"):
        lines.append(f"values at {doc['reference_temperature'] - 273.15:g} °C")
        lines.extend(_eis_rows(dict(doc["parameters"]), None))
    if len(spectra) == 1 or (isinstance(doc, dict) and doc.get("joint") and len(spectra) <= 3):
        for spec in spectra:
            lines.append("")
            lines.append(_spectrum_title(spec))
            lines.extend(_eis_rows({**spec["parameters"], **spec["derived"]}, spec["least_squares"]))
    else:
        names = [n for n in fit.circuit.names if fit.circuit.parameter(n).kind == "R"] + [d.name for d in fit.derived]
        rows = [("spectrum", *names, "method", "gate")]
        for spec, one in zip(spectra, fit.fits):
            merged = {**spec["parameters"], **spec["derived"]}
            rows.append((_spectrum_title(spec), *(_mean_sd(merged[n]) for n in names),
                         short_method(one.method), spectrum_verdict(one)))
        units = {**spectra[0]["parameters"], **spectra[0]["derived"]}
        lines.append("")
        lines.append("resistances in " + ", ".join(dict.fromkeys(typeset(units[n]["unit"]) for n in names)))
        lines.extend(columns(rows))
    lines.append("")
    lines.extend(gate_lines(fit))
    return "\n".join(lines)


def _mean_sd(q: dict) -> str:
    if q["sd"] is None:
        return f"median {q.get('median', float('nan')):.4g}"
    return with_uncertainty(q["mean"], q["sd"])


def _spectrum_title(spec: dict) -> str:
    extra = [f"{spec['temperature'] - 273.15:g} °C" if spec.get("temperature") else "",
             f"cycle {spec['cycle']}" if spec.get("cycle") is not None else ""]
    joined = ", ".join(e for e in extra if e)
    return f"{spec['spectrum']}" + (f" ({joined})" if joined else "")


def _eis_rows(quantities: dict, least_squares: dict | None) -> list[str]:
    from .eis_format import spectrum_rows

    rows = [["parameter", "posterior", "95 % interval", "least squares" if least_squares else ""],
            *spectrum_rows(quantities, least_squares)]
    return columns(rows)


def cards_table(cards: list[dict], materials: list[dict]) -> str:
    lines = ["built-in cards (nassb cards show NAME prints one to copy from):"]
    lines.extend(columns([["  " + c["name"], c["description"]] for c in cards]))
    lines.extend(["", "built-in materials:"])
    lines.extend(columns([["  " + m["name"], m["description"]] for m in materials]))
    return "\n".join(lines)


def studies_table(studies: list[dict], storage: str) -> str:
    if not studies:
        return f"no nassb design study in {storage}"
    rows = [["study", "trials", "running", "failed", "created", "settings", "card"]]
    rows.extend([s["study"], str(s["trials"]), str(s.get("running", 0)), str(s.get("failed", 0)), s["created"] or "",
                 s["description"], s["card"]] for s in studies)
    return "\n".join([f"design studies in {storage}:", *columns(rows)])


def spectra_table(listing) -> str:
    """One row per spectrum read: what, where from, how many points over which frequencies."""
    rows = [["spectrum", "cycle", "temperature", "points", "f_min Hz", "f_max Hz", "skipped"]]
    for r in listing.rows:
        rows.append([r["spectrum"], "" if r["cycle"] is None else str(r["cycle"]),
                     "" if r["temperature"] is None else f"{r['temperature'] - 273.15:g} °C", str(r["points"]),
                     f"{r['f_min']:.3g}", f"{r['f_max']:.3g}", "; ".join(r["skipped"]) or "-"])
    return "\n".join([listing.title, "", *columns(rows)])
