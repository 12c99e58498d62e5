"""The results of impedance fits: one spectrum's posterior, and the fit of several.

:class:`SpectrumFit` is one spectrum's fit: its posterior draws, least squares, lin-KK check,
misfit and inductive checks, its own :class:`~nassb.inference.diagnostics.Diagnostics` (the
method that made its draws among them) and warnings.  It evaluates itself: :meth:`~SpectrumFit.predict`
gives the circuit's impedance over its posterior, :meth:`~SpectrumFit.band` the 95 % band of |Z|
and phase, :meth:`~SpectrumFit.residuals` the data's residuals; the reports only lay these out.

:class:`EISFit` holds the fits of a call: one spectrum, a batch (each spectrum fitted on its
own, so each posterior is the one it gets alone) or a joint Arrhenius fit (one model over all
spectra on purpose: their resistances share Eq. 4).  Its diagnostics gate fails when any
spectrum's does, and its text and JSON say which and why.

Parameter draws are kept in the fit's raw units (the spectrum's: ohm, F, ...); everything a
result reports (``draws()``, ``summary()``, ``to_json()``, ``predict()``) is area-normalised when
an area was given.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ...priors import OptionError
from ..diagnostics import Diagnostics
from ..result import Result
from ..statistics import summarise
from .checks import Inductive, Misfit, relative_residuals
from .circuit import Circuit
from .expressions import Derived, parse_all_derived
from .identifiability import identifiability_warnings
from .leastsq import LeastSquares
from .spectrum import Spectrum

# Area normalisation: multiply a parameter of each kind by area ** power, and its unit.
_AREA = {"R": (1, "ohm*cm^2"), "C": (-1, "F/cm^2"), "Q": (-1, "F*s^(n-1)/cm^2"), "L": (1, "H*cm^2"),
         "W": (1, "ohm*cm^2*s^-0.5"), "n": (0, "1"), "Z0": (1, "ohm*cm^2"), "RG": (1, "ohm*cm^2"), "tau": (0, "s")}
GRID_POINTS = 160    # frequencies of a predicted curve over the measured window
BAND_DRAWS = 1000    # posterior draws behind a band
PROBABILITY = 0.95


# -- units --------------------------------------------------------------------------------------

def _parameter_units(circuit: Circuit, area: float | None, spectrum_unit: str) -> dict[str, str]:
    """Each parameter's unit: raw for a spectrum in ohm without an area, else per cm^2."""
    raw = {"R": "ohm", "C": "F", "Q": "F*s^(n-1)", "L": "H", "W": "ohm*s^-0.5", "n": "1", "Z0": "ohm", "RG": "ohm",
           "tau": "s"}
    normalised = area is not None or spectrum_unit != "ohm"
    return {p.name: _AREA[p.kind][1] if normalised else raw[p.kind] for p in circuit.parameters}


def _derived_units(derived: list[Derived], units: dict[str, str]) -> dict[str, str]:
    """Units of derived quantities by pint; an expression over CPE parameters gets none ("")."""
    from pint.errors import PintError

    from ...priors.units import registry as _registry

    registry = _registry()
    pint_units = {"ohm": "ohm", "ohm*cm^2": "ohm*cm**2", "F": "F", "F/cm^2": "F/cm**2", "H": "H",
                  "H*cm^2": "H*cm**2", "ohm*s^-0.5": "ohm/s**0.5", "ohm*cm^2*s^-0.5": "ohm*cm**2/s**0.5",
                  "s": "s", "1": "dimensionless"}
    out = {}
    known = {name: registry.Quantity(1.0, pint_units.get(unit, "dimensionless")) for name, unit in units.items()}
    opaque = {name for name, unit in units.items() if unit not in pint_units}
    for d in derived:
        try:
            value = d.evaluate(known)
        except ZeroDivisionError:  # R_A/(R_B-R_B): a divisor that is 0 whatever the fit
            raise OptionError(f"division by zero in {d.name}={d.text}: its divisor is 0 for every value of the "
                              "parameters", field="derive") from None
        except PintError as err:  # pint's DimensionalityError: ohm + F
            raise OptionError(f"{d.name}={d.text} mixes incompatible units ({err})", field="derive") from None
        if not np.all(np.isfinite(getattr(value, "magnitude", value))):
            raise OptionError(f"{d.name}={d.text} is not a finite number even with every parameter at 1",
                              field="derive")
        if d.names & opaque:
            unit = ""
        else:
            quantity = registry.Quantity(1.0, value.units) if hasattr(value, "units") else None
            unit = _unit_text(quantity, pint_units) if quantity is not None else "1"
        known[d.name] = value if not (d.names & opaque) else registry.Quantity(1.0, "dimensionless")
        if d.names & opaque:
            opaque.add(d.name)
        out[d.name] = unit
    return out


