"""Observations a card attaches (``[[observations]]``): what was measured, read into canonical
units.  They only describe data; the likelihoods that use them are in nassb.inference.bayes.

Kinds and keys (``file`` is relative to the card; ``source`` says where the data come from):

Specimens are not cells.  Data of a layer quantity or of a material's conductivity or interface
resistance describe the specimens they were measured on; those specimens are drawn from a
population (the material's, or the layer's as it is made), and a cell is one more specimen of it
unless the card says the data are of the cell's own: ``cell_sample``.  ``specimen = NAME`` names
the specimen of an ``arrhenius`` or ``measurement`` observation (observations naming the same
specimen inform the same value; without it each observation is a specimen of its own), and
``specimen_spread`` the scale of the prior of the specimen-to-specimen spread (a quantity in the
field's unit or a relative ``"20 %"``; default the card's uncertainty of the quantity).

``replicates``
    Repeated readings of one card quantity (``quantity = "separator.thickness"``): a column
    named after the field (or ``column = NAME``), optional ``sample`` column (readings of the
    same specimen share a sample id), optional ``reading_sd`` (one reading's standard
    uncertainty, e.g. the micrometer's), optional ``cell_sample`` (the id of the specimen that
    is in this cell; otherwise the cell's is a new specimen of the same population), optional
    ``specimen_spread``.
``capacities``
    Charge and discharge per cycle: columns ``cycle``, ``charge [mAh/cm^2]``,
    ``discharge [mAh/cm^2]``; optional ``cycles = [first, last]``.  Informs the delivered
    capacity, the utilisation and the Coulombic efficiency.
``arrhenius``
    A temperature series of a material's ``conductivity`` or ``interface_resistance``
    (``quantity = "nzsp-tape.conductivity"``): columns ``temperature [degC]`` and
    ``conductivity [mS/cm]`` (or ``resistance [ohm*cm^2]``).  Informs the value at the
    material's reference temperature and its activation energy (Eq. 4), on the series' own
    specimen (``specimen``, ``cell_sample = true`` when it is the cell's).
``measurement``
    One value with its uncertainty, e.g. a resistance fitted elsewhere: ``quantity``,
    ``value = "1.4 ± 0.3 ohm*cm^2"``, optional ``temperature`` (Arrhenius-shifted to it).
    Instead of ``value``, ``fit = "eis-fit/summary.json"`` (what ``nassb fit eis --out`` writes)
    and ``derived = "R_interface"`` take the posterior mean and sd of that derived quantity (or
    parameter) of the impedance fit, and the spectrum's temperature; ``spectrum = NAME`` picks
    one spectrum of a batch fit.  Lists ``quantity = [...]`` and ``derived = [...]`` take
    several quantities of one fit jointly, with the covariance the fit's summary gives
    (``"covariance": {"names", "matrix"}``), or as independent with a note where it gives none.
    Besides card fields, ``quantity = "separator.resistance"`` observes the separator's area
    resistance d / sigma(T) (ohm cm^2), which informs its thickness and conductivity together
    (and its activation energy where the card gives one with an uncertainty).  A resistance in
    ohm (a value ``"2.9 ± 0.1 ohm"``, or a fit without an area) is normalised by the card's
    ``[cell] area``, whose uncertainty then enters.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, overload

import numpy as np

from . import fields as F
from .errors import CardError, DataError
from .quantity import FieldSpec, Measured, parse_quantity, parse_uncertainty
from .observation_types import (
    ARRHENIUS_FIELDS,
    ArrheniusSeries,
    Capacities,
    JointMeasurement,
    Measurement,
    Observation,
    Replicates,
    Spread,
)
from .tables import Table, read_table

KINDS = ("replicates", "capacities", "arrhenius", "measurement")
_SPECIMEN_KEYS = ("specimen", "cell_sample", "specimen_spread")
_KEYS = {
    "replicates": ("kind", "quantity", "file", "column", "reading_sd", "cell_sample", "specimen_spread", "source"),
    "capacities": ("kind", "file", "cycles", "source"),
    "arrhenius": ("kind", "quantity", "file", *_SPECIMEN_KEYS, "source"),
    "measurement": ("kind", "quantity", "value", "temperature", "fit", "derived", "spectrum", *_SPECIMEN_KEYS,
                    "source"),
}
# Measurable quantities that are not card fields: the separator's area resistance d / sigma(T).
DERIVED_QUANTITIES = {"separator.resistance": F.AREA_RESISTANCE}
# A resistance not normalised by an area (ohm), for measurements of area resistances.
RESISTANCE = FieldSpec("ohm", 0.0, math.inf, words="a resistance")


def field_spec(quantity: str, materials: set[str]) -> FieldSpec:
    """The FieldSpec of a card quantity named ``section.field`` or ``material.field``."""
    section, _, key = quantity.partition(".")
    specs = F.SECTION_FIELDS.get(section) if section in F.SECTION_FIELDS else (
        F.MATERIAL_FIELDS if section in materials else None)
    if specs is None or key not in specs:
        raise CardError(f"unknown quantity {quantity!r}; write it as section.field "
                        "(separator.thickness) or material.field (nzsp-tape.conductivity)")
    return specs[key]


def parse_observations(raw, folder: Path | None, materials: set[str]) -> tuple[Observation, ...]:
    """Read every ``[[observations]]`` table of a card (files relative to ``folder``)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise CardError("expected [[observations]] tables", field="observations")
    out = []
    seen: dict[str, str] = {}
    for i, table in enumerate(raw):
        where = f"observations[{i}]"
        try:
            obs = _parse_one(table, where, folder, materials)
        except CardError as err:
            raise err.located(field=where) from None
        # One data set per target: two would need a model of how they relate.  Series and
        # measurements describe specimens: several of them are several specimens (or, naming one
        # specimen, data of the same one).
        if isinstance(obs, (Capacities, Replicates)):
            target = "capacities" if isinstance(obs, Capacities) else f"replicates:{obs.quantity}"
            if target in seen:
                raise CardError(f"a second observation of the same kind and quantity as {seen[target]}; "
                                "merge the data into one file", field=where)
            seen[target] = where
        out.append(obs)
    _check_cell_samples(out)
    return tuple(out)


