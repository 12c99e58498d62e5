"""The ``nassb`` command line: parse the options, call the Python API (:mod:`nassb`), print.

Each command is a module of this package with ``add_parser(subparsers)`` and ``run(args)``; what
they share (option types and groups, printing, --out, --csv, the diagnostics gate) is
:mod:`.common`.  Only argparse and sys are imported at module level, so ``nassb --help`` stays
light; each command imports what it needs when it runs.  A
:class:`~nassb.priors.errors.NassbError` (a user mistake) becomes exit code 2 and one line on
stderr: where the library names an argument (``field="quantile"``), the line names the option
(``--quantile``).  A result that fails its diagnostics gate warns on stderr, and exits with code
3 under ``--strict``.
"""

from __future__ import annotations

import argparse
import sys

from . import (campaign, cards, design, fit, next_experiment, propagate, report, risk, risk_calibrate, spectra,
               studies)
from .common import EXIT_USER_ERROR, Parser

# The commands in the order ``nassb --help`` lists them.
COMMANDS = (propagate, fit, spectra, risk, risk_calibrate, design, studies, report, cards, next_experiment, campaign)
# Library argument names that are positionals on the command line.
_POSITIONALS = {"files": "FILE", "card": "CARD", "csv": "CSV"}


def build_parser() -> argparse.ArgumentParser:
    """The ``nassb`` parser: every command's options, each knowing the options it has."""
    parser = Parser(prog="nassb", description="Honest error bars and next-cell proposals for metal-anode cells.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    for sub in _subparsers(parser):
        sub.set_defaults(options={o for a in sub._actions for o in a.option_strings if o.startswith("--")})
    return parser


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub
                yield from _subparsers(sub)


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

    from ...priors.errors import NassbWarning

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
    from ...priors.errors import NassbError, numeric_error
    from ...priors.secrets import mask_url

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
