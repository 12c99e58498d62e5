"""Terminal text of every result, in the paper's style: one number format, units typeset, a
probability as a mean with its 95 % interval (never ± sd)."""

from __future__ import annotations

from collections.abc import Callable

from ..vocabulary import typeset, typeset_quantity
from .campaign import campaign_text
from .design_text import design_table
from .drt import drt_table
from .eis import eis_table, spectra_table
from .format import with_uncertainty
from .ranking import ranking_text
from .tables import columns, note_lines, quantity_cells, summary_rows

_BUDGET_FOR = ("E_V_real", "E_V_theo")
CAMPAIGN_KINDS = ("campaign-proposal", "campaign-record", "campaign-status")
"""Results shown as their text in a notebook too (a campaign's rounds read as text, not a table)."""
_METHOD_WORDS = {
    "gum": "first order (JCGM 100), exact derivatives",
    "mc": "Monte Carlo (JCGM 101)",
    "bayes": "Bayesian posterior (PyMC, NUTS)",
}


def result_text(result) -> str:
    """The text of any result (what ``nassb COMMAND`` prints and ``repr`` shows)."""
    renderers: dict[str, Callable[..., str]] = {
        "propagation": propagation_table, "arrhenius": arrhenius_table, "risk": risk_table,
        "calibration": calibration_table, "design": design_table, "eis": eis_table, "eis-spectrum": eis_table,
        "spectra": spectra_table, "drt": drt_table, "next-experiment": ranking_text,
        **dict.fromkeys(CAMPAIGN_KINDS, campaign_text)}
    render = renderers.get(result.kind)
    if render is not None:
        return render(result)
    lines = [result.title, "", *columns(summary_rows(result.summary())), *note_lines(result.summary())]
    return "\n".join(lines + _warning_lines(result))


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
