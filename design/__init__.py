"""Design search (Optuna): the decision, the design space, scoring a design, the study and its proposals.

Importing it is light (the command line reads :mod:`nassb.design.decision` for its options): the
names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decision import Decision, Limits, OperatingPoint
    from .optimum import Optimum, best_design
    from .score import DesignScorer, summarise
    from .space import DesignSpace, Variable, design_space
    from .study import SearchSettings, open_study, proposals

_EXPORTS = {
    "Decision": "decision", "Limits": "decision", "OperatingPoint": "decision",
    "Optimum": "optimum", "best_design": "optimum",
    "DesignScorer": "score", "summarise": "score",
    "DesignSpace": "space", "Variable": "space", "design_space": "space",
    "SearchSettings": "study", "open_study": "study", "proposals": "study",
}
__all__ = ["Decision", "DesignScorer", "DesignSpace", "Limits", "OperatingPoint", "Optimum", "SearchSettings",
           "Variable", "best_design", "design_space", "open_study", "proposals", "summarise"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nassb.design' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
