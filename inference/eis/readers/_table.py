"""From the rows of a table to checked spectra, shared by every reader.

A reader finds the header cells and the data rows (line number, cells) of its format; this
module turns them into numbers, checks them, converts units, drops the rows that hold no
impedance (f = 0, recorded in :attr:`Spectrum.skipped`), splits the file into spectra and checks
each spectrum.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ....priors.errors import DataError
from ....priors.units import registry
from ..spectrum import Spectrum
from ._columns import ALL_ROLES, Column, factor, impedance_unit, parse_unit, recognise_all

MIN_POINTS = 5  # the fewest points lin-KK and a two-arc circuit fit can do anything with
F_ZERO = "f = 0"  # the reason recorded for a skipped row without a frequency

_NUMBER = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"
_SETTING = re.compile(r"^\s*(?P<key>temperature|temp|cycle)\s*(?:\((?P<unit1>[^)]*)\))?\s*[:=]\s*"
                      rf"(?P<value>{_NUMBER})\s*(?P<unit2>.*?)\s*$", re.IGNORECASE)


@dataclass
class Table:
    """A table as a reader found it: header cells, data rows and how numbers are written."""

    label: str
    header: list[str]
    where: str                          # where the header is, for messages: "line 12"
    rows: list[tuple[int, list[str]]]   # (line or row number, cells)
    decimal_comma: bool
    place: str = "line"                 # "line" for text files, "row" for binary ones
    roles: tuple[str, ...] = ALL_ROLES  # the columns this format may hold


@dataclass
class Points:
    """The kept rows of a file, in file order, in canonical units."""

    label: str
    place: str
    lines: np.ndarray
    frequency: np.ndarray
    z: np.ndarray
    unit: str
    skipped: list[tuple[int, str]]
    temperature: np.ndarray | None = None
    cycle: np.ndarray | None = None
    zcycle: np.ndarray | None = None


def trim(cells: list[str]) -> list[str]:
    """Cells without the empty ones at the end (EC-Lab ends every line with a tab)."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def number(cell: str, decimal_comma: bool) -> float:
    text = cell.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    return float(text)


def all_numbers(cells: list[str], decimal_comma: bool) -> bool:
    try:
        for cell in cells:
            number(cell, decimal_comma)
    except ValueError:
        return False
    return bool(cells)


def read_table(table: Table) -> tuple[dict[str, Column], np.ndarray, dict[str, np.ndarray]]:
    """The recognised columns, the rows' line numbers and the columns' raw numbers."""
    label = table.label
    if not table.rows:
        raise DataError(f"no data rows under the header ({table.where})", file=label)
    columns = recognise_all(table.header, label, table.where, table.roles)
    _check_widths(table, columns)
    raw = {role: _column_numbers(table, column) for role, column in columns.items()}
    return columns, np.array([n for n, _ in table.rows]), raw


def _check_widths(table: Table, columns: dict[str, Column]) -> None:
    """Rows may be shorter than the header where the missing columns are unused (EC-Lab 11.61
    leaves out its last, unused columns); only empty cells may stick out beyond it."""
    width = len(table.header)
    needed = max(column.index for column in columns.values()) + 1
    for line, cells in table.rows:
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            raise DataError(f"{table.place} {line}: {len(trim(cells))} values for {width} columns",
                            file=table.label)
        if len(cells) < needed:
            missing = min((c for c in columns.values() if c.index >= len(cells)), key=lambda c: c.index)
            raise DataError(f"{table.place} {line}: {len(trim(cells))} values for {width} columns, so no "
                            f"value for {missing.header!r} (column {missing.index + 1})", file=table.label,
                            field=missing.header)


def _column_numbers(table: Table, column: Column) -> np.ndarray:
    """One column of the data rows as floats (finite, else a DataError naming the line)."""
    cells = [cells[column.index] for _, cells in table.rows]
    try:
        if table.decimal_comma:
            values = np.array([float(cell.replace(",", ".")) for cell in cells])
        else:
            values = np.array([float(cell) for cell in cells])
    except ValueError:
        for (line, _), cell in zip(table.rows, cells):
            try:
                number(cell, table.decimal_comma)
            except ValueError:
                got = f"{cell.strip()!r}" if cell.strip() else "an empty cell"
                raise DataError(f"{table.place} {line}: expected a number, got {got}", file=table.label,
                                field=column.header) from None
        raise  # unreachable: the fast pass and the slow pass read the same cells
    for row in np.flatnonzero(~np.isfinite(values))[:1]:
        raise DataError(f"{table.place} {table.rows[row][0]}: {cells[row].strip()} is not a finite number",
                        file=table.label, field=column.header)
    return values.astype(float, copy=False)


