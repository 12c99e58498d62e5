"""Bayesian calibration of the four risk models on observed cells (PyMC, NUTS).

The cells are the seed paper's (priors/data/risk-observations.toml), a lab's own
(:mod:`nassb.priors.lab`), or both.  Their likelihood is :mod:`.likelihood`; calibrated on both,
a lab's cells differ from the paper's by lab-level offsets (``lab.strength``, ``lab.ccd``,
``lab.contact``: the log of a factor on the strength, critical-current and contact-resistance
scales, priors in priors/data/risk.toml), and the calibrated model predicts for the lab.

The posterior draws are what the design search scores candidates with; the file
:meth:`CalibrationResult.to_netcdf` writes records what it was calibrated on (fingerprints of the
priors, the forms and likelihood, the paper's observations and the lab's file) and the range of
the observed cells, so that :meth:`~.predict.RiskModel.load` can refuse a stale file and the
design side can flag extrapolation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...priors import OptionError
from ...priors.lab import ObservedCells, load_observed_cells
from ...priors.risk import (LAB_SCALES, PARAMETERS, load_lab_priors, load_nuisances, load_risk_observations,
                            load_risk_priors)
from ..diagnostics import Diagnostics
from ..result import Result, nassb_version
from ..statistics import summarise
from . import checks as predictive, likelihood
from .fingerprints import POSTERIOR_FORMAT, input_fingerprints

CALIBRATION_TARGET_ACCEPT = 0.95
"""NUTS target acceptance of the calibration (0 divergences in the shipped posterior at 0.95)."""
CALIBRATION_INIT = "jitter+adapt_full"
"""A dense mass matrix: the posterior's correlations (strength with span, charge transfer with
contact and formation) halve the leapfrog steps per draw against a diagonal one (25 against 59
in a trial of 2 x 700 iterations, both without divergences)."""
PREDICTIVE_LIMIT = 0.05
"""A predictive check below this says the calibration does not reproduce what was observed."""


class CalibrationResult(Result):
    """The calibrated risk models: posterior draws of every risk parameter.

    Attributes
    ----------
    idata : arviz.InferenceData
        The NUTS posterior of the risk parameters (and the lab offsets).
    diagnostics : Diagnostics
    seed : int or None
    fingerprints : dict
        SHA-256 of what it was calibrated on (:func:`input_fingerprints`).
    observed_range : dict
        Card path -> [low, high] over the observed cells (:func:`observed_range`).
    checks : list of dict
        The posterior predictive probability of every observed outcome
        (:func:`~.checks.predictive_checks`).
    cells : list of str
        The observed cells, ``"paper: cell-1"`` or ``"lab: lab-7"``.

    ``to_netcdf`` writes the file that :meth:`RiskModel.load` (and ``--posterior``) reads.
    """

    kind = "calibration"
    diagnostics: Diagnostics  # a calibration is always sampled

    def __init__(self, idata, diagnostics: Diagnostics, seed: int | None = None, *,
                 fingerprints: dict | None = None, observed_range: dict | None = None,
                 checks: list | None = None, cells: list | None = None, lab: str = ""):
        self.idata, self.diagnostics, self.seed = idata, diagnostics, seed
        self.fingerprints = fingerprints if fingerprints is not None else input_fingerprints()
        self.observed_range = observed_range or {}
        self.checks = checks or []
        self.cells = cells or []
        self.lab = lab

    @property
    def title(self) -> str:
        return "risk-model calibration"

    def risk_model(self):
        """The calibrated draws as a :class:`RiskModel` (what scoring and design use)."""
        from .predict import RiskModel

        return RiskModel.from_idata(self.idata, observed_range=self.observed_range, lab=self.lab)

    def parameters(self) -> list[str]:
        return [n for n in self.idata.posterior.data_vars if "." in n]

    def summary(self) -> dict[str, dict]:
        units = {f"{m}.{k}": (spec.unit or "1") for m, specs in PARAMETERS.items() for k, spec in specs.items()}
        return {n: summarise(np.asarray(self.idata.posterior[n]), units.get(n, "1")) for n in self.parameters()}

    @property
    def warnings(self) -> list[str]:
        out = super().warnings
        poor = [c for c in self.checks if c["probability"] < PREDICTIVE_LIMIT]
        for c in poor:
            out.append(f"the calibration hardly reproduces {c['cell']}: {c['outcome']} (predictive probability "
                       f"{c['probability']:.3f})")
        return out

    def to_json(self) -> dict:
        return {"parameters": self.summary(), "seed": self.seed, "diagnostics": self.diagnostics.to_json(),
                "fingerprints": self.fingerprints, "observed_range": self.observed_range, "cells": self.cells,
                "lab": self.lab, "predictive_checks": self.checks, "warnings": self.warnings}

    def to_netcdf(self, path):
        save_posterior(self, path)
        return Path(path)

    @classmethod
    def _from_netcdf(cls, document, groups, idata):
        return cls(idata, Diagnostics.from_json(document["diagnostics"]), document.get("seed"),
                   fingerprints=document.get("fingerprints"), observed_range=document.get("observed_range"),
                   checks=document.get("predictive_checks"), cells=document.get("cells"), lab=document.get("lab", ""))

    def plot(self, **kwargs):
        from ...priors.display import figures

        units = {n: q["unit"] for n, q in self.summary().items()}
        return figures.histograms({n: np.asarray(self.idata.posterior[n]).ravel() for n in self.parameters()},
                                  {n: ("" if u == "1" else u) for n, u in units.items()}, "calibrated risk parameters",
                                  as_figure=True, **kwargs)


def observed_cells(observations=None, with_paper: bool = True) -> ObservedCells:
    """The cells a calibration rests on: the paper's, a lab's (a path or parsed cells), or both."""
    lab = None
    if observations is not None:
        lab = observations if isinstance(observations, ObservedCells) else load_observed_cells(observations)
    if not with_paper:
        if lab is None:
            raise OptionError("without the paper's cells, give a lab's observations", field="observations")
        return lab
    paper = load_risk_observations()
    return paper if lab is None else paper + lab


def calibrate(settings=None, priors=None, observations=None, *, with_paper: bool = True) -> CalibrationResult:
    """Sample the calibration of the four risk models on observed cells (NUTS).

    ``observations`` are a lab's cells (a path or :class:`~nassb.priors.lab.ObservedCells`);
    with the paper's, the lab offsets enter the model.
    """
    from ..sampling import SamplerSettings, sample

    settings = settings or SamplerSettings(init=CALIBRATION_INIT, target_accept=CALIBRATION_TARGET_ACCEPT)
    priors = priors or load_risk_priors()
    lab_cells = None
    if observations is not None:
        lab_cells = observations if isinstance(observations, ObservedCells) else load_observed_cells(observations)
    cells = observed_cells(lab_cells, with_paper)
    lab = with_paper and lab_cells is not None
    batch = likelihood.build_batch(cells, load_nuisances())
    model = likelihood.build_model(batch, priors, load_lab_priors() if lab else None)
    seed = settings.resolved_seed()
    idata = sample(model, settings, seed)
    names = list(idata.posterior.data_vars)
    diagnostics = Diagnostics.from_idata(idata, names)
    draws = {n: np.asarray(idata.posterior[n]).ravel() for n in names if "." in n}
    checks = predictive.predictive_checks(draws, batch)
    labels = [f"{'lab' if c.lab else 'paper'}: {c.name}" + (f" (x{c.count})" if c.count > 1 else "") for c in cells]
    return CalibrationResult(idata, diagnostics, seed,
                             fingerprints=input_fingerprints(lab_cells, with_paper),
                             observed_range=observed_range(cells), checks=checks, cells=labels,
                             lab=(lab_cells.lab or lab_cells.file) if lab_cells is not None else "")


def calibrate_risks(*, observations=None, with_paper: bool = True, draws: int | None = None,
                    tune: int | None = None, chains: int | None = None, seed: int | None = None,
                    progress: bool = False, settings=None) -> CalibrationResult:
    """Calibrate the four risk models on the seed paper's cells, a lab's own, or both (PyMC, NUTS).

    Parameters
    ----------
    observations : str, Path or ObservedCells, optional
        A lab's observations file (priors/lab.py describes it) or its parsed cells.
    with_paper : bool
        Calibrate on the seed paper's cells too (default).  With a lab's cells, its offsets from
        the paper's lab (strength, critical current and contact resistance scales) are sampled
        and the calibrated model predicts for the lab.  False: the lab's cells alone, from the
        priors.
    draws, tune, chains, seed : int, optional
        NUTS settings (defaults: 1000, 1000, 4, drawn); they override ``settings``.
    progress : bool
        Show the sampler's progress bar.

    Returns
    -------
    CalibrationResult
        ``to_netcdf(path)`` writes what ``RiskModel.load`` and ``posterior=`` (``--posterior``) read.
    """
    from dataclasses import replace

    from ..sampling import SamplerSettings

    base = settings or SamplerSettings()
    settings = replace(base, init=CALIBRATION_INIT, target_accept=max(base.target_accept, CALIBRATION_TARGET_ACCEPT),
                       **{k: v for k, v in (("draws", draws), ("tune", tune), ("chains", chains), ("seed", seed))
                          if v is not None}, progress=progress or base.progress)
    return calibrate(settings, observations=observations, with_paper=with_paper)


def save_posterior(result: CalibrationResult, path) -> None:
    """Write the calibrated parameter draws (group ``posterior``) atomically to NetCDF.

    The group's attributes hold the fingerprints, the diagnostics, the observed range (JSON) and
    ``nassb_risk_posterior`` (the layout's version); the root the nassb result protocol's
    attributes, so :func:`nassb.inference.result.load_result` reads the file back too.
    """
    import io

    import h5netcdf
    import xarray as xr

    from ...priors.files import atomic_target
    from ...priors.jsonio import json_text

    idata = result.idata
    names = [n for n in idata.posterior.data_vars if "." in n]
    posterior = idata.posterior[names]
    posterior.attrs = {k: v for k, v in posterior.attrs.items() if isinstance(v, (str, int, float))}
    posterior.attrs.update({f"diagnostics_{k}": v for k, v in result.diagnostics.to_json().items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None})
    posterior.attrs.update(result.fingerprints)
    posterior.attrs["nassb_risk_posterior"] = POSTERIOR_FORMAT
    posterior.attrs["observed_range"] = json.dumps(result.observed_range)
    posterior.attrs["lab"] = result.lab
    buffer = io.BytesIO()  # built in memory, written in one piece (Result.to_netcdf says why)
    xr.Dataset(attrs={"title": "nassb risk-model calibration (posterior draws)"}).to_netcdf(buffer, engine="h5netcdf")
    posterior.to_netcdf(buffer, engine="h5netcdf", mode="a", group="posterior")
    with h5netcdf.File(buffer, "a") as handle:
        handle.attrs["nassb_result"] = f"{CalibrationResult.__module__}:{CalibrationResult.__qualname__}"
        handle.attrs["nassb_version"] = nassb_version()
        handle.attrs["nassb_document"] = json_text(result.to_json())
    with atomic_target(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def observed_range(cells: ObservedCells) -> dict[str, list[float]]:
    """The range of the observed cells, by card path: ``separator.thickness``, ``cell.pressure``,
    ``cathode.theoretical_capacity``, ``cathode.porosity``, ``cathode.thickness``,
    ``anode.reservoir_thickness`` and ``current`` (cycling and formation current densities), each
    ``[low, high]`` in canonical units.  An uncertain pressure
    or current given by its ends (uniform, log-uniform) spans them; any other quantity counts
    at its value."""
    from ..model import CellModel

    values: dict[str, list[float]] = {k: [] for k in ("separator.thickness", "cell.pressure",
                                                      "cathode.theoretical_capacity", "cathode.porosity",
                                                      "cathode.thickness", "anode.reservoir_thickness", "current")}

    def ends(q) -> list[float]:
        if q is None:
            return []
        if q.dist in ("uniform", "loguniform"):
            return [float(q.low), float(q.high)]
        return [float(q.value)]

    for cell in cells:
        card, o = cell.card, cell.outcome
        values["separator.thickness"] += ends(card.separator.get("thickness"))
        values["cell.pressure"] += ends(card.cell.get("pressure"))
        model = CellModel(card)
        nominal = model.nominal()
        y = model.evaluate(nominal)
        values["cathode.theoretical_capacity"].append(float(y["C_theo"]))
        values["cathode.porosity"].append(float(y["porosity"]))
        values["cathode.thickness"].append(float(nominal["cathode.thickness"]))
        values["anode.reservoir_thickness"] += ends(card.anode.get("reservoir_thickness"))
        if o.cycled:
            values["current"] += ends(o.current) + ends(o.formation_current)
    return {k: [min(v), max(v)] for k, v in values.items() if v}


__all__ = [
    "LAB_SCALES",
    "CalibrationResult",
    "calibrate",
    "calibrate_risks",
    "input_fingerprints",
    "observed_range",
    "save_posterior",
]
