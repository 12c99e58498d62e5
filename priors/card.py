"""Cell cards: TOML files (or built-in names) turned into a validated specification.

A card only describes; it computes nothing.  :func:`load_card` reads a path or a built-in name,
merges a ``base`` card and the built-in materials under it, converts every quantity to its
canonical unit (priors/fields.py) and checks what a cell needs.  Every mistake is a
:class:`~nassb.priors.errors.CardError` that names the file and the field.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from . import fields as F
from .card_edit import MAPPING_ORIGIN, mapping_raw, replaced_raw
from .card_files import _FILE_KEYS, _builtin_text, _digest, _drop_removed, _is_builtin, _merge, _read, builtin_cards
from .consistency import check_cathode
from .errors import CardError, warn
from .observations import Observation, parse_observations
from .quantity import Measured, parse_quantity

_ROLES = ("anode", "separator", "cathode")


@dataclass(frozen=True)
class Material:
    """A material: its name, a description and its quantities (density, conductivity, ...)."""

    name: str
    description: str
    quantities: Mapping[str, Measured]

    def get(self, key: str) -> Measured | None:
        return self.quantities.get(key)


@dataclass(frozen=True)
class Layer:
    """One layer of the stack ([anode], [separator] or [cathode]) with its material."""

    material: Material
    quantities: Mapping[str, Measured]
    flags: Mapping[str, bool] = field(default_factory=dict)

    def get(self, key: str) -> Measured | None:
        return self.quantities.get(key)

    def flag(self, key: str) -> bool:
        """A yes-or-no field of the layer (``selected_shard``); False where the card does not say."""
        return bool(self.flags.get(key, False))


@dataclass(frozen=True)
class CellCard:
    """A validated cell card.

    Attributes
    ----------
    name : str
        The cell's name ([cell] name).
    origin : str
        The path the card was read from, or its built-in name; error messages start with it.
    cell : Mapping[str, Measured]
        voltage [V], temperature [K], optional area [cm^2] and pressure [MPa].
    anode, separator, cathode : Layer
        The layers with their resolved materials.
    electrolyte : Material or None
        The liquid in the cathode pores; None for an empty (or solid-filled) pore volume.
    observations : tuple
        The data attached with ``[[observations]]`` (nassb.priors.observations).
    design : Mapping
        The ``[design]`` ranges of the design search, as written (nassb.design checks them).
    sha256 : str
        Hash of the merged card text, for provenance.
    """

    name: str
    origin: str
    description: str
    cell: Mapping[str, Measured]
    anode: Layer
    separator: Layer
    cathode: Layer
    electrolyte: Material | None
    observations: tuple[Observation, ...] = ()
    design: Mapping = field(default_factory=dict)
    sha256: str = field(default="")
    raw: Mapping = field(default_factory=dict, repr=False, compare=False)
    """The merged card as TOML would parse it (bases merged in, file paths absolute)."""

    def replace(self, changes: Mapping[str, object] | None = None, /, **fields: object) -> CellCard:
        """A new card with some fields changed, validated as a card file is (for sweeps).

        ``changes`` maps dotted paths to values as a card file writes them
        (``{"cathode.thickness": "120 ± 5 um", "materials.nvp-composite.density": "3.1 g/cm3"}``);
        keyword arguments spell the dot as ``__`` (``cathode__thickness="120 ± 5 um"``).  A value
        ``False`` removes the field (``cathode__porosity=False`` with a loading derives the
        porosity), a table replaces a quantity whole (``{"value": "120 um", "sd": "5 um"}``).
        Warnings (implausible or inconsistent values) name the field as for a card file.

        Examples
        --------
        A thinner cathode with the capacity it holds, and a sweep over the separator::

            card = nassb.load_card("paper-cell-1")
            thinner = card.replace({"cathode.thickness": "120 ± 5 um",
                                    "cathode.theoretical_capacity": "1.51 mAh/cm2",
                                    "cathode.delivered_capacity": "1.28 mAh/cm2"})
            sweep = [card.replace(separator__thickness=f"{d} ± 4 um") for d in (30, 50, 80)]
        """
        merged = {**(changes or {}), **{k.replace("__", "."): v for k, v in fields.items()}}
        if not merged:
            return self
        try:
            raw = replaced_raw(self.raw, merged)
            return _validate(raw, self.origin, _digest(raw))
        except CardError as err:
            raise err.located(file=self.origin) from None


def _builtin_materials() -> dict:
    text = (resources.files("nassb.priors") / "data" / "materials.toml").read_text("utf-8")
    return tomllib.loads(text)["materials"]


def builtin_materials() -> list[str]:
    """Names of the materials any card may refer to (``sodium``, ``nzsp-tape``, ...)."""
    return sorted(_builtin_materials())


def load_card(ref: str | Path | Mapping) -> CellCard:
    """Read and validate a cell card.

    Parameters
    ----------
    ref : str, Path or mapping
        A path to a TOML card, the name of a built-in card (see :func:`builtin_cards`), or a
        mapping as the TOML of a card parses (``{"base": "paper-cell-1", "cell": {"name": "x"},
        "cathode": {"thickness": "120 ± 5 um"}}``): validated as a card file is, its ``base``
        and files relative to the working directory; errors name it ``card mapping``.
    """
    if isinstance(ref, Mapping):
        try:
            raw = mapping_raw(ref, MAPPING_ORIGIN)
            return _validate(raw, MAPPING_ORIGIN, _digest(raw))
        except CardError as err:
            raise err.located(file=MAPPING_ORIGIN) from None
    raw, origin = _read(ref, seen=())
    _drop_removed(raw, keep=("materials",))
    digest = _digest(raw)
    try:
        return _validate(raw, origin, digest)
    except CardError as err:
        raise err.located(file=origin) from None


def _section(raw: dict, name: str) -> dict:
    table = raw.get(name)
    if table is None:
        raise CardError(f"missing section [{name}]", field=name)
    if not isinstance(table, dict):
        raise CardError(f"expected a table [{name}], got {table!r}", field=name)
    return table


def _quantities(table: dict, section: str, specs: dict, text_keys: tuple[str, ...],
                origin: str | None = None, flag_keys: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Split a section into parsed quantities and text fields, rejecting unknown keys.

    A quantity outside its field's plausible range is kept, with a warning naming ``origin``
    (the card) and the field.
    """
    quantities: dict = {}
    text: dict[str, str | bool] = {}
    for key, raw in table.items():
        where = f"{section}.{key}"
        if key in flag_keys:
            if not isinstance(raw, bool):
                raise CardError(f"expected true or false, got {raw!r}", field=where)
            text[key] = raw
        elif key in text_keys:
            if not isinstance(raw, str) or not raw.strip():
                raise CardError(f"expected a non-empty string, got {raw!r}", field=where)
            text[key] = raw.strip()
        elif key in specs:
            try:
                quantities[key] = parse_quantity(raw, specs[key])
            except CardError as err:
                raise err.located(field=where) from None
            _warn_implausible(raw, quantities[key], specs[key], origin, where)
        else:
            valid = ", ".join(sorted(tuple(specs) + text_keys + flag_keys))
            raise CardError(f"unknown field; expected one of {valid}", field=where)
    return quantities, text