def _unit_text(quantity, pint_units: dict[str, str]) -> str:
    for text, spelled in pint_units.items():
        if quantity.dimensionality == quantity._REGISTRY.Quantity(1.0, spelled).dimensionality:
            factor = quantity.to(spelled).magnitude
            if math.isclose(factor, 1.0, rel_tol=1e-12):
                return text
    return f"{quantity.units:~C}"


def summarise_draws(values, unit: str) -> dict:
    """:func:`~nassb.inference.statistics.summarise` of posterior draws, with its heavy-tail check
    judged on the shape alone (no standard-error margin, unlike
    :func:`~nassb.inference.statistics.heavy_tail`): the same tail and estimator as
    :func:`~nassb.inference.statistics.tail_shape`."""
    return summarise(values, unit, tail=_tail_note(values))


def _tail_note(values) -> str | bool:
    """The heavy-tail sentence of :func:`nassb.inference.statistics.heavy_tail`, or False."""
    from ..statistics import MEAN_SHAPE, VARIANCE_SHAPE, gpd_fit, tail_excess

    excess = tail_excess(values)
    if excess is None:
        return False
    xi, _ = gpd_fit(excess / excess.mean(), prior=False)
    if not math.isfinite(xi) or xi < VARIANCE_SHAPE:
        return False
    moment = "the mean and the variance do" if xi >= MEAN_SHAPE else "the variance does"
    return f"heavy tail: the largest draws fall off as a power (tail shape {xi:.2f}); {moment} not exist"


def area_factor(kind: str, area: float | None) -> float:
    """What a parameter of ``kind`` is multiplied by to report it per electrode area (cm^2)."""
    return area ** _AREA[kind][0] if area else 1.0


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
            self._idata = _stacked_idata([self], {}, seed=self.seed)
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
            "warnings": self.warnings,
        }
        if self.kk is not None:
            doc["kramers_kronig"] = self.kk
        if self.joint:
            doc["joint"] = self.joint
        return doc

    # -- persistence -----------------------------------------------------------------------
    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        return {"spectra": _spectra_dataset([self], self.circuit, self.settings, self.seed)}

    @classmethod
    def _from_netcdf(cls, document: dict, groups: dict[str, xr.Dataset], idata) -> SpectrumFit:
        return _fits_from_netcdf([document], groups["spectra"], idata)[0]


# -- several spectra ------------------------------------------------------------------------------

