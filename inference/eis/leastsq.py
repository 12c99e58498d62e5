"""The least-squares start: scipy's trust-region fit of one spectrum from several starts.

Residuals are relative, (Z_model - Z) / |Z| on the real and imaginary parts (the |Z| weighting
of the noise model), computed in one vectorised pass over the frequencies; the Jacobian comes
by complex step, all coordinates in one pass.  The fit moves in the same unconstrained
coordinates as NUTS (nassb.inference.eis.coordinates), so its arcs are ordered by time constant
whatever start found them.  The starts spread the arcs over the measured window in several
patterns; each start runs a few evaluations, the most promising go on to convergence, and
the best fit wins.  Beside them, one start with the series resistance carried by the fastest
arc just above the window runs to convergence on its own.  A series CPE starts by turns at
n = 0.85 (Q at the prior's centre) and where the low-frequency end puts it (n from the slope of
ln|Z''| there, Q from its Z''); an inductance at the high-frequency end's Z''/omega and 30 times
it, and ln L is kept above the inductance no measured frequency could see (it then reads 0).  A
residual that overflows on a step counts as a large number, so that the step is refused rather
than the start lost.

Beyond the point estimate a lab would get, the fit returns its curvature: the Gauss-Newton
covariance of the coordinates, regularised by the prior, whose Cholesky factor whitens the
posterior for NUTS (nassb.inference.eis.model).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from ...priors import DataError
from .coordinates import LOG_SD, Layout, Scales
from .spectrum import Spectrum

N_RANGE = (0.05, 0.9995)  # least squares keeps n inside; the posterior may go further
INDUCTANCE_FLOOR = 1e-4   # omega_max L at least this share of the series resistance in least squares
RESISTANCE_FLOOR = 1e-6   # a resistor stays above this share of the spectrum's resistance
GAP_FLOOR = -12.0          # ln of the smallest gap between two arcs' ln tau
MAX_EVALUATIONS = 300      # per start: an arc the data cannot place crawls on for thousands
RACE_EVALUATIONS = 20      # every start runs this many evaluations first ...
CONTINUED = 3              # ... and the best this many go on to convergence, a second or third only
CONTINUE_MARGIN = 0.001    # when its cost is already within 0.1 % of the best ...
RACE_FACTOR = 4.0          # ... or its race cost within this factor of the race leader's (rms within 2 times)
TAIL_SPAN = 10 ** 0.5       # a series CPE's start: the slope of the lowest half decade ...
TAIL_N = (0.2, 0.95)        # ... as its n, kept inside this range
_STEP = 1e-20
OVERFLOW = 1e10            # a residual that overflowed (a step far out on a ridge) counts as this, not as NaN


@dataclass(frozen=True)
class LeastSquares:
    """The best least-squares fit of one spectrum.

    Attributes
    ----------
    values : dict
        Parameter name -> value (ohm, F, H, F s^(n-1), 1, ohm s^-1/2).
    theta : ndarray
        Where NUTS starts, in the fit's coordinates: the posterior mode near the least-squares
        point (the same point where the data determine everything).
    scale : ndarray
        Lower-triangular factor of the coordinates' covariance (Gauss-Newton with the prior's
        precision added): theta = theta_hat + scale @ u makes u roughly standard normal.
    rms : float
        Root mean square of the relative residuals (0.005 means 0.5 % of |Z|).
    starts : int
        How many starts were tried.
    """

    values: dict
    theta: np.ndarray
    scale: np.ndarray
    rms: float
    starts: int


class Residuals:
    """The relative residuals of one spectrum against the circuit, as functions of theta.

    ``residuals(theta)`` is (Z_model - Z) / |Z| on the real parts and then the imaginary parts
    (2N values); ``model(theta)`` takes any leading shape (draws, ...) before the coordinate
    axis, so that thousands of draws are evaluated in one pass; ``jacobian(theta)`` is exact
    (complex step), all coordinates in one pass.
    """

    def __init__(self, spectrum: Spectrum, layout: Layout):
        self.layout = layout
        self.omega = spectrum.omega
        z = spectrum.z
        self.absz = np.r_[np.abs(z), np.abs(z)]
        self.target = np.r_[z.real, z.imag]
        self._eye = np.eye(len(layout.coordinates))

    def model(self, theta):
        """Z'_model and Z''_model side by side (..., 2N), in the spectrum's unit."""
        layout, w = self.layout, self.omega
        logs, log_tau, exponents, _ = layout.unpack(np.asarray(theta)[..., None, :])
        re_, im_ = layout.circuit.impedance(layout.values(logs, log_tau, exponents), w)
        return np.concatenate([re_ + 0.0 * w, im_ + 0.0 * w], axis=-1)

    def residuals(self, theta):
        return (self.model(theta) - self.target) / self.absz

    def jacobian(self, theta):
        steps = np.asarray(theta)[None, :] + 1j * _STEP * self._eye  # row i moves coordinate i
        return (self.model(steps).imag / _STEP / self.absz).T


def fit_least_squares(spectrum: Spectrum, layout: Layout, scales: Scales | None = None) -> LeastSquares:
    """The best relative least-squares fit of ``spectrum`` from several starts, the posterior
    mode near it and the curvature there (see the module docstring)."""
    from scipy.optimize import least_squares

    scales = scales or Scales.of(spectrum)
    problem = Residuals(spectrum, layout)
    # the starts' fits only: the posterior-mode refinement below keeps the raw functions (a
    # plateau of filled values must not become a place it can wander on)
    residuals, jacobian = _finite(problem.residuals, OVERFLOW), _finite(problem.jacobian, 0.0)
    target = problem.target
    size = len(layout.coordinates)

    lower, upper = _bounds(layout, scales)

    def solve(theta0, evaluations):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                fit = least_squares(residuals, theta0, jac=jacobian, bounds=(lower, upper), method="trf",
                                    x_scale="jac", max_nfev=evaluations)
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                return None
        return fit if np.isfinite(fit.cost) else None

    # Every start runs a few steps; only the most promising that have not converged go on.  A
    # start in the right basin converges in 10-20 evaluations, one in a wrong basin crawls for
    # hundreds.
    starts = list(_starts(layout, scales, _inductance(spectrum), _tail(spectrum)))
    fits = [fit for fit in (solve(np.clip(theta0, lower + 1e-9, upper - 1e-9), RACE_EVALUATIONS)
                            for theta0 in starts) if fit is not None]
    fits.sort(key=lambda fit: fit.cost)
    if not fits:
        raise DataError(f"{spectrum.name}: no least-squares start gave a finite fit; check the data",
                        file=spectrum.source)
    best = fits[0]
    for fit in fits[:CONTINUED]:
        # a start stopped by the evaluation limit goes on while it might still beat the best:
        # on a ridge (an unresolved arc) every start crawls to nearly the same cost, and one
        # continued start is enough
        # (or, since a continuation can run off on a long step, a coordinate the residuals hardly
        # see thrown decades away, when the race put it near the leader: a synthetic two-arc
        # spectrum's leader went from 2.1 % to 1.58 % with ln R0 at -8e8, where the next two
        # starts converge to the truth)
        near = fit.cost < RACE_FACTOR * fits[0].cost
        if fit.status == 0 and (fit is fits[0] or near or fit.cost < best.cost * (1 + CONTINUE_MARGIN)):
            further = solve(fit.x, MAX_EVALUATIONS)
            if further is not None and further.cost < best.cost:
                best = further
    inside = _series_inside(layout, scales, starts[0])
    if inside is not None:  # run to convergence beside the race: it starts far from its optimum
        further = solve(np.clip(inside, lower + 1e-9, upper - 1e-9), MAX_EVALUATIONS)
        if further is not None and further.cost < best.cost:
            best = further
    logs, log_tau, exponents, _ = layout.unpack(best.x)
    values = {k: float(v) for k, v in layout.values(logs, log_tau, exponents).items()}
    for i, name in enumerate(layout.logs):  # an inductance at its floor: none the data can see
        if np.isfinite(lower[i]) and best.x[i] <= lower[i] + 1e-6:
            values[name] = 0.0
    dof = max(target.size - size, 1)
    variance = max(2.0 * best.cost / dof, 1e-10)

    mode = _posterior_mode(problem, layout, scales, best.x, variance, (lower, upper))
    return LeastSquares(values, mode, _whitening(problem.jacobian(mode), variance, layout),
                        float(np.sqrt(np.mean(best.fun ** 2))), len(starts))


def _posterior_mode(problem, layout: Layout, scales: Scales, start: np.ndarray, variance: float, bounds):
    """The sampler's centre: the posterior mode, the fit with the prior's pull added.  Where the
    data do not determine a direction (an arc above the window sends R0 to 0), the mode sits
    where the prior puts it, not at the far end of a ridge; ``start`` where the refinement fails."""
    from scipy.optimize import least_squares

    centre, spread = _prior_rows(layout, scales)
    rows = np.flatnonzero(np.isfinite(centre))
    sigma = np.sqrt(variance)
    eye = np.eye(len(layout.coordinates))

    def penalised(theta):
        return np.r_[problem.residuals(theta) / sigma, (theta[rows] - centre[rows]) / spread[rows]]

    def penalised_jacobian(theta):
        return np.r_[problem.jacobian(theta) / sigma, eye[rows] / spread[rows][:, None]]

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            refined = least_squares(penalised, start, jac=penalised_jacobian, bounds=bounds, method="trf",
                                    x_scale="jac", max_nfev=MAX_EVALUATIONS)
            if np.all(np.isfinite(refined.x)):
                return refined.x
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            pass
    return start


def _finite(function, fill: float):
    """``function`` with its non-finite values replaced by ``fill``: a trust-region step into a
    region where the circuit overflows (a CPE with Q near 0) is then refused as a step that
    raised the cost, where scipy would raise on the NaN and the start would be lost (yadg's
    vsp_peis_with cycle 22 with L0-R0-p(R1,CPE1)-CPE2: 8 of 11 starts lost that way, the fit
    left at 5.8 % rms where impedance.py reaches 0.30 %)."""
    def finite(theta):
        with np.errstate(all="ignore"):
            values = function(theta)
        return np.where(np.isfinite(values), values, fill)

    return finite


def _prior_rows(layout: Layout, scales: Scales):
    """Centre and sd of the normal priors on theta's log coordinates (NaN elsewhere)."""
    centre = np.full(len(layout.coordinates), np.nan)
    spread = np.ones(len(layout.coordinates))
    for i, name in enumerate(layout.logs):
        centre[i] = scales.log_centre(layout.circuit.parameter(name).kind)
        spread[i] = LOG_SD
    return centre, spread