def _specimen_parts(obs) -> list:
    """The (quantity, specimen, cell_sample, where) each specimen-level observation speaks of."""
    if isinstance(obs, JointMeasurement):
        return [(p.quantity, p.specimen, p.cell_sample, obs.where) for p in obs.parts]
    if isinstance(obs, (ArrheniusSeries, Measurement)):
        return [(obs.quantity, obs.specimen, obs.cell_sample, obs.where)]
    return []


def _check_cell_samples(observations: list) -> None:
    """The cell has one of each layer: data naming two different specimens as the cell's own
    quantity contradict each other."""
    own: dict[str, tuple[str, str]] = {}
    for obs in observations:
        for quantity, specimen, cell_sample, where in _specimen_parts(obs):
            if not cell_sample:
                continue
            label = specimen or where
            if quantity in own and own[quantity][0] != label:
                raise CardError(f"{own[quantity][1]} already says another specimen is the cell's own {quantity}; "
                                "the cell has one: name the same specimen (specimen = ...) or drop cell_sample",
                                field=f"{where}.cell_sample")
            own.setdefault(quantity, (label, where))


def _parse_one(table: dict, where: str, folder: Path | None, materials: set[str]) -> Observation:
    kind = table.get("kind")
    if kind not in KINDS:
        raise CardError(f"kind {kind!r} is not supported; must be one of {', '.join(KINDS)}", field=f"{where}.kind")
    unknown = [k for k in table if k not in _KEYS[kind]]
    if unknown:
        raise CardError(f"unknown key for a {kind} observation; expected one of {', '.join(_KEYS[kind])}",
                        field=f"{where}.{unknown[0]}")
    source = _text(table, "source", where, required=False) or ""
    if kind == "measurement":
        return _measurement(table, where, folder, materials, source)

    file = _text(table, "file", where)
    path = (folder / file) if folder is not None else Path(file)
    data = read_table(path, label=str(path), text_columns=("sample",))
    if kind == "replicates":
        return _replicates(table, data, where, materials, source)
    if kind == "capacities":
        return _capacities(table, data, where, source)
    return _arrhenius(table, data, where, materials, source)


