"""A campaign's batch: the best cells, and cells chosen for what building them may gain.

What a lab gets from a batch is its best cell that truly meets every limit.  Under the posterior,
each draw d is a possible truth: a design x is worth v_d(x) = E_d(x) (the objective's quantity,
e.g. E_V at the cycling current) where every limit holds under that draw (P_fracture, P_short and
the ohmic drop below their limits, the retention above its own), and 0 where one breaks.  A batch
B is worth E_d[max over x in B of v_d(x)].

The *expected gain* of adding x to a batch is E_d[max(V_d, v_d(x))] - E_d[V_d], with V_d the
batch's worth so far: the expected improvement of the batch's best truly feasible cell (a
q-expected-improvement built greedily; Ginsbourger, Le Riche & Carraro 2010).  It is large where
the posterior is unsure and the design may be both feasible and better than the batch, small for
a near-copy of a cell already in it: the cells it picks are the ones that explore, hedged
against the posterior being wrong about the best cell's limits.  Candidates are the search's
designs that meet the decision's limits as the decision holds them (its means or its chance
constraint), and differ from the batch by the campaign's diversity.
"""

from __future__ import annotations

import numpy as np

from .study import QUANTITY_OF


def worth(values: dict[str, np.ndarray], settings) -> np.ndarray:
    """v_d of a scored design: the objective's quantity per draw where every limit holds under the
    draw, else 0."""
    feasible = settings.limits.feasible(values)
    energy = np.asarray(values[QUANTITY_OF[settings.objective]], float)
    return np.where(feasible & np.isfinite(energy), np.maximum(energy, 0.0), 0.0)


def expected_gains(scorer, settings, chosen: list[dict]) -> list[float]:
    """The expected gain of each of ``chosen`` in turn (the first: its expected worth)."""
    best = None
    out = []
    for design in chosen:
        v = worth(scorer.score(design), settings)
        before = 0.0 if best is None else float(np.mean(best))
        best = v if best is None else np.maximum(best, v)
        out.append(float(np.mean(best)) - before)
    return out


def explore(scorer, settings, chosen: list[dict], candidates: list[dict], k: int,
            far_enough) -> list[tuple[dict, float]]:
    """Up to ``k`` designs from ``candidates`` added to ``chosen`` one by one, each the one of
    largest expected gain (see the module) among those ``far_enough(design, batch)``; with the gain
    of each.  A candidate of no expected gain is not taken."""
    batch = list(chosen)
    best = None
    for design in batch:
        v = worth(scorer.score(design), settings)
        best = v if best is None else np.maximum(best, v)
    scored = [(d, worth(scorer.score(d), settings)) for d in candidates]
    out: list[tuple[dict, float]] = []
    for _ in range(k):
        base = 0.0 if best is None else float(np.mean(best))
        pick, gain = None, 0.0
        for design, v in scored:
            if not far_enough(design, batch):
                continue
            g = float(np.mean(v if best is None else np.maximum(best, v))) - base
            if g > gain:
                pick, gain, chosen_v = design, g, v
        if pick is None:
            break
        batch.append(pick)
        out.append((pick, gain))
        best = chosen_v if best is None else np.maximum(best, chosen_v)
    return out
