"""The ``nassb`` command line: parse the options, call the Python API (:mod:`nassb`), print.

Only argparse and sys are imported at module level, so ``nassb --help`` stays light; each
command imports what it needs when it runs.  A :class:`~nassb.priors.errors.NassbError` (a user
mistake) becomes exit code 2 and one line on stderr: where the library names an argument
(``field="quantile"``), the line names the option (``--quantile``).  A result that fails its
diagnostics gate warns on stderr, and exits with code 3 under ``--strict``.
"""

from __future__ import annotations

import argparse
import sys

METHODS = ("gum", "mc", "bayes")
EIS_METHODS = ("auto", "laplace", "smc", "nuts")  # nassb.inference.eis.fit.METHODS, without importing it
CONVENTIONS = ("paper", "mass-conserving")  # nassb.inference.model.CONVENTIONS, without importing it
EXIT_USER_ERROR = 2
EXIT_DIAGNOSTICS = 3
# Library argument names that are positionals on the command line.
_POSITIONALS = {"files": "FILE", "card": "CARD", "csv": "CSV"}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (and exit code 2), not usage plus error."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"{self.prog}: {message}\n")


def _whole(minimum: int):
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


def _seed(text: str) -> int:
    value = _whole(0)(text)
    if value > SEED_MAX:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise argparse.ArgumentTypeError(f"must be at most 2**32 - 1 = {SEED_MAX}, got {shown}")
    return value


