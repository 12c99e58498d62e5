"""Observed cells: what built cells did, as data for the risk models (TOML in the card grammar).

The seed paper's observations (priors/data/risk-observations.toml) and a lab's own cells are
written alike.  Each ``[[cells]]`` entry is a cell card, or a ``base`` card with sections that
override it, plus what happened to it::

    [[cells]]
    base = "paper-cell-2"              # a built-in card, a card path (relative to this file), or
    name = "lab-7"                     #   omitted: then the entry gives the full card tables
    source = "built 2026-11-20, tape T12"
    count = 1                          # cells built and observed alike (default 1)
    proposal = "r2-p3"                 # in a campaign: the proposal it answers (optional)
    [cells.separator]
    thickness = "60 ± 4 um"
    [cells.cell]
    pressure = "0.1 MPa"
    area = "0.503 cm^2"
    [cells.outcome]
    cracked = false                    # did the separator crack at this pressure (at assembly)
    selected_shard = false             # was the separator a selected planar shard (default false)
    current = "0.2 mA/cm^2"            # cycling current density
    cycles = 40                        # cycles run in all, formation included
    short_cycle = 31                   # the cycle in which it shorted ([a, b]: in one of a..b); absent: it did not
    formation_cycles = 4               # the first cycles ran at formation_current (default 0)
    formation_current = "0.1 mA/cm^2"
    resistance = "150 ± 20 ohm*cm^2"   # after formation (or {fit = "DIR/summary.json", derived = NAME})
    resistance_before = "230 ohm*cm^2" # before formation (optional)
    resistance_measure = "R_cell"      # or "|Z| at 0.1 Hz": the modulus, current collector included
    capacities = "lab-7.csv"           # cycle, charge, discharge per cycle (Coulombic efficiency)

Instead of a capacities file, the numbers a paper quotes: ``first_charge`` and
``first_discharge`` (cycle 1), ``efficiency = [{above = 0.99, cycles = [2, 74]}]`` (every
cycle's Coulombic efficiency above a value) and ``discharge = [{cycle = 5, capacity = "1.07
mAh/cm^2"}, ...]`` (discharge capacities for the fade).  Cycles are counted from the cell's first
cycle, formation included.  A cell that cycled did not crack (``cracked`` defaults to false when
it has cycling outcomes); a cracked cell has no cycling outcomes.

Entries of the seed paper's file also give ``citation`` (the sentence of the paper it rests on)
and ``assumption`` (every reading the paper does not state), each a string or a list of strings.
A lab's file may give them too.  Every mistake is a :class:`~nassb.priors.errors.CardError` (or
a DataError for a data file) naming the file and the field, e.g. ``cells[3].outcome.short_cycle``.
"""

from __future__ import annotations

import copy
import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import fields as F
from .card import CellCard, _drop_removed, _is_builtin, _merge, _read, _validate, builtin_cards
from .errors import CardError, DataError
from .observations import _fit_entry, _fit_quantity
from .quantity import FieldSpec, Measured, parse_quantity
from .tables import read_table
from .tomlfile import read_toml

PAPER_FILE = "risk-observations.toml"
CURRENT = FieldSpec("mA/cm^2", 0.0, math.inf, low_open=True, words="a current density")
MEASURES = ("R_cell", "|Z| at 0.1 Hz")
_CELL_KEYS = ("base", "name", "source", "count", "citation", "assumption", "proposal", "cell", "anode",
              "separator", "cathode", "materials", "outcome")
_OUTCOME_KEYS = ("cracked", "selected_shard", "current", "cycles", "short_cycle", "formation_cycles",
                 "formation_current", "resistance", "resistance_before", "resistance_measure", "capacities",
                 "first_charge", "first_discharge", "efficiency", "discharge")
CSV_CAPACITY_UNCERTAINTY = 0.001
"""Relative standard uncertainty of one charge or discharge of a capacities file (coulometry of
one instrument: its calibration error cancels in a discharge over a charge)."""
MIN_LOSS_SE = 1e-4
"""Floor of the standard error of a mean Coulombic loss from a capacities file."""


