"""``fit_eis``: impedance spectra from files (or already read) to a Bayesian circuit fit."""

from __future__ import annotations

import glob
import math
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ...priors import CardError, DataError, NassbError, OptionError, fields, parse_quantity
from ...priors.errors import warn
from ..result import Result
from ..sampling import SamplerSettings
from .fit import TARGET_ACCEPT, EISFit, EISSettings, fit_spectra
from .readers import MIN_POINTS, read_spectra
from .select import describe_spectra, select_spectra
from .circuit import Circuit
from .spectrum import MAX_FIT_POINTS, Spectrum, thinned


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


def load_spectra(files_or_spectra, unreadable: dict[str, str] | None = None) -> list[Spectrum]:
    """Spectra from file names, globs, or Spectrum objects (any mix).

    With ``unreadable`` (a dict), a file that cannot be read is recorded there (file -> the
    one-line reason) and the others are read; without, its error is raised.
    """
    items = [files_or_spectra] if isinstance(files_or_spectra, (str, Path, Spectrum)) else list(files_or_spectra)
    spectra: list[Spectrum] = []
    for item in items:
        if isinstance(item, Spectrum):
            spectra.append(item)
        else:
            for path in expand_paths([item]):
                try:
                    spectra.extend(read_spectra(path))
                except NassbError as err:
                    if unreadable is None:
                        raise
                    unreadable[path] = str(err)
    return spectra


class SpectraListing(Result):
    """What was read from spectrum files: per spectrum its file, cycle, temperature, points,
    frequency range and the rows skipped (and why)."""

    kind = "spectra"

    def __init__(self, rows: list[dict]):
        self.rows, self.idata, self.diagnostics = rows, None, None

    @property
    def title(self) -> str:
        files = list(dict.fromkeys(r["file"] for r in self.rows))
        return (f"{len(self.rows)} spectr{'um' if len(self.rows) == 1 else 'a'} in "
                f"{len(files)} file{'s' * (len(files) != 1)}")

    def summary(self) -> dict[str, dict]:
        return {}

    def to_json(self) -> dict:
        return {"spectra": self.rows}

    @classmethod
    def _from_netcdf(cls, document: dict, groups, idata) -> SpectraListing:
        """A listing is its document (no impedance is kept, so it has no figure either)."""
        return cls(document["spectra"])

    def to_dataframe(self):
        """One row per spectrum: file, cycle, ``temperature [K]``, points, ``f_min [Hz]``,
        ``f_max [Hz]`` and the rows skipped (how many)."""
        from ..frames import frame

        names = {"temperature": "temperature [K]", "f_min": "f_min [Hz]", "f_max": "f_max [Hz]"}
        rows = [{names.get(k, k): (len(v) if k == "skipped" else v) for k, v in r.items()} for r in self.rows]
        return frame(rows, {"temperature [K]": "K", "f_min [Hz]": "Hz", "f_max [Hz]": "Hz"}, index="spectrum",
                     kind=self.kind, title=self.title)


def list_spectra(files_or_spectra, *, cycles=None, spectra=None) -> SpectraListing:
    """The spectra in files (and globs), optionally a selection of them, as a listing.

    ``cycles`` (``"1,3-5"`` or a list: EC-Lab cycle numbers, else the order of the spectra in each
    file) and ``spectra`` (names) select as :func:`fit_eis` does.

    Parameters
    ----------
    files_or_spectra : str, Path, Spectrum or a sequence of them
        Files, quoted globs, or spectra already read.
    cycles : str or sequence of int, optional
        The cycles to keep.
    spectra : sequence of str, optional
        The spectrum names to keep.

    Returns
    -------
    SpectraListing
        Per spectrum its file, cycle, temperature, points, frequency range and the rows skipped.
    """
    chosen = load_spectra(files_or_spectra)
    if cycles is not None or spectra is not None:
        chosen = select_spectra(chosen, cycles=cycles, labels=spectra)
    return SpectraListing(describe_spectra(chosen))


def temperature_of(value, field: str) -> float:
    """K from a number (K) or a quantity string ("30 degC")."""
    from ...priors.arguments import temperature

    return temperature(value, field)


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
            raise OptionError("give the area without an uncertainty", field="area") from None
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


def _bounded(spectrum: Spectrum, parameters: int) -> Spectrum:
    """Refuse a spectrum with fewer points than the circuit has parameters (before any fitting),
    and thin one of more than MAX_FIT_POINTS points, saying so."""
    if len(spectrum) < parameters:
        raise DataError(f"{len(spectrum)} points cannot determine the circuit's {parameters} parameters; "
                        "measure more frequencies or fit a simpler circuit", file=spectrum.name)
    fitted = thinned(spectrum, MAX_FIT_POINTS)
    if len(fitted) < len(spectrum):
        warn(f"{len(spectrum)} points: fitted on {len(fitted)} of them, spread evenly in log frequency "
             f"(at most {MAX_FIT_POINTS} points are fitted)", file=spectrum.name)
    return fitted


NO_ARC = 0.01  # -Z'' below this share of the largest |Z| everywhere: the spectrum shows no arc


def _arcs_seen(spectrum: Spectrum, arcs: int) -> None:
    """Warn, before any fitting, where a circuit of ``arcs`` semicircles meets a spectrum with no
    arc at all (-Z'' nowhere above 1 % of its largest |Z|: a resistor, a wire, a short cell)."""
    if arcs and float(np.max(-spectrum.z.imag)) < NO_ARC * float(np.max(np.abs(spectrum.z))):
        warn(f"-Z'' stays below {NO_ARC:.0%} of |Z| at every frequency: the spectrum shows no arc for the "
             f"circuit's {arcs} arc(s); their parameters will rest on their priors", file=spectrum.name)


