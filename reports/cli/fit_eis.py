"""``nassb fit eis FILE...``: Bayesian equivalent-circuit fits of impedance spectra."""

from __future__ import annotations

import argparse
import sys

from .common import (
    EXIT_USER_ERROR, check_folder, check_out, command_line, finish, fit_options, number, sampler_settings,
    selection_options, whole, write_report_folder,
)

EIS_METHODS = ("auto", "laplace", "smc", "nuts")  # nassb.inference.eis.fit.METHODS, without importing it


def add_parser(fits) -> argparse.ArgumentParser:
    """Register ``fit eis`` on the subparsers of ``fit``."""
    eis = fits.add_parser(
        "eis", help="Bayesian equivalent-circuit fit of impedance spectra (one, a batch, or a joint Arrhenius fit)",
        description="Fit impedance spectra (CSV, EC-Lab .mpt, .mpr with the mpr extra) with an equivalent "
                    "circuit in impedance.py's grammar, each spectrum on its own: least squares first, then "
                    "the posterior by Laplace + Pareto-smoothed importance sampling where its diagnostics "
                    "accept it and NUTS elsewhere (a joint --arrhenius fit is one NUTS run). Reports each "
                    "parameter's posterior, the least-squares estimate, --derive quantities, a lin-KK check, "
                    "misfit and inductive-point checks and warnings for what the data do not determine; "
                    "--strict exits with 3 when any spectrum fails its gate. Arcs p(R,CPE) joined in series "
                    "are ordered by time constant as written: the leftmost is the fastest.")
    eis.add_argument("files", nargs="+", metavar="FILE", help="spectra files, or quoted globs ('spectra/*.csv')")
    eis.add_argument("--circuit", required=True, metavar="STR", help="e.g. 'R0-p(R1,CPE1)-p(R2,CPE2)'")
    eis.add_argument("--derive", action="append", default=[], metavar="NAME=EXPR",
                     help="a quantity from the parameters, e.g. 'R_separator=R0+R1' (repeatable)")
    eis.add_argument("--area", metavar="AREA", help="electrode area (cm^2, or with a unit): report ohm*cm^2")
    eis.add_argument("--arrhenius", metavar="R1,R2", help="joint fit: these resistances follow Eq. 4 across "
                     "the spectra's temperatures; reports R at --reference-temperature and E_A")
    eis.add_argument("--reference-temperature", default="30 degC", metavar="T",
                     help="with --arrhenius: where R_ref is reported (default '30 degC')")
    eis.add_argument("--temperature", metavar="T", help="temperature of spectra whose files do not give one")
    eis.add_argument("--fmin", type=number, metavar="HZ", help="fit only frequencies at or above this (Hz)")
    eis.add_argument("--fmax", type=number, metavar="HZ", help="fit only frequencies at or below this (Hz)")
    eis.add_argument("--no-kk", action="store_true", help="skip the lin-KK check")
    eis.add_argument("--method", choices=EIS_METHODS, default="auto",
                     help="each spectrum's posterior: auto (default: Laplace + PSIS, then tempered SMC where it "
                          "is refused; where both are, SMC's draws with the gate failed, never NUTS), laplace, "
                          "smc or nuts (minutes a spectrum)")
    eis.add_argument("--jobs", type=whole(1), metavar="N",
                     help="spectra fitted at once, in worker processes (default: one per core)")
    eis.add_argument("--scheduler", metavar="ADDRESS",
                     help="fit on this Dask distributed scheduler (e.g. tcp://10.0.0.5:8786; needs the dask "
                          "extra) instead of local processes")
    selection_options(eis, "fit")
    eis.add_argument("--report", metavar="DIR", help="also write a report (HTML, Markdown, figures) into DIR")
    fit_options(eis)
    eis.set_defaults(run=run)
    return eis


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...inference.eis.api import fit_eis

    check_out(args)
    if args.report:
        check_folder(args.report, "--report", kind="report")
    with _executor(args.scheduler) as executor:
        result = fit_eis(args.files, args.circuit, derive=args.derive, area=args.area,
                         arrhenius=args.arrhenius if args.arrhenius is not None else (),
                         reference_temperature=args.reference_temperature, temperature=args.temperature,
                         fmin=args.fmin, fmax=args.fmax, kk=not args.no_kk, cycles=args.cycles,
                         spectra=args.spectra, settings=sampler_settings(args), method=args.method,
                         jobs=args.jobs, executor=executor, keep_going=True)
    code = finish(args, result)
    if args.report:
        from ..eis_report import eis_report

        write_report_folder(eis_report(result, command=command_line()), args.report, field="--report")
    for what, why in result.failed.items():  # after the others' results: what was not fitted, and why
        sys.stderr.write(f"nassb: {why if why.startswith(what) else f'{what}: {why}'}\n")
    return EXIT_USER_ERROR if result.failed else code


def _executor(address: str | None):
    """A Dask distributed client on ``address`` for the batch, or nothing (local processes)."""
    import contextlib

    if address is None:
        return contextlib.nullcontext()
    from ...priors import OptionError

    try:
        from dask.distributed import Client
    except ImportError:
        raise OptionError("needs Dask distributed: pip install 'nassb[dask]'", field="scheduler") from None
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError) as err:
        raise OptionError(f"cannot reach the scheduler {address}: {err}", field="scheduler") from None
