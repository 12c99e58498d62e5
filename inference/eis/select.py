"""What was read, and which spectra to fit: listing and selecting spectra.

:func:`describe_spectra` says, per spectrum, where it came from, its cycle and temperature, its
points and frequency range, and which rows of its file were skipped and why.
:func:`select_spectra` keeps the spectra of some cycles (EC-Lab cycle numbers, or the order of
the spectra in each file) or of some names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from ...priors import OptionError
from .spectrum import Spectrum

DESCRIPTION_KEYS = ("spectrum", "file", "cycle", "temperature", "points", "f_min", "f_max", "skipped")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def describe_spectra(spectra: Iterable[Spectrum]) -> list[dict]:
    """One plain dictionary per spectrum, in order.

    Parameters
    ----------
    spectra : iterable of Spectrum

    Returns
    -------
    list of dict
        Keys ``spectrum`` (its name), ``file`` (the file it came from), ``cycle`` (int or None),
        ``temperature`` (K, or None), ``points`` (number of frequencies), ``f_min`` and
        ``f_max`` (Hz) and ``skipped``: short sentences for the rows of the file dropped from
        this spectrum, one per reason, e.g. ``["3 rows with f = 0"]`` (empty when none).
    """
    out = []
    for s in spectra:
        counts = Counter(reason for _, reason in s.skipped)
        skipped = [f"{n} row{'s' * (n != 1)} with {reason}" for reason, n in counts.items()]
        out.append({
            "spectrum": s.name,
            "file": s.source,
            "cycle": s.cycle,
            "temperature": s.temperature,
            "points": len(s),
            "f_min": float(s.frequency.min()),
            "f_max": float(s.frequency.max()),
            "skipped": skipped,
        })
    return out


def parse_cycles(cycles: str | Sequence[int]) -> list[tuple[int, int]]:
    """Inclusive ranges from ``"1,3-5"`` (or a list of whole numbers >= 0).

    Raises
    ------
    OptionError
        (field ``cycles``) for anything but whole numbers and ranges ``a-b`` with a <= b.
    """
    if isinstance(cycles, str):
        ranges = []
        parts = cycles.split(",")
        for part in parts:
            match = _RANGE.match(part)
            if not match:
                raise OptionError(f"cannot read {part.strip()!r} in {cycles!r}; give cycle numbers and ranges "
                                  "such as '1,3-5'", field="cycles")
            low = int(match[1])
            high = int(match[2]) if match[2] is not None else low
            if high < low:
                raise OptionError(f"the range {part.strip()!r} runs backwards; write it '{high}-{low}'",
                                  field="cycles")
            ranges.append((low, high))
        return ranges
    out = []
    for value in cycles:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OptionError(f"a cycle is a whole number >= 0, got {value!r}", field="cycles")
        out.append((value, value))
    if not out:
        raise OptionError("no cycles given", field="cycles")
    return out


def _positions(spectra: Sequence[Spectrum]) -> list[tuple[int, bool]]:
    """Per spectrum: the number ``cycles`` refers to and whether it is a cycle (else the order,
    from 1, of the spectrum in its file).  A file's spectra carry cycles when all of them do."""
    by_file: dict[str, list[int]] = {}
    for i, s in enumerate(spectra):
        by_file.setdefault(s.source, []).append(i)
    out: list[tuple[int, bool]] = [(0, False)] * len(spectra)
    for members in by_file.values():
        cycles = [c for c in (spectra[i].cycle for i in members) if c is not None]
        for order, i in enumerate(members, start=1):
            out[i] = (cycles[order - 1], True) if len(cycles) == len(members) else (order, False)
    return out


def _available(spectra: Sequence[Spectrum], positions: list[tuple[int, bool]]) -> str:
    by_file: dict[str, list[tuple[int, bool]]] = {}
    for s, position in zip(spectra, positions):
        by_file.setdefault(s.source, []).append(position)
    parts = []
    for source, items in by_file.items():
        numbers = sorted({n for n, _ in items})
        kind = "cycles" if items[0][1] else "spectra"
        parts.append(f"{source}: {kind} {_ranges(numbers)}")
    return "; ".join(parts)


def _ranges(numbers: list[int]) -> str:
    """'1-3, 5' from [1, 2, 3, 5]."""
    out, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            out.append(f"{start}" if start == n else f"{start}-{n}")
            start = None
    return ", ".join(out)


def select_spectra(spectra: Sequence[Spectrum], cycles: str | Sequence[int] | None = None,
                   labels: Sequence[str] | None = None) -> list[Spectrum]:
    """The spectra of some cycles and/or of some names, in their order.

    Parameters
    ----------
    spectra : sequence of Spectrum
        As read (several files may be mixed).
    cycles : str or sequence of int, optional
        ``"1,3-5"`` or ``[1, 3, 4, 5]``: EC-Lab cycle numbers in a file whose spectra carry
        cycles, otherwise the order of the spectra in each file (1 is its first spectrum).
    labels : sequence of str, optional
        Spectrum names (:attr:`Spectrum.name`, e.g. ``run.mpt#2``).  With ``cycles`` too, a
        spectrum must match both.

    Returns
    -------
    list of Spectrum

    Raises
    ------
    OptionError
        ``cycles`` that cannot be read, or a cycle that no file has (field ``cycles``); a name
        that no spectrum has (field ``spectra``); a selection that keeps nothing.  The message
        lists what is available.
    """
    spectra = list(spectra)
    keep = [True] * len(spectra)
    positions = _positions(spectra)
    if cycles is not None:
        ranges = parse_cycles(cycles)
        for low, high in ranges:
            if not any(low <= n <= high for n, _ in positions):
                what = f"cycle {low}" if low == high else f"cycles {low}-{high}"
                raise OptionError(f"no spectrum has {what}; available: {_available(spectra, positions) or 'none'}",
                                  field="cycles")
        keep = [k and any(low <= n <= high for low, high in ranges) for k, (n, _) in zip(keep, positions)]
    if labels is not None:
        if isinstance(labels, str):  # one name, not its characters
            labels = [labels]
        names = {s.name for s in spectra}
        wanted = [label.strip() for label in labels]
        for label in wanted:
            if label not in names:
                shown = ", ".join(sorted(names)[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
                raise OptionError(f"no spectrum is named {label!r}; available: {shown or 'none'}", field="spectra")
        keep = [k and s.name in wanted for k, s in zip(keep, spectra)]
    chosen = [s for s, k in zip(spectra, keep) if k]
    if not chosen:
        raise OptionError(f"the selection keeps no spectrum; available: {_available(spectra, positions) or 'none'}",
                          field="spectra" if labels is not None else "cycles")
    return chosen
