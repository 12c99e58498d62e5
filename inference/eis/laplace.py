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
2. **Proposal.**  A multivariate Student t (``DOF`` degrees of freedom) centred at the mode with
   the inverse of that curvature as its scale: the Laplace approximation with heavier tails, so
   that the importance ratios stay bounded where the posterior's tails are a little heavier
   than normal.
3. **Importance sampling.**  The log ratios ln p - ln q of the proposals are Pareto smoothed
   (Vehtari, Simpson, Gelman, Yao and Gabry, "Pareto smoothed importance sampling", JMLR 25
   (2024) 1-58): the largest ones are replaced by the quantiles of a generalised Pareto
   distribution fitted to them (the estimator of Zhang and Stephens, Technometrics 51 (2009)
   316-325, with Vehtari's weak prior on the shape).  The fitted shape k-hat says whether the
   ratios have the finite variance the estimate needs: below 0.7 they do.
4. **Acceptance.**  The draws are accepted when k-hat is below :data:`K_HAT_LIMIT` and the
   effective sample size 1 / sum w^2 of the smoothed, normalised weights is at least
   :data:`~nassb.inference.diagnostics.ESS_LIMIT`; they are then resampled (systematic
   resampling) to equally weighted draws.  Otherwise the spectrum goes to NUTS.

A well-determined spectrum's posterior is nearly normal in these coordinates (logarithms and
logits), k-hat is small and the whole posterior costs less than the least-squares fit.  An arc
outside the window makes a curved ridge, the t proposal misses it, k-hat exceeds the limit and
NUTS takes over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..diagnostics import ESS_LIMIT
from .coordinates import Layout, Scales
from .leastsq import Residuals
from .spectrum import Spectrum

NOISE_SCALE = 0.05   # HalfNormal scale of the relative noise, as the NUTS model's
K_HAT_LIMIT = 0.7    # Pareto k-hat above which importance sampling is not trusted (Vehtari et al. 2024)
DOF = 8              # degrees of freedom of the Student t proposal
MAX_ROUNDS = 5       # proposals at most: the Laplace approximation, then each moved to the weighted moments
MIN_EFFICIENCY = 0.1  # ESS below this share of the proposals: the proposals miss the posterior's shape
ROUND_SHARE = 0.5     # proposals per round, as a share of the draws kept
TARGET_SHARE = 0.25   # adaptation stops once the ESS reaches this share of the draws kept (and k-hat is good)
MAX_NEWTON = 40
_PRIOR_STEP = 1e-4   # finite-difference step of the prior's gradient and curvature


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
    ln p rises, with damping where the curvature is not negative definite."""
    x = np.r_[theta0, post.profile_eta(theta0)]
    value, grad, hess = post.derivatives(x)
    converged = False
    for _ in range(MAX_NEWTON):
        precision = _positive_definite(-hess)
        step = np.linalg.solve(precision, grad)
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
        Pareto shape of the importance ratios' upper tail.
    ess : float
        Effective sample size of the smoothed weights, 1 / sum w^2.
    proposals : int
        Draws from the proposals, over all rounds.
    rounds : int
        Proposals used: the Laplace approximation, then each one moved to the weighted moments.
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
        return f"Laplace + PSIS (k-hat {self.k_hat:.2f}, ESS {self.ess:.0f})"

    @property
    def verdict(self) -> str:
        """Why the draws were accepted or refused, in words."""
        what = (f"importance sampling from the Laplace approximation, {self.proposals} proposals in "
                f"{self.rounds} round{'s' * (self.rounds != 1)}: Pareto k-hat {self.k_hat:.2f}, ESS {self.ess:.0f}")
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


def importance_sample(post: LogPosterior, mode: Mode, draws: int, rng: np.random.Generator) -> ImportanceDraws:
    """Adaptive importance sampling of ``post``; ``draws`` equally weighted draws.

    Round 1 draws ``ROUND_SHARE * draws`` proposals from the Student t at ``mode``.  While k-hat
    is at or above :data:`K_HAT_LIMIT` or the ESS below ``TARGET_SHARE * draws``, a further round
    draws as many from a t at the weighted mean and covariance so far, up to
    :data:`MAX_ROUNDS`; every proposal is then weighted against the equal mixture of the rounds'
    t distributions (deterministic mixture weights, which keep every round's draws valid).
    """
    d = post.size
    draws = int(draws)
    count = max(int(ROUND_SHARE * draws), 2 * ESS_LIMIT)
    target = max(TARGET_SHARE * draws, ESS_LIMIT)
    mean, covariance = mode.x, np.linalg.inv(mode.precision)
    components: list[tuple[np.ndarray, np.ndarray]] = []
    x = np.empty((0, d))
    log_p = np.empty(0)
    log_q: list[np.ndarray] = []
    k_hat, ess, weights = math.inf, 0.0, np.empty(0)
    for _ in range(MAX_ROUNDS):
        factor = np.linalg.cholesky(_positive_definite(covariance))
        new = _t_draws(mean, factor, count, rng)
        for i, (m, f) in enumerate(components):
            log_q[i] = np.r_[log_q[i], _t_log_density(new, m, f)]
        components.append((mean, factor))
        x = np.concatenate([x, new])
        log_p = np.r_[log_p, post(new) - mode.log_density]
        log_q.append(_t_log_density(x, mean, factor))
        mixture = np.logaddexp.reduce(np.stack(log_q), axis=0) - math.log(len(components))
        log_weights, k_hat = psis(log_p - mixture)
        weights = np.exp(log_weights)
        ess = float(1.0 / np.sum(weights ** 2))
        if k_hat < K_HAT_LIMIT and ess >= target or ess < 2 * d:
            break
        mean = weights @ x
        centred = x - mean
        covariance = centred.T @ (centred * weights[:, None])
    accepted = bool(k_hat < K_HAT_LIMIT and ess >= ESS_LIMIT and ess >= MIN_EFFICIENCY * x.shape[0])
    chosen = x[_systematic(weights, draws, rng)] if np.isfinite(weights).all() and weights.sum() > 0 else x[:draws]
    return ImportanceDraws(chosen[:, :-1], np.exp(chosen[:, -1]), float(k_hat), ess, int(x.shape[0]),
                           len(components), accepted)


def _t_draws(mean: np.ndarray, factor: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    z = rng.standard_normal((count, mean.size))
    chi2 = rng.chisquare(DOF, size=count)
    return mean + (z @ factor.T) / np.sqrt(chi2 / DOF)[:, None]


def _t_log_density(x: np.ndarray, mean: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """ln of the Student t density (``DOF``, location ``mean``, scale ``factor factor^T``) up to
    a constant common to every t of this dimension."""
    z = np.linalg.solve(factor, (x - mean).T).T
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
    grid = 1.0 / x[-1] + (1.0 - np.sqrt(m / (np.arange(1, m + 1) - 0.5))) / (3.0 * quartile)
    with np.errstate(all="ignore"):
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


def gpd_quantile(p: np.ndarray, k: float, sigma: float) -> np.ndarray:
    """Quantiles of a generalised Pareto distribution (shape k, scale sigma) at ``p``."""
    if abs(k) < 1e-12:
        return -sigma * np.log1p(-p)
    return sigma * np.expm1(-k * np.log1p(-p)) / k
