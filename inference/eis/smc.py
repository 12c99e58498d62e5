"""A spectrum's posterior where the Laplace approximation and its adapted mixture are refused:
tempered sequential Monte Carlo, checked by Pareto-smoothed importance sampling.

Curved ridges (an arc near the window's edge, an inductance against a series resistance) make
posteriors that one t distribution, or a few, centred near the mode do not cover: the importance
ratios' k-hat exceeds 0.7 (nassb.inference.eis.laplace).  Here a population of particles is
carried from a starting distribution q (the Laplace t at the mode, widened, and t's along any
ridge below) to the posterior p through the tempered densities

    pi_beta(x) proportional to q(x)^(1 - beta) p(x)^beta,    0 = beta_0 < beta_1 < ... < beta_T = 1,

each step chosen so that the effective sample size of the reweighted particles falls to half of
them (Del Moral, Doucet and Jasra, "Sequential Monte Carlo samplers", JRSS B 68 (2006) 411-436;
the adaptive steps of Jasra, Stephens, Doucet and Tsagaris, Scand. J. Stat. 38 (2011) 1-22).
After each step the particles are resampled and moved by Metropolis-Hastings steps on pi_beta
(every coordinate is unconstrained: logarithms and logits) of two kinds, alternating:
independent proposals from a mixture of :data:`MOVE_COMPONENTS` t distributions fitted to the
population (with the starting distribution as a defensive component), which jump along a curved
ridge in one step where a random walk crawls, and random-walk steps whitened by the particles'
own covariance, their size adapted to an acceptance rate near 0.3; as many as give nine
particles in ten :data:`ACCEPTED_MOVES` accepted moves.  All populations are evaluated in one
vectorised pass of the density (milliseconds).

**Where a ridge runs.**  An arc beyond the window, or one whose CPE exponent lies near 0, leaves
its time constant barely determined, and the posterior runs along a long curved ridge in ln tau.
Particles started from the Laplace t at the mode spread along it only by random walk: on yadg's
vsp_peis_with the populations agreed (R-hat 1.003-1.008) on the ridge's middle while six times
the particles and moves found it 70 % longer, and the check refused them.  There
:data:`RIDGE_SHARE` of the starting distribution comes from t's along each arc's ridge
(nassb.inference.eis.ridge), the tempering's q is that mixture, and it is the defensive part of
the moves' and the check's proposals.

**Acceptance.**  :data:`POPULATIONS` populations are tempered independently.  Their draws are
accepted only when both hold: the populations agree (the rank-normalised R-hat across them, as
chains, below 1.01 on every coordinate and its tails, as PyMC's SMC reports it, and at least 400
distinct particles), and the check below passes.  Where either fails, the populations make twice
the moves again at beta = 1 and are judged once more, the check with twice the proposals and
adaptation rounds; where that fails too, the particles come back not accepted ("SMC", with the
check's k-hat), and the fit reports them with its gate failed (nassb.inference.eis.fit).

**The check.**  Particles are exact only in the limit, and populations that all missed the same
part of the posterior agree with one another: on a long ridge (an arc above the window, R0
trading off against R1 down to R0 = 0) four populations gave ln R0 within [1.3, 1.9] at R-hat
1.009 on one run, where NUTS finds [-3.8, 2.2].  So a mixture of :data:`COMPONENTS` Student t's
fitted to the particles (expectation-maximisation), with the starting distribution as a
defensive component, becomes an importance-sampling proposal for the posterior itself, adapted by
:data:`CHECK_ROUNDS` rounds of population Monte Carlo (each round's Pareto-smoothed weights
re-estimate the components, so the proposal moves from the particles towards the posterior),
and a final round of proposals from it is Pareto smoothed; it must give k-hat below 0.7 and an
ESS of at least 400 (where k-hat passes and the ESS falls short, up to :data:`MORE_PROPOSALS`
times the proposals are drawn from the same mixture).  (Unlike the Laplace stage, no minimum
share of the proposals is asked: the proposal is widened on purpose, and a wide proposal wastes
draws without biasing the estimate; k-hat is what says whether its tails cover the
posterior's.)  The reported draws are that round's, resampled ("SMC + PSIS").  On that ridge
the check refused the particles (k-hat 0.77-0.91) at four seeds of five, and accepted them at one
with R0 in [3.6, 6.8] ohm where NUTS gives [0.0, 8.9] (bench/README.md).  Started along the ridge
too, in the fitted coordinates, SMC was accepted at two seeds of three, R0 in [3.5, 9.8] and
[3.8, 9.8]: wider, still short of R0 = 0 (NUTS itself does not converge there: R-hat 1.2-2.2).  Like every
importance-sampling check it cannot see a region that neither the particles nor the starting
distribution reach.  The fit (nassb.inference.eis.fit) therefore runs SMC in coordinates in which
that ridge is not bent (nassb.inference.eis.sheet): there SMC's draws on that spectrum reach
R0 in [0.01, 9.2-9.3] at three seeds of three, as NUTS's.  The functions here take any callable
ln p, in whichever coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..diagnostics import ESS_LIMIT, RHAT_LIMIT
from .laplace import (K_HAT_LIMIT, ImportanceDraws, Mixture, Mode, _mixture_draws, _mixture_log_density,
                      _positive_definite, _Round, _systematic, _t_draws, _update, psis)

POPULATIONS = 4         # independent populations, compared by R-hat
PARTICLES = 500        # particles per population
COMPONENTS = 12         # t distributions of the checking proposal, fitted to the particles (20 or 24 pass more of
                        # vsp_peis_with's ridges, 4-5 of 8 refused ones, but track the particles so closely that
                        # a banana's var(x2) came out 11 % low: tests/inference/test_eis_batch.py)
CHECK_ROUNDS = 2        # population Monte Carlo rounds adapting it to the posterior
EM_STEPS = 15           # expectation-maximisation steps of that fit
WIDENING = 1.2          # the fitted components' scales widened: a proposal should be wider than the density
MOVE_COMPONENTS = 8     # t distributions of the independent Metropolis proposals
MOVE_WIDENING = 1.2     # their scales widened
DEFENSIVE = 0.2         # share of the starting distribution in the moves' and the check's proposals: tails the
                        # particles miss
PROPOSAL_FACTOR = 2     # proposals of the check per draw kept
MIN_PROPOSALS = 8000    # proposals of the check at least, whatever the draws asked for: fewer miss thin ridges
MORE_PROPOSALS = 4      # where its k-hat passes and its ESS falls short, up to this many times the proposals
TARGET_ACCEPT = 0.3     # random-walk Metropolis acceptance rate aimed at
ACCEPTED_MOVES = 4      # accepted moves per particle (its tenth quantile) aimed at after each tempering step
MAX_MOVES = 80          # Metropolis steps per tempering step at most
MAX_STAGES = 60         # tempering steps at most
LAPLACE_WIDENING = 1.5  # the starting population is the Laplace t with its scale widened by this
RIDGE_SHARE = 0.5       # ... and where an arc's time constant makes a ridge, this share from along it


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
    extended: bool = False

    @property
    def method(self) -> str:
        if self.checked:
            return f"SMC + PSIS (k-hat {self.k_hat:.2f}, ESS {self.ess:.0f}, R-hat {self.rhat:.3f})"
        return f"SMC (k-hat {self.k_hat:.2f} of the PSIS check, R-hat {self.rhat:.3f}, {self.distinct} distinct draws)"

    @property
    def verdict(self) -> str:
        again = ", moved on at the posterior and checked a second time" if self.extended else ""
        what = (f"tempered SMC, {POPULATIONS} populations of {self.particles} particles ({self.stages} steps, "
                f"{self.moves} Metropolis moves{again}): R-hat {self.rhat:.3f} across them, {self.distinct} "
                f"distinct particles; importance-sampling check from a t mixture fitted to them, {self.proposals} "
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
        elif self.ess < ESS_LIMIT:
            reasons.append(f"check ESS < {ESS_LIMIT}")
        return f"{what} ({', '.join(reasons) or 'not finished'}): not accepted"


def smc_sample(post, mode: Mode, draws: int, rng: np.random.Generator, effort: int = 1,
               ridge: Mixture | None = None) -> SMCDraws:
    """``draws`` equally weighted draws of ``post`` (a callable ln p of points (..., d)) by
    tempered SMC from the Laplace t at ``mode`` (module docstring), widened, and where ``ridge``
    (t's along the arcs' ridges, nassb.inference.eis.ridge) is given and not empty, from those
    too, :data:`RIDGE_SHARE` of the start.

    :data:`POPULATIONS` independent populations are tempered; the draws are accepted where their
    particles agree (rank-normalised R-hat below 1.01 on every coordinate, at least ESS_LIMIT
    distinct) and the importance-sampling check on them passes, and are then the check's draws.
    Where either fails, the populations move on at the posterior itself (twice the moves) and
    are checked once more with twice the proposals and adaptation rounds; where that fails
    too, the particles themselves come back, not accepted.  ``effort`` multiplies the particles
    and the accepted moves aimed at.
    """
    factor = np.linalg.cholesky(np.linalg.inv(mode.precision)) * LAPLACE_WIDENING
    start = [(1.0, mode.x, factor)]
    if ridge:
        start = [(1.0 - RIDGE_SHARE, mode.x, factor)] + [(RIDGE_SHARE * a, m, f) for a, m, f in ridge]
    state = _temper(post, start, rng, effort)
    outcome = _judge(post, mode, start, state, draws, rng, 1)
    if not outcome[-1] and state.finished:  # once more: further moves at beta = 1, a longer check
        beta = np.ones(state.x.shape[0])
        made, _ = _move(post, state.x, state.log_p, state.log_q, beta, start, state.scale, rng,
                        2 * ACCEPTED_MOVES * effort)
        state = replace(state, moves=state.moves + made, extended=True)
        outcome = _judge(post, mode, start, state, draws, rng, 2)
    rhat, distinct, check, accepted = outcome
    if accepted:
        chosen = check.x[_systematic(check.weights, draws, rng)]
    else:
        particles = state.x.reshape(-1, state.x.shape[-1])
        chosen = particles[rng.permutation(len(particles))[np.arange(draws) % len(particles)]]
    return SMCDraws(chosen[:, :-1], np.exp(chosen[:, -1]), check.k_hat, check.ess, check.x.shape[0], 1,
                    accepted, rhat=rhat, distinct=distinct, stages=state.stages, moves=state.moves,
                    checked=accepted, particles=state.x.shape[1], extended=state.extended)


@dataclass
class _State:
    """The populations (m, n, d) with their ln p and ln q, the random walks' step scales, whether
    every population reached beta = 1, the tempering steps and Metropolis steps made."""

    x: np.ndarray
    log_p: np.ndarray
    log_q: np.ndarray
    scale: np.ndarray
    finished: bool
    stages: int
    moves: int
    extended: bool = False


def _judge(post, mode: Mode, start: Mixture, state: _State, draws: int, rng, effort: int):
    """(R-hat, distinct particles, the importance-sampling check, accepted) of the populations;
    ``effort`` multiplies the check's proposals and adaptation rounds."""
    rhat = rank_rhat(state.x)
    distinct = int(sum(len(np.unique(population, axis=0)) for population in state.x))
    check = _check(post, mode, start, state.x.reshape(-1, state.x.shape[-1]), effort * draws, rng,
                   effort * CHECK_ROUNDS)
    good = state.finished and rhat < RHAT_LIMIT and distinct >= ESS_LIMIT
    return rhat, distinct, check, bool(good and check.k_hat < K_HAT_LIMIT and check.ess >= ESS_LIMIT)


