"""Read impedance spectra from CSV/TXT, EC-Lab ASCII (``.mpt``) and EC-Lab binary (``.mpr``) files.

Every reader returns a list of :class:`~nassb.inference.eis.spectrum.Spectrum`: frequencies in Hz,
Z = Z' + j Z'' with Z'' < 0 on a capacitive arc, in ohm or, for an area-normalised file, in
ohm*cm^2.  Every mistake in a file is one :class:`~nassb.priors.errors.DataError` naming the file,
the column (or line) and what is wrong; a missing optional package is an
:class:`~nassb.priors.errors.OptionError`.

Columns are found by name, in any case, with spaces and underscores ignored:

=============  =====================================================================
frequency      ``f``, ``freq``, ``frequency``
Z'             ``Z_real``, ``Zreal``, ``Re(Z)``, ``Z'``, ``Zre``, ``real``
Z''            ``Z_imag``, ``Zimag``, ``Im(Z)``, ``Z''``, ``Z"``, ``Zim``, ``imag``
temperature    ``temperature``, ``temp`` (needs a unit)
cycle          ``cycle``, ``cycle number``; EC-Lab's ``z cycle``
=============  =====================================================================

A unit follows the name in brackets (``frequency [kHz]``), after a slash as EC-Lab writes it
(``Re(Z)/Ohm``), in parentheses after a space (``Z' (ohm)``) or as an underscore suffix
(``f_Hz``, ``Z_real_ohm``, ``Z_real_ohm_cm2``); without one, frequency is in Hz and impedance
in ohm.  A leading minus (``-Im(Z)``, ``-Z''``, ``-Z_imag``, ``minus_z_imag``) means the column
holds -Z'', and it is negated on reading.  Other columns (``|Z|``, phase, time, ...) are ignored.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nassb.priors.errors import DataError, OptionError
from nassb.priors.units import normalise_unit, registry

from .spectrum import Spectrum

SUPPORTED_SUFFIXES = (".csv", ".txt", ".mpt", ".mpr")
MIN_POINTS = 5  # the fewest points lin-KK and a two-arc circuit fit can do anything with

_ALIASES = {
    "frequency": ("f", "freq", "frequency"),
    "real": ("zreal", "re(z)", "z'", "z′", "zre", "real", "real(z)"),
    "imag": ("zimag", "im(z)", "z''", 'z"', "z″", "z′′", "zim", "imag", "imag(z)"),
    "temperature": ("temperature", "temp"),
    "cycle": ("cycle", "cyclenumber"),
    "zcycle": ("zcycle",),
}
_ROLE_OF = {alias: role for role, aliases in _ALIASES.items() for alias in aliases}
_FIELD = {"frequency": "frequency", "real": "Z_real", "imag": "Z_imag", "temperature": "temperature",
          "cycle": "cycle", "zcycle": "z cycle"}

_BRACKET = re.compile(r"^\s*(?P<name>[^\[\]]*?)\s*\[(?P<unit>[^\]]*)\]\s*$")
_PAREN = re.compile(r"^\s*(?P<name>.*\S)\s+\((?P<unit>[^()]*)\)\s*$")
_NUMBER = r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?"
_SETTING = re.compile(r"^\s*(?P<key>temperature|temp|cycle)\s*(?:\((?P<unit1>[^)]*)\))?\s*[:=]\s*"
                      rf"(?P<value>{_NUMBER})\s*(?P<unit2>.*?)\s*$", re.IGNORECASE)
_NB_HEADER = re.compile(r"^\s*Nb\s+header\s+lines\s*:\s*(\S+)\s*$", re.IGNORECASE)
_ECLAB_BANNER = "EC-Lab ASCII FILE"


def read_spectra(path: str | Path, *, label: str | None = None) -> list[Spectrum]:
    """Read every impedance spectrum in a data file.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.txt`` table, an EC-Lab ASCII export ``.mpt`` or an EC-Lab binary ``.mpr``
        (suffix in any case).  See the module docstring for the column names understood.
    label : str, optional
        How to name the file in messages and in :attr:`Spectrum.name` (default: the path as
        given).

    Returns
    -------
    list of Spectrum
        One spectrum, or several named ``file#k`` (k = 1, 2, ... in file order) when the file
        holds several:

        * CSV/TXT: a ``temperature`` or ``cycle`` column that takes several values splits the
          file into one spectrum per distinct value (or pair of values), in order of first
          appearance.  Comment lines ``# temperature = 30 degC`` (any pint temperature unit)
          and ``# cycle = 10`` set the temperature (in K) and cycle of a file without such
          columns.  A file without a header is read as impedance.py writes it: three columns,
          frequency in Hz, Z' and Z'' in ohm.
        * EC-Lab (``.mpt``, ``.mpr``): a new spectrum starts where ``cycle number`` or
          ``z cycle`` changes, and where the frequency sweep restarts (the frequency steps
          against the direction the sweep started in).  Rows with frequency and impedance
          both exactly 0 (the rows of other techniques in a modular file) are skipped.  The
          temperature comes from a ``Temperature/°C`` column (median over the spectrum) or
          else from a header line ``Temperature : 30 °C`` (also ``Temperature = 30 degC`` or
          ``Temperature (°C) : 30``); otherwise it is None.

    Raises
    ------
    DataError
        The file is missing, unreadable, of an unsupported type, empty, or holds a
        non-numeric or non-finite cell, a frequency <= 0, a frequency twice in one spectrum, a
        spectrum of fewer than 5 points, or an impedance unit that is neither ohm nor
        ohm*cm^2.  The message names the file, the column and the line.
    OptionError
        A ``.mpr`` file without the optional ``galvani`` package.
    """
    label = label or str(path)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(f"unsupported file type {path.suffix or '(no suffix)'!r}; impedance spectra are "
                        f"read from {', '.join(SUPPORTED_SUFFIXES)} files", file=label)
    if suffix == ".mpr":
        return _read_mpr(path, label)
    raw = _read_bytes(path, label)
    if suffix == ".mpt":
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
        return _read_eclab_text(text, label)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # a spreadsheet or instrument export in a Windows code page
        text = raw.decode("latin-1")
    if text.startswith(_ECLAB_BANNER):  # EC-Lab exports saved as .txt
        return _read_eclab_text(text, label)
    return _read_csv_text(text, label)


# --------------------------------------------------------------------------------------------
# Headers


@dataclass(frozen=True)
class _Column:
    """A recognised column: where it is, what it holds, its unit and its sign."""

    role: str
    index: int
    header: str
    unit: str
    negated: bool


def _sign_and_key(name: str) -> tuple[bool, str]:
    """Whether a name says 'minus', and the name reduced to its lookup key."""
    text = name.strip()
    negated = False
    if text[:1] in ("-", "−"):
        negated, text = True, text[1:]
    elif text.lower().startswith("minus"):
        negated, text = True, text[5:]
    key = re.sub(r"[\s_]+", "", text.lower())
    return negated, key


def _parse_unit(text: str):
    """The pint unit of a header's unit text, or None when pint cannot read it."""
    spelled = re.sub(r"(?i)ohm", "ohm", normalise_unit(text))
    try:
        return registry().parse_units(spelled)
    except Exception:  # pint raises many types for text it cannot read
        return None


