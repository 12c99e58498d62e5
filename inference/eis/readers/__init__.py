"""Read impedance spectra from the files of common instruments and from plain tables.

Every reader returns a list of :class:`~nassb.inference.eis.spectrum.Spectrum`: frequencies in Hz,
Z = Z' + j Z'' with Z'' < 0 on a capacitive arc, in ohm or, for an area-normalised file, in
ohm*cm^2.  Rows without a frequency (f = 0: another technique's rows, DC points) are skipped
and recorded in :attr:`Spectrum.skipped`.  Every mistake in a file is one
:class:`~nassb.priors.errors.DataError` naming the file, the column (or line) and what is
wrong; a missing optional package is an :class:`~nassb.priors.errors.OptionError`.

====================  ==================  ==================================================
format                suffix              recognised by
====================  ==================  ==================================================
EC-Lab ASCII          ``.mpt``, ``.txt``  ``EC-Lab ASCII FILE`` banner (or the suffix)
EC-Lab binary         ``.mpr``            the suffix (needs galvani)
Gamry                 ``.dta``, ``.txt``  a ``ZCURVE<tab>TABLE`` line (``.dta``: the suffix)
ZPlot/ZView, Z60W     ``.z``, ``.txt``    ``ZPLOT2 ASCII``, ``ZPlotW Data File`` or
                                          ``Z60W Data File`` banner (``.z``: the suffix)
VersaStudio           ``.par``, ``.txt``  ``<SegmentN>`` blocks with ``Definition=`` lines
Autolab Nova ASCII    ``.txt``, ``.csv``  ``Frequency (Hz)``, ``Z' (Ω)``, ``-Z'' (Ω)`` header
CH Instruments        ``.txt``, ``.csv``  ``A.C. Impedance`` banner, ``Freq/Hz, Z'/ohm, ...``
Parstat               ``.txt``, ``.csv``  ``Frequency (Hz)``, ``Zre (ohms)``, ``Zim (ohms)``
PowerSuite            ``.txt``, ``.csv``  ``Frequency``, ``Zre``, ``Zimg``
plain table           ``.csv``, ``.txt``  a header with frequency, Z' and Z'' columns
====================  ==================  ==================================================

The suffix decides for ``.mpt``, ``.mpr``, ``.dta``, ``.z`` and ``.par``; a ``.txt`` or ``.csv``
file is sniffed by its first lines, and read as a table when no instrument's banner is there.
Column names of tables (:mod:`.tables`) are found in any case, with spaces and underscores
ignored:

=============  =====================================================================
frequency      ``f``, ``freq``, ``frequency``
Z'             ``Z_real``, ``Zreal``, ``Re(Z)``, ``Z'``, ``Zre``, ``real``
Z''            ``Z_imag``, ``Zimag``, ``Zimg``, ``Im(Z)``, ``Z''``, ``Z"``, ``Zim``, ``imag``
temperature    ``temperature``, ``temp`` (needs a unit)
cycle          ``cycle``, ``cycle number``; EC-Lab's ``z cycle``
=============  =====================================================================

A unit follows the name in brackets (``frequency [kHz]``), after a slash as EC-Lab writes it
(``Re(Z)/Ohm``), in parentheses (``Z' (ohm)``, ``Freq(Hz)``) or as an underscore suffix
(``f_Hz``, ``Z_real_ohm``, ``Z_real_ohm_cm2``); without one, frequency is in Hz and impedance
in ohm.  A leading minus (``-Im(Z)``, ``-Z''``, ``-Z_imag``, ``minus_z_imag``) means the column
holds -Z'', and it is negated on reading.  Other columns (``|Z|``, phase, time, ...) are
ignored, and a row may be shorter than the header where only unused columns are missing.
"""

from __future__ import annotations

from pathlib import Path

