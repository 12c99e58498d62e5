"""Summaries of draws, written once: mean, standard deviation and 95 % intervals of Monte Carlo
draws, posterior draws and posterior-predictive draws alike.

Every result of nassb summarises a quantity with :func:`summarise`; the JSON contract of a
quantity is its output: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``.  Intervals come from order
statistics (JCGM 101 7.7), found by partial sorts of the tails (linear time).
"""

from __future__ import annotations

import math

import numpy as np

PROBABILITY = 0.95


def interval_statistics(y: np.ndarray, p: float = PROBABILITY) -> tuple[float, float, float, float]:
    """Probabilistically symmetric and shortest coverage intervals of draws ``y`` (JCGM 101 7.7).

    Returns ``(low, high, shortest_low, shortest_high)``.  Only the two tails are sorted: with
    q = round(p M) the shortest interval is [y_(r), y_(r+q)] for the r that minimises its
    length, and both ends live in the lowest and highest M - q order statistics.
    """
    y = np.asarray(y, dtype=float).ravel()
    m = y.size
    q = int(math.floor(p * m + 0.5))
    tail = m - q
    if tail < 1:
        return float(y.min()), float(y.max()), float(y.min()), float(y.max())
    part = np.partition(y, (tail - 1, q))
    low = np.sort(part[:tail])
    high = np.sort(part[q:])
    r = (tail + 1) // 2 - 1  # JCGM 101 7.7.2: r = (M - q)/2, or (M - q + 1)/2 when odd
    best = int(np.argmin(high - low))
    return float(low[r]), float(high[r]), float(low[best]), float(high[best])


def varies(values) -> bool:
    """Whether draws move at all (a fixed capacity gives rounding noise only)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 0 or values.size < 2:
        return False
    return float(values.std()) > 1e-12 * max(float(np.abs(values).mean()), 1e-300)


def moments(values) -> list[float]:
    """Mean, sd, symmetric and shortest 95 % interval ends of draws (a constant: sd 0)."""
    values = np.asarray(values, dtype=float)
    if not varies(values):
        v = float(values.mean()) if values.size else float("nan")
        return [v, 0.0, v, v, v, v]
    return [float(values.mean()), float(values.std(ddof=1)), *interval_statistics(values)]


def summarise(values, unit: str) -> dict:
    """The summary of one quantity's draws: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``.

    ``values`` is an array of draws (any shape, flattened) or a number (a fixed quantity: sd 0,
    its interval the point itself).
    """
    mean, sd, low, high, _, _ = moments(values)
    return {"mean": mean, "sd": sd, "unit": unit, "ci95": [low, high]}


def summarise_all(draws, units) -> dict[str, dict]:
    """:func:`summarise` of every quantity of ``draws`` (name -> array), units by name."""
    return {name: summarise(values, units[name]) for name, values in draws.items()}
