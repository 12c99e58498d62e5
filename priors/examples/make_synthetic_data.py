"""Generate the SYNTHETIC example data of priors/data/synthetic/ (run from the repository root).

The seed paper's raw data are not available.  These files are drawn from the paper's reported
fits, with stated noise and a fixed seed, so that tests and examples have data whose truth is
known.  Every file says in its header that it is synthetic and how it was made; never present
them as measurements.  Because the series are drawn from the paper's fit, a card that uses them
must not also take that fit as its prior (the data would count twice): the example card
``example-cell-1-synthetic`` gives the tape wide priors and uses the paper's ± only as the scale
of the specimen-to-specimen spread.

    python priors/examples/make_synthetic_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BOLTZMANN_EV = 8.617333262e-5
OUT = Path(__file__).resolve().parents[1] / "data" / "synthetic"
SEED = 20261126
T_REF_C = 30.0


def _write(name: str, header: str, rows: list[tuple], notes: list[str]) -> None:
    lines = [f"# SYNTHETIC DATA - not measured. {line}" if i == 0 else f"# {line}" for i, line in enumerate(notes)]
    lines.append(header)
    lines += [",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row) for row in rows]
    (OUT / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _arrhenius(t_c: np.ndarray, value_ref: float, energy: float, sign: float) -> np.ndarray:
    t = t_c + 273.15
    return value_ref * np.exp(sign * energy / BOLTZMANN_EV * (1 / t - 1 / (T_REF_C + 273.15)))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    t_c = np.arange(-10.0, 41.0, 5.0)

    sigma = _arrhenius(t_c, 1.6, 0.28, -1.0) * rng.lognormal(0.0, 0.03, t_c.size)
    _write("nzsp-conductivity.csv", "temperature [degC],conductivity [mS/cm]",
           [(float(t), float(s)) for t, s in zip(t_c, sigma)],
           ["Drawn from the seed paper's fit of the NZSP tape: sigma = 1.6 mS/cm at 30 degC,",
            "E_A = 0.28 eV (Eq. 4), times lognormal noise of 3 %, "
            f"seed {SEED}, by priors/examples/make_synthetic_data.py."])

    resistance = _arrhenius(t_c, 1.5, 0.41, 1.0) * rng.lognormal(0.0, 0.05, t_c.size)
    _write("nzsp-interface-resistance.csv", "temperature [degC],resistance [ohm*cm^2]",
           [(float(t), float(r)) for t, r in zip(t_c, resistance)],
           ["Drawn from the seed paper's fit of one Na | NZSP interface: 1.5 ohm cm2 at 30 degC,",
            "E_A = 0.41 eV (Eq. 4), times lognormal noise of 5 %, "
            f"seed {SEED}, by priors/examples/make_synthetic_data.py."])

    specimens = 50.0 + rng.normal(0.0, 1.5, 10)
    readings = specimens + rng.normal(0.0, 1.0, 10)
    _write("separator-thickness.csv", "sample,thickness [um]",
           [(i + 1, float(r)) for i, r in enumerate(readings)],
           ["Ten micrometer readings, one on each of ten 50 um tapes: tape-to-tape spread 1.5 um,",
            f"reading uncertainty 1.0 um, seed {SEED}, by priors/examples/make_synthetic_data.py."])

    cycles = np.arange(1, 11)
    charge = 2.20 + rng.normal(0.0, 0.02, cycles.size)
    efficiency = np.where(cycles == 1, 0.97, 0.995) + rng.normal(0.0, 0.002, cycles.size)
    discharge = charge * efficiency
    _write("cell-1-cycling.csv", "cycle,charge [mAh/cm^2],discharge [mAh/cm^2]",
           [(int(c), float(q), float(d)) for c, q, d in zip(cycles, charge, discharge)],
           ["Ten C/10 cycles shaped like the seed paper's cell 1: about 2.2 mAh/cm2 charged,",
            "97 % Coulombic efficiency in cycle 1 and 99.5 % after, "
            f"seed {SEED}, by priors/examples/make_synthetic_data.py."])


if __name__ == "__main__":
    main()
