"""Text tables: CSV/TXT files and the table-like exports of Autolab (Nova ASCII), CH Instruments,
Parstat and PowerSuite.

The header is the first line that names a frequency, a Z' and a Z'' column (see
:mod:`._columns`); the text above it (an instrument's banner and settings, a spreadsheet's
title) is kept as notes, and read for ``temperature = 30 degC`` or ``cycle = 3`` lines.  Lines
starting with ``#`` are comments anywhere.  The delimiter is the header's: a tab, else ``;``,
else ``,``, else runs of spaces; with any delimiter but ``,`` a decimal comma is read as a
point.  A file without a header is read as impedance.py writes it: three columns, frequency in
Hz, Z' and Z'' in ohm.

The instrument exports read by these rules (learnt from their public example files):

* CH Instruments (``A.C. Impedance`` on the second line; ``Freq/Hz, Z'/ohm, Z"/ohm, ...``);
* Autolab Nova's ASCII export (``Frequency (Hz)``, ``Z' (Ω)``, ``-Z'' (Ω)``, ``;`` or tabs, decimal
  commas in many locales): recognised by its ``-Z'' (Ω)`` column, it starts a new spectrum where the
  sweep restarts, as EC-Lab files do;
* Parstat (``Frequency (Hz)``, ``Zre (ohms)``, ``Zim (ohms)`` among potential and current columns;
  the rows of the DC steps have f = 0 and are skipped);
* PowerSuite (``Frequency``, ``Zre``, ``Zimg``).

Otherwise a ``temperature`` or ``cycle`` column that takes several values splits the file into
one spectrum per distinct value (or pair of values), in order of first appearance.
"""

from __future__ import annotations

import csv

from ....priors.errors import DataError
from ..spectrum import Spectrum
from ._columns import REQUIRED, roles_named
from ._table import Table, all_numbers, points, read_table, settings, spectra, split_by_value, split_sweeps, trim

NO_TABLE = "no table found (no header with frequency, Z' and Z'' columns)"
_NOVA = ("-z''(ω)", "-z''(ohm)")  # header cells lower-cased without spaces ("Ω".lower() is "ω")


def read_table_text(text: str, label: str, *, tried: str = "") -> list[Spectrum]:
    """Every spectrum of a text table (see the module docstring).

    ``tried`` names the other layouts that were checked, for the message of a file that holds
    no table.
    """
    lines = text.splitlines()
    comments = tuple(line.lstrip().lstrip("#").strip() for line in lines if line.lstrip().startswith("#"))
    content = [(n, line) for n, line in enumerate(lines, start=1)
               if line.strip() and not line.lstrip().startswith("#")]
    if not content:
        raise DataError("empty: no header and no data rows", file=label)
    found = _find_header(content, label, tried)
    if found is None:  # no header: impedance.py's frequency, Z', Z''
        first_line, first = content[0]
        delimiter = _delimiter(first)
        cells = trim(_split(first, delimiter, label))
        if len(cells) != 3:
            raise DataError(f"line {first_line}: a file without a header must have 3 columns (frequency in Hz, "
                            f"Z' and Z'' in ohm, as impedance.py writes them), this one has {len(cells)}; "
                            "add a header like 'frequency [Hz],Z_real [ohm],Z_imag [ohm]'", file=label)
        index, header, where = -1, ["frequency", "Z_real", "Z_imag"], "no header"
    else:
        index, delimiter, header = found
        where = f"line {content[index][0]}"
    preamble = tuple(line.strip() for _, line in content[:max(index, 0)])
    notes = tuple(note for note in (*comments, *preamble) if note)
    known = settings(notes, label, ("temperature", "cycle"))
    rows = [(n, _split(line, delimiter, label)) for n, line in content[index + 1:]]
    table = Table(label, header, where, rows, decimal_comma=delimiter != ",")
    columns, numbers, raw = read_table(table)
    kept = points(label, "line", numbers, columns, raw)
    pieces = split_sweeps(kept) if _is_nova(header) else split_by_value(kept)
    cycle = int(known["cycle"]) if "cycle" in known else None
    return spectra(kept, pieces, temperature=known.get("temperature"), cycle=cycle, notes=notes)


def _find_header(content: list[tuple[int, str]], label: str, tried: str):
    """(index in content, delimiter, cells) of the header; None for a headerless numeric file."""
    partial = None
    for index, (_, line) in enumerate(content):
        delimiter = _delimiter(line)
        cells = trim(_split(line, delimiter, label))
        if index == 0 and all_numbers(cells, delimiter != ","):
            return None
        named = roles_named(cells) & set(REQUIRED)
        if len(named) == len(REQUIRED):
            return index, delimiter, cells
        if len(named) == 2 and partial is None:
            partial = index, delimiter, cells
    if partial is not None:  # a header that lacks one column: reading it names the missing one
        return partial
    raise DataError(NO_TABLE + (f"; tried the layouts of {tried}" if tried else ""), file=label)


def _delimiter(line: str) -> str | None:
    return "\t" if "\t" in line else ";" if ";" in line else "," if "," in line else None


def _split(line: str, delimiter: str | None, label: str) -> list[str]:
    if delimiter is None:
        return line.split()
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except csv.Error as err:
        raise DataError(f"cannot read the table: {err}", file=label) from None


def _is_nova(header: list[str]) -> bool:
    """Whether a header is Autolab Nova's (its exports append sweeps, as EC-Lab's do)."""
    return any(cell.strip().lower().replace(" ", "") in _NOVA for cell in header)
