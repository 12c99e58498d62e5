"""Observations a card attaches (``[[observations]]``): what was measured, read into canonical
units.  They only describe data; the likelihoods that use them are in nassb.inference.bayes.

Kinds and keys (``file`` is relative to the card; ``source`` says where the data come from):

``replicates``
    Repeated readings of one card quantity (``quantity = "separator.thickness"``): a column
    named after the field (or ``column = NAME``), optional ``sample`` column (readings of the
    same specimen share a sample id), optional ``reading_sd`` (one reading's standard
    uncertainty, e.g. the micrometer's), optional ``cell_sample`` (the id of the specimen that
    is in this cell; otherwise the cell's is a new specimen of the same population).
``capacities``
    Charge and discharge per cycle: columns ``cycle``, ``charge [mAh/cm^2]``,
    ``discharge [mAh/cm^2]``; optional ``cycles = [first, last]``.  Informs the delivered
    capacity, the utilisation and the Coulombic efficiency.
``arrhenius``
    A temperature series of a material's ``conductivity`` or ``interface_resistance``
    (``quantity = "nzsp-tape.conductivity"``): columns ``temperature [degC]`` and
    ``conductivity [mS/cm]`` (or ``resistance [ohm*cm^2]``).  Informs the value at the
    material's reference temperature and its activation energy (Eq. 4).
``measurement``
    One value with its uncertainty, e.g. a resistance fitted elsewhere: ``quantity``,
    ``value = "1.4 ± 0.3 ohm*cm^2"``, optional ``temperature`` (Arrhenius-shifted to it).
    Instead of ``value``, ``fit = "eis-fit/summary.json"`` (what ``nassb fit eis --out`` writes)
    and ``derived = "R_interface"`` take the posterior mean and sd of that derived quantity (or
    parameter) of the impedance fit, and the spectrum's temperature; ``spectrum = NAME`` picks
    one spectrum of a batch fit (two quantities of one fit enter as independent: their
    posterior correlation is not carried).  Besides card fields,
    ``quantity = "separator.resistance"`` observes the separator's area resistance
    d / sigma(T) (ohm cm^2), which informs its thickness and conductivity together (and its
    activation energy where the card gives one with an uncertainty).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import fields as F
from .errors import CardError, DataError
from .quantity import FieldSpec, Measured, parse_quantity, parse_uncertainty
from .tables import Table, read_table

KINDS = ("replicates", "capacities", "arrhenius", "measurement")
_KEYS = {
    "replicates": ("kind", "quantity", "file", "column", "reading_sd", "cell_sample", "source"),
    "capacities": ("kind", "file", "cycles", "source"),
    "arrhenius": ("kind", "quantity", "file", "source"),
    "measurement": ("kind", "quantity", "value", "temperature", "fit", "derived", "spectrum", "source"),
}
# Measurable quantities that are not card fields: the separator's area resistance d / sigma(T).
DERIVED_QUANTITIES = {"separator.resistance": F.AREA_RESISTANCE}
ARRHENIUS_FIELDS = {"conductivity": "activation_energy", "interface_resistance": "interface_activation_energy"}


@dataclass(frozen=True)
class Replicates:
    quantity: str
    values: np.ndarray
    samples: np.ndarray  # integer specimen index of each reading
    sample_names: tuple[str, ...]
    reading_sd: float | None
    cell_sample: int | None
    file: str
    source: str
    where: str


@dataclass(frozen=True)
class Capacities:
    cycles: np.ndarray
    charge: np.ndarray
    discharge: np.ndarray
    file: str
    source: str
    where: str


@dataclass(frozen=True)
class ArrheniusSeries:
    """A temperature series of a conductivity or an area resistance (Eq. 4 data).

    The same type serves a card's ``arrhenius`` observation (``quantity`` names the material's
    field) and a CSV fitted alone by ``nassb fit arrhenius`` (no ``quantity``).
    """

    temperature: np.ndarray  # K
    values: np.ndarray       # mS/cm (conductivity) or ohm cm^2 (resistance)
    kind: str                # "conductivity" or "resistance"
    file: str
    quantity: str = ""       # "<material>.conductivity" or "<material>.interface_resistance"
    source: str = ""
    where: str = ""

    @property
    def unit(self) -> str:
        return F.CONDUCTIVITY.unit if self.kind == "conductivity" else F.AREA_RESISTANCE.unit

    @property
    def energy(self) -> str:
        """The paired activation energy of the card quantity (``"<material>.activation_energy"``)."""
        material, _, key = self.quantity.partition(".")
        return f"{material}.{ARRHENIUS_FIELDS[key]}"


@dataclass(frozen=True)
class Measurement:
    quantity: str
    value: Measured
    temperature: float | None
    where: str
    source: str


Observation = Replicates | Capacities | ArrheniusSeries | Measurement


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
        # One data set per target: two would need a model of how they relate.
        target = "capacities" if isinstance(obs, Capacities) else f"{type(obs).__name__}:{obs.quantity}"
        if target in seen:
            raise CardError(f"a second observation of the same kind and quantity as {seen[target]}; "
                            "merge the data into one file", field=where)
        seen[target] = where
        out.append(obs)
    return tuple(out)


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
        quantity = _text(table, "quantity", where)
        spec = DERIVED_QUANTITIES.get(quantity) or _located(lambda: field_spec(quantity, materials), f"{where}.quantity")
        temperature = None
        if ("value" in table) == ("fit" in table):
            raise CardError("give either value or fit (with derived)", field=f"{where}.value")
        if "fit" in table:
            value, temperature, fit_source = _from_fit(table, where, folder, spec)
            source = source or fit_source
        else:
            for key in ("derived", "spectrum"):
                if key in table:
                    raise CardError(f"{key} goes with fit", field=f"{where}.{key}")
            value = _located(lambda: parse_quantity(table["value"], spec), f"{where}.value")
        if not value.uncertain:
            raise CardError("a measurement needs an uncertainty ('1.4 ± 0.3 ohm*cm^2')", field=f"{where}.value")
        if "temperature" in table:
            if quantity.partition(".")[2] not in ARRHENIUS_FIELDS and quantity not in DERIVED_QUANTITIES:
                raise CardError("a temperature applies to conductivity, interface_resistance or "
                                "separator.resistance only", field=f"{where}.temperature")
            temperature = _located(lambda: parse_quantity(table["temperature"], F.TEMPERATURE), f"{where}.temperature").value
        elif temperature is not None and quantity.partition(".")[2] not in ARRHENIUS_FIELDS \
                and quantity not in DERIVED_QUANTITIES:
            temperature = None  # a temperature-independent field: the spectrum's temperature is moot
        return Measurement(quantity, value, temperature, where, source)

    file = _text(table, "file", where)
    path = (folder / file) if folder is not None else Path(file)
    data = read_table(path, label=str(path), text_columns=("sample",))
    if kind == "replicates":
        return _replicates(table, data, where, materials, source)
    if kind == "capacities":
        return _capacities(table, data, where, source)
    return _arrhenius(table, data, where, materials, source)


def _from_fit(table: dict, where: str, folder: Path | None, spec: FieldSpec):
    """(value, temperature in K or None, source) from an impedance fit's summary JSON."""
    import json

    file = _text(table, "fit", where)
    name = _text(table, "derived", where)
    path = (folder / file) if folder is not None else Path(file)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
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
    found = {**entry.get("parameters", {}), **entry.get("derived", {})}
    if name not in found:
        raise CardError(f"no parameter or derived quantity {name!r} in {path}; it has {', '.join(found)}",
                        field=f"{where}.derived")
    q = found[name]
    try:
        text = f"{float(q['mean'])!r} ± {float(q['sd'])!r} {q.get('unit') or ''}".strip()
    except (KeyError, TypeError, ValueError):
        raise DataError(f"{name} has no mean and sd", file=str(path)) from None
    value = _located(lambda: parse_quantity(text, spec), f"{where}.derived")
    source = f"{path.name}: {name} of an impedance fit ({entry.get('circuit', '')})"
    return value, (float(temperature) if temperature is not None else None), source


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
    return Replicates(quantity, column.values, index, names, reading_sd, cell_sample, data.path, source, where)


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
    return ArrheniusSeries(temperature, values, "conductivity" if key == "conductivity" else "resistance",
                           data.path, quantity, source, where)


MIN_TEMPERATURE_SPAN = 1.0  # K: below it no activation energy can be told apart from noise


def check_series(temperature: np.ndarray, values: np.ndarray, path: str) -> None:
    """An Arrhenius series needs positive values at temperatures that span at least 1 K.

    Temperatures below 150 K are possible but unlikely for a battery: a warning suggests that
    degrees Celsius were written under a kelvin header.
    """
    from .errors import warn

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