class EISFit(Result):
    """The fit of one spectrum, a batch of spectra each fitted on its own, or a joint fit.

    Parameters
    ----------
    fits : list of SpectrumFit
    circuit : Circuit
    settings : EISSettings
    derived : list of Derived
    seed : int
        The call's seed; each spectrum's own seed derives from it and its data.
    joint_posterior : dict, optional
        A joint fit's shared quantities (``R_A_ref``, ``E_A_R_A``) -> draws (chain, draw), raw.
    joint_diagnostics : Diagnostics, optional
        The joint run's (one NUTS run over all spectra).
    idata : arviz.InferenceData, optional
        The joint run's draws; for a batch it is assembled from the spectra's when asked for.
    failed : dict, optional
        What could not be fitted or read (a spectrum's name or a file) -> why, in one line; left
        out of ``fits`` (``fit_eis(..., keep_going=True)``).
    """

    kind = "eis"

    def __init__(self, fits: list[SpectrumFit], circuit: Circuit, settings, derived: list, seed: int, *,
                 joint_posterior: dict | None = None, joint_diagnostics: Diagnostics | None = None, idata=None,
                 failed: dict[str, str] | None = None):
        self.fits = list(fits)
        self.failed = dict(failed or {})
        self.circuit = circuit
        self.settings = settings
        self.derived = list(derived)
        self.seed = seed
        self.joint_posterior = joint_posterior
        self.joint_diagnostics = joint_diagnostics
        self._idata = idata
        self._doc = None

    # -- the spectra ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.fits)

    def __iter__(self):
        return iter(self.fits)

    def spectrum(self, which: int | str) -> SpectrumFit:
        """One spectrum's fit, by position or by name."""
        if isinstance(which, str):
            for f in self.fits:
                if f.spectrum.name == which:
                    return f
            raise KeyError(f"no spectrum named {which!r}; the fit has {', '.join(f.name for f in self.fits)}")
        return self.fits[which]

    @property
    def spectra(self) -> list[Spectrum]:
        return [f.spectrum for f in self.fits]

    @property
    def least_squares(self) -> list[LeastSquares]:
        return [f.least_squares for f in self.fits]

    @property
    def kk(self) -> list:
        return [f.kk for f in self.fits if f.kk is not None]

    @property
    def joint(self) -> str | None:
        return "arrhenius" if self.settings.arrhenius else None

    @property
    def title(self) -> str:
        names = ", ".join(s.name for s in self.spectra[:3]) + (" ..." if len(self.spectra) > 3 else "")
        return f"{self.circuit.text} ({names})"

    @property
    def idata(self):  # an attribute of Result, built here when asked for
        """The draws: a joint run's InferenceData, or the spectra's posteriors stacked along
        ``spectrum`` (raw units)."""
        if self._idata is None:
            self._idata = _stacked_idata(self.fits, self.joint_posterior or {}, seed=self.seed)
        return self._idata

    def units(self) -> dict[str, str]:
        return self.fits[0].units()

    def draws(self, s: int = 0) -> dict[str, np.ndarray]:
        """Spectrum ``s``'s posterior draws of every parameter and derived quantity (flat)."""
        return self.fits[s].draws()

    def least_squares_values(self, s: int = 0) -> dict[str, float]:
        return self.fits[s].least_squares_values()

    def joint_draws(self) -> dict[str, np.ndarray]:
        """A joint fit's shared quantities: R_ref at the reference temperature and E_A (eV)."""
        out: dict[str, np.ndarray] = {}
        if self.joint_posterior is None:
            return out
        for name in self.settings.arrhenius:
            kind = self.circuit.parameter(name).kind
            out[f"{name}_ref"] = np.asarray(self.joint_posterior[f"{name}_ref"]).ravel() * area_factor(
                kind, self.settings.area)
            out[f"E_A_{name}"] = np.asarray(self.joint_posterior[f"E_A_{name}"]).ravel()
        return out

    def predict(self, frequency=None, *, spectrum: int | str = 0, draws: int | None = None, seed: int = 0):
        """:meth:`SpectrumFit.predict` of one spectrum (by position or name)."""
        return self.spectrum(spectrum).predict(frequency, draws=draws, seed=seed)

    def band(self, frequency=None, *, spectrum: int | str = 0, probability: float = PROBABILITY):
        """:meth:`SpectrumFit.band` of one spectrum (by position or name)."""
        return self.spectrum(spectrum).band(frequency, probability)

    # -- the gate ---------------------------------------------------------------------------
    @property
    def failing(self) -> dict[str, list[str]]:
        """The spectra that fail their gate, by name, with the reasons."""
        return {f.name: f.diagnostics.warnings() for f in self.fits if not f.ok}

    @property
    def diagnostics(self) -> Diagnostics:  # type: ignore[override]  # an attribute of Result, worked out here
        """One spectrum's diagnostics; for a batch, one summary of all (the worst numbers, every
        spectrum's problems named); for a joint fit, the joint run's with the spectra's problems."""
        if self.joint_diagnostics is not None:
            problems = [p for f in self.fits for p in f.diagnostics.problems
                        if p not in self.joint_diagnostics.problems]
            return self.joint_diagnostics.with_problems(*dict.fromkeys(problems))
        if len(self.fits) == 1:
            return self.fits[0].diagnostics
        return _batch_diagnostics(self.fits)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.fits) and (self.joint_diagnostics is None or self.joint_diagnostics.ok)

    @property
    def warnings(self) -> list[str]:
        """Every spectrum's warnings (each names its spectrum), and a joint run's, once each."""
        out = [w for f in self.fits for w in f.warnings]
        if self.joint_diagnostics is not None:
            out.extend(self.joint_diagnostics.warnings())
        return list(dict.fromkeys(out))

    @property
    def methods(self) -> dict[str, int]:
        """How many spectra each method fitted (``{"Laplace + PSIS": 68, "NUTS (PyMC)": 2}``)."""
        out: dict[str, int] = {}
        for f in self.fits:
            key = f.method.split(" (k-hat")[0]
            out[key] = out.get(key, 0) + 1
        return out

    # -- the document -----------------------------------------------------------------------
    def summary(self) -> dict[str, dict]:
        """Parameters and derived quantities; for several spectra keyed ``SPECTRUM/NAME``."""
        if len(self.fits) == 1:
            return self.fits[0].summary()
        out = {f"{f.name}/{k}": v for f in self.fits for k, v in f.summary().items()}
        if self.joint_posterior is not None:
            out.update(self._joint_summary())
        return out

    def to_dataframe(self):
        """Every spectrum's parameters and derived quantities, one row each, indexed by
        ``(spectrum, quantity)``: ``mean``, ``sd``, ``ci95_low``, ``ci95_high``, ``unit`` (and
        ``median``, ``note`` for a heavy tail); a joint fit's shared quantities under spectrum
        ``joint``."""
        import pandas as pd

        from ..frames import summary_row

        rows = [{"spectrum": f.name, "quantity": k, **summary_row(v)}
                for f in self.fits for k, v in f.summary().items()]
        if self.joint_posterior is not None:
            rows += [{"spectrum": "joint", "quantity": k, **summary_row(v)} for k, v in self._joint_summary().items()]
        df = pd.DataFrame(rows).set_index(["spectrum", "quantity"])
        df.attrs.update(kind=self.kind, circuit=self.circuit.text, units="column 'unit' (each row in its own unit)")
        return df

    def _joint_summary(self) -> dict[str, dict]:
        units = self.units()
        return {name: summarise_draws(values, "eV" if name.startswith("E_A_") else units[name[:-4]])
                for name, values in self.joint_draws().items()}

    def to_json(self):
        """One object for one spectrum, a list for several; a joint fit wraps them with its shared
        parameters."""
        if self._doc is None:
            self._doc = self._document()
        return self._doc

    def _document(self):
        spectra = [f.to_json() for f in self.fits]
        if self.joint_posterior is None:
            return spectra[0] if len(spectra) == 1 else spectra
        joint = self._joint_summary()
        draws = self.joint_draws()
        names = list(draws)
        return {
            "circuit": self.circuit.text,
            "joint": "arrhenius",
            "note": joint_note(self.settings.arrhenius, len(self.fits)),
            "reference_temperature": self.settings.reference_temperature,
            "parameters": joint,
            "covariance": {"names": names, "matrix": np.atleast_2d(np.cov(np.vstack([draws[n] for n in names])))
                           .tolist()},
            "diagnostics": self.diagnostics.to_json(),
            "warnings": self.warnings,
            "spectra": spectra,
        }

    def plot(self, kind: str = "nyquist", *, spectrum: int | str | None = None, **kwargs):
        """``"nyquist"``: every spectrum's data and posterior draws (the first six); ``"bode"``:
        one spectrum's (``spectrum``, default the first) Bode plot with its band."""
        from ...priors.display import figures

        if kind == "bode" or spectrum is not None:
            return self.spectrum(spectrum or 0).plot(kind, **kwargs)
        if kind != "nyquist":
            raise OptionError(f"'{kind}' is not a figure of an impedance fit; must be one of nyquist, bode",
                              field="kind")
        first = self.fits[0]
        unit = "Ω cm²" if first.z_factor != 1.0 or first.spectrum.unit != "ohm" else "Ω"
        return figures.nyquist([f.nyquist_curve() for f in self.fits[:6]], unit, as_figure=True, **kwargs)

    # -- persistence -----------------------------------------------------------------------
    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        return {"spectra": _spectra_dataset(self.fits, self.circuit, self.settings, self.seed,
                                            self.joint_diagnostics)}

    @classmethod
    def _from_netcdf(cls, document, groups: dict[str, xr.Dataset], idata) -> EISFit:
        data = groups["spectra"]
        if isinstance(document, dict) and "spectra" in document:
            docs = document["spectra"]
        else:
            docs = document if isinstance(document, list) else [document]
        fits = _fits_from_netcdf(docs, data, idata)
        settings, derived = fits[0].settings, fits[0].derived
        joint_posterior = joint_diagnostics = None
        if isinstance(document, dict) and document.get("joint"):
            post = idata.posterior
            joint_posterior = {}
            for name in settings.arrhenius:
                for key in (f"{name}_ref", f"E_A_{name}"):
                    joint_posterior[key] = np.asarray(post[key])
            joint_diagnostics = Diagnostics.from_json(json.loads(str(data.attrs["joint_diagnostics"])))
        return cls(fits, Circuit(str(data.attrs["circuit"])), settings, derived, int(data.attrs["seed"]),
                   joint_posterior=joint_posterior, joint_diagnostics=joint_diagnostics, idata=idata)


