"""``nassb fit KIND``: fit measured data, one module per kind (:mod:`.fit_arrhenius`,
:mod:`.fit_eis`, :mod:`.fit_drt`)."""

from __future__ import annotations

import argparse

from . import fit_arrhenius, fit_drt, fit_eis
from .common import Parser


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``fit`` and its kinds on the command line's subparsers."""
    fit = commands.add_parser("fit", help="fit measured data (Arrhenius series, impedance spectra)")
    fits = fit.add_subparsers(dest="fit_kind", metavar="KIND", parser_class=Parser, required=True)
    for kind in (fit_arrhenius, fit_eis, fit_drt):
        kind.add_parser(fits)
    return fit
