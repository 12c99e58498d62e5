"""``nassb fit arrhenius CSV``: a Bayesian fit of Eq. 4 to a temperature series."""

from __future__ import annotations

import argparse

from .common import check_out, finish, fit_options, sampler_settings


def add_parser(fits) -> argparse.ArgumentParser:
    """Register ``fit arrhenius`` on the subparsers of ``fit``."""
    arr = fits.add_parser(
        "arrhenius", help="Bayesian fit of Eq. 4 to conductivity or area resistance against temperature",
        description="Fit R(T) = kappa exp(E_A / k_B T) (or sigma = d / R) to a CSV with a "
                    "'temperature [degC]' column and a 'conductivity [mS/cm]' or "
                    "'resistance [ohm*cm^2]' column, robust to a wrong point (Student-t).")
    arr.add_argument("csv", metavar="CSV", help="the temperature series")
    arr.add_argument("--at", default="25 degC", metavar="TEMPERATURE",
                     help="temperature at which to report the value (default: '25 degC')")
    fit_options(arr)
    arr.set_defaults(run=run)
    return arr


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...inference.arrhenius import fit_arrhenius

    check_out(args)
    return finish(args, fit_arrhenius(args.csv, at=args.at, settings=sampler_settings(args)))
