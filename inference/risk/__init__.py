"""Risk models for design: ceramic fracture, sodium short circuit, rate capability and sodium
inventory, calibrated on the seed paper's observations."""

from .predict import RiskModel, RiskScore

__all__ = ["RiskModel", "RiskScore"]
