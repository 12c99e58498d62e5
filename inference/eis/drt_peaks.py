"""The peaks of a DRT posterior, how sure each one is, and the circuit they suggest.

A peak is a local maximum of the projected posterior median max(mean, 0) that rises at least
:data:`PROMINENCE` of the curve's highest point within the measured window (a tail beyond it
does not hide the arcs) above the ground between it and its neighbours.  It owns
the window of relaxation times between the lowest points that separate it from its neighbours
(the grid's ends for the outermost peaks), so the resistances of the peaks add up to the
polarisation resistance.  In every posterior draw (projected onto gamma >= 0):

* its resistance is the area of gamma over its window, R = sum gamma_k Delta ln tau, taken on the
  draw as sampled (a linear function of the Gaussian posterior: the projection would add the
  positive half of the noise of every grid point the data do not determine), and for a peak
  inside the measured range only within :data:`AREA_REACH` of that range: faster relaxations
  act as a series resistance at every measured frequency (they are counted in R_inf, see
  :func:`series_resistance`), slower ones as a tail that is not an arc's;
* its tau is where the draw is highest in the window, within :data:`SEARCH_DECADES` of the
  median's peak (and of the peaks merged into it) and within the measured range of 1/(2 pi f)
  widened by :data:`REACH` (refined by a parabola through the three grid points around it), its
  frequency 1/(2 pi tau);
* it *shows* when that highest point lies inside the searched range and stands at least
  :data:`DIP` above the draw at each end of that range that is not an end of the grid, and its
  area is at least :data:`MIN_SHARE` of the draw's polarisation resistance.

Its probability is the share of draws in which it shows.  Neighbours within
:data:`HIDDEN_DECADES` of each other that the draws do not separate (a probability below
:data:`RESOLVED`) are merged, the weakest first, across the shallower of their dips; where the
weaker peak stood at least :data:`HIDDEN_HEIGHT` of the stronger one's height, the merged peak
keeps its tau as *hidden*: two arcs too close to resolve (a lower one was a ripple of the
regularised curve).  A weak peak further from its neighbours stays a peak of its own, not
counted as an arc; one inside the measured window whose resistance's 95 % interval reaches 0 is a
ripple of the curve: it is dropped, and its window goes to its neighbour across the shallower dip (so that it takes no
resistance from an arc).

A single peak can hide two arcs closer than the DRT resolves.  Its width at half height tells:
on the paper's spectra (61 points, 0.5 % noise) one arc with n = 0.85 gives 0.8 decades, one with
n = 0.75 gives 1.0 to 1.2, two arcs with n = 0.9 a factor 5 apart give 1.5; a peak wider than
:data:`BROAD_DECADES` is *broad*: two arcs too close to resolve, or one with n below about 0.75.

The suggested circuit is R0 (with L0 in front where the inductance is significant) and one
p(R,CPE) per probable peak inside the measured window, fastest first as ``fit eis`` orders arcs:
``R0-p(R1,CPE1)-p(R2,CPE2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..statistics import summarise
import itertools

PROMINENCE = 0.05    # a peak rises this fraction of the highest point in the window above its surroundings
DIP = 0.05           # in a draw, a peak stands this fraction above the boundaries it shares
MIN_SHARE = 0.01     # and holds this fraction of the polarisation resistance
RESOLVED = 0.9       # probability from which a peak counts as an arc
HIDDEN_DECADES = 1.0  # weak peaks this close to a neighbour are merged with it ...
HIDDEN_HEIGHT = 0.25  # ... and one this high against the stronger one was an arc hidden in it
BROAD_DECADES = 1.3   # a peak wider than this at half height may hold two arcs (see the module docstring)
AREA_REACH = 3.0      # an arc's resistance counts gamma within this factor beyond the measured range of tau
REACH = 1.5          # the measured range of tau, widened by this factor at each end, is searched ...
SEARCH_DECADES = 1.0  # ... within this many decades of the peak of the median


@dataclass(frozen=True)
class Peak:
    """One peak of a DRT: its posterior draws and what they say.

    Attributes
    ----------
    index : int
        Grid index of the maximum of the posterior median.
    window : (int, int)
        Grid indices [start, stop) of the relaxation times it owns.
    tau, resistance : ndarray
        Draws of its time constant (s: of the draws in which it shows, all if none) and of its
        resistance (area, every draw).
    probability : float
        Share of draws in which it shows (see the module docstring).
    in_window : bool
        Whether its tau lies within 1/(2 pi f) of the measured frequencies.
    share : float
        Its share of the polarisation resistance (posterior median curve).
    hidden : tuple of float
        s: the tau of each peak merged into this one that held a real share of its area (arcs
        too close to resolve from it).
    width : float
        Decades: its width at half height on the posterior median.
    """

    index: int
    window: tuple[int, int]
    tau: np.ndarray
    resistance: np.ndarray
    probability: float
    in_window: bool
    share: float
    hidden: tuple[float, ...] = ()
    width: float = 0.0

    @property
    def broad(self) -> bool:
        """Wider at half height than one arc with n >= 0.75 gives (:data:`BROAD_DECADES`)."""
        return self.width > BROAD_DECADES

    @property
    def counted(self) -> bool:
        """Whether the suggested circuit gives it an arc: probable and inside the window."""
        return self.probability >= RESOLVED and self.in_window

    @property
    def resolved(self) -> bool:
        """Counted, no second arc hidden in it, and not broad."""
        return self.counted and not self.hidden and not self.broad

    def summary(self, unit: str) -> dict:
        """tau (s, with its median), frequency (Hz), R (``unit``) summarised, and the verdicts."""
        return {"tau": summarise(self.tau, "s", tail=False) | {"median": float(np.median(self.tau))},
                "frequency": summarise(1 / (2 * math.pi * self.tau), "Hz", tail=False),
                "R": summarise(self.resistance, unit, tail=False),
                "probability": self.probability, "share": self.share, "in_window": self.in_window,
                "counted": self.counted, "resolved": self.resolved, "hidden_tau": list(self.hidden),
                "width_decades": self.width}


def find_peaks(tau: np.ndarray, curve: np.ndarray, raw: np.ndarray, step: float,
               frequency: np.ndarray) -> list[Peak]:
    """The peaks of ``curve`` (the projected median on the grid ``tau``, s) with their draws
    (``raw``: gamma as sampled, shape (draws, tau)); ``frequency`` (Hz) the measured ones."""
    from scipy.signal import find_peaks as maxima

    measured = (1 / (2 * math.pi * float(np.max(frequency))), 1 / (2 * math.pi * float(np.min(frequency))))
    inside = (tau >= measured[0]) & (tau <= measured[1])
    highest = float(curve[inside].max()) if np.any(inside) else float(curve.max())
    if highest <= 0:
        return []
    found, _ = maxima(np.r_[0.0, curve, 0.0], prominence=PROMINENCE * highest)
    indices = [int(k) - 1 for k in found]
    if not indices:
        return []
    context = _Context(tau, curve, raw, np.maximum(raw, 0.0), step, measured)
    cuts = [0] + [a + int(np.argmin(curve[a:b + 1])) for a, b in itertools.pairwise(indices)] + [tau.size]
    groups: list[tuple[int, list[int]]] = [(k, []) for k in indices]

    def merge(p: int, q: int) -> None:
        """Merge neighbours p and q under the stronger one's maximum, the weaker one possibly hidden."""
        first = min(p, q)
        faint, strong = sorted((first, first + 1), key=lambda r: curve[groups[r][0]])
        hidden = [*groups[first][1], *groups[first + 1][1], groups[faint][0]]
        groups[first:first + 2] = [(groups[strong][0], hidden)]
        del cuts[first + 1]

    def neighbours(p: int, reach: float) -> list[int]:
        return [r for r in (p - 1, p + 1) if 0 <= r < len(groups)
                and abs(math.log10(tau[groups[r][0]] / tau[groups[p][0]])) <= reach]

    while True:
        peaks = [context.peak(index, hidden, cuts[p], cuts[p + 1], p > 0, p < len(groups) - 1)
                 for p, (index, hidden) in enumerate(groups)]
        weak = [p for p, peak in enumerate(peaks)
                if peak.probability < RESOLVED and peak.in_window and neighbours(p, HIDDEN_DECADES)]
        if not weak:
            return _without_ripples(peaks, context)
        p = min(weak, key=lambda q: peaks[q].probability)
        merge(p, max(neighbours(p, HIDDEN_DECADES), key=lambda r: curve[cuts[max(p, r)]]))


