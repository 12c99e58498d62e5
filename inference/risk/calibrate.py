"""Bayesian calibration of the four risk models on the seed paper's observations (PyMC).

The likelihoods, one per kind of observation (priors/data/risk-observations.toml):

* fracture: failures of ``trials`` tapes ~ Binomial(P_fracture);
* short: ``shorted_by`` N is interval censored, P(T <= N)^cells; ``shorted_in`` N is
  P(N - 1 < T <= N)^cells;
* resistance: ln R_observed ~ N(ln R_cell, scatter) (cell-to-cell scatter, from the file);
* efficiency: the mean Coulombic efficiency reported above ``minimum`` with ``precision``.

The posterior draws of the parameters are what the design search scores candidates with.
"""

from __future__ import annotations

import numpy as np

from ...priors import load_card
from ...priors.risk import RiskObservations, RiskPrior, load_risk_observations, load_risk_priors
from ..bayes import prior_variable
from ..diagnostics import Diagnostics
from ..model import CellModel
from ..result import Result
from ..statistics import summarise
from . import forms

CALIBRATION_TARGET_ACCEPT = 0.99  # 0.95 left a few divergences in the fracture ridge


def build_calibration(priors: dict[str, RiskPrior], observations: RiskObservations):
    """The PyMC model of all four risk models and their observations."""
    import pymc as pm
    import pytensor.tensor as pt

    with pm.Model() as model:
        p = {name: prior_variable(name, rp.prior) for name, rp in priors.items()}
        for i, o in enumerate(observations.fracture):
            hazard = forms.fracture_hazard(o.pressure, o.thickness, o.area, p["fracture.strength"],
                                           p["fracture.weibull_modulus"], p["fracture.span_reference"],
                                           p["fracture.span_exponent"])
            loglike = 0.0
            if o.failures:  # written per count, so an infinite hazard never meets a zero count
                loglike = loglike + o.failures * log_one_minus_exp_neg(hazard)
            if o.trials - o.failures:
                loglike = loglike - (o.trials - o.failures) * hazard
            pm.Potential(f"fracture_{i}", loglike)
        for i, o in enumerate(observations.short):
            ccd = forms.critical_current(o.pressure, o.reservoir, o.thickness, o.capacity,
                                         *(p[f"short.{k}"] for k in ("ccd_reference", "pressure_exponent",
                                                                     "reservoir_exponent", "thickness_exponent",
                                                                     "capacity_exponent")))

            # H(N) = (j/j_c)^m N^beta: the current factor once, the cycle factor per N, so the
            # hazard of the one cycle N - 1 -> N is a product, not a difference of large numbers.
            scale = forms.current_stress(o.current, ccd, p["short.ccd_modulus"])
            beta = p["short.cycle_exponent"]
            if o.shorted_by is not None:
                loglike = o.cells * log_one_minus_exp_neg(scale * float(o.shorted_by) ** beta)
            else:
                n = float(o.shorted_in)
                step = scale * (n ** beta - (n - 1.0) ** beta)
                loglike = o.cells * (-scale * (n - 1.0) ** beta + log_one_minus_exp_neg(step))
            pm.Potential(f"short_{i}", loglike)
        for i, o in enumerate(observations.resistance):
            cell = _card_resistances(o.card)
            r_cell = (cell["R_separator"] + cell["R_interface"]
                      + forms.cathode_resistance(cell["thickness"], cell["porosity"], p["rate.liquid_conductivity"],
                                                 p["rate.bruggeman"], p["rate.charge_transfer"], xp=pt)
                      + forms.contact_resistance(o.pressure, p["rate.contact_reference"], p["rate.contact_exponent"]))
            pm.Normal(f"resistance_{i}", mu=pt.log(r_cell), sigma=o.scatter, observed=np.log(o.value))
        for i, o in enumerate(observations.efficiency):
            z = (1.0 - p["inventory.loss"] - o.minimum) / o.precision
            pm.Potential(f"efficiency_{i}", pm.logcdf(pm.Normal.dist(0.0, 1.0), z))
    return model


def log_one_minus_exp_neg(x):
    """log(1 - exp(-x)) for x > 0, accurate at both ends (pytensor's log1mexp takes -x)."""
    import pytensor.tensor as pt

    return pt.log1mexp(-x)


def _card_resistances(name: str) -> dict[str, float]:
    """Separator and interface resistance, cathode thickness and porosity of a card (nominal)."""
    model = CellModel(load_card(name))
    y = model.evaluate(model.nominal())
    return {"R_separator": float(y.get("R_separator", 0.0)), "R_interface": float(y.get("R_interface", 0.0)),
            "thickness": float(model.nominal()["cathode.thickness"]), "porosity": float(y["porosity"])}