def _whitening(jac: np.ndarray, variance: float, layout: Layout) -> np.ndarray:
    """Cholesky factor of (J^T J / s^2 + prior precision)^-1."""
    precision = jac.T @ jac / variance + np.diag(layout.prior_precision())
    return covariance_factor(np.linalg.inv(precision))


def covariance_factor(covariance: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a covariance, with jitter where rounding left it indefinite (and
    the diagonal's square root as the last resort)."""
    covariance = 0.5 * (covariance + covariance.T)
    for jitter in (0.0, 1e-10, 1e-8, 1e-6):
        try:
            return np.linalg.cholesky(covariance + jitter * np.eye(len(covariance)))
        except np.linalg.LinAlgError:
            continue
    return np.diag(np.sqrt(np.clip(np.diag(covariance), 1e-12, None)))


def _bounds(layout: Layout, scales: Scales | None = None):
    """Bounds of theta for least squares: n within N_RANGE, gaps above GAP_FLOOR, an
    inductance not below the one whose impedance at the highest frequency is INDUCTANCE_FLOOR of
    the spectrum's series resistance (below it L is invisible and its logarithm runs off), and a
    resistor not below RESISTANCE_FLOOR of the spectrum's resistance (a trust-region
    step once threw a series resistance of 0.125 ohm, beside arcs of hundreds, to 1e-66 ohm)."""
    logit = np.log(np.array(N_RANGE)) - np.log1p(-np.array(N_RANGE))
    k = len(layout.arcs)
    floor = -np.inf if scales is None else math.log(INDUCTANCE_FLOOR * scales.high / scales.omega_max)
    resistor = -np.inf if scales is None else math.log(RESISTANCE_FLOOR * scales.resistance)
    kinds = [layout.circuit.parameter(n).kind for n in layout.logs]
    logs = np.array([floor if kind == "L" else resistor if kind == "R" else -np.inf for kind in kinds])
    lower = np.r_[logs, [-np.inf] * min(k, 1), np.full(max(k - 1, 0), GAP_FLOOR),
                  np.full(len(layout.exponents), logit[0])]
    upper = np.r_[np.full(len(layout.logs) + k, np.inf), np.full(len(layout.exponents), logit[1])]
    return lower, upper


def _inductance(spectrum: Spectrum) -> float:
    """ln L on the scale the high-frequency end shows: Z'' / omega at the highest frequency
    (its size where that end is still capacitive), so that a series inductance starts where the
    data put it rather than decades away, on a ridge down to L = 0."""
    top = int(np.argmax(spectrum.omega))
    return float(np.log(max(abs(spectrum.z[top].imag) / spectrum.omega[top], 1e-300)))


def _tail(spectrum: Spectrum) -> tuple[float, float] | None:
    """(n, ln Q) of a series CPE that alone makes the low-frequency end's Z'': n from the slope of
    ln|Z''| against ln omega over the lowest half decade, Q from |Z''| at the lowest frequency;
    None where that end is not capacitive."""
    order = np.argsort(spectrum.omega)
    omega, z = spectrum.omega[order], spectrum.z[order]
    low = max(int(np.searchsorted(omega, omega[0] * TAIL_SPAN, side="right")), 2)
    if low > len(omega) or omega[low - 1] <= omega[0] or np.any(z.imag[:low] >= 0):
        return None
    slope = np.polyfit(np.log(omega[:low]), np.log(-z.imag[:low]), 1)[0]
    n = float(np.clip(-slope, *TAIL_N))
    return n, math.log(math.sin(n * math.pi / 2)) - math.log(-z.imag[0]) - n * math.log(omega[0])


def _series_inside(layout: Layout, scales: Scales, theta: np.ndarray) -> np.ndarray | None:
    """A start with the series resistance carried by the fastest arc, placed just above the
    window, and the series resistors near 0 (``theta`` a start whose other coordinates are kept),
    or None for a circuit without both.  Where Z' still falls at the highest frequencies the
    best fit often puts R0 near 0 there (yadg's geis.mpt: 20.2 % against 21.8 % from the
    other starts, impedance.py's best 21.3 %)."""
    arcs = [a[0] for a in layout.arcs]
    series = [n for n in layout.logs if layout.circuit.parameter(n).kind == "R" and n not in arcs]
    if not arcs or not series:
        return None
    logs, log_tau, exponents, _ = layout.unpack(np.asarray(theta, dtype=float))
    logs = {n: float(v) for n, v in logs.items()}
    for name in series:
        logs[name] = math.log(scales.high * 1e-3 / len(series))
    logs[arcs[0]] = math.log(scales.high)
    lo, hi = -math.log(scales.omega_max), -math.log(scales.omega_min)
    log_tau = [float(t) for t in log_tau]
    log_tau[0] = min(lo - 0.1 * (hi - lo), log_tau[1] - 1.0) if len(log_tau) > 1 else lo - 0.1 * (hi - lo)
    return layout.pack(logs, log_tau, {n: float(v) for n, v in exponents.items()})


def _starts(layout: Layout, scales: Scales, log_inductance: float | None = None,
            tail: tuple[float, float] | None = None):
    """Starting points: arcs' ln tau spread over the window in several patterns, resistances
    splitting the spectrum's real span, an inductance from the high-frequency end; the time
    constant of a finite Warburg or Gerischer element at the middle of the window, near its
    fast end or near its slow end, in turn."""
    lo, hi = -np.log(scales.omega_max), -np.log(scales.omega_min)
    k = len(layout.arcs)
    arc_resistors = [a[0] for a in layout.arcs]
    series = [n for n in layout.logs if layout.circuit.parameter(n).kind == "R" and n not in arc_resistors]
    elements = [n for n in layout.logs if layout.circuit.parameter(n).kind == "tau"]
    series_cpes = [n for n in layout.logs if layout.circuit.parameter(n).kind == "Q"]
    patterns = [np.arange(1, k + 1) / (k + 1), (np.arange(k) + 0.5) / max(k, 1),
                np.arange(1, k + 1) / (k + 1) * 0.6, 0.4 + np.arange(1, k + 1) / (k + 1) * 0.6]
    if k:
        patterns.append(np.r_[-0.3, np.arange(1, k) / k])  # the first arc above the window
    weights = np.geomspace(1, 4, k) if k else np.ones(0)
    splits = [np.full(k, 1.0 / max(k, 1)), weights / weights.sum()]
    element_places = (0.5, 0.85, 0.15)
    in_arc = {a[2] for a in layout.arcs}
    combinations = list(itertools.product(patterns, splits)) if k else [(np.zeros(0), np.zeros(0))] * (
        len(element_places) if elements else 1)
    for index, (fractions, split) in enumerate(combinations):
        logs = {}
        for name in layout.logs:
            kind = layout.circuit.parameter(name).kind
            if name in arc_resistors:
                logs[name] = np.log(scales.resistance * split[arc_resistors.index(name)])
            elif kind == "R":
                logs[name] = np.log(scales.high / max(len(series), 1))
            elif kind == "tau":
                logs[name] = lo + element_places[(index + elements.index(name)) % len(element_places)] * (hi - lo)
            elif kind == "L" and log_inductance is not None and math.isfinite(log_inductance):
                # by turns 30 times larger: where the top of the sweep is still capacitive, Z''/omega
                # there underestimates the leads' inductance
                logs[name] = log_inductance + (0.0 if index % 2 == 0 else math.log(30.0))
            else:
                logs[name] = scales.log_centre(kind)
        log_tau = np.sort(lo + fractions * (hi - lo)) + np.arange(k) * 1e-3
        # a CPE in series (a blocking or diffusion tail) starts by turns at n = 0.85 and where the
        # low-frequency end puts it (n from its slope, Q from its Z''; n = 0.5 where that end is not
        # capacitive), the arcs' CPEs at 0.85
        n_tail = 0.85
        if (index // 2) % 2 == 1:
            n_tail = 0.5 if tail is None else tail[0]
            if tail is not None:
                logs.update((name, tail[1]) for name in series_cpes)
        yield layout.pack(logs, list(log_tau), {n: 0.85 if n in in_arc else n_tail for n in layout.exponents})
