"""``nassb next-experiment``: rank candidate experiments by their value of information.

The command only parses, calls :func:`nassb.design.ranking.next_experiment` and prints the
table of the ranking (:func:`nassb.priors.display.ranking.ranking_text`, also what ``repr`` of the
result shows).
"""

from __future__ import annotations

import argparse

from .common import check_csv, decision_options, gate, output_options, print_json, seed, whole, write_csv_option


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``next-experiment`` on the command line's subparsers."""
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
    p.add_argument("--outcomes", type=whole(2), default=200, metavar="N",
                   help="simulated outcomes per experiment (default 200)")
    p.add_argument("--seed", type=seed, default=0, metavar="S", help="seed of the outcomes and the search (default 0)")
    p.add_argument("--cost", choices=("days", "cells"), default="days", help="the unit of the ranking per cost")
    p.add_argument("--progress", action="store_true", help="a progress bar over the simulated outcomes")
    decisions = p.add_argument_group("the decision (as nassb design; with --campaign, the campaign's unless given)")
    decision_options(decisions)
    # What the user gave is what differs from these (a campaign's own settings stand for the rest).
    p.set_defaults(decision_defaults={a.dest: a.default for a in decisions._group_actions})
    output_options(p, csv=True)
    p.set_defaults(run=run)
    return p


def _open_campaign(name: str, storage: str):
    from ...priors import OptionError

    try:
        from ...design.campaign import Campaign
    except ImportError:
        raise OptionError("campaigns are not available in this nassb", field="--campaign") from None
    return Campaign.open(name, storage)


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...design.ranking import next_experiment
    from ...priors import OptionError
    from ...priors.display.ranking import ranking_text

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
        print_json(result.to_json())
    else:
        print(ranking_text(result))
    return gate(args, result)
