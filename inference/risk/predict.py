"""Posterior predictive of the risk models: vectorised over calibrated draws, milliseconds for
thousands of draws, so the design search can call it for every trial."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import forms

POSTERIOR_FILE = "risk-posterior.nc"


@dataclass
class RiskScore:
    """Per-draw risk quantities of one design (arrays of equal length)."""

    P_fracture: np.ndarray
    P_short: np.ndarray
    R_cell: np.ndarray
    ohmic_drop: np.ndarray
    retention: np.ndarray

    UNITS = {"P_fracture": "1", "P_short": "1", "R_cell": "ohm*cm^2", "ohmic_drop": "V", "retention": "1"}

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.UNITS}


class RiskModel:
    """Calibrated draws of every risk parameter, and the forms evaluated on them.

    Parameters
    ----------
    draws : dict[str, numpy.ndarray]
        Parameter name (``"fracture.strength"``) -> 1-d array of posterior draws.
    """

    def __init__(self, draws: dict[str, np.ndarray], fingerprint: str = ""):
        sizes = {np.size(v) for v in draws.values()}
        if len(sizes) != 1:
            raise ValueError("every parameter needs the same number of draws")
        self.draws = {k: np.asarray(v, dtype=float).ravel() for k, v in draws.items()}
        self.size = sizes.pop()
        self.fingerprint = fingerprint or hashlib.sha256(
            b"".join(self.draws[k].tobytes() for k in sorted(self.draws))).hexdigest()[:16]

    @classmethod
    def from_idata(cls, idata) -> "RiskModel":
        names = [n for n in idata.posterior.data_vars if "." in n]
        return cls({n: np.asarray(idata.posterior[n]).ravel() for n in names})

    @classmethod
    def load(cls, path: str | Path | None = None) -> "RiskModel":
        """The calibrated draws shipped with nassb (or written by ``nassb risk-calibrate``)."""
        import xarray as xr

        from ...priors import DataError

        source = Path(path) if path is not None else Path(str(resources.files("nassb.priors") / "data" / POSTERIOR_FILE))
        from ...priors.risk import PARAMETERS

        try:
            with xr.open_dataset(source, engine="h5netcdf", group="posterior") as ds:
                draws = {n: ds[n].values.ravel() for n in ds.data_vars if "." in n}
        except (OSError, ValueError, KeyError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DataError(f"cannot read the risk posterior: {first}", file=str(source)) from None
        missing = [f"{m}.{k}" for m, keys in PARAMETERS.items() for k in keys if f"{m}.{k}" not in draws]
        if missing:
            raise DataError(f"not a risk posterior: missing {', '.join(missing)}", file=str(source))
        return cls(draws)

    def p(self, name: str) -> np.ndarray:
        return self.draws[name]

    def fracture(self, pressure, thickness, area):
        """P(separator cracks) per draw; pressure MPa, thickness um, area cm^2."""
        d = self.draws
        return forms.fracture_probability(pressure, thickness, area, d["fracture.strength"],
                                          d["fracture.weibull_modulus"], d["fracture.span_reference"],
                                          d["fracture.span_exponent"])

    def short(self, current, cycles, pressure, reservoir, thickness, capacity):
        """P(short within ``cycles``) per draw; current mA/cm^2, capacity mAh/cm^2 per cycle."""
        d = self.draws
        ccd = forms.critical_current(pressure, reservoir, thickness, capacity, d["short.ccd_reference"],
                                     d["short.pressure_exponent"], d["short.reservoir_exponent"],
                                     d["short.thickness_exponent"], d["short.capacity_exponent"])
        return forms.short_probability(current, cycles, ccd, d["short.ccd_modulus"], d["short.cycle_exponent"])

    def resistance(self, r_separator, r_interface, cathode_thickness, porosity, pressure):
        """Cell area resistance (ohm cm^2) per draw."""
        d = self.draws
        return (r_separator + r_interface
                + forms.cathode_resistance(cathode_thickness, porosity, d["rate.liquid_conductivity"],
                                           d["rate.bruggeman"], d["rate.charge_transfer"])
                + forms.contact_resistance(pressure, d["rate.contact_reference"], d["rate.contact_exponent"]))

    def retention(self, cycles, capacity, reservoir_capacity):
        """Capacity retention after ``cycles`` from the sodium inventory, per draw."""
        return forms.retention(cycles, self.draws["inventory.loss"], capacity, reservoir_capacity)

    def score(self, *, pressure, separator_thickness, area, current, cycles, reservoir_thickness,
              swelling, capacity, cathode_thickness, porosity, r_separator, r_interface) -> RiskScore:
        """Every risk of one design, per draw (arguments may be per-draw arrays or scalars).

        ``swelling`` (um per mAh/cm^2) turns the reservoir thickness into a reservoir capacity.
        """
        r_cell = self.resistance(r_separator, r_interface, cathode_thickness, porosity, pressure)
        return RiskScore(
            P_fracture=self.fracture(pressure, separator_thickness, area),
            P_short=self.short(current, cycles, pressure, reservoir_thickness, separator_thickness, capacity),
            R_cell=r_cell,
            ohmic_drop=current * r_cell * 1e-3,
            retention=self.retention(cycles, capacity, reservoir_thickness / swelling),
        )

    def most_informative(self, values: np.ndarray, model: str) -> tuple[str, float]:
        """The parameter of ``model`` whose uncertainty drives ``values`` most.

        Measured by the squared rank correlation over the posterior draws: a first-order guide
        to which experiment would narrow the prediction most.
        """
        ranks = _ranks(values)
        best, best_r2 = "", -1.0
        for name, draws in self.draws.items():
            if not name.startswith(model + "."):
                continue
            r = np.corrcoef(ranks, _ranks(draws))[0, 1]
            r2 = 0.0 if not np.isfinite(r) else float(r * r)
            if r2 > best_r2:
                best, best_r2 = name, r2
        return best, best_r2


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(x.size)
    return ranks


def load_risk_model(posterior=None) -> RiskModel:
    """Calibrated risk draws from a file, a calibration result, a RiskModel, or (None) the
    calibration shipped with nassb."""
    if posterior is None or isinstance(posterior, (str, Path)):
        return RiskModel.load(posterior)
    if isinstance(posterior, RiskModel):
        return posterior
    if hasattr(posterior, "risk_model"):
        return posterior.risk_model()
    raise TypeError(f"expected a posterior file, a CalibrationResult or a RiskModel, got {type(posterior).__name__}")
