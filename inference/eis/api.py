"""``fit_eis``: impedance spectra from files (or already read) to a Bayesian circuit fit."""

from __future__ import annotations

import glob
import math
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import numpy as np

from ...priors import CardError, OptionError, fields, parse_quantity
from ..sampling import SamplerSettings
from .fit import TARGET_ACCEPT, EISFit, EISSettings, fit_spectra
from .readers import MIN_POINTS, read_spectra
from .spectrum import Spectrum


def expand_paths(patterns: Iterable[str | Path]) -> list[str]:
    """File names, with quoted globs (``'spectra/*.csv'``) expanded in sorted order."""
    out = []
    for pattern in patterns:
        pattern = str(pattern)
        if Path(pattern).exists() or not glob.has_magic(pattern):
            out.append(pattern)
            continue
        found = sorted(glob.glob(pattern))
        if not found:
            raise OptionError(f"no file matches {pattern!r}", field="spectra")
        out.extend(found)
    return out


def load_spectra(files_or_spectra) -> list[Spectrum]:
    """Spectra from file names, globs, or Spectrum objects (any mix)."""
    items = [files_or_spectra] if isinstance(files_or_spectra, (str, Path, Spectrum)) else list(files_or_spectra)
    spectra: list[Spectrum] = []
    for item in items:
        if isinstance(item, Spectrum):
            spectra.append(item)
        else:
            for path in expand_paths([item]):
                spectra.extend(read_spectra(path))
    return spectra


def temperature_of(value, field: str) -> float:
    """K from a number (K) or a quantity string ("30 degC")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        kelvin = float(value)
    else:
        try:
            quantity = parse_quantity(value, fields.TEMPERATURE)
        except CardError as err:
            raise OptionError(err.message, field=field) from None
        if quantity.uncertain:
            raise OptionError("give one temperature, without an uncertainty", field=field)
        kelvin = quantity.value
    if not (math.isfinite(kelvin) and kelvin > 0):
        raise OptionError(f"must be a temperature above absolute zero, got {value!r}", field=field)
    return kelvin


def area_of(value) -> float:
    """cm^2 from a number (cm^2) or a quantity string ("0.503 cm^2", "50.3 mm^2")."""
    if isinstance(value, str) and not value.strip():
        raise OptionError("an empty area; give cm^2, e.g. 0.503, or a quantity like '50.3 mm^2'", field="area")
    try:
        area = float(value)
    except (TypeError, ValueError):
        try:
            quantity = parse_quantity(value, fields.AREA)
        except CardError as err:
            raise OptionError(err.message, field="area") from None
        if quantity.uncertain:
            raise OptionError("give the area without an uncertainty", field="area")
        area = quantity.value
    if not (math.isfinite(area) and area > 1e-12):
        raise OptionError(f"the area must be a finite number > 1e-12 cm^2, got {value!r}", field="area")
    return area


def _window(spectrum: Spectrum, fmin: float | None, fmax: float | None) -> Spectrum:
    keep = np.ones(len(spectrum), dtype=bool)
    if fmin is not None:
        keep &= spectrum.frequency >= fmin
    if fmax is not None:
        keep &= spectrum.frequency <= fmax
    if keep.sum() < MIN_POINTS:
        raise OptionError(f"{spectrum.name}: only {int(keep.sum())} frequencies lie within the frequency window",
                          field="fmin" if fmin is not None else "fmax")
    if keep.all():
        return spectrum
    return replace(spectrum, frequency=spectrum.frequency[keep], z=spectrum.z[keep])


def fit_eis(files_or_spectra, circuit: str, *, derive: Iterable[str] = (), area=None,
            arrhenius: Iterable[str] | str = (), reference_temperature="30 degC", temperature=None,
            fmin: float | None = None, fmax: float | None = None, kk: bool = True,
            settings: SamplerSettings | None = None, draws: int | None = None, seed: int | None = None,
            progress: bool = False) -> EISFit:
    """Fit impedance spectra with an equivalent circuit as a Bayesian problem.

    Parameters
    ----------
    files_or_spectra : str, Path, Spectrum or a list of them
        Spectrum files (CSV, EC-Lab .mpt/.mpr, ...), quoted globs, or spectra already read.
    circuit : str
        In impedance.py's grammar, e.g. ``"R_A-p(R_B,CPE_B)-p(R_C,CPE_C)"``.
    derive : iterable of str
        ``NAME=EXPR`` quantities computed on every draw (``"R_separator=R_A+R_B"``).
    area : float or str, optional
        Electrode area (cm^2, or a quantity): resistances are reported in ohm cm^2.
    arrhenius : iterable of str or a comma-separated str
        A joint fit: these resistances follow Eq. 4 across the spectra's temperatures.
    reference_temperature : float (K) or str
        Where a joint fit reports R_ref (default 30 degC).
    temperature : float (K) or str, optional
        Temperature of spectra whose files give none.
    fmin, fmax : float, optional
        Fit only frequencies within [fmin, fmax] (Hz).
    kk : bool
        Run the lin-KK check first.
    settings : SamplerSettings, optional
        NUTS settings; ``draws``, ``seed`` and ``progress`` override single ones.
    """
    if isinstance(arrhenius, str):
        named = tuple(n.strip() for n in arrhenius.split(",") if n.strip())
        if not named:
            raise OptionError("name the resistances that follow Eq. 4, e.g. 'R_A,R_B'", field="arrhenius")
    else:
        named = tuple(arrhenius)
    for name, value in (("fmin", fmin), ("fmax", fmax)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise OptionError(f"must be a frequency > 0 Hz, got {value!r}", field=name)
    kelvin = temperature_of(temperature, "temperature") if temperature is not None else None
    spectra = []
    for spectrum in load_spectra(files_or_spectra):
        spectrum = _window(spectrum, fmin, fmax)
        if spectrum.temperature is None and kelvin is not None:
            spectrum = replace(spectrum, temperature=kelvin)
        spectra.append(spectrum)
    sampler = settings or SamplerSettings(target_accept=TARGET_ACCEPT)
    overrides = {k: v for k, v in (("draws", draws), ("seed", seed)) if v is not None}
    if progress:
        overrides["progress"] = True
    fit_settings = EISSettings(
        sampler=replace(sampler, **overrides),
        area=area_of(area) if area is not None else None,
        derive=tuple(derive),
        arrhenius=named,
        reference_temperature=temperature_of(reference_temperature, "reference_temperature"),
        kk=kk,
    )
    return fit_spectra(spectra, circuit, fit_settings)