class CalibrationResult(Result):
    """The calibrated risk models: posterior draws of every risk parameter.

    ``to_netcdf`` writes the file that :meth:`RiskModel.load` (and ``--posterior``) reads:
    the parameter draws as group ``posterior``, stamped with the fingerprints of what they were
    calibrated on.
    """

    kind = "calibration"

    def __init__(self, idata, diagnostics: Diagnostics, seed: int | None = None):
        self.idata, self.diagnostics, self.seed = idata, diagnostics, seed

    @property
    def title(self) -> str:
        return "risk-model calibration"

    def risk_model(self):
        """The calibrated draws as a :class:`RiskModel` (what scoring and design use)."""
        from .predict import RiskModel

        return RiskModel.from_idata(self.idata)

    def parameters(self) -> list[str]:
        return [n for n in self.idata.posterior.data_vars if "." in n]

    def summary(self) -> dict[str, dict]:
        from ...priors.risk import PARAMETERS

        units = {f"{m}.{k}": (spec.unit or "1") for m, specs in PARAMETERS.items() for k, spec in specs.items()}
        return {n: summarise(np.asarray(self.idata.posterior[n]), units.get(n, "1")) for n in self.parameters()}

    def to_json(self) -> dict:
        return {"parameters": self.summary(), "seed": self.seed, "diagnostics": self.diagnostics.to_json(),
                "fingerprints": input_fingerprints(), "warnings": self.warnings}

    def to_netcdf(self, path):
        save_posterior(self.idata, path, self.diagnostics)
        return path

    def plot(self, **kwargs):
        from ...reports import figures

        units = {n: q["unit"] for n, q in self.summary().items()}
        return figures.histograms({n: np.asarray(self.idata.posterior[n]).ravel() for n in self.parameters()},
                                  {n: ("" if u == "1" else u) for n, u in units.items()}, "calibrated risk parameters",
                                  as_figure=True, **kwargs)


def calibrate(settings=None, priors=None, observations=None) -> CalibrationResult:
    """Sample the calibration of the four risk models on their observations (NUTS)."""
    from ..sampling import SamplerSettings, sample

    settings = settings or SamplerSettings(init="adapt_diag", target_accept=CALIBRATION_TARGET_ACCEPT)
    priors = priors or load_risk_priors()
    observations = observations or load_risk_observations()
    model = build_calibration(priors, observations)
    seed = settings.resolved_seed()
    idata = sample(model, settings, seed)
    return CalibrationResult(idata, Diagnostics.from_idata(idata, list(priors)), seed)


def calibrate_risks(*, draws: int | None = None, tune: int | None = None, chains: int | None = None,
                    seed: int | None = None, progress: bool = False,
                    settings=None) -> CalibrationResult:
    """Calibrate the four risk models on the seed paper's observations (PyMC, NUTS).

    Parameters
    ----------
    draws, tune, chains, seed : int, optional
        NUTS settings (defaults: 1000, 1000, 4, drawn); they override ``settings``.
    progress : bool
        Show the sampler's progress bar.

    Returns
    -------
    CalibrationResult
        ``to_netcdf(path)`` writes what ``posterior=`` (``--posterior``) reads.
    """
    from dataclasses import replace

    from ..sampling import SamplerSettings

    base = settings or SamplerSettings()
    settings = replace(base, init="adapt_diag", target_accept=max(base.target_accept, CALIBRATION_TARGET_ACCEPT),
                       **{k: v for k, v in (("draws", draws), ("tune", tune), ("chains", chains), ("seed", seed))
                          if v is not None}, progress=progress or base.progress)
    return calibrate(settings)


def save_posterior(idata, path, diagnostics: Diagnostics | None = None) -> None:
    """Write the calibrated parameter draws (group ``posterior``) atomically to NetCDF."""
    import xarray as xr

    from ...priors.files import atomic_target

    names = [n for n in idata.posterior.data_vars if "." in n]
    posterior = idata.posterior[names]
    posterior.attrs = {k: v for k, v in posterior.attrs.items() if isinstance(v, (str, int, float))}
    if diagnostics:
        posterior.attrs.update({f"diagnostics_{k}": v for k, v in diagnostics.to_json().items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None})
    posterior.attrs.update(input_fingerprints())
    with atomic_target(path) as tmp:
        xr.Dataset(attrs={"title": "nassb risk-model calibration (posterior draws)"}).to_netcdf(tmp, engine="h5netcdf")
        posterior.to_netcdf(tmp, engine="h5netcdf", mode="a", group="posterior")


def input_fingerprints() -> dict[str, str]:
    """SHA-256 of what a calibration depends on: the priors, the observations and the forms.

    Stored with the posterior, so a stale calibration (inputs changed since) can be detected.
    """
    import hashlib
    from importlib import resources
    from pathlib import Path

    data = resources.files("nassb.priors") / "data"
    texts = {
        "priors_sha256": (data / "risk.toml").read_bytes(),
        "observations_sha256": (data / "risk-observations.toml").read_bytes(),
        "forms_sha256": Path(forms.__file__).read_bytes(),
    }
    return {key: hashlib.sha256(text).hexdigest() for key, text in texts.items()}
