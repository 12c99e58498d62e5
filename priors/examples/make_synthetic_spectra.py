"""Generate the SYNTHETIC impedance spectra of priors/data/synthetic/eis/ (run from the repository root).

The seed paper's raw spectra are not available.  These are drawn from known equivalent circuits
whose magnitudes follow the paper (Figs. 5, 7 and 9), with stated noise and fixed seeds, so that
fits have data whose truth is known.  Every file says in its header that it is synthetic, which
circuit and which true parameters made it; never present them as measurements.

    python priors/examples/make_synthetic_spectra.py

Derivation of the numbers (area-specific values are divided by the electrode area to give the
raw ohm values written in the files; a CPE's Q is chosen from its arc's peak frequency,
Q = (1 / (2 pi f_peak))^n / R with R in ohm, so Q is in the raw F s^(n-1) of the file):

* Electrode area 0.503 cm^2: the paper's 8 mm sodium (and cathode) discs, pi (0.4 cm)^2.
* Na | NZSP | Na (Fig. 5), 110 um tape: R_A + R_B = d / sigma(T) with sigma = 1.6 mS/cm at
  30 degC and E_A = 0.28 eV, i.e. 6.875 ohm cm^2 at 30 degC, split 40 % (R_A, unresolved grain
  part, a plain resistor) and 60 % (R_B, grain boundaries).  R_C = 2 x 1.5 ohm cm^2 at 30 degC
  (two interfaces) with E_A = 0.41 eV.  Arrhenius: R(T) = R(30 degC) exp(E_A / k_B (1/T - 1/T_ref)).
  CPE_B: n = 0.85, Q fixed across T so that the grain-boundary arc peaks at 250 kHz at 30 degC;
  CPE_C: n = 0.80, Q fixed so that the interface arc peaks at 2 kHz at 30 degC.  Both peaks follow
  tau = (R Q)^(1/n) down in frequency as R grows at low T.
* Full cells after formation at 30 degC (Fig. 7): R0 = d_sep / sigma + one Na | NZSP interface
  (1.5 ohm cm^2): 50 um -> 4.6 ohm cm^2 (cell 1), 110 um -> 8.4 ohm cm^2 (cell 2).  Arc sizes and
  peak frequencies are tuned so that the visible maxima of -Z'' sit where the paper puts them
  (cell 1: CT 230 Hz, LE 10 Hz; cell 2: DL ~20 kHz shoulder, CT ~1000 Hz, LE ~30 Hz) and Z' at
  0.1 Hz matches the paper's totals (590 and 120 ohm cm^2).  CPE_CC is sized by |Z_CC(0.1 Hz)|.
* Cell 2 cycling (Fig. 9b): only R_LE grows, R_LE(c) = R_LE(0) (1 + 0.6 x + 0.2 x^2), x = c/70,
  i.e. +80 % after 70 cycles, slightly convex; the other parameters jitter by 1 % (R, Q) and
  0.002 (n).  Cycle 0 is the after-formation spectrum itself, as in the paper's Fig. 9a.
* One deliberately non-identifiable spectrum: the 30 degC Na | NZSP | Na cell with its
  grain-boundary arc moved to 10 MHz, above the 1 MHz limit of the sweep.

Noise: independent Gaussian on Z' and Z'' with sd 0.5 % of the true |Z| at each frequency.
Each spectrum draws from its own generator, seeded with (SEED, key), so one file does not
change when another is added.
"""

# No `from __future__ import annotations`: tests load this file by path (importlib), where a
# dataclass with string annotations looks its module up in sys.modules and fails.
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nassb.inference.eis.circuit import Circuit

BOLTZMANN_EV = 8.617333262e-5
OUT = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "eis"
SEED = 20261126
T_REF_C = 30.0
AREA_CM2 = 0.503  # 8 mm disc
NOISE = 0.005  # sd of Z' and Z'' as a fraction of |Z|
POINTS_PER_DECADE = 10
SCRIPT = "priors/examples/make_synthetic_spectra.py"

SYMMETRIC = "R_A-p(R_B,CPE_B)-p(R_C,CPE_C)"
FULL_CELL = "R0-p(R_DL,CPE_DL)-p(R_CT,CPE_CT)-p(R_LE,CPE_LE)-CPE_CC"
UNRESOLVED = "R0-p(R1,CPE1)-p(R2,CPE2)"


