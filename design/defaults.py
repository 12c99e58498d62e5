"""The defaults of a design decision, in one place (:class:`nassb.design.decision.Decision`).

Plain data without imports: the command line reads them to show its options' defaults while
``nassb --help`` stays light.
"""

from __future__ import annotations

from typing import Any

DEFAULT_C_RATE = 0.1
OBJECTIVES = ("E_V", "E_m")
# How the limits are held across the readings of the paper (priors/data/risk-readings.toml):
# under every reading the draws can represent, on the readings' model average, or under the
# observations file's reading alone (the shipped calibration as it is: the behaviour before readings).
HOLDS = ("every", "combined", "file")
# The keyword settings of a decision and their defaults (run_design, Campaign.start, next_experiment).
DEFAULTS: dict[str, Any] = {
    "objective": "E_V",          # E_V (Wh/l) or E_m (Wh/kg) at the cycling current
    "quantile": 0.05,            # of the objective's posterior; None or "mean": the mean
    "max_fracture": 0.1,         # P(fracture)
    "max_short": 0.2,            # P(short within the cycles)
    "max_drop": 0.1,             # ohmic drop at the cycling current, V
    "min_retention": 0.8,        # capacity retention after the cycles
    "limit_confidence": None,    # None: limits on the posterior means; C: held with probability C
    "hold": "every",             # the limits held under every reading of the paper (HOLDS)
    "cycles": 100,
    "c_rate": None,              # None: C/10 unless a current is given
    "current": None,             # mA/cm^2 or a quantity string
    "within_data": False,
}


def rate_name(c_rate: float) -> str:
    """A C-rate as a lab writes it: 0.1 -> ``C/10``, 2 -> ``2C``."""
    if c_rate < 1 and abs(1 / c_rate - round(1 / c_rate)) < 1e-9:
        return f"C/{round(1 / c_rate)}"
    return f"{c_rate:g}C"
