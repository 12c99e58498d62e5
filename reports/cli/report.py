"""``nassb report``: an uncertainty report of a card, a study, a campaign or a series."""

from __future__ import annotations

import argparse

from .common import check_folder, command_line, seed


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``report`` on the command line's subparsers."""
    rep = commands.add_parser(
        "report", help="write an uncertainty report (HTML, Markdown, JSON, NetCDF) for a card",
        description="Write report.html (self-contained), report.md with its figures, summary.json and the "
                    "draws as NetCDF for a card: Table 1 by every method, the uncertainty budget, "
                    "distributions, resistances against temperature, risks, diagnostics and provenance.")
    rep.add_argument("card", metavar="CARD", nargs="?", help="a card file (TOML) or a built-in card name")
    rep.add_argument("--study", metavar="NAME", help="report a design study instead (with --storage)")
    rep.add_argument("--campaign", metavar="NAME", help="report a lab campaign instead (with --storage)")
    rep.add_argument("--storage", metavar="URL", help="the study's or campaign's storage (default "
                     "sqlite:///nassb-design.db, for a campaign sqlite:///nassb-campaign.db)")
    rep.add_argument("--arrhenius", metavar="CSV", help="report an Arrhenius fit of this series instead")
    rep.add_argument("--at", default="25 degC", metavar="TEMPERATURE",
                     help="with --arrhenius: where to report the value")
    rep.add_argument("--out", metavar="DIR", help="report directory (default: report-NAME)")
    rep.add_argument("--seed", type=seed, default=0, metavar="S", help="seed of the Monte Carlo draws (default 0)")
    rep.add_argument("--posterior", metavar="FILE",
                     help="risk draws from 'nassb risk-calibrate --out' for the card's risks or the study "
                          "(default: the shipped calibration, or the file the study recorded)")
    rep.set_defaults(run=run)
    return rep


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ..api import write_report

    if args.out:
        check_folder(args.out, "--out", kind="report")
    print(write_report(args.card, study=args.study, storage=args.storage, arrhenius=args.arrhenius, at=args.at,
                       out=args.out, seed=args.seed, command=command_line(), posterior=args.posterior,
                       campaign=args.campaign))
    return 0
