"""Campaigns against SYNTHETIC true labs whose laws differ from nassb's (tests/design/simlab_labs.py).

:func:`run_campaign` drives the public campaign API round by round (propose, build in the lab,
record, recalibrate) and tracks what a lab would judge it by: the best truly feasible cell built so
far, the share of built cells that truly break a limit, how well the proposals' predicted risks
score against what the cells did (Brier and log score), whether each built cell's true R_cell and
energy lay in the proposal's 95 % interval, and how long each record took with which method.
Beside it, the baseline of the issue: random designs that look feasible to a plain reading of the
paper (the shipped posterior, no lab data), the same number per round
(:func:`random_feasible_looking_batch`, :func:`random_baseline`), and the lab's true optimum by
brute force (:func:`true_optimum`).  :func:`summarise` turns tracks of several labs into one row
per round.  Used by tests/design/test_campaign_truth.py and bench/bench_campaign_truth.py.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from nassb.design.campaign import Campaign
from nassb.design.decision import Decision
from nassb.design.study import QUANTITY_OF, constraints

from .simlab_labs import LABS, PAPER_BANDS, Built, TrueLab, Truth, labs, paper_check

POOL = 400
"""Feasible-looking designs drawn once per card and decision; random batches are drawn from them."""
REPEATS = 200
"""Random campaigns per lab whose median is the baseline."""
_SHIPPED: dict = {}


# -- the space and the plain reading of the paper -------------------------------------------------

def _card_and_decision(campaign_or_card, decision: Decision | None):
    from nassb.priors import CellCard, load_card

    if isinstance(campaign_or_card, Campaign):
        return campaign_or_card.card, decision if decision is not None else campaign_or_card.decision
    card = campaign_or_card if isinstance(campaign_or_card, CellCard) else load_card(campaign_or_card)
    return card, decision if decision is not None else Decision.make()


def _shipped(card, decision: Decision):
    """The shipped posterior's scorer, settings, calibrated range and design space (cached)."""
    key = (card.sha256, decision)
    if key not in _SHIPPED:
        from nassb.design import extrapolation
        from nassb.design.run import search_space
        from nassb.design.study import make_scorer
        from nassb.inference.risk.predict import RiskModel

        risk = RiskModel.load()
        settings = decision.search_settings(card.sha256, risk.fingerprint)
        scorer = make_scorer(card, risk, settings)
        ranges = extrapolation.calibrated_range(risk)
        _SHIPPED[key] = (scorer, settings, ranges, search_space(card, scorer, settings, ranges))
    return _SHIPPED[key]


def _design(space, u) -> dict[str, float]:
    """The design at unit-cube coordinates ``u`` (log-scaled where the space is)."""
    out = {}
    for v, x in zip(space, u):
        if v.fixed:
            out[v.name] = v.low
        else:
            out[v.name] = float(v.low * (v.high / v.low) ** x) if v.log else float(v.low + x * (v.high - v.low))
    return out


def random_feasible_looking_batch(campaign_or_card, k: int, rng: np.random.Generator,
                                  decision: Decision | None = None, tries: int = 20000) -> list[dict]:
    """``k`` random designs of the search space (uniform, log-uniform where the space is) that meet
    the decision's limits under the shipped posterior: feasible to a plain reading of the paper."""
    card, decision = _card_and_decision(campaign_or_card, decision)
    scorer, settings, ranges, space = _shipped(card, decision)
    out: list[dict] = []
    for _ in range(tries):
        design = _design(space, rng.random(len(space.names())))
        if all(v <= 0 for v in constraints(scorer.score(design), settings, ranges).values()):
            out.append(design)
            if len(out) == k:
                break
    return out


def true_optimum(lab: TrueLab, space=None, decision: Decision | None = None, *, points: int = 4096,
                 polish: int = 4) -> tuple[float, dict]:
    """The lab's best truly feasible design by brute force: a scrambled Sobol sequence of
    ``points`` over the space, then Nelder-Mead from the ``polish`` best feasible points."""
    from scipy.optimize import minimize
    from scipy.stats import qmc

    card, decision = _card_and_decision(lab.card, decision)
    space = space if space is not None else _shipped(card, decision)[3]
    dims = len(space.names())
    cube = qmc.Sobol(dims, scramble=True, seed=lab.seed).random(points)
    scored = []
    for u in cube:
        truth = lab.truth(_design(space, u), decision)
        if truth.feasible:
            scored.append((truth.value, u))
    scored.sort(key=lambda s: -s[0])

    def loss(u):
        if np.any(u < 0) or np.any(u > 1):
            return 1e6
        truth = lab.truth(_design(space, u), decision)
        return -truth.value if truth.feasible else 1e6

    best_value, best_u = (scored[0][0], scored[0][1]) if scored else (0.0, None)
    for _, u in scored[:polish]:
        result = minimize(loss, u, method="Nelder-Mead",
                          options={"maxfev": 300, "xatol": 1e-3, "fatol": 0.05, "initial_simplex": None})
        if -result.fun > best_value:
            best_value, best_u = -result.fun, result.x
    return float(best_value), (_design(space, best_u) if best_u is not None else {})