@dataclass(frozen=True)
class SyntheticSpectrum:
    """One synthetic spectrum: its circuit, true raw parameters (ohm, F s^(n-1), 1) and sweep.

    ``seed_key`` picks the noise: spectra with the same key get the same noise draw.
    """

    circuit: str
    truth: dict
    temperature_c: float
    f_max_hz: float
    f_min_hz: float
    seed_key: int
    cycle: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def frequency(self) -> np.ndarray:
        """Log-spaced frequencies in Hz, high to low, as an instrument sweeps."""
        decades = math.log10(self.f_max_hz / self.f_min_hz)
        count = round(decades * POINTS_PER_DECADE) + 1
        return np.logspace(math.log10(self.f_max_hz), math.log10(self.f_min_hz), count)

    def peaks(self) -> dict[str, float]:
        """Peak frequency 1 / (2 pi tau) in Hz of each top-level arc, by arc label."""
        c = Circuit(self.circuit)
        return {arc.label(): 1.0 / (2 * math.pi * c.time_constant(arc, self.truth)) for arc in c.arcs}

    def impedance(self, frequency: np.ndarray | None = None) -> np.ndarray:
        """Noise-free complex Z in ohm."""
        f = self.frequency if frequency is None else np.asarray(frequency, dtype=float)
        return Circuit(self.circuit).complex_impedance(self.truth, 2 * np.pi * f)

    def noisy(self) -> tuple[np.ndarray, np.ndarray]:
        """(frequency in Hz, noisy complex Z in ohm), reproducible from SEED and ``seed_key``."""
        f = self.frequency
        z = self.impedance(f)
        rng = np.random.default_rng([SEED, self.seed_key])
        sd = NOISE * np.abs(z)
        return f, z + sd * rng.standard_normal(f.size) + 1j * sd * rng.standard_normal(f.size)


