"""``nassb spectra FILE...``: the impedance spectra in files, listed."""

from __future__ import annotations

import argparse

from .common import output_options, print_json, selection_options


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``spectra`` on the command line's subparsers."""
    spec = commands.add_parser(
        "spectra", help="list the impedance spectra in files: cycle, temperature, points, frequencies, skipped rows",
        description="List every spectrum read from impedance files (any format 'fit eis' reads): its name, file, "
                    "cycle, temperature, number of points, frequency range, and which rows were skipped and why.")
    spec.add_argument("files", nargs="+", metavar="FILE", help="spectra files, or quoted globs")
    selection_options(spec, "list")
    output_options(spec)
    spec.set_defaults(run=run)
    return spec


def run(args) -> int:
    """Parse, call, print: the command's body."""
    from ...inference.eis.api import list_spectra

    listing = list_spectra(args.files, cycles=args.cycles, spectra=args.spectra)
    if args.json:
        print_json(listing.rows)
    else:
        print(repr(listing))
    return 0