def _checked_options(arrhenius, fmin, fmax) -> tuple[str, ...]:
    """The resistances that follow Eq. 4 (a list, or names separated by commas); an OptionError
    for a bad option."""
    if isinstance(arrhenius, str):
        named = tuple(n.strip() for n in arrhenius.split(",") if n.strip())
        if not named:
            raise OptionError("name the resistances that follow Eq. 4, e.g. 'R_A,R_B'", field="arrhenius")
    else:
        named = tuple(arrhenius)
    for name, value in (("fmin", fmin), ("fmax", fmax)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise OptionError(f"must be a frequency > 0 Hz, got {value!r}", field=name)
    return named


def _chosen_spectra(files_or_spectra, parsed: Circuit, unreadable: dict[str, str] | None, *, cycles, labels,
                    fmin, fmax, kelvin) -> list[Spectrum]:
    """The spectra to fit: read (the unreadable ones kept in ``unreadable`` where given), selected,
    windowed to [fmin, fmax], and at ``kelvin`` where a file gives no temperature."""
    read = load_spectra(files_or_spectra, unreadable)
    if not read and unreadable:
        path, message = next(iter(unreadable.items()))
        raise DataError(message.removeprefix(f"{path}: "), file=path)
    if cycles is not None or labels is not None:
        read = select_spectra(read, cycles=cycles, labels=labels)
    chosen = []
    for spectrum in read:
        spectrum = _bounded(_window(spectrum, fmin, fmax), len(parsed.parameters))
        _arcs_seen(spectrum, len(parsed.arcs))
        if spectrum.temperature is None and kelvin is not None:
            spectrum = replace(spectrum, temperature=kelvin)
        chosen.append(spectrum)
    return chosen


def fit_eis(files_or_spectra, circuit: str, *, derive: Iterable[str] = (), area=None,
            arrhenius: Iterable[str] | str = (), reference_temperature="30 degC", temperature=None,
            fmin: float | None = None, fmax: float | None = None, kk: bool = True, cycles=None, spectra=None,
            settings: SamplerSettings | None = None, draws: int | None = None, seed: int | None = None,
            progress: bool = False, method: str = "auto", jobs: int | None = 1, executor=None,
            keep_going: bool = False) -> EISFit:
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
    cycles : str or list of int, optional
        Fit only these cycles (``"1,3-5"``): EC-Lab cycle numbers where the spectra carry them,
        else the 1-based order of the spectra in each file.
    spectra : list of str, optional
        Fit only the spectra of these names.
    settings : SamplerSettings, optional
        NUTS settings; ``draws``, ``seed`` and ``progress`` override single ones.  ``chains *
        draws`` is the number of posterior draws every spectrum gets, whatever its method.
    method : str
        How each spectrum's posterior is computed: ``"auto"`` (default: the Laplace
        approximation corrected by Pareto-smoothed importance sampling where its diagnostics
        accept it, then tempered SMC (nassb.inference.eis.smc); where both are refused, SMC's
        draws with the gate failed and the refusing diagnostic named, never NUTS), ``"laplace"``,
        ``"smc"`` or ``"nuts"`` (that method for every spectrum; one whose diagnostics refuse it
        fails the gate).  A joint fit is always NUTS.
    jobs : int, optional
        Spectra fitted at once in worker processes (None: one per core; default 1, here).
    executor : optional
        Fit on this instead (a ``dask.distributed.Client``, a ``concurrent.futures`` executor).
    keep_going : bool
        A file that cannot be read, or a spectrum that cannot be fitted, is named in
        ``result.failed`` (with the reason) and the others are fitted; without it, its error is
        raised.  Some spectrum must be fitted.

    Returns
    -------
    EISFit
        One :class:`~nassb.inference.eis.spectrum_fit.SpectrumFit` per spectrum (``fit.fits``,
        ``fit.spectrum(name)``), each with its own posterior, diagnostics and warnings; the
        spectra of a batch are fitted one by one, each as it would be alone.
    """
    named = _checked_options(arrhenius, fmin, fmax)
    kelvin = temperature_of(temperature, "temperature") if temperature is not None else None
    parsed = Circuit(circuit) if isinstance(circuit, str) else circuit
    unreadable: dict[str, str] | None = {} if keep_going else None
    chosen = _chosen_spectra(files_or_spectra, parsed, unreadable, cycles=cycles, labels=spectra, fmin=fmin,
                             fmax=fmax, kelvin=kelvin)
    sampler = settings or SamplerSettings(target_accept=TARGET_ACCEPT)
    overrides: dict[str, Any] = {k: v for k, v in (("draws", draws), ("seed", seed)) if v is not None}
    if progress:
        overrides["progress"] = True
    fit_settings = EISSettings(sampler=replace(sampler, **overrides), area=area_of(area) if area is not None else None,
                               derive=tuple(derive), arrhenius=named, kk=kk, method=method,
                               reference_temperature=temperature_of(reference_temperature, "reference_temperature"))
    result = fit_spectra(chosen, circuit, fit_settings, jobs=jobs, executor=executor, keep_going=keep_going)
    result.failed = {**(unreadable or {}), **result.failed}
    return result
