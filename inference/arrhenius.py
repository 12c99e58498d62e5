"""The Arrhenius law of the paper's Eq. 4 as data: a robust likelihood for a temperature series,
its ordinary least-squares counterpart, and the standalone fit behind ``nassb fit arrhenius``.

On a log scale Eq. 4 is a straight line in 1/T: ln y = ln y_ref + s E_A/k_B (1/T - 1/T_ref),
s = +1 for a resistance and -1 for a conductivity.  Residuals follow a Student-t with 4 degrees
of freedom, so one wrong point does not drag the line (the normal's tails would).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..priors import DataError
from ..priors import fields as F
from ..priors.observations import ArrheniusSeries, check_series
from ..priors.tables import Table, read_table
from .cell import BOLTZMANN_EV as _K_B
from .cell import arrhenius_exponent
from .diagnostics import Diagnostics
from .result import Result, dataset_summary, summary_dataset
from .sampling import SamplerSettings
from .statistics import summarise
from ..priors.vocabulary import term

STUDENT_NU = 4.0
SIGN = {"conductivity": -1.0, "resistance": 1.0}
CENTRE_PRIOR_SD = 3.0  # ln units: the level at the data's centre is known to a factor of 20


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


# The temperature series of a CSV file is the same type as a card's arrhenius observation.
Series = ArrheniusSeries


def series_from_table(table: Table) -> ArrheniusSeries:
    """Find the temperature column and a conductivity or area-resistance column by its unit."""
    from ..priors import CardError
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
            return ArrheniusSeries(temperature, values, kind, table.path)
    raise DataError("no column with a conductivity (e.g. [mS/cm]) or area-resistance (e.g. [ohm*cm^2]) unit",
                    file=table.path)


def least_squares(series: ArrheniusSeries, at: float) -> dict:
    """Ordinary least squares of ln y on 1/T: E_A and the value at ``at`` (K) with standard errors."""
    x = 1.0 / series.temperature - 1.0 / at
    y = np.log(series.values)
    n = x.size
    design = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    sign = SIGN[series.kind]
    out: dict[str, dict] = {
        "activation_energy": {"value": float(sign * coef[1] * _K_B), "unit": "eV"},
        series.kind: {"value": float(math.exp(coef[0])) if coef[0] < 700 else math.inf, "unit": series.unit},
    }
    if n > 2:
        residual = y - design @ coef
        s2 = float(residual @ residual) / (n - 2)
        cov = s2 * np.linalg.inv(design.T @ design)
        out["activation_energy"]["se"] = float(math.sqrt(cov[1, 1]) * _K_B)
        out[series.kind]["se"] = float(out[series.kind]["value"] * math.sqrt(cov[0, 0]))
    return out


def build_fit_model(series: ArrheniusSeries, at: float):
    """A PyMC model of one series: E_A, the value at ``at`` (K) and the residual scale.

    Priors are weak and robust: E_A half-normal with scale 1 eV (Eq. 4 needs E_A >= 0); ln y at
    the data's centre normal around the data's median log with sd 3 (a factor of 20), so one
    absurd point cannot move the prior either.
    """
    import pymc as pm
    import pytensor.tensor as pt

    centre = 1.0 / float(np.mean(1.0 / series.temperature))
    y = np.log(series.values)
    with pm.Model() as model:
        energy = pm.HalfNormal("activation_energy", sigma=1.0)
        log_centre = pm.Normal("log_value_at_centre", mu=float(np.median(y)), sigma=CENTRE_PRIOR_SD)
        robust_loglike(series.kind, log_centre, energy, series.temperature, centre, series.values,
                       SIGN[series.kind])
        pm.Deterministic(series.kind, pt.exp(log_centre + arrhenius_exponent(SIGN[series.kind] * energy, at, centre)))
    return model


class ArrheniusFit(Result):
    """A Bayesian fit of Eq. 4 to one temperature series, with least squares beside it.

    Attributes
    ----------
    series : ArrheniusSeries
        The data (K; mS/cm or ohm cm^2).
    at : float
        Temperature (K) at which the conductivity or resistance is reported.
    least_squares : dict
        ``{"activation_energy": {"value", "se", "unit"}, KIND: {...}}``.
    idata : arviz.InferenceData
    diagnostics : Diagnostics
    """

    kind = "arrhenius"
    diagnostics: Diagnostics  # a fit is always sampled

    def __init__(self, series: ArrheniusSeries, at: float, dataset: xr.Dataset, idata, diagnostics: Diagnostics,
                 least_squares: dict, seed: int, at_text: str = ""):
        self.series, self.at, self.dataset = series, float(at), dataset
        self.idata, self.diagnostics, self.least_squares, self.seed = idata, diagnostics, least_squares, seed
        self.at_text = at_text or f"{self.at - 273.15:g} degC"

    @property
    def title(self) -> str:
        from ..priors.vocabulary import typeset_quantity

        return f"{Path(self.series.file).name}: Eq. 4 fitted, values at {typeset_quantity(self.at_text)}"

    def summary(self) -> dict[str, dict]:
        return dataset_summary(self.dataset)

    def _draws(self) -> tuple[np.ndarray, np.ndarray, float]:
        post = self.idata.posterior
        centre = 1.0 / float(np.mean(1.0 / self.series.temperature))
        return (np.asarray(post["activation_energy"]).ravel(), np.asarray(post["log_value_at_centre"]).ravel(),
                centre)

    def predict(self, temperature) -> np.ndarray:
        """Posterior draws of the conductivity (mS/cm) or resistance (ohm cm^2) at each
        ``temperature`` (K): an array of shape (draws, temperatures)."""
        energy, log_centre, centre = self._draws()
        t = np.atleast_1d(np.asarray(temperature, dtype=float))
        return np.exp(log_centre[:, None] + arrhenius_exponent(SIGN[self.series.kind] * energy[:, None], t[None, :],
                                                               centre))

    def band(self, temperature, probability: float = 0.95) -> np.ndarray:
        """Lower end, median and upper end of the posterior at each temperature: shape (3, n)."""
        tail = 100 * (1 - probability) / 2
        return np.percentile(self.predict(temperature), [tail, 50, 100 - tail], axis=0)

    def to_json(self) -> dict:
        return {"file": self.series.file, "method": "bayes", "quantities": self.summary(), "at": self.at_text,
                "at_kelvin": self.at, "least_squares": self.least_squares, "seed": self.seed,
                "diagnostics": self.diagnostics.to_json(), "warnings": self.warnings}

    def plot(self, **kwargs):
        """The data with the posterior median and 95 % band against temperature."""
        from ..priors.display import figures

        t = self.series.temperature
        grid = np.linspace(t.min() - 10, t.max() + 10, 120)
        return figures.arrhenius_plot(t, self.series.values, grid, self.band(grid), self.series.kind,
                                      term(self.series.kind).unit_text or self.series.unit, as_figure=True, **kwargs)

    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        data = xr.Dataset({"temperature": ("point", self.series.temperature),
                           "value": ("point", self.series.values)},
                          attrs={"kind": self.series.kind, "file": self.series.file, "unit": self.series.unit})
        return {"summary": self.dataset, "series": data}

    @classmethod
    def _from_netcdf(cls, document: dict, groups: dict[str, xr.Dataset], idata) -> ArrheniusFit:
        data = groups["series"]
        series = ArrheniusSeries(np.asarray(data["temperature"]), np.asarray(data["value"]), str(data.attrs["kind"]),
                                 str(data.attrs["file"]))
        return cls(series, float(document["at_kelvin"]), groups["summary"], idata,
                   Diagnostics.from_json(document["diagnostics"]), document["least_squares"], int(document["seed"]),
                   document.get("at", ""))


def _checks(series: ArrheniusSeries, ls: dict, summary: dict, law: tuple[float, float, float]) -> list[str]:
    """Where the data contradict Eq. 4 or the least squares disagree with the posterior.

    ``law`` is the posterior-mean line: (E_A in eV, ln y at ``centre``, ``centre`` in K), the
    data's own centre, so the checks do not depend on where the value is reported (``at``)."""
    problems = []
    e_ls = ls["activation_energy"]["value"]
    if e_ls < 0:
        rising = "falls" if series.kind == "conductivity" else "rises"
        problems.append(f"the {series.kind} {rising} with temperature (least-squares E_A {e_ls:.3g} eV): Eq. 4 "
                        "needs E_A >= 0, so the posterior E_A is held by its prior; check the data and their units")
    se = ls["activation_energy"].get("se")
    post = summary["activation_energy"]
    if se is not None and post["sd"]:
        gap = abs(post["mean"] - e_ls)
        if gap > 2.0 * math.hypot(se, post["sd"]) and e_ls >= 0:
            problems.append(f"least squares (E_A {e_ls:.3g} ± {se:.2g} eV) and the robust posterior (E_A "
                            f"{post['mean']:.3g} ± {post['sd']:.2g} eV) disagree beyond their uncertainties: a point "
                            "may be wrong (the robust fit discounts it), or the law does not hold over this range")
    problems.extend(_far_points(series, *law))
    return problems


