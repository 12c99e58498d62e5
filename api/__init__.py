"""nassb: honest error bars and next-cell proposals for (almost-)solid-state metal-anode cells.

The Python API (everything the command line does, as functions returning result objects)::

    import nassb
    card = nassb.load_card("paper-cell-1")
    result = nassb.propagate(card, method="mc")
    result.summary()["E_V_real"]      # {"mean", "sd", "unit", "ci95": [lo, hi]}

Importing nassb is light: PyMC, arviz, Optuna and matplotlib load only when a function needs
them.  Every function returns a :class:`~nassb.inference.result.Result`: ``summary()``,
``to_json()``, ``to_netcdf()`` / ``nassb.load_result()``, ``idata``, ``diagnostics``,
``warnings``, ``plot()``.  ``nassb.__version__`` is the installed version.
"""

from __future__ import annotations

import importlib as _importlib
from importlib import metadata as _metadata
from typing import Any as _Any

# public name -> (module, attribute); resolved on first use.
_EXPORTS = {
    # cards and vocabulary
    "load_card": ("nassb.priors.card", "load_card"),
    "builtin_cards": ("nassb.priors.card", "builtin_cards"),
    "builtin_materials": ("nassb.priors.card", "builtin_materials"),
    "card_text": ("nassb.priors.card", "card_text"),
    "term": ("nassb.priors.vocabulary", "term"),
    # propagation and fits
    "propagate": ("nassb.inference.propagate", "propagate"),
    "fit_arrhenius": ("nassb.inference.arrhenius", "fit_arrhenius"),
    "read_spectra": ("nassb.inference.eis.readers", "read_spectra"),
    "fit_eis": ("nassb.inference.eis.api", "fit_eis"),
    "fit_drt": ("nassb.inference.eis.drt_result", "fit_drt"),
    "list_spectra": ("nassb.inference.eis.api", "list_spectra"),
    "select_spectra": ("nassb.inference.eis.select", "select_spectra"),
    # risks and design
    "score_risks": ("nassb.inference.risk.scoring", "score_risks"),
    "calibrate_risks": ("nassb.inference.risk.calibrate", "calibrate_risks"),
    "load_risk_model": ("nassb.inference.risk.predict", "load_risk_model"),
    "load_observed_cells": ("nassb.priors.lab", "load_observed_cells"),
    "run_design": ("nassb.design.run", "run_design"),
    "load_design": ("nassb.design.run", "load_design"),
    "list_designs": ("nassb.design.run", "list_designs"),
    "design_trials": ("nassb.design.run", "design_trials"),
    "Campaign": ("nassb.design.campaign", "Campaign"),
    "next_experiment": ("nassb.design.ranking", "next_experiment"),
    # reports
    "write_report": ("nassb.reports.api", "write_report"),
    # results
    "Result": ("nassb.inference.result", "Result"),
    "Diagnostics": ("nassb.inference.diagnostics", "Diagnostics"),
    "SamplerSettings": ("nassb.inference.sampling", "SamplerSettings"),
    "load_result": ("nassb.inference.result", "load_result"),
    # errors and warnings
    "NassbError": ("nassb.priors.errors", "NassbError"),
    "CardError": ("nassb.priors.errors", "CardError"),
    "DataError": ("nassb.priors.errors", "DataError"),
    "OptionError": ("nassb.priors.errors", "OptionError"),
    "NassbWarning": ("nassb.priors.errors", "NassbWarning"),
}

__all__ = sorted(_EXPORTS)


def _installed_version() -> str:
    """The installed distribution's version; a checkout that was never installed says so."""
    try:
        return _metadata.version("nassb")
    except _metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _installed_version()


def __getattr__(name: str) -> _Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'nassb' has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The public names and the version only: not the helpers this module imports for itself.
    return [*__all__, "__version__"]