def _temper(post, start: Mixture, rng: np.random.Generator, effort: int = 1) -> _State:
    """The populations from the starting distribution ``start`` (a t mixture: the Laplace t, with
    the ridge's where there is one) to the posterior, side by side (one density pass for all of
    them)."""
    m, n, d = POPULATIONS, PARTICLES * effort, start[0][1].size
    x = _start_draws(start, m * n, rng)
    log_q = _mixture_log_density(x, start).reshape(m, n)
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
                return _State(x, log_p, log_q, scale, False, stages, moves)
            beta[j] = new_beta
            keep = _systematic(weights, n, rng)
            x[j], log_p[j], log_q[j] = x[j][keep], log_p[j][keep], log_q[j][keep]
        stages += 1
        made, scale = _move(post, x, log_p, log_q, beta, start, scale, rng, ACCEPTED_MOVES * effort)
        moves += made
    return _State(x, log_p, log_q, scale, bool(np.all(beta >= 1.0)), stages, moves)


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


def _move(post, x, log_p, log_q, beta, start: Mixture, scale, rng, wanted: int):
    """Metropolis moves on each population's pi_beta, in place: independent proposals from a t
    mixture fitted to the population (with the starting distribution as a defensive component) alternating
    with random-walk steps whitened by the particles' covariance; returns the steps made and the
    random walks' adapted step scales."""
    m, n, d = x.shape
    chol = np.empty((m, d, d))
    mixtures = []
    for j in range(m):
        covariance = np.cov(x[j], rowvar=False) + 1e-12 * np.eye(d)
        try:
            chol[j] = np.linalg.cholesky(covariance)
        except np.linalg.LinAlgError:
            chol[j] = np.diag(np.sqrt(np.clip(np.diag(covariance), 1e-12, None)))
        mixtures.append(_moving_mixture(x[j], start, rng))
    accepted = np.zeros((m, n))
    b = beta[:, None]
    made = 0
    while made < MAX_MOVES * (wanted // ACCEPTED_MOVES):
        independent = made % 2 == 0
        if independent:
            proposal = np.stack([_mixture_draws(mixture, n, rng) for mixture in mixtures])
        else:
            steps = np.einsum("mij,mnj->mni", chol, rng.standard_normal((m, n, d)))
            proposal = x + scale[:, None, None] * steps
        flat = proposal.reshape(-1, d)
        new_p = np.asarray(post(flat), dtype=float).reshape(m, n)
        new_q = _mixture_log_density(flat, start).reshape(m, n)
        old = b * log_p + (1.0 - b) * log_q
        new = np.where(np.isfinite(new_p), b * new_p + (1.0 - b) * new_q, -np.inf)
        if independent:  # the proposal's own density enters the ratio
            new = new - np.stack([_mixture_log_density(proposal[j], mixtures[j]) for j in range(m)])
            old = old - np.stack([_mixture_log_density(x[j], mixtures[j]) for j in range(m)])
        take = np.log(rng.random((m, n))) < new - old
        x[take], log_p[take], log_q[take] = proposal[take], new_p[take], new_q[take]
        accepted += take
        made += 1
        if not independent:
            scale = scale * np.exp(take.mean(axis=1) - TARGET_ACCEPT)
        if np.all(np.quantile(accepted, 0.1, axis=1) >= wanted):
            break
    return made, scale


def _moving_mixture(particles: np.ndarray, start: Mixture, rng) -> Mixture:
    """The independent proposal of one population's moves: a t mixture fitted to its particles,
    widened, with the starting distribution (the widened Laplace t, and the ridge's) as a
    defensive component."""
    mixture = _fit_mixture(particles, MOVE_COMPONENTS, rng)
    return [(a * (1.0 - DEFENSIVE), m, f * MOVE_WIDENING) for a, m, f in mixture] + _defensive(start)


def _start_draws(start: Mixture, count: int, rng) -> np.ndarray:
    """Draws of the starting distribution (one t alone draws as before the ridge was added)."""
    if len(start) == 1:
        return _t_draws(start[0][1], start[0][2], count, rng)
    return _mixture_draws(start, count, rng)


def _defensive(start: Mixture) -> Mixture:
    """The starting distribution as a :data:`DEFENSIVE` share of a proposal."""
    return [(DEFENSIVE * a, m, f) for a, m, f in start]


def _fit_mixture(particles: np.ndarray, components: int, rng) -> list:
    """A mixture of ``components`` t distributions fitted to equally weighted ``particles`` by
    expectation-maximisation (:data:`EM_STEPS` steps from means at random particles)."""
    n, d = particles.shape
    covariance = np.cov(particles, rowvar=False) + 1e-12 * np.eye(d)
    factor = np.linalg.cholesky(_positive_definite(covariance))
    uniform = _Round(particles, np.full(n, 1.0 / n), 0.0, float(n))
    means = particles[rng.choice(n, size=components, replace=False)]
    mixture = [(1.0 / components, m, factor * 0.5) for m in means]
    for _ in range(EM_STEPS):
        mixture = _update(mixture, uniform) or mixture
    return mixture


def _check(post, mode: Mode, start: Mixture, particles: np.ndarray, draws: int, rng,
           rounds: int = CHECK_ROUNDS) -> _Round:
    """Importance sampling from a t mixture fitted to the particles, with the starting distribution
    as a defensive component, adapted to the posterior by :data:`CHECK_ROUNDS` rounds of
    population Monte Carlo (module docstring): the final round's weighted proposals, k-hat and
    ESS.  Where the final round's k-hat is below the limit but its ESS short of ESS_LIMIT, more
    proposals of the same mixture are drawn and weighed with it, up to :data:`MORE_PROPOSALS`
    times as many: the ratios' tail is then light enough that more draws only make the estimate
    finer (a wide proposal along a ridge wastes many)."""
    defensive = _defensive(start)
    fitted = _fit_mixture(particles, COMPONENTS, rng)
    count = max(PROPOSAL_FACTOR * int(draws), MIN_PROPOSALS)
    for round_ in range(rounds + 1):
        mixture = [(a * (1.0 - DEFENSIVE), m, f * WIDENING) for a, m, f in fitted] + defensive
        x = _mixture_draws(mixture, count, rng)
        log_r = np.asarray(post(x), dtype=float) - mode.log_density - _mixture_log_density(x, mixture)
        last = _weighed(x, log_r)
        if round_ < rounds and last.ess > 0:
            fitted = _update([*fitted, *defensive], last) or fitted
    while last.k_hat < K_HAT_LIMIT and 0 < last.ess < ESS_LIMIT and len(x) < MORE_PROPOSALS * count:
        more = _mixture_draws(mixture, count, rng)
        x = np.concatenate([x, more])
        log_r = np.concatenate([log_r, np.asarray(post(more), dtype=float) - mode.log_density
                                - _mixture_log_density(more, mixture)])
        last = _weighed(x, log_r)
    return last


def _weighed(x: np.ndarray, log_ratios: np.ndarray) -> _Round:
    """The proposals ``x`` with their Pareto-smoothed weights, k-hat and ESS (0 where unusable)."""
    log_w, k_hat = psis(log_ratios)
    weights = np.exp(log_w)
    usable = bool(np.isfinite(weights).all() and weights.sum() > 0)
    return _Round(x, weights, float(k_hat), float(1.0 / np.sum(weights ** 2)) if usable else 0.0)
