"""A campaign's recalibration: fold the records its current posterior does not cover into a new
posterior, stored beside the others (:mod:`nassb.design.campaign`, whose docstring tells how).

A recalibration reweights the current posterior by the likelihood of the cells it does not
cover (:func:`nassb.inference.risk.likelihood.log_likelihood`), Pareto-smoothed (PSIS): accepted
when k-hat < 0.7, the effective sample size >= 400 and the distinct draws >= 400, then resampled
to equal-weight draws and moved apart by Metropolis steps on the new posterior (so that
reweighting after reweighting does not collapse onto a few draws).  Where that gate refuses,
tempered sequential Monte Carlo with the same moves; only where that is refused too, NUTS
(:func:`~nassb.inference.risk.calibrate.calibrate_risks`) on the paper's cells and every record.
The moves target the posterior written down in numpy
(:func:`~nassb.design.recalibration.posterior_log_density`: the priors, the paper's cells and the
records the current posterior holds, to the power of a widening where there was one).  The first
lab cells bring the lab-level offsets (``lab.strength``, ``lab.ccd``, ``lab.contact`` and the
lab's own sensitivities of the short circuit) that the paper's posterior has no draws of: the
reweighting draws them from their priors (priors/data/risk.toml), several per paper draw, so
that the weights target the posterior of the paper and the lab together.

Before the new cells enter, what the posterior predicted for them is scored
(:mod:`nassb.design.calibration`) and, where they surprise it, the posterior is widened first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..priors.display.campaign import calibration_words
from . import campaign_records as records_
from .calibration import WIDEN, calibration
from .campaign_store import now, parameter_summary, posterior_draws, shipped_risk, store_posterior
from .recalibration import gate_words, posterior_log_density, reweight, temper, temper_words, widen

if TYPE_CHECKING:
    from .campaign import Campaign


def recalibrate(campaign: Campaign, *, recalibration: str = "auto", nuts: dict | None = None,
                seed: int | None = None, progress: bool = False) -> dict:
    """Fold every record the current posterior of ``campaign`` does not cover into a new
    posterior (stored); its JSON entry with the ``notes`` a user must read."""
    from ..inference.risk.calibrate import observed_range
    from ..inference.risk.predict import RiskModel
    from ..priors.risk import load_risk_observations

    records = campaign._records()
    current = campaign._current_posterior()
    covered = set(current["records"]) if current else set()
    new = [r for r in records if r["key"] not in covered]
    if not new:
        return {**campaign._posterior_json(current), "notes": []}
    notes: list[str] = []
    if seed is None:  # the campaign's own: the same records choose and draw the same way
        seed = records_.recalibration_seed(campaign.name, new)
    rng = np.random.default_rng(seed)
    # The draws of the posterior that `covered` describes, not whatever is current by now (a
    # posterior stored meanwhile by another process may cover some of `new` already).
    prior_draws = posterior_draws(campaign.study, current["key"]) if current else shipped_risk().draws
    all_cells = records_.parse_records(records)
    new_cells = records_.parse_records(new)
    assert all_cells is not None and new_cells is not None  # there are new records
    prior_draws, check = _checked(prior_draws, new_cells, float(campaign.decision.operating.cycles), rng, progress,
                                  notes)
    check["rounds"] = sorted({r["round"] for r in new})
    # The moves target the posterior itself: the priors, the paper's cells and the records it
    # holds (all numpy), to the power of the widening where there was one.
    before = records_.parse_records([r for r in records if r["key"] in covered])
    base = posterior_log_density(before, 1.0 / check["widened"] ** 2)
    draws, method, gate = _sampled(prior_draws, new_cells, all_cells, recalibration, nuts, seed, rng, progress,
                                   notes, base)
    cells = load_risk_observations() + all_cells
    model = RiskModel(draws)
    entry = {"records": sorted(r["key"] for r in records), "method": method, "gate": gate, "calibration": check,
             "fingerprint": model.fingerprint, "observed_range": observed_range(cells), "lab": campaign.name,
             "parameters": parameter_summary(draws), "created": now(),
             "cells": int(sum(c.count for c in all_cells)),
             "rounds": sorted({r["round"] for r in records})}
    key = store_posterior(campaign.study, entry, draws)
    campaign._risk_cache = None
    return {**campaign._posterior_json({**entry, "key": key}), "notes": notes}


def _checked(prior_draws: dict, new_cells, cycles: float, rng, progress: bool, notes: list[str]):
    """What the posterior predicted for the new cells before they enter it (design/calibration.py);
    where they surprise it, it is widened first: it was overconfident about this lab."""
    check = calibration(prior_draws, new_cells, cycles, rng)
    for line in calibration_words(check):
        records_.say(progress, line)
    if check["surprise"]["surprised"]:
        prior_draws = widen(prior_draws, WIDEN)
        notes.append(f"the new cells were less probable under the posterior than its own predictive allows "
                     f"({_surprise_words(check)}): its spread was widened {WIDEN:g} times (a power "
                     f"{1 / WIDEN ** 2:.2f} of it) before they entered")
    check["widened"] = WIDEN if check["surprise"]["surprised"] else 1.0
    return prior_draws, check


def _sampled(prior_draws: dict, new_cells, all_cells, recalibration: str, nuts: dict | None, seed: int, rng,
             progress: bool, notes: list[str], base=None) -> tuple[dict, str, dict]:
    """The new posterior's draws, how they were obtained and the gate they passed: reweighting,
    sequential Monte Carlo, or NUTS where those fail (or where asked for)."""
    method, gate = "nuts", dict[str, Any]()
    draws = None
    if recalibration == "nuts":
        reason = "NUTS asked for (recalibration='nuts')"
    else:
        if recalibration in ("auto", "reweight"):
            records_.say(progress, f"reweighting the posterior by {int(sum(c.count for c in new_cells))} new "
                                   "cell(s) (PSIS)")
            draws, gate = reweight(prior_draws, new_cells, rng, base=base)
            accepted, reason = gate_words(gate)
            method = "reweighting"
            if not accepted and recalibration == "reweight":
                notes.append(f"the reweighting fails its gate (k-hat {gate['k_hat']:.2f}, ESS {gate['ess']:.0f}, "
                             f"{gate['distinct']} distinct draws): recalibrate with sequential Monte Carlo "
                             "(recalibration='smc') or NUTS (recalibration='nuts')")
        if recalibration == "smc" or (recalibration == "auto" and not accepted):
            records_.say(progress, (f"{reason}; " if recalibration == "auto" else "")
                         + "sequential Monte Carlo from the posterior (tempered likelihood, Metropolis moves)")
            draws, gate = temper(prior_draws, new_cells, rng, base=base,
                                 progress=(lambda line: records_.say(True, line)) if progress else None)
            accepted, reason = temper_words(gate)
            method = "smc"
            if not accepted and recalibration == "auto":
                draws = None
            elif not accepted:
                notes.append(f"{reason}: recalibrate with NUTS (recalibration='nuts')")
    if draws is None:
        draws, gate = _nuts(all_cells, reason, nuts, seed, progress, notes)
        method = "nuts"
    else:
        records_.say(progress, f"{reason}; kept")
    return draws, method, {**gate, "reason": reason, "seed": seed}


def _nuts(all_cells, reason: str, nuts: dict | None, seed: int, progress: bool, notes: list[str]):
    """NUTS on the paper's cells and every record: the draws and what it says of itself."""
    from ..inference.risk.calibrate import calibrate_risks

    settings = dict(nuts or {})
    lab_cells = int(sum(c.count for c in all_cells))
    estimate = records_.nuts_estimate_s(lab_cells, settings)
    records_.say(progress, f"{reason}; NUTS on the paper's cells and {lab_cells} lab cell(s), "
                           f"{records_.duration_words(estimate)} (a rough estimate from the 2-core benchmark)")
    result = calibrate_risks(observations=all_cells, with_paper=True, seed=seed, progress=progress, **settings)
    notes.extend(result.warnings)
    return result.risk_model().draws, {"diagnostics": result.diagnostics.to_json(), "nuts_estimate_s": round(estimate)}


def _surprise_words(check: dict) -> str:
    s = check["surprise"]
    return ", ".join(f"{what} {p:.3f}" for what, p in (("events", s["events"]), ("intervals", s["intervals"]))
                     if p is not None) + " probable or less"
