"""The risk posterior under each alternative reading of the paper (priors/readings.py).

The shipped calibration rests on one reading of each open question.  Under another reading of
an observation, the posterior is the same posterior times L_reading / L_file of the entries the
reading changes (importance reweighting, Pareto-smoothed): exact where the draws cover it,
flagged where k-hat > 0.7.  Under a direction reading, it is the posterior restricted to the
draws where the effect goes that way (weights 0 or 1).

The weights hold for any posterior that contains the file's reading of the paper, a campaign's
too (its lab cells are untouched by a reading), so the lab's cells weigh the readings: the
posterior mean of L_reading / L_file is the Bayes factor of the reading against the file's, and
the share of draws in a direction its posterior probability.  Combined, the readings are a
Bayesian model average with equal prior weight on each reading of a question (the file's
included): weights proportional to those factors.
"""

from __future__ import annotations

import numpy as np

FILE_READING = "as-calibrated"
"""The name of the observations file's own reading (the shipped calibration's)."""


def reading_weights(draws: dict[str, np.ndarray], readings=None) -> list[dict]:
    """Per reading: ``name``, ``question``, ``rests_on``, ``kind``, ``weights`` (normalised, one
    per draw), ``k_hat`` (PSIS; 0 for a direction), ``ess``, ``evidence`` (the Bayes factor
    against the file's reading, or the direction's posterior probability) and ``reliable``
    (k-hat < 0.7 and ESS >= 100).  The file's own reading comes first, with equal weights."""
    from ...priors.readings import load_readings
    from ..statistics import psis_weights

    readings = load_readings() if readings is None else readings
    n = len(next(iter(draws.values())))
    out = [{"name": FILE_READING, "question": "", "rests_on": "priors/data/risk-observations.toml as written",
            "kind": "file", "weights": np.full(n, 1.0 / n), "k_hat": 0.0, "ess": float(n), "evidence": 1.0,
            "reliable": True}]
    for r in readings:
        if r.direction is not None:
            logw = np.where(_direction_holds(draws, r.direction), 0.0, -np.inf)
        else:
            logw = _log_ratio(draws, r)
        finite = np.isfinite(logw)
        if not finite.any():
            w, k, evidence = np.zeros(n), float("inf"), 0.0
        else:
            w, k = psis_weights(logw)
            top = float(np.max(logw[finite]))
            evidence = float(np.mean(np.exp(np.where(finite, logw - top, -np.inf)))) * float(np.exp(top))
        ess = float(1.0 / np.sum(w ** 2)) if w.sum() > 0 else 0.0
        out.append({"name": r.name, "question": r.question, "rests_on": r.rests_on, "kind": r.kind, "weights": w,
                    "k_hat": float(k) if r.direction is None else 0.0, "ess": ess, "evidence": evidence,
                    "reliable": bool((r.direction is not None or k < 0.7) and ess >= 100)})
    return out


def combined_weights(readings: list[dict]) -> np.ndarray:
    """The readings combined, as weights on the draws: per question, a Bayesian model average of
    the file's reading and the question's reliable readings (equal prior weight on each, so weights
    proportional to their Bayes factors ``evidence``); then an equal-weight mixture over the
    questions.  A direction question is left out: the posterior already averages its directions.
    Unreliable readings (k-hat > 0.7 or few effective draws) are left out, as they are when held.
    ``readings`` are :func:`reading_weights`'s, the file's first."""
    file = readings[0]
    questions: dict[str, list[dict]] = {}
    for r in readings[1:]:
        if r["kind"] != "direction" and r["reliable"]:
            questions.setdefault(r["question"], []).append(r)
    if not questions:
        return file["weights"].copy()
    total = np.zeros_like(file["weights"])
    for alternatives in questions.values():
        members = [file, *alternatives]
        evidence = np.array([m["evidence"] for m in members], float)
        prior = evidence / evidence.sum()
        for p, m in zip(prior, members, strict=True):
            total += p * m["weights"] / len(questions)
    return total / total.sum()


def _log_ratio(draws: dict[str, np.ndarray], reading) -> np.ndarray:
    from ...priors.readings import reading_cells
    from ...priors.risk import load_nuisances
    from .checks import entry_log_likelihood
    from .likelihood import build_batch

    base, changed = reading_cells(reading)
    nuisances = load_nuisances()
    ll0 = entry_log_likelihood(draws, build_batch(base, nuisances)).sum(axis=1)
    ll1 = entry_log_likelihood(draws, build_batch(changed, nuisances)).sum(axis=1)
    out = ll1 - ll0
    return np.where(np.isfinite(out), out, -np.inf)


def _direction_holds(draws: dict[str, np.ndarray], direction: dict) -> np.ndarray:
    """Whether each draw moves the quantity the reading's way between its two values of the
    variable (the paper cells' cathode: porosity 0.63, 1 MPa; the rest of paper-cell-1's card)."""
    from .predict import RiskModel

    model = RiskModel({k: np.asarray(v, float) for k, v in draws.items()})
    at = {"cathode.thickness": 100.0, "cathode.porosity": 0.63, "cell.pressure": 1.0}
    values = []
    for x in (direction["from"], direction["to"]):
        point = {**at, direction["variable"]: float(x)}
        parts = model.resistance_parts(0.0, 0.0, point["cathode.thickness"], point["cathode.porosity"],
                                       point["cell.pressure"])
        values.append(np.asarray(parts[direction["quantity"]], float))
    return np.sign(values[1] - values[0]) == direction["sign"]


def resample(weights: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Systematic resampling: draw indices of equal weight that follow ``weights`` (the same
    number of them), so that every summary of paired draws works unchanged under a reading."""
    n = weights.size
    rng = np.random.default_rng(0) if rng is None else rng
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights / weights.sum()), positions), n - 1)