from ....priors.errors import DataError
from ....priors.reading import SPECTRUM_BYTES, read_bounded
from ..spectrum import Spectrum
from ._table import MIN_POINTS
from .eclab import BANNER as _ECLAB_BANNER
from .eclab import read_eclab_text, read_mpr
from .gamry import read_gamry
from .tables import read_table_text
from .versastudio import is_versastudio, read_versastudio
from .zplot import is_zplot, read_zplot

SUPPORTED_SUFFIXES = (".csv", ".txt", ".mpt", ".mpr", ".dta", ".z", ".par")
FORMATS = ("EC-Lab", "Gamry", "ZPlot/ZView", "VersaStudio", "Autolab/Nova", "CH Instruments", "Parstat",
           "PowerSuite", "plain table")

__all__ = ["FORMATS", "MIN_POINTS", "SUPPORTED_SUFFIXES", "read_spectra"]


def read_spectra(path: str | Path, *, label: str | None = None) -> list[Spectrum]:
    """Read every impedance spectrum in a data file.

    Parameters
    ----------
    path : str or Path
        An instrument file or a table (suffix in any case): see the module docstring for the
        formats and the column names understood.
    label : str, optional
        How to name the file in messages and in :attr:`Spectrum.name` (default: the path as
        given).

    Returns
    -------
    list of Spectrum
        One spectrum, or several named ``file#k`` (k = 1, 2, ... in file order) when the file
        holds several:

        * tables: a ``temperature`` or ``cycle`` column that takes several values splits the
          file into one spectrum per distinct value (or pair of values), in order of first
          appearance.  Lines ``temperature = 30 degC`` (any pint temperature unit) and
          ``cycle = 10``, as ``#`` comments or above the header, set the temperature (in K) and
          cycle of a file without such columns.
        * EC-Lab (``.mpt``, ``.mpr``) and Autolab Nova exports: a new spectrum starts where
          ``cycle number`` or ``z cycle`` changes, and where the frequency sweep restarts.
          EC-Lab's temperature comes from a ``Temperature/°C`` column (median over the
          spectrum) or a header line ``Temperature : 30 °C``.
        * Gamry: one spectrum per ZCURVE table; VersaStudio: one per impedance segment;
          ZPlot/ZView: one.

        Frequencies are in Hz; Z in ohm (or ohm*cm^2), Z'' < 0 on a capacitive arc.

    Raises
    ------
    DataError
        The file is missing, unreadable, of an unsupported type, holds no table, or holds a
        non-numeric or non-finite cell, a frequency < 0, a frequency twice in one spectrum, a
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
        return read_mpr(path, label)
    raw = _read_bytes(path, label)
    if suffix == ".mpt":
        return read_eclab_text(_decode(raw, latin=True), label)
    text = _decode(raw, latin=False)
    if suffix == ".dta":
        return read_gamry(text, label)
    if suffix == ".z":
        return read_zplot(text, label)
    if suffix == ".par":
        return read_versastudio(text, label)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.startswith(_ECLAB_BANNER):  # EC-Lab exports saved as .txt
        return read_eclab_text(text, label)
    if is_zplot(first):
        return read_zplot(text, label)
    if first.strip() == "EXPLAIN" or "\nZCURVE\tTABLE" in text:
        return read_gamry(text, label)
    if is_versastudio(text):
        return read_versastudio(text, label)
    return read_table_text(text, label, tried="EC-Lab, Gamry, ZPlot/ZView, VersaStudio, Autolab/Nova, "
                                              "CH Instruments, Parstat, PowerSuite and plain tables")


def _read_bytes(path: Path, label: str) -> bytes:
    try:
        raw = read_bounded(path, SPECTRUM_BYTES, what="a spectrum file", label=label, error=DataError)
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


def _decode(raw: bytes, latin: bool) -> str:
    """Text of a file: UTF-8 (with or without a BOM), else latin-1 as instruments write it."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if latin:
        return raw.decode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # a spreadsheet or instrument export in a Windows code page
        return raw.decode("latin-1")