def _without_ripples(peaks: list[Peak], context: _Context) -> list[Peak]:
    """The peaks with each ripple's window given to its neighbour across the shallower dip (the
    neighbour's resistance and share grow; its tau and probability stay)."""
    from dataclasses import replace

    peaks = list(peaks)
    while len(peaks) > 1:
        ripples = [p for p, peak in enumerate(peaks)
                   if peak.in_window and peak.probability < RESOLVED and np.percentile(peak.resistance, 2.5) <= 0]
        if not ripples:
            break
        p = ripples[0]
        sides = [r for r in (p - 1, p + 1) if 0 <= r < len(peaks)]
        q = max(sides, key=lambda r: context.curve[peaks[max(p, r)].window[0]])
        start, stop = min(peaks[p].window[0], peaks[q].window[0]), max(peaks[p].window[1], peaks[q].window[1])
        peaks[q] = replace(peaks[q], window=(start, stop), resistance=context.area(start, stop, peaks[q].index),
                           share=peaks[q].share + peaks[p].share)
        del peaks[p]
    return peaks


@dataclass(frozen=True)
class _Context:
    tau: np.ndarray
    curve: np.ndarray
    raw: np.ndarray
    draws: np.ndarray
    step: float
    measured: tuple[float, float]

    def area(self, start: int, stop: int, index: int) -> np.ndarray:
        """Draws of the area of gamma (as sampled) over [start, stop): for a peak at ``index``
        inside the measured range only within :data:`AREA_REACH` of it."""
        part = self.tau[start:stop]
        keep = np.ones(part.size, dtype=bool)
        if self.measured[0] <= self.tau[index] <= self.measured[1]:
            keep = (part >= self.measured[0] / AREA_REACH) & (part <= self.measured[1] * AREA_REACH)
        return self.raw[:, start:stop][:, keep].sum(axis=1) * self.step

    def peak(self, index: int, hidden: list[int], start: int, stop: int, left: bool, right: bool) -> Peak:
        """The peak at ``index`` over its window [start, stop), the peaks ``hidden`` merged into it;
        ``left``/``right``: it shares that boundary with a neighbour."""
        tau, curve = self.tau, self.curve
        part = self.draws[:, start:stop]
        area = self.area(start, stop, index)
        centres = tau[[index, *hidden]]
        near = ((np.log10(tau[start:stop]) >= np.log10(centres.min()) - SEARCH_DECADES)
                & (np.log10(tau[start:stop]) <= np.log10(centres.max()) + SEARCH_DECADES))
        inside = near & (tau[start:stop] >= self.measured[0] / REACH) & (tau[start:stop] <= self.measured[1] * REACH)
        searched = inside if np.any(inside) else np.ones(stop - start, dtype=bool)
        top = np.argmax(np.where(searched[None, :], part, -np.inf), axis=1)
        height = part[np.arange(part.shape[0]), top]
        shows = (height > 0) & (area >= MIN_SHARE * self.raw.sum(axis=1) * self.step)
        first, last = int(np.flatnonzero(searched)[0]), int(np.flatnonzero(searched)[-1])
        if left or first > 0:
            shows &= (top > first) & (part[:, first] <= (1 - DIP) * height)
        if right or last < stop - start - 1:
            shows &= (top < last) & (part[:, last] <= (1 - DIP) * height)
        total = float(curve.sum()) * self.step
        where = _refined(tau, self.draws, start + top)
        return Peak(index, (start, stop), where[shows] if shows.any() else where, area, float(np.mean(shows)),
                    bool(self.measured[0] <= tau[index] <= self.measured[1]),
                    float(curve[start:stop].sum() * self.step / total) if total > 0 else 0.0,
                    tuple(float(tau[k]) for k in sorted(hidden) if curve[k] >= HIDDEN_HEIGHT * curve[index]
                          and abs(math.log10(tau[k] / tau[index])) <= HIDDEN_DECADES),
                    _width(tau, curve, index))


