"""A Bayesian distribution of relaxation times (DRT), in closed form.

The model of one spectrum, linear in its unknowns (R_inf, L, gamma)::

    Z(w) = R_inf + j w L + integral gamma(ln tau) / (1 + j w tau) d ln tau

discretised on a grid of ln tau (:data:`POINTS_PER_DECADE` points a decade, reaching
:data:`EXTEND_DECADES` beyond 1/(2 pi f) of the highest and lowest measured frequency), the
integral a sum of gamma_k Delta / (1 + j w tau_k).  The residuals are relative, (Z_model - Z)/|Z|
on the real and imaginary parts, with a noise sd sigma (a fraction of |Z|) as in ``fit eis``.

The prior on gamma is Gaussian and smooth: gamma ~ N(0, sigma^2 / lambda P^-1) with
P = D2^T D2 + kappa I (D2 the second difference along ln tau, and a ridge kappa that keeps gamma
near 0 where the data say nothing).  R_inf and L have flat priors, sigma^2 a Jeffreys prior, and
log lambda and log kappa flat priors over :data:`LOG10_LAMBDA` and :data:`LOG10_KAPPA`.  Given
(lambda, kappa) everything is conjugate: the evidence p(y | lambda, kappa) is closed form, and
for each kappa one eigendecomposition gives it for every lambda at once.  The posterior of
(lambda, kappa) on that grid is exact (the regularisation is learned, not set by hand), sigma^2
given them is inverse-gamma, and (R_inf, L, gamma) given all three is Gaussian; the draws are
exact draws from this hierarchy.

Non-negativity is an assumption made after the fact: the Gaussian posterior ignores gamma >= 0.
For the curve and its band each draw is projected onto gamma >= 0 (its negative part set to 0),
and the curve is the projected posterior median, max(mean, 0).  Resistances (areas of gamma)
and predicted impedances use the draws as sampled, linear functions of the Gaussian posterior:
projecting would add the positive half of the noise of every grid point the data leave open.

The peaks and the circuit they suggest are read in :mod:`.drt_peaks`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..threads import one_blas_thread
from ...priors import DataError
from .spectrum import Spectrum

POINTS_PER_DECADE = 10
EXTEND_DECADES = 1.0
LOG10_KAPPA = np.arange(-5.0, 1.5, 1.0)     # the ridge beside the second difference (grid units)
LOG10_LAMBDA = np.linspace(-9.0, 5.0, 141)  # the grid of the regularisation strength
DRAWS = 2000


@dataclass(frozen=True)
class Posterior:
    """The DRT posterior of one spectrum (in the spectrum's units, ohm or ohm*cm^2).

    Attributes
    ----------
    tau : ndarray
        s, the grid of relaxation times (ascending).
    gamma_mean : ndarray
        Posterior mean of gamma at each tau (ohm per unit ln tau), before projection.
    gamma : ndarray
        Draws of gamma, shape (draws, tau), as sampled (not projected).
    r_inf, inductance, noise, log10_lambda, log10_kappa : ndarray
        Draws of R_inf (ohm), L (H), sigma (fraction of |Z|), log10 lambda and log10 kappa.
    nuisance_mean : ndarray
        Posterior mean of (R_inf, L) (ohm, H), exact (the draws' mean carries Monte Carlo error).
    evidence : ndarray
        Posterior probability of each lambda of :data:`LOG10_LAMBDA`.
    """

    tau: np.ndarray
    gamma_mean: np.ndarray
    gamma: np.ndarray
    r_inf: np.ndarray
    inductance: np.ndarray
    noise: np.ndarray
    log10_lambda: np.ndarray
    log10_kappa: np.ndarray
    evidence: np.ndarray
    nuisance_mean: np.ndarray

    @property
    def step(self) -> float:
        """Delta ln tau of the grid."""
        return float(np.log(self.tau[1] / self.tau[0]))

    @property
    def projected(self) -> np.ndarray:
        """Draws of gamma projected onto gamma >= 0."""
        return np.maximum(self.gamma, 0.0)

    @property
    def curve(self) -> np.ndarray:
        """The projected posterior median, max(mean, 0)."""
        return np.maximum(self.gamma_mean, 0.0)

    def impedance(self, frequency, draws: np.ndarray | None = None) -> np.ndarray:
        """Z of the draws (all, or the indices ``draws``) at ``frequency`` (Hz): (draws, frequencies)."""
        pick = np.arange(self.gamma.shape[0]) if draws is None else np.asarray(draws)
        omega = 2 * np.pi * np.atleast_1d(np.asarray(frequency, dtype=float))
        kernel = self.step / (1 + 1j * np.outer(omega, self.tau))
        return (self.r_inf[pick, None] + 1j * omega[None, :] * self.inductance[pick, None]
                + self.gamma[pick] @ kernel.T)

    def mean_impedance(self, frequency) -> np.ndarray:
        """Z of the posterior mean at ``frequency`` (Hz)."""
        omega = 2 * np.pi * np.atleast_1d(np.asarray(frequency, dtype=float))
        kernel = self.step / (1 + 1j * np.outer(omega, self.tau))
        return float(self.nuisance_mean[0]) + 1j * omega * float(self.nuisance_mean[1]) + kernel @ self.gamma_mean


def tau_grid(frequency: np.ndarray, points_per_decade: int = POINTS_PER_DECADE,
             extend: float = EXTEND_DECADES) -> np.ndarray:
    """s: log-spaced relaxation times covering 1/(2 pi f) of the data and ``extend`` decades beyond."""
    low = math.log10(1 / (2 * math.pi * float(np.max(frequency)))) - extend
    high = math.log10(1 / (2 * math.pi * float(np.min(frequency)))) + extend
    count = round((high - low) * points_per_decade) + 1
    return np.logspace(low, high, count)


def _design(spectrum: Spectrum, tau: np.ndarray):
    """The relative system y = A x: rows Re then Im, each divided by |Z|; columns R_inf, L, gamma,
    in scaled units (R_inf and gamma by the largest |Z|, L by that over the highest w)."""
    omega = spectrum.omega
    modulus = np.abs(spectrum.z)
    step = float(np.log(tau[1] / tau[0]))
    kernel = step / (1 + 1j * np.outer(omega, tau))
    scale_r = float(modulus.max())
    scale_l = scale_r / float(omega.max())
    nuisance = np.vstack([np.r_[np.ones_like(omega), np.zeros_like(omega)],
                          np.r_[np.zeros_like(omega), omega * scale_l / scale_r]]).T
    gamma = np.vstack([kernel.real, kernel.imag])
    weight = np.r_[modulus, modulus]
    y = np.r_[spectrum.z.real, spectrum.z.imag] / weight
    return (nuisance * scale_r / weight[:, None], gamma * scale_r / weight[:, None], y, scale_r, scale_l)


def _precision(count: int, kappa: float) -> np.ndarray:
    """P = D2^T D2 + kappa I on a grid of ``count`` points."""
    second = np.diff(np.eye(count), 2, axis=0)
    return second.T @ second + kappa * np.eye(count)


@dataclass(frozen=True)
class _Basis:
    """For one kappa: P = L L^T, and the eigendecomposition U diag(mu) U^T of L^-1 B L^-T with
    B = A^T Q A (Q projects out R_inf and L); c = U^T L^-1 A^T Q y."""

    chol: np.ndarray
    u: np.ndarray
    mu: np.ndarray
    c: np.ndarray

    @classmethod
    def of(cls, design_q: np.ndarray, y_q: np.ndarray, kappa: float) -> _Basis:
        count = design_q.shape[1]
        chol = np.linalg.cholesky(_precision(count, kappa))
        whiten = np.linalg.solve(chol, design_q.T).T
        mu, u = np.linalg.eigh(whiten.T @ whiten)
        return cls(chol, u, np.maximum(mu, 0.0), u.T @ (whiten.T @ y_q))

    def gamma(self, white: np.ndarray) -> np.ndarray:
        """gamma = L^-T U white, for rows of ``white``."""
        return np.linalg.solve(self.chol.T, self.u @ white.T).T


def solve(spectrum: Spectrum, *, draws: int = DRAWS, seed: int = 0,
          points_per_decade: int = POINTS_PER_DECADE) -> Posterior:
    """The DRT posterior of ``spectrum`` (see the module docstring); ``draws`` exact draws.

    The matrices are small (a hundred columns): BLAS runs them on one thread, which is faster
    than several on a busy machine.
    """
    with one_blas_thread():
        return _solve(spectrum, draws, seed, points_per_decade)


def _solve(spectrum: Spectrum, draws: int, seed: int, points_per_decade: int) -> Posterior:
    if len(spectrum) < 5:
        raise DataError(f"{spectrum.name}: {len(spectrum)} frequencies are too few for a DRT", file=spectrum.source)
    if np.any(np.abs(spectrum.z) == 0):
        raise DataError(f"{spectrum.name}: |Z| = 0 at {spectrum.frequency[np.argmax(np.abs(spectrum.z) == 0)]:g} Hz; "
                        "the residuals are relative to |Z|", file=spectrum.source)
    tau = tau_grid(spectrum.frequency, points_per_decade)
    nuisance, design, y, scale_r, scale_l = _design(spectrum, tau)
    rows, count = design.shape
    dof = rows - nuisance.shape[1]
    nq, _ = np.linalg.qr(nuisance)  # project out the flat-prior nuisance columns (R_inf, L)
    design_q = design - nq @ (nq.T @ design)
    y_q = y - nq @ (nq.T @ y)
    bases = [_Basis.of(design_q, y_q, kappa) for kappa in 10.0 ** LOG10_KAPPA]
    lambdas = 10.0 ** LOG10_LAMBDA
    denominators = np.array([b.mu[None, :] + lambdas[:, None] for b in bases])   # (kappa, lambda, tau)
    fit = float(y_q @ y_q) - np.sum(np.array([b.c ** 2 for b in bases])[:, None, :] / denominators, axis=2)
    fit = np.maximum(fit, 1e-300)
    log_evidence = (0.5 * count * np.log(lambdas)[None, :] - 0.5 * np.sum(np.log(denominators), axis=2)
                    - 0.5 * dof * np.log(fit))
    weights = np.exp(log_evidence - log_evidence.max())
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    which = rng.choice(weights.size, size=draws, p=weights.ravel())
    ik, il = np.unravel_index(which, weights.shape)
    sigma2 = fit[ik, il] / (2.0 * rng.gamma(0.5 * dof, 1.0, size=draws))
    gamma = np.empty((draws, count))
    gamma_mean = np.zeros(count)
    for k, basis in enumerate(bases):
        gamma_mean += basis.gamma(np.sum(weights[k][:, None] * basis.c[None, :] / denominators[k], axis=0)[None])[0]
        rows_k = np.flatnonzero(ik == k)
        if rows_k.size:
            den = denominators[k, il[rows_k]]
            white = (basis.c[None, :] + np.sqrt(sigma2[rows_k] / den.T).T * den
                     * rng.standard_normal((rows_k.size, count))) / den
            gamma[rows_k] = basis.gamma(white)
    # R_inf and L given gamma: least squares of the rest, with the draw's noise
    gram = nuisance.T @ nuisance
    rest = y[None, :] - gamma @ design.T
    nuisance_draws = np.linalg.solve(gram, nuisance.T @ rest.T).T + np.sqrt(sigma2)[:, None] * (
        rng.standard_normal((draws, 2)) @ np.linalg.cholesky(np.linalg.inv(gram)).T)
    exact = np.linalg.solve(gram, nuisance.T @ (y - design @ gamma_mean)) * np.array([scale_r, scale_l])
    return Posterior(tau=tau, gamma_mean=gamma_mean * scale_r, gamma=gamma * scale_r, nuisance_mean=exact,
                     r_inf=nuisance_draws[:, 0] * scale_r, inductance=nuisance_draws[:, 1] * scale_l,
                     noise=np.sqrt(sigma2), log10_lambda=LOG10_LAMBDA[il], log10_kappa=LOG10_KAPPA[ik],
                     evidence=weights)