def _specimen(table: dict, where: str) -> tuple[str, bool]:
    """``specimen`` (a name) and ``cell_sample`` (true: the specimen is the cell's own)."""
    specimen = _text(table, "specimen", where, required=False) or ""
    cell_sample = table.get("cell_sample", False)
    if not isinstance(cell_sample, bool):
        raise CardError(f"expected true or false (whether the data are of the cell's own specimen), got "
                        f"{cell_sample!r}; name the specimen with specimen = NAME", field=f"{where}.cell_sample")
    return specimen, cell_sample


def _spread(table: dict, where: str, spec: FieldSpec) -> Spread | None:
    """``specimen_spread``: a quantity in the field's unit or a relative ``"20 %"``."""
    if "specimen_spread" not in table:
        return None
    raw = table["specimen_spread"]
    field = f"{where}.specimen_spread"
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            value = float(raw.strip()[:-1])
        except ValueError:
            raise CardError(f"expected a spread like '20 %' or '2 {spec.unit}', got {raw!r}", field=field) from None
        if not (math.isfinite(value) and value > 0):
            raise CardError(f"must be > 0 %, got {raw!r}", field=field)
        return Spread(value / 100.0, True)
    return Spread(_located(lambda: parse_uncertainty(raw, spec), field), False)


def _area_or_ohm(raw, spec: FieldSpec) -> tuple[Measured, bool]:
    """A measured area resistance (ohm cm^2), or a resistance in ohm (per_area False) where the
    field is an area resistance."""
    try:
        return parse_quantity(raw, spec), True
    except CardError as err:
        if spec is not F.AREA_RESISTANCE:
            raise
        try:
            return parse_quantity(raw, RESISTANCE), False
        except CardError:
            raise err from None


def _measurement(table: dict, where: str, folder: Path | None, materials: set[str], source: str):
    raw_quantity = table.get("quantity")
    joint = isinstance(raw_quantity, list)
    if isinstance(raw_quantity, list):
        if "fit" not in table or not isinstance(table.get("derived"), list):
            raise CardError("a list of quantities comes from a fit: give fit and a list derived = [...] of the "
                            "same length", field=f"{where}.quantity")
        quantities = [str(_text({"quantity": q}, "quantity", where)) for q in raw_quantity]
        names = [str(_text({"derived": n}, "derived", where)) for n in table["derived"]]
        if len(quantities) != len(names) or not quantities:
            raise CardError(f"{len(quantities)} quantities for {len(names)} derived names", field=f"{where}.derived")
    else:
        quantities = [str(_text(table, "quantity", where))]
        if isinstance(table.get("derived"), list):
            raise CardError("a list derived = [...] needs a list quantity = [...] of the same length",
                            field=f"{where}.quantity")
    specs = [DERIVED_QUANTITIES.get(q) or _located(lambda q=q: field_spec(q, materials), f"{where}.quantity")
             for q in quantities]
    if ("value" in table) == ("fit" in table):
        raise CardError("give either value or fit (with derived)", field=f"{where}.value")
    specimen, cell_sample = _specimen(table, where)
    spread = _spread(table, where, specs[0])
    given = [key for key in _SPECIMEN_KEYS if key in table]
    if given and not all(q.partition(".")[2] in ARRHENIUS_FIELDS or q in DERIVED_QUANTITIES for q in quantities):
        raise CardError("specimen, cell_sample and specimen_spread apply to conductivities, interface resistances "
                        "and separator.resistance; a measured layer quantity is the cell's own (several specimens: "
                        "kind = \"replicates\")", field=f"{where}.{given[0]}")
    note = ""
    if "fit" in table:
        entry, temperature, path = _fit_entry(table, where, folder)
        names = names if joint else [str(_text(table, "derived", where))]
        parsed = [_fit_quantity(entry, name, spec, path, where) for name, spec in zip(names, specs)]
        values = [v for v, _ in parsed]
        per_area = [a for _, a in parsed]
        covariance, note = _fit_covariance(entry, names, values, path)
        source = source or f"{path.name}: {', '.join(names)} of an impedance fit ({entry.get('circuit', '')})"
    else:
        for key in ("derived", "spectrum"):
            if key in table:
                raise CardError(f"{key} goes with fit", field=f"{where}.{key}")
        value, area = _located(lambda: _area_or_ohm(table["value"], specs[0]), f"{where}.value")
        values, per_area, temperature, covariance = [value], [area], None, None
    for q, value in zip(quantities, values):
        if not value.uncertain:
            raise CardError(f"a measurement needs an uncertainty ('1.4 ± 0.3 ohm*cm^2'), {q} has none",
                            field=f"{where}.value")
    temperature_dependent = [q.partition(".")[2] in ARRHENIUS_FIELDS or q in DERIVED_QUANTITIES for q in quantities]
    if "temperature" in table:
        if not any(temperature_dependent):
            raise CardError("a temperature applies to conductivity, interface_resistance or "
                            "separator.resistance only", field=f"{where}.temperature")
        temperature = _located(lambda: parse_quantity(table["temperature"], F.TEMPERATURE),
                               f"{where}.temperature").value
    parts = tuple(Measurement(q, v, temperature if dependent else None, where, source, specimen, cell_sample, spread,
                              area)
                  for q, v, dependent, area in zip(quantities, values, temperature_dependent, per_area))
    if not joint:
        return parts[0]
    return JointMeasurement(parts, covariance, where, source, note)


