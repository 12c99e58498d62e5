"""Alternative readings of the seed paper (priors/data/risk-readings.toml).

A reading answers one question the paper leaves open (cell 1's pressure, the current of the
cells like cell 2, ...) otherwise than the observations file does, and states the sentence it
rests on.  An *observation* reading gives new values to sections of named entries of
priors/data/risk-observations.toml; :func:`reading_cells` returns those entries as the file has
them and as the reading has them.  A *direction* reading names an effect the data do not decide
(which way a quantity moves when a design variable grows) and a sign.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from .errors import CardError

READINGS_FILE = "risk-readings.toml"
_KEYS = ("question", "name", "entries", "rests_on", "set", "direction")
_DIRECTION_KEYS = ("quantity", "variable", "from", "to", "sign")
DIRECTION_QUANTITIES = ("R_cathode", "R_cell")


@dataclass(frozen=True)
class Reading:
    """One alternative reading: ``question`` it answers, its ``name``, the sentence it
    ``rests_on``; ``entries`` and ``values`` (entry name -> sections to set) for an observation
    reading, or ``direction`` (quantity, variable, from, to, sign) for a direction reading."""

    question: str
    name: str
    rests_on: str
    entries: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)
    direction: dict | None = None

    @property
    def kind(self) -> str:
        return "direction" if self.direction is not None else "observation"


def load_readings(text: str | None = None) -> tuple[Reading, ...]:
    """The readings of priors/data/risk-readings.toml (or of ``text``), checked against the
    observations file's entry names."""
    label = READINGS_FILE
    if text is None:
        text = (resources.files("nassb.priors") / "data" / READINGS_FILE).read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CardError(f"not valid TOML: {err}", file=label) from None
    names = {e["name"] for e in _paper_raw()["cells"]}
    out = []
    for i, entry in enumerate(raw.get("readings", [])):
        where = f"readings[{i}]"
        unknown = [k for k in entry if k not in _KEYS]
        if unknown:
            raise CardError(f"unknown key; expected one of {', '.join(_KEYS)}", file=label,
                            field=f"{where}.{unknown[0]}")
        for key in ("question", "name", "rests_on"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise CardError("missing, or not a text", file=label, field=f"{where}.{key}")
        direction = entry.get("direction")
        if direction is not None:
            _check_direction(direction, label, f"{where}.direction")
            out.append(Reading(entry["question"], entry["name"], entry["rests_on"], direction=dict(direction)))
            continue
        entries = entry.get("entries")
        values = entry.get("set")
        if not isinstance(entries, list) or not entries or not isinstance(values, dict):
            raise CardError("an observation reading needs entries = [...] and a [readings.set.ENTRY] table",
                            file=label, field=where)
        for name in entries:
            if name not in names:
                raise CardError(f"no entry {name!r} in {READINGS_FILE.replace('readings', 'observations')}",
                                file=label, field=f"{where}.entries")
            if not isinstance(values.get(name), dict):
                raise CardError(f"missing [readings.set.{name}]", file=label, field=f"{where}.set")
        out.append(Reading(entry["question"], entry["name"], entry["rests_on"], tuple(entries), dict(values)))
    seen = [r.name for r in out]
    for i, name in enumerate(seen):
        if name in seen[:i]:
            raise CardError(f"a second reading named {name!r}", file=label, field=f"readings[{i}].name")
    return tuple(out)


def _check_direction(direction, label: str, where: str) -> None:
    if not isinstance(direction, dict) or sorted(direction) != sorted(_DIRECTION_KEYS):
        raise CardError(f"expected {{{', '.join(_DIRECTION_KEYS)}}}", file=label, field=where)
    if direction["quantity"] not in DIRECTION_QUANTITIES:
        raise CardError(f"must be one of {', '.join(DIRECTION_QUANTITIES)}", file=label, field=f"{where}.quantity")
    if direction["sign"] not in (1, -1):
        raise CardError("must be 1 (grows) or -1 (falls)", file=label, field=f"{where}.sign")


def _paper_raw() -> dict:
    from .lab import PAPER_FILE

    return tomllib.loads((resources.files("nassb.priors") / "data" / PAPER_FILE).read_text("utf-8"))


def reading_cells(reading: Reading):
    """The entries an observation reading changes: (as the observations file has them, as the
    reading has them), each an :class:`~nassb.priors.lab.ObservedCells`."""
    from .card import _merge
    from .lab import PAPER_FILE, ObservedCells, _cell

    raw = {e["name"]: e for e in _paper_raw()["cells"]}
    base, changed = [], []
    for i, name in enumerate(reading.entries):
        entry = copy.deepcopy(raw[name])
        base.append(_cell(entry, f"cells[{i}]", PAPER_FILE, None, True, hashlib.sha256(), {}))
        alt = copy.deepcopy(entry)
        _merge(alt, copy.deepcopy(reading.values[name]))
        changed.append(_cell(alt, f"readings.{reading.name}.{name}", READINGS_FILE, None, True,
                             hashlib.sha256(), {}))
    return (ObservedCells(tuple(base), PAPER_FILE, "", ""),
            ObservedCells(tuple(changed), READINGS_FILE, "", ""))
