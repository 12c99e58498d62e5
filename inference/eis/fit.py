"""Bayesian equivalent-circuit fits: one spectrum, a batch, or a multi-temperature joint fit.

:func:`fit_spectra` runs, per spectrum, the lin-KK check and the least-squares start, then one
NUTS run over all spectra (nassb.inference.eis.model), and returns an :class:`EISFit` with the
posterior of every parameter, the ``--derive`` quantities, the least-squares estimates, the
diagnostics gate and the identifiability warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ...priors import DataError, OptionError
from ..diagnostics import Diagnostics
from ..result import Result
from ..sampling import SamplerSettings, sample
from ..statistics import summarise
from .circuit import Circuit
from .coordinates import Layout
from .expressions import Derived, parse_derived
from .identifiability import identifiability_warnings
from .leastsq import LeastSquares, fit_least_squares
from .spectrum import Spectrum

TARGET_ACCEPT = 0.95  # the curved ridges of arcs near the window edge diverge at 0.9
# Area normalisation: multiply a parameter of each kind by area ** power, and its unit.
_AREA = {"R": (1, "ohm*cm^2"), "C": (-1, "F/cm^2"), "Q": (-1, "F*s^(n-1)/cm^2"), "L": (1, "H*cm^2"),
         "W": (1, "ohm*cm^2*s^-0.5"), "n": (0, "1"), "Z0": (1, "ohm*cm^2"), "RG": (1, "ohm*cm^2"), "tau": (0, "s")}


@dataclass(frozen=True)
class EISSettings:
    """How to fit.

    Attributes
    ----------
    sampler : SamplerSettings
        NUTS settings (target acceptance raised to 0.95 unless set higher).
    area : float, optional
        Electrode area in cm^2: report resistances in ohm cm^2 (and Q, C per cm^2).
    derive : tuple of str
        ``NAME=EXPR`` quantities computed on every draw.
    arrhenius : tuple of str
        Joint fit: the resistances that follow Eq. 4 across the spectra's temperatures.
    reference_temperature : float
        K; where a joint fit reports R_ref (default 30 degC, the paper's).
    kk : bool
        Run the lin-KK check before fitting.
    """

    sampler: SamplerSettings = SamplerSettings(target_accept=TARGET_ACCEPT)
    area: float | None = None
    derive: tuple[str, ...] = ()
    arrhenius: tuple[str, ...] = ()
    reference_temperature: float = 303.15
    kk: bool = True


@dataclass(repr=False)
class EISFit(Result):
    """The result of one NUTS run over one or more spectra.

    Parameter draws are per spectrum, already area-normalised when an area was given.
    """

    circuit: Circuit
    spectra: list[Spectrum]
    settings: EISSettings
    idata: object
    least_squares: list[LeastSquares]
    derived: list[Derived]
    diagnostics: Diagnostics
    seed: int
    kk: list = field(default_factory=list)
    spectrum_warnings: list[list[str]] = field(default_factory=list)
    _doc: object = field(default=None, repr=False)  # to_json, computed once
    _units: dict | None = field(default=None, repr=False)

    kind = "eis"

    @property
    def title(self) -> str:
        names = ", ".join(s.name for s in self.spectra[:3]) + (" ..." if len(self.spectra) > 3 else "")
        return f"{self.circuit.text} ({names})"

    @property
    def warnings(self) -> list[str]:
        """Every spectrum's warnings (lin-KK, identifiability) and the diagnostics', once each."""
        return list(dict.fromkeys([w for ws in self.spectrum_warnings for w in ws] + self.diagnostics.warnings()))

    def summary(self) -> dict[str, dict]:
        """Parameters and derived quantities; for several spectra keyed ``SPECTRUM/NAME``."""
        units = self.units()
        out = {}
        for s, spectrum in enumerate(self.spectra):
            prefix = "" if len(self.spectra) == 1 else f"{spectrum.name}/"
            for name, values in self.draws(s).items():
                out[prefix + name] = summarise(values, units[name])
        return out

    # -- draws -----------------------------------------------------------------------------
    def units(self) -> dict[str, str]:
        """Unit of every parameter and derived quantity (worked out once, by pint)."""
        if self._units is None:
            self._units = _parameter_units(self.circuit, self.settings.area, self.spectra[0].unit)
            self._units.update(_derived_units(self.derived, self._units))
        return dict(self._units)

    def _factor(self, kind: str) -> float:
        return self.settings.area ** _AREA[kind][0] if self.settings.area else 1.0

    def draws(self, s: int = 0) -> dict[str, np.ndarray]:
        """Every parameter's and derived quantity's posterior draws for spectrum ``s`` (flat)."""
        post = self.idata.posterior
        out = {}
        for p in self.circuit.parameters:
            values = np.asarray(post[p.name].isel(spectrum=s)).ravel()
            out[p.name] = values * self._factor(p.kind)
        for d in self.derived:
            out[d.name] = np.asarray(d.evaluate(out), dtype=float) * np.ones_like(next(iter(out.values())))
        return out

    def least_squares_values(self, s: int = 0) -> dict[str, float]:
        ls = self.least_squares[s]
        out = {p.name: ls.values[p.name] * self._factor(p.kind) for p in self.circuit.parameters}
        for d in self.derived:
            out[d.name] = float(d.evaluate(out))
        return out

    def joint_draws(self) -> dict[str, np.ndarray]:
        """A joint fit's shared quantities: R_ref at the reference temperature and E_A (eV)."""
        post = self.idata.posterior
        out = {}
        for name in self.settings.arrhenius:
            kind = self.circuit.parameter(name).kind
            out[f"{name}_ref"] = np.asarray(post[f"{name}_ref"]).ravel() * self._factor(kind)
            out[f"E_A_{name}"] = np.asarray(post[f"E_A_{name}"]).ravel()
        return out

    # -- summaries -------------------------------------------------------------------------
    def spectrum_summary(self, s: int) -> dict:
        """The JSON object of one spectrum (the command line's contract)."""
        units = self.units()
        draws = self.draws(s)
        spectrum = self.spectra[s]
        names = self.circuit.names
        doc = {
            "spectrum": spectrum.name,
            "file": spectrum.source,
            "temperature": spectrum.temperature,
            "cycle": spectrum.cycle,
            "circuit": self.circuit.text,
            "area": self.settings.area,
            "parameters": {n: summarise(draws[n], units[n]) for n in names},
            "derived": {d.name: summarise(draws[d.name], units[d.name]) | {"expression": d.text} for d in self.derived},
            "least_squares": self.least_squares_values(s),
            "least_squares_rms": self.least_squares[s].rms,
            "noise": summarise(np.asarray(self.idata.posterior["noise"].isel(spectrum=s)).ravel(), "1"),
            "diagnostics": self.diagnostics.to_json(),
            "warnings": list(self.spectrum_warnings[s]) if s < len(self.spectrum_warnings) else [],
        }
        if self.kk:
            doc["kramers_kronig"] = self.kk[s]
        return doc

    def to_json(self):
        """One object per spectrum (a list for several); a joint fit wraps them with its shared
        parameters."""
        if self._doc is None:
            self._doc = self._document()
        return self._doc

    def _document(self):
        spectra = [self.spectrum_summary(s) for s in range(len(self.spectra))]
        if not self.settings.arrhenius:
            return spectra[0] if len(spectra) == 1 else spectra
        units = self.units()
        joint = {}
        for name, values in self.joint_draws().items():
            joint[name] = summarise(values, "eV" if name.startswith("E_A_") else units[name[:-4]])
        return {
            "circuit": self.circuit.text,
            "joint": "arrhenius",
            "reference_temperature": self.settings.reference_temperature,
            "parameters": joint,
            "diagnostics": self.diagnostics.to_json(),
            "warnings": sorted({w for ws in self.spectrum_warnings for w in ws}),
            "spectra": spectra,
        }

    def to_netcdf(self, path):
        """The InferenceData (posterior in the fit's raw units, per spectrum) written atomically."""
        from ...priors.files import atomic_target

        self.idata.posterior.attrs.update({
            "circuit": self.circuit.text, "area_cm2": self.settings.area or 0.0,
            "units": "raw, as the spectra: ohm (or ohm*cm^2 for area-normalised files), F, H, F*s^(n-1); "
                     "summary.json holds the area-normalised values"})
        with atomic_target(path) as tmp:
            self.idata.to_netcdf(str(tmp), engine="h5netcdf")
        return path


def _parameter_units(circuit: Circuit, area: float | None, spectrum_unit: str) -> dict[str, str]:
    """Each parameter's unit: raw for a spectrum in ohm without an area, else per cm^2."""
    raw = {"R": "ohm", "C": "F", "Q": "F*s^(n-1)", "L": "H", "W": "ohm*s^-0.5", "n": "1", "Z0": "ohm", "RG": "ohm",
           "tau": "s"}
    normalised = area is not None or spectrum_unit != "ohm"
    return {p.name: _AREA[p.kind][1] if normalised else raw[p.kind] for p in circuit.parameters}


def _derived_units(derived: list[Derived], units: dict[str, str]) -> dict[str, str]:
    """Units of derived quantities by pint; an expression over CPE parameters gets none ("")."""
    from ...priors.units import registry as _registry

    registry = _registry()

    pint_units = {"ohm": "ohm", "ohm*cm^2": "ohm*cm**2", "F": "F", "F/cm^2": "F/cm**2", "H": "H",
                  "H*cm^2": "H*cm**2", "ohm*s^-0.5": "ohm/s**0.5", "ohm*cm^2*s^-0.5": "ohm*cm**2/s**0.5",
                  "s": "s", "1": "dimensionless"}
    out = {}
    known = {name: registry.Quantity(1.0, pint_units.get(unit, "dimensionless")) for name, unit in units.items()}
    opaque = {name for name, unit in units.items() if unit not in pint_units}
    from pint.errors import PintError

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


def fit_spectra(spectra: list[Spectrum], circuit: Circuit | str, settings: EISSettings = EISSettings()) -> EISFit:
    """Fit every spectrum with ``circuit`` in one NUTS run (independent parameters per spectrum,
    except the resistances of a joint Arrhenius fit)."""
    from .model import build_model

    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    _check(spectra, circuit, settings)
    layout = Layout.of(circuit)
    known = list(circuit.names)
    derived = []
    for spec in settings.derive:
        d = parse_derived(spec, known)
        derived.append(d)
        known.append(d.name)
    # Units first: a derived quantity that adds ohm to farad is refused before any sampling.
    _derived_units(derived, _parameter_units(circuit, settings.area, spectra[0].unit))
    kk = [_kk(s) for s in spectra] if settings.kk else []
    starts = [fit_least_squares(s, layout) for s in spectra]
    sampler = settings.sampler
    if sampler.target_accept < TARGET_ACCEPT:
        sampler = replace(sampler, target_accept=TARGET_ACCEPT)
    seed = sampler.resolved_seed()
    pmodel = build_model(spectra, layout, starts, arrhenius=settings.arrhenius,
                         reference_temperature=settings.reference_temperature)
    idata = sample(pmodel, sampler, seed)
    free = [v.name for v in pmodel.free_RVs]
    diag = Diagnostics.from_idata(idata, free + [p.name for p in circuit.parameters])
    result = EISFit(circuit, list(spectra), settings, idata, starts, derived, diag, seed, kk)
    kk_warnings = [[k["warning"]] if k["warning"] else [] for k in kk] or [[] for _ in spectra]
    result.spectrum_warnings = [kk_warnings[s] + identifiability_warnings(result, s) for s in range(len(spectra))]
    return result


def _check(spectra: list[Spectrum], circuit: Circuit, settings: EISSettings) -> None:
    if not spectra:
        raise OptionError("no spectra to fit", field="spectra")
    units = {s.unit for s in spectra}
    if len(units) > 1:
        raise OptionError("spectra in ohm and in ohm*cm^2 cannot be fitted together", field="spectra")
    if settings.area is not None:
        if not (settings.area > 0 and math.isfinite(settings.area)):
            raise OptionError(f"the area must be > 0 cm^2, got {settings.area}", field="area")
        if units == {"ohm*cm^2"}:
            raise OptionError("the spectra are already in ohm*cm^2; give no area", field="area")
    names = [s.name for s in spectra]
    for name in names:
        if names.count(name) > 1:
            raise OptionError(f"spectrum {name!r} is given twice", field="spectra")
    for s in spectra:
        if len(s) <= len(circuit.parameters) // 2 + 1:
            raise OptionError(f"{s.name}: {len(s)} frequencies cannot determine {len(circuit.parameters)} "
                              "parameters", field="circuit")
    for s in spectra:
        if np.any(np.abs(s.z) == 0):
            raise DataError(f"|Z| = 0 at {s.frequency[np.argmax(np.abs(s.z) == 0)]:g} Hz; the noise model is "
                            "relative to |Z|", file=s.source)
    if settings.arrhenius:
        if len(set(settings.arrhenius)) < len(settings.arrhenius):
            raise OptionError("a resistance is named twice", field="arrhenius")
        clash = [f"{n}_ref" for n in settings.arrhenius if f"{n}_ref" in circuit.names]
        if clash:
            raise OptionError(f"an element may not be called {clash[0]} in a joint fit", field="arrhenius")
        for name in settings.arrhenius:
            if name not in circuit.names or circuit.parameter(name).kind != "R":
                raise OptionError(f"{name!r} is not a resistor of {circuit.text}", field="arrhenius")
        if len(spectra) < 2:
            raise OptionError("a joint Arrhenius fit needs spectra at two or more temperatures", field="arrhenius")
        missing = [s.name for s in spectra if s.temperature is None]
        if missing:
            raise OptionError(f"no temperature for {missing[0]}: add '# temperature = 30 degC' to the file "
                              "or give a temperature", field="arrhenius")
        if len({round(s.temperature, 6) for s in spectra}) < 2:
            raise OptionError("the spectra are all at one temperature", field="arrhenius")


def _kk(spectrum: Spectrum) -> dict:
    from .kk import lin_kk

    result = lin_kk(spectrum)
    return {"m": int(result.m), "mu": float(result.mu), "rms": float(result.rms), "max": float(result.max_abs),
            "ok": bool(result.ok), "warning": result.warning(spectrum.name)}