def _number(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _fit_options(parser: argparse.ArgumentParser, *, out: bool = True) -> None:
    """--draws, --seed and the NUTS options of a fit (always Bayesian), (--out) and --json."""
    parser.add_argument("--draws", type=_whole(1), metavar="N", help="draws per chain (default 1000)")
    parser.add_argument("--seed", type=_seed, metavar="S", help="random seed (default: drawn and reported)")
    _sampler_options(parser, bayes_only=False)
    _output_options(parser, out=out, csv=True)


def _selection_options(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("--cycles", metavar="LIST", help=f"{verb} only these cycles, e.g. '1,3-5' (EC-Lab cycle "
                        "numbers, else the order of the spectra in each file; 'nassb spectra' lists them)")
    parser.add_argument("--spectra", action="append", metavar="NAME",
                        help=f"{verb} only the spectrum of this name (repeatable)")


def _sampler_options(parser: argparse.ArgumentParser, *, bayes_only: bool) -> None:
    tag = "bayes: " if bayes_only else ""
    parser.add_argument("--tune", type=_whole(1), metavar="N", help=f"{tag}NUTS tuning steps per chain (default 1000)")
    parser.add_argument("--chains", type=_whole(1), metavar="N", help=f"{tag}NUTS chains (default 4)")
    parser.add_argument("--sampler", choices=("pymc", "nutpie"),
                        help=f"{tag}NUTS implementation (default pymc; nutpie needs the nutpie extra)")
    parser.add_argument("--strict", action="store_true",
                        help=f"{tag}exit with code 3 when the diagnostics gate fails (R-hat > 1.01, bulk or "
                             "tail ESS < 400, any divergence, or a check of the result)")


def _output_options(parser: argparse.ArgumentParser, *, out: bool = False, csv: bool = False) -> None:
    """--json (and --out DIR, --csv FILE) as every command that prints a result spells them."""
    if out:
        parser.add_argument("--out", metavar="DIR", help="write result.nc (NetCDF) and summary.json into DIR")
    if csv:
        parser.add_argument("--csv", metavar="FILE", dest="csv_out",
                            help="also write the table printed as CSV (units in the column names or a unit column)")
    parser.add_argument("--json", action="store_true", help="print one JSON document and nothing else")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nassb", description="Honest error bars and next-cell proposals for metal-anode cells.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    prop = commands.add_parser(
        "propagate", help="energy densities and resistances of a card with their uncertainties",
        description="Propagate a cell card's uncertainties (and, with bayes, its observations) to its "
                    "energy densities (Eq. 1, 5), anode thickness and separator/interface resistances.")
    prop.add_argument("card", metavar="CARD", help="a card file (TOML) or a built-in card name, e.g. paper-cell-1")
    prop.add_argument("--method", choices=METHODS, default="gum",
                      help="gum: first order with the uncertainty budget; mc: Monte Carlo; "
                           "bayes: posterior given the card's observations (default: gum)")
    prop.add_argument("--draws", type=_whole(1), metavar="N",
                      help="mc: a fixed number of draws (default: adaptive, see --digits); "
                           "bayes: draws per chain (default 1000)")
    prop.add_argument("--digits", type=_whole(1), metavar="D",
                      help="mc: stop when the results are stable to D significant digits (default 2)")
    prop.add_argument("--seed", type=_seed, metavar="S", help="mc, bayes: random seed (default: drawn and reported)")
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
    _sampler_options(prop, bayes_only=True)
    _output_options(prop, out=True, csv=True)
    prop.set_defaults(run=_propagate)

    fit = commands.add_parser("fit", help="fit measured data (Arrhenius series, impedance spectra)")
    fits = fit.add_subparsers(dest="fit_kind", metavar="KIND", parser_class=_Parser, required=True)
    arr = fits.add_parser(
        "arrhenius", help="Bayesian fit of Eq. 4 to conductivity or area resistance against temperature",
        description="Fit R(T) = kappa exp(E_A / k_B T) (or sigma = d / R) to a CSV with a "
                    "'temperature [degC]' column and a 'conductivity [mS/cm]' or "
                    "'resistance [ohm*cm^2]' column, robust to a wrong point (Student-t).")
    arr.add_argument("csv", metavar="CSV", help="the temperature series")
    arr.add_argument("--at", default="25 degC", metavar="TEMPERATURE",
                     help="temperature at which to report the value (default: '25 degC')")
    _fit_options(arr)
    arr.set_defaults(run=_fit_arrhenius)

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
    eis.add_argument("--fmin", type=_number, metavar="HZ", help="fit only frequencies at or above this (Hz)")
    eis.add_argument("--fmax", type=_number, metavar="HZ", help="fit only frequencies at or below this (Hz)")
    eis.add_argument("--no-kk", action="store_true", help="skip the lin-KK check")
    eis.add_argument("--method", choices=EIS_METHODS, default="auto",
                     help="each spectrum's posterior: auto (default: Laplace + PSIS, then tempered SMC where it "
                          "is refused, NUTS only where both are and lin-KK passes), laplace, smc or nuts")
    eis.add_argument("--jobs", type=_whole(1), metavar="N",
                     help="spectra fitted at once, in worker processes (default: one per core)")
    eis.add_argument("--scheduler", metavar="ADDRESS",
                     help="fit on this Dask distributed scheduler (e.g. tcp://10.0.0.5:8786; needs the dask "
                          "extra) instead of local processes")
    _selection_options(eis, "fit")
    eis.add_argument("--report", metavar="DIR", help="also write a report (HTML, Markdown, figures) into DIR")
    _fit_options(eis)
    eis.set_defaults(run=_fit_eis)

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
    drt.add_argument("--fmin", type=_number, metavar="HZ", help="use only frequencies at or above this (Hz)")
    drt.add_argument("--fmax", type=_number, metavar="HZ", help="use only frequencies at or below this (Hz)")
    _selection_options(drt, "analyse")
    drt.add_argument("--draws", type=_whole(100), metavar="N", help="posterior draws per spectrum (default 2000)")
    drt.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed of the draws (default 0)")
    drt.add_argument("--report", metavar="DIR", help="also write a report (HTML, Markdown, figures) into DIR")
    _output_options(drt, out=True)
    drt.set_defaults(run=_fit_drt)

    spec = commands.add_parser(
        "spectra", help="list the impedance spectra in files: cycle, temperature, points, frequencies, skipped rows",
        description="List every spectrum read from impedance files (any format 'fit eis' reads): its name, file, "
                    "cycle, temperature, number of points, frequency range, and which rows were skipped and why.")
    spec.add_argument("files", nargs="+", metavar="FILE", help="spectra files, or quoted globs")
    _selection_options(spec, "list")
    _output_options(spec)
    spec.set_defaults(run=_spectra)

    risk = commands.add_parser(
        "risk", help="fracture, short-circuit, resistance and retention risks of a card",
        description="Score a card with the calibrated risk models (priors/README.md): probability that "
                    "the separator cracks at the card's pressure, that sodium shorts the cell within "
                    "--cycles at --current, the cell resistance and its ohmic drop, and the capacity "
                    "retention from the sodium inventory.")
    risk.add_argument("card", metavar="CARD", help="a card file (TOML) or a built-in card name")
    risk.add_argument("--current", metavar="J",
                      help="current density: a number in mA/cm^2 or a quantity such as '0.5 mA/cm^2' "
                           "(default: C/10 of the card's capacity)")
    risk.add_argument("--cycles", type=_whole(1), default=100, metavar="N", help="cycles to look ahead (default 100)")
    risk.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed of the card's draws (default 0)")
    risk.add_argument("--posterior", metavar="FILE",
                      help="calibrated draws from 'nassb risk-calibrate --out' (default: the shipped calibration)")
    risk.add_argument("--conditions", choices=("drawn", "fixed"), default="drawn",
                      help="the card's pressure and area: drawn from their uncertainties (default) or fixed at "
                           "their card values, as nassb design scores a card")
    risk.add_argument("--selected-shard", action="store_true", default=None,
                      help="the separator is a selected planar shard (as the paper's 1 MPa cells), not a tape as "
                           "cast (default: as the card's [separator] selected_shard says)")
    risk.add_argument("--formation-cycles", type=_whole(0), default=0, metavar="N",
                      help="cycles at --formation-current before the --cycles at --current (default 0)")
    risk.add_argument("--formation-current", metavar="J",
                      help="current density of the formation cycles (mA/cm^2 or a quantity; needed with "
                           "--formation-cycles)")
    _output_options(risk, out=True, csv=True)
    risk.set_defaults(run=_risk)

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
    _fit_options(cal, out=False)
    cal.set_defaults(run=_risk_calibrate)

    des = commands.add_parser(
        "design", help="propose the next cells: Optuna search under fracture, short, rate and retention limits",
        description="Search cathode capacity, porosity, separator thickness, sodium reservoir and stack "
                    "pressure (ranges from the card's [design] table) for the highest energy density "
                    "whose risks stay within the limits.  Trials are kept in --storage; rerunning the "
                    "same command adds trials to the same study.")
    des.add_argument("card", metavar="CARD", nargs="?", default="paper-cell-1",
                     help="the card whose materials and uncertainties the designs share (default paper-cell-1)")
    des.add_argument("--trials", type=_whole(1), default=200, metavar="N", help="trials this worker runs (default 200)")
    des.add_argument("--seed", type=_seed, metavar="S", help="seed of the sampler (default: random)")
    des.add_argument("--storage", default="sqlite:///nassb-design.db", metavar="URL",
                     help="Optuna storage: a SQLite file (default sqlite:///nassb-design.db) or postgresql://...")
    des.add_argument("--study", metavar="NAME", help="study name (default: from the card and the settings; "
                     "'nassb studies' lists them)")
    decision_options(des)
    des.add_argument("--pareto", choices=("P_short", "E_m", "E_V"), help="a second objective: the Pareto front")
    des.add_argument("--sampler", choices=("tpe", "random", "gp"), default="tpe",
                     help="Optuna sampler (default tpe; gp needs torch)")
    des.add_argument("--refine", type=_whole(0), metavar="N",
                     help="of the trials, N refine the best feasible one locally at the end "
                          "(default half of --trials, at most 100, from 40 trials on; 0: none)")
    des.add_argument("--top", type=_whole(1), default=5, metavar="K", help="proposals to list (default 5)")
    des.add_argument("--posterior", metavar="FILE",
                     help="score on these calibrated risk draws ('nassb risk-calibrate --out'; default: the shipped "
                          "calibration); the study remembers the file")
    _output_options(des, csv=True)
    des.set_defaults(run=_design)

    studies = commands.add_parser("studies", help="list the design studies in a storage",
                                  description="List the nassb design studies in a storage, so that a "
                                              "study's name need not be copied from the database.")
    studies.add_argument("--storage", default="sqlite:///nassb-design.db", metavar="URL",
                         help="the storage (default sqlite:///nassb-design.db)")
    _output_options(studies)
    studies.set_defaults(run=_studies)

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
    rep.add_argument("--seed", type=_seed, default=0, metavar="S", help="seed of the Monte Carlo draws (default 0)")
    rep.add_argument("--posterior", metavar="FILE",
                     help="risk draws from 'nassb risk-calibrate --out' for the card's risks or the study "
                          "(default: the shipped calibration, or the file the study recorded)")
    rep.set_defaults(run=_report)

    cards = commands.add_parser("cards", help="list the built-in cards and materials; 'cards show NAME' prints one",
                                description="List the built-in cards and materials with their descriptions; "
                                            "'nassb cards show NAME' prints a built-in card to copy from.")
    cards.add_argument("action", nargs="?", choices=("list", "show"), default="list", help="list (default) or show")
    cards.add_argument("name", nargs="?", metavar="NAME", help="with show: the built-in card to print")
    _output_options(cards)
    cards.set_defaults(run=_cards)

    from .experiment_command import add_parser as add_next_experiment

    add_next_experiment(commands)

    from .campaign_command import add_parser as add_campaign

    add_campaign(commands)
    for sub in _subparsers(parser):
        sub.set_defaults(options={o for a in sub._actions for o in a.option_strings if o.startswith("--")})
    return parser


def decision_options(parser: argparse.ArgumentParser) -> None:
    """The options that define a design decision (nassb design, campaign start, next-experiment):
    the objective, its quantile, the limits and how they are held, the cycling.  Their defaults
    are the decision's own (:data:`nassb.design.decision.DEFAULTS`)."""
    from ..design.defaults import DEFAULT_C_RATE, DEFAULTS as D, rate_name

    parser.add_argument("--objective", choices=("E_V", "E_m"), default=D["objective"],
                        help="the energy density to maximise, at the cycling current (U - jR; "
                             f"default {D['objective']})")
    parser.add_argument("--quantile", default=str(D["quantile"]), metavar="Q",
                        help=f"maximise this quantile of the objective (default {D['quantile']:g}, robust), or 'mean'")
    parser.add_argument("--max-fracture", type=_number, default=D["max_fracture"], metavar="P",
                        help="P(fracture) limit, on the mean or with --limit-confidence "
                             f"(default {D['max_fracture']:g})")
    parser.add_argument("--max-short", type=_number, default=D["max_short"], metavar="P",
                        help=f"P(short within --cycles) limit, likewise (default {D['max_short']:g})")
    parser.add_argument("--max-drop", type=_number, default=D["max_drop"], metavar="V",
                        help=f"ohmic drop limit at the cycling current, V, likewise (default {D['max_drop']:g})")
    parser.add_argument("--min-retention", type=_number, default=D["min_retention"], metavar="R",
                        help=f"retention limit after --cycles, likewise (default {D['min_retention']:g})")
    parser.add_argument("--limit-confidence", type=_number, metavar="C", default=D["limit_confidence"],
                        help="hold the limits with posterior probability C in [0.5, 1) instead of on the means "
                             "(a chance constraint; e.g. 0.9)")
    parser.add_argument("--cycles", type=_whole(1), default=D["cycles"], metavar="N",
                        help=f"target cycles (default {D['cycles']})")
    parser.add_argument("--c-rate", type=_number, metavar="R", default=D["c_rate"],
                        help="cycle each cell at this C-rate of its own delivered capacity "
                             f"(default {DEFAULT_C_RATE:g}, {rate_name(DEFAULT_C_RATE)})")
    parser.add_argument("--current", metavar="J", default=D["current"],
                        help="cycle every cell at this current density instead (mA/cm^2 or a quantity)")
    parser.add_argument("--within-data", action="store_true", default=D["within_data"],
                        help="keep the search inside the range of the cells that calibrate the risk models")


def decision_of(args):
    """The Decision the decision options of a command give (checked once, here)."""
    from ..design.decision import KEYS, Decision

    return Decision.make(**{k: getattr(args, k) for k in KEYS})


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from _subparsers(sub)


# -- the commands: parse, call the API, print ------------------------------------------------

def _progress(args) -> bool:
    return not getattr(args, "json", False) and sys.stderr.isatty()


def _settings(args):
    from ..inference.sampling import SamplerSettings

    defaults = SamplerSettings()
    return SamplerSettings(
        draws=args.draws or defaults.draws, tune=args.tune or defaults.tune,
        chains=args.chains or defaults.chains, seed=args.seed, sampler=args.sampler or defaults.sampler,
        progress=_progress(args))


def _propagate(args) -> int:
    from ..inference.propagate import propagate
    from ..priors import OptionError

    if args.method != "bayes":
        for flag in ("--tune", "--chains", "--sampler", "--strict"):
            if getattr(args, flag.lstrip("-")) not in (None, False):
                raise OptionError(f"{flag} does not apply to --method {args.method}", field="propagate")
    _check_out(args)
    settings = _settings(args) if args.method == "bayes" else None
    result = propagate(args.card, method=args.method, draws=args.draws if args.method != "bayes" else None,
                       digits=args.digits, seed=args.seed if args.method == "mc" else None, settings=settings,
                       progress=_progress(args) and args.method == "mc", convention=args.convention,
                       current=args.current, c_rate=args.c_rate, resistance=args.resistance)
    return _finish(args, result)


def _fit_arrhenius(args) -> int:
    from ..inference.arrhenius import fit_arrhenius

    _check_out(args)
    return _finish(args, fit_arrhenius(args.csv, at=args.at, settings=_settings(args)))


def _fit_eis(args) -> int:
    from ..inference.eis.api import fit_eis

    _check_out(args)
    if args.report:
        _check_folder(args.report, "--report", kind="report")
    with _executor(args.scheduler) as executor:
        result = fit_eis(args.files, args.circuit, derive=args.derive, area=args.area,
                         arrhenius=args.arrhenius if args.arrhenius is not None else (),
                         reference_temperature=args.reference_temperature, temperature=args.temperature,
                         fmin=args.fmin, fmax=args.fmax, kk=not args.no_kk, cycles=args.cycles,
                         spectra=args.spectra, settings=_settings(args), method=args.method,
                         jobs=args.jobs, executor=executor, keep_going=True)
    code = _finish(args, result)
    if args.report:
        from .eis_report import eis_report

        _write_report(eis_report(result, command=_command()), args.report, field="--report")
    for what, why in result.failed.items():  # after the others' results: what was not fitted, and why
        sys.stderr.write(f"nassb: {why if why.startswith(what) else f'{what}: {why}'}\n")
    return EXIT_USER_ERROR if result.failed else code


def _executor(address: str | None):
    """A Dask distributed client on ``address`` for the batch, or nothing (local processes)."""
    import contextlib

    if address is None:
        return contextlib.nullcontext()
    from ..priors import OptionError

    try:
        from dask.distributed import Client
    except ImportError:
        raise OptionError("needs Dask distributed: pip install 'nassb[dask]'", field="scheduler") from None
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError) as err:
        raise OptionError(f"cannot reach the scheduler {address}: {err}", field="scheduler") from None


def _fit_drt(args) -> int:
    from ..inference.eis.drt_result import fit_drt

    _check_out(args)
    if args.report:
        _check_folder(args.report, "--report", kind="report")
    options = {"draws": args.draws} if args.draws else {}
    result = fit_drt(args.files, area=args.area, temperature=args.temperature, fmin=args.fmin, fmax=args.fmax,
                     cycles=args.cycles, spectra=args.spectra, seed=args.seed, **options)
    code = _finish(args, result)
    if args.report:
        from .drt_report import drt_report

        _write_report(drt_report(result, command=_command()), args.report, field="--report")
    return code


def _spectra(args) -> int:
    from ..inference.eis.api import list_spectra

    listing = list_spectra(args.files, cycles=args.cycles, spectra=args.spectra)
    if args.json:
        _print_json(listing.rows)
    else:
        print(repr(listing))
    return 0


def _risk(args) -> int:
    from ..inference.risk.scoring import score_risks
    from ..priors import OptionError

    _check_out(args)
    if args.formation_current is not None and not args.formation_cycles:
        raise OptionError("--formation-current needs --formation-cycles N", field="--formation-current")
    result = score_risks(args.card, current=args.current, cycles=args.cycles, posterior=args.posterior,
                         seed=args.seed, selected_shard=args.selected_shard, formation_cycles=args.formation_cycles,
                         formation_current=args.formation_current, conditions=args.conditions)
    return _finish(args, result)


def _risk_calibrate(args) -> int:
    from ..inference.risk.calibrate import calibrate_risks
    from ..priors import OptionError
    from ..priors.files import check_writable

    try:  # before minutes of sampling, not after
        check_writable(args.out)
    except OSError as err:
        raise OptionError(f"cannot write {args.out!r}: {err.strerror or err}", field="--out") from None
    if args.without_paper and not args.observations:
        raise OptionError("--without-paper needs a lab's cells: --observations FILE", field="--without-paper")
    observations = None
    if args.observations:  # read before minutes of sampling: a mistake is one line now
        from ..priors.lab import load_observed_cells

        observations = load_observed_cells(args.observations)
    result = calibrate_risks(observations=observations, with_paper=not args.without_paper, draws=args.draws,
                             tune=args.tune, chains=args.chains, seed=args.seed, progress=_progress(args))
    try:
        result.to_netcdf(args.out)
    except OSError as err:  # a disk that filled during minutes of sampling: one line, no file
        from ..priors.files import output_error

        raise OptionError(output_error(err, args.out).message, field="--out") from None
    if args.json:
        _print_json({"out": args.out, **result.to_json()})
    else:
        from ..priors.display.text import calibration_table

        print(calibration_table(result))
        print(f"written: {args.out}")
    return _gate(args, result)


def _design(args) -> int:
    from ..design.run import run_design

    _check_out(args)
    result = run_design(args.card, trials=args.trials, storage=args.storage, study=args.study,
                        decision=decision_of(args), pareto=args.pareto, sampler=args.sampler, seed=args.seed,
                        top=args.top, refine=args.refine, progress=_progress(args), posterior=args.posterior)
    return _finish(args, result)


def _studies(args) -> int:
    from ..design.run import list_designs
    from ..priors.secrets import mask_url

    studies = list_designs(args.storage)
    if args.json:
        _print_json({"storage": mask_url(args.storage), "studies": studies})
    else:
        from ..priors.display.text import studies_table

        print(studies_table(studies, mask_url(args.storage)))
    return 0


def _report(args) -> int:
    from .api import write_report

    if args.out:
        _check_folder(args.out, "--out", kind="report")
    print(write_report(args.card, study=args.study, storage=args.storage, arrhenius=args.arrhenius, at=args.at,
                       out=args.out, seed=args.seed, command=_command(), posterior=args.posterior,
                       campaign=args.campaign))
    return 0


def _cards(args) -> int:
    from ..priors import OptionError
    from ..priors.card import builtin_card_descriptions, builtin_material_descriptions, card_text

    if args.action == "show":
        if not args.name:
            raise OptionError("name the built-in card to show, e.g. 'nassb cards show paper-cell-1'", field="cards")
        text = card_text(args.name)
        if args.json:
            _print_json({"name": args.name, "toml": text})
        else:
            sys.stdout.write(text)
        return 0
    if args.name:
        raise OptionError(f"'cards {args.name}': did you mean 'cards show {args.name}'?", field="cards")
    cards, materials = builtin_card_descriptions(), builtin_material_descriptions()
    if args.json:
        _print_json({"cards": [c["name"] for c in cards], "materials": [m["name"] for m in materials],
                     "descriptions": {"cards": cards, "materials": materials}})
    else:
        from ..priors.display.text import cards_table

        print(cards_table(cards, materials))
    return 0


# -- output ----------------------------------------------------------------------------------

def _command() -> list[str]:
    return ["nassb", *sys.argv[1:]]


def _finish(args, result) -> int:
    """Print (table or JSON), write --out, and apply the diagnostics gate."""
    text = _json_text(result.to_json())  # before any file is written
    if getattr(args, "out", None):
        _write_out(args.out, result, text)
    write_csv_option(args, result)
    if args.json:
        sys.stdout.write(text)
    else:
        print(repr(result))
    return _gate(args, result)


def _gate(args, result) -> int:
    """Warn on stderr about what the result says a reader must know; exit code 3 under
    --strict when its diagnostics gate fails."""
    for line in result.warnings:
        sys.stderr.write(f"nassb: warning: {line}\n")
    if not result.ok and getattr(args, "strict", False):
        return EXIT_DIAGNOSTICS
    return 0


def _check_folder(folder: str, field: str, kind: str = "result") -> None:
    from ..priors import OptionError
    from ..priors.errors import OutputError
    from ..priors.files import check_folder

    try:
        check_folder(folder, kind=kind)
    except OutputError as err:
        raise OptionError(err.message, field=field) from None


def _check_out(args) -> None:
    """--out (and --csv) are checked before any sampling, not after."""
    if getattr(args, "out", None):
        _check_folder(args.out, "--out")
    check_csv(args)


def check_csv(args) -> None:
    """--csv FILE can be written: checked before the work, not after."""
    if getattr(args, "csv_out", None):
        from ..priors import OptionError
        from ..priors.files import check_writable

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

    from ..inference.frames import write_csv
    from ..priors import OptionError

    try:
        write_csv(result.to_dataframe(), path)
    except OSError as err:
        what = "no space left on device" if err.errno == errno.ENOSPC else (err.strerror or str(err))
        raise OptionError(f"{what}: cannot write {path}", field="--csv") from None


def _write_report(report, out: str, field: str = "--out"):
    from ..priors import OptionError
    from ..priors.errors import OutputError
    from .report import write_report

    try:
        return write_report(report, out)
    except OutputError as err:
        raise OptionError(err.message, field=field) from None


def _write_out(folder: str, result, text: str) -> None:
    """result.nc and summary.json into ``folder``, the folder replaced as a whole."""
    from ..priors import OptionError
    from ..priors.errors import OutputError
    from ..priors.files import write_folder

    try:
        write_folder(folder, {"result.nc": result.to_netcdf, "summary.json": text})
    except OutputError as err:
        raise OptionError(err.message, field="--out") from None


def _json_text(document) -> str:
    from ..priors.jsonio import json_text

    return json_text(document)


def _print_json(document) -> None:
    sys.stdout.write(_json_text(document))


def _flag(err, args) -> str | None:
    """The option (or positional) a library error's field names, on this command."""
    field = err.field
    if not field or err.file or field.startswith("-"):
        return None
    flag = "--" + field.replace("_", "-")
    if flag in getattr(args, "options", ()):
        return flag
    return _POSITIONALS.get(field)


def _warning_lines(args=None):
    """While a command runs, each NassbWarning (a suspicious input) is one line on stderr, once;
    a warning about a library argument (``field="at"``) names the option (``--at``)."""
    import contextlib
    import warnings

    from ..priors.errors import NassbWarning

    @contextlib.contextmanager
    def shown():
        seen: set[str] = set()
        original = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, RuntimeWarning) and "encountered" in str(message):
                # numpy's floating-point warnings (overflow, invalid value) name a line of our
                # source, not the user's input: one line saying what it means instead.
                text = ("nassb: warning: numerical overflow or an undefined value while evaluating: an input "
                        "far outside its physical range? Infinite values are limits (a probability of 1), "
                        "check the figures")
                if text not in seen:
                    seen.add(text)
                    sys.stderr.write(text + "\n")
                return None
            if not issubclass(category, NassbWarning):
                return original(message, category, filename, lineno, file, line)
            flag = _flag(message, args) if isinstance(message, NassbWarning) and args is not None else None
            text = f"nassb: warning: {flag}: {message.message}" if flag else f"nassb: warning: {message}"
            if text not in seen:
                seen.add(text)
                sys.stderr.write(text + "\n")
            return None

        with warnings.catch_warnings():
            warnings.simplefilter("always", NassbWarning)
            warnings.simplefilter("always", RuntimeWarning)
            warnings.showwarning = show
            yield

    return shown()


