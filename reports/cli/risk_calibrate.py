"""``nassb risk-calibrate``: the risk models calibrated on the paper's cells and a lab's own."""

from __future__ import annotations

import argparse

from .common import fit_options, gate, print_json, progress


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``risk-calibrate`` on the command line's subparsers."""
    cal = commands.add_parser(
        "risk-calibrate", help="calibrate the risk models on the seed paper's cells and a lab's own (PyMC)",
        description="Sample the risk models' posterior given priors/data/risk.toml and the observed cells "
                    "(priors/data/risk-observations.toml, the seed paper's, and --observations, a lab's), and "
                    "write the draws as NetCDF for --posterior.  Takes minutes (4 to 11 on two cores).")
    cal.add_argument("--out", metavar="FILE", required=True, help="where to write the posterior draws (NetCDF)")
    cal.add_argument("--observations", metavar="FILE",
                     help="a lab's observed cells (TOML, priors/lab.py describes the format); with the paper's "
                          "cells, the lab's offsets (strength, critical current, contact) are calibrated too")
    cal.add_argument("--without-paper", action="store_true",
                     help="calibrate on --observations alone, from the priors (not on the paper's cells)")
    fit_options(cal, out=False)
    cal.set_defaults(run=run)
    return cal


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...inference.risk.calibrate import calibrate_risks
    from ...priors import OptionError
    from ...priors.files import check_writable

    try:  # before minutes of sampling, not after
        check_writable(args.out)
    except OSError as err:
        raise OptionError(f"cannot write {args.out!r}: {err.strerror or err}", field="--out") from None
    if args.without_paper and not args.observations:
        raise OptionError("--without-paper needs a lab's cells: --observations FILE", field="--without-paper")
    observations = None
    if args.observations:  # read before minutes of sampling: a mistake is one line now
        from ...priors.lab import load_observed_cells

        observations = load_observed_cells(args.observations)
    result = calibrate_risks(observations=observations, with_paper=not args.without_paper, draws=args.draws,
                             tune=args.tune, chains=args.chains, seed=args.seed, progress=progress(args))
    try:
        result.to_netcdf(args.out)
    except OSError as err:  # a disk that filled during minutes of sampling: one line, no file
        from ...priors.files import output_error

        raise OptionError(output_error(err, args.out).message, field="--out") from None
    if args.json:
        print_json({"out": args.out, **result.to_json()})
    else:
        from ...priors.display.text import calibration_table

        print(calibration_table(result))
        print(f"written: {args.out}")
    return gate(args, result)
