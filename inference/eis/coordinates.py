"""The coordinates a fit moves in, shared by least squares and NUTS.

Every positive parameter is fitted as its logarithm and a CPE exponent n as logit(n), so that
0 < n < 1.  An arc ``p(R,CPE)`` or ``p(R,C)`` is fitted as (ln R, ln tau, n) rather than
(ln R, ln Q, n): tau = (R Q)^(1/n) places the arc on the frequency axis (Q = tau^n / R,
C = tau / R).  The arcs' ln tau are ordered left to right (the leftmost arc is the fastest)
through the coordinates themselves, ln tau_1 and then ln(ln tau_k - ln tau_(k-1)), so that two
arcs cannot swap labels from a poor start or between chains.

Every coordinate is unconstrained: one vector ``theta`` per spectrum, in the order
``Layout.coordinates``.  Priors are stated on the natural quantities (ln R, ln tau, n) and
carried to theta with the log-Jacobian that :meth:`Layout.unpack` returns.

An arc's ln tau has a flat prior over the measured window (1/omega_max .. 1/omega_min) widened
by :data:`TAU_MARGIN_DECADES` decades each side, with steep normal walls beyond it (sd
:data:`TAU_WALL_DECADES` of a decade): no pull towards the middle, and a stated assumption of
every fit (:func:`window_assumption`, in its text and JSON) that an arc relaxes within two
decades of the frequencies measured.  Least squares may put an arc the data do not place at tau
= 1e-17 or 1e21 s (yadg's vsp_peis_with); the posterior keeps it within the assumed range, so
that what trades off against it is a bounded ridge rather than an improper one.  An arc the
data put beyond the window is reported as not resolved (nassb.inference.eis.identifiability):
its time constant, and what trades off against it, then rest on the assumption, not the data.
(Before, the flat part ended at the window with tails of one decade's sd: the samplers'
diagnostics passed on 16 of vsp_peis_with's 32 spectra, against 22 with this one, bench/README.md;
the fast samplers now work in the coordinates of nassb.inference.eis.sheet, and pass on 32.)

Scales: each log quantity gets a weakly informative normal prior centred on a magnitude the
spectrum itself gives (its resistance span, its frequency window) with a wide spread, so the
prior only says "an ohm-scale resistor in an ohm-scale spectrum", not what the answer is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .circuit import Circuit
from .spectrum import Spectrum

LOG_SD = 3.0       # prior sd of ln R, ln Q, ln C, ln L, ln W, ln Z0, ln tau around the spectrum's own scale
LOG_TAU_SD = math.log(10.0)  # ln tau's spread in the regularisation of the least-squares curvature
TAU_MARGIN_DECADES = 2.0     # prior: ln tau flat over the measured window and this many decades each side ...
TAU_WALL_DECADES = 0.1       # ... with normal walls of this sd (decades) beyond
_MIN_GAP = 0.1               # ln tau between two arcs brought within that range, at least


@dataclass(frozen=True)
class Layout:
    """Which coordinate each parameter comes from.

    Attributes
    ----------
    logs : tuple of str
        Parameters fitted directly as ln(value) (resistors, and the C/CPE/L/W outside arcs).
    exponents : tuple of str
        CPE exponents n.
    arcs : tuple of (str, str, str or None)
        (resistor, capacitive element, its exponent or None for a capacitor) per ordered arc.
    """

    circuit: Circuit
    logs: tuple[str, ...]
    exponents: tuple[str, ...]
    arcs: tuple[tuple[str, str, str | None], ...]

    @classmethod
    def of(cls, circuit: Circuit) -> Layout:
        arcs = tuple((a.resistor, a.capacitor.name, f"{a.capacitor.name}_n" if a.capacitor.kind == "CPE" else None)
                     for a in circuit.arcs)
        in_arc = {f"{c}_Q" if n else c for _, c, n in arcs}
        logs = tuple(p.name for p in circuit.parameters if p.log_scale and p.name not in in_arc)
        exponents = tuple(p.name for p in circuit.parameters if p.kind == "n")
        return cls(circuit, logs, exponents, arcs)

    @property
    def coordinates(self) -> tuple[str, ...]:
        """Names of theta's entries: ln R..., the arcs' tau coordinates, logit n..."""
        taus = tuple(f"log_tau[{a[0]}]" if k == 0 else f"log_gap[{a[0]}]" for k, a in enumerate(self.arcs))
        return (*(f"log[{n}]" for n in self.logs), *taus, *(f"logit[{n}]" for n in self.exponents))

    def unpack(self, theta, xp=np):
        """(logs, log_tau, exponents, log_jacobian) from ``theta[..., i]``.

        ``log_tau`` is a list (one entry per arc, increasing); the log-Jacobian is that of
        (ln tau, n) with respect to theta, to be added to a prior stated on ln tau and n.
        """
        i = 0
        logs = {}
        for name in self.logs:
            logs[name] = theta[..., i]
            i += 1
        log_tau: list[Any] = []  # arrays or tensors, as theta is
        log_jacobian = 0.0
        for k in range(len(self.arcs)):
            y = theta[..., i]
            i += 1
            if k:
                log_tau.append(log_tau[-1] + xp.exp(y))
                log_jacobian = log_jacobian + y
            else:
                log_tau.append(y)
        exponents = {}
        for name in self.exponents:
            x = theta[..., i]
            i += 1
            n = 1.0 / (1.0 + xp.exp(-x))
            exponents[name] = n
            log_jacobian = log_jacobian + xp.log(n) + xp.log1p(-n)
        return logs, log_tau, exponents, log_jacobian

    def pack(self, logs: dict, log_tau, exponents: dict) -> np.ndarray:
        """theta from natural quantities (``log_tau`` strictly increasing)."""
        taus = ([log_tau[0]] + [np.log(log_tau[k] - log_tau[k - 1]) for k in range(1, len(log_tau))]
                if len(log_tau) else [])
        logits = [np.log(exponents[n]) - np.log1p(-exponents[n]) for n in self.exponents]
        return np.array([*(logs[n] for n in self.logs), *taus, *logits], dtype=float)

    def prior_constants(self, scales: list[Scales]) -> tuple[np.ndarray, np.ndarray]:
        """Per spectrum: the prior centres of the log coordinates (spectra x logs), and the
        measured window's middle and half-width in ln tau (spectra x 2)."""
        centres = np.array([[sc.log_centre(self.circuit.parameter(n).kind) for n in self.logs] for sc in scales])
        window = np.array([[sc.log_tau_mid, sc.log_tau_half_width] for sc in scales])
        return centres.reshape(len(scales), len(self.logs)), window

    def log_prior(self, theta, centres, window, xp=np, skip: tuple[str, ...] = ()):
        """ln p(theta) up to a constant, per spectrum (``theta[s]`` with row s of
        :meth:`prior_constants`): normal ln R... around each spectrum's own scales, ln tau flat
        over the window and two decades each side with steep walls beyond, uniform n, ordered
        arcs."""
        logs, log_tau, _exponents, out = self.unpack(theta, xp)
        for i, name in enumerate(self.logs):
            if name not in skip:  # a joint fit's shared resistance has its prior on R_ref instead
                out = out - 0.5 * ((logs[name] - centres[:, i]) / LOG_SD) ** 2
        margin, wall = TAU_MARGIN_DECADES * math.log(10.0), TAU_WALL_DECADES * math.log(10.0)
        for lt in log_tau:
            beyond = xp.maximum(xp.abs(lt - window[:, 0]) - window[:, 1] - margin, 0.0)
            out = out - 0.5 * (beyond / wall) ** 2
        return out

    def tau_indices(self) -> np.ndarray:
        """Indices in theta of the arcs' time-constant coordinates (ln tau_1, then the gaps)."""
        return np.arange(len(self.logs), len(self.logs) + len(self.arcs))

    def within_bounds(self, theta: np.ndarray, window: np.ndarray,
                      margin: float = TAU_MARGIN_DECADES) -> np.ndarray | None:
        """``theta`` (one spectrum's, with ``window`` its row of :meth:`prior_constants`) with every
        arc's ln tau brought within the window widened by ``margin`` decades (by default the
        assumed range), the arcs kept in order; None where all lie within it.

        Least squares does not see that range and may leave an arc decades beyond it (tau 3e6 s
        where the range ends at 159 s, yadg's vsp_peis_with), where the prior's walls are so steep
        that Newton steps from there stall far from the posterior's mode
        (nassb.inference.eis.laplace.find_mode).  Arcs brought to the same edge are set
        :data:`_MIN_GAP` apart, inwards from it."""
        logs, log_tau, exponents, _ = self.unpack(np.asarray(theta, dtype=float))
        widen = margin * math.log(10.0)
        lo, hi = window[0] - window[1] - widen, window[0] + window[1] + widen
        given = [float(lt) for lt in log_tau]
        inside = [min(max(lt, lo), hi) for lt in given]
        if np.allclose(inside, given):
            return None
        for k in range(1, len(inside)):           # in order, upwards from the lower edge ...
            inside[k] = max(inside[k], inside[k - 1] + _MIN_GAP)
        inside[-1] = min(inside[-1], hi)
        for k in range(len(inside) - 2, -1, -1):  # ... and downwards from the upper one
            inside[k] = min(inside[k], inside[k + 1] - _MIN_GAP)
        return self.pack(logs, inside, exponents)

    def prior_precision(self) -> np.ndarray:
        """A diagonal precision of theta's prior, to regularise the least-squares curvature."""
        return np.array([1.0 / LOG_SD ** 2] * len(self.logs) + [1.0 / LOG_TAU_SD ** 2] * len(self.arcs)
                        + [3.0 / np.pi ** 2] * len(self.exponents))

    def values(self, logs: dict, log_tau, exponents: dict, xp=np) -> dict:
        """Parameter values from natural quantities; ``log_tau[k]`` is arc k's ln tau."""
        out = {name: xp.exp(logs[name]) for name in self.logs}
        out.update(exponents)
        for k, (resistor, capacitor, exponent) in enumerate(self.arcs):
            lt = log_tau[k]
            if exponent is None:
                out[capacitor] = xp.exp(lt - logs[resistor])
            else:
                out[f"{capacitor}_Q"] = xp.exp(exponents[exponent] * lt - logs[resistor])
        return out


