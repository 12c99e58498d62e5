"""A spectrum's posterior without a sampler: a Laplace approximation at the posterior mode,
corrected by Pareto-smoothed importance sampling (PSIS), accepted only where its diagnostics say
it is good.

The posterior is the one the NUTS model states (nassb.inference.eis.model), written in numpy:
over x = (theta, ln eps), with theta the fit's coordinates (nassb.inference.eis.coordinates) and
eps the relative noise,

    ln p(x | Z) = ln p(theta) + ln HalfNormal(eps; 0.05) + ln eps
                  - 2N ln eps - sum_i r_i(theta)^2 / (2 eps^2) + const,

r the 2N relative residuals (Z_model - Z) / |Z| on the real and imaginary parts.  Evaluated for
thousands of draws in one vectorised pass over the frequencies, it costs milliseconds.

1. **Mode.**  Newton steps from the least-squares start, with the Gauss-Newton curvature of the
   likelihood and the exact (finite-difference) curvature of the prior, each step halved until
   the log density rises.
2. **Laplace proposal.**  A multivariate Student t (``DOF`` degrees of freedom) centred at the
   mode with the inverse of that curvature as its scale: the Laplace approximation with heavier
   tails.
3. **Importance sampling.**  The log ratios ln p - ln q of the proposals are Pareto smoothed
   (Vehtari, Simpson, Gelman, Yao and Gabry, "Pareto smoothed importance sampling", JMLR 25
   (2024) 1-58): the largest ones are replaced by the quantiles of a generalised Pareto
   distribution fitted to them (the estimator of Zhang and Stephens, Technometrics 51 (2009)
   316-325, with Vehtari's weak prior on the shape).  The fitted shape k-hat says how heavy the
   ratios' tail is: below 0.5 their variance is finite, below 0.7 the estimate is still
   reliable, above it not.
4. **Adaptation where the Laplace proposal is not good enough.**  A well-determined spectrum's
   posterior is nearly normal in these coordinates (logarithms and logits): k-hat stays below
   :data:`FAST_K_HAT` (near 0 for the paper's Fig. 5 spectra) and the Laplace proposal's draws
   are kept.  Circuits with several
   overlapping CPE arcs (the paper's Fig. 7 cell) have posteriors with skewed, curved tails that
   one t centred at the mode under-samples: k-hat 0.5-0.7 and intervals a few per cent too
   narrow.  There the proposal becomes a mixture of :data:`COMPONENTS` t distributions adapted
   to the posterior by population Monte Carlo (Cappé, Douc, Guillin, Marin and Robert, "Adaptive
   importance sampling in general mixture classes", Statistics and Computing 18 (2008) 447-459):
   each round's weighted draws re-estimate the components' weights, means and scales (the
   weighted covariance as each t's scale, slightly wider than the t's covariance, on purpose),
   and a final round from the adapted mixture gives the draws, k-hat and ESS.
5. **Acceptance.**  The final draws are accepted when k-hat is below :data:`K_HAT_LIMIT`, the
   effective sample size 1 / sum w^2 of the smoothed, normalised weights is at least
   :data:`~nassb.inference.diagnostics.ESS_LIMIT` and at least :data:`MIN_EFFICIENCY` of the
   proposals; they are then resampled (systematic resampling) to equally weighted draws.
   Otherwise the fit goes on to tempered SMC (nassb.inference.eis.smc).

An arc outside the window makes a long curved ridge that no mixture of a few t's follows in the
fitted coordinates: k-hat exceeds the limit (or the ESS collapses), or, worse, the mixture never
reaches the ridge's far end and k-hat cannot tell.  The fit (nassb.inference.eis.fit) therefore
runs this stage in coordinates in which that ridge is not bent where the circuit has a CPE arc
or a series resistance beside an arc (nassb.inference.eis.sheet); the functions here take any
callable ln p.

Limits.  k-hat judges the ratios of the draws made; a tail the proposals never reach leaves no
trace in them.  On two spectra of the paper's Fig. 7 cell the adapted mixture's sds are within
1 % of a long NUTS run's on average (its 95 % intervals within 1 % of their width), where one t
at the mode gave sds up to 11 % too small at k-hat 0.6; on a strongly curved test posterior
(x2 | x1 ~ N(1.5 (x1^2 - 1), 1)) it still returns a variance of x2 some 15-20 % low with k-hat
below 0.7.  The bench records the coverage of the intervals on synthetic
spectra with known truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from ..diagnostics import ESS_LIMIT
from ..statistics import gpd_fit
from .coordinates import TAU_MARGIN_DECADES, Layout, Scales
from .leastsq import Residuals
from .spectrum import Spectrum

NOISE_SCALE = 0.05   # HalfNormal scale of the relative noise, as the NUTS model's
K_HAT_LIMIT = 0.7    # Pareto k-hat above which importance sampling is not trusted (Vehtari et al. 2024)
FAST_K_HAT = 0.3     # the Laplace proposal alone is kept below this k-hat: the posterior is nearly its shape
DOF = 8              # degrees of freedom of the Student t proposals
COMPONENTS = 8       # t distributions in the adapted mixture
ADAPT_ROUNDS = 8     # population Monte Carlo rounds
MIN_EFFICIENCY = 0.1  # ESS below this share of the proposals: the proposals miss the posterior's shape
ROUND_SHARE = 0.5     # proposals of the Laplace round and of each adaptation round, as a share of the draws kept
TARGET_SHARE = 0.25   # the Laplace round is kept when its ESS reaches this share of the draws kept
MAX_NEWTON = 40
MAX_NEWTON_INSIDE = 400  # steps of the searches started within the assumed range (a ridge is crawled along)
STALLED = 1e-4           # ... which stop where ln p rose less than this over their last 10 steps
_PRIOR_STEP = 1e-4   # finite-difference step of the prior's gradient and curvature

# A mixture of t distributions: (weight, mean, lower Cholesky factor of the scale) per component,
# the weights summing to 1.
Mixture = list[tuple[float, np.ndarray, np.ndarray]]


class LogPosterior:
    """ln p(theta, ln eps | Z) of one spectrum, up to a constant, for arrays of points."""

    def __init__(self, spectrum: Spectrum, layout: Layout, scales: Scales | None = None):
        scales = scales or Scales.of(spectrum)
        self.layout = layout
        self.residuals = Residuals(spectrum, layout)
        self.centres, self.window = layout.prior_constants([scales])
        self.size = len(layout.coordinates) + 1
        self.points = self.residuals.target.size

    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        """ln p(theta) (with the Jacobian of the coordinates), theta of shape (..., d)."""
        return np.asarray(self.layout.log_prior(theta, self.centres, self.window))

    def _noise_terms(self, eta, ssr):
        eps2 = np.exp(2.0 * eta)
        return -eps2 / (2.0 * NOISE_SCALE ** 2) + (1.0 - self.points) * eta - ssr / (2.0 * eps2)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """ln p at points ``x`` of shape (..., d + 1); -inf where the circuit is not finite."""
        x = np.asarray(x, dtype=float)
        theta, eta = x[..., :-1], x[..., -1]
        with np.errstate(all="ignore"):
            r = self.residuals.residuals(theta)
            ssr = np.sum(r * r, axis=-1)
            out = self.log_prior(theta) + self._noise_terms(eta, ssr)
        return np.where(np.isfinite(out), out, -np.inf)

    def derivatives(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """ln p, its gradient and its curvature (Gauss-Newton for the likelihood, exact for the
        prior and the noise) at one point ``x``."""
        theta, eta = x[:-1], float(x[-1])
        d = theta.size
        r = self.residuals.residuals(theta)
        jac = self.residuals.jacobian(theta)
        ssr = float(r @ r)
        inv = math.exp(-2.0 * eta)
        prior, g_prior, h_prior = self._prior_derivatives(theta)
        value = prior + float(self._noise_terms(eta, ssr))
        jr = jac.T @ r
        grad = np.empty(d + 1)
        grad[:d] = g_prior - jr * inv
        grad[d] = -math.exp(2.0 * eta) / NOISE_SCALE ** 2 + 1.0 - self.points + ssr * inv
        hess = np.empty((d + 1, d + 1))
        hess[:d, :d] = h_prior - jac.T @ jac * inv
        hess[:d, d] = hess[d, :d] = 2.0 * jr * inv
        hess[d, d] = -2.0 * math.exp(2.0 * eta) / NOISE_SCALE ** 2 - 2.0 * ssr * inv
        return value, grad, hess

    def _prior_derivatives(self, theta):
        """ln p(theta), gradient and Hessian by central differences (one vectorised call)."""
        d, h = theta.size, _PRIOR_STEP
        eye = np.eye(d) * h
        pp = theta + eye[:, None, :] + eye[None, :, :]
        pm = theta + eye[:, None, :] - eye[None, :, :]
        mp = theta - eye[:, None, :] + eye[None, :, :]
        mm = theta - eye[:, None, :] - eye[None, :, :]
        points = np.concatenate([theta[None, :], theta + eye, theta - eye, pp.reshape(-1, d), pm.reshape(-1, d),
                                 mp.reshape(-1, d), mm.reshape(-1, d)])
        values = self.log_prior(points)
        centre, plus, minus = values[0], values[1:d + 1], values[d + 1:2 * d + 1]
        rest = values[2 * d + 1:].reshape(4, d, d)
        grad = (plus - minus) / (2 * h)
        hess = (rest[0] - rest[1] - rest[2] + rest[3]) / (4 * h * h)
        return float(centre), grad, 0.5 * (hess + hess.T)

    def profile_eta(self, theta: np.ndarray) -> float:
        """The ln eps that maximises ln p at ``theta`` (a quadratic in eps^2)."""
        r = self.residuals.residuals(theta)
        ssr = float(r @ r)
        a = 1.0 / NOISE_SCALE ** 2
        b = self.points - 1.0
        eps2 = (-b + math.sqrt(b * b + 4.0 * a * ssr)) / (2.0 * a)
        return 0.5 * math.log(max(eps2, 1e-300))


@dataclass(frozen=True)
class Mode:
    """The posterior mode and the curvature there."""

    x: np.ndarray            # (theta, ln eps)
    precision: np.ndarray    # -Hessian, positive definite
    log_density: float
    converged: bool


def find_mode(post: LogPosterior, theta0: np.ndarray) -> Mode:
    """Newton steps on ln p from ``theta0`` (the noise at its profile optimum), each halved until
    ln p rises, with damping where the curvature is not negative definite.

    Where ``theta0`` puts an arc beyond the assumed range of time constants
    (nassb.inference.eis.coordinates), a second search starts from the same point with every arc
    outside the range brought to its edge, and a third with every arc outside the measured window
    brought to the window's edge: each
    first with the arcs' time constants held there (the other coordinates follow them along the
    ridge), then free, with up to :data:`MAX_NEWTON_INSIDE` steps.  The highest of the modes is
    returned.  From the least-squares point alone, the prior's steep walls stalled the steps far
    from the mode on 22 of yadg's vsp_peis_with's 32 spectra (ln p up to 1100 below it)."""
    x = np.r_[theta0, post.profile_eta(theta0)]
    best = _newton(post, x)
    for margin in (TAU_MARGIN_DECADES, 0.0):  # at the assumed range's edge, and at the window's
        inside = post.layout.within_bounds(theta0, post.window[0], margin)
        if inside is None:
            break
        held = _newton(post, np.r_[inside, post.profile_eta(inside)], post.layout.tau_indices(), MAX_NEWTON_INSIDE)
        moved = _newton(post, held.x, steps=MAX_NEWTON_INSIDE)
        if moved.log_density > best.log_density:
            best = moved
    return best


def _newton(post: LogPosterior, x: np.ndarray, held: np.ndarray | None = None, steps: int = MAX_NEWTON) -> Mode:
    """At most ``steps`` Newton steps from ``x``, the coordinates ``held`` (indices) kept where
    they are; more than :data:`MAX_NEWTON` of them stop where ln p has stalled."""
    free = np.setdiff1d(np.arange(x.size), held if held is not None else [])
    value, grad, hess = post.derivatives(x)
    converged = False
    history = [value]
    for _ in range(steps):
        if len(history) > max(MAX_NEWTON, 10) and history[-1] - history[-11] < STALLED:
            break
        precision = _positive_definite(-hess[np.ix_(free, free)])
        step = np.zeros_like(x)
        step[free] = np.linalg.solve(precision, grad[free])
        decrement = float(grad @ step)
        if decrement < 1e-8:
            converged = True
            break
        for _ in range(30):
            trial = x + step
            trial_value = float(post(trial[None, :])[0])
            if trial_value > value - 1e-10:
                break
            step = 0.5 * step
        else:
            break
        x = trial
        value, grad, hess = post.derivatives(x)
        history.append(value)
    precision = _positive_definite(-hess)
    return Mode(x, precision, float(value), converged)


def _positive_definite(matrix: np.ndarray) -> np.ndarray:
    """The matrix itself, or with a ridge added until a Cholesky factor exists."""
    matrix = 0.5 * (matrix + matrix.T)
    scale = float(np.max(np.abs(np.diag(matrix)))) or 1.0
    for ridge in (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0):
        candidate = matrix + ridge * scale * np.eye(len(matrix))
        try:
            np.linalg.cholesky(candidate)
            return candidate
        except np.linalg.LinAlgError:
            continue
    return np.diag(np.abs(np.diag(matrix)) + scale)


@dataclass(frozen=True)
class ImportanceDraws:
    """The outcome of :func:`importance_sample`.

    Attributes
    ----------
    theta : ndarray
        (draws, d) equally weighted posterior draws of the coordinates (resampled).
    noise : ndarray
        (draws,) relative noise eps.
    k_hat : float
        Pareto shape of the final round's importance ratios' upper tail.
    ess : float
        Effective sample size of its smoothed weights, 1 / sum w^2.
    proposals : int
        Draws of the final round (the ones weighted and resampled).
    rounds : int
        Rounds drawn: 1 when the Laplace proposal was kept, else the Laplace round, the
        adaptation rounds and the final one.
    accepted : bool
        k-hat below :data:`K_HAT_LIMIT`, ESS at least ESS_LIMIT and at least
        :data:`MIN_EFFICIENCY` of the proposals.
    """

    theta: np.ndarray
    noise: np.ndarray
    k_hat: float
    ess: float
    proposals: int
    rounds: int
    accepted: bool

    @property
    def method(self) -> str:
        """``Laplace + PSIS (k-hat 0.05, ESS 1400)``, or with an adapted mixture
        ``Laplace + mixture + PSIS (...)``."""
        how = "Laplace + PSIS" if self.rounds == 1 else "Laplace + mixture + PSIS"
        return f"{how} (k-hat {self.k_hat:.2f}, ESS {self.ess:.0f})"

    @property
    def verdict(self) -> str:
        """How the draws were made, and why they were accepted or refused, in words."""
        how = ("importance sampling from the Laplace approximation" if self.rounds == 1 else
               f"importance sampling from a mixture of {COMPONENTS} t distributions adapted in {self.rounds - 2} "
               "rounds from the Laplace approximation")
        what = f"{how}, {self.proposals} proposals: Pareto k-hat {self.k_hat:.2f}, ESS {self.ess:.0f}"
        if self.accepted:
            return what
        reasons = []
        if not (self.k_hat < K_HAT_LIMIT):
            reasons.append(f"k-hat >= {K_HAT_LIMIT}")
        if self.ess < ESS_LIMIT:
            reasons.append(f"ESS < {ESS_LIMIT}")
        elif self.ess < MIN_EFFICIENCY * self.proposals:
            reasons.append(f"ESS below {MIN_EFFICIENCY:.0%} of the proposals")
        return f"{what} ({', '.join(reasons)}): not accepted"


@dataclass(frozen=True)
class _Round:
    x: np.ndarray
    weights: np.ndarray
    k_hat: float
    ess: float


def _weigh(post, mode: Mode, x: np.ndarray, log_q: np.ndarray) -> _Round:
    log_weights, k_hat = psis(post(x) - mode.log_density - log_q)
    weights = np.exp(log_weights)
    return _Round(x, weights, float(k_hat), float(1.0 / np.sum(weights ** 2)))


def importance_sample(post, mode: Mode, draws: int, rng: np.random.Generator) -> ImportanceDraws:
    """Importance sampling of ``post`` (a callable ln p of points (..., d)); ``draws`` equally
    weighted draws.

    Round 1 draws ``ROUND_SHARE * draws`` proposals from the Student t at ``mode``; they are kept
    when k-hat is below :data:`FAST_K_HAT` and the ESS at least ``TARGET_SHARE * draws``.
    Otherwise a mixture of :data:`COMPONENTS` t's (one at the mode, the others a half scale
    away in random directions) is adapted by population Monte Carlo in :data:`ADAPT_ROUNDS`
    rounds of as many proposals, and a final round of ``draws`` proposals from it is weighted
    and resampled.
    """
    d = post.size
    draws = int(draws)
    count = max(int(ROUND_SHARE * draws), 2 * ESS_LIMIT)
    factor = np.linalg.cholesky(np.linalg.inv(mode.precision))
    x = _t_draws(mode.x, factor, count, rng)
    first = _weigh(post, mode, x, _t_log_density(x, mode.x, factor))
    if first.k_hat < FAST_K_HAT and first.ess >= max(TARGET_SHARE * draws, ESS_LIMIT):
        return _finish(first, draws, 1, rng)
    if first.ess < 2 * d:  # nothing to adapt from: the mode is not where the posterior is
        return _finish(first, draws, 1, rng)
    means = [mode.x] + [mode.x + 0.5 * factor @ rng.standard_normal(d) for _ in range(COMPONENTS - 1)]
    mixture = [(1.0 / COMPONENTS, m, factor) for m in means]
    rounds, current = 1, first
    for _ in range(ADAPT_ROUNDS):
        mixture = _update(mixture, current)
        if not mixture:
            return _finish(first, draws, 1, rng)
        x = _mixture_draws(mixture, count, rng)
        current, rounds = _weigh(post, mode, x, _mixture_log_density(x, mixture)), rounds + 1
        if current.ess < 2 * d:
            return _finish(current, draws, rounds, rng)
    mixture = _update(mixture, current) or mixture
    x = _mixture_draws(mixture, max(draws, count), rng)
    return _finish(_weigh(post, mode, x, _mixture_log_density(x, mixture)), draws, rounds + 1, rng)


def _finish(last: _Round, draws: int, rounds: int, rng: np.random.Generator) -> ImportanceDraws:
    n = last.x.shape[0]
    accepted = bool(last.k_hat < K_HAT_LIMIT and last.ess >= ESS_LIMIT and last.ess >= MIN_EFFICIENCY * n)
    usable = np.all(np.isfinite(last.weights)) and last.weights.sum() > 0
    chosen = last.x[_systematic(last.weights, draws, rng)] if usable else last.x[np.arange(draws) % n]
    return ImportanceDraws(chosen[:, :-1], np.exp(chosen[:, -1]), last.k_hat, last.ess, n, rounds, accepted)


def _update(mixture: list, last: _Round) -> list:
    """One population Monte Carlo step: the components' weights, means and scales from the
    weighted draws, each draw shared among the components by its responsibility."""
    log_parts = np.stack([math.log(a) + _t_log_density(last.x, m, f) for a, m, f in mixture])
    responsibility = np.exp(log_parts - np.logaddexp.reduce(log_parts, axis=0))
    out = []
    for r in responsibility:
        w = last.weights * r
        share = float(w.sum())
        if not (math.isfinite(share) and share >= 0.02) or 1.0 / np.sum((w / share) ** 2) < 2 * last.x.shape[1]:
            continue  # a component that explains almost nothing (or NaN weights), or too few draws to estimate it
        mean = w @ last.x / share
        centred = last.x - mean
        covariance = centred.T @ (centred * w[:, None]) / share
        out.append((share, mean, np.linalg.cholesky(_positive_definite(covariance))))
    total = sum(a for a, _, _ in out)
    return [(a / total, m, f) for a, m, f in out]


def _mixture_draws(mixture: list, count: int, rng: np.random.Generator) -> np.ndarray:
    counts = rng.multinomial(count, [a for a, _, _ in mixture])
    parts = [_t_draws(m, f, n, rng) for (_, m, f), n in zip(mixture, counts) if n > 0]
    return rng.permutation(np.concatenate(parts))


def _mixture_log_density(x: np.ndarray, mixture: list) -> np.ndarray:
    return np.logaddexp.reduce(np.stack([math.log(a) + _t_log_density(x, m, f) for a, m, f in mixture]), axis=0)


def _t_draws(mean: np.ndarray, factor: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    z = rng.standard_normal((count, mean.size))
    chi2 = rng.chisquare(DOF, size=count)
    return mean + (z @ factor.T) / np.sqrt(chi2 / DOF)[:, None]


def _t_log_density(x: np.ndarray, mean: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """ln of the Student t density (``DOF``, location ``mean``, scale ``factor factor^T``) up to
    a constant common to every t of this dimension."""
    # the factor's inverse (d x d) times the points: a triangular solve with thousands of
    # right-hand sides goes to threaded BLAS, which on a loaded machine spends more than it saves
    inverse = solve_triangular(factor, np.eye(mean.size), lower=True, check_finite=False)
    z = (x - mean) @ inverse.T
    return -0.5 * (DOF + mean.size) * np.log1p(np.sum(z * z, axis=1) / DOF) - float(np.sum(np.log(np.diag(factor))))


def _systematic(weights: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``count`` draws by systematic resampling, in random order."""
    edges = np.cumsum(weights)
    edges[-1] = 1.0
    positions = (rng.random() + np.arange(count)) / count
    pick = np.searchsorted(edges, positions, side="right")
    return rng.permutation(np.minimum(pick, weights.size - 1))


