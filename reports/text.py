"""Terminal tables for propagation results, in the paper's style."""

from __future__ import annotations

from .format import value_and_interval, with_uncertainty

_BUDGET_FOR = ("E_V_real", "E_V_theo")
_METHOD_WORDS = {
    "gum": "first order (JCGM 100), exact derivatives",
    "mc": "Monte Carlo (JCGM 101)",
    "bayes": "Bayesian posterior (PyMC, NUTS)",
    "risk": "risk models, posterior predictive",
}


def propagation_table(result, *, budget_rows: int = 5) -> str:
    """The result as text: one row per quantity, then the leading budget entries."""
    attrs = result.dataset.attrs
    origin = attrs.get("card", "")
    title = result.cell if origin in ("", result.cell) else f"{result.cell} ({origin})"
    lines = [f"{title}: {_METHOD_WORDS.get(result.method, result.method)}"]
    if "at" in result.extras:
        lines[0] += f", values at {result.extras['at']}"
    if result.method == "mc":
        state = "converged" if attrs["converged"] else "NOT converged: raise --draws"
        digits = f", {attrs['significant_digits']} significant digits" if attrs["significant_digits"] else ""
        lines.append(f"{attrs['draws']:,} draws, seed {attrs['seed']}{digits}, {state}")
        if attrs.get("rejected_draws"):
            lines.append(f"{attrs['rejected_draws']:,} draws dropped: their derived porosity left (0, 1)")
    lines.append("")
    rows = [("quantity", "value", "95 % interval")]
    for name, q in result.summary().items():
        rows.append((name, *value_and_interval(q, "" if q["unit"] == "1" else q["unit"])))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())

    if result.method == "mc":
        lines.extend(_first_order_lines(result))
    if result.diagnostics is not None:
        lines.extend(_diagnostic_lines(result))
    if "most_informative" in result.extras:
        lines.extend(_risk_lines(result))
    target = next((q for q in _BUDGET_FOR if q in result.quantities), None)
    entries = [e for e in result.budget(target) if e["share"] > 0][:budget_rows] if target else []
    if entries:
        lines.append("")
        unit = result[target]["unit"]
        lines.append(f"uncertainty budget of {target} (largest first)")
        width = max(len(e["input"]) for e in entries)
        for e in entries:
            src = with_uncertainty(e["value"], e["sd"], "" if e["unit"] == "1" else e["unit"])
            lines.append(f"  {e['input'].ljust(width)}  {e['contribution']:7.2f} {unit}  "
                         f"{100 * e['share']:5.1f} %   ({src})")
    return "\n".join(lines)


def _first_order_lines(result) -> list[str]:
    checks = {q: result.first_order_check(q) for q in result.quantities if result[q]["sd"] > 0}
    poor = [q for q, c in checks.items() if not c["adequate"]]
    if not poor:
        return ["", "first order is adequate for every quantity (JCGM 101 section 8)"]
    return ["", "first order is not adequate (JCGM 101 section 8; skewed, use these intervals) for: "
            + ", ".join(poor)]


def _diagnostic_lines(result) -> list[str]:
    d = result.diagnostics
    lines = ["", f"{d['chains']} chains x {d['draws_per_chain']} draws, seed {result.extras.get('seed')}: "
                 f"max R-hat {d['max_rhat']:.3f}, min ESS bulk {d['min_ess_bulk']:.0f} / tail "
                 f"{d['min_ess_tail']:.0f}, {d['divergences']} divergences"
                 + ("" if d["ok"] else "  (FAILS the gate: see the warning)")]
    ls = result.extras.get("least_squares")
    if ls:
        parts = []
        for name, q in ls.items():
            text = with_uncertainty(q["value"], q.get("se", 0.0), q["unit"])
            parts.append(f"{name} {text}")
        lines.append("least squares (ln y on 1/T): " + ", ".join(parts))
    return lines


def _risk_lines(result) -> list[str]:
    c = result.extras["conditions"]
    lines = ["", f"at {c['current']['value']:.3g} mA/cm^2 over {c['cycles']} cycles; "
                 f"{result.dataset.attrs['draws']} calibrated draws (the intervals are wide: the "
                 "calibration rests on a handful of observations)", "", "what would narrow each most:"]
    if "caveat" in result.extras:
        lines.insert(2, f"caveat: {result.extras['caveat']}")
    width = max(len(n) for n in result.extras["most_informative"])
    for name, info in result.extras["most_informative"].items():
        lines.append(f"  {name.ljust(width)}  {info['parameter']}: {info['experiment']}")
    return lines


