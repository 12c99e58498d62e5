"""A proposal under each reading of the paper: its risks, whether it meets the limits, which binds.

The readings (priors/data/risk-readings.toml) weigh the risk posterior's draws
(:func:`nassb.inference.risk.readings.reading_weights`); the draws are resampled by each
reading's weights once, so that a scored design's paired draws (risk and card) are summarised
under a reading exactly as under the posterior.  A reading the draws cannot represent (PSIS k-hat
above 0.7 or fewer than 100 effective draws) is shown and flagged, not used to choose the binding
reading.
"""

from __future__ import annotations

import weakref

import numpy as np

KEEP = 8
"""Posteriors whose readings a process keeps; one evicted is computed again from its draws while
a scorer of them lives (:func:`know`)."""
MARGIN = 0.2
"""A reading binds a design when, under it, a limit is nearer than this (relative to the limit)
than under the file's reading, or broken: the margin of :meth:`~nassb.design.decision.Limits.active`."""
_CACHE: dict[str, tuple[list[dict], np.ndarray]] = {}  # fingerprint -> (its readings, the combined indices)
_KNOWN: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # fingerprint -> a risk model in use


def know(risk) -> None:
    """Remember ``risk`` (while something holds it) so that its readings can be computed when a
    design scored with it is judged (:class:`~nassb.design.score.DesignScorer` calls this)."""
    _KNOWN[risk.fingerprint] = risk


def readings_of(risk) -> list[dict]:
    """The readings of ``risk``'s draws, each with ``index`` (its resampled draw indices); cached
    by the draws' fingerprint (the last :data:`KEEP` posteriors)."""
    from ..inference.risk.readings import combined_weights, reading_weights, resample

    key = risk.fingerprint
    if key not in _CACHE:
        rng = np.random.default_rng(0)
        readings = reading_weights(risk.draws)
        combined = resample(combined_weights(readings), np.random.default_rng(1))
        out = []
        for r in readings:
            weights = r.pop("weights")
            r["index"] = resample(weights, rng) if weights.sum() > 0 else None
            out.append(r)
        while len(_CACHE) >= KEEP:
            _CACHE.pop(next(iter(_CACHE)))  # the oldest
        _CACHE[key] = (out, combined)
    return _CACHE[key][0]


def held_indices(fingerprint: str, hold: str) -> list[np.ndarray | None]:
    """The draw indices a design's limits are held under (None: every draw as it is): the file's
    reading and each reliable reading (``every``), the readings' model average (``combined``),
    or the file's reading alone (``file``).

    The posterior with this fingerprint must be one a :class:`~nassb.design.score.DesignScorer`
    of this process scores with (or whose readings :func:`readings_of` computed): an OptionError
    naming ``risk`` if not (e.g. ``SearchSettings`` made without ``risk=risk.fingerprint``).
    """
    from ..priors import OptionError

    if hold == "file":
        return [None]
    if fingerprint not in _CACHE:
        if fingerprint not in _KNOWN:
            raise OptionError(f"no risk posterior {fingerprint or '(none named)'} is known to hold the limits under "
                              "its readings: give the settings risk=risk.fingerprint of the draws the designs are "
                              "scored with, or hold the limits under the file's reading (hold='file')", field="risk")
        readings_of(_KNOWN[fingerprint])
    if hold == "combined":
        return [_CACHE[fingerprint][1]]
    return [None] + [r["index"] for r in _CACHE[fingerprint][0][1:] if r["reliable"] and r["index"] is not None]


def design_readings(values: dict[str, np.ndarray], settings, readings: list[dict]) -> tuple[dict, str | None]:
    """Each reading's view of a scored design, and the name of the reading that binds it: the
    reliable reading under which its worst limit is nearest or furthest beyond, where that is
    within :data:`MARGIN` of the limit or beyond it, and nearer than under the file's reading;
    else None."""
    from ..inference.risk.registry import limited_names

    table: dict[str, dict] = {}
    worst: dict[str, float] = {}
    for r in readings:
        row = {k: r[k] for k in ("question", "rests_on", "kind", "k_hat", "ess", "evidence", "reliable")}
        if r["index"] is None:
            table[r["name"]] = {**row, "risks": {}, "feasible": None}
            continue
        under = {k: np.asarray(v)[r["index"]] for k, v in values.items()}
        violations = settings.limits.violations(settings.limits.judged(under))
        row["risks"] = {k: {"mean": float(np.mean(under[k])),
                            "ci95": [float(np.quantile(under[k], 0.025)), float(np.quantile(under[k], 0.975))]}
                        for k in limited_names()}
        row["feasible"] = bool(all(v <= 0 for v in violations.values()))
        row["limit"] = max(violations, key=lambda name: violations[name])
        table[r["name"]] = row
        if r["reliable"]:
            worst[r["name"]] = max(violations.values())
    binding = max(worst, key=lambda name: worst[name]) if worst else None
    first = readings[0]["name"]
    if binding is not None and (worst[binding] <= worst.get(first, -np.inf) or worst[binding] <= -MARGIN):
        binding = None
    return table, binding