# -- Pareto smoothing ---------------------------------------------------------------------------

def psis(log_ratios: np.ndarray) -> tuple[np.ndarray, float]:
    """Pareto-smoothed, normalised log weights and the tail shape k-hat.

    The largest M = min(S/5, 3 sqrt(S)) ratios are replaced by the expected order statistics of
    a generalised Pareto distribution fitted to their excess over the next largest ratio, capped
    at the largest raw ratio (Vehtari et al. 2024, section 3).  Ratios that are -inf (a draw
    where the circuit is not finite) get weight 0.
    """
    lw = np.asarray(log_ratios, dtype=float).copy()
    finite = np.isfinite(lw)
    if finite.sum() < 10:
        return np.full_like(lw, -np.inf) if not finite.any() else _normalise(lw), math.inf
    lw[~finite] = -np.inf
    lw -= lw[finite].max()
    n = int(finite.sum())
    tail = int(min(0.2 * n, 3.0 * math.sqrt(n)))
    k_hat = math.inf
    if tail >= 5:
        order = np.argsort(lw)
        top = order[-tail:]
        cutoff = lw[order[-tail - 1]]
        excess = np.exp(lw[top]) - math.exp(cutoff)
        if np.ptp(excess) > 0:
            k_hat, sigma = gpd_fit(excess)
            if math.isfinite(k_hat):
                p = (np.arange(1, tail + 1) - 0.5) / tail
                smoothed = math.exp(cutoff) + gpd_quantile(p, k_hat, sigma)
                lw[top] = np.minimum(np.log(smoothed), 0.0)
        else:
            k_hat = 0.0
    return _normalise(lw), float(k_hat)


def _normalise(lw: np.ndarray) -> np.ndarray:
    finite = np.isfinite(lw)
    top = lw[finite].max()
    return lw - (top + math.log(np.sum(np.exp(lw[finite] - top))))


def gpd_quantile(p: np.ndarray, k: float, sigma: float) -> np.ndarray:
    """Quantiles of a generalised Pareto distribution (shape k, scale sigma) at ``p``."""
    if abs(k) < 1e-12:
        return -sigma * np.log1p(-p)
    return sigma * np.expm1(-k * np.log1p(-p)) / k
