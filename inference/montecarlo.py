"""Monte Carlo propagation (JCGM 101): vectorised draws through the one cell model.

* a fixed number of draws, or the adaptive procedure of JCGM 101 section 7.9: batches until
  twice the standard deviation of the batch means of y, u(y) and both interval endpoints is
  within the numerical tolerance of u(y) at the requested number of significant digits;
* mean, standard deviation, the probabilistically symmetric 95 % interval and the shortest one,
  both from partial sorts of the tails (linear time, not a full sort);
* the section 8 check of first order: the GUM interval y ± 1.96 u_c(y) is adequate when both of
  its endpoints lie within that numerical tolerance of the Monte Carlo endpoints.
"""

from __future__ import annotations

import json
import math

import numpy as np
import xarray as xr

from .gum import COVERAGE_95, propagate_gum
from .model import CellModel
from .result import PropagationResult, add_covariance, draws_idata, summary_dataset
from .statistics import PROBABILITY, heavy_tail, interval_statistics, moments  # noqa: F401  (public here too)


def numerical_tolerance(u: float, digits: int) -> float:
    """JCGM 101 7.9.2: half a unit in the last of ``digits`` significant digits of ``u``."""
    if not u > 0:
        return 0.0
    if not math.isfinite(u):  # first order overflowed: no digit of it to compare with
        return math.inf
    exponent = math.floor(math.log10(u)) - digits + 1
    return 0.5 * 10.0 ** exponent


def draw_inputs(model: CellModel, rng: np.random.Generator, size: int) -> dict[str, np.ndarray | float]:
    """One array of ``size`` draws per uncertain input; fixed inputs stay floats."""
    return {name: prior.sample(rng, size) for name, prior in model.inputs.items()}


def _batch(model: CellModel, rng: np.random.Generator,
           size: int) -> tuple[dict[str, np.ndarray | float], int, dict[str, np.ndarray | float]]:
    """One batch of draws of every output; an output no uncertain input reaches stays a float.

    Draws whose derived porosity leaves (0, 1) (a loading too heavy for the drawn thickness and
    density) are physically impossible: they are dropped, which truncates the joint
    distribution, and counted.
    """
    x = draw_inputs(model, rng, size)
    y = model.evaluate(x)
    porosity = np.asarray(y["porosity"])
    rejected = 0
    if porosity.ndim:
        valid = (porosity > 0.0) & (porosity < 1.0)
        rejected = int(size - np.count_nonzero(valid))
        if rejected:
            y = {k: (v[valid] if np.ndim(v) else v) for k, v in y.items()}
            x = {k: (np.asarray(v)[valid] if np.ndim(v) else v) for k, v in x.items()}
    for name, values in y.items():
        if not np.all(np.isfinite(values)):
            bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            raise overflow_error(model, f"{bad} of {size} Monte Carlo draws of {name} are not finite numbers "
                                        "(an overflow)")
    return y, rejected, x


HUGE = 1e100
"""An input whose value or uncertainty exceeds this (in its canonical unit) is named as the
likely cause of an overflow even where its field has no plausible range."""


def overflow_error(model: CellModel, what: str):
    """A NumericError naming the card and the input most likely to overflow the equations: one
    outside its field's plausible range, else one of a huge value or uncertainty."""
    from ..priors.errors import NumericError

    implausible = {name: prior.bounds.plausibility(prior.value, prior.sd) for name, prior in model.inputs.items()}
    suspects = [name for name, why in implausible.items() if why] or [
        name for name, prior in model.inputs.items() if max(abs(prior.value), prior.sd) > HUGE]
    if not suspects:
        return NumericError(f"{what}: an input far outside its range?", file=model.card.origin)
    why = implausible.get(suspects[0]) or "a value or uncertainty far outside its range"
    others = f" (also {', '.join(suspects[1:])})" if len(suspects) > 1 else ""
    return NumericError(f"{what}: {why}{others}", file=model.card.origin, field=suspects[0])