def _width(tau: np.ndarray, curve: np.ndarray, index: int) -> float:
    """Decades between the points where ``curve`` falls to half its value at ``index``."""
    half = 0.5 * curve[index]
    left = index
    while left > 0 and curve[left] > half:
        left -= 1
    right = index
    while right < curve.size - 1 and curve[right] > half:
        right += 1
    return float(math.log10(tau[right] / tau[left]))


def _refined(tau: np.ndarray, draws: np.ndarray, top: np.ndarray) -> np.ndarray:
    """tau of each draw's maximum, refined by a parabola in ln tau through the points around it."""
    rows = np.arange(draws.shape[0])
    inner = np.clip(top, 1, tau.size - 2)
    left, mid, right = draws[rows, inner - 1], draws[rows, inner], draws[rows, inner + 1]
    bend = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(bend < 0, 0.5 * (left - right) / bend, 0.0)
    shift = np.where((top == inner) & np.isfinite(shift), np.clip(shift, -0.5, 0.5), 0.0)
    log_tau = np.log(tau)
    return np.exp(log_tau[top] + shift * (log_tau[1] - log_tau[0]))


def suggest_circuit(peaks: list[Peak], inductive: bool) -> str:
    """R0 (L0 first where ``inductive``) and one p(R,CPE) per counted peak, fastest first."""
    parts = (["L0"] if inductive else []) + ["R0"]
    for k, _ in enumerate(sorted((p for p in peaks if p.counted), key=lambda p: p.index), start=1):
        parts.append(f"p(R{k},CPE{k})")
    return "-".join(parts)


def series_resistance(r_inf: np.ndarray, tau: np.ndarray, raw: np.ndarray, step: float,
                      frequency: np.ndarray) -> np.ndarray:
    """Draws of the resistance the data see in series: R_inf and the relaxations faster than
    :data:`AREA_REACH` times the fastest measured (1/(2 pi f_max)), which no measured frequency
    tells from a resistor (the two trade off; their sum is determined)."""
    fast = tau < 1 / (2 * math.pi * float(np.max(frequency))) / AREA_REACH
    return r_inf + raw[:, fast].sum(axis=1) * step