def _bare_number(raw) -> float | None:
    """The number of an entry written without a unit (``30``, ``{value = 30, sd = 1}``), else None."""
    if isinstance(raw, dict) and "unit" not in raw:
        raw = raw.get("value")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    return None


def _warn_implausible(raw, quantity: Measured, spec, origin: str | None, where: str) -> None:
    """Warn about a possible but suspicious value (priors/fields.py lists the plausible ranges)."""
    bare = _bare_number(raw)
    if spec.unit == "K" and bare is not None and 0 < bare < F.BARE_TEMPERATURE_BELOW:
        warn(f"a number without a unit is read in K: {bare:g} K ({bare - 273.15:.6g} degC); "
             f'write "{bare:g} degC" if degrees Celsius are meant', file=origin, field=where)
        return
    message = spec.plausibility(quantity.value, quantity.sd)
    if message is not None:
        warn(message, file=origin, field=where)


def _check_data_files(raw: dict) -> None:
    """Every data file an observation names exists: a missing one is named with its field."""
    tables = raw.get("observations")
    for i, table in enumerate(tables if isinstance(tables, list) else []):
        for key in _FILE_KEYS:
            if isinstance(table, dict) and isinstance(table.get(key), str) and table[key].strip():
                path = Path(table[key])
                if not path.exists():
                    what = "data file" if key == "file" else "fit summary"
                    raise CardError(f"no such {what} {str(path)!r}", field=f"observations[{i}].{key}")
                if path.is_dir():
                    raise CardError(f"{str(path)!r} is a directory, not a file", field=f"observations[{i}].{key}")


