"""Ametek VersaStudio ``.par`` files.

A PAR file is a sequence of ``<Section>`` ... ``</Section>`` blocks of ``Key=value`` lines.  The
data are in ``<SegmentN>`` blocks: a ``Definition=`` line names the comma-separated columns
(``Segment #, Point #, E(V), I(A), ..., Frequency(Hz), ..., Z Real, Z Imag, ...``) and the rows
follow.  Z Imag < 0 on a capacitive arc; the impedance is in ohm (VersaStudio does not normalise
it by the ``Working Electrode Area``).  Each segment that holds impedance columns is one
spectrum (segments of other techniques are passed over); rows with f = 0 are skipped.  The
``Comment=`` and ``Name=`` lines are kept as notes.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ....priors.errors import DataError
from ..spectrum import Spectrum
from ._columns import REQUIRED, roles_named
from ._table import Table, points, read_table, spectra, trim

_OPEN = re.compile(r"^\s*<Segment(\d+)>\s*$", re.IGNORECASE)
_CLOSE = re.compile(r"^\s*</Segment(\d+)>\s*$", re.IGNORECASE)


def is_versastudio(text: str) -> bool:
    return bool(re.search(r"^\s*<Segment\d+>\s*$", text, re.MULTILINE | re.IGNORECASE)) and "Definition=" in text


def read_versastudio(text: str, label: str) -> list[Spectrum]:
    """Every impedance segment of a VersaStudio PAR file (see the module docstring)."""
    lines = text.splitlines()
    notes = tuple(line.strip() for line in lines if line.strip().startswith(("Comment=", "Name=")))
    out: list[Spectrum] = []
    segments = 0
    i = 0
    while i < len(lines):
        opened = _OPEN.match(lines[i])
        if not opened:
            i += 1
            continue
        segments += 1
        number = opened[1]
        header, header_line, rows = None, 0, []
        i += 1
        while i < len(lines) and not _CLOSE.match(lines[i]):
            line = lines[i]
            if line.startswith("Definition="):
                header, header_line = [cell.strip() for cell in line[len("Definition="):].split(",")], i + 1
            elif header is not None and line.strip() and re.match(r"^\s*[-+.\d]", line):
                rows.append((i + 1, line.split(",")))
            i += 1
        if header is None or not set(REQUIRED) <= roles_named(header):
            continue  # a segment of another technique
        table = Table(label, trim(header), f"line {header_line}, Segment{number}'s Definition", rows,
                      decimal_comma=False, roles=("frequency", "real", "imag"))
        columns, numbers, raw = read_table(table)
        kept = points(label, "line", numbers, columns, raw)
        out.extend(spectra(kept, [np.arange(kept.frequency.size)], notes=notes))
    if not out:
        raise DataError(f"no impedance segment among {segments} <Segment> block{'s' * (segments != 1)}: none has "
                        "a 'Definition=' line with Frequency(Hz), Z Real and Z Imag", file=label)
    if len(out) > 1:
        out = [replace(s, name=f"{label}#{k}") for k, s in enumerate(out, start=1)]
    return out
