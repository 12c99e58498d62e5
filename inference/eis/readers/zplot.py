"""Scribner ZPlot/ZView ``.z`` files, and the Z60W/ZPlotW data files of the same family (the
"Autolab" example that ships with impedance.py is one).

Two layouts:

* ``ZPLOT2 ASCII``: a block of ``Key: value`` settings, the column names
  ``Freq(Hz)<tab>Ampl<tab>Bias<tab>Time(Sec)<tab>Z'(a)<tab>Z''(b)<tab>GD<tab>Err<tab>Range``, a line
  ``End Comments``, then tab-delimited rows;
* ``"ZPlotW Data File: ..."`` / ``"Z60W Data File: ..."``: quoted text lines, a line of numbers
  (the null configuration), the number of points, the quoted column names separated by
  spaces, then comma-delimited rows.

Z'(a) and Z''(b) are in ohm, Z'' < 0 on a capacitive arc; the frequency is in Hz.  One file is
one spectrum.  The text above the column names is kept as notes.
"""

from __future__ import annotations

import re

from ....priors.errors import DataError
from ..spectrum import Spectrum
from ._columns import REQUIRED, roles_named
from ._table import Table, points, read_table, spectra, split_by_value, trim

BANNERS = ("ZPLOT2 ASCII", "ZPlotW Data File", "Z60W Data File")
_ROLES = ("frequency", "real", "imag")


def is_zplot(first_line: str) -> bool:
    text = first_line.strip().strip('"').strip().lower()
    return any(text.startswith(banner.lower()) for banner in BANNERS)


def read_zplot(text: str, label: str) -> list[Spectrum]:
    """The spectrum of a ZPlot/ZView file (see the module docstring)."""
    lines = text.splitlines()
    header_index, header = None, []
    for i, line in enumerate(lines):
        cells = _names(line)
        if set(REQUIRED) <= roles_named(cells):
            header_index, header = i, cells
            break
    if header_index is None:
        raise DataError("no column names: a ZPlot/ZView file names its columns 'Freq(Hz)', \"Z'(a)\" and "
                        "\"Z''(b)\" above its data", file=label)
    first = header_index + 1
    for i in range(header_index + 1, min(header_index + 3, len(lines))):
        if lines[i].strip().lower() == "end comments":
            first = i + 1
    rows = [(n, re.split(r"[\t,]", line)) for n, line in enumerate(lines[first:], start=first + 1)
            if line.strip()]
    notes = tuple(line.strip().strip('"').strip() for line in lines[:header_index] if line.strip().strip('"'))
    table = Table(label, trim(header), f"line {header_index + 1}", rows, decimal_comma=False, roles=_ROLES)
    columns, numbers, raw = read_table(table)
    kept = points(label, "line", numbers, columns, raw)
    return spectra(kept, split_by_value(kept), notes=notes)


def _names(line: str) -> list[str]:
    """Column names: tab-delimited, or one quoted cell of names separated by two or more spaces."""
    text = line.strip()
    if "\t" in text:
        return [cell.strip().strip('"') for cell in text.split("\t")]
    return [cell for cell in re.split(r"\s{2,}", text.strip('"').strip()) if cell]