def random_baseline(lab: TrueLab, rounds: int = 3, batch: int = 4, *, decision: Decision | None = None,
                    repeats: int = REPEATS, seed: int = 0) -> list[dict]:
    """Random campaigns on the lab: ``batch`` feasible-looking designs a round (drawn from a pool
    of :data:`POOL`), per round the median (and 10-90 %) of the best truly feasible value built
    so far and the mean share of truly infeasible cells."""
    card, decision = _card_and_decision(lab.card, decision)
    pool = _pool(card, decision)
    truths = [lab.truth(d, decision) for d in pool]
    value = np.array([t.value if t.feasible else 0.0 for t in truths])
    bad = np.array([not t.feasible for t in truths])
    rng = np.random.default_rng(seed)
    picks = np.array([rng.choice(len(pool), rounds * batch, replace=False) for _ in range(repeats)])
    out = []
    for r in range(rounds):
        upto = picks[:, :(r + 1) * batch]
        best = value[upto].max(axis=1)
        out.append({"round": r + 1, "best": float(np.median(best)), "best_10": float(np.quantile(best, 0.1)),
                    "best_90": float(np.quantile(best, 0.9)),
                    "violations": float(bad[picks[:, r * batch:(r + 1) * batch]].mean())})
    return out


def _pool(card, decision: Decision) -> list[dict]:
    key = ("pool", card.sha256, decision)
    if key not in _SHIPPED:
        _SHIPPED[key] = random_feasible_looking_batch(card, POOL, np.random.default_rng(20261207), decision)
    return _SHIPPED[key]


# -- a campaign on a lab ---------------------------------------------------------------------------

def _entry(campaign: Campaign, name: str, lab: TrueLab, built: Built) -> str:
    cathode = "" if built.cracked else f"[cells.cathode]\n{built.cathode}"
    return (f'[[cells]]\nbase = "{name}.toml"\nname = "{campaign.name}-{name}"\n'
            f'source = "SYNTHETIC: built by the simulated lab {lab!r}"\n{cathode}[cells.outcome]\n{built.outcome}')


def _inside(interval, value: float) -> bool:
    return bool(interval[0] <= value <= interval[1])


def _cell(proposal: dict, truth: Truth, built: Built, quantity: str) -> dict:
    """What one built cell tells of its proposal's predictions."""
    q = proposal["quantities"]
    return {"name": proposal["name"], "truth": truth._asdict(), "cracked": built.cracked, "shorted": built.shorted,
            "predicted": {"P_fracture": q["P_fracture"]["mean"], "P_short": q["P_short"]["mean"],
                          "R_cell": q["R_cell"]["mean"], quantity: q[quantity]["mean"]},
            "r_cell": built.r_cell, "energy": built.energy,
            # The interval a built cell should fall in (nassb.design.score.built_interval), not the
            # posterior of the design's own resistance, which is not meant to hold 95 % of its cells.
            "covered": {"R_cell": _inside(q["R_cell"].get("built95", q["R_cell"]["ci95"]), built.r_cell),
                        "energy": _inside(q[quantity]["ci95"], built.energy)}}


