"""One spectrum's impedance fit (:class:`SpectrumFit`): its posterior draws, least squares,
lin-KK check, misfit and inductive checks, its own diagnostics and warnings.  It evaluates
itself: :meth:`~SpectrumFit.predict` gives the circuit's impedance over its posterior,
:meth:`~SpectrumFit.band` the 95 % band of |Z| and phase, :meth:`~SpectrumFit.residuals` the
data's residuals; the reports only lay these out.  The fit of several spectra is
:class:`~nassb.inference.eis.results.EISFit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ...priors import OptionError
from ..diagnostics import Diagnostics
from ..result import Result
from .checks import Inductive, Misfit, relative_residuals
from .circuit import Circuit
from .coordinates import tau_bounds, window_assumption
from .identifiability import identifiability_warnings
from .leastsq import LeastSquares
from .fit_files import fits_from_netcdf, spectra_dataset, stacked_idata
from .spectrum import Spectrum
from .units import _derived_units, _parameter_units, area_factor, summarise_draws

GRID_POINTS = 160    # frequencies of a predicted curve over the measured window
BAND_DRAWS = 1000    # posterior draws behind a band
PROBABILITY = 0.95


# -- one spectrum ---------------------------------------------------------------------------------

@dataclass(repr=False, eq=False)
class SpectrumFit(Result):
    """The posterior of one spectrum's circuit parameters, and what the data say about the fit.

    Attributes
    ----------
    circuit : Circuit
    spectrum : Spectrum
    settings : EISSettings
    posterior : dict
        Parameter name (and ``noise``, the relative noise eps) -> draws of shape (chain, draw),
        in raw units (the spectrum's: ohm or ohm*cm^2, F, H, ...).
    least_squares : LeastSquares
    derived : list of Derived
    diagnostics : Diagnostics
        Its method (``"Laplace + PSIS (k-hat 0.21, ESS 3100)"`` or ``"NUTS (PyMC)"``), the
        sampler's numbers, and ``problems``: a failed lin-KK check, a misfit, draws not trusted.
    seed : int
        The seed this spectrum's draws came from (derived from the call's seed and the data).
    kk : dict, optional
        lin-KK's outcome (``m``, ``mu``, ``rms``, ``max``, ``ok``, ``warning``).
    misfit, inductive : optional
        What :mod:`nassb.inference.eis.checks` found.
    joint : str, optional
        ``"arrhenius"`` when this spectrum is part of a joint fit (its posterior is not its own).
    seconds : float
        Wall time of this spectrum's fit (not in the JSON).
    """

    circuit: Circuit
    spectrum: Spectrum
    settings: Any
    posterior: dict
    least_squares: LeastSquares
    derived: list
    diagnostics: Diagnostics
    seed: int
    kk: dict | None = None
    misfit: Misfit | None = None
    inductive: Inductive | None = None
    joint: str | None = None
    seconds: float = math.nan
    identifiability: list | None = None
    _doc: Any = field(default=None, repr=False)
    _units: Any = field(default=None, repr=False)
    _idata: Any = field(default=None, repr=False)

    kind = "eis-spectrum"

    def __post_init__(self):
        if self.identifiability is None:
            self.identifiability = identifiability_warnings(self.circuit, self.spectrum, self.draws(), self.units())

    @property
    def name(self) -> str:
        return self.spectrum.name

    @property
    def title(self) -> str:
        return f"{self.circuit.text} ({self.spectrum.name})"

    @property
    def method(self) -> str:
        return self.diagnostics.method

    @property
    def area(self) -> float | None:
        return self.settings.area

    @property
    def idata(self):  # an attribute of Result, built here when asked for
        """The draws as arviz InferenceData (raw units, along a ``spectrum`` dimension of length
        one, as a batch's), built when first asked for."""
        if self._idata is None:
            self._idata = stacked_idata([self], {}, seed=self.seed)
        return self._idata

    # -- draws -----------------------------------------------------------------------------
    def units(self) -> dict[str, str]:
        """Unit of every parameter and derived quantity as reported."""
        if self._units is None:
            units = _parameter_units(self.circuit, self.area, self.spectrum.unit)
            units.update(_derived_units(self.derived, units))
            self._units = units
        return dict(self._units)

    def draws(self) -> dict[str, np.ndarray]:
        """Every parameter's and derived quantity's posterior draws, flat, as reported (per cm^2
        with an area)."""
        out = {p.name: np.asarray(self.posterior[p.name], dtype=float).ravel() * area_factor(p.kind, self.area)
               for p in self.circuit.parameters}
        ones = np.ones_like(next(iter(out.values())))
        for d in self.derived:
            out[d.name] = np.asarray(d.evaluate(out), dtype=float) * ones
        return out

    def noise(self) -> np.ndarray:
        """Draws of the relative noise eps (0.005: 0.5 % of ``|Z|``)."""
        return np.asarray(self.posterior["noise"], dtype=float).ravel()

    def least_squares_values(self) -> dict[str, float]:
        out = {p.name: self.least_squares.values[p.name] * area_factor(p.kind, self.area)
               for p in self.circuit.parameters}
        for d in self.derived:
            out[d.name] = float(d.evaluate(out))
        return out

    def summary(self) -> dict[str, dict]:
        """Parameters and derived quantities: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``."""
        units = self.units()
        return {name: summarise_draws(values, units[name]) for name, values in self.draws().items()}

    def covariance(self) -> dict:
        """The posterior covariance of the parameters and derived quantities, as reported:
        ``{"names": [...], "matrix": [[...]]}`` (units: the products of the names' units)."""
        draws = self.draws()
        names = list(draws)
        matrix = np.cov(np.vstack([draws[n] for n in names]))
        return {"names": names, "matrix": np.atleast_2d(matrix).tolist()}

    # -- the fit evaluated -----------------------------------------------------------------
    def frequency_grid(self, points: int = GRID_POINTS) -> np.ndarray:
        """Hz: ``points`` frequencies log-spaced over the measured window."""
        f = self.spectrum.frequency
        return np.logspace(np.log10(f.min()), np.log10(f.max()), points)

    @property
    def z_factor(self) -> float:
        """What the spectrum's impedance is multiplied by to report it (the area, if given)."""
        return self.area or 1.0

    def predict(self, frequency=None, *, draws: int | None = None, seed: int = 0) -> np.ndarray:
        """The circuit's impedance over the posterior: complex, shape (draws, frequencies), in
        ohm (ohm cm^2 with an area or for an area-normalised spectrum), at ``frequency`` (Hz;
        default :meth:`frequency_grid`).  ``draws`` picks that many posterior draws at random
        (seeded by ``seed``); None takes them all."""
        f = self.frequency_grid() if frequency is None else np.atleast_1d(np.asarray(frequency, dtype=float))
        flat = {p.name: np.asarray(self.posterior[p.name], dtype=float).ravel() for p in self.circuit.parameters}
        total = next(iter(flat.values())).size
        pick = (np.random.default_rng(seed).choice(total, size=min(draws, total), replace=False)
                if draws is not None else np.arange(total))
        values = {name: v[pick][:, None] for name, v in flat.items()}
        return self.circuit.complex_impedance(values, 2 * np.pi * f) * self.z_factor

    def band(self, frequency=None, probability: float = PROBABILITY) -> np.ndarray:
        """Lower end, median and upper end of ``|Z|`` and of -phase (degrees) over the posterior at
        ``frequency`` (Hz; default :meth:`frequency_grid`): shape (3, 2, frequencies)."""
        z = self.predict(frequency, draws=BAND_DRAWS)
        tail = 100 * (1 - probability) / 2
        q = [tail, 50, 100 - tail]
        modulus = np.percentile(np.abs(z), q, axis=0)
        phase = np.percentile(-np.degrees(np.angle(z)), q, axis=0)
        return np.stack([modulus, phase], axis=1)

    def median_values(self) -> dict[str, float]:
        """The posterior median of every parameter, raw units."""
        return {p.name: float(np.median(self.posterior[p.name])) for p in self.circuit.parameters}

    def residuals(self) -> np.ndarray:
        """(Z - Z_model) / ``|Z|`` at the measured frequencies, the model at the posterior median
        parameters (complex, dimensionless)."""
        return relative_residuals(self.spectrum, self.circuit.complex_impedance(self.median_values(),
                                                                                 self.spectrum.omega))

    def plot(self, kind: str = "bode", **kwargs):
        """``"bode"``: ``|Z|`` and phase with the posterior's 95 % band, and the residuals;
        ``"nyquist"``: the data and posterior draws of the circuit."""
        from ...priors.display import figures

        unit = "Ω cm²" if self.z_factor != 1.0 or self.spectrum.unit != "ohm" else "Ω"
        if kind == "nyquist":
            return figures.nyquist([self.nyquist_curve()], unit, as_figure=True, **kwargs)
        if kind != "bode":
            raise OptionError(f"'{kind}' is not a figure of a spectrum fit; must be one of bode, nyquist", field="kind")
        grid = self.frequency_grid()
        return figures.bode(self.spectrum.frequency, self.spectrum.z * self.z_factor, grid, self.band(grid),
                            self.residuals(), unit, as_figure=True, **kwargs)

    def nyquist_curve(self, draws: int = 60) -> dict:
        """What a Nyquist plot draws for this spectrum: ``label``, ``z`` (data), ``draws``."""
        return {"label": self.spectrum.name, "z": self.spectrum.z * self.z_factor,
                "draws": self.predict(draws=draws)}

    # -- what a reader must know -----------------------------------------------------------
    @property
    def checks(self) -> list[str]:
        """lin-KK, misfit, inductive points, identifiability: the spectrum's own warnings."""
        out = []
        if self.kk and self.kk.get("warning"):
            out.append(self.kk["warning"])
        if self.misfit is not None:
            out.append(self.misfit.sentence(self.spectrum.name))
        if self.inductive is not None:
            out.append(self.inductive.sentence(self.spectrum.name))
        return out + list(self.identifiability or [])

    @property
    def warnings(self) -> list[str]:
        named = [w if w.startswith(self.spectrum.name + ":") else f"{self.spectrum.name}: {w}"
                 for w in self.diagnostics.warnings()]
        return list(dict.fromkeys(self.checks + named))

    def to_json(self) -> dict:
        """The JSON object of one spectrum (the command line's contract)."""
        if self._doc is None:
            self._doc = self._document()
        return self._doc

    def _document(self) -> dict:
        units = self.units()
        draws = self.draws()
        spectrum = self.spectrum
        doc = {
            "spectrum": spectrum.name,
            "file": spectrum.source,
            "temperature": spectrum.temperature,
            "cycle": spectrum.cycle,
            "circuit": self.circuit.text,
            "area": self.area,
            "method": self.method,
            "parameters": {p.name: summarise_draws(draws[p.name], units[p.name]) for p in self.circuit.parameters},
            "derived": {d.name: summarise_draws(draws[d.name], units[d.name]) | {"expression": d.text}
                        for d in self.derived},
            "least_squares": self.least_squares_values(),
            "least_squares_rms": self.least_squares.rms,
            "noise": summarise_draws(self.noise(), "1"),
            "covariance": self.covariance(),
            "checks": {"misfit": self.misfit.to_json() if self.misfit else None,
                       "inductive": self.inductive.to_json() if self.inductive else None},
            "diagnostics": self.diagnostics.to_json(),
            "assumption": window_assumption(spectrum),
            "tau_bounds": list(tau_bounds(spectrum)),
            "warnings": self.warnings,
        }
        if self.kk is not None:
            doc["kramers_kronig"] = self.kk
        if self.joint:
            doc["joint"] = self.joint
        return doc

    # -- persistence -----------------------------------------------------------------------
    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        return {"spectra": spectra_dataset([self], self.circuit, self.settings, self.seed)}

    @classmethod
    def _from_netcdf(cls, document: dict, groups: dict[str, xr.Dataset], idata) -> SpectrumFit:
        return fits_from_netcdf([document], groups["spectra"], idata, cls)[0]
