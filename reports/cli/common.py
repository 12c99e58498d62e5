"""What the commands share: argparse that answers a bad option in one line, the types of whole
numbers, seeds and finite numbers, the option groups (sampler, output, the decision), and what
every command does with its result (print the table or the JSON, write --out and --csv, apply
the diagnostics gate).

Only argparse and sys are imported here; everything else is imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys

EXIT_USER_ERROR = 2
EXIT_DIAGNOSTICS = 3


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (and exit code 2), not usage plus error."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"{self.prog}: {message}\n")


def whole(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


SEED_MAX = 2**32 - 1
"""numpy's and Optuna's seeds are unsigned 32-bit integers."""


def seed(text: str) -> int:
    value = whole(0)(text)
    if value > SEED_MAX:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise argparse.ArgumentTypeError(f"must be at most 2**32 - 1 = {SEED_MAX}, got {shown}")
    return value


def number(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def fit_options(parser: argparse.ArgumentParser, *, out: bool = True) -> None:
    """--draws, --seed and the NUTS options of a fit (always Bayesian), (--out) and --json."""
    parser.add_argument("--draws", type=whole(1), metavar="N", help="draws per chain (default 1000)")
    parser.add_argument("--seed", type=seed, metavar="S", help="random seed (default: drawn and reported)")
    sampler_options(parser, bayes_only=False)
    output_options(parser, out=out, csv=True)


def selection_options(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("--cycles", metavar="LIST", help=f"{verb} only these cycles, e.g. '1,3-5' (EC-Lab cycle "
                        "numbers, else the order of the spectra in each file; 'nassb spectra' lists them)")
    parser.add_argument("--spectra", action="append", metavar="NAME",
                        help=f"{verb} only the spectrum of this name (repeatable)")


def sampler_options(parser: argparse.ArgumentParser, *, bayes_only: bool) -> None:
    tag = "bayes: " if bayes_only else ""
    parser.add_argument("--tune", type=whole(1), metavar="N", help=f"{tag}NUTS tuning steps per chain (default 1000)")
    parser.add_argument("--chains", type=whole(1), metavar="N", help=f"{tag}NUTS chains (default 4)")
    parser.add_argument("--sampler", choices=("pymc", "nutpie"),
                        help=f"{tag}NUTS implementation (default pymc; nutpie needs the nutpie extra)")
    parser.add_argument("--strict", action="store_true",
                        help=f"{tag}exit with code 3 when the diagnostics gate fails (R-hat > 1.01, bulk or "
                             "tail ESS < 400, any divergence, or a check of the result)")


def output_options(parser: argparse.ArgumentParser, *, out: bool = False, csv: bool = False) -> None:
    """--json (and --out DIR, --csv FILE) as every command that prints a result spells them."""
    if out:
        parser.add_argument("--out", metavar="DIR", help="write result.nc (NetCDF) and summary.json into DIR")
    if csv:
        parser.add_argument("--csv", metavar="FILE", dest="csv_out",
                            help="also write the table printed as CSV (units in the column names or a unit column)")
    parser.add_argument("--json", action="store_true", help="print one JSON document and nothing else")


def decision_options(parser: argparse.ArgumentParser) -> None:
    """The options that define a design decision (nassb design, campaign start, next-experiment):
    the objective, its quantile, the limits and how they are held, the cycling.  Their defaults
    are the decision's own (:data:`nassb.design.decision.DEFAULTS`)."""
    from ...design.defaults import DEFAULT_C_RATE, DEFAULTS as D, HOLDS, rate_name

    parser.add_argument("--objective", choices=("E_V", "E_m"), default=D["objective"],
                        help="the energy density to maximise, at the cycling current (U - jR; "
                             f"default {D['objective']})")
    parser.add_argument("--quantile", default=str(D["quantile"]), metavar="Q",
                        help=f"maximise this quantile of the objective (default {D['quantile']:g}, robust), or 'mean'")
    parser.add_argument("--max-fracture", type=number, default=D["max_fracture"], metavar="P",
                        help="P(fracture) limit, on the mean or with --limit-confidence "
                             f"(default {D['max_fracture']:g})")
    parser.add_argument("--max-short", type=number, default=D["max_short"], metavar="P",
                        help=f"P(short within --cycles) limit, likewise (default {D['max_short']:g})")
    parser.add_argument("--max-drop", type=number, default=D["max_drop"], metavar="V",
                        help=f"ohmic drop limit at the cycling current, V, likewise (default {D['max_drop']:g})")
    parser.add_argument("--min-retention", type=number, default=D["min_retention"], metavar="R",
                        help=f"retention limit after --cycles, likewise (default {D['min_retention']:g})")
    parser.add_argument("--limit-confidence", type=number, metavar="C", default=D["limit_confidence"],
                        help="hold the limits with posterior probability C in [0.5, 1) instead of on the means "
                             "(a chance constraint; e.g. 0.9)")
    parser.add_argument("--hold", choices=HOLDS, default=D["hold"],
                        help="hold the limits under every reading of the paper the draws can represent (every), "
                             "on the readings' model average (combined), or under the observations file's "
                             f"reading alone (file; default {D['hold']})")
    parser.add_argument("--cycles", type=whole(1), default=D["cycles"], metavar="N",
                        help=f"target cycles (default {D['cycles']})")
    parser.add_argument("--c-rate", type=number, metavar="R", default=D["c_rate"],
                        help="cycle each cell at this C-rate of its own delivered capacity "
                             f"(default {DEFAULT_C_RATE:g}, {rate_name(DEFAULT_C_RATE)})")
    parser.add_argument("--current", metavar="J", default=D["current"],
                        help="cycle every cell at this current density instead (mA/cm^2 or a quantity)")
    parser.add_argument("--within-data", action="store_true", default=D["within_data"],
                        help="keep the search inside the range of the cells that calibrate the risk models")


