"""``nassb fit drt FILE...``: the distribution of relaxation times and the circuit it suggests."""

from __future__ import annotations

import argparse

from .common import (
    check_folder, check_out, command_line, finish, number, output_options, seed, selection_options, whole,
    write_report_folder,
)


def add_parser(fits) -> argparse.ArgumentParser:
    """Register ``fit drt`` on the subparsers of ``fit``."""
    drt = fits.add_parser(
        "drt", help="Bayesian distribution of relaxation times of impedance spectra, and the circuit it suggests",
        description="The distribution of relaxation times (DRT) of each spectrum with its 95 % band, in closed "
                    "form: Z = R_inf + j w L + the integral of gamma(ln tau) / (1 + j w tau), a smooth Gaussian "
                    "prior on gamma whose strength is learned with the noise (evidence), draws projected onto "
                    "gamma >= 0. Reports each peak's time constant, frequency, resistance and the probability "
                    "that it is real, says which arcs are not resolved, and suggests the circuit for 'fit eis': "
                    "R0 (L0 where the inductance is significant) and one p(R,CPE) per probable peak inside the "
                    "measured window, fastest first.")
    drt.add_argument("files", nargs="+", metavar="FILE", help="spectra files, or quoted globs ('spectra/*.csv')")
    drt.add_argument("--area", metavar="AREA", help="electrode area (cm^2, or with a unit): report ohm*cm^2")
    drt.add_argument("--temperature", metavar="T", help="temperature of spectra whose files do not give one")
    drt.add_argument("--fmin", type=number, metavar="HZ", help="use only frequencies at or above this (Hz)")
    drt.add_argument("--fmax", type=number, metavar="HZ", help="use only frequencies at or below this (Hz)")
    selection_options(drt, "analyse")
    drt.add_argument("--draws", type=whole(100), metavar="N", help="posterior draws per spectrum (default 2000)")
    drt.add_argument("--seed", type=seed, default=0, metavar="S", help="seed of the draws (default 0)")
    drt.add_argument("--report", metavar="DIR", help="also write a report (HTML, Markdown, figures) into DIR")
    output_options(drt, out=True)
    drt.set_defaults(run=run)
    return drt


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...inference.eis.drt_result import fit_drt

    check_out(args)
    if args.report:
        check_folder(args.report, "--report", kind="report")
    options = {"draws": args.draws} if args.draws else {}
    result = fit_drt(args.files, area=args.area, temperature=args.temperature, fmin=args.fmin, fmax=args.fmax,
                     cycles=args.cycles, spectra=args.spectra, seed=args.seed, **options)
    code = finish(args, result)
    if args.report:
        from ..drt_report import drt_report

        write_report_folder(drt_report(result, command=command_line()), args.report, field="--report")
    return code