def _sig(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def _arrhenius(t_c: float, value_ref: float, energy_ev: float) -> float:
    """A resistance at t_c degC from its value at T_REF_C with activation energy energy_ev."""
    return value_ref * math.exp(energy_ev / BOLTZMANN_EV * (1 / (t_c + 273.15) - 1 / (T_REF_C + 273.15)))


def _cpe_q(r_ohm: float, f_peak_hz: float, n: float) -> float:
    """Q (F s^(n-1)) that puts the peak of p(R, CPE) at f_peak_hz."""
    return _sig((1 / (2 * math.pi * f_peak_hz)) ** n / r_ohm)


def _raw(r_area: float) -> float:
    return _sig(r_area / AREA_CM2)


# -- Na | NZSP | Na (Fig. 5) ---------------------------------------------------------------
SEPARATOR_UM = 110.0
SIGMA_MS_CM = 1.6
E_BULK_EV = 0.28
R_INTERFACE_AREA = 1.5  # ohm cm^2 per side at 30 degC
E_INTERFACE_EV = 0.41
GRAIN_FRACTION = 0.4  # R_A / (R_A + R_B)
N_B, F_B_30C = 0.85, 250e3
N_C, F_C_30C = 0.80, 2e3
TEMPERATURES_C = (-10, 0, 10, 20, 30, 40)


def _separator_area(t_c: float, thickness_um: float = SEPARATOR_UM) -> float:
    """d / sigma in ohm cm^2."""
    return _arrhenius(t_c, thickness_um * 1e-4 / (SIGMA_MS_CM * 1e-3), E_BULK_EV)


def _symmetric(t_c: float) -> dict:
    r_a = _raw(GRAIN_FRACTION * _separator_area(t_c))
    r_b = _raw((1 - GRAIN_FRACTION) * _separator_area(t_c))
    r_c = _raw(2 * _arrhenius(t_c, R_INTERFACE_AREA, E_INTERFACE_EV))
    # Q fixed at its 30 degC value, so the peaks follow 1/R with temperature.
    q_b = _cpe_q(_raw((1 - GRAIN_FRACTION) * _separator_area(T_REF_C)), F_B_30C, N_B)
    q_c = _cpe_q(_raw(2 * R_INTERFACE_AREA), F_C_30C, N_C)
    return {"R_A": r_a, "R_B": r_b, "CPE_B_Q": q_b, "CPE_B_n": N_B, "R_C": r_c, "CPE_C_Q": q_c, "CPE_C_n": N_C}


# -- full cells after formation (Fig. 7) and cell 2 during cycling (Fig. 9) ------------------
# (R in ohm cm^2, f_peak in Hz, n) per arc; CPE_CC as (|Z_CC(0.1 Hz)| in ohm cm^2, n).
CELLS = {
    1: {"R0": 5.0, "DL": (15.0, 20e3, 0.85), "CT": (325.0, 260.0, 0.85), "LE": (225.0, 8.0, 0.85),
        "CC": (150.0, 0.90)},
    2: {"R0": 8.0, "DL": (20.0, 20e3, 0.90), "CT": (40.0, 1000.0, 0.85), "LE": (42.0, 27.0, 0.85),
        "CC": (60.0, 0.90)},
}
CYCLES = tuple(range(0, 71, 10))


def _full_cell(spec: dict) -> dict:
    truth = {"R0": _raw(spec["R0"])}
    for arc in ("DL", "CT", "LE"):
        r_area, f_peak, n = spec[arc]
        truth[f"R_{arc}"] = _raw(r_area)
        truth[f"CPE_{arc}_Q"] = _cpe_q(truth[f"R_{arc}"], f_peak, n)
        truth[f"CPE_{arc}_n"] = n
    z_cc, n_cc = spec["CC"]
    truth["CPE_CC_Q"] = _sig(1 / (z_cc / AREA_CM2 * (2 * math.pi * 0.1) ** n_cc))
    truth["CPE_CC_n"] = n_cc
    return truth


def _r_le_growth(cycle: int) -> float:
    """R_LE(cycle) / R_LE(0): +80 % after 70 cycles, slightly convex."""
    x = cycle / 70
    return 1 + 0.6 * x + 0.2 * x * x


def _cycled(base: dict, cycle: int, rng: np.random.Generator) -> dict:
    if cycle == 0:
        return dict(base)
    truth = {}
    for name, value in base.items():
        if name.endswith("_n"):
            truth[name] = _sig(min(1.0, value + rng.normal(0.0, 0.002)), 4)
        else:
            truth[name] = _sig(value * math.exp(rng.normal(0.0, 0.01)))
    truth["R_LE"] = _sig(base["R_LE"] * _r_le_growth(cycle))
    # keep the LE arc's time constant: its peak stays put while the arc grows (Fig. 9a)
    truth["CPE_LE_Q"] = _sig(base["CPE_LE_Q"] * base["R_LE"] / truth["R_LE"])
    return truth


def paper_spectra() -> dict[str, list[SyntheticSpectrum]]:
    """Every synthetic spectrum by file name, in file order (one, or eight for the cycling file).

    The truth dicts hold raw values (ohm, F s^(n-1), 1) under circuit.py's parameter names.
    """
    files: dict[str, list[SyntheticSpectrum]] = {}
    for key, t_c in enumerate(TEMPERATURES_C, start=1):
        files[f"na-nzsp-na-{'minus' if t_c < 0 else ''}{abs(t_c):g}C.csv"] = [SyntheticSpectrum(
            SYMMETRIC, _symmetric(t_c), float(t_c), 1e6, 1.0, key,
            notes=(f"Symmetric Na | NZSP | Na cell, {SEPARATOR_UM:g} um tape, as the seed paper's Fig. 5.",
                   "R_A + R_B = d / sigma, sigma = 1.6 mS/cm at 30 degC, E_A = 0.28 eV; R_A 40 %, R_B 60 %.",
                   "R_C = 2 x 1.5 ohm cm^2 at 30 degC (two interfaces), E_A = 0.41 eV; Q fixed across T."))]
    cell_notes = {
        1: ("Full cell 1 after four formation cycles, shaped like the seed paper's Fig. 7a:",
            "50 um separator, Z' at 0.1 Hz about 590 ohm cm^2, -Z'' maxima near 230 Hz (CT) and 10 Hz (LE).",
            "Cycle 0 = after the four formation cycles (the paper's numbering in Fig. 9a)."),
        2: ("Full cell 2 after four formation cycles, shaped like the seed paper's Fig. 7b:",
            "110 um separator, Z' at 0.1 Hz about 120 ohm cm^2, DL shoulder near 20 kHz, CT near 1000 Hz, "
            "LE near 30 Hz.",
            "Cycle 0 = after the four formation cycles (the paper's numbering in Fig. 9a)."),
    }
    base = {}
    for cell, key in ((1, 11), (2, 12)):
        base[cell] = _full_cell(CELLS[cell])
        files[f"cell-{cell}-after-formation.csv"] = [SyntheticSpectrum(
            FULL_CELL, base[cell], T_REF_C, 1e6, 0.1, key, cycle=0, notes=cell_notes[cell])]
    rng = np.random.default_rng([SEED, 100])
    files["cell-2-cycling.csv"] = [SyntheticSpectrum(
        FULL_CELL, _cycled(base[2], cycle, rng), T_REF_C, 1e6, 0.1, 12 if cycle == 0 else 20 + cycle, cycle=cycle)
        for cycle in CYCLES]
    sym = _symmetric(T_REF_C)
    truth = {"R0": sym["R_A"], "R1": sym["R_B"], "CPE1_Q": _cpe_q(sym["R_B"], 10e6, N_B), "CPE1_n": N_B,
             "R2": sym["R_C"], "CPE2_Q": sym["CPE_C_Q"], "CPE2_n": N_C}
    files["nzsp-unresolved-arc.csv"] = [SyntheticSpectrum(
        UNRESOLVED, truth, T_REF_C, 1e6, 1.0, 50,
        notes=("NON-IDENTIFIABLE EXAMPLE: arc 1 p(R1,CPE1) peaks at 10 MHz, above the 1 MHz limit of the sweep,",
               "so the data see only its low-frequency tail: R0 + R1 is determined, the split between R0 and R1",
               "is not (the paper's unresolved grain contribution A). Otherwise the 30 degC Na | NZSP | Na cell."))]
    return files


# -- writing ------------------------------------------------------------------------------
def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _truth_text(truth: dict) -> str:
    return ", ".join(f"{k} = {_fmt(v)} ohm" if k.startswith("R") else f"{k} = {_fmt(v)}" for k, v in truth.items())


def _area_text(truth: dict) -> str:
    return ", ".join(f"{k} = {_fmt(v * AREA_CM2)} ohm*cm^2" for k, v in truth.items() if k.startswith("R"))


def _peaks_text(s: SyntheticSpectrum) -> str:
    return ", ".join(f"{label} {_fmt(f)} Hz" for label, f in s.peaks().items())


def _header(spectra: list[SyntheticSpectrum]) -> list[str]:
    first = spectra[0]
    lines = [f"SYNTHETIC: generated by {SCRIPT} from a known circuit; not measured",
             *first.notes,
             f"temperature = {first.temperature_c:g} degC"]
    if len(spectra) == 1 and first.cycle is not None:
        lines.append(f"cycle = {first.cycle}")
    lines += [f"circuit = {first.circuit}",
              f"electrode area = {AREA_CM2:g} cm^2",
              f"frequencies: {first.frequency.size} points log-spaced from {first.f_max_hz:g} Hz down to "
              f"{first.f_min_hz:g} Hz, {POINTS_PER_DECADE} per decade"]
    if len(spectra) == 1:
        lines += [f"truth: {_truth_text(first.truth)}",
                  f"per electrode area: {_area_text(first.truth)}",
                  f"arc peak frequencies 1/(2 pi (R Q)^(1/n)): {_peaks_text(first)}"]
    else:
        lines += ["Cell 2 during C/2 cycling, shaped like the seed paper's Fig. 9: one spectrum every 10 cycles;",
                  "cycle 0 is the after-formation spectrum (same truth and same noise as cell-2-after-formation.csv).",
                  "Only R_LE grows: R_LE(c) = R_LE(0) (1 + 0.6 x + 0.2 x^2), x = c/70 (+80 % at cycle 70), with",
                  "CPE_LE_Q scaled by R_LE(0)/R_LE(c) so the LE peak stays put; other parameters jitter by 1 % (R, Q)",
                  "and sd 0.002 (n) about the cycle-0 values."]
        for s in spectra:
            lines.append(f"truth (cycle {s.cycle}): {_truth_text(s.truth)}")
        lines.append("true R_LE by cycle: " + ", ".join(
            f"{s.cycle}: {_fmt(s.truth['R_LE'])} ohm ({_fmt(s.truth['R_LE'] * AREA_CM2)} ohm*cm^2)" for s in spectra))
        lines.append(f"arc peak frequencies at cycle 0: {_peaks_text(first)}")
    keys = sorted({s.seed_key for s in spectra})
    lines += [f"noise: independent Gaussian on Z_real and Z_imag, sd = {NOISE * 100:g} % of the true |Z| "
              "at each frequency",
              f"seed: numpy default_rng([{SEED}, key]), key {', '.join(map(str, keys))}",
              "Z_imag < 0 on capacitive arcs; values in raw ohm (multiply by the electrode area for ohm*cm^2)"]
    return ["# " + line for line in lines]


def _write(name: str, spectra: list[SyntheticSpectrum]) -> None:
    lines = _header(spectra)
    multi = len(spectra) > 1
    lines.append(("cycle," if multi else "") + "frequency [Hz],Z_real [ohm],Z_imag [ohm]")
    for s in spectra:
        f, z = s.noisy()
        prefix = f"{s.cycle}," if multi else ""
        lines += [f"{prefix}{_fmt(fi)},{_fmt(zi.real)},{_fmt(zi.imag)}" for fi, zi in zip(f, z)]
    path = OUT / name
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _check(files: dict[str, list[SyntheticSpectrum]]) -> None:
    """Peaks inside the sweep (except where said), ordered fastest first, and the paper's totals."""
    for name, spectra in files.items():
        for s in spectra:
            peaks = list(s.peaks().values())
            assert peaks == sorted(peaks, reverse=True), f"{name}: arcs not ordered fastest first"
            if name.startswith("na-nzsp-na-") and s.temperature_c <= 30:
                assert all(s.f_min_hz <= f <= s.f_max_hz for f in peaks), f"{name}: an arc peak outside the sweep"
    for cell, total in ((1, 590.0), (2, 120.0)):
        s = files[f"cell-{cell}-after-formation.csv"][0]
        z_low = s.impedance(np.array([0.1]))[0].real * AREA_CM2
        assert abs(z_low - total) / total < 0.03, f"cell {cell}: Z'(0.1 Hz) = {z_low:.1f} ohm cm^2, not ~{total}"


def _apparent_maxima(s: SyntheticSpectrum) -> list[float]:
    """Frequencies (Hz) of the local maxima of the noise-free -Z'' on a fine grid."""
    f = np.logspace(math.log10(s.f_max_hz), math.log10(s.f_min_hz), 1401)
    mz = -s.impedance(f).imag
    return [float(f[i]) for i in range(1, f.size - 1) if mz[i] > mz[i - 1] and mz[i] > mz[i + 1]]


def _print_table(files: dict[str, list[SyntheticSpectrum]]) -> None:
    print(f"{'file':30s} {'T/degC':>6s} {'cycle':>5s}  truth (raw ohm; Q in F s^(n-1))")
    for name, spectra in files.items():
        for s in spectra:
            cycle = "" if s.cycle is None else str(s.cycle)
            z_low = s.impedance(np.array([s.f_min_hz]))[0] * AREA_CM2
            print(f"{name:30s} {s.temperature_c:6g} {cycle:>5s}  {_truth_text(s.truth)}")
            print(f"{'':44s}peaks: {_peaks_text(s)}")
            print(f"{'':44s}-Z'' maxima at " + ", ".join(f"{_fmt(f)} Hz" for f in _apparent_maxima(s))
                  + f"; Z at {s.f_min_hz:g} Hz = {z_low.real:.1f} {z_low.imag:+.1f}j ohm cm^2")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    files = paper_spectra()
    _check(files)
    for name, spectra in files.items():
        _write(name, spectra)
    _print_table(files)


if __name__ == "__main__":
    main()