def _fit_entry(table: dict, where: str, folder: Path | None):
    """(the fit's entry for this observation, its temperature in K or None, the file) from an
    impedance fit's summary JSON."""
    import json

    from .reading import TOML_BYTES, read_bounded

    file = _text(table, "fit", where)
    first = table.get("derived")
    name = first[0] if isinstance(first, list) and first else _text(table, "derived", where)
    path = (folder / file) if folder is not None else Path(file)
    try:
        doc = json.loads(read_bounded(path, TOML_BYTES, what="a fit summary", error=DataError).decode("utf-8"))
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror or err}", file=str(path)) from None
    except ValueError as err:
        raise DataError(f"not a JSON document ({err})", file=str(path)) from None
    wanted = table.get("spectrum")
    spectra = doc.get("spectra", []) if isinstance(doc, dict) and "spectra" in doc else (
        doc if isinstance(doc, list) else [doc])
    if not all(isinstance(s, dict) and "parameters" in s for s in spectra):
        raise DataError("not the summary of 'nassb fit eis'", file=str(path))
    if wanted is not None:
        chosen = [s for s in spectra if s.get("spectrum") == wanted]
        if not chosen:
            names = ", ".join(str(s.get("spectrum")) for s in spectra)
            raise CardError(f"no spectrum {wanted!r} in {path}; it has {names}", field=f"{where}.spectrum")
        entry, temperature = chosen[0], chosen[0].get("temperature")
    elif isinstance(doc, dict) and "spectra" in doc and name in doc.get("parameters", {}):
        entry, temperature = doc, doc.get("reference_temperature")  # a joint fit's R_ref
    elif len(spectra) == 1:
        entry, temperature = spectra[0], spectra[0].get("temperature")
    else:
        raise CardError(f"{path} holds {len(spectra)} spectra; say which with spectrum = NAME",
                        field=f"{where}.spectrum")
    return entry, (float(temperature) if temperature is not None else None), path


