"""Recalibrating a campaign's posterior draws by a lab's new cells, in seconds.

Three ways, from the current posterior's equal-weight draws (the paper's, and every record so far):

* :func:`reweight`: one importance reweighting (PSIS), resampled and moved apart by a Liu-West
  kernel.  Exact in the limit of many draws, but a few informative cells (a short at cycle 3, a
  resistance at 5 %) leave a handful of draws with weight: its gate then refuses it.
* :func:`temper`: the same in steps (sequential Monte Carlo with likelihood tempering; Del Moral,
  Doucet & Jasra 2006): the new cells' likelihood enters as L^beta with beta raised from 0 to 1
  in steps chosen so that each step keeps half of the draws' effective sample size, each followed
  by resampling and moves.  Given the current posterior's density up to a constant
  (:func:`posterior_log_density`: the priors, the paper's cells and the lab's earlier records,
  all numpy), the moves are random-walk Metropolis steps on the tempered posterior in unbounded
  coordinates, the proposal's covariance the population's (scaled 2.38/sqrt(d), adapted to an
  acceptance near 0.3): exact moves, which let a population that passed through a narrow step
  spread out again to the posterior's true width.  Without it, a Liu-West move (Liu & West 2001)
  keeps the population's mean and covariance and spreads the resampled copies apart; a
  kernel-density move that cannot widen a population that collapsed (a lab whose cells are far in
  the tail of the posterior: every draw then descends from a few).  This is the default of a
  campaign's ``record``: seconds instead of a NUTS run of minutes.
* :func:`widen`: a power posterior.  The draws' spread about their mean, in unbounded coordinates,
  times a factor f (for a Gaussian posterior exactly pi^(1/f^2)): what a campaign does when the lab's
  cells were less probable under its posterior than its own predictive allows (design/calibration.py).

The lab offsets (``lab.strength``, ``lab.ccd``, ``lab.contact``) that the paper's posterior has no
draws of are drawn from their priors (priors/data/risk.toml), :data:`LAB_DRAWS_PER_DRAW` per draw,
when the first lab cells enter.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ..priors.lab import ObservedCells

K_HAT_LIMIT = 0.7
MIN_ESS = 400
MIN_DISTINCT = 400
LAB_DRAWS_PER_DRAW = 4
"""Lab offsets drawn from their priors per paper draw when the first lab cells are reweighted."""
LIU_WEST_A = 0.98
"""Shrinkage of the Liu-West kernel that moves resampled draws apart (a^2 + h^2 = 1: h = 0.2)."""
STEP_ESS = 0.5
"""Each tempering step keeps this fraction of the draws' effective sample size."""
MAX_STEPS = 60
MOVES = 3
"""Metropolis moves per draw after each tempering step."""
TARGET_ACCEPT = 0.3
MIN_ACCEPT = 0.05
"""Below this mean acceptance the moves did not mix: SMC is refused."""


