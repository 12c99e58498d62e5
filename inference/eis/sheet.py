"""The coordinates the fast samplers work in (the Laplace stage, nassb.inference.eis.laplace, and
tempered SMC, nassb.inference.eis.smc): those in which a broad or nearly flat arc beyond the
window gives a posterior of gentle shape, not a curved sheet.

**What the data fix.**  A CPE arc R / (1 + (j omega tau)^n) enters the measured window through
(omega tau)^n.  Where its time constant lies beyond the window's fast edge (tau < tau_top =
1/omega_max), the data see its low-frequency side, R - R (j omega tau)^n + ...: they fix the
sum of R and the series resistance R_s beside it (the high-frequency intercept), n, and the
amplitude R (omega_max tau)^n = R exp(s), s = n (ln tau - ln tau_top), but neither ln tau nor
how R_s + R splits.  Beyond the slow edge (tau > tau_bottom = 1/omega_min) they see
R (j omega tau)^(-n) + ... and fix R exp(-s), s pivoted at tau_bottom.  Where n is small,
(omega tau)^n barely varies over the window whatever tau, and the same holds inside it.  In the
fitted coordinates (ln R, ln tau, logit n; nassb.inference.eis.coordinates) the posterior then
bends twice: along ln tau = ln tau_pivot + s / n, a hyperbola in (n, ln tau) that runs over
decades of tau as n falls, and along R_s + R = const, which in (ln R_s, ln R) runs down towards
R_s = 0 while ln R stays nearly where it is.  Neither the moves' nor the check's mixtures of t's
follow those bends.

**The coordinates.**  Each CPE arc's time-constant coordinate becomes what the window sees of
it, pivoted at the window's edge nearer to the arc's time constant at the posterior's mode:
s + ln R at the fast edge (the log amplitude, ln(R (omega_max tau)^n)) and s - ln R at the slow
one (minus the log amplitude, ln(R (omega_min tau)^-n)).  Where the circuit has one resistor in
series at its top level and an arc, that resistor's and the first arc's ln R become
ln(R_s + R_1) and ln(R_s / R_1) (a map that keeps volume: its Jacobian determinant is -1).  Inside the window, with
n near 1, these are nearly linear changes of coordinates and change nothing that matters.

**Measured** on yadg's vsp_peis_with with the issue's circuit (fast arc n 0.05-0.5, its tau on
the assumed range's bound; bench/README.md, "Sheet coordinates").  In the fitted coordinates
the whole fit refused 17 of 32 spectra (the check 16 at k-hat 0.71-0.87, R-hat 6).  SMC alone,
at two or three seeds each, accepted 20-22 of 32 with s alone (pivoted at the fast edge for
every arc 14-24; at the window's middle, tried on two spectra, neither, where both edges
accepted both), 27-29 with the series pair too, and 31-32 with the amplitude as well (check
k-hat 0.38 on average, against 0.59).

The map y -> theta is a bijection between the y's whose arcs' ln tau are in increasing order
and all theta; elsewhere the density is -inf.  The density in y carries the log-Jacobian, so
that draws of it, mapped back, are draws of the posterior itself: nothing is approximated, only
the coordinates change.  Capacitor arcs p(R,C) keep ln tau.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

import numpy as np

from .circuit import Element, Series
from .coordinates import Layout
from .laplace import ImportanceDraws, LogPosterior, Mixture, Mode, _positive_definite

Draws = TypeVar("Draws", bound=ImportanceDraws)


class SheetPosterior:
    """ln p in sheet coordinates y (module docstring), for arrays of points (..., d + 1) with the
    noise last, as :class:`~nassb.inference.eis.laplace.LogPosterior`'s.

    ``post`` is the posterior in the fitted coordinates; ``theta`` (the posterior mode's, without
    the noise) says which edge of the window each arc is pivoted at.

    Attributes
    ----------
    pivots : list of float
        Per arc, ln tau of the window's edge it is pivoted at.
    signs : list of float
        Per arc, +1 (fast edge: y = s + ln R), -1 (slow edge: y = s - ln R) or 0 (a capacitor
        arc, y = ln tau).
    pair : (int, int) or None
        Indices in theta of the series resistance and the first arc's resistance, where they
        become ln(R_s + R_1) and ln(R_s / R_1).
    """

    def __init__(self, post: LogPosterior, theta: np.ndarray):
        layout = post.layout
        self.post = post
        self.size = post.size
        self.taus = layout.tau_indices()
        first = len(layout.logs) + len(layout.arcs)
        self.exponents = [first + layout.exponents.index(n) if n else None for _, _, n in layout.arcs]
        mid, half = (float(v) for v in post.window[0])
        _, log_taus, _, _ = layout.unpack(np.asarray(theta, dtype=float))
        self.pivots = [mid - half if float(lt) < mid else mid + half for lt in log_taus]  # ln tau of the nearer edge
        self.pair = _series_pair(layout)
        # an arc's coordinate is s + ln R at the fast edge, s - ln R at the slow one (module docstring)
        self.signs = [(1.0 if pivot < mid else -1.0) if n else 0.0
                      for pivot, (_, _, n) in zip(self.pivots, layout.arcs)]
        self.resistors = [layout.logs.index(r) for r, _, _ in layout.arcs]

    @classmethod
    def of(cls, post: LogPosterior, mode: Mode) -> SheetPosterior | None:
        """The sheet coordinates of ``post`` pivoted as its ``mode`` says, or None where no arc
        has a CPE and no resistor is in series with an arc (nothing would change)."""
        sheet = cls(post, mode.x[:-1])
        return sheet if any(sheet.signs) or sheet.pair is not None else None

    def _log_taus(self, y: np.ndarray, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """The arcs' ln tau at ``y`` (``x`` with its resistances already), and their n (None for
        a capacitor)."""
        log_taus: list[np.ndarray] = []
        exponents: list[np.ndarray | None] = []
        for j, e, pivot, sign, r in zip(self.taus, self.exponents, self.pivots, self.signs, self.resistors):
            if e is None:
                log_taus.append(y[..., j])
                exponents.append(None)
            else:
                n = 1.0 / (1.0 + np.exp(-y[..., e]))
                log_taus.append(pivot + (y[..., j] - sign * x[..., r]) / n)
                exponents.append(n)
        return log_taus, exponents

    def to_theta(self, y: np.ndarray) -> np.ndarray:
        """The fitted coordinates at ``y`` (..., d) or (..., d + 1); NaN where the arcs are out of
        order (where y has no density: draws come from where it has, except the samplers' own
        last-resort fallbacks when no weight or no tempering step is usable)."""
        return self._theta(y)[0]

    def log_jacobian(self, y: np.ndarray) -> np.ndarray:
        """ln |det d theta / d y| at ``y``."""
        return self._theta(y)[1]

    def _theta(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):  # far out (logit n below -709, arcs out of order): -inf, no warnings
            return self._theta_unguarded(np.asarray(y, dtype=float))

    def _theta_unguarded(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = y.copy()
        if self.pair is not None:
            series, first = self.pair
            total, share = y[..., series], y[..., first]
            x[..., series] = total - np.logaddexp(0.0, -share)
            x[..., first] = total - np.logaddexp(0.0, share)
        log_taus, exponents = self._log_taus(y, x)
        log_jacobian = np.zeros(y.shape[:-1])
        for n in exponents:
            if n is not None:
                log_jacobian = log_jacobian - np.log(n)
        x[..., self.taus[0]] = log_taus[0]
        for k in range(1, len(log_taus)):
            gap = np.log(log_taus[k] - log_taus[k - 1])
            x[..., self.taus[k]] = gap
            log_jacobian = log_jacobian - gap
        return x, log_jacobian

    def to_sheet(self, x: np.ndarray) -> np.ndarray:
        """y at the fitted coordinates ``x`` (the inverse of :meth:`to_theta`)."""
        x = np.asarray(x, dtype=float)
        y = x.copy()
        if self.pair is not None:
            series, first = self.pair
            y[..., series] = np.logaddexp(x[..., series], x[..., first])
            y[..., first] = x[..., series] - x[..., first]
        log_tau = x[..., self.taus[0]]
        for k, (j, e, pivot) in enumerate(zip(self.taus, self.exponents, self.pivots)):
            if k:
                log_tau = log_tau + np.exp(x[..., j])
            if e is None:
                y[..., j] = log_tau
            else:
                y[..., j] = (log_tau - pivot) / (1.0 + np.exp(-x[..., e])) + self.signs[k] * x[..., self.resistors[k]]
        return y

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """ln p at ``y``: the posterior's at theta(y) plus ln |d theta / d y|; -inf out of order."""
        x, log_jacobian = self._theta(y)
        with np.errstate(all="ignore"):
            out = self.post(x) + log_jacobian
        return np.where(np.isfinite(out), out, -np.inf)

    def jacobian(self, y: np.ndarray) -> np.ndarray:
        """d theta / d y at one point ``y`` (d + 1,)."""
        y = np.asarray(y, dtype=float)
        out = np.eye(y.size)
        if self.pair is not None:
            series, first = self.pair
            share = 1.0 / (1.0 + np.exp(-y[first]))  # R_series / (R_series + R_1)
            out[series, first], out[first, series], out[first, first] = 1.0 - share, 1.0, -share
        log_taus, exponents = self._log_taus(y, self.to_theta(y))
        rows = np.zeros((len(log_taus), y.size))  # d ln tau_k / d y
        for k, (j, e, n) in enumerate(zip(self.taus, self.exponents, exponents)):
            if e is None or n is None:
                rows[k, j] = 1.0
            else:
                rows[k, j] = 1.0 / n
                rows[k, e] = -(log_taus[k] - self.pivots[k]) * (1.0 - n)
                rows[k] -= self.signs[k] / n * out[self.resistors[k]]
        out[self.taus[0]] = rows[0]
        for k in range(1, len(log_taus)):
            out[self.taus[k]] = (rows[k] - rows[k - 1]) / (log_taus[k] - log_taus[k - 1])
        return out

    def mode(self, mode: Mode) -> Mode:
        """The posterior's mode carried to y, its curvature by the chain rule (the log-Jacobian's
        own curvature left out, and the point not moved to y's own mode: it centres the Laplace
        stage's t and starts the tempering, whose weights correct for both)."""
        y = self.to_sheet(mode.x)
        jacobian = self.jacobian(y)
        precision = _positive_definite(jacobian.T @ mode.precision @ jacobian)
        return Mode(y, precision, float(self(y[None, :])[0]), mode.converged)

    def mixture(self, mixture: Mixture) -> Mixture:
        """t's carried to y, each linearised at its mean."""
        out = []
        for weight, mean, factor in mixture:
            y = self.to_sheet(mean)
            back = np.linalg.solve(self.jacobian(y), factor)
            out.append((weight, y, np.linalg.cholesky(_positive_definite(back @ back.T))))
        return out

    def draws(self, draws: Draws) -> Draws:
        """``draws`` (theta in y) with theta in the fitted coordinates."""
        return replace(draws, theta=self.to_theta(draws.theta))


def _series_pair(layout: Layout) -> tuple[int, int] | None:
    """(index of the series resistor, index of the first arc's resistor) in theta, where the
    circuit has one resistor in series at its top level and an arc."""
    tree = layout.circuit.tree
    parts = tree.parts if isinstance(tree, Series) else (tree,)
    series = [e.name for e in parts if isinstance(e, Element) and e.kind == "R"]
    if len(series) != 1 or not layout.arcs:
        return None
    return layout.logs.index(series[0]), layout.logs.index(layout.arcs[0][0])