def _recognise(cell: str, index: int, label: str) -> _Column | None:
    """The column a header cell names, or None for a column nassb does not use."""
    text = cell.strip()
    if not text:
        return None
    bracket = _BRACKET.match(text)
    if bracket:
        candidates = [(bracket["name"], bracket["unit"].strip(), True)]
    else:
        candidates = [(text, "", True)]
        if "/" in text:
            name, unit = text.rsplit("/", 1)
            candidates.append((name, unit.strip(), True))
        paren = _PAREN.match(text)
        if paren:
            candidates.append((paren["name"], paren["unit"].strip(), True))
        parts = text.split("_")
        for cut in range(len(parts) - 1, 0, -1):  # "Z_real_ohm_cm2" -> "Z_real", "ohm*cm2"
            candidates.append(("_".join(parts[:cut]), "*".join(parts[cut:]), False))
    for name, unit, unit_is_meant in candidates:
        negated, key = _sign_and_key(name)
        role = _ROLE_OF.get(key)
        if role is None:
            continue
        if not unit_is_meant and not _suits(role, _parse_unit(unit)):
            continue  # "Z_real_fit", "Z_real_2": not a unit suffix, so not our column
        if unit and _parse_unit(unit) is None:
            raise DataError(f"unknown unit {unit!r} in the header {text!r}", file=label, field=text)
        if negated and role not in ("real", "imag"):
            continue
        return _Column(role, index, text, unit, negated)
    return None


