"""Cell physics and propagation: one set of equations, evaluated by gum, mc (and bayes)."""

from .gum import propagate_gum, sensitivities
from .model import OUTPUTS, CellModel
from .montecarlo import propagate_mc
from .result import PropagationResult

__all__ = ["OUTPUTS", "CellModel", "PropagationResult", "propagate_gum", "propagate_mc", "sensitivities"]