def design_table(doc: dict) -> str:
    """Proposals of a design study and the paper's cells on the same footing."""
    st = doc["settings"]
    target = "mean" if st["quantile"] is None else f"{100 * st['quantile']:g} % quantile of"
    pareto = f" against {st['pareto']} (Pareto front)" if st.get("pareto") else ""
    lines = [f"study {doc['study']}: {doc['n_trials']} trials, {doc['n_feasible']} feasible",
             f"maximising the {target} {st['objective']}{pareto} at {st['current']['value']:.3g} mA/cm^2 over "
             f"{st['cycles']} cycles; limits: P_fracture <= {st['limits']['max_fracture']:g}, "
             f"P_short <= {st['limits']['max_short']:g}, ohmic drop <= {st['limits']['max_drop']:g} V, "
             f"retention >= {st['limits']['min_retention']:g}", ""]
    header = ("", "capacity", "porosity", "separator", "reservoir", "pressure", "cathode", "E_V Wh/l",
              "E_m Wh/kg", "P_frac", "P_short", "drop V", "retention", "limited by")
    rows = [header]

    def row(label, entry):
        d, q = entry["design"], entry["quantities"]
        return (label, f"{d['capacity']['value']:.2f}", f"{d['porosity']['value']:.2f}",
                f"{d['separator_thickness']['value']:.0f} um", f"{d['reservoir_thickness']['value']:.0f} um",
                f"{d['pressure']['value']:.3g} MPa", f"{d['cathode_thickness']['value']:.0f} um",
                with_uncertainty(q["E_V"]["mean"], q["E_V"]["sd"]), with_uncertainty(q["E_m"]["mean"], q["E_m"]["sd"]),
                f"{q['P_fracture']['mean']:.2f}", f"{q['P_short']['mean']:.2f}", f"{q['ohmic_drop']['mean']:.3f}",
                f"{q['retention']['mean']:.2f}",
                ", ".join(entry["active_constraints"]) or ("-" if entry["feasible"] else "infeasible"))

    for p in doc["proposals"]:
        rows.append(row(f"#{p['rank']}", p))
    if not doc["proposals"]:
        lines.append("no feasible design yet: run more --trials or relax the limits")
    for name, entry in doc["baselines"].items():
        rows.append(row(name, entry))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    lines.append("")
    lines.append("capacity in mAh/cm^2; E_V and E_m at the card's utilisation; risks are posterior means")
    return "\n".join(lines)


def eis_table(fit) -> str:
    """An impedance fit as text: one block per spectrum (posterior, 95 % interval, least
    squares), or, for many spectra, one row per spectrum of the resistances and derived values."""
    doc = fit.to_json()
    spectra = doc["spectra"] if isinstance(doc, dict) and "spectra" in doc else (doc if isinstance(doc, list) else [doc])
    lines = [f"{fit.circuit.text}: Bayesian equivalent-circuit fit (PyMC, NUTS), {len(spectra)} spectr"
             f"{'um' if len(spectra) == 1 else 'a'}" + (f", area {fit.settings.area:g} cm^2" if fit.settings.area else "")]
    if isinstance(doc, dict) and doc.get("joint"):
        lines.append(f"joint Arrhenius fit, values at {doc['reference_temperature'] - 273.15:g} degC")
        lines.extend(_eis_rows({k: v for k, v in doc["parameters"].items()}, None))
    if len(spectra) == 1 or (isinstance(doc, dict) and doc.get("joint") and len(spectra) <= 3):
        for spec in spectra:
            lines.append("")
            lines.append(_spectrum_title(spec))
            lines.extend(_eis_rows({**spec["parameters"], **spec["derived"]}, spec["least_squares"]))
    else:
        names = [n for n in fit.circuit.names if fit.circuit.parameter(n).kind == "R"] + [d.name for d in fit.derived]
        rows = [("spectrum", *names)]
        for spec in spectra:
            merged = {**spec["parameters"], **spec["derived"]}
            rows.append((_spectrum_title(spec), *(with_uncertainty(merged[n]["mean"], merged[n]["sd"]) for n in names)))
        units = {**spectra[0]["parameters"], **spectra[0]["derived"]}
        lines.append("")
        lines.append("resistances in " + ", ".join(dict.fromkeys(units[n]["unit"] for n in names)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    lines.extend(_diagnostic_lines(fit))
    return "\n".join(lines)


def _spectrum_title(spec: dict) -> str:
    extra = [f"{spec['temperature'] - 273.15:g} degC" if spec.get("temperature") else "",
             f"cycle {spec['cycle']}" if spec.get("cycle") is not None else ""]
    extra = ", ".join(e for e in extra if e)
    return f"{spec['spectrum']}" + (f" ({extra})" if extra else "")


def _eis_rows(quantities: dict, least_squares: dict | None) -> list[str]:
    from .eis_format import spectrum_rows

    rows = [("parameter", "posterior", "95 % interval", "least squares" if least_squares else ""),
            *spectrum_rows(quantities, least_squares)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