def _suits(role: str, unit) -> bool:
    """Whether a parsed unit (or None) has the dimension a column of this role needs."""
    if unit is None:
        return False
    ureg = registry()
    wanted = {"frequency": ("Hz",), "real": ("ohm", "ohm*cm^2"), "imag": ("ohm", "ohm*cm^2"),
              "temperature": ("K",)}.get(role, ("dimensionless",))
    return any(unit.dimensionality == ureg.parse_units(w).dimensionality for w in wanted)


def _recognise_all(header: list[str], label: str, where: str) -> dict[str, _Column]:
    """The recognised columns of a header by role; frequency, Z' and Z'' must be there."""
    columns: dict[str, _Column] = {}
    for index, cell in enumerate(header):
        column = _recognise(cell, index, label)
        if column is None:
            continue
        if column.role in columns:
            raise DataError(f"two columns hold the {_FIELD[column.role]}: "
                            f"{columns[column.role].header!r} and {column.header!r}", file=label,
                            field=column.header)
        columns[column.role] = column
    examples = {"frequency": "'frequency [Hz]', 'f_Hz' or 'freq/Hz'",
                "real": "'Z_real [ohm]', \"Z'\" or 'Re(Z)/Ohm'",
                "imag": "'Z_imag [ohm]', '-Im(Z)/Ohm' or \"-Z''\""}
    for role, example in examples.items():
        if role not in columns:
            names = [repr(cell.strip()) for cell in header if cell.strip()]
            found = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "") or "nothing"
            raise DataError(f"no {_FIELD[role]} column in the header ({where}); expected a name like "
                            f"{example}, found {found}", file=label, field=_FIELD[role])
    return columns


# --------------------------------------------------------------------------------------------
# From numbers to spectra


@dataclass
class _Points:
    """All data rows of a file, in file order, in canonical units."""

    label: str
    place: str  # "line" for text files, "row" for binary ones
    lines: np.ndarray
    frequency: np.ndarray
    z: np.ndarray
    unit: str
    temperature: np.ndarray | None = None
    cycle: np.ndarray | None = None
    zcycle: np.ndarray | None = None


def _factor(column: _Column, canonical: str, label: str, what: str) -> float:
    """Multiply a column's values by this to get them in ``canonical``."""
    if not column.unit:
        return 1.0
    ureg = registry()
    parsed, target = _parse_unit(column.unit), ureg.parse_units(canonical)
    if parsed is None or parsed.dimensionality != target.dimensionality:
        raise DataError(f"unit {column.unit!r} is not {what}", file=label, field=column.header)
    return float(ureg.Quantity(1.0, parsed).to(target).magnitude)


def _impedance_unit(column: _Column, label: str) -> str:
    """``"ohm"`` or ``"ohm*cm^2"``: the canonical unit of an impedance column."""
    if not column.unit:
        return "ohm"
    parsed = _parse_unit(column.unit)
    ureg = registry()
    for canonical in ("ohm", "ohm*cm^2"):
        if parsed is not None and parsed.dimensionality == ureg.parse_units(canonical).dimensionality:
            return canonical
    raise DataError(f"unit {column.unit!r} is not an impedance; expected ohm (kohm, mohm, ...) or an "
                    "area-normalised ohm*cm^2", file=label, field=column.header)