def tau_window(spectrum: Spectrum) -> tuple[float, float]:
    """s: the measured window's time constants, 1/(2 pi f_max) and 1/(2 pi f_min)."""
    return (1.0 / (2.0 * math.pi * float(spectrum.frequency.max())),
            1.0 / (2.0 * math.pi * float(spectrum.frequency.min())))


def tau_bounds(spectrum: Spectrum) -> tuple[float, float]:
    """s: the time constants an arc is assumed to lie between, the window widened by
    :data:`TAU_MARGIN_DECADES` decades each side."""
    lo, hi = tau_window(spectrum)
    widen = 10.0 ** TAU_MARGIN_DECADES
    return lo / widen, hi * widen


def window_assumption(spectrum: Spectrum | None = None) -> str:
    """The stated prior on the arcs, in words: with the spectrum's own bounds, or in general."""
    where = ""
    if spectrum is not None:
        lo, hi = tau_bounds(spectrum)
        where = f" (tau {_seconds(lo)} to {_seconds(hi)})"
    return (f"assumed: every arc's time constant lies within {TAU_MARGIN_DECADES:g} decades of the measured "
            f"window{where}, flat there, and CPE exponents 0 < n < 1; an arc beyond the window is reported as not "
            "resolved")


def _seconds(tau: float) -> str:
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if tau >= scale:
            return f"{tau / scale:.3g} {unit}"
    return f"{tau / 1e-9:.3g} ns"


