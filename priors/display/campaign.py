"""A lab campaign's results as text (what ``nassb campaign ...`` prints and ``repr`` shows):
a proposal, a record and a status; a design and a risk parameter on one line."""

from __future__ import annotations

from ..vocabulary import typeset
from .design_text import binding_words, unrepresented_words
from .tables import columns, quantity_cells

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


def outcome_words(outcome: dict | None) -> str:
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


def _quantity_line(quantities: dict) -> str:
    out = []
    for name in SHOWN:
        if name in quantities:
            out.append(f"{name} {quantity_cells(name, quantities[name])[0]}")
    return ", ".join(out)


def calibration_words(check: dict) -> list[str]:
    """The check in a few lines for a terminal."""
    lines = []
    for risk, s in check["risks"].items():
        lines.append(f"{risk}: predicted {s['mean_p']:.2f} on average, happened {s['observed']:.2f} "
                     f"({s['n']} cell(s)); Brier {s['brier']:.3f} (the predictive expects {s['expected_brier']:.3f}), "
                     f"log score {s['log_score']:.2f}")
    for quantity, s in check["intervals"].items():
        lines.append(f"{quantity}: {s['inside']} of {s['n']} inside the 95 % predictive interval "
                     f"(PIT {', '.join(f'{u:.2f}' for u in s['pit'])})")
    sur = check["surprise"]
    parts = [f"{what} {p:.3f}" for what, p in (("events", sur["events"]), ("intervals", sur["intervals"]))
             if p is not None]
    if parts:
        lines.append("probability of outcomes at least this surprising under the predictive: " + ", ".join(parts)
                     + (" (below 0.05: overconfident)" if sur["surprised"] else ""))
    return lines


def round_words(round_: int, check: dict) -> tuple[str, ...]:
    """One row of a status table: the round, Brier score (expected) per risk, R_cell coverage."""
    def brier(risk: str) -> str:
        s = check["risks"].get(risk)
        return f"{s['brier']:.3f} ({s['expected_brier']:.3f}), {s['n']}" if s else "-"

    r = check["intervals"].get("R_cell")
    inside = f"{r['inside']} of {r['n']}" if r else "-"
    return (str(round_), brier("fracture"), brier("short"), inside, "yes" if check.get("widened") else "no")


def built_words(q: dict | None) -> str:
    """``R_cell 85 ± 9 Ω cm² [68, 104]; a cell built to it: [52, 140]``: the design's resistance and
    the interval its built cells' should fall in (cell-to-cell scatter included); empty without it."""
    if not q:
        return ""
    value, span = quantity_cells("R_cell", q)
    text = f"R_cell {value} {span}"
    if q.get("built95"):
        _, built = quantity_cells("R_cell", {**q, "ci95": q["built95"]}, note=False)
        text += f"; a cell built to it: {built.rstrip(' *')} {typeset(q['unit'])} (cell-to-cell scatter included)"
    return text


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
            resistance = built_words(p["quantities"].get("R_cell"))
            if resistance:
                lines.append(f"  {resistance}")
            binding = binding_words(p)
            if binding:
                lines.append(f"  {binding}")
        unrepresented = unrepresented_words(result.proposals)
        if unrepresented:
            lines.extend(["", unrepresented])
    elif result.kind == "campaign-record":
        post = result.posterior
        gate = post.get("gate", {})
        how = post.get("method", "")
        if how == "reweighting" and "k_hat" in gate:
            moved = (f"moved apart by Metropolis steps on the posterior, acceptance {gate['accept']:.2f}"
                     if gate.get("moves") == "metropolis" else "moved apart by a Liu-West kernel")
            how += (f" (PSIS k-hat {gate['k_hat']:.2f}, ESS {gate['ess']:.0f}, resampled to equal weights, "
                    f"{moved})")
        elif how == "smc" and "steps" in gate:
            moves = (f"Metropolis moves, acceptance {gate['accept']:.2f}" if gate.get("moves") == "metropolis"
                     else "Liu-West moves")
            how = (f"sequential Monte Carlo ({gate['steps']} tempering steps, smallest ESS {gate['ess']:.0f} of a "
                   f"step, {moves})")
        lines = [result.title, f"recalibrated by {how}: {len(post.get('records', []))} record(s) in the posterior"]
        if gate.get("reason"):
            lines.append(f"why: {gate['reason']} (seed {gate.get('seed')})")
        if post.get("calibration"):
            lines.append("what the posterior predicted for these cells before they entered it:")
            lines += [f"  {line}" for line in calibration_words(post["calibration"])]
        lines.append("")
        for c in result.cells:
            answers = f"answers {c['proposal']}" if c["proposal"] else "answers no proposal"
            lines.append(f"{c['name']} (round {c['round']}, {answers}): {outcome_words(c.get('outcome'))}")
        table: list[tuple[str, ...]] = [(n, parameter_cell(q, 4), typeset(q["unit"]))
                                         for n, q in result.summary().items()]
        lines += ["", *columns(table)]
    else:
        doc = result.document
        lines = [result.title, f"{doc['settings']['description']}; card {doc['card']}", ""]
        rounds: list[tuple[str, ...]] = [("round", "proposed", "recorded", "open")]
        rounds += [(str(r["round"]), str(r["proposed"]), str(r["recorded"]), str(r["open"])) for r in doc["rounds"]]
        lines += columns(rounds)
        checked = [r for r in doc["rounds"] if r.get("calibration")]
        if checked:
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