OUTLIER_SCALES = 10.0
"""A point further than this many robust scatter scales (and a factor 2) off the fitted law is named."""


def _far_points(series: ArrheniusSeries, energy: float, log_centre: float, centre: float) -> list[str]:
    """The points the robust fit discounts: off the posterior-mean law (E_A ``energy`` in eV,
    ln y = ``log_centre`` at ``centre`` K) by more than a factor 2 and OUTLIER_SCALES robust
    scales (1.4826 MAD of the log residuals) -- a unit or typing error the fit survives but must
    not hide."""
    if not (math.isfinite(energy) and math.isfinite(log_centre) and math.isfinite(centre) and centre > 0):
        return []
    with np.errstate(all="ignore"):
        predicted = log_centre + arrhenius_exponent(SIGN[series.kind] * energy, series.temperature, centre)
        residual = np.log(series.values) - predicted
    if not np.all(np.isfinite(residual)):
        return []
    scale = max(1.4826 * float(np.median(np.abs(residual - np.median(residual)))), 1e-3)
    far = np.flatnonzero((np.abs(residual) > OUTLIER_SCALES * scale) & (np.abs(residual) > math.log(2.0)))
    if far.size == 0:
        return []
    where = ", ".join(f"{series.temperature[i] - 273.15:.4g} degC (x10^{residual[i] / math.log(10):+.3g})"
                      for i in far)
    return [f"{far.size} point(s) lie far off Eq. 4, the robust fit discounts them and least squares does "
            f"not: {where}; check them (a unit or typing error?) before trusting either fit"]