@dataclass(frozen=True)
class Scales:
    """A spectrum's own magnitudes: the priors' centres and the least-squares starts."""

    resistance: float   # ohm: the real-part span, or |Z| at the lowest frequency
    high: float         # ohm: Z' at the highest frequency
    omega_min: float
    omega_max: float

    @classmethod
    def of(cls, spectrum: Spectrum) -> Scales:
        order = np.argsort(spectrum.frequency)
        z = spectrum.z[order]
        w = spectrum.omega[order]
        span = float(np.ptp(z.real))
        resistance = max(span, float(np.abs(z).max()) * 0.1, 1e-300)
        return cls(resistance, max(float(z.real[-1]), 1e-3 * resistance), float(w[0]), float(w[-1]))

    @property
    def log_tau_mid(self) -> float:
        return -0.5 * (math.log(self.omega_min) + math.log(self.omega_max))

    @property
    def log_tau_half_width(self) -> float:
        return 0.5 * (math.log(self.omega_max) - math.log(self.omega_min))

    def log_centre(self, kind: str, exponent: float = 0.8) -> float:
        """Prior centre of ln(value) for a parameter of ``kind`` outside an arc."""
        w_mid = math.exp(-self.log_tau_mid)
        r = self.resistance
        return {
            "R": math.log(r),
            "C": -math.log(w_mid * r),
            "Q": -math.log(r) - exponent * math.log(w_mid),
            "L": math.log(1e-2 * r / self.omega_max),
            "W": math.log(r * math.sqrt(w_mid)),
            "Z0": math.log(r),          # a finite Warburg's or Gerischer's resistance: the spectrum's
            "RG": math.log(r),
            "tau": self.log_tau_mid,    # its time constant: the middle of the measured window
        }[kind]
