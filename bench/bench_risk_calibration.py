"""Wall time of the risk-model calibration: the seed paper's cells alone, and with 20 lab cells.

The lab cells are SYNTHETIC (invented here from a seed, written to a temporary file): 50, 80
and 110 um tapes at 0.05-0.5 MPa, some cracked, the others cycled at 0.2-0.8 mA/cm2 until a
short or for 30 cycles, half with a resistance after formation.  Run from the repository root:

    .venv/bin/python bench/bench_risk_calibration.py [--draws 1000] [--tune 1000] [--chains 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from nassb.inference.risk.calibrate import calibrate_risks


def synthetic_lab(path: Path, cells: int = 20, seed: int = 5) -> Path:
    """Write a SYNTHETIC observations file of ``cells`` invented cells."""
    rng = np.random.default_rng(seed)
    lines = ["# SYNTHETIC: invented cells for the calibration benchmark (bench/bench_risk_calibration.py)",
             '[lab]', 'name = "benchmark-synthetic"', ""]
    for i in range(cells):
        thickness = [50, 80, 110][i % 3]
        pressure = float(np.round(np.exp(rng.uniform(np.log(0.05), np.log(0.5))), 3))
        lines += ["[[cells]]", 'base = "paper-cell-2"', f'name = "syn-{i}"', 'source = "SYNTHETIC: invented"',
                  "[cells.separator]", f'thickness = "{thickness} ± 3 um"', "[cells.cell]",
                  f'pressure = "{pressure} MPa"', 'area = "0.503 cm^2"', "[cells.outcome]"]
        if rng.uniform() < 0.25:
            lines += ["cracked = true", ""]
            continue
        current = float(np.round(rng.uniform(0.2, 0.8), 2))
        lines += [f'current = "{current} mA/cm^2"']
        if rng.uniform() < 0.6:
            lines += [f"short_cycle = {int(rng.integers(3, 30))}"]
        else:
            lines += ["cycles = 30"]
        if i % 2:
            lines += [f'resistance = "{float(np.round(rng.uniform(90, 300))):g} ± 15 ohm*cm^2"']
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def timed(label: str, **kwargs) -> None:
    start = time.perf_counter()
    result = calibrate_risks(**kwargs)
    wall = time.perf_counter() - start
    steps = float(result.idata.sample_stats["n_steps"].mean())
    print(f"{label}: {wall:.0f} s wall, {steps:.1f} leapfrog steps per draw; {result.diagnostics.sentence()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains, "seed": args.seed}
    timed("paper alone", **settings)
    with tempfile.TemporaryDirectory() as folder:
        lab = synthetic_lab(Path(folder) / "lab.toml")
        timed("paper + 20 lab cells", observations=lab, **settings)


if __name__ == "__main__":
    main()