@dataclass(frozen=True)
class Resistance:
    """A measured cell resistance (ohm cm^2), after or before formation."""

    value: Measured
    stage: str        # "after" or "before" (formation)
    measure: str      # one of MEASURES
    where: str


@dataclass(frozen=True)
class Efficiency:
    """Every cycle of ``cycles`` (first, last) had a Coulombic efficiency above ``above``."""

    above: float
    cycles: tuple[int, int]
    where: str


@dataclass(frozen=True)
class MeanLoss:
    """The mean of 1 - CE over ``cycles`` (first, last), and its standard error (a capacities file)."""

    loss: float
    se: float
    cycles: tuple[int, int]
    where: str


@dataclass(frozen=True)
class Outcome:
    """What one observed cell did (see the module docstring for the keys)."""

    cracked: bool | None = None
    selected_shard: bool = False
    current: Measured | None = None
    cycles: int | None = None
    short: tuple[int, int] | None = None        # shorted in one of the cycles first..last
    formation_cycles: int = 0
    formation_current: Measured | None = None
    resistance: tuple[Resistance, ...] = ()
    first_charge: Measured | None = None
    first_discharge: Measured | None = None
    efficiency: tuple[Efficiency, ...] = ()
    mean_loss: MeanLoss | None = None
    discharge: tuple[tuple[int, Measured], ...] = ()
    capacities_file: str = ""

    @property
    def cycled(self) -> bool:
        return self.cycles is not None

    @property
    def informs(self) -> bool:
        return (self.cracked is not None or self.cycled or bool(self.resistance) or self.first_charge is not None
                or bool(self.efficiency) or self.mean_loss is not None or bool(self.discharge))


@dataclass(frozen=True)
class ObservedCell:
    """One entry of an observed-cells file: its card, its outcome, and where it is written."""

    name: str
    source: str
    card: CellCard
    outcome: Outcome
    count: int
    lab: bool                    # a lab's own cell (lab-level offsets apply), not the paper's
    citation: tuple[str, ...]
    assumption: tuple[str, ...]
    file: str
    where: str                   # "cells[3]"


@dataclass(frozen=True)
class ObservedCells:
    """The cells of one file, with the SHA-256 of its content and of every file it names."""

    cells: tuple[ObservedCell, ...]
    file: str
    sha256: str
    lab: str = ""                # [lab] name, if given

    def __iter__(self):
        return iter(self.cells)

    def __len__(self) -> int:
        return len(self.cells)

    def __add__(self, other: ObservedCells) -> ObservedCells:
        return ObservedCells(self.cells + other.cells, f"{self.file} + {other.file}",
                             hashlib.sha256((self.sha256 + other.sha256).encode()).hexdigest(), other.lab or self.lab)


def load_observed_cells(path: str | Path | None = None, *, paper: bool | None = None,
                        proposal_cards: Mapping[str, Path] | None = None) -> ObservedCells:
    """Read an observed-cells file (default: the seed paper's, priors/data/risk-observations.toml).

    Parameters
    ----------
    path : str or Path, optional
        A lab's observations file; None reads the paper's.
    paper : bool, optional
        Whether the cells are the seed paper's (each entry then needs ``citation`` and
        ``assumption``, and no lab offset applies).  Default: True for the built-in file only.
    proposal_cards : mapping, optional
        A campaign's proposal cards by proposal name: an entry that names ``proposal = "r1-p2"``
        and no ``base`` is that proposal's card with its own sections over it.
    """
    if path is None:
        text = (resources.files("nassb.priors") / "data" / PAPER_FILE).read_text("utf-8")
        label, folder = PAPER_FILE, None
    else:
        label = str(path)
        raw, text = read_toml(path, what="observations file")
        folder = Path(path).parent
    paper = (path is None) if paper is None else paper
    if path is None:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise CardError(f"not valid TOML: {err}", file=label) from None
    unknown = [k for k in raw if k not in ("cells", "lab")]
    if unknown:
        raise CardError("unknown table; expected [[cells]] (and an optional [lab])", file=label, field=unknown[0])
    lab = raw.get("lab", {})
    if not isinstance(lab, dict):
        raise CardError("expected a table [lab]", file=label, field="lab")
    entries = raw.get("cells")
    if not isinstance(entries, list) or not entries or not all(isinstance(t, dict) for t in entries):
        raise CardError("expected one or more [[cells]] tables", file=label, field="cells")
    digest = hashlib.sha256(text.encode())
    cells = []
    for i, entry in enumerate(entries):
        where = f"cells[{i}]"
        cells.append(_cell(entry, where, label, folder, paper, digest, proposal_cards or {}))
    names = [c.name for c in cells]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise CardError(f"a second cell named {name!r}; give each cell its own name", file=label,
                            field=f"cells[{i}].name")
    return ObservedCells(tuple(cells), label, digest.hexdigest(), str(lab.get("name", "")))


