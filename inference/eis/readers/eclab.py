"""BioLogic EC-Lab: the ASCII export (``.mpt``, or ``.txt`` with its banner) and the binary
``.mpr`` (through galvani).

The ASCII export starts ``EC-Lab ASCII FILE`` and ``Nb header lines : N``; line N names the
columns (``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm``, ``cycle number``, ...; tabs, a tab at the end
of every line), in latin-1, with decimal commas in many locales.  EC-Lab 11.61 leaves the last,
unused columns out of every row; such rows are read.  An export without the header block starts
with the column names.

A new spectrum starts where ``cycle number`` or ``z cycle`` changes, and where the frequency
sweep restarts.  Rows with f = 0 (the rows of other techniques in a modular file) are skipped and
recorded.  The temperature comes from a ``Temperature/°C`` column (median over the spectrum) or
else from a header line ``Temperature : 30 °C`` (also ``Temperature = 30 degC``); otherwise it is
None.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ....priors.errors import DataError, OptionError
from ..spectrum import Spectrum
from ._columns import recognise_all
from ._table import Table, points, read_table, settings, spectra, split_sweeps, trim

BANNER = "EC-Lab ASCII FILE"
_NB_HEADER = re.compile(r"^\s*Nb\s+header\s+lines\s*:\s*(\S+)\s*$", re.IGNORECASE)


def read_eclab_text(text: str, label: str) -> list[Spectrum]:
    """Every spectrum of an EC-Lab ASCII export (see the module docstring)."""
    lines = text.splitlines()
    if not lines or not any(line.strip() for line in lines):
        raise DataError("empty: no header and no data rows", file=label)
    if lines[0].strip().startswith(BANNER):
        count = _NB_HEADER.match(lines[1]) if len(lines) > 1 else None
        if count is None:
            raise DataError(f"line 2 should be 'Nb header lines : N' after '{BANNER}'", file=label,
                            field="Nb header lines")
        try:
            n_header = int(count[1])
        except ValueError:
            raise DataError(f"line 2: expected a whole number of header lines, got {count[1]!r}", file=label,
                            field="Nb header lines") from None
        if not 3 <= n_header <= len(lines):
            raise DataError(f"line 2 says {n_header} header lines but the file has {len(lines)} lines",
                            file=label, field="Nb header lines")
        header_line = n_header
    else:  # exported without the header block: the first line names the columns
        header_line = 1
    notes = tuple(line.strip() for line in lines[2:header_line - 1] if line.strip())
    known = settings(notes, label, ("temperature",))
    header = trim(lines[header_line - 1].split("\t"))
    rows = [(n, line.split("\t")) for n, line in enumerate(lines[header_line:], start=header_line + 1)
            if line.strip()]
    where = f"line {header_line}" + (", per 'Nb header lines'" if header_line > 1 else "")
    if not rows:
        raise DataError(f"no data rows under the column names (line {header_line})", file=label)
    table = Table(label, header, where, rows, decimal_comma=True)
    columns, numbers, raw = read_table(table)
    kept = points(label, "line", numbers, columns, raw)
    return spectra(kept, split_sweeps(kept), temperature=known.get("temperature"), notes=notes)


# What galvani's MPRfile raises for a file it cannot parse (read from its BioLogic.py): bad magic,
# versions and unpacking (ValueError), a truncated file (OSError), unknown column IDs
# (NotImplementedError), its asserts, and the lookups and arithmetic on a corrupt header.
MPR_READ_ERRORS: tuple[type[Exception], ...] = (
    ValueError, OSError, NotImplementedError, AssertionError, KeyError, IndexError, TypeError, ArithmeticError,
)


def read_mpr(path: Path, label: str) -> list[Spectrum]:
    """EC-Lab's binary ``.mpr`` through galvani (GPL-3, optional: ``pip install 'nassb[mpr]'``)."""
    if not path.exists():
        raise DataError("no such data file", file=label)
    if path.is_dir():
        raise DataError("is a directory, not a data file", file=label)
    try:
        from galvani import BioLogic
    except ImportError:
        raise OptionError(".mpr files need galvani (GPL): pip install 'nassb[mpr]'", file=label) from None
    try:
        data = BioLogic.MPRfile(str(path)).data
    except MPR_READ_ERRORS as err:
        raise DataError(f"cannot read the EC-Lab .mpr file: {err}", file=label) from None
    names = list(getattr(getattr(data, "dtype", None), "names", None) or ())
    columns = recognise_all(names, label, "the .mpr columns")
    n = len(data)
    if n == 0:
        raise DataError("no data rows", file=label)
    raw = {}
    for role, column in columns.items():
        try:
            values = np.asarray(data[column.header], dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise DataError("expected numbers", file=label, field=column.header) from None
        for row in np.flatnonzero(~np.isfinite(values))[:1]:
            raise DataError(f"row {row + 1}: {values[row]} is not a finite number", file=label, field=column.header)
        raw[role] = values
    kept = points(label, "row", np.arange(1, n + 1), columns, raw)
    return spectra(kept, split_sweeps(kept))