def with_lab_offsets(draws: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``draws`` with lab offsets: as they are where they have them, else each draw repeated
    :data:`LAB_DRAWS_PER_DRAW` times with offsets from their priors."""
    from ..priors.risk import load_lab_priors

    base = {k: np.asarray(v, float) for k, v in draws.items()}
    lab = load_lab_priors()
    if all(name in base for name in lab):
        return base
    base = {k: np.repeat(v, LAB_DRAWS_PER_DRAW) for k, v in base.items()}
    size = next(iter(base.values())).size
    for name, rp in lab.items():
        base[name] = np.asarray(rp.prior.sample(rng, size), float)
    return base


def prior_log_density(draws: dict[str, np.ndarray], priors: dict | None = None) -> np.ndarray:
    """The log density of the risk parameters' and lab offsets' priors (priors/data/risk.toml) at
    ``draws``, per draw, up to a constant: normal, log-normal, truncated normal, uniform and
    log-uniform, each within its bounds (-inf outside).  Parameters the draws lack are skipped."""
    from scipy import stats

    from ..priors.risk import load_lab_priors, load_risk_priors

    size = next(iter(draws.values())).size
    out = np.zeros(size)
    for name, rp in (priors or {**load_risk_priors(), **load_lab_priors()}).items():
        q = rp.prior
        if name not in draws or not q.uncertain:
            continue
        x = np.asarray(draws[name], float)
        if q.dist in ("uniform", "loguniform"):
            lo, hi = q.low, q.high
            inside = (x >= lo) & (x <= hi)
            part = np.where(inside, -np.log(np.maximum(x, 1e-300)) if q.dist == "loguniform" else 0.0, -np.inf)
        else:
            lo, hi = q.truncation()
            if q.dist == "lognormal":
                mu, sigma = q.lognormal_parameters()
                with np.errstate(divide="ignore"):
                    part = stats.norm.logpdf(np.log(np.maximum(x, 1e-300)), mu, sigma) - np.log(np.maximum(x, 1e-300))
            else:
                part = stats.norm.logpdf(x, q.value, q.sd)
            part = np.where((x >= lo) & (x <= hi), part, -np.inf)
        out += part
    return out


def posterior_log_density(before: ObservedCells | None = None, power: float = 1.0
                          ) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """The campaign's current posterior, per draw, up to a constant: the priors, the seed paper's
    cells and the lab's cells ``before`` (the records it already holds), all raised to ``power``
    (1 / f^2 after :func:`widen` by f)."""
    from ..priors.risk import load_lab_priors, load_risk_observations, load_risk_priors

    paper = likelihood_of(load_risk_observations())
    earlier = likelihood_of(before) if before is not None and len(before) else None
    priors = {**load_risk_priors(), **load_lab_priors()}

    def log_density(draws: dict[str, np.ndarray]) -> np.ndarray:
        out = prior_log_density(draws, priors) + paper(draws)
        if earlier is not None:
            out = out + earlier(draws)
        return power * out

    return log_density


def likelihood_of(cells: ObservedCells) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """The log-likelihood of ``cells`` per draw (numpy; -inf where undefined)."""
    from ..inference.risk.likelihood import build_batch, log_likelihood
    from ..priors.risk import load_nuisances

    batch = build_batch(cells, load_nuisances())

    def ll(draws: dict[str, np.ndarray]) -> np.ndarray:
        out = log_likelihood(draws, batch)
        return np.where(np.isfinite(out), out, -np.inf)

    return ll


def _distinct(draws: dict[str, np.ndarray]) -> int:
    # Distinct over the risk parameters alone: on the first lab cells each draw is repeated with
    # LAB_DRAWS_PER_DRAW lab offsets, and a draw kept with four offsets is still one draw of them.
    shared = sorted(k for k in draws if not k.startswith("lab."))
    return int(np.unique(np.column_stack([draws[k] for k in shared]), axis=0).shape[0])


def reweight(draws: dict[str, np.ndarray], cells: ObservedCells, rng: np.random.Generator,
             size: int | None = None, *, shrinkage: float = LIU_WEST_A,
             base: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None, moves: int = MOVES
             ) -> tuple[dict[str, np.ndarray], dict]:
    """Importance reweighting of posterior ``draws`` by the likelihood of lab ``cells`` (PSIS).

    Where the draws have no lab offsets, each draw is repeated :data:`LAB_DRAWS_PER_DRAW` times
    with offsets drawn from their priors (the reweighting then targets the posterior of the paper
    and the lab together).  The draws are resampled with replacement by the smoothed weights to
    ``size`` equal-weight draws (default the draws' number), and the repeats are then moved apart
    by a Liu-West kernel (Liu & West 2001): each draw becomes ``a x + (1 - a) mean + sqrt(1 - a^2)
    L z`` in unbounded coordinates (log or logit where a parameter is bounded), which keeps the
    resampled mean and covariance; without it, round after round of reweighting would leave a
    handful of distinct draws.  ``shrinkage`` is ``a`` (1: no kernel).  Given ``base``, the
    current posterior's log density (:func:`posterior_log_density`), the repeats are moved apart
    by ``moves`` Metropolis steps on the new posterior instead (exact moves; see :func:`temper`).

    Returns the draws and the gate: ``k_hat``, ``ess`` (of the smoothed weights) and ``distinct``
    (distinct draws the resampling kept, before the moves).
    """
    from ..inference.statistics import psis_weights

    n = len(next(iter(draws.values())))
    size = n if size is None else size
    population = with_lab_offsets(draws, rng)
    likelihood = likelihood_of(cells)
    ll = likelihood(population)
    if not np.isfinite(ll).any():
        return population, {"k_hat": math.inf, "ess": 0.0, "distinct": 0}
    w, k_hat = psis_weights(ll)
    ess = float(1.0 / np.sum(w ** 2))
    pick = rng.choice(w.size, size=size, replace=True, p=w)
    out = {k: v[pick] for k, v in population.items()}
    distinct = _distinct(out)
    if base is not None:
        out, _, _, rate = metropolis(out, base, likelihood, 1.0, rng, moves)
        return out, {"k_hat": float(k_hat), "ess": ess, "distinct": distinct, "moves": "metropolis", "accept": rate}
    if shrinkage < 1.0:
        out = liu_west(out, rng, shrinkage)
    return out, {"k_hat": float(k_hat), "ess": ess, "distinct": distinct, "moves": "liu-west", "kernel": shrinkage}


def _next_beta(ll: np.ndarray, beta: float, target: float) -> tuple[float, np.ndarray]:
    """The next temperature and the normalised incremental weights that keep ``target`` of the
    effective sample size (bisection on the increment)."""
    def weights(step: float) -> np.ndarray:
        logw = step * ll
        w = np.exp(logw - np.max(logw))
        return w / w.sum()

    def ess(step: float) -> float:
        w = weights(step)
        return float(1.0 / np.sum(w ** 2)) / ll.size

    if ess(1.0 - beta) >= target:
        return 1.0, weights(1.0 - beta)
    lo, hi = 0.0, 1.0 - beta
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(mid) >= target else (lo, mid)
    step = max(lo, 1e-12)
    return beta + step, weights(step)


def temper(draws: dict[str, np.ndarray], cells: ObservedCells, rng: np.random.Generator,
           size: int | None = None, *, shrinkage: float = LIU_WEST_A, target: float = STEP_ESS,
           max_steps: int = MAX_STEPS, progress: Callable[[str], None] | None = None,
           base: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None, moves: int = MOVES
           ) -> tuple[dict[str, np.ndarray], dict]:
    """Sequential Monte Carlo from posterior ``draws`` to the posterior with lab ``cells`` too:
    their likelihood tempered in steps (see the module), each step resampled and moved.

    Returns the draws (``size``, default the draws' number) and the gate: ``steps``, ``ess``
    (the smallest effective sample size of a step's weights, in draws of the population),
    ``k_hat`` (the largest PSIS k-hat of a step's weights), ``distinct`` (distinct draws of the
    last resampling) and ``completed`` (False where ``max_steps`` ran out before beta reached 1);
    with ``base`` (the current posterior's log density, :func:`posterior_log_density`) the moves
    are ``moves`` Metropolis steps per tempering step and ``accept`` their mean acceptance rate,
    else Liu-West moves of shrinkage ``shrinkage``.
    """
    from ..inference.statistics import psis_weights

    n = len(next(iter(draws.values())))
    size = n if size is None else size
    ll_of = likelihood_of(cells)
    x = with_lab_offsets(draws, rng)
    ll = ll_of(x)
    if not np.isfinite(ll).any():
        return x, {"k_hat": math.inf, "ess": 0.0, "distinct": 0, "steps": 0, "completed": False, "betas": []}
    betas: list[float] = []
    beta, min_ess, max_k, distinct = 0.0, math.inf, 0.0, 0
    scale, accept = None, []
    impossible = float(np.mean(~np.isfinite(ll)))
    while beta < 1.0 and len(betas) < max_steps:
        # A draw under which a new cell's outcome is impossible (zero likelihood) has zero weight at
        # every beta > 0: it leaves at the first step, and the steps are chosen among the others.
        finite = np.isfinite(ll)
        w = np.zeros(ll.size)
        beta_next, w[finite] = _next_beta(ll[finite], beta, target)
        _, k = psis_weights(np.log(np.maximum(w, 1e-300)))
        min_ess = min(min_ess, float(1.0 / np.sum(w ** 2)) * size / max(int(finite.sum()), 1))
        max_k = max(max_k, float(k))
        pick = _systematic(w, size, rng)
        x = {key: v[pick] for key, v in x.items()}
        distinct = _distinct(x)
        if base is not None:
            x, ll, scale, rate = metropolis(x, base, ll_of, beta_next, rng, moves, scale)
            accept.append(rate)
        else:
            if shrinkage < 1.0:
                x = liu_west(x, rng, shrinkage)
            ll = ll_of(x)
        beta = beta_next
        betas.append(round(beta, 6))
        if progress is not None:
            progress(f"tempering step {len(betas)}: beta {beta:.3g}, ESS {min_ess:.0f}")
    return x, {"k_hat": max_k, "ess": min_ess, "distinct": distinct, "steps": len(betas),
               "completed": beta >= 1.0, "betas": betas, "impossible": impossible,
               **({"moves": "metropolis", "accept": float(np.mean(accept)) if accept else math.nan}
                  if base is not None else {"moves": "liu-west", "kernel": shrinkage})}


def metropolis(draws: dict[str, np.ndarray], base: Callable, ll_of: Callable, beta: float,
               rng: np.random.Generator, moves: int, scale: float | None = None):
    """``moves`` random-walk Metropolis steps of every draw on base + beta * ll (unbounded
    coordinates, the Jacobian of the bounds included; the proposal's covariance the population's,
    scaled and adapted toward :data:`TARGET_ACCEPT`).  Returns the draws, their ``ll``, the scale
    reached and the mean acceptance rate."""
    names, y = _unbounded(draws)
    d = y.shape[1]
    scale = 2.38 / math.sqrt(d) if scale is None else scale
    cov = np.atleast_2d(np.cov(y, rowvar=False))
    free = np.diag(cov) > 1e-20
    chol = np.zeros((d, d))
    sub = cov[np.ix_(free, free)]
    sd = np.sqrt(np.diag(sub))
    chol[np.ix_(free, free)] = np.linalg.cholesky(sub / np.outer(sd, sd) + 1e-9 * np.eye(free.sum())) * sd[:, None]

    def target(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = _bounded(names, z)
        ll = ll_of(x)
        t = base(x) + beta * ll + _log_jacobian(names, z)
        return np.where(np.isfinite(t), t, -np.inf), ll

    current, ll = target(y)
    rates = []
    for _ in range(moves):
        proposal = y + scale * rng.standard_normal(y.shape) @ chol.T
        proposed, ll_new = target(proposal)
        with np.errstate(invalid="ignore"):
            take = np.log(rng.random(y.shape[0])) < proposed - current
        y[take], current[take], ll[take] = proposal[take], proposed[take], ll_new[take]
        rate = float(np.mean(take))
        rates.append(rate)
        scale *= math.exp(rate - TARGET_ACCEPT)
    return _bounded(names, y), ll, scale, float(np.mean(rates))


def _log_jacobian(names: list[str], y: np.ndarray) -> np.ndarray:
    """log |dx/dy| of :func:`_bounded` per draw."""
    bounds = _bounds()
    out = np.zeros(y.shape[0])
    for i, name in enumerate(names):
        lo, hi = bounds.get(name, (-math.inf, math.inf))
        z = y[:, i]
        if math.isfinite(lo) and math.isfinite(hi):
            out += math.log(hi - lo) - np.logaddexp(0.0, -z) - np.logaddexp(0.0, z)
        elif math.isfinite(lo):
            out += z
    return out


def _systematic(w: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Systematic resampling: ``size`` indices by the normalised weights ``w`` (lower variance
    than multinomial resampling)."""
    positions = (rng.random() + np.arange(size)) / size
    return np.minimum(np.searchsorted(np.cumsum(w), positions), w.size - 1)


def gate_words(gate: dict) -> tuple[bool, str]:
    """Whether a reweighting passes its gate, and why, in words (what ``record`` says)."""
    checks = [(f"k-hat {gate['k_hat']:.2f}", gate["k_hat"] < K_HAT_LIMIT, f"< {K_HAT_LIMIT}"),
              (f"ESS {gate['ess']:.0f}", gate["ess"] >= MIN_ESS, f">= {MIN_ESS}"),
              (f"{gate['distinct']} distinct draws", gate["distinct"] >= MIN_DISTINCT, f">= {MIN_DISTINCT}")]
    if all(ok for _, ok, _ in checks):
        return True, "the reweighting passes its gate (" + ", ".join(f"{what} {need}" for what, _, need in checks) + ")"
    return False, "the reweighting fails its gate (" + ", ".join(
        f"{what}, needs {need}" for what, ok, need in checks if not ok) + ")"


def temper_words(gate: dict) -> tuple[bool, str]:
    """Whether a tempered recalibration is accepted, and how it went, in words."""
    ok = gate["completed"] and gate["ess"] >= MIN_ESS and gate["distinct"] >= MIN_DISTINCT
    words = (f"{gate['steps']} tempering step(s), smallest ESS {gate['ess']:.0f} of a step, "
             f"{gate['distinct']} distinct draws in the last resampling")
    if gate.get("moves") == "metropolis":
        words += f", Metropolis acceptance {gate['accept']:.2f}"
        if not gate["accept"] >= MIN_ACCEPT:
            return False, f"the Metropolis moves barely moved ({words}; needs acceptance >= {MIN_ACCEPT})"
    if not gate["completed"]:
        return False, f"tempering did not reach the full likelihood in {gate['steps']} steps ({words})"
    if not ok:
        return False, f"tempering kept too few draws ({words}; needs ESS >= {MIN_ESS}, {MIN_DISTINCT} distinct)"
    return True, f"sequential Monte Carlo: {words}"


@functools.lru_cache(maxsize=1)
def _bounds() -> dict[str, tuple[float, float]]:
    from ..priors.risk import load_lab_priors, load_risk_priors

    out = {}
    for name, rp in {**load_risk_priors(), **load_lab_priors()}.items():
        q = rp.prior
        out[name] = (q.low, q.high) if q.dist in ("uniform", "loguniform") else q.truncation()
    return out


def _unbounded(draws: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    bounds = _bounds()
    names = sorted(draws)
    columns = []
    for name in names:
        lo, hi = bounds.get(name, (-math.inf, math.inf))
        x = draws[name]
        if math.isfinite(lo) and math.isfinite(hi):
            u = np.clip((x - lo) / (hi - lo), 1e-12, 1 - 1e-12)
            columns.append(np.log(u) - np.log1p(-u))
        elif math.isfinite(lo):
            columns.append(np.log(np.maximum(x - lo, 1e-300)))
        else:
            columns.append(x)
    return names, np.column_stack(columns)


def _bounded(names: list[str], y: np.ndarray) -> dict[str, np.ndarray]:
    bounds = _bounds()
    out = {}
    for i, name in enumerate(names):
        lo, hi = bounds.get(name, (-math.inf, math.inf))
        z = y[:, i]
        if math.isfinite(lo) and math.isfinite(hi):
            out[name] = lo + (hi - lo) / (1 + np.exp(-z))
        elif math.isfinite(lo):
            out[name] = lo + np.exp(z)
        else:
            out[name] = z
    return out


def liu_west(draws: dict[str, np.ndarray], rng: np.random.Generator, a: float) -> dict[str, np.ndarray]:
    """Equal-weight draws moved by a Liu-West kernel in unbounded coordinates (see :func:`reweight`)."""
    names, y = _unbounded(draws)
    mean = y.mean(axis=0)
    cov = np.atleast_2d(np.cov(y, rowvar=False))
    scale = np.sqrt(np.maximum(np.diag(cov), 1e-300))
    corr = cov / np.outer(scale, scale) + 1e-9 * np.eye(len(names))
    chol = np.linalg.cholesky(corr) * scale[:, None]
    moved = a * y + (1 - a) * mean + math.sqrt(1 - a * a) * rng.standard_normal(y.shape) @ chol.T
    return _bounded(names, moved)


def widen(draws: dict[str, np.ndarray], factor: float) -> dict[str, np.ndarray]:
    """The draws' spread about their mean times ``factor`` in unbounded coordinates (a power
    1/factor^2 of a Gaussian posterior): less confidence in what the draws say, the same centre."""
    if factor == 1.0:
        return dict(draws)
    names, y = _unbounded(draws)
    mean = y.mean(axis=0)
    return _bounded(names, mean + factor * (y - mean))