def _cell(entry: dict, where: str, label: str, folder: Path | None, paper: bool, digest,
          proposal_cards: Mapping[str, Path]) -> ObservedCell:
    unknown = [k for k in entry if k not in _CELL_KEYS]
    if unknown:
        raise CardError(f"unknown key; expected one of {', '.join(_CELL_KEYS)}", file=label,
                        field=f"{where}.{unknown[0]}")
    name = _string(entry, "name", where, label)
    source = _string(entry, "source", where, label, required=False)
    count = entry.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise CardError(f"expected a whole number >= 1, got {count!r}", file=label, field=f"{where}.count")
    citation, assumption = (_strings(entry, key, where, label, required=paper) for key in ("citation", "assumption"))
    card = _card(entry, name, where, label, folder, digest, proposal_cards)
    outcome_raw = entry.get("outcome")
    if not isinstance(outcome_raw, dict):
        raise CardError("missing [cells.outcome]: what happened to the cell", file=label, field=f"{where}.outcome")
    outcome = _outcome(outcome_raw, f"{where}.outcome", label, folder, digest)
    return ObservedCell(name, source, card, outcome, count, not paper, citation, assumption, label, where)


def _card(entry: dict, name: str, where: str, label: str, folder: Path | None, digest,
          proposal_cards: Mapping[str, Path]) -> CellCard:
    overrides = {k: copy.deepcopy(entry[k]) for k in ("cell", "anode", "separator", "cathode", "materials")
                 if k in entry}
    for key, value in overrides.items():
        if not isinstance(value, dict):
            raise CardError(f"expected a table [cells.{key}]", file=label, field=f"{where}.{key}")
    base = entry.get("base")
    proposal = entry.get("proposal")
    if base is None and isinstance(proposal, str) and proposal in proposal_cards:
        try:
            raw, _origin = _read(proposal_cards[proposal], seen=())  # the campaign's card of that proposal
        except CardError as err:
            raise CardError(str(err), file=label, field=f"{where}.proposal") from None
        digest.update(Path(proposal_cards[proposal]).read_bytes())
    elif base is None:
        raw = {}
    else:
        if not isinstance(base, str) or not base.strip():
            raise CardError(f"expected a built-in card name or a card path, got {base!r}", file=label,
                            field=f"{where}.base")
        ref: str | Path = base if (_is_builtin(base) or folder is None) else folder / base
        if not _is_builtin(base) and not Path(ref).is_file():
            raise CardError(f"{base!r} is neither a card file (relative to this file) nor a built-in card; "
                            f"built-in cards: {', '.join(builtin_cards())}", file=label, field=f"{where}.base")
        try:
            raw, _origin = _read(ref, seen=())
        except CardError as err:
            raise CardError(str(err), file=label, field=f"{where}.base") from None
        digest.update(Path(ref).read_bytes() if Path(ref).is_file() else
                      (resources.files("nassb.priors") / "data" / "cells" / f"{base}.toml").read_bytes())
    _merge(raw, overrides)
    raw.setdefault("cell", {})
    if isinstance(raw["cell"], dict):
        raw["cell"]["name"] = name
    _drop_removed(raw, keep=("materials",))
    try:
        return _validate(raw, label, hashlib.sha256(repr(sorted(raw.items())).encode()).hexdigest())
    except CardError as err:
        raise CardError(err.message, file=label, field=f"{where}.{err.field}" if err.field else where) from None


