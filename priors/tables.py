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

import numpy as np

from .errors import CardError, DataError
from .quantity import FieldSpec
from .units import conversion, registry, normalise_unit

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
        values = np.array([convert(float(v)) for v in column.values]) if column.values.size else column.values
        for row, value in enumerate(values, start=1):
            if not spec.admits(value):
                raise DataError(f"data row {row}: must {spec.describe_bounds()}, got "
                                f"{column.values[row - 1]:g} {column.unit or spec.unit}", file=self.path, field=column.name)
        return Column(column.name, spec.unit, values)


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
        text = Path(path).read_text("utf-8-sig")  # spreadsheets write a byte-order mark
    except FileNotFoundError:
        raise DataError("no such data file", file=label) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a data file", file=label) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read the data file: {err}", file=label) from None
    lines = text.splitlines()
    comments = tuple(line.lstrip("#").strip() for line in lines if line.lstrip().startswith("#"))
    rows = [(number, next(csv.reader([line]))) for number, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise DataError("no header and no data", file=label)
    (_, header), body = rows[0], rows[1:]
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
            except Exception:
                raise DataError(f"unknown unit {units[-1]!r}", file=label, field=match["name"]) from None
    if len(set(n.lower() for n in names)) != len(names):
        raise DataError("two columns have the same name", file=label)
    values = [[] for _ in names]
    is_text = [name.lower() in {t.lower() for t in text_columns} for name in names]
    for number, row in body:
        if len(row) != len(names):
            raise DataError(f"line {number}: {len(row)} values for {len(names)} columns", file=label)
        for i, cell in enumerate(row):
            if is_text[i]:
                values[i].append(cell.strip())
                continue
            try:
                value = float(cell)
            except ValueError:
                raise DataError(f"line {number}: expected a number, got {cell.strip()!r}",
                                file=label, field=names[i]) from None
            if not math.isfinite(value):
                raise DataError(f"line {number}: {cell.strip()} is not a finite number", file=label,
                                field=names[i])
            values[i].append(value)
    columns = {name: Column(name, unit, np.array(v, dtype=object if text else float))
               for name, unit, v, text in zip(names, units, values, is_text)}
    return Table(label, columns, comments)