def propagate_mc(model: CellModel, *, draws: int | None = None, seed: int | None = None,
                 digits: int = 2, batch: int = 100_000, max_draws: int = 5_000_000,
                 keep_draws: bool = False, progress=None) -> PropagationResult:
    """Monte Carlo propagation of a card's distributions to every output.

    Parameters
    ----------
    model : CellModel
    draws : int, optional
        A fixed number of draws.  Without it the adaptive procedure (JCGM 101 7.9) runs batches
        of ``batch`` draws until every output is stable to ``digits`` significant digits of its
        standard uncertainty, or ``max_draws`` are spent (then ``converged`` is False).
    seed : int, optional
        Seed of the random generator; chosen and recorded in the result when not given.
    keep_draws : bool
        Keep the draws: of every output as ``result.idata`` (one chain), of every input as
        ``result.inputs`` (for :meth:`PropagationResult.band`).
    progress : callable, optional
        Called with the number of draws done after each batch (a progress display).
    """
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    rng = np.random.default_rng(seed)
    quantities = list(model.outputs)
    singular = model.singularities()

    if draws is not None:
        if draws < 2:
            raise ValueError("Monte Carlo needs at least 2 draws")
        chunks = [_batch(model, rng, int(draws))]
        converged = True
    else:
        chunks, converged = _adaptive(model, rng, quantities, digits, batch, max_draws, progress, set(singular),
                                      keep_draws)
    rejected = sum(r for _, r, _ in chunks)
    y = {q: _join([c[q] for c, _, _ in chunks]) for q in quantities}
    total = len(chunks) * (int(draws) if draws is not None else batch) - rejected
    if total < 2:
        from ..priors import CardError

        raise CardError("fewer than 2 Monte Carlo draws give a derived porosity in (0, 1): the loading "
                        "does not fit the cathode's thickness and density", file=model.card.origin,
                        field="cathode.loading")

    stats = np.array([moments(y[q]) for q in quantities])
    gum = propagate_gum(model)
    summaries = []
    for q, st in zip(quantities, stats):
        entry = {"mean": float(st[0]), "sd": float(st[1]), "unit": model.outputs[q],
                 "ci95": [float(st[2]), float(st[3])]}
        tail = singular.get(q) or (heavy_tail(y[q]) if st[1] > 0 else None)
        if tail:
            entry.update(sd=None, median=float(np.median(y[q])), note=tail)
            if "the mean and the variance" in tail:
                entry["mean"] = None
        summaries.append(entry)
    ds = summary_dataset(
        quantities, summaries,
        attrs={"cell": model.card.name, "card": model.card.origin, "card_sha256": model.card.sha256,
               "method": "mc", "draws": total, "seed": seed,
               "significant_digits": digits if draws is None else 0, "converged": converged,
               "rejected_draws": rejected, "conventions": json.dumps(model.conventions())},
    )
    heavy = {q for q, s in zip(quantities, summaries) if s["sd"] is None}
    ds = add_covariance(ds, *joint_covariance({q: y[q] for q in quantities}, heavy))
    ds["shortest_low"] = ("quantity", stats[:, 4])
    ds["shortest_high"] = ("quantity", stats[:, 5])
    _first_order_check(ds, gum.dataset, digits)
    if not keep_draws:
        return PropagationResult(ds, model=model)
    idata = draws_idata({q: np.broadcast_to(y[q], (total,)) for q in quantities},
                        attrs={"method": "Monte Carlo (JCGM 101)", "seed": seed})
    inputs = {name: _join([x[name] for _, _, x in chunks]) for name in model.inputs}
    return PropagationResult(ds, idata=idata, model=model, inputs=inputs)


def joint_covariance(draws: dict[str, np.ndarray], heavy: set[str] | frozenset[str] = frozenset()):
    """Joint covariance of the draws of several quantities (JCGM 102, 7.5).

    Quantities that do not vary, or whose tail has no variance (``heavy``: those summarised
    without an sd), are left out.  Returns ``(names, matrix, note)``: the note names what was
    left out.
    """
    from .statistics import varies

    names, left = [], []
    for name, values in draws.items():
        if not varies(values):
            continue
        if name in heavy:
            left.append(name)
            continue
        names.append(name)
    if not names:
        return [], np.zeros((0, 0)), ""
    stacked = np.vstack([np.asarray(draws[n], dtype=float).ravel() for n in names])
    matrix = np.atleast_2d(np.cov(stacked))
    note = f"left out (no variance: heavy tail): {', '.join(left)}" if left else ""
    return names, matrix, note


def _join(parts: list):
    if np.ndim(parts[0]) == 0:
        return parts[0]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _adaptive(model, rng, quantities, digits, batch, max_draws, progress, heavy=frozenset(), keep=False):
    """JCGM 101 7.9.4: run batches until the batch statistics are stable to ``digits``.

    For an output without a variance (``heavy``) the mean and sd never settle: it stops on its
    interval ends alone, against the tolerance of their half-width.
    """
    chunks, per_batch = [], []
    while True:
        chunk, rejected, inputs = _batch(model, rng, batch)
        chunks.append((chunk, rejected, inputs if keep else {}))
        per_batch.append([moments(chunk[q])[:4] for q in quantities])
        h = len(chunks)
        if progress is not None:
            progress(h * batch)
        if h < 2:
            continue
        s = np.asarray(per_batch)  # (h, quantity, 4)
        spread = s.std(axis=0, ddof=1) / math.sqrt(h)
        u = s[:, :, 1].mean(axis=0)
        half_width = 0.5 * (s[:, :, 3] - s[:, :, 2]).mean(axis=0) / COVERAGE_95
        scale = np.array([half_width[i] if q in heavy else u[i] for i, q in enumerate(quantities)])
        tolerance = np.array([numerical_tolerance(float(v), digits) for v in scale])
        # An output that does not vary (a fixed capacity) is converged whatever rounding says.
        varies = scale > 1e-9 * np.abs(s[:, :, 0].mean(axis=0))
        stable = 2 * spread <= tolerance[:, None]
        for i, q in enumerate(quantities):
            if q in heavy:
                stable[i, :2] = True  # the mean and sd of a heavy tail never settle: not asked of them
        if np.all(stable[varies]):
            return chunks, True
        if h * batch >= max_draws:
            return chunks, False


def _first_order_check(ds: xr.Dataset, gum: xr.Dataset, digits: int) -> None:
    """JCGM 101 section 8, added to ``ds`` as ``first_order_*`` along ``quantity``."""
    y, u = gum["mean"].values, gum["sd"].values
    d_low = np.abs(y - COVERAGE_95 * u - ds["ci95_low"].values)
    d_high = np.abs(y + COVERAGE_95 * u - ds["ci95_high"].values)
    tol = np.array([numerical_tolerance(float(v), max(digits, 1)) for v in u])
    ds["first_order_d_low"] = ("quantity", d_low)
    ds["first_order_d_high"] = ("quantity", d_high)
    ds["first_order_tolerance"] = ("quantity", tol)
    ds["first_order_adequate"] = ("quantity", (d_low <= tol) & (d_high <= tol))
