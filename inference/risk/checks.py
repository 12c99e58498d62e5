"""Posterior predictive checks: how probable, under calibrated draws, is each outcome that the
observed cells had?  Evaluated with the likelihood's own terms (:mod:`.likelihood`) in numpy."""

from __future__ import annotations

import math

import numpy as np

from .likelihood import (Batch, hazard_between, log1mexp_neg, logsumexp_last, node_loglike, resistance_z,
                         fracture_hazard, inventory_term)


def _marginal_probability(values, weights) -> np.ndarray:
    """exp(log-likelihood) of each row, summed over its pressure nodes: (D, rows)."""
    from scipy.special import logsumexp

    return np.exp(logsumexp(values + weights, axis=-1))


def _survival(theta, b: Batch, rows: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """P(no short within ``cycles``) of entries ``rows``, marginalised over their nodes: (D, rows)."""
    ll = -hazard_between(theta, b, rows, np.zeros(rows.size), cycles, np)
    from scipy.special import logsumexp

    return _marginal_probability(logsumexp(ll + b.current_weight[rows][:, None, :], axis=-1),
                                 b.pressure_weight[rows])


def predictive_checks(draws: dict[str, np.ndarray], b: Batch, chunk: int = 500) -> list[dict]:
    """The posterior predictive probability of every observed outcome: the probability of an
    outcome at least as extreme as the one observed, in the direction it lies.

    * cracked or held: cells built alike (the same pressure, tape, electrode and selection) are
      pooled, and the probability is min(P(K >= k), P(K <= k)) for the number k of cracked cells
      among them (binomial given each draw; for all cracked, the probability that all crack);
    * survived N cycles: P(T > N); shorted in cycles a..b: min(P(T <= b), P(T >= a)), per cell;
    * a measured value (a resistance, a first-cycle loss, a fade): min(F, 1 - F) of the
      predictive CDF F at the observation; an efficiency statement: the probability it holds.

    * a group: cells cycled alike (the same conditions, the same pressure, tape, current and
      formation, from one entry with ``count = N`` or several) are checked together as well,
      since a probability per cell hides how improbable the outcomes are together.  For the
      shorted ones the count K of them still alive at the last cycle any of them is known to
      have shorted by, B, is binomial given each draw (cells independent given the draw):
      the group probability is P(K <= k), with k = 0 observed, and ``expected`` E[K].  For the
      ones that survived c cycles, P(all survive c).

    Each: ``{"cell", "outcome", "where", "probability"}``; a group check adds ``"group": True``,
    ``"cells"`` (how many) and ``"expected"`` (the predicted number still alive, for shorts).
    """
    n = next(iter(draws.values())).size
    groups: dict[tuple, list[int]] = {}
    for e in list(b.cracked_rows) + list(b.held_rows):
        groups.setdefault(_fracture_group(b, int(e)), []).append(int(e))
    short_groups = _short_groups(b)
    sums = _predictive_sums(draws, b, groups, short_groups, chunk)
    return [_check(kind, i, [v / n for v in values], b, groups, short_groups) for (kind, i), values in sums.items()]


def _predictive_sums(draws: dict[str, np.ndarray], b: Batch, groups: dict, short_groups: dict,
                     chunk: int) -> dict[tuple, list[float]]:
    """Per check (kind, index), the sums over the draws of the probabilities it is made of."""
    from scipy.special import ndtr
    from scipy.stats import binom

    n = next(iter(draws.values())).size
    sums: dict[tuple, list[float]] = {}

    def add(key, *values):
        sums.setdefault(key, [0.0] * len(values))
        for i, v in enumerate(values):
            sums[key][i] += float(np.sum(v))

    for start in range(0, n, chunk):
        theta = {k: np.asarray(v, float).ravel()[start:start + chunk][:, None, None, None] for k, v in draws.items()}
        for key, members in groups.items():
            rows = np.array(members[:1])
            hazard = fracture_hazard(theta, b, rows, np)
            p_cell = _marginal_probability(
                logsumexp_last(log1mexp_neg(hazard, np) + b.thickness_weight[rows][:, None, :], np),
                b.pressure_weight[rows])[:, 0]
            p_cell = np.clip(p_cell, 0.0, 1.0)
            total = int(sum(b.count[e] for e in members))
            k = int(sum(b.count[e] for e in members if e in b.cracked_rows))
            add(("fracture", key), binom.sf(k - 1, total, p_cell), binom.cdf(k, total, p_cell))
        if b.survival_rows.size:
            for i, p in enumerate(_survival(theta, b, b.survival_rows, b.survived).T):
                add(("survival", i), p)
        if b.event_rows.size:
            lasted = _survival(theta, b, b.event_rows, b.event_after)
            shorted = 1.0 - _survival(theta, b, b.event_rows, b.event_by)
            for i in range(b.event_rows.size):
                add(("event", i), shorted[:, i], lasted[:, i])
        for key, (rows, by, total) in short_groups.items():
            alive = _survival(theta, b, rows[:1], np.array([by]))[:, 0]
            add(("short group", key), (1.0 - alive) ** total, total * alive)
        for i in range(len(b.resistances)):
            rows, z, _ = resistance_z(theta, b, np.array([i]), np)
            weights = np.exp(b.pressure_weight[rows][:, :, None] + b.collector_weight)
            add(("resistance", i), (ndtr(z) * weights).sum(axis=(-1, -2))[:, 0])
        flat = {k: v.reshape(-1) for k, v in theta.items()}
        for i, obs in enumerate(b.inventory):
            value = inventory_term(obs, flat, np, cdf=True)
            add(("inventory", i), np.broadcast_to(value, flat["inventory.loss"].shape))

    return sums


def _check(kind: str, i, mean: list[float], b: Batch, groups: dict, short_groups: dict) -> dict:
    """One predictive check from the mean probabilities ``mean`` it is made of."""
    if kind == "fracture":
        members = groups[i]
        total = int(sum(b.count[e] for e in members))
        k = int(sum(b.count[e] for e in members if e in b.cracked_rows))
        names = ", ".join(b.names[e] for e in members)
        return {"cell": names, "outcome": f"{k} of {total} cracked",
                "where": ", ".join(f"{b.where[e]}.outcome" for e in members), "probability": min(mean)}
    if kind == "survival":
        e = int(b.survival_rows[i])
        return {"cell": b.names[e], "outcome": f"survived {b.survived[i]:.0f} cycles",
                "where": f"{b.where[e]}.outcome.cycles", "probability": mean[0]}
    if kind == "event":
        e = int(b.event_rows[i])
        first, last = b.event_after[i] + 1, b.event_by[i]
        words = f"shorted in cycle {last:.0f}" if first == last else f"shorted in cycles {first:.0f}-{last:.0f}"
        return {"cell": b.names[e], "outcome": words, "where": f"{b.where[e]}.outcome.short_cycle",
                "probability": min(mean)}
    if kind == "short group":
        rows, by, total = short_groups[i]
        names = ", ".join(b.names[e] + (f" (x{b.count[e]:.0f})" if b.count[e] > 1 else "") for e in rows)
        return {"cell": names, "outcome": f"all {total} shorted by cycle {by:.0f}",
                "where": ", ".join(f"{b.where[e]}.outcome.short_cycle" for e in rows),
                "probability": mean[0], "group": True, "cells": total, "expected": mean[1]}
    if kind == "resistance":
        obs = b.resistances[i]
        stage = "after" if obs["after"] else "before"
        measure = "|Z| at 0.1 Hz" if obs["modulus"] else "R_cell"
        return {"cell": b.names[obs["entry"]], "where": obs["where"], "probability": min(mean[0], 1.0 - mean[0]),
                "outcome": f"{measure} {stage} formation {math.exp(obs['log_value']):.4g} ohm cm2"}
    obs = b.inventory[i]
    p = mean[0] if obs["kind"] == "efficiency" else min(mean[0], 1.0 - mean[0])
    return {"cell": b.names[obs["entry"]], "outcome": obs["kind"].replace("_", " "), "where": obs["where"],
            "probability": p}


def entry_log_likelihood(draws: dict, b: Batch) -> np.ndarray:
    """Each observation entry's log-likelihood, draws by entries (D, E): its cells (``count`` of
    them) and its inventory observations.  Summed over entries it is
    :func:`~.likelihood.log_likelihood` (kept here, beside the other numpy evaluations, so that the
    likelihood module, whose bytes identify a calibration, stays as it was)."""
    from scipy.special import logsumexp

    theta = {k: np.asarray(v, float).reshape(-1, 1, 1, 1) for k, v in draws.items()}
    out = logsumexp(node_loglike(theta, b, np) + b.pressure_weight, axis=-1) * b.count
    flat = {k: v.ravel() for k, v in theta.items()}
    for obs in b.inventory:
        out[:, obs["entry"]] += obs["count"] * np.broadcast_to(inventory_term(obs, flat, np), out.shape[:1])
    return out


def _short_groups(b: Batch) -> dict[tuple, tuple[np.ndarray, float, int]]:
    """Shorted cells cycled alike, more than one in all: key -> (entry rows, the last cycle by
    which each shorted, how many cells)."""
    groups: dict[tuple, list[int]] = {}
    for i, e in enumerate(b.event_rows):
        groups.setdefault(_cycling_group(b, int(e)), []).append(i)
    out = {}
    for key, members in groups.items():
        rows = np.array([int(b.event_rows[i]) for i in members])
        total = int(sum(b.count[e] for e in rows))
        if total > 1:
            out[key] = (rows, float(max(b.event_by[i] for i in members)), total)
    return out


def _cycling_group(b: Batch, e: int) -> tuple:
    """What makes cells 'cycled alike' for a short: their fracture nodes, their current nodes and
    every constant (reservoir, capacity, formation, ...)."""
    constants = tuple(float(v[e, 0]) for _, v in sorted(b.constants.items()))
    return (*_fracture_group(b, e), tuple(np.round(b.current[e], 12)), constants)


def _fracture_group(b: Batch, e: int) -> tuple:
    """What makes cells 'built alike' for fracture: their nodes and constants."""
    c = b.constants
    return (tuple(np.round(b.pressure[e], 12)), tuple(np.round(b.thickness[e], 12)), float(c["area"][e, 0]),
            float(c["selected"][e, 0]), float(b.lab[e, 0]))


def event_probabilities(draws: dict[str, np.ndarray], b: Batch, horizon: float) -> dict:
    """What the draws predict for each observed cell, per draw, beside what happened: the
    ingredients of proper scores (Brier, log score) and of probability integral transforms.

    * ``fracture``: (entry, P(cracks) per draw (D,), cracked 0/1);
    * ``short``: (entry, P(shorts within h) per draw, shorted within h 0/1), with h the
      ``horizon`` (the decision's cycles) where the outcome tells, else the cycles a cell survived
      (a cell that survived fewer cycles than the horizon: did it short within them; no);
    * ``resistance``: (observation, predictive CDF at the observed value per draw): the PIT;
    * ``inventory``: (observation, predictive CDF per draw) of first-cycle losses and fades.
    """
    from scipy.special import ndtr

    theta = {k: np.asarray(v, float).ravel()[:, None, None, None] for k, v in draws.items()}
    out: dict[str, list] = {"fracture": [], "short": [], "resistance": [], "inventory": []}
    for e in sorted(int(x) for x in list(b.cracked_rows) + list(b.held_rows)):
        rows = np.array([e])
        hazard = fracture_hazard(theta, b, rows, np)
        p = _marginal_probability(logsumexp_last(log1mexp_neg(hazard, np) + b.thickness_weight[rows][:, None, :], np),
                                  b.pressure_weight[rows])[:, 0]
        out["fracture"].append((e, np.clip(p, 0.0, 1.0), 1.0 if e in set(b.cracked_rows.tolist()) else 0.0))
    for i, e in enumerate(b.survival_rows):
        h = min(float(b.survived[i]), horizon)
        alive = _survival(theta, b, np.array([e]), np.array([h]))[:, 0]
        out["short"].append((int(e), np.clip(1.0 - alive, 0.0, 1.0), 0.0))
    for i, e in enumerate(b.event_rows):
        shorted = float(b.event_by[i] <= horizon)
        alive = _survival(theta, b, np.array([e]), np.array([horizon]))[:, 0]
        out["short"].append((int(e), np.clip(1.0 - alive, 0.0, 1.0), shorted))
    for i in range(len(b.resistances)):
        rows, z, _ = resistance_z(theta, b, np.array([i]), np)
        weights = np.exp(b.pressure_weight[rows][:, :, None] + b.collector_weight)
        out["resistance"].append((i, (ndtr(z) * weights).sum(axis=(-1, -2))[:, 0]))
    flat = {k: v.reshape(-1) for k, v in theta.items()}
    for i, obs in enumerate(b.inventory):
        if obs["kind"] == "efficiency":
            continue  # a statement that holds or not, not a measured value
        value = inventory_term(obs, flat, np, cdf=True)
        out["inventory"].append((i, np.broadcast_to(value, flat["inventory.loss"].shape)))
    return out
