"""Does a campaign's posterior predict what the lab built?  Scored before the cells enter it.

Each record is judged against the posterior that proposed it, before that posterior learns from it
(a prequential check; Dawid 1984):

* fracture and short circuit: the predicted probability p of each recorded cell's event (cracked;
  shorted within the decision's cycles, or within the cycles it survived where fewer) against
  what happened (y = 0 or 1): the Brier score (p - y)^2 and the log score -ln p(y), means over the
  cells, beside what the predictive itself expects of them (Brier: the mean of p (1 - p));
* measured values (R_cell or |Z| at 0.1 Hz, the first-cycle loss, a fade): the probability
  integral transform u = F(observed) under the predictive; the share of u inside [0.025, 0.975]
  is the coverage of the 95 % predictive intervals, and the u are listed;
* surprise: how probable outcomes at least as bad as the lab's were under the predictive itself,
  for the events (the log score of outcomes simulated from the predictive, draw by draw, so that
  cells sharing the posterior's parameters are judged together) and for the intervals (the
  number outside, binomial with 5 %).  Below :data:`SURPRISE` the posterior was overconfident
  about this lab: the campaign widens it before the cells enter (design/recalibration.py).
"""

from __future__ import annotations

import math

import numpy as np

from ..priors.lab import ObservedCells

SURPRISE = 0.05
"""Outcomes less probable than this under the posterior's own predictive widen the posterior."""
WIDEN = 1.5
"""The factor on the posterior's spread (unbounded coordinates) when the lab's cells surprise it."""
MAX_DRAWS = 2000
RISKS = ("fracture", "short")


def calibration(draws: dict[str, np.ndarray], cells: ObservedCells, horizon: float,
                rng: np.random.Generator) -> dict:
    """The scores of ``cells`` under posterior ``draws`` (see the module): ``cells`` (one row per
    scored outcome), ``risks`` (per risk: ``n``, ``brier``, ``expected_brier``, ``log_score``,
    ``mean_p``, ``observed``), ``intervals`` (per quantity: ``n``, ``inside``, ``coverage``,
    ``pit``), ``surprise`` (``events``, ``intervals``: probabilities; ``surprised``: bool)."""
    from ..inference.risk.checks import event_probabilities
    from ..inference.risk.likelihood import build_batch
    from ..priors.risk import load_nuisances
    from .recalibration import with_lab_offsets

    base = with_lab_offsets(draws, rng)
    size = next(iter(base.values())).size
    if size > MAX_DRAWS:
        pick = rng.choice(size, MAX_DRAWS, replace=False)
        base = {k: v[pick] for k, v in base.items()}
    batch = build_batch(cells, load_nuisances())
    events = event_probabilities(base, batch, horizon)
    rows, risks = [], {}
    per_draw, observed = [], []
    for risk in RISKS:
        ps, ys = [], []
        for e, p_draws, y in events[risk]:
            p = float(np.mean(p_draws))
            ps.append(p)
            ys.append(y)
            per_draw.append(p_draws)
            observed.append((p, y))
            rows.append({"cell": batch.names[e], "risk": risk, "p": p, "happened": bool(y),
                         "horizon": horizon if risk == "short" else None})
        if ps:
            p_, y_ = np.array(ps), np.array(ys)
            risks[risk] = {"n": len(ps), "brier": float(np.mean((p_ - y_) ** 2)),
                           "expected_brier": float(np.mean(p_ * (1 - p_))),
                           "log_score": float(np.mean(-np.log(np.clip(np.where(y_ > 0, p_, 1 - p_), 1e-12, 1)))),
                           "mean_p": float(np.mean(p_)), "observed": float(np.mean(y_))}
    intervals: dict[str, dict] = {}
    for kind in ("resistance", "inventory"):
        for i, cdf in events[kind]:
            u = float(np.mean(cdf))
            if kind == "resistance":
                obs = batch.resistances[i]
                quantity = "R_cell" if not obs["modulus"] else "|Z| at 0.1 Hz"
                cell = batch.names[obs["entry"]]
            else:
                obs = batch.inventory[i]
                quantity = obs["kind"]
                cell = batch.names[obs["entry"]]
            slot = intervals.setdefault(quantity, {"n": 0, "inside": 0, "pit": []})
            slot["n"] += 1
            slot["inside"] += int(0.025 < u < 0.975)
            slot["pit"].append(round(u, 4))
            rows.append({"cell": cell, "quantity": quantity, "pit": u, "inside": 0.025 < u < 0.975})
    for slot in intervals.values():
        slot["coverage"] = slot["inside"] / slot["n"]
    surprise = _surprise(per_draw, observed, intervals, rng)
    return {"cells": rows, "risks": risks, "intervals": intervals, "surprise": surprise, "horizon": horizon}


def _surprise(per_draw: list[np.ndarray], observed: list[tuple[float, float]], intervals: dict,
              rng: np.random.Generator) -> dict:
    from scipy.stats import binom

    out: dict = {"events": None, "intervals": None}
    if observed:
        p = np.clip(np.array([q for q, _ in observed]), 1e-12, 1 - 1e-12)
        y = np.array([v for _, v in observed])
        score = float(np.sum(-np.log(np.where(y > 0, p, 1 - p))))
        draws = np.column_stack(per_draw)                     # (D, events)
        simulated = rng.random(draws.shape) < draws
        scores = np.sum(-np.log(np.where(simulated, p, 1 - p)), axis=1)
        out["events"] = float(np.mean(scores >= score - 1e-9))
    n = sum(s["n"] for s in intervals.values())
    if n:
        outside = n - sum(s["inside"] for s in intervals.values())
        out["intervals"] = float(binom.sf(outside - 1, n, 0.05))
    out["surprised"] = any(v is not None and v < SURPRISE for v in (out["events"], out["intervals"]))
    return out


def round_calibration(checks: list[dict]) -> dict:
    """Checks of several records of one round pooled: the same fields without the surprise, and
    ``widened`` (whether any of them widened the posterior); empty without a check."""
    if not checks:
        return {}
    risks: dict[str, dict] = {}
    intervals: dict[str, dict] = {}
    for check in checks:
        for risk, s in check["risks"].items():
            r = risks.setdefault(risk, {"n": 0, "_b": 0.0, "_e": 0.0, "_l": 0.0, "_p": 0.0, "_y": 0.0})
            r["n"] += s["n"]
            for key, field in (("_b", "brier"), ("_e", "expected_brier"), ("_l", "log_score"), ("_p", "mean_p"),
                               ("_y", "observed")):
                r[key] += s[field] * s["n"]
        for quantity, s in check["intervals"].items():
            q = intervals.setdefault(quantity, {"n": 0, "inside": 0, "pit": []})
            q["n"] += s["n"]
            q["inside"] += s["inside"]
            q["pit"] += s["pit"]
    out_risks = {risk: {"n": r["n"], "brier": r["_b"] / r["n"], "expected_brier": r["_e"] / r["n"],
                        "log_score": r["_l"] / r["n"], "mean_p": r["_p"] / r["n"], "observed": r["_y"] / r["n"]}
                 for risk, r in risks.items() if r["n"]}
    for q in intervals.values():
        q["coverage"] = q["inside"] / q["n"] if q["n"] else math.nan
    return {"risks": out_risks, "intervals": intervals,
            "widened": any(c.get("widened", 1.0) > 1.0 for c in checks)}