def _points(label: str, place: str, lines: np.ndarray, columns: dict[str, _Column],
            raw: dict[str, np.ndarray]) -> _Points:
    """Check the raw numbers of the recognised columns and convert them to canonical units."""
    f_col, re_col, im_col = columns["frequency"], columns["real"], columns["imag"]
    frequency = raw["frequency"]
    for row in np.flatnonzero(frequency <= 0)[:1]:
        unit = f" {f_col.unit}" if f_col.unit else " Hz"
        raise DataError(f"{place} {lines[row]}: frequency must be > 0, got {frequency[row]:g}{unit}",
                        file=label, field=f_col.header)
    unit = _impedance_unit(re_col, label)
    if _impedance_unit(im_col, label) != unit:
        raise DataError(f"Z' is in {re_col.unit or 'ohm'} but Z'' in {im_col.unit or 'ohm'}; both impedance "
                        "columns must be in ohm, or both area-normalised in ohm*cm^2", file=label,
                        field=im_col.header)
    converted = {}
    for column, canonical, what in ((f_col, "Hz", "a frequency (Hz, kHz, MHz, 1/s)"),
                                    (re_col, unit, "an impedance"), (im_col, unit, "an impedance")):
        with np.errstate(over="ignore"):
            values = raw[column.role] * _factor(column, canonical, label, what)
        for row in np.flatnonzero(~np.isfinite(values))[:1]:
            raise DataError(f"{place} {lines[row]}: {raw[column.role][row]:g} is too large in {canonical}",
                            file=label, field=column.header)
        converted[column.role] = -values if column.negated else values
    frequency, real, imag = converted["frequency"], converted["real"], converted["imag"]
    points = _Points(label, place, lines, frequency, real + 1j * imag, unit)
    if "temperature" in columns:
        points.temperature = _kelvin(columns["temperature"], raw["temperature"], label)
    for role in ("cycle", "zcycle"):
        if role in columns:
            values = raw[role]
            for row in np.flatnonzero((values != np.round(values)) | (np.abs(values) > 1e15))[:1]:
                raise DataError(f"{place} {lines[row]}: a cycle is a whole number, got {values[row]:g}",
                                file=label, field=columns[role].header)
            setattr(points, role, values.astype(np.int64))
    return points


def _kelvin(column: _Column, values: np.ndarray, label: str) -> np.ndarray:
    """Temperatures in K from a column with a pint temperature unit."""
    parsed = _parse_unit(column.unit) if column.unit else None
    ureg = registry()
    if parsed is None or parsed.dimensionality != ureg.parse_units("K").dimensionality:
        raise DataError(f"a temperature column needs a temperature unit, e.g. 'temperature [degC]'; got "
                        f"{column.unit or 'none'!r}", file=label, field=column.header)
    kelvin = np.asarray(ureg.Quantity(values, parsed).to("K").magnitude, dtype=float)
    if np.any(kelvin <= 0):
        raise DataError("temperature must be above absolute zero", file=label, field=column.header)
    return kelvin


def _spectra(points: _Points, pieces: list[np.ndarray], *, temperature: float | None,
             cycle: int | None, notes: tuple[str, ...]) -> list[Spectrum]:
    """Check each piece of a file and make it a Spectrum."""
    label, place = points.label, points.place
    spectra = []
    for k, rows in enumerate(pieces, start=1):
        name = f"{label}#{k}" if len(pieces) > 1 else label
        lines = points.lines[rows]
        which = f"spectrum {k} of {len(pieces)} ({place}s {lines[0]}-{lines[-1]}): " if len(pieces) > 1 else ""
        frequency = points.frequency[rows]
        if rows.size < MIN_POINTS:
            raise DataError(f"{which}only {rows.size} data point{'s' * (rows.size != 1)}; a spectrum needs at "
                            f"least {MIN_POINTS}", file=label)
        order = np.argsort(frequency, kind="stable")
        same = np.flatnonzero(np.diff(frequency[order]) == 0)
        if same.size:
            first, second = sorted((order[same[0]], order[same[0] + 1]))
            raise DataError(f"{which}{frequency[first]:.10g} Hz appears twice, on {place}s {lines[first]} and "
                            f"{lines[second]}; a spectrum needs distinct frequencies", file=label,
                            field="frequency")
        spectra.append(Spectrum(
            frequency=frequency.astype(float),
            z=points.z[rows].astype(complex),
            source=label,
            name=name,
            unit=points.unit,
            temperature=(float(np.median(points.temperature[rows])) if points.temperature is not None
                         else temperature),
            cycle=_piece_cycle(points, rows, cycle),
            notes=notes,
        ))
    return spectra


def _piece_cycle(points: _Points, rows: np.ndarray, default: int | None) -> int | None:
    for values in (points.cycle, points.zcycle):
        if values is not None:
            return int(values[rows[0]])
    return default


def _split_by_value(points: _Points) -> list[np.ndarray]:
    """CSV: one piece per distinct (temperature, cycle), in order of first appearance."""
    keys = [values for values in (points.temperature, points.cycle) if values is not None]
    if not keys:
        return [np.arange(points.frequency.size)]
    stacked = np.column_stack(keys)
    _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    return [np.flatnonzero(inverse == group) for group in np.argsort(first)]


