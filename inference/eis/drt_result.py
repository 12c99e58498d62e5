"""``fit_drt``: the Bayesian distribution of relaxation times of impedance spectra, its peaks,
and the equivalent circuit they suggest (:mod:`.drt` solves, :mod:`.drt_peaks` reads peaks).

:class:`SpectrumDRT` is one spectrum's DRT: the posterior, its peaks with their probabilities,
the suggested circuit and what a reader must know.  :class:`DRTResult` holds those of a call and
follows the result protocol (``summary()``, ``to_json()``, ``to_netcdf()`` and
``nassb.load_result``, ``plot()``).  With an area the spectrum is multiplied by it first, so
gamma and every resistance are in ohm cm^2 (L in H cm^2).
"""

from __future__ import annotations

import json
import math
import time
import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr

from ...priors import OptionError
from ..result import Result
from ..statistics import summarise
from .drt import DRAWS, LOG10_KAPPA, LOG10_LAMBDA, POINTS_PER_DECADE, Posterior, solve
from .drt_peaks import RESOLVED, Peak, find_peaks, series_resistance, suggest_circuit
from .spectrum import Spectrum

INDUCTIVE_NOISE = 3.0  # w_max L above this many noise sd of |Z| at f_max (and L > 0 at 95 %): significant
OUTSIDE_SHARE = 0.1    # a share of the polarisation beyond the measured window worth a warning
POSSIBLE = (0.8, 0.25)  # an uncounted peak this probable and this high (against the highest) is named:
# lower ones are ripples of the regularised curve as often as small arcs (the peak table lists them)
PROBABILITY = 0.95