def run_campaign(lab: TrueLab, folder: str | Path, rounds: int = 3, batch: int = 4, *, seed: int = 0,
                 trials: int = 60, recalibration: str = "auto", repeats: int = REPEATS,
                 **campaign_options) -> dict:
    """A campaign of ``rounds`` rounds of ``batch`` cells on the lab, and the random baseline.

    Each round proposes (``trials`` search trials), builds every proposal in the lab, writes the
    observations file (each entry names its proposal's card as ``base``) and records it with
    ``recalibration``.  ``campaign_options`` go to :meth:`Campaign.start` (``limit_confidence``, ...).

    Returns ``{"lab", "kind", "rounds": [...], "random": [...]}``; a round holds ``best`` (the
    best truly feasible value built so far; 0 when none), ``violations`` (share of its cells
    truly infeasible), ``cells`` (per cell: truth, what it did, predicted risks, coverage),
    ``record_s``, ``method``, ``ess`` and the campaign's notes.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    name = f"sim-{lab.name}-{lab.seed}"
    campaign = Campaign.start(name, card=lab.card, storage=f"sqlite:///{folder / 'campaign.db'}",
                              **campaign_options)
    decision = campaign.decision
    quantity = QUANTITY_OF[decision.objective]
    best, rows = 0.0, []
    for r in range(1, rounds + 1):
        here = folder / f"round{r}"
        proposed = campaign.propose(batch, out=here, trials=trials, seed=int(rng.integers(2**31)))
        cells, entries = [], ['[lab]\nname = "synthetic-true-lab"\n']
        for p in proposed.proposals:
            design = {k: v["value"] for k, v in p["design"].items() if k != "cathode.thickness"}
            truth, built = lab.truth(design, decision), lab.build(design, rng, decision)
            cells.append(_cell(p, truth, built, quantity))
            entries.append(_entry(campaign, p["name"], lab, built))
        best = max([best] + [c["truth"]["value"] for c in cells if c["truth"]["feasible"]])
        row = {"round": r, "built": len(cells), "best": best, "cells": cells, "notes": list(proposed.warnings),
               "violations": float(np.mean([not c["truth"]["feasible"] for c in cells])) if cells else 0.0,
               "record_s": 0.0, "method": "", "ess": math.nan}
        if cells:
            path = here / "built.toml"
            path.write_text("\n".join(entries), "utf-8")
            start = time.perf_counter()
            result = campaign.record(path, recalibration=recalibration, seed=int(rng.integers(2**31)))
            row.update(record_s=time.perf_counter() - start, method=result.method,
                       ess=float(result.posterior.get("gate", {}).get("ess", math.nan)))
            row["notes"] += list(result.warnings)
        rows.append(row)
    return {"lab": repr(lab), "kind": lab.name, "rounds": rows,
            "random": random_baseline(lab, rounds, batch, decision=decision, repeats=repeats, seed=seed)}


# -- over labs -----------------------------------------------------------------------------------

def _brier(cells: list[dict], risk: str, outcome: str, truth: bool = False) -> tuple[float, float, int]:
    """Brier and log score of the predicted (or the true) probabilities over the cells with an outcome."""
    pairs = [((c["truth"]["p_fracture" if risk == "P_fracture" else "p_short"] if truth else c["predicted"][risk]),
              float(c[outcome])) for c in cells if c[outcome] is not None]
    if not pairs:
        return math.nan, math.nan, 0
    p, y = np.clip(np.array(pairs).T, [[1e-6], [0.0]], [[1 - 1e-6], [1.0]])
    return float(np.mean((p - y) ** 2)), float(np.mean(-(y * np.log(p) + (1 - y) * np.log1p(-p)))), len(pairs)


def summarise(tracks: list[dict]) -> list[dict]:
    """One row per round over the labs: median best (campaign, random), violation shares, Brier
    and log scores of P_short and P_fracture (pooled over the round's cells of every lab; ``truth``:
    what the true probabilities score), R_cell and energy coverage (cells of this round and all
    rounds so far), record seconds (median, max) and the methods."""
    out = []
    for i in range(len(tracks[0]["rounds"])):
        rounds = [t["rounds"][i] for t in tracks]
        cells = [c for r in rounds for c in r["cells"]]
        upto = [c for t in tracks for r in t["rounds"][:i + 1] for c in r["cells"]]
        row = {"round": i + 1, "best": float(np.median([r["best"] for r in rounds])),
               "random_best": float(np.median([t["random"][i]["best"] for t in tracks])),
               "violations": float(np.mean([r["violations"] for r in rounds])),
               "random_violations": float(np.mean([t["random"][i]["violations"] for t in tracks])),
               "cells": len(cells)}
        for risk, outcome in (("P_short", "shorted"), ("P_fracture", "cracked")):
            row[f"brier_{risk}"], row[f"log_{risk}"], row[f"n_{risk}"] = _brier(cells, risk, outcome)
            row[f"brier_{risk}_truth"] = _brier(cells, risk, outcome, truth=True)[0]
            row[f"predicted_{risk}"] = float(np.mean([c["predicted"][risk] for c in cells])) if cells else math.nan
            key = "p_fracture" if risk == "P_fracture" else "p_short"
            row[f"true_{risk}"] = float(np.mean([c["truth"][key] for c in cells])) if cells else math.nan
        for name in ("R_cell", "energy"):
            row[f"coverage_{name}"] = float(np.mean([c["covered"][name] for c in cells])) if cells else math.nan
            row[f"coverage_{name}_so_far"] = float(np.mean([c["covered"][name] for c in upto])) if upto else math.nan
        ratio = [c["predicted"]["R_cell"] / c["r_cell"] for c in cells]
        row["r_ratio"] = float(np.median(ratio)) if ratio else math.nan
        row["record_s"] = float(np.median([r["record_s"] for r in rounds]))
        row["record_s_max"] = float(np.max([r["record_s"] for r in rounds]))
        row["methods"] = sorted({r["method"] for r in rounds if r["method"]})
        out.append(row)
    return out


__all__ = ["LABS", "PAPER_BANDS", "POOL", "REPEATS", "Built", "TrueLab", "Truth", "labs", "paper_check",
           "random_baseline", "random_feasible_looking_batch", "run_campaign", "summarise", "true_optimum"]
