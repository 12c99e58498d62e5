"""Summaries of draws, written once: mean, standard deviation and 95 % intervals of Monte Carlo
draws, posterior draws and posterior-predictive draws alike.

Every result of nassb summarises a quantity with :func:`summarise`; the JSON contract of a
quantity is its output: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``.  Intervals come from order
statistics (JCGM 101 7.7), found by partial sorts of the tails (linear time).

Heavy tails.  A resistance d / sigma with sigma normal has no finite variance (and no finite
mean): its sample sd swings from seed to seed however many draws are taken, while its coverage
interval is stable.  :func:`summarise` then reports ``sd`` as None (``null`` in JSON) with a
``note`` saying why and the ``median`` beside the intervals.  The tail is judged from the draws by
the shape xi of a generalised Pareto fit to the largest deviations from the median (the estimator
behind PSIS's k-hat): the variance exists only for xi < 1/2 and the mean only for xi < 1.  A caller
that knows better (Monte Carlo knows which input reaches a singularity of the equations) passes
``tail=`` itself.
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
    q = math.floor(p * m + 0.5)
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


VARIANCE_SHAPE = 0.5   # a generalised Pareto tail of shape xi >= 1/2 has no variance
MEAN_SHAPE = 1.0       # ... and xi >= 1 no mean
MIN_TAIL_DRAWS = 400   # fewer draws cannot tell a heavy tail from a long one
MAX_TAIL_DRAWS = 200_000  # a tail fit on more draws says no more (and costs more)


def tail_shape(values) -> float | None:
    """Shape xi of a generalised Pareto fit to the upper tail of |y - median| (None for too few
    draws or a constant).  The tail holds the largest min(20 %, 3 sqrt(n)) deviations, as PSIS
    takes them (Vehtari et al., JMLR 2024)."""
    excess = tail_excess(values)
    if excess is None:
        return None
    with np.errstate(all="ignore"):
        shape, _ = gpd_fit(excess / excess.mean(), prior=False)
    return float(shape) if math.isfinite(shape) else None


def tail_excess(values) -> np.ndarray | None:
    """The exceedances of the upper tail of |y - median| over its threshold (the largest
    min(20 %, 3 sqrt(n)) deviations, as PSIS takes them; at most MAX_TAIL_DRAWS draws, thinned
    evenly), or None for too few draws, a constant, or fewer than 20 exceedances."""
    y = np.asarray(values, dtype=float).ravel()
    if y.size < MIN_TAIL_DRAWS or not varies(y):
        return None
    if y.size > MAX_TAIL_DRAWS:
        y = y[:: -(-y.size // MAX_TAIL_DRAWS)]
    deviation = np.abs(y - np.median(y))
    m = int(min(0.2 * y.size, 3.0 * math.sqrt(y.size)))
    top = np.partition(deviation, y.size - m - 1)[y.size - m - 1:]
    excess = top[1:] - top[0]
    excess = excess[excess > 0]
    return excess if excess.size >= 20 else None


def gpd_fit(x: np.ndarray, prior: bool = True) -> tuple[float, float]:
    """Shape k and scale sigma of a generalised Pareto distribution fitted to exceedances
    ``x`` > 0: the empirical Bayes estimate of Zhang and Stephens (2009), then (``prior``) the
    shape pulled towards 0.5 by a prior worth 10 observations (Vehtari et al. 2024, appendix C).

    With theta = -k / sigma, the profile likelihood of theta is
    n (ln(-theta / k(theta)) - k(theta) - 1), k(theta) = mean ln(1 - theta x); the estimate of
    theta is its posterior mean over a grid of m = 30 + sqrt(n) points.
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    m = 30 + int(math.sqrt(n))
    quartile = x[max(int(n / 4 + 0.5) - 1, 0)]
    with np.errstate(all="ignore"):  # a quartile of 0 (tied exceedances) leaves no finite grid point
        grid = 1.0 / x[-1] + (1.0 - np.sqrt(m / (np.arange(1, m + 1) - 0.5))) / (3.0 * quartile)
        k = np.mean(np.log1p(-grid[:, None] * x[None, :]), axis=1)
        profile = n * (np.log(-grid / k) - k - 1.0)
    ok = np.isfinite(profile)
    grid, profile = grid[ok], profile[ok]
    if grid.size == 0:
        return math.inf, math.nan
    weights = np.exp(profile - profile.max())
    weights /= weights.sum()
    theta = float(np.sum(grid * weights))
    shape = float(np.mean(np.log1p(-theta * x)))
    sigma = -shape / theta
    if prior:
        shape = (n * shape + 10 * 0.5) / (n + 10)
    return shape, sigma


