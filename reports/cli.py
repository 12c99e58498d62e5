"""The ``nassb`` command line.

Only argparse, json and sys are imported at module level, so ``nassb --help`` stays light; each
command imports what it needs when it runs.  A :class:`~nassb.priors.errors.NassbError` (a user
mistake) becomes exit code 2 and one line on stderr; nothing else is caught.
"""

from __future__ import annotations

import argparse
import json
import sys

METHODS = ("gum", "mc")
EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (and exit code 2), not usage plus error."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_USER_ERROR, f"{self.prog}: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nassb",
        description="Honest error bars and next-cell proposals for metal-anode cells.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    prop = commands.add_parser(
        "propagate",
        help="energy densities and resistances of a card with their uncertainties",
        description="Propagate a cell card's uncertainties to its energy densities (Eq. 1, 5), "
                    "anode thickness and separator/interface resistances.",
    )
    prop.add_argument("card", metavar="CARD", help="a card file (TOML) or a built-in card name, e.g. paper-cell-1")
    prop.add_argument("--method", choices=METHODS, default="gum",
                      help="gum: first order with the uncertainty budget; mc: Monte Carlo (default: gum)")
    prop.add_argument("--draws", type=_positive_int, metavar="N",
                      help="mc: a fixed number of draws (default: adaptive, see --digits)")
    prop.add_argument("--digits", type=_positive_int, default=2, metavar="D",
                      help="mc: stop when the results are stable to D significant digits (default 2)")
    prop.add_argument("--seed", type=_seed, metavar="S", help="mc: random seed (default: drawn and reported)")
    prop.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    prop.set_defaults(run=_propagate)

    cards = commands.add_parser("cards", help="list the built-in cards and materials")
    cards.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    cards.set_defaults(run=_cards)
    return parser


def _propagate(args) -> int:
    from ..inference import CellModel, propagate_gum, propagate_mc
    from ..priors import OptionError, load_card

    if args.method == "gum":
        given = [flag for flag, value in (("--draws", args.draws), ("--seed", args.seed)) if value is not None]
        if given:
            raise OptionError(f"{given[0]} applies to --method mc only", field="propagate")
    model = CellModel(load_card(args.card))
    if args.method == "mc":
        progress = None if args.json else _progress_printer()
        result = propagate_mc(model, draws=args.draws, seed=args.seed, digits=args.digits, progress=progress)
        if progress is not None:
            progress(None)
    else:
        result = propagate_gum(model)
    if args.json:
        _print_json(result.to_json())
    else:
        from .text import propagation_table

        print(propagation_table(result))
    return 0


def _cards(args) -> int:
    from ..priors import builtin_cards, builtin_materials

    listing = {"cards": builtin_cards(), "materials": builtin_materials()}
    if args.json:
        _print_json(listing)
    else:
        print("built-in cards:     " + ", ".join(listing["cards"]))
        print("built-in materials: " + ", ".join(listing["materials"]))
    return 0


def _progress_printer():
    """A one-line progress display on a terminal's stderr; nothing when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(draws):
        if draws is None:
            sys.stderr.write("\r\033[K")
        else:
            sys.stderr.write(f"\rMonte Carlo: {draws:,} draws")
        sys.stderr.flush()

    return show


def _print_json(document) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nassb`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(f"nassb {version('nassb')}")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    from ..priors.errors import NassbError

    try:
        return args.run(args)
    except NassbError as err:
        sys.stderr.write(f"nassb: {err}\n")
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