def _split_sweeps(points: _Points) -> list[np.ndarray]:
    """EC-Lab: a piece ends where a cycle column changes or the frequency sweep restarts."""
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
    pieces, begin, direction = [], start, 0.0
    for i in range(start + 1, stop):
        step = np.sign(frequency[i] - frequency[i - 1])
        if direction == 0.0:
            direction = step
        elif step == -direction:
            pieces.append(np.arange(begin, i))
            begin, direction = i, 0.0
    pieces.append(np.arange(begin, stop))
    return pieces


# --------------------------------------------------------------------------------------------
# Text files


def _read_bytes(path: Path, label: str) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("no such data file", file=label) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a data file", file=label) from None
    except OSError as err:
        raise DataError(f"cannot read the data file: {err.strerror or err}", file=label) from None
    if b"\x00" in raw:
        raise DataError("holds NUL bytes: a binary file or UTF-16 text; save it as plain (UTF-8) text",
                        file=label)
    return raw


def _number(cell: str, decimal_comma: bool) -> float:
    text = cell.strip()
    if decimal_comma:
        text = text.replace(",", ".")
    return float(text)


def _numbers(rows: list[tuple[int, list[str]]], columns: dict[str, _Column], label: str,
             decimal_comma: bool) -> dict[str, np.ndarray]:
    """The recognised columns of the data rows as float arrays (finite, else a DataError)."""
    raw = {role: np.empty(len(rows)) for role in columns}
    for i, (line, cells) in enumerate(rows):
        for role, column in columns.items():
            cell = cells[column.index]
            try:
                value = _number(cell, decimal_comma)
            except ValueError:
                got = f"{cell.strip()!r}" if cell.strip() else "an empty cell"
                raise DataError(f"line {line}: expected a number, got {got}", file=label,
                                field=column.header) from None
            if not math.isfinite(value):
                raise DataError(f"line {line}: {cell.strip()} is not a finite number", file=label,
                                field=column.header)
            raw[role][i] = value
    return raw