def _fit_quantity(entry: dict, name: str, spec: FieldSpec, path: Path, where: str) -> tuple[Measured, bool]:
    """The posterior mean and sd of ``name`` in a fit's entry, and whether it is per area."""
    found = {**entry.get("parameters", {}), **entry.get("derived", {})}
    if name not in found:
        raise CardError(f"no parameter or derived quantity {name!r} in {path}; it has {', '.join(found)}",
                        field=f"{where}.derived")
    q = found[name]
    try:
        text = f"{float(q['mean'])!r} ± {float(q['sd'])!r} {q.get('unit') or ''}".strip()
    except (KeyError, TypeError, ValueError):
        raise DataError(f"{name} has no mean and sd", file=str(path)) from None
    return _located(lambda: _area_or_ohm(text, spec), f"{where}.derived")


def _fit_covariance(entry: dict, names: list[str], values: list[Measured], path: Path):
    """The covariance of ``names`` from the fit's ``"covariance": {"names", "matrix"}`` (in the
    fit's units, converted as the values were), or independent sd's and a note."""
    sd = np.array([v.sd for v in values])
    if len(names) == 1:
        return np.diag(sd ** 2), ""
    block = entry.get("covariance")
    note = (f"{path.name} gives no covariance of {', '.join(names)}: they enter as independent, and their "
            "posterior correlation is lost")
    independent = (np.diag(sd ** 2), note)
    if not isinstance(block, dict) or not all(n in block.get("names", []) for n in names):
        return independent
    try:
        index = [list(block["names"]).index(n) for n in names]
        matrix = np.asarray(block["matrix"], dtype=float)[np.ix_(index, index)]
    except (KeyError, TypeError, ValueError, IndexError):
        raise DataError("covariance: expected names and a square matrix", file=str(path)) from None
    # Scale into the canonical units: the ratio of each converted sd to the fit's own sd.
    found = {**entry.get("parameters", {}), **entry.get("derived", {})}
    raw_sd = np.array([float(found[n]["sd"]) for n in names])
    scale = np.divide(sd, raw_sd, out=np.ones_like(sd), where=raw_sd > 0)
    matrix = matrix * np.outer(scale, scale)
    if not (np.all(np.isfinite(matrix)) and np.allclose(matrix, matrix.T, rtol=1e-6, atol=0.0)):
        raise DataError("covariance: the matrix is not finite and symmetric", file=str(path))
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        raise DataError(f"covariance of {', '.join(names)}: not positive definite", file=str(path)) from None
    return matrix, ""


@overload
def _text(table: dict, key: str, where: str, required: Literal[True] = ...) -> str: ...
@overload
def _text(table: dict, key: str, where: str, required: bool) -> str | None: ...