def points(label: str, place: str, lines: np.ndarray, columns: dict[str, Column],
           raw: dict[str, np.ndarray]) -> Points:
    """Drop the rows with f = 0 (recorded), check the rest and convert them to canonical units."""
    zero = raw["frequency"] == 0
    skipped = [(int(line), F_ZERO) for line in lines[zero]]
    if zero.all():
        raise DataError(f"no impedance rows: every one of the {zero.size} data rows has f = 0", file=label,
                        field=columns["frequency"].header)
    if zero.any():
        keep = ~zero
        lines = lines[keep]
        raw = {role: values[keep] for role, values in raw.items()}
    f_col, re_col, im_col = columns["frequency"], columns["real"], columns["imag"]
    frequency = raw["frequency"]
    for row in np.flatnonzero(frequency < 0)[:1]:
        unit = f" {f_col.unit}" if f_col.unit else " Hz"
        raise DataError(f"{place} {lines[row]}: frequency must be > 0, got {frequency[row]:g}{unit}",
                        file=label, field=f_col.header)
    unit = impedance_unit(re_col, label)
    if impedance_unit(im_col, label) != unit:
        raise DataError(f"Z' is in {re_col.unit or 'ohm'} but Z'' in {im_col.unit or 'ohm'}; both impedance "
                        "columns must be in ohm, or both area-normalised in ohm*cm^2", file=label,
                        field=im_col.header)
    converted = {}
    for column, canonical, what in ((f_col, "Hz", "a frequency (Hz, kHz, MHz, 1/s)"),
                                    (re_col, unit, "an impedance"), (im_col, unit, "an impedance")):
        with np.errstate(over="ignore"):
            values = raw[column.role] * factor(column, canonical, label, what)
        for row in np.flatnonzero(~np.isfinite(values))[:1]:
            raise DataError(f"{place} {lines[row]}: {raw[column.role][row]:g} is too large in {canonical}",
                            file=label, field=column.header)
        converted[column.role] = -values if column.negated else values
    out = Points(label, place, lines, converted["frequency"], converted["real"] + 1j * converted["imag"], unit,
                 skipped)
    if "temperature" in columns:
        out.temperature = _kelvin(columns["temperature"], raw["temperature"], label)
    for role in ("cycle", "zcycle"):
        if role in columns:
            values = raw[role]
            for row in np.flatnonzero((values != np.round(values)) | (np.abs(values) > 1e15))[:1]:
                raise DataError(f"{place} {lines[row]}: a cycle is a whole number, got {values[row]:g}",
                                file=label, field=columns[role].header)
            setattr(out, role, values.astype(np.int64))
    return out


def _kelvin(column: Column, values: np.ndarray, label: str) -> np.ndarray:
    """Temperatures in K from a column with a pint temperature unit."""
    parsed = parse_unit(column.unit) if column.unit else None
    ureg = registry()
    if parsed is None or parsed.dimensionality != ureg.parse_units("K").dimensionality:
        raise DataError(f"a temperature column needs a temperature unit, e.g. 'temperature [degC]'; got "
                        f"{column.unit or 'none'!r}", file=label, field=column.header)
    kelvin = np.asarray(ureg.Quantity(values, parsed).to("K").magnitude, dtype=float)
    if np.any(kelvin <= 0):
        raise DataError("temperature must be above absolute zero", file=label, field=column.header)
    return kelvin


