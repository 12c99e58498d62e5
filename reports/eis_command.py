"""``nassb fit eis``: from the command line's words to a fit (files, globs, units, options)."""

from __future__ import annotations

import glob
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..inference.eis import read_spectra
from ..inference.eis.fit import EISSettings, fit_spectra
from ..inference.eis.readers import MIN_POINTS
from ..priors import OptionError, fields, parse_quantity
from ..priors.errors import CardError


def fit_eis(args, sampler):
    """Read the files (expanding quoted globs), apply the options, and fit."""
    spectra = []
    for path in _paths(args.files):
        spectra.extend(read_spectra(path))
    temperature = _temperature(args.temperature, "--temperature") if args.temperature else None
    spectra = [_prepared(s, args, temperature) for s in spectra]
    settings = EISSettings(
        sampler=sampler,
        area=_area(args.area) if args.area else None,
        derive=tuple(args.derive),
        arrhenius=tuple(n.strip() for n in args.arrhenius.split(",") if n.strip()) if args.arrhenius else (),
        reference_temperature=_temperature(args.reference_temperature, "--reference-temperature"),
        kk=not args.no_kk,
    )
    if args.arrhenius is not None and not settings.arrhenius:
        raise OptionError("name the resistances that follow Eq. 4, e.g. --arrhenius R_A,R_B", field="--arrhenius")
    try:
        return fit_spectra(spectra, args.circuit, settings)
    except OptionError as err:  # the library names the quantity; here it is the option that gave it
        if err.field in _FLAGS:
            raise OptionError(err.message, file=err.file, field=_FLAGS[err.field]) from None
        raise


_FLAGS = {"circuit": "--circuit", "derive": "--derive"}


def _paths(patterns: list[str]) -> list[str]:
    out = []
    for pattern in patterns:
        if Path(pattern).exists() or not glob.has_magic(pattern):
            out.append(pattern)
            continue
        found = sorted(glob.glob(pattern))
        if not found:
            raise OptionError(f"no file matches {pattern!r}", field="FILE")
        out.extend(found)
    return out


def _prepared(spectrum, args, temperature):
    keep = np.ones(len(spectrum), dtype=bool)
    if args.fmin is not None:
        keep &= spectrum.frequency >= args.fmin
    if args.fmax is not None:
        keep &= spectrum.frequency <= args.fmax
    if keep.sum() < MIN_POINTS:
        raise OptionError(f"{spectrum.name}: only {int(keep.sum())} frequencies lie within --fmin/--fmax",
                          field="--fmin" if args.fmin is not None else "--fmax")
    if not keep.all():
        spectrum = replace(spectrum, frequency=spectrum.frequency[keep], z=spectrum.z[keep])
    if spectrum.temperature is None and temperature is not None:
        spectrum = replace(spectrum, temperature=temperature)
    return spectrum


def _temperature(text: str, field: str) -> float:
    try:
        quantity = parse_quantity(text, fields.TEMPERATURE)
    except CardError as err:
        raise OptionError(err.message, field=field) from None
    if quantity.uncertain:
        raise OptionError("give one temperature, without an uncertainty", field=field)
    return quantity.value


def _area(text: str) -> float:
    """cm^2 from '0.503' or '0.503 cm^2' or '50.3 mm^2'."""
    try:
        value = float(text)
    except ValueError:
        try:
            quantity = parse_quantity(text, fields.AREA)
        except CardError as err:
            raise OptionError(err.message, field="--area") from None
        if quantity.uncertain:
            raise OptionError("give the area without an uncertainty", field="--area")
        value = quantity.value
    if not (math.isfinite(value) and value > 0):
        raise OptionError(f"the area must be > 0, got {text!r}", field="--area")
    return value
