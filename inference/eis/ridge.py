"""Where an arc's time constant makes a ridge: points along it, as t distributions that start the
tempered SMC (nassb.inference.eis.smc) there as well as at the mode.

An arc at or beyond the window's edge, or one whose CPE exponent lies near 0, leaves its time
constant barely determined: the posterior runs along a long curved ridge in ln tau, the other
coordinates following (R0 trading off against R1, Q against tau^n).  One t at the mode covers the
ridge's middle; particles started there spread along it only by random walk, too slowly for the
seconds a fit may take (yadg's vsp_peis_with cycle 4: ln tau_1 within [-4.8, -1.6] from the
default run, [-6.3, -0.9] from six times the particles and moves, bench/README.md).

Here each arc's ln tau is stepped away from the mode by :data:`STEP` (the later arcs through
their gap coordinate, by the same step in ln tau) until ln p, maximised over the other coordinates
with ln tau held, falls :data:`DROP` below the mode's, at most :data:`POINTS` steps each way (the
walls of the assumed range stop it).  Each point gives a t: centred at that conditional mode, its
spread along the held coordinate one step, the others following it as the curvature there says
(the conditional normal given ln tau, shifted linearly with it), weighted by the conditional
Laplace evidence exp(ln p) |curvature of the rest|^(-1/2).  It is a starting distribution, not
an answer: the tempering corrects it, and the check judges the particles as before.
"""

from __future__ import annotations

import math

import numpy as np

from .laplace import LogPosterior, Mode, _newton, _positive_definite

STEP = 1.0     # ln tau between the points of a ridge
DROP = 8.0     # a ridge ends where its conditional ln p falls this far below the mode's
POINTS = 12    # points each way at most
MOST = 12      # t's kept at most


def ridge_components(post: LogPosterior, mode: Mode) -> list:
    """(weight, mean, Cholesky factor) of the t's along every arc's ridge (module docstring);
    empty where no arc's time constant moves :data:`STEP` without ln p falling :data:`DROP`.
    Of more than :data:`MOST` points, every second (third ...) is kept, its spread widened to
    match: each t enters every density evaluation of the tempering."""
    ridges: list[tuple[int, float, list[Mode]]] = []
    first = int(post.layout.tau_indices()[0]) if len(post.layout.arcs) else -1
    for j in post.layout.tau_indices():
        step = STEP if j == first else STEP / math.exp(float(mode.x[j]))
        for sign in (-1.0, 1.0):
            points, x = [], mode.x
            for k in range(1, POINTS + 1):
                y = x.copy()
                y[j] = mode.x[j] + sign * k * step
                point = _newton(post, y, np.array([j]))
                if not point.log_density > mode.log_density - DROP:
                    break
                points.append(point)
                x = point.x
            ridges.append((int(j), step, points))
    count = sum(len(points) for _, _, points in ridges)
    if not count:
        return []
    stride = math.ceil(count / MOST)
    found = [_component(point, j, step * stride) for j, step, points in ridges
             for point in points[stride // 2::stride]]
    log_w = np.array([w for w, _, _ in found])
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    return [(float(a), m, f) for a, (_, m, f) in zip(weights, found)]


def _component(point: Mode, j: int, step: float) -> tuple[float, np.ndarray, np.ndarray]:
    """(ln weight, mean, factor) of the t at one point of a ridge held at coordinate ``j``."""
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