def _validate(raw: dict, origin: str, digest: str) -> CellCard:
    sections = {}
    for name in ("cell", *_ROLES):
        table = _section(raw, name)
        q, t = _quantities(table, name, F.SECTION_FIELDS[name], F.TEXT_FIELDS[name], origin, F.FLAG_FIELDS[name])
        for key in F.REQUIRED[name]:
            if key not in q and key not in t:
                raise CardError("missing required field", field=f"{name}.{key}")
        sections[name] = (q, t)

    materials = _materials(raw, origin)

    def material(section: str, key: str = "material") -> Material:
        ref = sections[section][1][key]
        if ref not in materials:
            known = ", ".join(sorted(materials))
            raise CardError(f"unknown material {ref!r}; known materials: {known}", field=f"{section}.{key}")
        return materials[ref]

    def flags(role: str) -> MappingProxyType:
        return MappingProxyType({k: sections[role][1][k] for k in F.FLAG_FIELDS[role] if k in sections[role][1]})

    layers = {role: Layer(material(role), MappingProxyType(sections[role][0]), flags(role)) for role in _ROLES}
    electrolyte = material("cathode", "electrolyte") if "electrolyte" in sections["cathode"][1] else None
    _check_data_files(raw)
    observations = parse_observations(raw.get("observations"), None, set(materials))
    card = CellCard(
        name=sections["cell"][1]["name"],
        origin=origin,
        description=sections["cell"][1].get("description", ""),
        cell=MappingProxyType(sections["cell"][0]),
        anode=layers["anode"],
        separator=layers["separator"],
        cathode=layers["cathode"],
        electrolyte=electrolyte,
        observations=observations,
        design=MappingProxyType(_design_table(raw)),
        sha256=digest,
        raw=MappingProxyType(copy.deepcopy(raw)),
    )
    _check_cell(card)
    return card


def _design_table(raw: dict) -> dict:
    """The raw ``[design]`` ranges; nassb.design checks them (the search's own schema)."""
    table = raw.get("design", {})
    if not isinstance(table, dict):
        raise CardError("expected a table [design]", field="design")
    return copy.deepcopy(table)


def _materials(raw: dict, origin: str | None = None) -> dict[str, Material]:
    tables = _builtin_materials()
    own = raw.get("materials", {})
    if not isinstance(own, dict):
        raise CardError("expected tables [materials.NAME]", field="materials")
    for name, table in own.items():
        if not isinstance(table, dict):
            raise CardError("expected a table [materials.NAME]", field=f"materials.{name}")
        merged = copy.deepcopy(tables.get(name, {}))
        _merge(merged, table)
        _drop_removed(merged)
        tables[name] = merged
    out = {}
    for name, table in tables.items():
        q, t = _quantities(table, f"materials.{name}", F.MATERIAL_FIELDS, F.TEXT_FIELDS["material"], origin)
        out[name] = Material(name, t.get("description", ""), MappingProxyType(q))
    return out


def _need(layer: Layer, key: str, role: str, why: str) -> Measured:
    """The layer's material's ``key``; a CardError naming the material where it has none."""
    value = layer.material.get(key)
    if value is None:
        raise CardError(f"material {layer.material.name!r} has no {key}, needed {why}",
                        field=f"materials.{layer.material.name}.{key}")
    return value