def joint_note(arrhenius, spectra: int) -> str:
    """What a joint fit is, in one sentence."""
    return (f"one model over all {spectra} spectra on purpose: {', '.join(arrhenius)} follow Eq. 4 across the "
            "spectra's temperatures, so their posteriors (and the diagnostics) are joint, not per spectrum")


def _batch_diagnostics(fits: list[SpectrumFit]) -> Diagnostics:
    """One Diagnostics for a batch: the worst numbers over the spectra, each problem named."""
    ds = [f.diagnostics for f in fits]
    counts: dict[str, int] = {}
    for f in fits:
        key = f.method.split(" (k-hat")[0]
        counts[key] = counts.get(key, 0) + 1
    method = "each spectrum on its own: " + ", ".join(f"{n} x {m}" for m, n in counts.items())

    def worst(values, pick):
        values = [v for v in values if v is not None and np.isfinite(v)]
        return pick(values) if values else None

    failing = tuple(f"{f.name}/{q}" for f in fits for q in f.diagnostics.failing)
    problems = tuple(p if p.startswith(f.name + ":") else f"{f.name}: {p}"
                     for f in fits for p in f.diagnostics.problems)
    divergent = [f"{f.name}: {f.diagnostics.divergences} divergent transitions"
                 for f in fits if f.diagnostics.divergences]
    return Diagnostics(method=method, chains=ds[0].chains, draws_per_chain=ds[0].draws_per_chain,
                       max_rhat=worst([d.max_rhat for d in ds], max),
                       min_ess_bulk=worst([d.min_ess_bulk for d in ds], min),
                       min_ess_tail=worst([d.min_ess_tail for d in ds], min),
                       divergences=sum(d.divergences for d in ds), failing=failing, problems=problems,
                       notes=tuple(divergent))