def hz(f: float) -> str:
    """A frequency for a sentence: ``2.0 kHz``, ``250 kHz``, ``0.50 Hz``."""
    for scale, unit in ((1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz")):
        if f >= scale:
            return f"{f / scale:.3g} {unit}"
    return f"{f:.2g} Hz"


@dataclass(eq=False)
class SpectrumDRT:
    """One spectrum's DRT (see the module docstring); ``spectrum`` is area-normalised if
    ``area`` was given (its unit says so).  Its summary's ``R_inf`` is the series resistance
    the data see (:attr:`series_resistance`), ``R_pol`` the rest of the polarisation."""

    spectrum: Spectrum
    posterior: Posterior
    area: float | None = None
    seed: int = 0
    seconds: float = math.nan
    peaks: list[Peak] = field(init=False)

    def __post_init__(self):
        p = self.posterior
        self.peaks = find_peaks(p.tau, p.curve, p.gamma, p.step, self.spectrum.frequency)

    @property
    def name(self) -> str:
        return self.spectrum.name

    @property
    def unit(self) -> str:
        return "ohm*cm^2" if self.spectrum.unit != "ohm" else "ohm"

    @property
    def inductance_unit(self) -> str:
        return "H*cm^2" if self.unit != "ohm" else "H"

    @property
    def inductive(self) -> bool:
        """Whether the inductance is significant: L > 0 with 95 % probability and w_max L above
        :data:`INDUCTIVE_NOISE` noise sd of |Z| at the highest frequency."""
        s, p = self.spectrum, self.posterior
        top = int(np.argmax(s.frequency))
        reach = 2 * math.pi * s.frequency[top] * float(np.median(p.inductance))
        return bool(np.percentile(p.inductance, 2.5) > 0
                    and reach > INDUCTIVE_NOISE * float(np.median(p.noise)) * abs(s.z[top]))

    @property
    def series_resistance(self) -> np.ndarray:
        """Draws of R_inf as the data see it: with the relaxations faster than the window (ohm)."""
        p = self.posterior
        return series_resistance(p.r_inf, p.tau, p.gamma, p.step, self.spectrum.frequency)

    @property
    def circuit(self) -> str:
        """The circuit the peaks suggest, in ``fit eis``'s grammar."""
        return suggest_circuit(self.peaks, self.inductive)

    def band(self, probability: float = PROBABILITY) -> np.ndarray:
        """Lower end, median (max(mean, 0)) and upper end of gamma on the grid: (3, tau)."""
        tail = 100 * (1 - probability) / 2
        low, high = np.percentile(self.posterior.projected, [tail, 100 - tail], axis=0)
        return np.vstack([low, self.posterior.curve, high])

    def predict(self, frequency=None, *, draws: int | None = None, seed: int = 0) -> np.ndarray:
        """Z of posterior draws (``draws`` of them at random, or all) at ``frequency`` (Hz; default
        160 points over the measured window): complex, (draws, frequencies)."""
        f = self.frequency_grid() if frequency is None else frequency
        total = self.posterior.gamma.shape[0]
        pick = (np.random.default_rng(seed).choice(total, size=min(draws, total), replace=False)
                if draws is not None else None)
        return self.posterior.impedance(f, pick)

    def frequency_grid(self, points: int = 160) -> np.ndarray:
        f = self.spectrum.frequency
        return np.logspace(np.log10(f.min()), np.log10(f.max()), points)

    def residuals(self) -> np.ndarray:
        """(Z - Z_mean) / |Z| at the measured frequencies (complex)."""
        s = self.spectrum
        return (s.z - self.posterior.mean_impedance(s.frequency)) / np.abs(s.z)

    def summary(self) -> dict[str, dict]:
        p = self.posterior
        out = {"R_inf": summarise(self.series_resistance, self.unit, tail=False),
               "L": summarise(p.inductance, self.inductance_unit, tail=False),
               "R_pol": summarise(p.r_inf + p.gamma.sum(axis=1) * p.step - self.series_resistance, self.unit,
                                  tail=False),
               "noise": summarise(p.noise, "1", tail=False)}
        for k, peak in enumerate(self.peaks, start=1):
            one = peak.summary(self.unit)
            out.update({f"peak{k}_tau": one["tau"], f"peak{k}_f": one["frequency"], f"peak{k}_R": one["R"],
                        f"peak{k}_P": summarise(peak.probability, "1")})
        return out

    @property
    def warnings(self) -> list[str]:
        """Unresolved arcs, uncounted peaks, polarisation outside the window, a grid edge."""
        out = []
        name = self.name
        for peak in self.peaks:
            f = hz(float(np.median(1 / (2 * math.pi * peak.tau))))
            if peak.counted and peak.hidden:
                others = ", ".join(hz(1 / (2 * math.pi * t)) for t in peak.hidden)
                out.append(f"{name}: the arc at {f} is not resolved: another arc near {others} lies too close to "
                           "separate; one p(R,CPE) fits both as a broader arc (a lower n), two would not be "
                           "determined by these data")
            elif peak.counted and peak.broad:
                out.append(f"{name}: the arc at {f} is broad ({peak.width:.1f} decades at half height): two arcs too "
                           "close to resolve, or one with n below about 0.75; one p(R,CPE) fits either")
            elif peak.in_window and not peak.counted and peak.probability >= POSSIBLE[0] and \
                    self.posterior.curve[peak.index] >= POSSIBLE[1] * self.posterior.curve.max():
                out.append(f"{name}: a possible arc at {f} ({100 * peak.share:.0f} % of the polarisation) shows in "
                           f"only {100 * peak.probability:.0f} % of the posterior draws (< {100 * RESOLVED:.0f} %): "
                           "not resolved, and left out of the suggested circuit")
            elif not peak.in_window and peak.share >= OUTSIDE_SHARE:
                side = "above the highest" if peak.index < self.posterior.tau.size / 2 else "below the lowest"
                out.append(f"{name}: {100 * peak.share:.0f} % of the polarisation lies {side} measured frequency "
                           f"(a peak near {f}): its arc is not determined and is left out of the suggested circuit"
                           + (" (R0 takes its part)" if side.startswith("above") else
                              "; a blocking or diffusion tail needs a series element (CPE, Wo) or a higher fmin"))
        evidence = self.posterior.evidence.sum(axis=0)
        noise = 100 * float(np.median(self.posterior.noise))
        if evidence[0] > 0.05:
            out.append(f"{name}: the data want less smoothing than the weakest the DRT allows (lambda = "
                       f"10^{LOG10_LAMBDA[0]:g}): a nearly noise-free spectrum (noise {noise:.2g} % of |Z|), e.g. a "
                       "simulated one; the peaks are as sharp as that floor lets them be")
        if evidence[-1] > 0.05:
            out.append(f"{name}: the data want more smoothing than the strongest the DRT allows (lambda = "
                       f"10^{LOG10_LAMBDA[-1]:g}): they hardly determine a DRT (noise {noise:.2g} % of |Z|)")
        return out

    def to_json(self) -> dict:
        s, p = self.spectrum, self.posterior
        band = self.band()
        residual = self.residuals()
        return {
            "spectrum": s.name, "file": s.source, "temperature": s.temperature, "cycle": s.cycle,
            "area": self.area, "unit": self.unit, "circuit": self.circuit,
            "inductance_significant": self.inductive,
            "quantities": self.summary(),
            "peaks": [peak.summary(self.unit) for peak in self.peaks],
            "regularisation": {
                "prior": "gamma ~ N(0, sigma^2 / lambda (D2^T D2 + kappa I)^-1), lambda and kappa learned "
                         "(evidence over a grid), sigma Jeffreys",
                "log10_lambda": summarise(p.log10_lambda, "1", tail=False),
                "log10_kappa": summarise(p.log10_kappa, "1", tail=False),
                "points_per_decade": round(1 / math.log10(p.tau[1] / p.tau[0])),
                "non_negativity": "draws projected onto gamma >= 0 for the curve and band; resistances and "
                                  "predictions from the draws as sampled"},
            "residual_rms": float(np.sqrt(np.mean(np.r_[residual.real, residual.imag] ** 2))),
            "drt": {"tau": p.tau.tolist(), "gamma": band[1].tolist(), "ci95_low": band[0].tolist(),
                    "ci95_high": band[2].tolist(), "unit": self.unit},
            "seed": self.seed,
            "warnings": self.warnings,
        }

    def dataset(self) -> xr.Dataset:
        """Everything :meth:`from_dataset` needs to give this DRT back."""
        s, p = self.spectrum, self.posterior
        data = {"frequency": ("point", s.frequency), "z_real": ("point", s.z.real), "z_imag": ("point", s.z.imag),
                "gamma_mean": ("tau", p.gamma_mean), "gamma": (("draw", "tau"), p.gamma),
                "r_inf": ("draw", p.r_inf), "inductance": ("draw", p.inductance), "noise": ("draw", p.noise),
                "log10_lambda": ("draw", p.log10_lambda), "log10_kappa": ("draw", p.log10_kappa),
                "evidence": (("kappa", "lambda"), p.evidence), "nuisance_mean": ("nuisance", p.nuisance_mean)}
        attrs = {"name": s.name, "source": s.source, "unit": s.unit, "area": self.area or 0.0,
                 "temperature": s.temperature if s.temperature is not None else "",
                 "cycle": s.cycle if s.cycle is not None else "", "notes": json.dumps(list(s.notes)),
                 "seed": int(self.seed), "seconds": float(self.seconds)}
        coords = {"tau": p.tau, "kappa": LOG10_KAPPA, "lambda": LOG10_LAMBDA, "nuisance": ["R_inf", "L"]}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> SpectrumDRT:
        a = ds.attrs
        spectrum = Spectrum(np.asarray(ds["frequency"]), np.asarray(ds["z_real"]) + 1j * np.asarray(ds["z_imag"]),
                            source=str(a["source"]), name=str(a["name"]), unit=str(a["unit"]),
                            temperature=float(a["temperature"]) if str(a["temperature"]) != "" else None,
                            cycle=int(a["cycle"]) if str(a["cycle"]) != "" else None,
                            notes=tuple(json.loads(str(a["notes"]))))
        arrays = {k: np.asarray(ds[k]) for k in ("gamma_mean", "gamma", "r_inf", "inductance", "noise",
                                                  "log10_lambda", "log10_kappa", "evidence", "nuisance_mean")}
        posterior = Posterior(tau=np.asarray(ds["tau"]), **arrays)
        return cls(spectrum, posterior, area=float(a["area"]) or None, seed=int(a["seed"]),
                   seconds=float(a["seconds"]))


class DRTResult(Result):
    """The DRTs of a call, one :class:`SpectrumDRT` per spectrum (``result.spectra``)."""

    kind = "drt"

    def __init__(self, spectra: list[SpectrumDRT]):
        self.spectra = spectra
        self.idata = None
        self.diagnostics = None

    def __len__(self) -> int:
        return len(self.spectra)

    def spectrum(self, which: int | str = 0) -> SpectrumDRT:
        if isinstance(which, int):
            return self.spectra[which]
        for one in self.spectra:
            if one.name == which:
                return one
        raise OptionError(f"no spectrum {which!r} in this DRT; there are {', '.join(s.name for s in self.spectra)}",
                          field="spectrum")

    @property
    def title(self) -> str:
        names = ", ".join(s.name for s in self.spectra[:3]) + (" ..." if len(self.spectra) > 3 else "")
        return f"DRT ({names})"

    @property
    def circuits(self) -> dict[str, str]:
        """The suggested circuit of each spectrum, by name."""
        return {s.name: s.circuit for s in self.spectra}

    def summary(self) -> dict[str, dict]:
        if len(self.spectra) == 1:
            return self.spectra[0].summary()
        return {f"{s.name}/{k}": v for s in self.spectra for k, v in s.summary().items()}

    def to_json(self):
        docs = [s.to_json() for s in self.spectra]
        return docs[0] if len(docs) == 1 else docs

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.spectra for w in s.warnings]

    def plot(self, spectrum: int | str = 0, **kwargs):
        """One spectrum's DRT: gamma against tau with its 95 % band, the peaks marked."""
        from ...priors.display.drt import drt_figure

        return drt_figure(self.spectrum(spectrum), as_figure=True, **kwargs)

    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        return {f"drt_{k}": s.dataset() for k, s in enumerate(self.spectra)}

    @classmethod
    def _from_netcdf(cls, document, groups: dict[str, xr.Dataset], idata) -> DRTResult:
        keys = sorted((g for g in groups if g.startswith("drt_")), key=lambda g: int(g.split("_")[1]))
        return cls([SpectrumDRT.from_dataset(groups[g]) for g in keys])


def _seed(seed: int, spectrum: Spectrum) -> int:
    """A spectrum's own seed, from the call's and its data (the same draws alone or in a batch)."""
    key = zlib.crc32(np.ascontiguousarray(spectrum.frequency, dtype=float).tobytes()
                     + np.ascontiguousarray(spectrum.z, dtype=complex).tobytes())
    return int(np.random.SeedSequence([int(seed), key]).generate_state(1)[0])


def fit_drt(files_or_spectra, *, area=None, temperature=None, fmin: float | None = None, fmax: float | None = None,
            cycles=None, spectra=None, draws: int = DRAWS, seed: int = 0,
            points_per_decade: int = POINTS_PER_DECADE) -> DRTResult:
    """The Bayesian DRT of impedance spectra, their peaks and the circuit they suggest.

    Parameters
    ----------
    files_or_spectra : str, Path, Spectrum or a list of them
        Spectrum files (any format ``fit_eis`` reads), quoted globs, or spectra already read.
    area : float or str, optional
        Electrode area (cm^2, or a quantity): gamma and resistances in ohm cm^2.
    temperature : float (K) or str, optional
        Temperature of spectra whose files give none.
    fmin, fmax : float, optional
        Use only frequencies within [fmin, fmax] (Hz).
    cycles, spectra : optional
        Select spectra as :func:`~nassb.inference.eis.api.fit_eis` does.
    draws : int
        Posterior draws per spectrum (exact draws, default 2000).
    seed : int
        Seed of the draws (each spectrum's own derives from it and its data).
    points_per_decade : int
        Grid points of ln tau per decade (default 10).

    Returns
    -------
    DRTResult
        One :class:`SpectrumDRT` per spectrum.
    """
    from .api import _window, area_of, load_spectra, select_spectra, temperature_of

    for name, value in (("fmin", fmin), ("fmax", fmax)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise OptionError(f"must be a frequency > 0 Hz, got {value!r}", field=name)
    if int(draws) < 100:
        raise OptionError(f"at least 100 draws are needed for a band, got {draws}", field="draws")
    if not 2 <= int(points_per_decade) <= 40:
        raise OptionError(f"must lie in 2 to 40, got {points_per_decade}", field="points_per_decade")
    scale = area_of(area) if area is not None else None
    kelvin = temperature_of(temperature, "temperature") if temperature is not None else None
    read = load_spectra(files_or_spectra)
    if cycles is not None or spectra is not None:
        read = select_spectra(read, cycles=cycles, labels=spectra)
    if not read:
        raise OptionError("no spectra to analyse", field="spectra")
    out = []
    for spectrum in read:
        started = time.perf_counter()
        spectrum = _window(spectrum, fmin, fmax)
        if spectrum.temperature is None and kelvin is not None:
            spectrum = replace(spectrum, temperature=kelvin)
        if scale is not None:
            if spectrum.unit != "ohm":
                raise OptionError(f"{spectrum.name} is already in {spectrum.unit}; give no area", field="area")
            spectrum = replace(spectrum, z=spectrum.z * scale, unit="ohm*cm^2")
        own = _seed(seed, spectrum)
        posterior = solve(spectrum, draws=int(draws), seed=own, points_per_decade=int(points_per_decade))
        out.append(SpectrumDRT(spectrum, posterior, area=scale, seed=own, seconds=time.perf_counter() - started))
    return DRTResult(out)
