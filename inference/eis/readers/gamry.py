"""Gamry Framework data files (``.DTA``) of the EIS experiments (EISPOT, EISGALV, ...).

A DTA file is tab-delimited: ``KEY<tab>TYPE<tab>value...`` lines, and tables that start with a
``NAME<tab>TABLE`` line, then a line of column names, a line of units, and rows that begin with
a tab.  The impedance is the ``ZCURVE`` table: ``Freq`` (Hz), ``Zreal`` and ``Zimag`` (ohm,
Zimag < 0 on a capacitive arc, as nassb counts it).  A table ends at the next line that does not
begin with a tab (``EXPERIMENTABORTED`` after an aborted run, or the next table).  Each ZCURVE
table is one spectrum.  Numbers may carry decimal commas.  The ``NOTES`` block and the
``TITLE``, ``DATE``, ``TIME`` and ``TAG`` lines are kept as notes; Gamry writes no temperature.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ....priors.errors import DataError
from ..spectrum import Spectrum
from ._table import Table, points, read_table, spectra, trim

_KEPT = ("TAG", "TITLE", "DATE", "TIME", "PSTAT", "AREA")


def read_gamry(text: str, label: str) -> list[Spectrum]:
    """Every ZCURVE table of a Gamry DTA file (see the module docstring)."""
    lines = text.splitlines()
    notes = tuple(_notes(lines))
    starts = [i for i, line in enumerate(lines) if _table_name(line).startswith("ZCURVE")]
    if not starts:
        raise DataError("no ZCURVE table: a Gamry impedance file (EISPOT, EISGALV) holds its spectrum in "
                        "a 'ZCURVE<tab>TABLE' block", file=label)
    out: list[Spectrum] = []
    for start in starts:
        if start + 2 >= len(lines):
            raise DataError(f"line {start + 1}: the ZCURVE table has no column names and units", file=label)
        names = lines[start + 1].split("\t")
        units = lines[start + 2].split("\t") + [""] * len(names)
        header = [f"{name.strip()} [{unit.strip()}]" if unit.strip() not in ("", "#") else name.strip()
                  for name, unit in zip(names, units)]
        rows = []
        for n in range(start + 3, len(lines)):
            if not lines[n].startswith("\t") or not lines[n].strip():
                break
            rows.append((n + 1, lines[n].split("\t")))
        table = Table(label, trim(header), f"lines {start + 2}-{start + 3}, the ZCURVE table", rows,
                      decimal_comma=True, roles=("frequency", "real", "imag"))
        columns, numbers, raw = read_table(table)
        kept = points(label, "line", numbers, columns, raw)
        out.extend(spectra(kept, [np.arange(kept.frequency.size)], notes=notes))
    if len(out) > 1:
        out = [replace(s, name=f"{label}#{k}") for k, s in enumerate(out, start=1)]
    return out


def _table_name(line: str) -> str:
    cells = line.split("\t")
    return cells[0].strip().upper() if len(cells) > 1 and cells[1].strip().upper() == "TABLE" else ""


def _notes(lines: list[str]):
    """The NOTES block and the identifying lines of the header, as 'KEY: value'."""
    for i, line in enumerate(lines):
        cells = line.split("\t")
        key = cells[0].strip().upper()
        if key in _KEPT and len(cells) > 2:
            yield f"{cells[0].strip()}: {cells[2].strip()}"
        elif key == "TAG" and len(cells) > 1:
            yield f"TAG: {cells[1].strip()}"
        elif key == "NOTES" and len(cells) > 2:
            try:
                count = int(cells[2].strip())
            except ValueError:
                continue
            for note in lines[i + 1:i + 1 + max(0, min(count, 1000))]:
                if note.strip():
                    yield note.strip()
