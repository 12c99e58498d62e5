"""``nassb campaign start | propose | record | status``: a lab campaign from the command line.

The command only parses, calls :class:`nassb.design.campaign.Campaign` and prints.
"""

from __future__ import annotations

import argparse

from .common import (
    Parser, check_csv, decision_of, decision_options, gate, output_options, print_json, seed, whole, write_csv_option,
)

DEFAULT_STORAGE = "sqlite:///nassb-campaign.db"  # nassb.design.campaign.DEFAULT_STORAGE, without importing it


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``campaign`` and its actions on the ``nassb`` sub-parsers."""
    camp = subparsers.add_parser(
        "campaign", help="a lab campaign: propose a batch of cells, record what they did, recalibrate",
        description="A campaign in an Optuna storage: 'start' it with the settings of 'nassb design', "
                    "'propose' a batch of distinct cells to build (one card file each), 'record' what the built "
                    "cells did (an observations file; the risk posterior is recalibrated on the paper plus every "
                    "record), 'recalibrate' finishes a killed record, 'status' shows rounds, posteriors and the "
                    "best cell.")
    actions = camp.add_subparsers(dest="campaign_action", metavar="ACTION", parser_class=Parser, required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("name", metavar="NAME", help="the campaign's name")
        p.add_argument("--storage", default=DEFAULT_STORAGE, metavar="URL",
                       help=f"Optuna storage: a SQLite file (default {DEFAULT_STORAGE}) or postgresql://...")

    start = actions.add_parser("start", help="start a campaign with the design settings of 'nassb design'")
    common(start)
    start.add_argument("card", metavar="CARD", nargs="?", default="paper-cell-1",
                       help="the card whose materials and uncertainties the cells share (default paper-cell-1)")
    decision_options(start)
    output_options(start)
    start.set_defaults(run=run)

    propose = actions.add_parser("propose", help="K distinct cells to build this round, one card file each")
    common(propose)
    propose.add_argument("--batch", type=int, required=True, metavar="K", help="cells to propose (>= 1)")
    propose.add_argument("--out", default=".", metavar="DIR", help="folder for the card files (default: here)")
    propose.add_argument("--trials", type=whole(10), default=200, metavar="N",
                         help="trials of the search behind the batch (default 200)")
    propose.add_argument("--seed", type=seed, metavar="S", help="seed of the search (default: random)")
    propose.add_argument("--explore", type=whole(0), default=1, metavar="N",
                         help="cells of the batch chosen for their expected gain (the expected improvement of the "
                              "batch's best truly feasible cell) instead of as the next best; at most K - 1; "
                              "0: the best cells alone (default 1)")
    propose.add_argument("--progress", action="store_true", help="a progress bar over the search")
    output_options(propose, csv=True)
    propose.set_defaults(run=run)

    record = actions.add_parser("record", help="what the built cells did (an observations file); recalibrates")
    common(record)
    record.add_argument("file", metavar="FILE", help="an observations file whose [[cells]] name a proposal's card "
                                                     "as base (or the proposal as proposal = \"r1-p2\")")
    recalibration_options(record)
    output_options(record, csv=True)
    record.set_defaults(run=run)

    resume = actions.add_parser("recalibrate", help="fold stored records not yet in the posterior in (after a "
                                                    "killed record) and tell the proposals they answer")
    common(resume)
    recalibration_options(resume)
    output_options(resume, csv=True)
    resume.set_defaults(run=run)

    status = actions.add_parser("status", help="rounds, proposals, recorded cells, posteriors and the best cell")
    common(status)
    output_options(status, csv=True)
    status.set_defaults(run=run)
    return camp


def recalibration_options(p: argparse.ArgumentParser) -> None:
    """The options of a recalibration (``record`` and ``recalibrate``)."""
    p.add_argument("--recalibration", choices=("auto", "smc", "reweight", "nuts"), default="auto",
                   help="auto: PSIS reweighting where its gate passes, else sequential Monte Carlo (tempered, "
                        "seconds), NUTS only where that fails too (default); smc, reweight or nuts: that alone")
    p.add_argument("--draws", type=whole(1), metavar="N", help="NUTS draws per chain (default 1000)")
    p.add_argument("--tune", type=whole(1), metavar="N", help="NUTS tuning steps per chain (default 1000)")
    p.add_argument("--chains", type=whole(1), metavar="N", help="NUTS chains (default 4)")
    p.add_argument("--seed", type=seed, metavar="S",
                   help="seed of the recalibration (default: drawn from the campaign and the records)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="what the recalibration does and NUTS's progress bar (default: on a terminal)")


def _progress(args) -> bool:
    import sys

    if args.json:
        return False
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def run(args) -> int:
    """Run ``nassb campaign ACTION``; returns the exit code (user mistakes raise NassbError)."""
    from ...design.campaign import Campaign
    from ...inference.result import Result
    from ...priors import OptionError

    action = args.campaign_action
    check_csv(args)
    result: Result
    if action == "start":
        campaign = Campaign.start(args.name, args.card, args.storage, decision=decision_of(args))
        result = campaign.status()
    elif action == "propose":
        if args.batch < 1:
            raise OptionError(f"must be a whole number >= 1, got {args.batch}", field="--batch")
        campaign = Campaign.open(args.name, args.storage)
        result = campaign.propose(args.batch, out=args.out, trials=args.trials, seed=args.seed,
                                  explore=args.explore, progress=args.progress and not args.json)
    elif action in ("record", "recalibrate"):
        campaign = Campaign.open(args.name, args.storage)
        nuts = {k: v for k, v in (("draws", args.draws), ("tune", args.tune), ("chains", args.chains))
                if v is not None}
        options = {"recalibration": args.recalibration, "nuts": nuts, "seed": args.seed, "progress": _progress(args)}
        result = (campaign.record(args.file, **options) if action == "record" else campaign.resume(**options))
    else:
        result = Campaign.open(args.name, args.storage).status()
    write_csv_option(args, result)
    if args.json:
        print_json(result.to_json())
    else:
        print(repr(result))
    return gate(args, result)
