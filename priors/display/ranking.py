"""The ranking of candidate experiments as a table a researcher reads (what ``nassb
next-experiment`` prints and ``repr`` of its result shows)."""

from __future__ import annotations

from .format import round_pair
from .tables import columns

RISK_SHORT = {"P_fracture": "fracture", "P_short": "short", "ohmic_drop": "drop", "retention": "retention"}


def _percent(x: float) -> str:
    return "0%" if abs(x) < 0.005 else f"{x:.0%}"


def ranking_text(result) -> str:
    """The ranking as a table a researcher reads: experiment, EVSI ± its Monte Carlo error, cost,
    EVSI per cost and the expected shrinkage of each risk's 95 % interval, then the designs."""
    s = result.settings
    target = "mean" if s.get("quantile") is None else f"q{s['quantile']:g}"
    lines = [result.title,
             (f"value of information for the choice of design: {target} {s.get('quantity', '')}, "
              f"{s.get('outcomes')} simulated outcomes per experiment over {s.get('draws')} posterior draws, "
              f"seed {s.get('seed')}"),
             f"limits {s.get('limits_judged_on', 'posterior means')}", ""]
    risks = list(next(iter(result.values)).interval_shrinkage) if result.values else []
    unit = result.value_unit
    cost_unit = s.get("cost_unit", "days")
    header = ("#", "experiment", f"EVSI [{unit}]", "specimens", "days", f"per {cost_unit[:-1]}", "switch",
              *[f"-{RISK_SHORT.get(r, r)}" for r in risks])
    rows = [header]
    for i, (v, meta) in enumerate(zip(result.values, result.experiments, strict=True)):
        value, se = round_pair(v.evsi, v.evsi_se if v.evsi_se == v.evsi_se else 0.0)
        evsi = f"{value} ± {se}" if se not in ("0", "n/a") else value
        specimens = "-" if meta.get("cells") is None else str(meta["cells"])
        days = "-" if meta.get("days") is None else f"{meta['days']:.3g}"
        per = f"{v.evsi_per_cost:.3g}" if v.evsi_per_cost == v.evsi_per_cost else "n/a"
        rows.append((str(i + 1), v.name, evsi, specimens, days, per, f"{v.switch_rate:.0%}",
                     *[_percent(v.interval_shrinkage.get(r, 0.0)) for r in risks]))
    lines += columns(rows)
    lines += ["", f"per {cost_unit[:-1]} (best first): " + "; ".join(result.by_cost[:5]),
              ("switch: how often the outcome changes the design chosen; -RISK: expected shrinkage of that "
               "risk's 95 % interval at today's design"), "", "candidate designs (objective today; - : breaks a limit)"]
    rows = [("design", "value", "capacity", "porosity", "separator", "reservoir", "pressure")]
    for d in result.designs:
        x = d["design"]
        mark = " (chosen)" if d["name"] == result.chosen else ""
        rows.append((d["name"] + mark, "-" if d["value"] is None else f"{d['value']:.4g} {unit}",
                     f"{x['cathode.theoretical_capacity']:.3g} mAh/cm²", f"{x['cathode.porosity']:.2f}",
                     f"{x['separator.thickness']:.3g} µm", f"{x['anode.reservoir_thickness']:.3g} µm",
                     f"{x['cell.pressure']:.3g} MPa"))
    lines += columns(rows)
    warnings = result.warnings
    if warnings:
        lines += ["", *(f"warning: {w}" for w in warnings)]
    return "\n".join(lines)