def _trim(cells: list[str]) -> list[str]:
    """Cells without the empty ones at the end (EC-Lab ends every line with a tab)."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def _fit_widths(header: list[str], rows: list[tuple[int, list[str]]], label: str) -> list:
    """The rows cut to the header's width; only empty cells may stick out (EC-Lab's final tab)."""
    fitted = []
    for line, cells in rows:
        if len(cells) < len(header) or any(cell.strip() for cell in cells[len(header):]):
            width = len(_trim(cells))
            raise DataError(f"line {line}: {width} values for {len(header)} columns", file=label)
        fitted.append((line, cells[:len(header)]))
    return fitted


def _settings(lines: list[str], label: str, keys: tuple[str, ...]) -> dict[str, float | int]:
    """``temperature`` (K) and ``cycle`` from lines like ``temperature = 30 degC``, ``cycle = 10``."""
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
            parsed = _parse_unit(unit) if unit else None
            ureg = registry()
            if parsed is None or parsed.dimensionality != ureg.parse_units("K").dimensionality:
                raise DataError(f"the temperature needs a temperature unit, as in 'temperature = 30 degC'; got "
                                f"{text.strip()!r}", file=label, field="temperature")
            result = float(ureg.Quantity(value, parsed).to("K").magnitude)
            if result <= 0:
                raise DataError(f"temperature must be above absolute zero, got {text.strip()!r}", file=label,
                                field="temperature")
        if key in found and found[key] != result:
            raise DataError(f"two different {key}s are given ({found[key]} and {result})", file=label, field=key)
        found[key] = result
    return found


def _read_csv_text(text: str, label: str) -> list[Spectrum]:
    lines = text.splitlines()
    notes = tuple(line.lstrip().lstrip("#").strip() for line in lines if line.lstrip().startswith("#"))
    notes = tuple(note for note in notes if note)
    settings = _settings(list(notes), label, ("temperature", "cycle"))
    numbered = [(n, line) for n, line in enumerate(lines, start=1)
                if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise DataError("empty: no header and no data rows", file=label)
    first = numbered[0][1]
    delimiter = "\t" if "\t" in first else ";" if ";" in first else "," if "," in first else None
    decimal_comma = delimiter != ","
    try:
        if delimiter is None:
            rows = [(n, line.split()) for n, line in numbered]
        else:
            rows = [(n, next(csv.reader([line], delimiter=delimiter))) for n, line in numbered]
    except csv.Error as err:
        raise DataError(f"cannot read the table: {err}", file=label) from None
    (first_line, first_cells), first_cells = rows[0], _trim(rows[0][1])
    if _all_numbers(first_cells, decimal_comma):  # no header: impedance.py's frequency, Z', Z''
        if len(first_cells) != 3:
            raise DataError(f"line {first_line}: a file without a header must have 3 columns (frequency in Hz, "
                            f"Z' and Z'' in ohm, as impedance.py writes them), this one has {len(first_cells)}; "
                            "add a header like 'frequency [Hz],Z_real [ohm],Z_imag [ohm]'", file=label)
        header, body = ["frequency", "Z_real", "Z_imag"], rows
    else:
        header, body = first_cells, rows[1:]
        if not body:
            raise DataError(f"no data rows under the header (line {first_line})", file=label)
    body = _fit_widths(header, body, label)
    columns = _recognise_all(header, label, f"line {first_line}")
    raw = _numbers(body, columns, label, decimal_comma)
    points = _points(label, "line", np.array([n for n, _ in body]), columns, raw)
    return _spectra(points, _split_by_value(points), temperature=settings.get("temperature"),
                    cycle=settings.get("cycle"), notes=notes)


def _all_numbers(cells: list[str], decimal_comma: bool) -> bool:
    try:
        for cell in cells:
            _number(cell, decimal_comma)
    except ValueError:
        return False
    return bool(cells)


def _read_eclab_text(text: str, label: str) -> list[Spectrum]:
    """EC-Lab's ASCII export: banner, ``Nb header lines : N``, header, column names, data."""
    lines = text.splitlines()
    if not lines or not any(line.strip() for line in lines):
        raise DataError("empty: no header and no data rows", file=label)
    if lines[0].strip().startswith(_ECLAB_BANNER):
        count = _NB_HEADER.match(lines[1]) if len(lines) > 1 else None
        if count is None:
            raise DataError(f"line 2 should be 'Nb header lines : N' after '{_ECLAB_BANNER}'", file=label,
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
    settings = _settings(list(notes), label, ("temperature",))
    header = _trim(lines[header_line - 1].split("\t"))
    body = [(n, line.split("\t")) for n, line in enumerate(lines[header_line:], start=header_line + 1)
            if line.strip()]
    if not body:
        raise DataError(f"no data rows under the column names (line {header_line})", file=label)
    body = _fit_widths(header, body, label)
    where = f"line {header_line}" + (", per 'Nb header lines'" if header_line > 1 else "")
    columns = _recognise_all(header, label, where)
    raw = _numbers(body, columns, label, decimal_comma=True)
    lines_of = np.array([n for n, _ in body])
    return _eclab_spectra(label, "line", lines_of, columns, raw, settings.get("temperature"), notes)


def _eclab_spectra(label: str, place: str, lines: np.ndarray, columns: dict[str, _Column],
                   raw: dict[str, np.ndarray], temperature: float | None,
                   notes: tuple[str, ...]) -> list[Spectrum]:
    """EC-Lab text or binary: drop other techniques' rows, split into sweeps, check each."""
    idle = (raw["frequency"] == 0) & (raw["real"] == 0) & (raw["imag"] == 0)
    if idle.all():
        raise DataError("no impedance rows: every row has frequency 0 and Z = 0", file=label)
    keep = ~idle
    points = _points(label, place, lines[keep], columns, {role: values[keep] for role, values in raw.items()})
    return _spectra(points, _split_sweeps(points), temperature=temperature, cycle=None, notes=notes)


# --------------------------------------------------------------------------------------------
# Binary EC-Lab


def _read_mpr(path: Path, label: str) -> list[Spectrum]:
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
    except Exception as err:  # galvani raises many types for files it cannot parse
        raise DataError(f"cannot read the EC-Lab .mpr file: {err}", file=label) from None
    names = list(getattr(getattr(data, "dtype", None), "names", None) or ())
    columns = _recognise_all(names, label, "the .mpr columns")
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
    return _eclab_spectra(label, "row", np.arange(1, n + 1), columns, raw, None, ())
