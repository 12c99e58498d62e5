"""Design search (Optuna): the design space, scoring a design, the study and its proposals."""

from .score import DesignScorer, Limits, summarise
from .space import DesignSpace, Variable, design_space
from .study import SearchSettings, open_study, proposals

__all__ = ["DesignScorer", "DesignSpace", "Limits", "SearchSettings", "Variable", "design_space", "open_study",
           "proposals", "summarise"]
