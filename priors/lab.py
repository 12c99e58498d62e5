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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


from .card import CellCard, _drop_removed, _is_builtin, _merge, _read, _validate, builtin_cards
from .errors import CardError
from .outcome import (  # noqa: F401  (what an observed cell did, imported from here too)
    CSV_CAPACITY_UNCERTAINTY,
    CURRENT,
    MEASURES,
    MIN_LOSS_SE,
    Efficiency,
    MeanLoss,
    Outcome,
    Resistance,
    parse_outcome,
)
from .tomlfile import read_toml

PAPER_FILE = "risk-observations.toml"
_CELL_KEYS = ("base", "name", "source", "count", "citation", "assumption", "proposal", "cell", "anode",
              "separator", "cathode", "materials", "outcome")
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
    outcome = parse_outcome(outcome_raw, f"{where}.outcome", label, folder, digest)
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