def fit_arrhenius(data: str | Path | ArrheniusSeries, *, at: float | str = "25 degC",
                  settings: SamplerSettings | None = None, draws: int | None = None, seed: int | None = None,
                  progress: bool = False) -> ArrheniusFit:
    """Bayesian fit of Eq. 4 to a temperature series, with least squares beside it.

    Parameters
    ----------
    data : str, Path or ArrheniusSeries
        A CSV file (a ``temperature`` column and a conductivity or area-resistance column, units
        in the header) or a series.
    at : float or str
        Temperature at which to report the conductivity or resistance: K, or a quantity such as
        ``"25 degC"``.
    settings : SamplerSettings, optional
        NUTS settings; ``draws``, ``seed`` and ``progress`` override single ones.

    Returns
    -------
    ArrheniusFit
        Quantities ``activation_energy`` (eV) and ``conductivity`` (mS/cm) or ``resistance``
        (ohm cm^2) at ``at``.  Its diagnostics fail where the data contradict Eq. 4 (a slope of
        the wrong sign) or least squares and the robust posterior disagree.
    """
    from dataclasses import replace

    from .sampling import sample

    series = data if isinstance(data, ArrheniusSeries) else series_from_table(read_table(data))
    at_k, at_text = _temperature(at)
    settings = settings or SamplerSettings()
    overrides: dict[str, Any] = {k: v for k, v in (("draws", draws), ("seed", seed)) if v is not None}
    if progress:
        overrides["progress"] = True
    settings = replace(settings, **overrides)
    seed_ = settings.resolved_seed()
    pmodel = build_fit_model(series, at_k)
    idata = sample(pmodel, settings, seed_)
    names = ["activation_energy", series.kind]
    summaries = [summarise(np.asarray(idata.posterior[n]), u) for n, u in zip(names, ["eV", series.unit])]
    ds = summary_dataset(names, summaries, attrs={"method": "bayes", "file": series.file, "seed": seed_,
                                                  "at_kelvin": at_k})
    ls = least_squares(series, at_k)
    diag = Diagnostics.from_idata(idata, [v.name for v in pmodel.free_RVs] + names)
    post = idata.posterior
    law = (float(np.mean(post["activation_energy"])), float(np.mean(post["log_value_at_centre"])),
           1.0 / float(np.mean(1.0 / series.temperature)))
    diag = diag.with_problems(*_checks(series, ls, dict(zip(names, summaries)), law))
    return ArrheniusFit(series, at_k, ds, idata, diag, ls, seed_, at_text)


def _temperature(at: float | str) -> tuple[float, str]:
    """K and its text from a number (K) or a quantity string ("25 degC")."""
    from ..priors.arguments import temperature

    value = temperature(at, "at")
    return value, (f"{value - 273.15:g} degC" if isinstance(at, (int, float)) else str(at))
