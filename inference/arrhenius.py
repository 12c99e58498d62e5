"""The Arrhenius law of the paper's Eq. 4 as data: a robust likelihood for a temperature series,
its ordinary least-squares counterpart, and the standalone fit behind ``nassb fit arrhenius``.

On a log scale Eq. 4 is a straight line in 1/T: ln y = ln y_ref + s E_A/k_B (1/T - 1/T_ref),
s = +1 for a resistance and -1 for a conductivity.  Residuals follow a Student-t with 4 degrees
of freedom, so one wrong point does not drag the line (the normal's tails would).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..priors import DataError, fields as F
from ..priors.tables import Table
from .cell import BOLTZMANN_EV as _K_B
from .cell import arrhenius_exponent

STUDENT_NU = 4.0
SIGN = {"conductivity": -1.0, "resistance": 1.0}


def sign_of(field: str) -> float:
    """-1 for a conductivity (it rises with temperature), +1 for any resistance."""
    return SIGN["conductivity"] if field == "conductivity" else SIGN["resistance"]


def robust_loglike(name: str, log_reference, energy, temperature: np.ndarray, reference_temperature,
                   values: np.ndarray, sign: float):
    """Add a Student-t likelihood of ``log(values)`` around Eq. 4 to the current PyMC model.

    ``log_reference`` and ``energy`` (eV) are PyTensor expressions; ``temperature`` in K.
    The residual scale (log units) is learned with a half-normal prior of scale 0.2 (20 %).
    """
    import pymc as pm

    scale = pm.HalfNormal(f"{name}_log_scatter", sigma=0.2)
    mean = log_reference + arrhenius_exponent(sign * energy, temperature, reference_temperature)
    return pm.StudentT(f"{name}_observed", nu=STUDENT_NU, mu=mean, sigma=scale, observed=np.log(values))


@dataclass(frozen=True)
class Series:
    """A temperature series read from a CSV: K, values in the canonical unit, and their kind."""

    temperature: np.ndarray
    values: np.ndarray
    kind: str      # "conductivity" or "resistance"
    unit: str
    path: str


def series_from_table(table: Table) -> Series:
    """Find the temperature column and a conductivity or area-resistance column by its unit."""
    from ..priors import CardError
    from ..priors.observations import check_series
    from ..priors.units import conversion

    temperature = table.find("temperature", spec=F.TEMPERATURE).values
    for column in table.columns.values():
        if column.name.lower() == "temperature" or not column.unit:
            continue
        for kind, spec in (("conductivity", F.CONDUCTIVITY), ("resistance", F.AREA_RESISTANCE)):
            try:
                conversion(column.unit, spec.unit)
            except CardError:
                continue
            values = table.converted(column, spec).values
            check_series(temperature, values, table.path)
            return Series(temperature, values, kind, spec.unit, table.path)
    raise DataError("no column with a conductivity (e.g. [mS/cm]) or area-resistance (e.g. [ohm*cm^2]) unit",
                    file=table.path)


def least_squares(series: Series, at: float) -> dict:
    """Ordinary least squares of ln y on 1/T: E_A and the value at ``at`` (K) with standard errors."""
    x = 1.0 / series.temperature - 1.0 / at
    y = np.log(series.values)
    n = x.size
    design = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    sign = SIGN[series.kind]
    out = {
        "activation_energy": {"value": float(sign * coef[1] * _K_B), "unit": "eV"},
        series.kind: {"value": float(math.exp(coef[0])), "unit": series.unit},
    }
    if n > 2:
        residual = y - design @ coef
        s2 = float(residual @ residual) / (n - 2)
        cov = s2 * np.linalg.inv(design.T @ design)
        out["activation_energy"]["se"] = float(math.sqrt(cov[1, 1]) * _K_B)
        out[series.kind]["se"] = float(math.exp(coef[0]) * math.sqrt(cov[0, 0]))
    return out


def build_fit_model(series: Series, at: float):
    """A PyMC model of one series: E_A, the value at ``at`` (K) and the residual scale.

    Priors are weak: E_A half-normal with scale 1 eV; ln y at the data's centre normal around
    the data's mean log with sd 3 (a factor of 20).
    """
    import pymc as pm
    import pytensor.tensor as pt

    centre = 1.0 / float(np.mean(1.0 / series.temperature))
    y = np.log(series.values)
    with pm.Model() as model:
        energy = pm.HalfNormal("activation_energy", sigma=1.0)
        log_centre = pm.Normal("log_value_at_centre", mu=float(y.mean()), sigma=3.0)
        robust_loglike(series.kind, log_centre, energy, series.temperature, centre, series.values,
                       SIGN[series.kind])
        pm.Deterministic(series.kind, pt.exp(log_centre + arrhenius_exponent(SIGN[series.kind] * energy, at, centre)))
    return model


def fit_arrhenius(series: Series, at: float, settings=None):
    """Bayesian fit of Eq. 4 to a temperature series, with least squares beside it.

    Parameters
    ----------
    series : Series
        From :func:`series_from_table`.
    at : float
        Temperature (K) at which to report the conductivity or resistance.
    settings : SamplerSettings, optional

    Returns
    -------
    PropagationResult
        Quantities ``activation_energy`` (eV) and ``conductivity`` (mS/cm) or ``resistance``
        (ohm cm^2) at ``at``; extras ``least_squares`` and ``diagnostics``.
    """
    from .result import PropagationResult, summary_dataset
    from .sampling import SamplerSettings, diagnostics, posterior_summary, sample

    settings = settings or SamplerSettings()
    seed = settings.resolved_seed()
    pmodel = build_fit_model(series, at)
    idata = sample(pmodel, settings, seed)
    names = ["activation_energy", series.kind]
    stats = np.array([posterior_summary(idata, n) for n in names])
    ds = summary_dataset(names, ["eV", series.unit], stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3],
                         attrs={"method": "bayes", "file": series.path, "seed": seed, "at_kelvin": at})
    diag = diagnostics(idata, [v.name for v in pmodel.free_RVs] + names)
    extras = {"least_squares": least_squares(series, at), "diagnostics": diag, "seed": seed}
    return PropagationResult(ds, idata=idata, extras=extras)
