"""What the data say about the fit beyond its posterior: a circuit that does not fit, and
inductive points at the high-frequency end.

**Misfit.**  lin-KK (nassb.inference.eis.kk) fits nearly any causal, linear spectrum, so its
residual is about what the noise leaves; an equivalent circuit that leaves much more has a
shape the data do not have (an element missing, an inductive tail, a second arc).  The noise
model then learns the misfit as noise (its eps grows to the misfit's size), every interval widens
to match and nothing else says so.  :func:`misfit` compares the least-squares residual with
lin-KK's: above :data:`MISFIT_FACTOR` times lin-KK's and above :data:`MISFIT_FLOOR` of |Z| it
reports the misfit and the frequency range where most of it lives.

**Inductive points.**  Cables and the cell holder add an inductance: Z'' > 0 at the highest
frequencies.  A circuit without an ``L`` element cannot follow them; :func:`inductive` finds the
run of highest-frequency points with Z'' above the noise and says what to do (an ``L`` in series
or a lower fmax).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .circuit import Circuit
from .spectrum import Spectrum

MISFIT_FACTOR = 3.0   # fit rms above this many times lin-KK's ...
MISFIT_FLOOR = 0.01   # ... and above 1 % of |Z|: the circuit does not fit
SMOOTH = 5            # points of the running mean that finds where a misfit lives
INDUCTIVE_POINTS = 2  # at least this many consecutive highest-frequency points with Z'' > 0 ...
INDUCTIVE_NOISE = 3.0  # ... reaching above this many times the noise (as a fraction of |Z|)


@dataclass(frozen=True)
class Misfit:
    """A circuit that leaves more than the data allow.

    Attributes
    ----------
    rms : float
        rms of the fit's relative residuals (0.05: 5 % of |Z|).
    kk_rms : float
        rms of lin-KK's relative residuals on the same spectrum.
    f_low, f_high : float
        Hz: the frequency range where most of the misfit lives.
    """

    rms: float
    kk_rms: float
    f_low: float
    f_high: float

    def to_json(self) -> dict:
        return {"rms": self.rms, "kk_rms": self.kk_rms, "f_low": self.f_low, "f_high": self.f_high}

    def sentence(self, name: str) -> str:
        return (f"{name}: the circuit does not fit the data: its residuals are {_percent(self.rms)} % of |Z| (rms) "
                f"where lin-KK leaves {_percent(self.kk_rms)} %, mostly between {hz(self.f_low)} and "
                f"{hz(self.f_high)}; the learned noise absorbs the misfit, so the intervals describe a circuit "
                "that is not the cell's: add the element the data need there, or fit a frequency range the "
                "circuit describes")


@dataclass(frozen=True)
class Inductive:
    """Inductive points (Z'' > 0) at the high-frequency end.

    Attributes
    ----------
    points : int
        How many of the highest frequencies in a row have Z'' > 0.
    f_low, f_high : float
        Hz: the range they span.
    largest : float
        The largest Z'' / |Z| among them.
    """

    points: int
    f_low: float
    f_high: float
    largest: float

    def to_json(self) -> dict:
        return {"points": self.points, "f_low": self.f_low, "f_high": self.f_high, "largest": self.largest}

    def sentence(self, name: str) -> str:
        below = hz(self.f_low * 0.999)
        return (f"{name}: the {self.points} highest-frequency points ({hz(self.f_low)} to {hz(self.f_high)}) are "
                f"inductive (Z'' > 0, up to {_percent(self.largest)} % of |Z|), which a circuit without an "
                f"inductor cannot follow: add an L element in series (e.g. 'L0-...') or fit only below {below} "
                f"(fmax = {self.f_low * 0.999:.3g} Hz)")


def relative_residuals(spectrum: Spectrum, z_model: np.ndarray) -> np.ndarray:
    """(Z - Z_model) / |Z| at each frequency (complex, dimensionless)."""
    return (spectrum.z - z_model) / np.abs(spectrum.z)


def misfit(spectrum: Spectrum, residual: np.ndarray, kk_rms: float | None) -> Misfit | None:
    """The misfit of a fit whose relative residuals are ``residual`` (complex, per frequency),
    or None when it leaves no more than :data:`MISFIT_FACTOR` times lin-KK's rms or less than
    :data:`MISFIT_FLOOR` (or lin-KK was not run)."""
    if kk_rms is None:
        return None
    parts = np.concatenate([residual.real, residual.imag])
    rms = float(np.sqrt(np.mean(parts ** 2)))
    if not (rms > MISFIT_FACTOR * kk_rms and rms > MISFIT_FLOOR):
        return None
    order = np.argsort(spectrum.frequency)
    f = spectrum.frequency[order]
    size = np.sqrt(0.5 * np.abs(residual[order]) ** 2)
    width = min(SMOOTH, f.size)
    smooth = np.convolve(size ** 2, np.ones(width) / width, mode="same") ** 0.5
    level = max(MISFIT_FACTOR * kk_rms, MISFIT_FLOOR)
    above = smooth > level
    if not above.any():
        return Misfit(rms, float(kk_rms), float(f[0]), float(f[-1]))
    # the run of neighbouring points above the level that holds most of the squared misfit
    best, best_weight, start = (0, 0), -1.0, None
    for i, flag in enumerate(np.r_[above, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            weight = float(np.sum(size[start:i] ** 2))
            if weight > best_weight:
                best, best_weight = (start, i - 1), weight
            start = None
    return Misfit(rms, float(kk_rms), float(f[best[0]]), float(f[best[1]]))


def inductive(spectrum: Spectrum, circuit: Circuit, noise: float) -> Inductive | None:
    """The inductive points at the high-frequency end, or None: when the circuit has an ``L``
    element, when fewer than :data:`INDUCTIVE_POINTS` of the highest frequencies in a row have
    Z'' > 0, or when none of them rises above :data:`INDUCTIVE_NOISE` times ``noise`` (the
    relative noise, e.g. lin-KK's rms)."""
    if any(e.kind == "L" for e in circuit.elements):
        return None
    order = np.argsort(spectrum.frequency)[::-1]
    im = spectrum.z.imag[order] / np.abs(spectrum.z[order])
    run = 0
    while run < im.size and im[run] > 0:
        run += 1
    if run < INDUCTIVE_POINTS or float(im[:run].max()) <= INDUCTIVE_NOISE * noise:
        return None
    f = spectrum.frequency[order][:run]
    return Inductive(run, float(f.min()), float(f.max()), float(im[:run].max()))


def hz(f: float) -> str:
    """A frequency with its prefix: ``1 MHz``, ``120 kHz``, ``0.1 Hz``."""
    for scale, prefix in ((1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz"), (1e-3, "mHz")):
        if f >= scale:
            return f"{f / scale:.3g} {prefix}"
    return f"{f:.3g} Hz"


def _percent(fraction: float) -> str:
    value = 100.0 * fraction
    return f"{value:.1f}" if value >= 0.1 else f"{value:.2f}"
