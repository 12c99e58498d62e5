"""Warnings for what the data do not determine.

An arc whose peak lies outside the measured window cannot be told apart from a series resistor
(above the highest frequency) or from what follows it (below the lowest): NUTS then explores a
ridge on which the parts are wide and their sum is tight.  Labs that fit by least squares get
one arbitrary point on that ridge and a covariance-diagonal error that hides the trade-off; here
the warning names the parameters and gives the sum that the data do determine.  Such an arc is
named "outside the measured window: not resolved", and where its time constant lies more than a
decade beyond the window in a quarter of the draws or more (towards the assumed bound two
decades beyond it, nassb.inference.eis.coordinates) the warning says that the fit's assumption
sets it, not the data.  An arc whose CPE exponent lies near 0 (below :data:`FLAT_N` in most
draws) is named nearly flat: it spreads over many decades as a weak constant-phase dispersion,
not a semicircle, and its R, Q and time constant trade off along a curved sheet (yadg's
vsp_peis_with, n 0.05-0.2 on some cycles; the fast samplers follow that sheet in the coordinates
of nassb.inference.eis.sheet, but the data still do not fix R, Q and tau one by one).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .coordinates import TAU_MARGIN_DECADES

OUTSIDE = 0.10        # warn when this posterior share of an arc's peak lies outside the window
TRADE_OFF_CORR = -0.6  # and two resistances whose sum is much tighter than either part
TIGHTER = 0.5
WIDE_PART = 0.10      # ... and when each part is uncertain by more than this (relative sd)
WIDE = 0.5            # relative sd above which a parameter is called poorly determined
WIDE_N = 0.15         # sd of a CPE exponent above which it is called poorly determined
PINNED_DECADES = 1.0  # an arc's tau more than this many decades beyond the window's edge ...
PINNED_SHARE = 0.25   # ... in this share of the draws rests on the fit's assumption
FLAT_N = 0.25         # a CPE arc whose exponent lies below this ...
FLAT_SHARE = 0.5      # ... in this share of the draws or more is called nearly flat


def identifiability_warnings(circuit, spectrum, draws: dict, units: dict) -> list[str]:
    """Plain-language warnings for one spectrum fitted with ``circuit``, from the posterior
    ``draws`` of its parameters (name -> flat array, in the ``units`` reported)."""
    f_min, f_max = float(spectrum.frequency.min()), float(spectrum.frequency.max())
    arc_resistors = {a.resistor for a in circuit.arcs}
    series = [p.name for p in circuit.parameters if p.kind == "R" and p.name not in arc_resistors]
    out: list[str] = []
    named: set[tuple[str, ...]] = set()
    for k, arc in enumerate(circuit.arcs):
        tau = circuit.time_constant(arc, draws)
        peak = 1.0 / (2.0 * math.pi * tau)
        above, below = float(np.mean(peak > f_max)), float(np.mean(peak < f_min))
        if above > OUTSIDE:
            partners = series or [a.resistor for a in circuit.arcs[k + 1:k + 2]]
            group = [*partners, arc.resistor]
            out.append(f"{spectrum.name}: arc {arc.label()} outside the measured window: not resolved; it peaks "
                       f"above the highest measured frequency ({_hz(f_max)}) in {above:.0%} of draws"
                       f"{_pinned(tau, f_max, -1)}, "
                       "so the data do not separate "
                       f"{' and '.join(group)}: {_sum_text(group, draws, units)}, or fit the arc as one "
                       "resistor (as the paper's R_A), which also samples far better")
            named.update(itertools.combinations(sorted(group), 2))
        elif below > OUTSIDE:
            out.append(f"{spectrum.name}: arc {arc.label()} outside the measured window: not resolved; it peaks "
                       f"below the lowest measured frequency ({_hz(f_min)}) in {below:.0%} of draws"
                       f"{_pinned(tau, f_min, 1)}: "
                       f"{arc.resistor} is an extrapolation, "
                       "not a measurement; extend the spectrum to lower frequencies")
            named.add((arc.resistor, arc.resistor))
    out.extend(_flat_arcs(circuit, spectrum, draws))
    resistors = [p.name for p in circuit.parameters if p.kind == "R"]
    for a, b in itertools.combinations(resistors, 2):
        if tuple(sorted((a, b))) in named:
            continue
        corr = float(np.corrcoef(draws[a], draws[b])[0, 1])
        parts = min(_relative_sd(draws[a]), _relative_sd(draws[b]))
        if corr < TRADE_OFF_CORR and parts > WIDE_PART and _relative_sd(draws[a] + draws[b]) < TIGHTER * parts:
            out.append(f"{spectrum.name}: {a} and {b} trade off (correlation {corr:.2f}): "
                       f"{_sum_text([a, b], draws, units)}")
            named.add(tuple(sorted((a, b))))
    flagged = {name for pair in named for name in pair}
    wide = [p.name for p in circuit.parameters if p.name not in flagged and (
        _relative_sd(draws[p.name]) > WIDE if p.kind != "n" else float(np.std(draws[p.name])) > WIDE_N)]
    if wide:
        out.append(f"{spectrum.name}: poorly determined by the data: {', '.join(wide)} "
                   "(posterior much wider than the fit suggests); quote them with their intervals")
    return out


def _flat_arcs(circuit, spectrum, draws: dict) -> list[str]:
    """Warnings for the CPE arcs whose exponent lies below :data:`FLAT_N` in
    :data:`FLAT_SHARE` of the draws or more."""
    out = []
    for arc in circuit.arcs:
        if arc.capacitor.kind != "CPE":
            continue
        n = np.asarray(draws[f"{arc.capacitor.name}_n"], dtype=float)
        share = float(np.mean(n < FLAT_N))
        if share >= FLAT_SHARE:
            out.append(f"{spectrum.name}: arc {arc.label()} is nearly flat: its exponent {arc.capacitor.name}_n lies "
                       f"below {FLAT_N:g} in {share:.0%} of draws (median {np.median(n):.2f}), so it spreads over "
                       f"many decades as a weak constant-phase dispersion, not a semicircle; {arc.resistor}, "
                       f"{arc.capacitor.name}_Q and its time constant are not determined by it; fit that part of the "
                       "spectrum with another element (a series CPE, or fewer arcs)")
    return out


def _pinned(tau: np.ndarray, edge: float, side: int) -> str:
    """Where an arc's time constant lies more than :data:`PINNED_DECADES` beyond the window's edge
    at ``edge`` Hz (``side`` -1 above the highest frequency, +1 below the lowest), towards the
    assumed bound, in :data:`PINNED_SHARE` of the draws or more, the words that say the
    assumption sets it; else nothing."""
    window = 1.0 / (2.0 * math.pi * edge)
    beyond = float(np.mean(side * np.log10(tau / window) > PINNED_DECADES))
    if beyond < PINNED_SHARE:
        return ""
    return (f" (its time constant lies over {PINNED_DECADES:g} decade beyond the window in {beyond:.0%} of them, "
            f"towards the fit's assumed bound of {TAU_MARGIN_DECADES:g} decades: the assumption sets it, not the data)")


def _relative_sd(values: np.ndarray) -> float:
    mean = float(np.mean(values))
    return float(np.std(values)) / abs(mean) if mean else math.inf


def _sum_text(names: list[str], draws: dict, units: dict) -> str:
    total = sum(draws[n] for n in names)
    parts = ", ".join(f"{n} ±{_relative_sd(draws[n]):.0%}" for n in names)
    unit = units[names[0]]
    return (f"their sum {'+'.join(names)} = {np.mean(total):.4g} ± {np.std(total):.2g} {unit} is determined, "
            f"the parts are not ({parts}); report the sum")


def _hz(f: float) -> str:
    for scale, prefix in ((1e6, "MHz"), (1e3, "kHz"), (1.0, "Hz"), (1e-3, "mHz")):
        if f >= scale:
            return f"{f / scale:g} {prefix}"
    return f"{f:g} Hz"