# -- NetCDF layout ----------------------------------------------------------------------------------

def _stacked_idata(fits: list[SpectrumFit], joint: dict, seed: int | None = None):
    """The spectra's draws along ``spectrum`` (and a joint fit's shared ones), raw units."""
    from ..diagnostics import import_arviz
    from ..result import stamp

    names = list(fits[0].posterior)
    shapes = {np.shape(f.posterior[names[0]]) for f in fits}
    if len(shapes) > 1:  # never from fit_spectra: every method gives chains x draws
        size = min(int(np.prod(s)) for s in shapes)
        posterior = {n: np.stack([np.asarray(f.posterior[n]).ravel()[:size][None, :] for f in fits], axis=-1)
                     for n in names}
    else:
        posterior = {n: np.stack([np.asarray(f.posterior[n]) for f in fits], axis=-1) for n in names}
    posterior.update({k: np.asarray(v) for k, v in joint.items()})
    attrs = {"circuit": fits[0].circuit.text, "area_cm2": fits[0].area or 0.0,
             "units": "raw, as the spectra: ohm (or ohm*cm^2 for area-normalised files), F, H, F*s^(n-1); "
                      "summary.json holds the area-normalised values",
             "methods": json.dumps({f.name: f.method for f in fits})}
    if seed is not None:
        attrs["seed"] = int(seed)
    idata = import_arviz().from_dict(posterior=posterior, dims={n: ["spectrum"] for n in names},
                                     coords={"spectrum": [f.name for f in fits]}, attrs=attrs)
    return stamp(idata)