def _text(table: dict, key: str, where: str, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise CardError("missing required field", field=f"{where}.{key}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise CardError(f"expected a non-empty string, got {value!r}", field=f"{where}.{key}")
    return value.strip()


def _located(thunk, field: str):
    try:
        return thunk()
    except CardError as err:
        raise err.located(field=field) from None


def _replicates(table, data: Table, where, materials, source) -> Replicates:
    quantity = _text(table, "quantity", where)
    spec = _located(lambda: field_spec(quantity, materials), f"{where}.quantity")
    column_name = _text(table, "column", where, required=False)
    name = column_name or quantity.partition(".")[2]
    candidates = [c for c in data.columns if c.lower() != "sample"]
    if name not in data.columns and column_name is None and len(candidates) == 1:
        name = candidates[0]
    column = data.find(name, spec=spec)
    sample_col = data.find("sample", required=False)
    labels = list(sample_col.values) if sample_col is not None else [str(i + 1) for i in range(len(data))]
    names = tuple(dict.fromkeys(labels))
    index = np.array([names.index(label) for label in labels])
    reading_sd = None
    if "reading_sd" in table:
        reading_sd = _located(lambda: parse_uncertainty(table["reading_sd"], spec), f"{where}.reading_sd")
    if len(column.values) < 2:
        raise DataError("replicates need at least two readings", file=data.path, field=column.name)
    if reading_sd is None and len(names) == len(labels):
        raise CardError("with one reading per specimen, give reading_sd (the instrument's standard uncertainty)"
                        " or a sample column with repeated readings", field=f"{where}.reading_sd")
    cell_sample = None
    if "cell_sample" in table:
        label = str(table["cell_sample"]).strip()
        if label not in names:
            raise CardError(f"no sample {label!r} in {data.path}", field=f"{where}.cell_sample")
        cell_sample = names.index(label)
    spread = _spread(table, where, spec)
    return Replicates(quantity, column.values, index, names, reading_sd, cell_sample, data.path, source, where,
                      spread)


def _capacities(table, data: Table, where, source) -> Capacities:
    cycles = data.find("cycle").values
    charge = data.find("charge", spec=F.AREAL_CAPACITY).values
    discharge = data.find("discharge", spec=F.AREAL_CAPACITY).values
    if "cycles" in table:
        span = table["cycles"]
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in span) if isinstance(span, list) else False
        if not (whole and len(span) == 2 and 1 <= span[0] <= span[1]):
            raise CardError(f"expected [first, last] cycle numbers, got {span!r}", field=f"{where}.cycles")
        keep = (cycles >= span[0]) & (cycles <= span[1])
        if not keep.any():
            raise CardError(f"no cycle of {data.path} lies in {span}", field=f"{where}.cycles")
        cycles, charge, discharge = cycles[keep], charge[keep], discharge[keep]
    return Capacities(cycles, charge, discharge, data.path, source, where)


def _arrhenius(table, data: Table, where, materials, source) -> ArrheniusSeries:
    quantity = _text(table, "quantity", where)
    material, _, key = quantity.partition(".")
    if material not in materials or key not in ARRHENIUS_FIELDS:
        raise CardError(f"expected MATERIAL.conductivity or MATERIAL.interface_resistance, got {quantity!r}",
                        field=f"{where}.quantity")
    temperature = data.find("temperature", spec=F.TEMPERATURE).values
    if key == "conductivity":
        values = data.find("conductivity", spec=F.CONDUCTIVITY).values
    else:
        values = data.find("resistance", "interface_resistance", spec=F.AREA_RESISTANCE).values
    check_series(temperature, values, data.path)
    specimen, cell_sample = _specimen(table, where)
    spec = F.CONDUCTIVITY if key == "conductivity" else F.AREA_RESISTANCE
    return ArrheniusSeries(temperature, values, "conductivity" if key == "conductivity" else "resistance",
                           data.path, quantity, source, where, specimen, cell_sample, _spread(table, where, spec))


MIN_TEMPERATURE_SPAN = 1.0  # K: below it no activation energy can be told apart from noise
MAX_SERIES_POINTS = 10_000  # an Arrhenius series is tens of points; NUTS on more would take minutes


def check_series(temperature: np.ndarray, values: np.ndarray, path: str) -> None:
    """An Arrhenius series needs positive values at temperatures that span at least 1 K.

    Temperatures below 150 K are possible but unlikely for a battery: a warning suggests that
    degrees Celsius were written under a kelvin header.
    """
    from .errors import warn

    if temperature.size > MAX_SERIES_POINTS:
        raise DataError(f"{temperature.size} points; an Arrhenius series is fitted on at most {MAX_SERIES_POINTS} "
                        "(average the repeats at each temperature)", file=path)
    if np.unique(temperature).size < 2:
        raise DataError("an Arrhenius fit needs at least two different temperatures", file=path, field="temperature")
    span = float(np.ptp(temperature))
    if span < MIN_TEMPERATURE_SPAN:
        raise DataError(f"the temperatures span only {span:.3g} K; an activation energy needs a span of at least "
                        f"{MIN_TEMPERATURE_SPAN:g} K", file=path, field="temperature")
    if np.any(values <= 0):
        raise DataError("values must be > 0 for an Arrhenius fit", file=path)
    if float(np.min(temperature)) < 150.0:
        warn(f"temperatures from {np.min(temperature):.4g} K: below 150 K is unusual for a cell; if the column "
             "holds degrees Celsius, write its header as 'temperature [degC]'", file=path, field="temperature")