COMPILE_WAIT_S = 1800
"""How long a command waits for PyTensor's compile lock (PyTensor's default: 120 s).  Processes of
one user share one compile cache; under load one may hold its lock for minutes while it
compiles, and another that gave up after 120 s died with a traceback."""


def pytensor_defaults(environ=None) -> None:
    """Before PyTensor is imported: wait up to COMPILE_WAIT_S for its compile lock, unless the
    user's PYTENSOR_FLAGS say otherwise (a ``compiledir`` there is the user's and is kept)."""
    import os

    environ = os.environ if environ is None else environ
    flags = environ.get("PYTENSOR_FLAGS", "")
    if "compile__timeout" not in flags:
        environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"compile__timeout={COMPILE_WAIT_S}") if f)


def _compile_lock_line(err: BaseException) -> str | None:
    """One line for PyTensor's compile lock held too long by another process (filelock.Timeout)."""
    if type(err).__name__ != "Timeout" or not type(err).__module__.startswith("filelock"):
        return None
    where = getattr(err, "lock_file", "") or "its compile cache"
    return (f"nassb: PyTensor's compile cache stayed locked by another process ({where}); run again when it "
            "is done, or give this run a cache of its own: PYTENSOR_FLAGS=compiledir=DIR nassb ...")


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
    from ..priors.errors import NassbError, numeric_error
    from ..priors.secrets import mask_url

    pytensor_defaults()
    try:
        with _warning_lines(args):
            return args.run(args)
    except NassbError as err:
        flag = _flag(err, args)
        if flag is not None:
            err = type(err)(err.message, field=flag)
        sys.stderr.write(f"nassb: {mask_url(str(err))}\n")
        return EXIT_USER_ERROR
    except (OverflowError, FloatingPointError, ZeroDivisionError) as err:  # inputs far outside their range
        sys.stderr.write(f"nassb: {mask_url(str(numeric_error(err)))}\n")
        return EXIT_USER_ERROR
    except MemoryError:
        sys.stderr.write("nassb: not enough memory for this run; ask for fewer draws or trials\n")
        return EXIT_USER_ERROR
    except BrokenPipeError:  # the reader (head, less) left: stop quietly, like any Unix tool
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:
        line = _compile_lock_line(err)
        if line is None:
            raise
        sys.stderr.write(line + "\n")
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