def _outcome(t: dict, where: str, label: str, folder: Path | None, digest) -> Outcome:
    unknown = [k for k in t if k not in _OUTCOME_KEYS]
    if unknown:
        raise CardError(f"unknown key; expected one of {', '.join(_OUTCOME_KEYS)}", file=label,
                        field=f"{where}.{unknown[0]}")

    def fail(message: str, key: str) -> CardError:
        return CardError(message, file=label, field=f"{where}.{key}")

    def flag(key: str) -> bool | None:
        value = t.get(key)
        if value is not None and not isinstance(value, bool):
            raise fail(f"expected true or false, got {value!r}", key)
        return value

    def whole(key: str, low: int) -> int | None:
        value = t.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise fail(f"expected a whole number >= {low}, got {value!r}", key)
        return value

    def quantity(key: str, spec: FieldSpec, raw=None, field: str | None = None) -> Measured | None:
        value = t.get(key) if raw is None else raw
        if value is None:
            return None
        try:
            return parse_quantity(value, spec)
        except CardError as err:
            raise fail(err.message, field or key) from None

    cracked = flag("cracked")
    selected = bool(flag("selected_shard"))
    current = quantity("current", CURRENT)
    cycles = whole("cycles", 1)
    formation_cycles = whole("formation_cycles", 0) or 0
    formation_current = quantity("formation_current", CURRENT)

    short = None
    if "short_cycle" in t:
        value = t["short_cycle"]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            short = (value, value)
        elif (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                 for v in value) and 1 <= value[0] <= value[1]):
            short = (value[0], value[1])
        else:
            raise fail(f"expected the cycle it shorted in (>= 1) or [first, last], got {value!r}", "short_cycle")
        if cycles is None:
            cycles = short[1]
        elif short[1] > cycles:
            raise fail(f"shorted in cycle {short[1]} but only {cycles} cycles were run", "short_cycle")
        elif short[1] < cycles:
            raise fail(f"a cell that shorted in cycle {short[1]} cannot have run {cycles} cycles; "
                       "cycles counts the cycles run until the short", "cycles")
    if cycles is not None and current is None:
        raise fail("missing: the cycling current density, needed with cycles or short_cycle", "current")
    if current is not None and cycles is None:
        raise fail("missing: how many cycles were run at this current (or short_cycle)", "cycles")
    if formation_cycles:
        if formation_current is None:
            raise fail("missing: the current density of the formation cycles", "formation_current")
        if cycles is None or formation_cycles > cycles:
            raise fail(f"{formation_cycles} formation cycles need cycles >= {formation_cycles}", "formation_cycles")
    elif formation_current is not None:
        raise fail("formation_current without formation_cycles", "formation_current")

    measure = t.get("resistance_measure", "R_cell")
    if measure not in MEASURES:
        raise fail(f"{measure!r} is not a supported measure; must be one of {', '.join(MEASURES)}",
                   "resistance_measure")
    resistances = []
    for key, stage in (("resistance", "after"), ("resistance_before", "before")):
        if key in t:
            resistances.append(Resistance(_resistance(t[key], f"{where}.{key}", label, folder, digest),
                                          stage, measure, f"{where}.{key}"))
    if "resistance_measure" in t and not resistances:
        raise fail("resistance_measure without a resistance", "resistance_measure")

    first_charge = quantity("first_charge", F.AREAL_CAPACITY)
    first_discharge = quantity("first_discharge", F.AREAL_CAPACITY)
    if (first_charge is None) != (first_discharge is None):
        raise fail("give first_charge and first_discharge together", "first_charge" if first_charge is None
                   else "first_discharge")
    efficiency = []
    raw_eff = t.get("efficiency", [])
    if not isinstance(raw_eff, list) or not all(isinstance(e, dict) for e in raw_eff):
        raise fail("expected a list of tables {above = 0.99, cycles = [first, last]}", "efficiency")
    for k, e in enumerate(raw_eff):
        w = f"efficiency[{k}]"
        if set(e) - {"above", "cycles"}:
            raise fail("expected the keys above and cycles", f"{w}.{sorted(set(e) - {'above', 'cycles'})[0]}")
        above = quantity("", FieldSpec("", 0.0, 1.0, low_open=True, high_open=True, words="a fraction"),
                         raw=e.get("above"), field=f"{w}.above") if "above" in e else None
        if above is None:
            raise fail("missing: the efficiency every cycle was above", f"{w}.above")
        span = _span(e.get("cycles"), f"{w}.cycles", fail)
        if span[0] < 2:
            raise fail("cycle 1 is the first-cycle loss: give first_charge and first_discharge", f"{w}.cycles")
        efficiency.append(Efficiency(above.value, span, f"{where}.{w}"))
    discharge = []
    raw_dis = t.get("discharge", [])
    if not isinstance(raw_dis, list) or not all(isinstance(e, dict) for e in raw_dis):
        raise fail("expected a list of tables {cycle = N, capacity = '1.07 mAh/cm^2'}", "discharge")
    for k, e in enumerate(raw_dis):
        w = f"discharge[{k}]"
        cycle = e.get("cycle")
        if isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < 1:
            raise fail(f"expected a cycle number >= 1, got {cycle!r}", f"{w}.cycle")
        capacity = quantity("", F.AREAL_CAPACITY, raw=e.get("capacity"), field=f"{w}.capacity")
        if capacity is None:
            raise fail("missing: the discharge capacity", f"{w}.capacity")
        discharge.append((cycle, capacity))
    if [c for c, _ in discharge] != sorted({c for c, _ in discharge}):
        raise fail("give each cycle once, in increasing order", "discharge")

    mean_loss = None
    capacities_file = ""
    if "capacities" in t:
        if first_charge is not None or efficiency or discharge:
            raise fail("give a capacities file or first_charge/efficiency/discharge, not both", "capacities")
        capacities_file, first_charge, first_discharge, mean_loss, discharge = _capacities(
            t["capacities"], f"{where}.capacities", label, folder, formation_cycles, digest)
    last = max([c for c, _ in discharge] + [e.cycles[1] for e in efficiency] + [0])
    if cycles is not None and last > cycles:
        raise fail(f"capacities up to cycle {last}, but only {cycles} cycles were run", "cycles")

    if cracked is None and (cycles is not None or resistances):
        cracked = False
    if cracked and (cycles is not None or resistances or first_charge is not None or discharge or efficiency):
        raise fail("a cracked separator has no cycling outcomes (cycles, resistance, capacities)", "cracked")
    outcome = Outcome(cracked, selected, current, cycles, short, formation_cycles, formation_current,
                      tuple(resistances), first_charge, first_discharge, tuple(efficiency), mean_loss,
                      tuple(discharge), capacities_file)
    if not outcome.informs:
        raise CardError("no outcome: give cracked, cycles with current, a resistance or capacities", file=label,
                        field=where)
    return outcome