def _check_cell(card: CellCard) -> None:
    """Cross-field checks: what the cell equations need, and what cannot both be given."""
    anode, cathode = card.anode, card.cathode
    if anode.get("reservoir_thickness") is None and anode.get("charged_thickness") is None:
        raise CardError("give reservoir_thickness or a measured charged_thickness",
                        field="anode.reservoir_thickness")
    _need(anode, "density", "anode", "for the stack mass (Eq. 5)")
    if anode.get("charged_thickness") is None or cathode.get("delivered_capacity") is not None:
        _need(anode, "specific_capacity", "anode", "for the anode's swelling on charge")
    _need(card.separator, "density", "separator", "for the stack mass (Eq. 5)")
    solid_density = _need(cathode, "density", "cathode", "for the stack mass (Eq. 5)")
    if card.electrolyte is not None and card.electrolyte.get("density") is None:
        raise CardError(f"material {card.electrolyte.name!r} has no density, needed for the stack mass",
                        field=f"materials.{card.electrolyte.name}.density")

    loading = cathode.get("loading")
    has_loading = loading is not None
    if has_loading and cathode.get("porosity") is not None and cathode.get("theoretical_capacity") is not None:
        raise CardError("loading is not used when porosity and theoretical_capacity are both given; "
                        "set porosity = false to derive it from the loading", field="cathode.loading")
    if cathode.get("active_fraction") is not None and not has_loading:
        raise CardError("active_fraction needs a loading", field="cathode.active_fraction")
    if cathode.get("porosity") is None and not has_loading:
        raise CardError("give porosity, or loading (and active_fraction) to derive it", field="cathode.porosity")
    if cathode.get("theoretical_capacity") is None:
        if not has_loading or cathode.get("active_fraction") is None:
            raise CardError("give theoretical_capacity, or loading and active_fraction to derive it",
                            field="cathode.theoretical_capacity")
        _need(cathode, "specific_capacity", "cathode", "to derive theoretical_capacity from the loading")
    if loading is not None and cathode.get("porosity") is None:
        thickness = cathode.quantities["thickness"]  # a required field
        solid = loading.value * 10.0 / (solid_density.value * thickness.value)
        if not 0.0 < solid < 1.0:
            raise CardError(
                f"a loading of {loading.value:g} mg/cm^2 does not fit a "
                f"{thickness.value:g} um cathode of solid density "
                f"{solid_density.value:g} g/cm^3 (derived porosity {1 - solid:.2f})",
                field="cathode.loading")

    _check_capacities(cathode)
    check_cathode(card)  # thickness, porosity, loading and capacity against each other: warnings

    sep = card.separator.material
    if sep.get("activation_energy") is not None and sep.get("conductivity") is None:
        raise CardError("activation_energy without conductivity", field=f"materials.{sep.name}.conductivity")
    for value_key, energy_key in (("conductivity", "activation_energy"),
                                  ("interface_resistance", "interface_activation_energy")):
        if sep.get(value_key) is not None and sep.get("reference_temperature") is not None \
                and sep.get(energy_key) is None:
            raise CardError(f"{value_key} at a reference_temperature needs {energy_key} to reach the cell temperature",
                            field=f"materials.{sep.name}.{energy_key}")


def _check_capacities(cathode: Layer) -> None:
    """A cell cannot deliver more than its theoretical capacity (utilisation above 1)."""
    delivered = cathode.get("delivered_capacity")
    if delivered is None:
        return
    theoretical = cathode.get("theoretical_capacity")
    loading, fraction = cathode.get("loading"), cathode.get("active_fraction")
    specific = cathode.material.get("specific_capacity")
    if theoretical is not None:
        c_theo, how = theoretical.value, "theoretical_capacity"
    elif loading is not None and fraction is not None and specific is not None:
        c_theo = loading.value * 1e-3 * fraction.value * specific.value
        how = "the theoretical capacity derived from loading x active_fraction x specific_capacity"
    else:
        return
    if delivered.value > c_theo:
        raise CardError(f"delivered_capacity {delivered.value:g} mAh/cm^2 exceeds {how} {c_theo:.4g} mAh/cm^2 "
                        f"(utilisation {delivered.value / c_theo:.3g} > 1)", field="cathode.delivered_capacity")


def card_text(name: str) -> str:
    """The TOML text of a built-in card, to copy from (``nassb cards show NAME``)."""
    if not _is_builtin(name):
        raise CardError(f"not a built-in card; built-in cards: {', '.join(builtin_cards())}", file=name)
    return _builtin_text(name)


def builtin_card_descriptions() -> list[dict]:
    """Each built-in card's name and its ``[cell] description``."""
    out = []
    for name in builtin_cards():
        cell = tomllib.loads(_builtin_text(name)).get("cell", {})
        out.append({"name": name, "description": str(cell.get("description", ""))})
    return out


def builtin_material_descriptions() -> list[dict]:
    """Each built-in material's name and description."""
    return [{"name": name, "description": str(table.get("description", ""))}
            for name, table in sorted(_builtin_materials().items())]
