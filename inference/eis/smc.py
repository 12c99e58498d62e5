"""A spectrum's posterior where the Laplace approximation and its adapted mixture are refused:
tempered sequential Monte Carlo, checked by Pareto-smoothed importance sampling.

Curved ridges (an arc near the window's edge, an inductance against a series resistance) make
posteriors that one t distribution, or a few, centred near the mode do not cover: the importance
ratios' k-hat exceeds 0.7 (nassb.inference.eis.laplace).  Here a population of particles is
carried from the Laplace proposal q to the posterior p through the tempered densities

    pi_beta(x) proportional to q(x)^(1 - beta) p(x)^beta,    0 = beta_0 < beta_1 < ... < beta_T = 1,

each step chosen so that the effective sample size of the reweighted particles falls to half of
them (Del Moral, Doucet and Jasra, "Sequential Monte Carlo samplers", JRSS B 68 (2006) 411-436;
the adaptive steps of Jasra, Stephens, Doucet and Tsagaris, Scand. J. Stat. 38 (2011) 1-22).
After each step the particles are resampled and moved by random-walk Metropolis steps in the
coordinates whitened by the particles' own covariance (every coordinate is unconstrained:
logarithms and logits), the step size adapted to an acceptance rate near 0.3, and as many steps
made as give nine particles in ten eight accepted moves.  All populations are evaluated in one
vectorised pass of the density (milliseconds).  Where the populations disagree, a second attempt
has twice the particles and twice the moves (nassb.inference.eis.fit).

**Acceptance.**  :data:`POPULATIONS` populations are tempered independently.  Their draws are
accepted only when both hold: the populations agree (the rank-normalised R-hat across them, as
chains, below 1.01 on every coordinate and its tails, as PyMC's SMC reports it, and at least 400
distinct particles), and the check below passes.

**The check.**  Particles are exact only in the limit, and populations that all missed the same
part of the posterior agree with one another: on a long ridge (an arc above the window, R0
trading off against R1 down to R0 = 0) four populations gave ln R0 within [1.3, 1.9] at R-hat
1.009 on one run, where NUTS finds [-3.8, 2.2].  So a mixture of :data:`COMPONENTS` Student t's
fitted to the particles (expectation-maximisation), with the widened Laplace t as a defensive
component, becomes an importance-sampling proposal for the posterior itself, and a fresh round
of proposals from it is Pareto smoothed; it must give k-hat below 0.7, an ESS of at least 400
and a tenth of the proposals.  The reported draws are that round's, resampled ("SMC + PSIS").
Where either test fails the particles are returned, not accepted ("SMC", with the check's
k-hat), and the fit sends the spectrum on (to a second attempt, then NUTS) or fails its gate.
Like every importance-sampling check it cannot see a region that neither the particles nor the
Laplace t reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..diagnostics import ESS_LIMIT, RHAT_LIMIT
from .laplace import (K_HAT_LIMIT, MIN_EFFICIENCY, ImportanceDraws, Mode, _mixture_draws, _mixture_log_density,
                      _positive_definite, _Round, _systematic, _t_draws, _t_log_density, _update, psis)

POPULATIONS = 4         # independent populations, compared by R-hat
PARTICLES = 1000        # particles per population
COMPONENTS = 12         # t distributions of the checking proposal, fitted to the particles
EM_STEPS = 15           # expectation-maximisation steps of that fit
WIDENING = 1.2          # the fitted components' scales widened: a proposal should be wider than the density
DEFENSIVE = 0.2         # share of the Laplace t (widened) in the checking proposal: tails the particles miss
PROPOSAL_FACTOR = 2     # proposals of the check per draw kept
TARGET_ACCEPT = 0.3     # random-walk Metropolis acceptance rate aimed at
ACCEPTED_MOVES = 8      # accepted moves per particle (its tenth quantile) aimed at after each tempering step
MAX_MOVES = 80          # Metropolis steps per tempering step at most
MAX_STAGES = 60         # tempering steps at most
LAPLACE_WIDENING = 1.5  # the starting population is the Laplace t with its scale widened by this


@dataclass(frozen=True)
class SMCDraws(ImportanceDraws):
    """The outcome of :func:`smc_sample`: :class:`~nassb.inference.eis.laplace.ImportanceDraws`'s
    fields for the importance-sampling check (``k_hat``, ``ess``, ``proposals``), and the
    tempering's own: ``rhat`` (rank-normalised, across the independent populations), ``distinct``
    (distinct particles in all), ``stages`` and ``moves`` (per population, the most), and
    ``checked`` (the reported draws are the check's; else the particles themselves)."""

    rhat: float = math.inf
    distinct: int = 0
    stages: int = 0
    moves: int = 0
    checked: bool = False
    particles: int = PARTICLES

    @property
    def method(self) -> str:
        if self.checked:
            return f"SMC + PSIS (k-hat {self.k_hat:.2f}, ESS {self.ess:.0f}, R-hat {self.rhat:.3f})"
        return f"SMC (k-hat {self.k_hat:.2f} of the PSIS check, R-hat {self.rhat:.3f}, {self.distinct} distinct draws)"

    @property
    def verdict(self) -> str:
        what = (f"tempered SMC, {POPULATIONS} populations of {self.particles} particles ({self.stages} steps, "
                f"{self.moves} Metropolis moves): R-hat {self.rhat:.3f} across them, {self.distinct} distinct "
                f"particles; importance-sampling check from a t mixture fitted to them, {self.proposals} "
                f"proposals: Pareto k-hat {self.k_hat:.2f}, ESS {self.ess:.0f}")
        if self.accepted:
            return what
        reasons = []
        if not (self.rhat < RHAT_LIMIT):
            reasons.append(f"R-hat >= {RHAT_LIMIT}")
        if self.distinct < ESS_LIMIT:
            reasons.append(f"fewer than {ESS_LIMIT} distinct particles")
        if not (self.k_hat < K_HAT_LIMIT):
            reasons.append(f"check k-hat >= {K_HAT_LIMIT}")
        elif self.ess < max(ESS_LIMIT, MIN_EFFICIENCY * self.proposals):
            reasons.append("check ESS too small")
        return f"{what} ({', '.join(reasons) or 'not finished'}): not accepted"


def smc_sample(post, mode: Mode, draws: int, rng: np.random.Generator, effort: int = 1) -> SMCDraws:
    """``draws`` equally weighted draws of ``post`` (a callable ln p of points (..., d)) by
    tempered SMC from the Laplace t at ``mode`` (module docstring).

    :data:`POPULATIONS` independent populations are tempered; the draws are accepted where their
    particles agree (rank-normalised R-hat below 1.01 on every coordinate, at least ESS_LIMIT
    distinct) and the importance-sampling check on them passes, and are then the check's draws;
    otherwise the particles themselves come back, not accepted.  ``effort`` multiplies the
    particles and the accepted moves aimed at
    (a second attempt where the first populations disagree).
    """
    factor = np.linalg.cholesky(np.linalg.inv(mode.precision)) * LAPLACE_WIDENING
    populations, finished, stages, moves = _temper(post, mode, factor, rng, effort)
    rhat = rank_rhat(populations)
    particles = populations.reshape(-1, populations.shape[-1])
    distinct = int(sum(len(np.unique(population, axis=0)) for population in populations))
    check = _check(post, mode, particles, draws, rng)
    good = finished and rhat < RHAT_LIMIT and distinct >= ESS_LIMIT
    check_ok = check.k_hat < K_HAT_LIMIT and check.ess >= max(ESS_LIMIT, MIN_EFFICIENCY * check.x.shape[0])
    if check_ok and good:
        chosen, checked = check.x[_systematic(check.weights, draws, rng)], True
    else:
        chosen, checked = particles[rng.permutation(len(particles))[np.arange(draws) % len(particles)]], False
    return SMCDraws(chosen[:, :-1], np.exp(chosen[:, -1]), check.k_hat, check.ess, check.x.shape[0], 1,
                    bool(good and check_ok), rhat=rhat, distinct=distinct, stages=stages, moves=moves, checked=checked,
                    particles=populations.shape[1])


def _temper(post, mode: Mode, factor: np.ndarray, rng: np.random.Generator, effort: int = 1):
    """The populations from the Laplace t to the posterior, side by side (one density pass for
    all of them): (particles (m, n, d), every population reached beta = 1, tempering steps,
    Metropolis steps)."""
    m, n, d = POPULATIONS, PARTICLES * effort, mode.x.size
    x = _t_draws(mode.x, factor, m * n, rng)
    log_q = _t_log_density(x, mode.x, factor).reshape(m, n)
    log_p = np.asarray(post(x), dtype=float).reshape(m, n)
    x = x.reshape(m, n, d)
    beta = np.zeros(m)
    scale = np.full(m, 2.38 / math.sqrt(d))
    stages = moves = 0
    while np.any(beta < 1.0) and stages < MAX_STAGES:
        for j in np.flatnonzero(beta < 1.0):
            delta = np.where(np.isfinite(log_p[j]), log_p[j] - log_q[j], -np.inf)
            new_beta = _next_beta(delta, float(beta[j]))
            weights = _normalised((new_beta - beta[j]) * delta)
            if weights is None:
                return x, False, stages, moves
            beta[j] = new_beta
            keep = _systematic(weights, n, rng)
            x[j], log_p[j], log_q[j] = x[j][keep], log_p[j][keep], log_q[j][keep]
        stages += 1
        made, scale = _move(post, x, log_p, log_q, beta, mode, factor, scale, rng, ACCEPTED_MOVES * effort)
        moves += made
    return x, bool(np.all(beta >= 1.0)), stages, moves


def rank_rhat(populations: np.ndarray) -> float:
    """The largest rank-normalised R-hat (Vehtari, Gelman, Simpson, Carpenter and Burkner,
    Bayesian Analysis 16 (2021) 667-718) over the coordinates of ``populations`` (m, n, d), of
    the values and of their distances from the median (the tails), the populations as chains."""
    from scipy.special import ndtri
    from scipy.stats import rankdata

    m, n, d = populations.shape
    worst = 1.0
    for values in (populations, np.abs(populations - np.median(populations.reshape(-1, d), axis=0))):
        ranks = rankdata(values.reshape(-1, d), axis=0).reshape(m, n, d)
        z = ndtri((ranks - 0.375) / (m * n + 0.25))
        within = z.var(axis=1, ddof=1).mean(axis=0)
        between = n * z.mean(axis=1).var(axis=0, ddof=1)
        pooled = (n - 1) / n * within + between / n
        worst = max(worst, float(np.max(np.sqrt(pooled / np.maximum(within, 1e-300)))))
    return worst


def _next_beta(delta: np.ndarray, beta: float) -> float:
    """The next temperature: the largest step whose reweighting keeps half the particles' ESS."""
    def ess(step: float) -> float:
        w = _normalised(step * delta)
        return 0.0 if w is None else 1.0 / float(np.sum(w * w))

    if ess(1.0 - beta) >= 0.5 * delta.size:
        return 1.0
    lo, hi = 0.0, 1.0 - beta
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if ess(mid) >= 0.5 * delta.size:
            lo = mid
        else:
            hi = mid
    return beta + max(lo, 1e-6)


def _normalised(log_w: np.ndarray) -> np.ndarray | None:
    finite = np.isfinite(log_w)
    if not finite.any():
        return None
    w = np.zeros_like(log_w)
    w[finite] = np.exp(log_w[finite] - log_w[finite].max())
    return w / w.sum()


def _move(post, x, log_p, log_q, beta, mode, factor, scale, rng, wanted: int):
    """Random-walk Metropolis on each population's pi_beta, whitened by its particles'
    covariance, in place; returns the steps made and the adapted step scales."""
    m, n, d = x.shape
    chol = np.empty((m, d, d))
    for j in range(m):
        covariance = np.cov(x[j], rowvar=False) + 1e-12 * np.eye(d)
        try:
            chol[j] = np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError:
            chol[j] = np.diag(np.sqrt(np.clip(np.diag(covariance), 1e-12, None)))
    accepted = np.zeros((m, n))
    b = beta[:, None]
    made = 0
    while made < MAX_MOVES * (wanted // ACCEPTED_MOVES):
        steps = np.einsum("mij,mnj->mni", chol, rng.standard_normal((m, n, d)))
        proposal = x + scale[:, None, None] * steps
        flat = proposal.reshape(-1, d)
        new_p = np.asarray(post(flat), dtype=float).reshape(m, n)
        new_q = _t_log_density(flat, mode.x, factor).reshape(m, n)
        old = b * log_p + (1.0 - b) * log_q
        new = np.where(np.isfinite(new_p), b * new_p + (1.0 - b) * new_q, -np.inf)
        take = np.log(rng.random((m, n))) < new - old
        x[take], log_p[take], log_q[take] = proposal[take], new_p[take], new_q[take]
        accepted += take
        made += 1
        scale = scale * np.exp(take.mean(axis=1) - TARGET_ACCEPT)
        if np.all(np.quantile(accepted, 0.1, axis=1) >= wanted):
            break
    return made, scale


def _check(post, mode: Mode, particles: np.ndarray, draws: int, rng) -> _Round:
    """Importance sampling from a t mixture fitted to the particles, with the Laplace t as a
    defensive component (module docstring): the weighted proposals, k-hat and ESS."""
    n, d = particles.shape
    covariance = np.cov(particles, rowvar=False) + 1e-12 * np.eye(d)
    factor = np.linalg.cholesky(_positive_definite(covariance))
    uniform = _Round(particles, np.full(n, 1.0 / n), 0.0, float(n))
    means = particles[rng.choice(n, size=COMPONENTS, replace=False)]
    mixture = [(1.0 / COMPONENTS, m, factor * 0.5) for m in means]
    for _ in range(EM_STEPS):
        mixture = _update(mixture, uniform) or mixture
    mixture = [(a * (1.0 - DEFENSIVE), m, f * WIDENING) for a, m, f in mixture]
    mixture.append((DEFENSIVE, mode.x, np.linalg.cholesky(np.linalg.inv(mode.precision)) * LAPLACE_WIDENING))
    count = max(PROPOSAL_FACTOR * int(draws), 2 * ESS_LIMIT)
    x = _mixture_draws(mixture, count, rng)
    log_w, k_hat = psis(np.asarray(post(x), dtype=float) - mode.log_density - _mixture_log_density(x, mixture))
    weights = np.exp(log_w)
    usable = bool(np.isfinite(weights).all() and weights.sum() > 0)
    ess = float(1.0 / np.sum(weights ** 2)) if usable else 0.0
    return _Round(x, weights, float(k_hat), ess)

