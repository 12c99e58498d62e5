"""The linear Kramers-Kronig test ("lin-KK") of Schönleber et al. (2014).

A spectrum from a linear, causal, stable and time-invariant cell can be written as a series
resistance, an inductance and a sum of RC (Voigt) elements; lin-KK fits such a circuit with fixed
time constants by linear least squares and looks at what it cannot fit.  Large residuals, or
residuals that follow a trend across the frequencies, say that the cell changed while it was
measured (drift) or responded non-linearly, and that an equivalent-circuit fit of the spectrum is
not to be trusted at face value.

M. Schönleber, D. Klotz, E. Ivers-Tiffée, "A Method for Improving the Robustness of linear
Kramers-Kronig Validity Tests", Electrochimica Acta 131 (2014) 20-27,
doi:10.1016/j.electacta.2014.01.034.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from nassb.priors.errors import DataError, OptionError

from .spectrum import Spectrum

# Thresholds on the relative residuals (fractions of |Z|); see lin_kk's Notes for the evidence.
RMS_LIMIT = 0.01
MAX_LIMIT = 0.03
SYSTEMATIC_LIMIT = 0.003
# A fit whose residual standard deviation is more than this times the best one found (over
# M = 1 .. max_m) is under-resolved, whatever mu says.
UNDERFIT_FACTOR = 2.0
# Residual standard deviations below this (relative) count as a perfect fit.
_EXACT = 1e-9


@dataclass(frozen=True)
class KKResult:
    """The outcome of :func:`lin_kk`.

    Attributes
    ----------
    m : int
        Number of RC elements of the chosen fit.
    mu : float
        Schönleber's mu = 1 - sum|R_k<0| / sum|R_k>=0| of that fit (1: no negative
        resistance; it falls as the fit starts to follow noise).
    residual_real, residual_imag : ndarray
        (Z'_data - Z'_fit) / ``|Z_data|`` and (Z''_data - Z''_fit) / ``|Z_data|`` at each frequency of
        the spectrum, in its order; dimensionless (0.01 is 1 %).
    rms : float
        Root-mean-square of both residuals together.
    max_abs : float
        Largest absolute residual, real or imaginary.
    ok : bool
        True when ``rms <= RMS_LIMIT``, ``max_abs <= MAX_LIMIT`` and
        ``systematic <= SYSTEMATIC_LIMIT``.
    systematic : float
        The part of ``rms`` that varies smoothly with frequency: sqrt(max(rms^2 - s^2, 0)),
        where s^2 = mean of the squared differences of neighbouring residuals (frequency order)
        over 2 estimates the random scatter.  Drift shows here; noise does not.
    z_fit : ndarray of complex, optional
        The fitted impedance at each frequency, in the spectrum's unit.
    """

    m: int
    mu: float
    residual_real: np.ndarray
    residual_imag: np.ndarray
    rms: float
    max_abs: float
    ok: bool
    systematic: float = 0.0
    z_fit: np.ndarray | None = field(default=None, repr=False)

    def warning(self, name: str) -> str | None:
        """One plain line for the user when the test fails, else None.

        Parameters
        ----------
        name : str
            How to call the spectrum (its file name), e.g. ``"spec.csv"``.
        """
        if self.ok:
            return None
        sizes = (f"lin-KK residuals up to {_percent(self.max_abs)} % (rms {_percent(self.rms)} %, "
                 f"systematic {_percent(self.systematic)} %)")
        if self.rms <= RMS_LIMIT and self.systematic <= SYSTEMATIC_LIMIT:
            return f"{name}: {sizes}: a few points are far off (noise spikes, mains pickup?); check them before fitting"
        return f"{name}: {sizes}: the spectrum may be non-stationary (drift) or non-linear; fit with care"


def _percent(fraction: float) -> str:
    value = 100.0 * fraction
    return f"{value:.1f}" if value >= 0.1 else f"{value:.2f}"


def lin_kk(spectrum: Spectrum, *, c: float = 0.85, max_m: int | None = None, capacitance: bool = True) -> KKResult:
    """Linear Kramers-Kronig test of one spectrum (Schönleber et al. 2014).

    Fits Z(w) ~ R0 + j w L + 1/(j w C) + sum_k R_k / (1 + j w tau_k), k = 1..M, with the tau_k spaced
    logarithmically from 1/w_max to 1/w_min (one element: their geometric mean), by linear least
    squares on Z' and Z'' together, each point weighted by 1/``|Z|``.

    Parameters
    ----------
    spectrum : Spectrum
        At least 5 points; frequencies in Hz, Z in any unit (the residuals are relative).
    c : float
        Schönleber's cut-off on mu, in (0, 1]: M grows from 1 until mu < c (see Notes).
    max_m : int, optional
        Most RC elements tried (default: the number of points, at most 50).
    capacitance : bool
        Include the series capacitance (impedance.py's ``add_cap``), so that a blocking
        low-frequency tail (a current collector, Fig. 7's CPE_CC) is not mistaken for drift.

    Returns
    -------
    KKResult

    Raises
    ------
    DataError
        Fewer than 5 points, or ``|Z|`` = 0 or non-finite somewhere.
    OptionError
        ``c`` outside (0, 1] or ``max_m`` < 1.

    Notes
    -----
    **Choice of M.**  Schönleber's rule takes the smallest M with mu < c.  On smooth, low-noise
    spectra mu dips below c already at small M (a coarse grid of tau needs negative neighbours to
    place an arc between two grid points), and the fit left then is off by up to tens of per cent.
    So an M is accepted only when, besides mu < c, its residual standard deviation
    s_M = sqrt(sum of squared residuals / (2N - M - 3)) is within ``UNDERFIT_FACTOR`` (2) of the
    smallest s over M = 1..max_m; if no M passes both, the M with the smallest s is taken.  On
    noisy spectra this changes nothing (s is flat at the noise level once M suffices; on the
    reference spectrum below M is the same as impedance.py's linKK in 400 of 400 seeds); on
    noise-free Voigt spectra (1-4 elements, tau anywhere in the measured range, 2-7 decades) the
    largest residual seen in 2000 random cases was 0.03 % at 6-12 points per decade and 0.09 % at
    5 points per decade, where Schönleber's rule alone left up to tens of per cent.

    **Thresholds** (fractions of ``|Z|``): ``ok`` needs rms <= 1 %, max_abs <= 3 % and
    systematic <= 0.3 %.  Calibrated on R0-p(R1,CPE1)-p(R2,CPE2) (R0 = 10 ohm,
    R1 = 100 ohm, Q1 = 2e-7 F s^(a-1), a1 = 0.9, R2 = 200 ohm, Q2 = 1e-4, a2 = 0.8), 60 points
    from 1 MHz to 1 Hz:

    * with Gaussian noise of 0.5 % of ``|Z|`` on Z' and on Z'', over 1000 seeds rms <= 0.58 %,
      max_abs <= 1.9 % and systematic <= 0.13 % (99th percentile 0.09 %): all pass.  With 1 %
      noise systematic stays <= 0.22 % and 85 % pass; the rms limit is what such noisy data hit
      first.
    * R1 growing linearly by 15 % (20 %) from the first (1 MHz) to the last (1 Hz) point:
      systematic 0.51 % (0.67 %) noise-free, >= 0.39 % (0.56 %) in 95 % of seeds with 0.5 %
      noise: fails (200 of 200 seeds).  The rms (0.5-0.8 %) alone could not tell this drift
      from the noise.
    * Z'' of the wrong sign (the complex conjugate): rms ~ 40 %: fails.

    A slow drift of R0, or of the resistance of the arc measured last, leaves a spectrum that
    is itself nearly Kramers-Kronig consistent (systematic 0.15-0.16 % for a 20 % drift of R0
    or R2 above); no lin-KK threshold catches it without failing good noisy spectra.  Measure
    twice, or compare spectra before and after, to see such drift.
    """
    frequency, z, modulus, max_m = _checked(spectrum, c, max_m)
    omega = 2.0 * np.pi * frequency
    weight = 1.0 / modulus
    target = np.concatenate([z.real * weight, z.imag * weight])
    log_tau = np.log(1.0 / omega.max()), np.log(1.0 / omega.min())
    fits = [_fit(omega, weight, target, _taus(m, *log_tau), capacitance) for m in range(1, max_m + 1)]
    s = np.array([fit.s for fit in fits])
    mu = np.array([fit.mu for fit in fits])
    accepted = np.flatnonzero((mu < c) & (s <= max(UNDERFIT_FACTOR * s.min(), _EXACT)))
    chosen = fits[int(accepted[0]) if accepted.size else int(np.argmin(s))]

    return _judged(chosen, frequency, z, modulus)


def _checked(spectrum: Spectrum, c: float, max_m: int | None):
    """The spectrum's frequencies (Hz), impedances and their moduli, and the most RC elements to
    try; a DataError or OptionError for what lin-KK cannot test."""
    frequency = np.asarray(spectrum.frequency, dtype=float).reshape(-1)
    z = np.asarray(spectrum.z, dtype=complex).reshape(-1)
    n = frequency.size
    if n < 5:
        raise DataError(f"lin-KK needs at least 5 points, got {n}", file=spectrum.source)
    modulus = np.abs(z)
    if not (np.all(np.isfinite(modulus)) and np.all(np.isfinite(frequency)) and np.all(frequency > 0)):
        raise DataError("lin-KK needs finite impedances at frequencies > 0", file=spectrum.source)
    if np.any(modulus == 0):
        at = frequency[np.argmax(modulus == 0)]
        raise DataError(f"|Z| = 0 at {at:g} Hz; lin-KK weights points by 1/|Z|", file=spectrum.source)
    if not 0 < c <= 1:
        raise OptionError(f"the lin-KK cut-off c must lie in (0, 1], got {c}")
    max_m = min(50, n) if max_m is None else int(max_m)
    if max_m < 1:
        raise OptionError(f"max_m must be at least 1, got {max_m}")
    return frequency, z, modulus, max_m


def _judged(chosen, frequency: np.ndarray, z: np.ndarray, modulus: np.ndarray) -> KKResult:
    """The residuals of the chosen fit, relative to ``|Z|``, and whether they pass the thresholds."""
    z_fit = chosen.z_fit
    residual_real = (z.real - z_fit.real) / modulus
    residual_imag = (z.imag - z_fit.imag) / modulus
    both = np.concatenate([residual_real, residual_imag])
    rms = float(np.sqrt(np.mean(both**2)))
    order = np.argsort(frequency)
    steps = np.concatenate([np.diff(residual_real[order]), np.diff(residual_imag[order])])
    scatter2 = float(np.mean(steps**2)) / 2.0
    systematic = float(np.sqrt(max(rms**2 - scatter2, 0.0)))
    max_abs = float(np.max(np.abs(both)))
    ok = rms <= RMS_LIMIT and max_abs <= MAX_LIMIT and systematic <= SYSTEMATIC_LIMIT
    return KKResult(m=chosen.m, mu=float(chosen.mu), residual_real=residual_real,
                    residual_imag=residual_imag, rms=rms, max_abs=max_abs, ok=bool(ok),
                    systematic=systematic, z_fit=z_fit)


@dataclass(frozen=True)
class _Fit:
    m: int
    mu: float
    s: float
    z_fit: np.ndarray


def _taus(m: int, low: float, high: float) -> np.ndarray:
    """M time constants in s, log-spaced between exp(low) and exp(high)."""
    return np.exp(np.linspace(low, high, m)) if m > 1 else np.exp(np.array([(low + high) / 2]))


def _fit(omega: np.ndarray, weight: np.ndarray, target: np.ndarray, tau: np.ndarray, capacitance: bool) -> _Fit:
    """Weighted linear least squares for R0, R_1..R_M, L (and 1/C) with fixed tau."""
    n, m = omega.size, tau.size
    wt = omega[:, None] * tau[None, :]
    denominator = 1.0 + wt**2
    design = np.zeros((2 * n, m + 2 + capacitance))
    design[:n, 0] = weight
    design[:n, 1:m + 1] = weight[:, None] / denominator
    design[n:, 1:m + 1] = -weight[:, None] * wt / denominator
    design[n:, m + 1] = weight * omega
    if capacitance:
        design[n:, m + 2] = -weight / omega  # 1/C: blocking electrodes, current collectors
    scale = np.linalg.norm(design, axis=0)  # columns of similar size keep lstsq well conditioned
    scale[scale == 0] = 1.0
    solution = np.linalg.lstsq(design / scale, target, rcond=None)[0] / scale
    resistances = solution[1:m + 1]
    positive = resistances[resistances >= 0].sum()
    negative = -resistances[resistances < 0].sum()
    if positive > 0:  # noqa: SIM108 - a nested conditional expression would read worse
        mu = 1.0 - negative / positive
    else:
        mu = -np.inf if negative > 0 else 1.0
    fitted = design @ solution
    z_fit = (fitted[:n] + 1j * fitted[n:]) / weight
    dof = max(2 * n - design.shape[1], 1)
    s = float(np.sqrt(np.sum((target - fitted) ** 2) / dof))
    return _Fit(m=m, mu=float(mu), s=s, z_fit=z_fit)
