"""A lab campaign's status (:meth:`nassb.design.campaign.Campaign.status`): rounds, proposals
and outcomes, the posterior after each recalibration, and the best cell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .calibration import round_calibration
from .campaign_store import card_of
from .study import describe, describe_design, rate_words

if TYPE_CHECKING:
    from .campaign import Campaign


def status_document(campaign: Campaign) -> tuple[dict, list[str]]:
    """The status document of ``campaign`` (what :class:`~.campaign_results.StatusResult`
    holds) and the notes a reader must see beside it."""
    proposals = campaign._proposals()
    records = campaign._records()
    rounds = sorted({p["round"] for p in proposals} | {r["round"] for r in records})
    checks = [p["calibration"] for p in campaign._posteriors() if p.get("calibration")]
    table = [{"round": r, "proposed": sum(1 for p in proposals if p["round"] == r),
              "recorded": sum(1 for x in records if x["round"] == r),
              "open": sum(1 for p in proposals if p["round"] == r and p["open"]),
              "calibration": round_calibration([c for c in checks if r in c.get("rounds", [])]) or None}
             for r in rounds]
    scorer, settings, ranges = campaign._scorer()
    candidates = [("proposed", p["name"], p["design_values"]) for p in proposals if p["open"]]
    candidates += [("recorded", b["name"], b["design"]) for b in campaign._built_designs(scorer)]
    best = None
    for source, name, design in candidates:
        entry = describe_design(scorer, settings, design, ranges=ranges)
        if entry["feasible"] and (best is None or entry["objective"] > best["objective"]):
            best = {"name": name, "source": source, **entry}
    notes = []
    if candidates and best is None:
        notes.append("no recorded or proposed cell meets the limits under the current posterior")
    pending = campaign._pending_records()
    waiting = {r["key"] for r in pending}
    if pending:
        notes.append(f"{len(pending)} record(s) are not yet in the posterior: "
                     f"{', '.join(r['name'] for r in pending)} ('nassb campaign recalibrate {campaign.name}' or the "
                     "next propose or record folds them in)")
    shipped = campaign._posterior_json(None)
    posteriors = [{"index": 0, "method": "shipped", "records": 0, "rounds": [], "fingerprint":
                   shipped["fingerprint"], "parameters": shipped["parameters"]}]
    for i, p in enumerate(campaign._posteriors()):
        posteriors.append({"index": i + 1, "method": p["method"], "records": len(p["records"]),
                           "rounds": p.get("rounds", []), "created": p["created"],
                           "fingerprint": p["fingerprint"], "parameters": p["parameters"]})
    document = {"campaign": campaign.name, "storage": campaign.storage, "card": card_of(campaign.study),
                "settings": {**campaign.design_settings(), "description": describe(settings),
                             "rate": rate_words(settings)},
                "rounds": table, "recorded": len(records),
                "cells": int(sum(r.get("count", 1) for r in records)), "best": best,
                "proposals": [{k: v for k, v in p.items() if k not in ("number", "card_toml")}
                              | {"trial": p["number"]} for p in proposals],
                "records": [{k: r.get(k) for k in ("key", "name", "round", "proposal", "file", "where", "count",
                                                   "recorded")} | {"in_posterior": r["key"] not in waiting}
                            for r in records],
                "pending": [r["name"] for r in pending],
                "posteriors": posteriors}
    return document, notes