def decision_of(args):
    """The Decision the decision options of a command give (checked once, here)."""
    from ...design.decision import KEYS, Decision

    return Decision.make(**{k: getattr(args, k) for k in KEYS})


# -- what every command does with its result ------------------------------------------------

def progress(args) -> bool:
    """A progress bar on a terminal, never under --json."""
    return not getattr(args, "json", False) and sys.stderr.isatty()


def sampler_settings(args):
    """The NUTS settings of --draws, --tune, --chains, --seed and --sampler."""
    from ...inference.sampling import SamplerSettings

    defaults = SamplerSettings()
    return SamplerSettings(
        draws=args.draws or defaults.draws, tune=args.tune or defaults.tune,
        chains=args.chains or defaults.chains, seed=args.seed, sampler=args.sampler or defaults.sampler,
        progress=progress(args))


def command_line() -> list[str]:
    """The command as typed, for a report's provenance."""
    return ["nassb", *sys.argv[1:]]


def finish(args, result) -> int:
    """Print (table or JSON), write --out, and apply the diagnostics gate."""
    text = json_text(result.to_json())  # before any file is written
    if getattr(args, "out", None):
        write_out(args.out, result, text)
    write_csv_option(args, result)
    if args.json:
        sys.stdout.write(text)
    else:
        print(repr(result))
    return gate(args, result)


def gate(args, result) -> int:
    """Warn on stderr about what the result says a reader must know; exit code 3 under
    --strict when its diagnostics gate fails."""
    for line in result.warnings:
        sys.stderr.write(f"nassb: warning: {line}\n")
    if not result.ok and getattr(args, "strict", False):
        return EXIT_DIAGNOSTICS
    return 0


def check_folder(folder: str, field: str, kind: str = "result") -> None:
    from ...priors import OptionError
    from ...priors.errors import OutputError
    from ...priors import files

    try:
        files.check_folder(folder, kind=kind)
    except OutputError as err:
        raise OptionError(err.message, field=field) from None


def check_out(args) -> None:
    """--out (and --csv) are checked before any sampling, not after."""
    if getattr(args, "out", None):
        check_folder(args.out, "--out")
    check_csv(args)


def check_csv(args) -> None:
    """--csv FILE can be written: checked before the work, not after."""
    if getattr(args, "csv_out", None):
        from ...priors import OptionError
        from ...priors.files import check_writable

        try:
            check_writable(args.csv_out)
        except OSError as err:
            raise OptionError(f"cannot write {args.csv_out}: {err.strerror or err}", field="--csv") from None


def write_csv_option(args, result) -> None:
    """Write ``result.to_dataframe()`` to ``--csv FILE``, atomically; a full disk is one line."""
    path = getattr(args, "csv_out", None)
    if not path:
        return
    import errno

    from ...inference.frames import write_csv
    from ...priors import OptionError

    try:
        write_csv(result.to_dataframe(), path)
    except OSError as err:
        what = "no space left on device" if err.errno == errno.ENOSPC else (err.strerror or str(err))
        raise OptionError(f"{what}: cannot write {path}", field="--csv") from None


def write_report_folder(report, out: str, field: str = "--out"):
    from ...priors import OptionError
    from ...priors.errors import OutputError
    from ..report import write_report

    try:
        return write_report(report, out)
    except OutputError as err:
        raise OptionError(err.message, field=field) from None


def write_out(folder: str, result, text: str) -> None:
    """result.nc and summary.json into ``folder``, the folder replaced as a whole."""
    from ...priors import OptionError
    from ...priors.errors import OutputError
    from ...priors.files import write_folder

    try:
        write_folder(folder, {"result.nc": result.to_netcdf, "summary.json": text})
    except OutputError as err:
        raise OptionError(err.message, field="--out") from None


def json_text(document) -> str:
    from ...priors import jsonio

    return jsonio.json_text(document)


def print_json(document) -> None:
    sys.stdout.write(json_text(document))
