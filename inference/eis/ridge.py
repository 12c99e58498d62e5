"""Where an arc's time constant makes a ridge: points along it, as t distributions that start the
tempered SMC (nassb.inference.eis.smc) there as well as at the mode.

An arc at or beyond the window's edge, or one whose CPE exponent lies near 0, leaves its time
constant barely determined: the posterior runs along a long curved ridge in ln tau, the other
coordinates following (R0 trading off against R1, Q against tau^n).  One t at the mode covers the
ridge's middle; particles started there spread along it only by random walk, too slowly for the
seconds a fit may take (yadg's vsp_peis_with cycle 4: ln tau_1 within [-4.8, -1.6] from the
default run, [-6.3, -0.9] from six times the particles and moves, bench/README.md).

Here each arc's ln tau is stepped away from the mode by :data:`STEP` (a later arc through its
gap coordinate, ln(ln tau_k - ln tau_(k-1)), set so that ln tau_k itself moves by the step, the
earlier arcs held at the mode's) until ln p, maximised over the other coordinates with those held,
falls :data:`DROP` below the mode's, at most :data:`POINTS` steps each way (the walls of the
assumed range stop it).  Each point gives a t: centred at that conditional mode, its spread along
the stepped coordinate one step, the others following it as the curvature there says (the
conditional normal given that coordinate, shifted linearly with it), weighted by the conditional
Laplace evidence exp(ln p) |curvature of the rest|^(-1/2).  It is a starting distribution, not
an answer: the tempering corrects it, and the check judges the particles as before.
"""

from __future__ import annotations

import math

import numpy as np

from .laplace import LogPosterior, Mixture, Mode, _newton, _positive_definite

STEP = 1.0     # ln tau between the points of a ridge
DROP = 8.0     # a ridge ends where its conditional ln p falls this far below the mode's
POINTS = 12    # points each way at most
MOST = 12      # t's kept at most


def ridge_components(post: LogPosterior, mode: Mode) -> Mixture:
    """(weight, mean, Cholesky factor) of the t's along every arc's ridge (module docstring);
    empty where no arc's time constant moves :data:`STEP` without ln p falling :data:`DROP`.
    Of more than :data:`MOST` points, every second (third ...) is kept, its spread widened to
    match, and at least one of every ridge: each t enters every density evaluation of the
    tempering."""
    ridges = [_ridge(post, mode, k, sign) for k in range(len(post.layout.arcs)) for sign in (-1.0, 1.0)]
    count = sum(len(points) for points in ridges)
    if not count:
        return []
    stride = math.ceil(count / MOST)
    found = [_component(point, j, step * stride) for points in ridges
             for point, j, step in points[min(stride // 2, len(points) - 1)::stride]]
    log_w = np.array([w for w, _, _ in found])
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    return [(float(a), m, f) for a, (_, m, f) in zip(weights, found)]


def _ridge(post: LogPosterior, mode: Mode, k: int, sign: float) -> list[tuple[Mode, int, float]]:
    """(conditional mode, the stepped coordinate, its step there) at each point of arc ``k``'s
    ridge on one side (``sign``) of the mode: ln tau_k moved by :data:`STEP` a point, the earlier
    arcs' time constants held at the mode's."""
    taus = post.layout.tau_indices()
    j, held = int(taus[k]), taus[:k + 1]
    points, x = [], mode.x
    for i in range(1, POINTS + 1):
        y = x.copy()
        if k == 0:
            y[j], step = mode.x[j] + sign * i * STEP, STEP
        else:  # the gap ln(ln tau_k - ln tau_(k-1)): ln tau_k moves by i steps
            width = math.exp(float(mode.x[j])) + sign * i * STEP
            if width <= 0.0:
                break
            y[j], step = math.log(width), STEP / width
        point = _newton(post, y, held)
        if not point.log_density > mode.log_density - DROP:
            break
        points.append((point, j, step))
        x = point.x
    return points


def _component(point: Mode, j: int, step: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(ln weight, mean, factor) of the t at one point of a ridge stepped along coordinate ``j``
    (spread ``step`` along it, every other coordinate free)."""
    d = point.x.size
    free = np.setdiff1d(np.arange(d), [j])
    p_free = _positive_definite(point.precision[np.ix_(free, free)])
    c_free = np.linalg.inv(p_free)
    follow = -c_free @ point.precision[free, j]  # how the conditional mode moves with coordinate j
    covariance = np.empty((d, d))
    covariance[j, j] = step * step
    covariance[free, j] = covariance[j, free] = follow * step * step
    covariance[np.ix_(free, free)] = c_free + np.outer(follow, follow) * step * step
    log_weight = point.log_density - 0.5 * float(np.linalg.slogdet(p_free)[1])
    return log_weight, point.x, np.linalg.cholesky(_positive_definite(covariance))