def spectra(points: Points, pieces: list[np.ndarray], *, temperature: float | None = None,
            cycle: int | None = None, notes: tuple[str, ...] = ()) -> list[Spectrum]:
    """Check each piece of a file and make it a Spectrum; a skipped row goes to the spectrum of
    the next kept row (or of the last one, after the end)."""
    label, place = points.label, points.place
    piece_of = np.empty(points.lines.size, dtype=np.int64)
    for k, rows in enumerate(pieces):
        piece_of[rows] = k
    skipped: list[list[tuple[int, str]]] = [[] for _ in pieces]
    if points.skipped:
        after = np.searchsorted(points.lines, [line for line, _ in points.skipped])
        for (line, reason), index in zip(points.skipped, after):
            skipped[piece_of[min(int(index), points.lines.size - 1)]].append((line, reason))
    out = []
    for k, rows in enumerate(pieces, start=1):
        name = f"{label}#{k}" if len(pieces) > 1 else label
        lines = points.lines[rows]
        which = f"spectrum {k} of {len(pieces)} ({place}s {lines[0]}-{lines[-1]}): " if len(pieces) > 1 else ""
        frequency = points.frequency[rows]
        if rows.size < MIN_POINTS:
            dropped = len(skipped[k - 1])
            also = f" ({dropped} row{'s' * (dropped != 1)} with f = 0 skipped)" if dropped else ""
            raise DataError(f"{which}only {rows.size} data point{'s' * (rows.size != 1)}{also}; a spectrum needs "
                            f"at least {MIN_POINTS}", file=label)
        order = np.argsort(frequency, kind="stable")
        same = np.flatnonzero(np.diff(frequency[order]) == 0)
        if same.size:
            first, second = sorted((order[same[0]], order[same[0] + 1]))
            raise DataError(f"{which}{frequency[first]:.10g} Hz appears twice, on {place}s {lines[first]} and "
                            f"{lines[second]}; a spectrum needs distinct frequencies", file=label,
                            field="frequency")
        out.append(Spectrum(
            frequency=frequency.astype(float),
            z=points.z[rows].astype(complex),
            source=label,
            name=name,
            unit=points.unit,
            temperature=(float(np.median(points.temperature[rows])) if points.temperature is not None
                         else temperature),
            cycle=_piece_cycle(points, rows, cycle),
            notes=notes,
            skipped=tuple(sorted(skipped[k - 1])),
        ))
    return out


def _piece_cycle(points: Points, rows: np.ndarray, default: int | None) -> int | None:
    for values in (points.cycle, points.zcycle):
        if values is not None:
            return int(values[rows[0]])
    return default


def split_by_value(points: Points) -> list[np.ndarray]:
    """Tables: one piece per distinct (temperature, cycle), in order of first appearance."""
    keys = [values for values in (points.temperature, points.cycle) if values is not None]
    if not keys:
        return [np.arange(points.frequency.size)]
    stacked = np.column_stack(keys)
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    return [np.flatnonzero(inverse == group) for group in np.argsort(first)]


def split_sweeps(points: Points) -> list[np.ndarray]:
    """Instrument logs: a piece ends where a cycle column changes or the frequency sweep restarts
    (the frequency steps against the direction the sweep started in)."""
    n = points.frequency.size
    cut = np.zeros(n, dtype=bool)
    for values in (points.cycle, points.zcycle):
        if values is not None:
            cut[1:] |= values[1:] != values[:-1]
    pieces, start = [], 0
    for stop in [*np.flatnonzero(cut), n]:
        if stop > start:
            pieces.extend(_restarts(points.frequency, start, stop))
        start = stop
    return pieces


def _restarts(frequency: np.ndarray, start: int, stop: int) -> list[np.ndarray]:
    """Split rows start..stop-1 where the frequency steps against the sweep's first direction."""
    step = np.sign(np.diff(frequency[start:stop]))
    pieces, begin, direction = [], start, 0.0
    for i, s in enumerate(step.tolist(), start=start + 1):
        if direction == 0.0:
            direction = s
        elif s == -direction:
            pieces.append(np.arange(begin, i))
            begin, direction = i, 0.0
    pieces.append(np.arange(begin, stop))
    return pieces


def settings(lines: list[str] | tuple[str, ...], label: str, keys: tuple[str, ...]) -> dict[str, float | int]:
    """``temperature`` (K) and ``cycle`` from lines like ``temperature = 30 degC``, ``cycle = 10``
    or EC-Lab's ``Temperature : 30 °C``."""
    found: dict[str, float | int] = {}
    for text in lines:
        match = _SETTING.match(text)
        if not match:
            continue
        key = "cycle" if match["key"].lower() == "cycle" else "temperature"
        if key not in keys:
            continue
        value = float(match["value"].replace(",", "."))
        unit = (match["unit1"] or match["unit2"] or "").strip()
        if key == "cycle":
            if unit or value != round(value):
                raise DataError(f"a cycle is a whole number, got {text.strip()!r}", file=label, field="cycle")
            result: float | int = int(value)
        else:
            parsed = parse_unit(unit) if unit else None
            ureg = registry()
            if parsed is None or parsed.dimensionality != ureg.parse_units("K").dimensionality:
                raise DataError(f"the temperature needs a temperature unit, as in 'temperature = 30 degC'; got "
                                f"{text.strip()!r}", file=label, field="temperature")
            result = float(ureg.Quantity(value, parsed).to("K").magnitude)
            if not (result > 0 and math.isfinite(result)):
                raise DataError(f"temperature must be above absolute zero, got {text.strip()!r}", file=label,
                                field="temperature")
        if key in found and found[key] != result:
            raise DataError(f"two different {key}s are given ({found[key]} and {result})", file=label, field=key)
        found[key] = result
    return found
