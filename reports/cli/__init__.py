"""The ``nassb`` command line, a module per command (:mod:`.app` builds the parser and runs one).

``nassb.reports.cli.app.main`` (re-exported here) is the console script's entry point;
``python -m nassb.reports.cli`` runs it too.
"""

from .app import COMPILE_WAIT_S, build_parser, main, pytensor_defaults

__all__ = ["COMPILE_WAIT_S", "build_parser", "main", "pytensor_defaults"]
