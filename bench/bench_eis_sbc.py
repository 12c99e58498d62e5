"""Coverage of the SMC fallback's 95 % intervals on synthetic spectra of the paper's two circuits.

For ``--spectra`` spectra per circuit, a truth is drawn around the paper's values (each
resistance and Q times exp(N(0, 0.2^2)), each n + N(0, 0.02^2), capped below 1), a spectrum
computed from it with the generator's noise (priors/examples/make_synthetic_spectra.py:
independent Gaussian on Z' and Z'' with sd 0.5 % of |Z|, 1 MHz down to 0.1 Hz, 10 points per
decade, one seed per spectrum), and fitted with ``method="smc"`` (tempered SMC for every
spectrum, whatever the Laplace approximation would have said).  Per circuit: the share of the
95 % equal-tailed intervals that hold the truth, over every parameter of every spectrum whose
draws were accepted, per parameter kind, with the spectra's wall times and acceptance.

The truths vary around one point rather than coming from the fit's own wide prior, so this is a
coverage study near the paper's cells, not a full simulation-based calibration over the prior.

Run from the repository root::

    .venv/bin/python bench/bench_eis_sbc.py [--spectra 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.fit import EISSettings, fit_spectrum
from nassb.inference.eis.spectrum import Spectrum
from nassb.inference.sampling import SamplerSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_eis import load_generator

KEY = 5000  # seed keys of these spectra (the generator's own files use keys below 100)


def perturbed(truth: dict, rng: np.random.Generator) -> dict:
    return {k: (min(0.99, v + rng.normal(0, 0.02)) if k.endswith("_n") else v * math.exp(rng.normal(0, 0.2)))
            for k, v in truth.items()}


def spectrum(circuit: str, truth: dict, key: int) -> Spectrum:
    f = np.logspace(6, -1, 71)
    z = Circuit(circuit).complex_impedance(truth, 2 * np.pi * f)
    rng = np.random.default_rng([20261207, key])
    sd = 0.005 * np.abs(z)
    z = z + sd * rng.standard_normal(f.size) + 1j * sd * rng.standard_normal(f.size)
    return Spectrum(f, z, source="bench_eis_sbc", name=f"sbc-{key}", temperature=303.15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spectra", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    gen = load_generator()
    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    settings = EISSettings(sampler=SamplerSettings(seed=args.seed), method="smc")
    cases = [(gen.SYMMETRIC, gen._symmetric(30.0)), (gen.FULL_CELL, gen._full_cell(gen.CELLS[2]))]
    for c, (circuit, base) in enumerate(cases):
        rng = np.random.default_rng([args.seed, c])
        hits: dict[str, list[bool]] = {}
        times, accepted = [], 0
        for i in range(args.spectra):
            truth = perturbed(base, rng)
            started = time.perf_counter()
            fit = fit_spectrum(spectrum(circuit, truth, KEY + 100 * c + i), circuit, settings)
            times.append(time.perf_counter() - started)
            if "not accepted" in " ".join(fit.diagnostics.notes):
                continue
            accepted += 1
            summary = fit.summary()
            for name, value in truth.items():
                low, high = summary[name]["ci95"]
                kind = "n" if name.endswith("_n") else "Q" if name.endswith("_Q") else "R"
                hits.setdefault(kind, []).append(bool(low <= value <= high))
        every = [h for v in hits.values() for h in v]
        print(f"\n{circuit}: {accepted} of {args.spectra} spectra accepted; median {statistics.median(times):.1f} s, "
              f"max {max(times):.1f} s")
        print(f"  coverage of the 95 % intervals: {np.mean(every):.1%} of {len(every)}")
        for kind, v in hits.items():
            print(f"    {kind}: {np.mean(v):.1%} of {len(v)}")


if __name__ == "__main__":
    main()
