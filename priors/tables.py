"""Data files: CSV with units in the header, read into canonical units.

A header cell is a name and an optional unit in square brackets, parsed by pint:
``temperature [degC]``, ``conductivity [mS/cm]``, ``resistance [ohm*cm^2]``, ``thickness [um]``.
Lines starting with ``#`` are comments (synthetic files say so there); there are no comments
at the end of a data line.  Every mistake is a
:class:`~nassb.priors.errors.DataError` naming the file, the column (or row) and what is wrong.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import numpy as np

from .errors import CardError, DataError
from .reading import TABLE_BYTES, read_bounded
from .quantity import FieldSpec
from .units import UNIT_TEXT_ERRORS, conversion, normalise_unit, registry

_HEADER = re.compile(r"^\s*(?P<name>[^\[\]]*?)\s*(?:\[(?P<unit>[^\]]*)\])?\s*$")


@dataclass(frozen=True)
class Column:
    """One column of a data file: its name, the unit written in its header, and its values."""

    name: str
    unit: str
    values: np.ndarray


@dataclass(frozen=True)
class Table:
    """A data file's columns by name, with the file's path for messages."""

    path: str
    columns: dict[str, Column]
    comments: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())).values) if self.columns else 0

    @overload
    def find(self, *names: str, spec: FieldSpec | None = ..., required: Literal[True] = ...) -> Column: ...
    @overload
    def find(self, *names: str, spec: FieldSpec | None = ..., required: bool) -> Column | None: ...

    def find(self, *names: str, spec: FieldSpec | None = None, required: bool = True) -> Column | None:
        """The first column called one of ``names`` (any case); with ``spec``, converted to its unit."""
        for name in names:
            for key, column in self.columns.items():
                if key.lower() == name.lower():
                    return self.converted(column, spec) if spec is not None else column
        if required:
            raise DataError(f"missing column; expected one of {', '.join(repr(n) for n in names)}",
                            file=self.path, field=names[0])
        return None

    def converted(self, column: Column, spec: FieldSpec) -> Column:
        """The column in the canonical unit of ``spec``, checked against its bounds."""
        try:
            convert = conversion(column.unit or spec.unit, spec.unit)
        except CardError as err:
            raise DataError(err.message, file=self.path, field=column.name) from None
        raw = np.asarray(column.values, dtype=float)
        values = np.asarray(convert(raw), dtype=float) if raw.size else raw  # one conversion per column
        with np.errstate(invalid="ignore"):
            admitted = _admits(spec, values)
        if not admitted.all():
            row = int(np.argmin(admitted))
            raise DataError(f"data row {row + 1}: must {spec.describe_bounds()}, got "
                            f"{raw[row]:g} {column.unit or spec.unit}", file=self.path, field=column.name)
        return Column(column.name, spec.unit, values)


def _admits(spec: FieldSpec, x: np.ndarray) -> np.ndarray:
    """:meth:`FieldSpec.admits` of every element of ``x`` (and False where a conversion
    overflowed to a number that is not finite)."""
    above = x > spec.low if spec.low_open else x >= spec.low
    below = x < spec.high if spec.high_open else x <= spec.high
    return above & below & np.isfinite(x)


def read_table(path: str | Path, *, label: str | None = None, text_columns: tuple[str, ...] = ()) -> Table:
    """Read a CSV data file: numbers, except in ``text_columns``; lines starting with ``#`` are
    comments.

    Parameters
    ----------
    path : str or Path
    label : str, optional
        How to name the file in messages (default: the path as given).
    text_columns : tuple of str
        Columns kept as text (specimen ids), compared by name, any case.
    """
    label = label or str(path)
    try:
        raw = read_bounded(path, TABLE_BYTES, what="a data table", label=label, error=DataError)
        text = raw.decode("utf-8-sig")  # spreadsheets write a byte-order mark
    except FileNotFoundError:
        raise DataError("no such data file", file=label) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a data file", file=label) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the data file: {err}", file=label) from None
    lines = text.splitlines()
    comments = tuple(line.lstrip("#").strip() for line in lines if line.lstrip().startswith("#"))
    numbers = [number for number, line in enumerate(lines, start=1)
               if line.strip() and not line.lstrip().startswith("#")]
    if not numbers:
        raise DataError("no header and no data", file=label)
    # One reader over every data line (quoted fields stay within their line, as before).
    try:
        header, *body = csv.reader(lines[number - 1] for number in numbers)
    except csv.Error as err:
        raise DataError(f"not a CSV table: {err}", file=label) from None
    if len(body) != len(numbers) - 1:  # a quote left open takes the lines after it into one cell
        line = next((n for n in numbers if lines[n - 1].count('"') % 2), numbers[0])
        raise DataError(f"line {line}: a quote (\") that is not closed on its line", file=label)
    numbers = numbers[1:]
    if not body:
        raise DataError("no data rows under the header", file=label)
    names, units = [], []
    for cell in header:
        match = _HEADER.match(cell)
        if not match or not match["name"]:
            raise DataError(f"cannot read the header cell {cell!r}; write it as 'name [unit]'", file=label)
        names.append(match["name"])
        units.append((match["unit"] or "").strip())
        if units[-1]:
            try:
                registry().parse_units(normalise_unit(units[-1]))
            except UNIT_TEXT_ERRORS:
                raise DataError(f"unknown unit {units[-1]!r}", file=label, field=match["name"]) from None
    if len({n.lower() for n in names}) != len(names):
        raise DataError("two columns have the same name", file=label)
    for number, row in zip(numbers, body, strict=True):
        if len(row) != len(names):
            raise DataError(f"line {number}: {len(row)} values for {len(names)} columns", file=label)
    text_names = {t.lower() for t in text_columns}
    columns = {}
    for i, (name, unit) in enumerate(zip(names, units, strict=True)):
        cells = [row[i] for row in body]
        if name.lower() in text_names:
            values = np.array([cell.strip() for cell in cells], dtype=object)
        else:
            values = _numbers(cells, numbers, label, name)
        columns[name] = Column(name, unit, values)
    return Table(label, columns, comments)


def _numbers(cells: list[str], numbers: list[int], label: str, name: str) -> np.ndarray:
    """A column of numbers, parsed at once (as Python's float parses them); a cell that is not a
    number or not finite is named by its line."""
    try:
        values = np.array(cells, dtype=float)
    except ValueError:
        values = None
    if values is not None and np.isfinite(values).all():
        return values
    for number, cell in zip(numbers, cells, strict=True):
        try:
            value = float(cell)
        except ValueError:
            raise DataError(f"line {number}: expected a number, got {cell.strip()!r}", file=label, field=name) from None
        if not math.isfinite(value):
            raise DataError(f"line {number}: {cell.strip()} is not a finite number", file=label, field=name)
    raise AssertionError("unreachable: a column numpy refused was read cell by cell")  # pragma: no cover
