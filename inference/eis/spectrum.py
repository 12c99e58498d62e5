"""One impedance spectrum as every part of nassb.inference.eis sees it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Spectrum:
    """A measured (or synthetic) impedance spectrum.

    Attributes
    ----------
    frequency : ndarray
        Frequencies in Hz, finite, > 0 and distinct (any order).
    z : ndarray of complex
        Impedance Z' + j Z'' at each frequency, in ``unit``; Z'' < 0 on a capacitive arc.
    source : str
        The file it came from, as given (for messages).
    name : str
        The file, or ``file#k`` for the k-th spectrum (1-based) of a file that holds several.
    unit : str
        ``"ohm"``, or ``"ohm*cm^2"`` for a spectrum already normalised to the electrode area.
    temperature : float, optional
        Measurement temperature in K, where the file says it.
    cycle : int, optional
        Cycle number, where the file says it (EC-Lab's ``cycle number``).
    notes : tuple of str
        Comment lines of the file (a synthetic file says so there).
    skipped : tuple of (int, str)
        The rows of the file dropped from this spectrum, as (line, reason) in file order, e.g.
        ``(14, "f = 0")``: a row without a frequency (another technique's row in an EC-Lab or
        Parstat file, a DC point).  Line numbers count from 1; in a binary file they are row
        numbers.
    """

    frequency: np.ndarray
    z: np.ndarray
    source: str
    name: str
    unit: str = "ohm"
    temperature: float | None = None
    cycle: int | None = None
    notes: tuple[str, ...] = field(default=())
    skipped: tuple[tuple[int, str], ...] = field(default=())

    def __len__(self) -> int:
        return int(self.frequency.size)

    @property
    def omega(self) -> np.ndarray:
        """Angular frequency 2 pi f in rad/s."""
        return 2.0 * np.pi * self.frequency


MAX_FIT_POINTS = 2000
"""A spectrum is fitted on at most this many points: measured spectra have tens to hundreds
(ten per decade over seven decades is 70); one of more is thinned to this many, spread evenly in
log frequency (:func:`thinned`), so that a file of 10^6 points is fitted in seconds, not hours."""


def thinned(spectrum: Spectrum, limit: int = MAX_FIT_POINTS) -> Spectrum:
    """``spectrum`` with at most ``limit`` points, the ones nearest to ``limit`` frequencies
    spread evenly in log frequency over its range, in the spectrum's own order; the spectrum
    itself when it has no more."""
    n = len(spectrum)
    if n <= limit:
        return spectrum
    log_f = np.log(spectrum.frequency)
    order = np.argsort(log_f, kind="stable")
    ranked = log_f[order]
    grid = np.linspace(ranked[0], ranked[-1], limit)
    right = np.clip(np.searchsorted(ranked, grid), 1, n - 1)
    nearer_left = (grid - ranked[right - 1]) <= (ranked[right] - grid)
    keep = np.unique(order[np.where(nearer_left, right - 1, right)])
    return replace(spectrum, frequency=spectrum.frequency[keep], z=spectrum.z[keep])