def heavy_tail(values) -> str | None:
    """Why the draws' sd means nothing (a sentence), or None when their variance looks finite.

    The tail shape must exceed 1/2 by more than its standard error allows (a one-sided 95 %
    bound, se = (1 + xi) / sqrt(tail draws)): a long but light tail (a lognormal mixture) from a
    few hundred draws does not pass for a heavy one.
    """
    xi = tail_shape(values)
    if xi is None:
        return None
    n = min(np.size(values), MAX_TAIL_DRAWS)
    tail = min(0.2 * n, 3.0 * math.sqrt(n))
    if xi - 1.645 * (1.0 + max(xi, 0.0)) / math.sqrt(tail) < VARIANCE_SHAPE:
        return None
    moment = "the mean and the variance do" if xi >= MEAN_SHAPE else "the variance does"
    return f"heavy tail: the largest draws fall off as a power (tail shape {xi:.2f}); {moment} not exist"


def summarise(values, unit: str, *, tail: str | bool | None = None) -> dict:
    """The summary of one quantity's draws: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``.

    ``values`` is an array of draws (any shape, flattened) or a number (a fixed quantity: sd 0,
    its interval the point itself).  ``tail`` is a sentence saying why the sd (or mean) is not
    defined, False to skip the check, or None to judge the tail from the draws
    (:func:`heavy_tail`).  A heavy tail gives ``sd`` None, the ``median`` and a ``note``; the mean
    is None too where the note says it does not exist.
    """
    mean, sd, low, high, _, _ = moments(values)
    out: dict = {"mean": mean, "sd": sd, "unit": unit, "ci95": [low, high]}
    if tail is None:
        tail = heavy_tail(values) if sd > 0 else None
    if tail:
        out.update(sd=None, median=float(np.median(np.asarray(values, dtype=float))), note=str(tail))
        if "mean" in str(tail) and "not exist" in str(tail) and "the mean" in str(tail):
            out["mean"] = None
    return out


def summarise_named(name: str, values, unit: str | None = None) -> dict:
    """:func:`summarise` of a quantity of the vocabulary: its unit from there, and no tail check
    for a bounded kind (a probability or a fraction has every moment)."""
    from ..priors.vocabulary import term

    t = term(name)
    bounded = t.kind in ("probability", "fraction") or (t.low > -math.inf and t.high < math.inf)
    return summarise(values, unit if unit is not None else t.unit, tail=False if bounded else None)


def summarise_all(draws, units) -> dict[str, dict]:
    """:func:`summarise` of every quantity of ``draws`` (name -> array), units by name."""
    return {name: summarise(values, units[name]) for name, values in draws.items()}


def psis_weights(log_ratios) -> tuple[np.ndarray, float]:
    """Pareto-smoothed importance weights (normalised) and the shape estimate k-hat of their
    tail (arviz's PSIS; Vehtari et al., JMLR 25 (2024) 72): above 0.7 the reweighted figures
    are unreliable.  Equal log-ratios give equal weights and k-hat 0."""
    import warnings

    import arviz as az

    log_ratios = np.asarray(log_ratios, dtype=float)
    finite = np.isfinite(log_ratios)  # a draw of zero weight (-inf) or an undefined one stays at zero
    out = np.zeros(log_ratios.size)
    if not finite.any():
        return np.full(log_ratios.size, 1.0 / log_ratios.size), math.inf
    kept = log_ratios[finite]
    if np.ptp(kept) < 1e-12:
        out[finite] = 1.0 / kept.size
        return out, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smoothed, k = az.psislw(kept - kept.max())
    w = np.exp(smoothed - smoothed.max())
    if not np.all(np.isfinite(w)) or w.sum() <= 0:  # the smoothing failed: plain normalised ratios
        w, k = np.exp(kept - kept.max()), math.inf
    out[finite] = w / w.sum()
    return out, float(k)
