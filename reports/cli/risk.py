"""``nassb risk CARD``: fracture, short-circuit, resistance and retention risks of a card."""

from __future__ import annotations

import argparse

from .common import check_out, finish, output_options, seed, whole


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``risk`` on the command line's subparsers."""
    risk = commands.add_parser(
        "risk", help="fracture, short-circuit, resistance and retention risks of a card",
        description="Score a card with the calibrated risk models (priors/README.md): probability that "
                    "the separator cracks at the card's pressure, that sodium shorts the cell within "
                    "--cycles at --current, the cell resistance and its ohmic drop, and the capacity "
                    "retention from the sodium inventory.")
    risk.add_argument("card", metavar="CARD", help="a card file (TOML) or a built-in card name")
    risk.add_argument("--current", metavar="J",
                      help="current density: a number in mA/cm^2 or a quantity such as '0.5 mA/cm^2' "
                           "(default: C/10 of the card's capacity)")
    risk.add_argument("--cycles", type=whole(1), default=100, metavar="N", help="cycles to look ahead (default 100)")
    risk.add_argument("--seed", type=seed, default=0, metavar="S", help="seed of the card's draws (default 0)")
    risk.add_argument("--posterior", metavar="FILE",
                      help="calibrated draws from 'nassb risk-calibrate --out' (default: the shipped calibration)")
    risk.add_argument("--conditions", choices=("drawn", "fixed"), default="drawn",
                      help="the card's pressure and area: drawn from their uncertainties (default) or fixed at "
                           "their card values, as nassb design scores a card")
    risk.add_argument("--selected-shard", action="store_true", default=None,
                      help="the separator is a selected planar shard (as the paper's 1 MPa cells), not a tape as "
                           "cast (default: as the card's [separator] selected_shard says)")
    risk.add_argument("--formation-cycles", type=whole(0), default=0, metavar="N",
                      help="cycles at --formation-current before the --cycles at --current (default 0)")
    risk.add_argument("--formation-current", metavar="J",
                      help="current density of the formation cycles (mA/cm^2 or a quantity; needed with "
                           "--formation-cycles)")
    output_options(risk, out=True, csv=True)
    risk.set_defaults(run=run)
    return risk


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...inference.risk.scoring import score_risks
    from ...priors import OptionError

    check_out(args)
    if args.formation_current is not None and not args.formation_cycles:
        raise OptionError("--formation-current needs --formation-cycles N", field="--formation-current")
    result = score_risks(args.card, current=args.current, cycles=args.cycles, posterior=args.posterior,
                         seed=args.seed, selected_shard=args.selected_shard, formation_cycles=args.formation_cycles,
                         formation_current=args.formation_current, conditions=args.conditions)
    return finish(args, result)
