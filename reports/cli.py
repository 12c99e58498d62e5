"""The ``nassb`` command line.

Only argparse, json and sys are imported at module level, so ``nassb --help`` stays light; each
command imports what it needs when it runs.  A :class:`~nassb.priors.errors.NassbError` (a user
mistake) becomes exit code 2 and one line on stderr; nothing else is caught.  A Bayesian result
that fails the diagnostics gate warns on stderr, and exits with code 3 under ``--strict``.
"""

from __future__ import annotations

import argparse
import math
import sys

METHODS = ("gum", "mc", "bayes")
EXIT_USER_ERROR = 2
EXIT_DIAGNOSTICS = 3
MIN_MC_DRAWS = 100
MAX_MC_DRAWS = 100_000_000  # every input and output is one array of this many draws


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (and exit code 2), not usage plus error."""

    def error(self, message: str):  # noqa: D401 - argparse API
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


def _sampler_options(parser: argparse.ArgumentParser, *, bayes_only: bool) -> None:
    tag = "bayes: " if bayes_only else ""
    parser.add_argument("--tune", type=_whole(1), metavar="N", help=f"{tag}NUTS tuning steps per chain (default 1000)")
    parser.add_argument("--chains", type=_whole(1), metavar="N", help=f"{tag}NUTS chains (default 4)")
    parser.add_argument("--sampler", choices=("pymc", "nutpie"),
                        help=f"{tag}NUTS implementation (default pymc; nutpie needs the nutpie extra)")
    parser.add_argument("--strict", action="store_true",
                        help=f"{tag}exit with code 3 when R-hat > 1.01, bulk ESS < 400 or any divergence")


def _output_options(parser: argparse.ArgumentParser, *, out: bool = False) -> None:
    """--json (and --out DIR) as every command that prints a result spells them."""
    if out:
        parser.add_argument("--out", metavar="DIR", help="write result.nc (NetCDF) and summary.json into DIR")
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
    prop.add_argument("--seed", type=_whole(0), metavar="S", help="mc, bayes: random seed (default: drawn and reported)")
    _sampler_options(prop, bayes_only=True)
    _output_options(prop, out=True)
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
    arr.add_argument("--draws", type=_whole(1), metavar="N", help="draws per chain (default 1000)")
    arr.add_argument("--seed", type=_whole(0), metavar="S", help="random seed (default: drawn and reported)")
    _sampler_options(arr, bayes_only=False)
    _output_options(arr, out=True)
    arr.set_defaults(run=_fit_arrhenius)

    eis = fits.add_parser(
        "eis", help="Bayesian equivalent-circuit fit of impedance spectra (one, a batch, or a joint Arrhenius fit)",
        description="Fit impedance spectra (CSV, EC-Lab .mpt, .mpr with the mpr extra) with an equivalent "
                    "circuit in impedance.py's grammar: least squares first, then NUTS. Reports each "
                    "parameter's posterior, the least-squares estimate, --derive quantities, a lin-KK check "
                    "and warnings for what the data do not determine. Arcs p(R,CPE) joined in series are "
                    "ordered by time constant as written: the leftmost is the fastest.")
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
    eis.add_argument("--fmin", type=float, metavar="HZ", help="fit only frequencies at or above this (Hz)")
    eis.add_argument("--fmax", type=float, metavar="HZ", help="fit only frequencies at or below this (Hz)")
    eis.add_argument("--no-kk", action="store_true", help="skip the lin-KK check")
    eis.add_argument("--report", metavar="DIR", help="also write a report (HTML, Markdown, figures) into DIR")
    eis.add_argument("--draws", type=_whole(1), metavar="N", help="draws per chain (default 1000)")
    eis.add_argument("--seed", type=_whole(0), metavar="S", help="random seed (default: drawn and reported)")
    _sampler_options(eis, bayes_only=False)
    _output_options(eis, out=True)
    eis.set_defaults(run=_fit_eis)

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
    risk.add_argument("--seed", type=_whole(0), default=0, metavar="S", help="seed of the card's draws (default 0)")
    risk.add_argument("--posterior", metavar="FILE",
                      help="calibrated draws from 'nassb risk-calibrate --out' (default: the shipped calibration)")
    _output_options(risk, out=True)
    risk.set_defaults(run=_risk)

    cal = commands.add_parser(
        "risk-calibrate", help="calibrate the risk models on the seed paper's observations (PyMC)",
        description="Sample the risk models' posterior given priors/data/risk.toml and "
                    "priors/data/risk-observations.toml, and write the draws as NetCDF.")
    cal.add_argument("--out", metavar="FILE", required=True, help="where to write the posterior draws (NetCDF)")
    cal.add_argument("--draws", type=_whole(1), metavar="N", help="draws per chain (default 1000)")
    cal.add_argument("--seed", type=_whole(0), metavar="S", help="random seed (default: drawn and reported)")
    _sampler_options(cal, bayes_only=False)
    _output_options(cal)
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
    des.add_argument("--seed", type=_whole(0), metavar="S", help="seed of the sampler (default: random)")
    des.add_argument("--storage", default="sqlite:///nassb-design.db", metavar="URL",
                     help="Optuna storage: a SQLite file (default sqlite:///nassb-design.db) or postgresql://...")
    des.add_argument("--study", metavar="NAME", help="study name (default: from the card and the settings)")
    des.add_argument("--objective", choices=("E_V", "E_m"), default="E_V", help="what to maximise (default E_V)")
    des.add_argument("--quantile", default="0.05", metavar="Q",
                     help="maximise this quantile of the objective (default 0.05, robust), or 'mean'")
    des.add_argument("--pareto", choices=("P_short", "E_m", "E_V"), help="a second objective: the Pareto front")
    des.add_argument("--max-fracture", type=float, default=0.1, metavar="P", help="mean P(fracture) limit (default 0.1)")
    des.add_argument("--max-short", type=float, default=0.2, metavar="P", help="mean P(short within --cycles) limit (default 0.2)")
    des.add_argument("--max-drop", type=float, default=0.1, metavar="V", help="mean ohmic drop limit at --current, V (default 0.1)")
    des.add_argument("--min-retention", type=float, default=0.8, metavar="R", help="mean retention after --cycles (default 0.8)")
    des.add_argument("--cycles", type=_whole(1), default=100, metavar="N", help="target cycles (default 100)")
    des.add_argument("--current", metavar="J", help="target current density (default: C/10 of the card)")
    des.add_argument("--sampler", choices=("tpe", "random", "gp"), default="tpe", help="Optuna sampler (default tpe; gp needs torch)")
    des.add_argument("--top", type=_whole(1), default=5, metavar="K", help="proposals to list (default 5)")
    _output_options(des)
    des.set_defaults(run=_design)

    rep = commands.add_parser(
        "report", help="write an uncertainty report (HTML, Markdown, JSON, NetCDF) for a card",
        description="Write report.html (self-contained), report.md with its figures, summary.json and the "
                    "draws as NetCDF for a card: Table 1 by every method, the uncertainty budget, "
                    "distributions, resistances against temperature, risks, diagnostics and provenance.")
    rep.add_argument("card", metavar="CARD", nargs="?", help="a card file (TOML) or a built-in card name")
    rep.add_argument("--study", metavar="NAME", help="report a design study instead (with --storage)")
    rep.add_argument("--storage", default="sqlite:///nassb-design.db", metavar="URL",
                     help="the study's storage (default sqlite:///nassb-design.db)")
    rep.add_argument("--arrhenius", metavar="CSV", help="report an Arrhenius fit of this series instead")
    rep.add_argument("--at", default="25 degC", metavar="TEMPERATURE", help="with --arrhenius: where to report the value")
    rep.add_argument("--out", metavar="DIR", help="report directory (default: report-NAME)")
    rep.add_argument("--seed", type=_whole(0), default=0, metavar="S", help="seed of the Monte Carlo draws (default 0)")
    rep.set_defaults(run=_report)

    cards = commands.add_parser("cards", help="list the built-in cards and materials")
    _output_options(cards)
    cards.set_defaults(run=_cards)
    return parser


def _settings(args):
    from ..inference.sampling import SamplerSettings
    from ..priors import OptionError

    if args.chains is not None and args.chains < 2:
        raise OptionError("R-hat needs at least 2 chains", field="--chains")
    defaults = SamplerSettings()
    return SamplerSettings(
        draws=args.draws or defaults.draws, tune=args.tune or defaults.tune,
        chains=args.chains or defaults.chains, seed=args.seed, sampler=args.sampler or defaults.sampler,
        progress=not args.json and sys.stderr.isatty())


def _refuse(args, flags: tuple[str, ...], method: str) -> None:
    from ..priors import OptionError

    for flag in flags:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value not in (None, False):
            raise OptionError(f"{flag} does not apply to --method {method}", field="propagate")


def _propagate(args) -> int:
    from ..inference import CellModel
    from ..priors import load_card

    from ..priors import OptionError

    if args.method == "gum":
        _refuse(args, ("--draws", "--digits", "--seed", "--tune", "--chains", "--sampler", "--strict"), "gum")
    elif args.method == "mc":
        _refuse(args, ("--tune", "--chains", "--sampler", "--strict"), "mc")
        if args.draws is not None and args.draws < MIN_MC_DRAWS:
            raise OptionError(f"Monte Carlo needs at least {MIN_MC_DRAWS} draws, got {args.draws}", field="--draws")
        if args.draws is not None and args.draws > MAX_MC_DRAWS:
            raise OptionError(f"at most {MAX_MC_DRAWS:,} draws fit in memory, got {args.draws:.3g}; without "
                              "--draws the draws stop when the results are stable", field="--draws")
    else:
        _refuse(args, ("--digits",), "bayes")
    model = CellModel(load_card(args.card))
    if args.method == "gum":
        from ..inference import propagate_gum

        result = propagate_gum(model)
    elif args.method == "mc":
        from ..inference import propagate_mc

        progress = None if args.json else _progress_printer()
        result = propagate_mc(model, draws=args.draws, seed=args.seed, digits=args.digits or 2, progress=progress)
        if progress is not None:
            progress(None)
    else:
        from ..inference.bayes import propagate_bayes

        result = propagate_bayes(model, _settings(args))
    return _finish(args, result)


def _fit_arrhenius(args) -> int:
    from ..inference.arrhenius import fit_arrhenius, series_from_table
    from ..priors import OptionError, fields, parse_quantity
    from ..priors.errors import CardError
    from ..priors.tables import read_table

    try:
        at_quantity = parse_quantity(args.at, fields.TEMPERATURE)
    except CardError as err:
        raise OptionError(err.message, field="--at") from None
    if at_quantity.uncertain:
        raise OptionError("give one temperature, without an uncertainty", field="--at")
    at = at_quantity.value
    series = series_from_table(read_table(args.csv))
    result = fit_arrhenius(series, at, _settings(args))
    result.extras = {"at": args.at, **result.extras}
    return _finish(args, result)


def _fit_eis(args) -> int:
    from .eis_command import fit_eis

    result = fit_eis(args, _settings(args))
    text = _json_text(result.to_json())
    if args.out:
        _write_out(args.out, result, text)
    if args.report:
        _write_report(_eis_report(result), args.report, field="--report")
    if args.json:
        sys.stdout.write(text)
    else:
        from .text import eis_table

        print(eis_table(result))
    for line in dict.fromkeys(w for ws in result.warnings for w in ws):
        sys.stderr.write(f"nassb: warning: {line}\n")
    return _gate(args, result.diagnostics)


def _eis_report(result):
    from .eis_report import eis_report

    return eis_report(result, command=["nassb", *sys.argv[1:]] if sys.argv[1:] else None)


def _write_report(report, out: str, field: str = "--out"):
    from ..priors import OptionError
    from ..priors.errors import OutputError
    from .report import write_report

    try:
        return write_report(report, out)
    except OutputError as err:
        raise OptionError(err.message, field=field) from None


def _risk(args) -> int:
    from ..inference.risk import RiskModel
    from ..inference.risk.scoring import score_card
    from ..priors import load_card

    card = load_card(args.card)
    current = _current(args, card)
    risk = RiskModel.load(args.posterior) if args.posterior else None
    return _finish(args, score_card(card, current=current, cycles=args.cycles, risk=risk, seed=args.seed))


def _risk_calibrate(args) -> int:
    from ..inference.risk.calibrate import calibrate, save_posterior

    import numpy as np

    from ..priors import OptionError
    from ..priors.files import check_writable

    try:  # before minutes of sampling, not after
        check_writable(args.out)
    except OSError as err:
        raise OptionError(f"cannot write {args.out!r}: {err.strerror or err}", field="--out") from None
    settings = _settings(args)
    from dataclasses import replace

    from ..inference.risk.calibrate import CALIBRATION_TARGET_ACCEPT

    settings = replace(settings, init="adapt_diag", target_accept=CALIBRATION_TARGET_ACCEPT)
    idata, diag = calibrate(settings)
    save_posterior(idata, args.out, diag)
    from ..inference.risk import RiskModel

    model = RiskModel.from_idata(idata)
    summary = {name: {"mean": float(v.mean()), "sd": float(v.std(ddof=1)),
                      "ci95": [float(q) for q in np.quantile(v, [0.025, 0.975])]}
               for name, v in model.draws.items()}
    document = {"out": args.out, "parameters": summary, "diagnostics": diag}
    if args.json:
        _print_json(document)
    else:
        for name, q in summary.items():
            print(f"{name:32s} {q['mean']:10.4g} ± {q['sd']:.3g}   [{q['ci95'][0]:.4g}, {q['ci95'][1]:.4g}]")
        print(f"written: {args.out}")
    if not diag["ok"]:
        from ..inference.sampling import gate_warnings

        for line in gate_warnings(diag):
            sys.stderr.write(f"nassb: warning: {line}\n")
        if args.strict:
            return EXIT_DIAGNOSTICS
    return 0


def _current(args, card):
    from ..inference.risk.scoring import default_current
    from ..priors import OptionError, parse_quantity
    from ..priors.errors import CardError
    from ..priors.quantity import Measured
    from ..priors.risk import CURRENT

    if args.current is None:
        return Measured(default_current(card), unit="mA/cm^2", bounds=CURRENT)
    try:
        current = parse_quantity(args.current, CURRENT)
    except CardError as err:
        raise OptionError(err.message, field="--current") from None
    if current.uncertain:
        raise OptionError("give one current density, without an uncertainty", field="--current")
    return current


def _design(args) -> int:
    from ..design import DesignScorer, Limits, SearchSettings, design_space, open_study, proposals
    from ..design.study import baselines, finished, make_objective
    from ..priors.secrets import mask_url
    from ..inference.risk import RiskModel
    from ..priors import OptionError, load_card

    for flag, value, lo, hi in (("--max-fracture", args.max_fracture, 0, 1), ("--max-short", args.max_short, 0, 1),
                                ("--min-retention", args.min_retention, 0, 1), ("--max-drop", args.max_drop, 0, math.inf)):
        if not (lo <= value <= hi) or not math.isfinite(value) and hi != math.inf:
            raise OptionError(f"must lie in [{lo}, {hi}], got {value:g}", field=flag)
    if args.quantile == "mean":
        quantile = None
    else:
        try:
            quantile = float(args.quantile)
        except ValueError:
            raise OptionError(f"expected a number in (0, 1) or 'mean', got {args.quantile!r}", field="--quantile") from None
        if not 0 < quantile < 1:
            raise OptionError(f"must lie in (0, 1), or be 'mean', got {args.quantile}", field="--quantile")
    if args.pareto == args.objective:
        raise OptionError(f"the second objective must differ from --objective {args.objective}", field="--pareto")
    if args.storage.rstrip("/") in ("sqlite:", "sqlite:/", "sqlite://") or ":memory:" in args.storage:
        raise OptionError("an in-memory study cannot be resumed or shared; give a file or a server", field="--storage")
    card = load_card(args.card)
    space = design_space(card)
    current = _current(args, card).value
    risk = RiskModel.load()
    limits = Limits(args.max_fracture, args.max_short, args.max_drop, args.min_retention)
    settings = SearchSettings(card.sha256, args.objective, quantile, args.pareto, current, args.cycles, limits,
                              tuple((v.name, v.low, v.high) for v in space), risk.fingerprint)
    scorer = DesignScorer(card, risk, current=current, cycles=args.cycles)
    name = args.study or f"{card.name}-{settings.fingerprint()}"
    from pathlib import Path

    origin = str(Path(args.card).resolve()) if Path(args.card).is_file() else card.origin
    study = open_study(args.storage, name, settings, args.sampler, args.seed, card=origin)
    show = not args.json and sys.stderr.isatty()
    study.optimize(make_objective(space, scorer, settings), n_trials=args.trials, show_progress_bar=show)
    done = finished(study)
    document = {
        "study": name,
        "storage": mask_url(args.storage),
        "settings": {"objective": args.objective, "quantile": quantile, "pareto": args.pareto,
                     "current": {"value": current, "unit": "mA/cm^2"}, "cycles": args.cycles,
                     "limits": {"max_fracture": limits.max_fracture, "max_short": limits.max_short,
                                "max_drop": limits.max_drop, "min_retention": limits.min_retention}},
        "n_trials": len(done),
        "n_feasible": sum(1 for t in done if t.user_attrs.get("feasible")),
        "proposals": proposals(study, space, scorer, settings, top=args.top),
        "baselines": {},
    }
    document["baselines"] = baselines(settings, risk)
    if args.json:
        _print_json(document)
    else:
        from .text import design_table

        print(design_table(document))
    return 0


def _report(args) -> int:
    import re

    from ..priors import OptionError, load_card
    from .cell_report import cell_report

    given = [flag for flag, value in (("CARD", args.card), ("--study", args.study), ("--arrhenius", args.arrhenius))
             if value]
    if len(given) != 1:
        raise OptionError("give exactly one of CARD, --study NAME or --arrhenius CSV", field="report")
    command = ["nassb", *sys.argv[1:]] if sys.argv[1:] else None
    if args.study:
        from .study_report import study_report

        report, label = study_report(args.storage, args.study, command=command), args.study
    elif args.arrhenius:
        from .study_report import arrhenius_report
        from ..priors import fields, parse_quantity
        from ..priors.errors import CardError

        try:
            at = parse_quantity(args.at, fields.TEMPERATURE).value
        except CardError as err:
            raise OptionError(err.message, field="--at") from None
        from pathlib import Path

        report, label = arrhenius_report(args.arrhenius, at, args.at, seed=args.seed, command=command), Path(args.arrhenius).stem
    else:
        card = load_card(args.card)
        report, label = cell_report(card, seed=args.seed, command=command), card.name
    out = args.out or "report-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "nassb")
    print(_write_report(report, out))
    return 0


def _finish(args, result) -> int:
    """Print (table or JSON), write --out, and apply the diagnostics gate."""
    text = _json_text(result.to_json())  # before any file is written
    if args.out:
        _write_out(args.out, result, text)
    if args.json:
        sys.stdout.write(text)
    else:
        from .text import propagation_table

        print(propagation_table(result))
    return _gate(args, result.diagnostics)


def _gate(args, diag) -> int:
    """Warn when a Bayesian result fails the diagnostics gate; exit code 3 under --strict."""
    if diag is not None and not diag["ok"]:
        from ..inference.sampling import gate_warnings

        for line in gate_warnings(diag):
            sys.stderr.write(f"nassb: warning: {line}\n")
        if getattr(args, "strict", False):
            return EXIT_DIAGNOSTICS
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
        sys.stderr.write("\r\033[K" if draws is None else f"\rMonte Carlo: {draws:,} draws")
        sys.stderr.flush()

    return show


def _write_out(folder: str, result, text: str) -> None:
    """result.nc and summary.json into ``folder``, the folder replaced as a whole."""
    from ..priors import OptionError
    from ..priors.errors import OutputError
    from ..priors.files import write_folder

    try:
        write_folder(folder, {"result.nc": result.to_netcdf, "summary.json": text})
    except OutputError as err:
        raise OptionError(err.message, field="--out") from None


def _check_targets(args) -> None:
    """--out and --report folders are checked before any work, not after minutes of sampling."""
    from ..priors import OptionError
    from ..priors.errors import OutputError
    from ..priors.files import check_folder

    for name in ("out", "report"):
        target = getattr(args, name, None)
        if isinstance(target, str) and target and args.command != "risk-calibrate":
            try:
                check_folder(target, kind="report" if "report" in (name, args.command) else "result")
            except OutputError as err:
                raise OptionError(err.message, field=f"--{name}") from None


def _json_text(document) -> str:
    from .format import json_text

    return json_text(document)


def _print_json(document) -> None:
    sys.stdout.write(_json_text(document))


def _warning_lines():
    """While a command runs, each NassbWarning (a suspicious input) is one line on stderr, once."""
    import contextlib
    import warnings

    from ..priors.errors import NassbWarning

    @contextlib.contextmanager
    def shown():
        seen: set[str] = set()
        original = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not issubclass(category, NassbWarning):
                return original(message, category, filename, lineno, file, line)
            text = f"nassb: warning: {message}"
            if text not in seen:
                seen.add(text)
                sys.stderr.write(text + "\n")
            return None

        with warnings.catch_warnings():
            warnings.simplefilter("always", NassbWarning)
            warnings.showwarning = show
            yield

    return shown()


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

    try:
        with _warning_lines():
            _check_targets(args)
            return args.run(args)
    except NassbError as err:
        sys.stderr.write(f"nassb: {mask_url(str(err))}\n")
        return EXIT_USER_ERROR
    except (OverflowError, FloatingPointError) as err:  # inputs far outside their plausible range
        sys.stderr.write(f"nassb: {mask_url(str(numeric_error(err)))}\n")
        return EXIT_USER_ERROR
    except MemoryError:
        sys.stderr.write("nassb: not enough memory for this run; ask for fewer draws or trials\n")
        return EXIT_USER_ERROR
    except BrokenPipeError:  # the reader (head, less) left: stop quietly, like any Unix tool
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
