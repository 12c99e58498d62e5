"""``nassb design [CARD]``: the next cells proposed by an Optuna search under the limits."""

from __future__ import annotations

import argparse

from .common import check_out, decision_of, decision_options, finish, output_options, progress, seed, whole


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``design`` on the command line's subparsers."""
    des = commands.add_parser(
        "design", help="propose the next cells: Optuna search under fracture, short, rate and retention limits",
        description="Search cathode capacity, porosity, separator thickness, sodium reservoir and stack "
                    "pressure (ranges from the card's [design] table) for the highest energy density "
                    "whose risks stay within the limits.  Trials are kept in --storage; rerunning the "
                    "same command adds trials to the same study.")
    des.add_argument("card", metavar="CARD", nargs="?", default="paper-cell-1",
                     help="the card whose materials and uncertainties the designs share (default paper-cell-1)")
    des.add_argument("--trials", type=whole(1), default=200, metavar="N", help="trials this worker runs (default 200)")
    des.add_argument("--seed", type=seed, metavar="S", help="seed of the sampler (default: random)")
    des.add_argument("--storage", default="sqlite:///nassb-design.db", metavar="URL",
                     help="Optuna storage: a SQLite file (default sqlite:///nassb-design.db) or postgresql://...")
    des.add_argument("--study", metavar="NAME", help="study name (default: from the card and the settings; "
                     "'nassb studies' lists them)")
    decision_options(des)
    des.add_argument("--pareto", choices=("P_short", "E_m", "E_V"), help="a second objective: the Pareto front")
    des.add_argument("--sampler", choices=("tpe", "random", "gp"), default="tpe",
                     help="Optuna sampler (default tpe; gp needs torch)")
    des.add_argument("--refine", type=whole(0), metavar="N",
                     help="of the trials, N refine the best feasible one locally at the end "
                          "(default half of --trials, at most 100, from 40 trials on; 0: none)")
    des.add_argument("--top", type=whole(1), default=5, metavar="K", help="proposals to list (default 5)")
    des.add_argument("--posterior", metavar="FILE",
                     help="score on these calibrated risk draws ('nassb risk-calibrate --out'; default: the shipped "
                          "calibration); the study remembers the file")
    output_options(des, csv=True)
    des.set_defaults(run=run)
    return des


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...design.run import run_design

    check_out(args)
    result = run_design(args.card, trials=args.trials, storage=args.storage, study=args.study,
                        decision=decision_of(args), pareto=args.pareto, sampler=args.sampler, seed=args.seed,
                        top=args.top, refine=args.refine, progress=progress(args), posterior=args.posterior)
    return finish(args, result)