def _span(value, field: str, fail) -> tuple[int, int]:
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                            for v in value) and 1 <= value[0] <= value[1]):
        return value[0], value[1]
    raise fail(f"expected [first, last] cycle numbers, got {value!r}", field)


def _resistance(raw, where: str, label: str, folder: Path | None, digest) -> Measured:
    spec = F.AREA_RESISTANCE
    if isinstance(raw, dict) and "fit" in raw:
        extra = set(raw) - {"fit", "derived", "spectrum"}
        if extra:
            raise CardError("a fit takes fit, derived and spectrum", file=label, field=f"{where}.{sorted(extra)[0]}")
        if not isinstance(raw.get("fit"), str):
            raise CardError("expected the path of a 'nassb fit eis' summary.json", file=label, field=f"{where}.fit")
        if not isinstance(raw.get("derived"), str):
            raise CardError("expected the name of the fit's derived quantity or parameter", file=label,
                            field=f"{where}.derived")
        path = Path(raw["fit"]) if folder is None or Path(raw["fit"]).is_absolute() else folder / raw["fit"]
        try:
            entry, _, fit_path = _fit_entry({**raw, "fit": str(path)}, where, None)
            value, per_area = _fit_quantity(entry, raw["derived"], spec, fit_path, where)
        except CardError as err:
            raise CardError(err.message, file=err.file or label, field=err.field or where) from None
        if not per_area:
            raise CardError(f"{raw['derived']} of {path} is in ohm: fit the spectrum with its electrode area "
                            "(nassb fit eis --area) for an area resistance", file=label, field=f"{where}.fit")
        digest.update(path.read_bytes())
        _warn_implausible(value, spec, label, where)
        return value
    try:
        value = parse_quantity(raw, spec)
    except CardError as err:
        raise CardError(err.message, file=label, field=where) from None
    if not value.value > 0:
        raise CardError("a cell resistance must be > 0", file=label, field=where)
    _warn_implausible(value, spec, label, where)
    return value


