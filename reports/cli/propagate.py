"""``nassb propagate CARD``: a card's energy densities and resistances with their uncertainties."""

from __future__ import annotations

import argparse

from .common import check_out, finish, output_options, progress, sampler_options, sampler_settings, seed, whole

METHODS = ("gum", "mc", "bayes")
CONVENTIONS = ("paper", "mass-conserving")  # nassb.inference.model.CONVENTIONS, without importing it


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``propagate`` on the command line's subparsers."""
    prop = commands.add_parser(
        "propagate", help="energy densities and resistances of a card with their uncertainties",
        description="Propagate a cell card's uncertainties (and, with bayes, its observations) to its "
                    "energy densities (Eq. 1, 5), anode thickness and separator/interface resistances.")
    prop.add_argument("card", metavar="CARD", help="a card file (TOML) or a built-in card name, e.g. paper-cell-1")
    prop.add_argument("--method", choices=METHODS, default="gum",
                      help="gum: first order with the uncertainty budget; mc: Monte Carlo; "
                           "bayes: posterior given the card's observations (default: gum)")
    prop.add_argument("--draws", type=whole(1), metavar="N",
                      help="mc: a fixed number of draws (default: adaptive, see --digits); "
                           "bayes: draws per chain (default 1000)")
    prop.add_argument("--digits", type=whole(1), metavar="D",
                      help="mc: stop when the results are stable to D significant digits (default 2)")
    prop.add_argument("--seed", type=seed, metavar="S", help="mc, bayes: random seed (default: drawn and reported)")
    prop.add_argument("--convention", choices=CONVENTIONS, default=None,
                      help="paper: Eq. 5 as published, the plated metal counted in the anode and the cathode; "
                           "mass-conserving: the charged cathode has lost it (default: paper)")
    prop.add_argument("--current", metavar="J",
                      help="energies at U - jR at this current density (mA/cm^2, or e.g. '0.2 mA/cm^2'); "
                           "needs the cell's measured resistance")
    prop.add_argument("--c-rate", type=float, metavar="R", dest="c_rate",
                      help="instead of --current: this C-rate of the card's capacity, e.g. 0.1 for C/10")
    prop.add_argument("--resistance", metavar="R",
                      help="the cell's measured area resistance for U - jR, e.g. '600 ± 100 ohm*cm^2' "
                           "(default: the card's [cell] resistance)")
    sampler_options(prop, bayes_only=True)
    output_options(prop, out=True, csv=True)
    prop.set_defaults(run=run)
    return prop


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...inference.propagate import propagate
    from ...priors import OptionError

    if args.method != "bayes":
        for flag in ("--tune", "--chains", "--sampler", "--strict"):
            if getattr(args, flag.lstrip("-")) not in (None, False):
                raise OptionError(f"{flag} does not apply to --method {args.method}", field="propagate")
    check_out(args)
    settings = sampler_settings(args) if args.method == "bayes" else None
    result = propagate(args.card, method=args.method, draws=args.draws if args.method != "bayes" else None,
                       digits=args.digits, seed=args.seed if args.method == "mc" else None, settings=settings,
                       progress=progress(args) and args.method == "mc", convention=args.convention,
                       current=args.current, c_rate=args.c_rate, resistance=args.resistance)
    return finish(args, result)
