"""``nassb next-experiment``: rank candidate experiments by their value of information.

The command only parses, calls :func:`nassb.design.ranking.next_experiment` and prints; the
table of a ranking (:func:`ranking_text`) is also what ``repr`` of the result shows.
"""

from __future__ import annotations

import argparse

RISK_SHORT = {"P_fracture": "fracture", "P_short": "short", "ohmic_drop": "drop", "retention": "retention"}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``next-experiment`` on the command line's subparsers."""
    from .cli import _output_options, _seed, _whole, decision_options

    p = subparsers.add_parser(
        "next-experiment", help="rank candidate experiments by what they would teach the design decision (EVSI)",
        description="Rank candidate experiments (biaxial strength, critical current density of symmetric cells, "
                    "tape profilometry, building and cycling a design, and those of --experiments) by the "
                    "expected value of sample information for the choice among candidate designs: the expected "
                    "gain in the objective (Wh/l) of the design chosen after seeing the outcome, with its Monte "
                    "Carlo error, per unit cost, and the expected shrinkage of each risk's 95 %% interval.")
    p.add_argument("card", metavar="CARD", nargs="?", default=None,
                   help="the card the designs share (default paper-cell-1, or the campaign's)")
    p.add_argument("--posterior", metavar="FILE", help="calibrated risk draws (nassb risk-calibrate --out)")
    p.add_argument("--campaign", metavar="NAME", help="rank for a campaign: its posterior, candidates and settings")
    p.add_argument("--storage", default="sqlite:///nassb-campaign.db", metavar="URL",
                   help="the campaign's storage (default sqlite:///nassb-campaign.db)")
    p.add_argument("--experiments", metavar="FILE", help="a TOML file of more candidate experiments ([[experiment]])")
    p.add_argument("--outcomes", type=_whole(2), default=200, metavar="N",
                   help="simulated outcomes per experiment (default 200)")
    p.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed of the outcomes and the search (default 0)")
    p.add_argument("--cost", choices=("days", "cells"), default="days", help="the unit of the ranking per cost")
    p.add_argument("--progress", action="store_true", help="a progress bar over the simulated outcomes")
    decisions = p.add_argument_group("the decision (as nassb design; with --campaign, the campaign's unless given)")
    decision_options(decisions)
    # What the user gave is what differs from these (a campaign's own settings stand for the rest).
    p.set_defaults(decision_defaults={a.dest: a.default for a in decisions._group_actions})
    _output_options(p, csv=True)
    p.set_defaults(run=run)
    return p


def _open_campaign(name: str, storage: str):
    from ..priors import OptionError

    try:
        from ..design.campaign import Campaign
    except ImportError:
        raise OptionError("campaigns are not available in this nassb", field="--campaign") from None
    return Campaign.open(name, storage)


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ..design.ranking import next_experiment
    from ..priors import OptionError
    from .cli import _gate, _print_json, check_csv, write_csv_option

    check_csv(args)
    if args.campaign and args.posterior:
        raise OptionError("give --posterior or --campaign, not both (a campaign has its own posterior)",
                          field="--posterior")
    kwargs: dict = {"experiments": args.experiments, "outcomes": args.outcomes, "seed": args.seed,
                    "progress": bool(args.progress and not args.json), "cost": args.cost}
    # The decision options the user gave (a campaign's own settings stand for the others).
    kwargs.update({k: getattr(args, k) for k, default in args.decision_defaults.items() if getattr(args, k) != default})
    if args.campaign:
        kwargs["campaign"] = _open_campaign(args.campaign, args.storage)
        if args.card:
            raise OptionError("a campaign has its own card; leave CARD out", field="card")
    else:
        kwargs["posterior"] = args.posterior
        kwargs["card"] = args.card or "paper-cell-1"
    result = next_experiment(**kwargs)
    write_csv_option(args, result)
    if args.json:
        _print_json(result.to_json())
    else:
        print(ranking_text(result))
    return _gate(args, result)


def _percent(x: float) -> str:
    return "0%" if abs(x) < 0.005 else f"{x:.0%}"


def ranking_text(result) -> str:
    """The ranking as a table a researcher reads: experiment, EVSI ± its Monte Carlo error, cost,
    EVSI per cost and the expected shrinkage of each risk's 95 % interval, then the designs."""
    from .format import round_pair
    from .text import columns

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