def _warn_implausible(value: Measured, spec, label: str, where: str) -> None:
    """A possible but suspicious observed value (1e9 ohm cm^2 for a cell) is a warning naming it."""
    from .errors import warn

    message = spec.plausibility(value.value, value.sd)
    if message is not None:
        warn(message, file=label, field=where)


def _capacities(file, where: str, label: str, folder: Path | None, formation_cycles: int, digest):
    if not isinstance(file, str) or not file.strip():
        raise CardError("expected the path of a CSV with cycle, charge and discharge columns", file=label, field=where)
    path = Path(file) if folder is None or Path(file).is_absolute() else folder / file
    table = read_table(path, label=str(path))
    digest.update(path.read_bytes())
    cycle = table.find("cycle").values
    charge = table.find("charge", spec=F.AREAL_CAPACITY).values
    discharge = table.find("discharge", spec=F.AREAL_CAPACITY).values
    if cycle.size == 0:
        raise DataError("no data rows", file=str(path))
    if np.any(cycle != np.round(cycle)) or np.any(cycle < 1) or np.any(np.diff(cycle) <= 0):
        raise DataError("cycle numbers must be whole numbers >= 1, increasing", file=str(path), field="cycle")
    cycle = cycle.astype(int)

    def measured(x: float) -> Measured:
        return Measured(float(x), CSV_CAPACITY_UNCERTAINTY * float(x), "mAh/cm^2", "normal", bounds=F.AREAL_CAPACITY,
                        source=str(path))

    first_charge = first_discharge = None
    if cycle[0] == 1:
        first_charge, first_discharge = measured(charge[0]), measured(discharge[0])
    later = cycle >= 2
    mean_loss = None
    if later.any():
        losses = 1.0 - discharge[later] / charge[later]
        se = float(np.std(losses, ddof=1) / math.sqrt(losses.size)) if losses.size > 1 else 0.0
        se = max(se, MIN_LOSS_SE)
        mean_loss = MeanLoss(float(np.mean(losses)), se, (int(cycle[later][0]), int(cycle[later][-1])), where)
    # The fade: the first discharge after formation and the last one.
    after = cycle > max(formation_cycles, 1)
    points: tuple[tuple[int, Measured], ...] = ()
    if after.sum() >= 2:
        first, last = np.flatnonzero(after)[[0, -1]]
        points = ((int(cycle[first]), measured(discharge[first])), (int(cycle[last]), measured(discharge[last])))
    return str(path), first_charge, first_discharge, mean_loss, points


def _string(table: dict, key: str, where: str, label: str, required: bool = True) -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise CardError("missing required field", file=label, field=f"{where}.{key}")
        return ""
    if not isinstance(value, str) or not value.strip():
        raise CardError(f"expected a non-empty string, got {value!r}", file=label, field=f"{where}.{key}")
    return value.strip()


def _strings(table: dict, key: str, where: str, label: str, required: bool) -> tuple[str, ...]:
    value = table.get(key)
    if value is None:
        if required:
            raise CardError("missing: the seed paper's entries say what they rest on", file=label,
                            field=f"{where}.{key}")
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise CardError("expected a string or a list of strings", file=label, field=f"{where}.{key}")
    return tuple(v.strip() for v in items)