def _spectra_dataset(fits: list[SpectrumFit], circuit: Circuit, settings, seed: int,
                     joint_diagnostics: Diagnostics | None = None) -> xr.Dataset:
    """The data and settings a loaded fit needs to report, plot and predict again."""
    index = np.concatenate([np.full(len(f.spectrum), s) for s, f in enumerate(fits)])
    ls = [f.least_squares for f in fits]
    data = {
        "frequency": ("point", np.concatenate([f.spectrum.frequency for f in fits])),
        "z_real": ("point", np.concatenate([f.spectrum.z.real for f in fits])),
        "z_imag": ("point", np.concatenate([f.spectrum.z.imag for f in fits])),
        "point_spectrum": ("point", index),
        "ls_theta": (("spectrum", "coordinate"), np.array([st.theta for st in ls])),
        "ls_scale": (("spectrum", "coordinate", "coordinate_2"), np.array([st.scale for st in ls])),
        "ls_starts": ("spectrum", np.array([st.starts for st in ls], dtype=np.int64)),
        "seed": ("spectrum", np.array([f.seed for f in fits], dtype=np.int64)),
        "seconds": ("spectrum", np.array([f.seconds for f in fits], dtype=float)),
    }
    attrs = {"circuit": circuit.text, "area": settings.area or 0.0, "derive": json.dumps(list(settings.derive)),
             "arrhenius": json.dumps(list(settings.arrhenius)), "reference_temperature": settings.reference_temperature,
             "kk": int(bool(settings.kk)), "seed": int(seed), "method": settings.method,
             "units": json.dumps([f.spectrum.unit for f in fits]),
             "notes": json.dumps([list(f.spectrum.notes) for f in fits])}
    if joint_diagnostics is not None:
        attrs["joint_diagnostics"] = json.dumps(joint_diagnostics.to_json())
    return xr.Dataset(data, coords={"spectrum": [f.name for f in fits]}, attrs=attrs)


def _fits_from_netcdf(docs: list[dict], data: xr.Dataset, idata) -> list[SpectrumFit]:
    from .fit import EISSettings

    attrs = data.attrs
    circuit = Circuit(str(attrs["circuit"]))
    area = float(attrs["area"]) or None
    derive = tuple(json.loads(str(attrs["derive"])))
    settings = EISSettings(area=area, derive=derive, arrhenius=tuple(json.loads(str(attrs["arrhenius"]))),
                           reference_temperature=float(attrs["reference_temperature"]), kk=bool(int(attrs["kk"])),
                           method=str(attrs.get("method", "auto")))
    derived = parse_all_derived(derive, circuit.names)
    units = json.loads(str(attrs["units"]))
    notes = json.loads(str(attrs.get("notes", "[]"))) or [[] for _ in docs]
    post = idata.posterior
    point = np.asarray(data["point_spectrum"])
    fits = []
    for s, doc in enumerate(docs):
        mask = point == s
        spectrum = Spectrum(np.asarray(data["frequency"])[mask],
                            np.asarray(data["z_real"])[mask] + 1j * np.asarray(data["z_imag"])[mask],
                            source=str(doc["file"]), name=str(doc["spectrum"]), unit=units[s],
                            temperature=doc.get("temperature"), cycle=doc.get("cycle"), notes=tuple(notes[s]))
        posterior = {p.name: np.asarray(post[p.name].isel(spectrum=s)) for p in circuit.parameters}
        posterior["noise"] = np.asarray(post["noise"].isel(spectrum=s))
        raw_ls = {p.name: doc["least_squares"][p.name] / area_factor(p.kind, area) for p in circuit.parameters}
        ls = LeastSquares(raw_ls, np.asarray(data["ls_theta"])[s], np.asarray(data["ls_scale"])[s],
                          float(doc["least_squares_rms"]), int(np.asarray(data["ls_starts"])[s]))
        checks = doc.get("checks") or {}
        misfit = Misfit(**checks["misfit"]) if checks.get("misfit") else None
        inductive = Inductive(**checks["inductive"]) if checks.get("inductive") else None
        diagnostics = Diagnostics.from_json(doc["diagnostics"])
        # the identifiability warnings as the fit gave them (not recomputed from the draws)
        kk = doc.get("kramers_kronig")
        named = {kk["warning"]} if kk and kk.get("warning") else set()
        if misfit is not None:
            named.add(misfit.sentence(spectrum.name))
        if inductive is not None:
            named.add(inductive.sentence(spectrum.name))
        diag = {w if w.startswith(spectrum.name + ":") else f"{spectrum.name}: {w}" for w in diagnostics.warnings()}
        identifiability = [w for w in doc.get("warnings", []) if w not in named and w not in diag]
        fits.append(SpectrumFit(circuit, spectrum, settings, posterior, ls, derived, diagnostics,
                                int(np.asarray(data["seed"])[s]), kk=kk, misfit=misfit,
                                inductive=inductive, joint=doc.get("joint"),
                                seconds=float(np.asarray(data["seconds"])[s]), identifiability=identifiability))
    return fits
