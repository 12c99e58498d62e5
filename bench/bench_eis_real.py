"""Impedance fits of real instrument exports: nassb's default fit per spectrum against
impedance.py's least squares (same circuit, the same |Z| weighting).

The files are public test files of yadg (https://github.com/dgbowl/yadg, tests/test_x_eclab,
GPL-3.0: read from a local copy, not committed here).  Per spectrum: the wall time of nassb's whole
fit (lin-KK, least squares, checks, posterior; ``jobs=1``) and its CPU time (the machine is
shared: the CPU time is what the fit itself costs), the method that made its posterior
with its k-hat / ESS / R-hat, its gate, the lin-KK verdict, nassb's least-squares rms; and
impedance.py 1.7.1's ``CustomCircuit.fit(f, Z, weight_by_modulus=True)``: the best rms of three
initial guesses (R0 the smallest Z', the other resistors half the real span, CPE Q 1e-6, 1e-5 and
1e-4 with n 0.8, L 1e-6 H) and the time of all three.  Per file, a closing line: the median and
largest times, the methods, how many spectra pass their gate of those whose lin-KK check passes
(the issue's done-when: all of them, each under 10 s), and on how many nassb's least-squares rms
is above impedance.py's by more than 0.1 %.

The files: ``peis.issue_149.mpt``, ``vsp_peis_with.mpt`` (up to 1e5 Hz, where its inductive
leads stop), ``geis.mpt``, ``geis.issue_149.mpt`` and BioLogic's example ``peis.mpt``, all from
yadg's ``tests/test_x_eclab``; nothing here downloads them.

Run from the repository root, with the yadg files in DIR::

    .venv/bin/python bench/bench_eis_real.py DIR [--only peis vsp vsp-tail geis geis149 example] [--seed 1] [--first N]
                                                [--method auto|laplace|smc|nuts] [--cache FILE]

``--cache FILE`` keeps impedance.py's results (JSON, per spectrum) between runs: its fits do not
change with nassb's code.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from nassb.inference.eis.api import _window, load_spectra
from nassb.inference.eis.fit import EISSettings, fit_spectrum
from nassb.inference.sampling import SamplerSettings

LSQ_TOLERANCE = 1e-3  # nassb's least-squares rms counts as worse than impedance.py's above this relative margin
CASES = {  # key: (file, circuit, fmax)
    "peis": ("peis.issue_149.mpt", "R0-p(R1,CPE1)-p(R2,CPE2)", None),
    "vsp": ("vsp_peis_with.mpt", "L0-R0-p(R1,CPE1)-p(R2,CPE2)", 1e5),
    # the same spectra with the slow arc as the tail the DRT finds below 0.1 Hz (a series CPE)
    "vsp-tail": ("vsp_peis_with.mpt", "L0-R0-p(R1,CPE1)-CPE2", 1e5),
    "geis": ("geis.mpt", "R0-p(R1,CPE1)-p(R2,CPE2)", None),
    "geis149": ("geis.issue_149.mpt", "R0-p(R1,CPE1)-p(R2,CPE2)", None),
    "example": ("peis.mpt", "R0-p(R1,CPE1)-p(R2,CPE2)", None),
}


def impedance_py(circuit: str, f: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """(best rms of three guesses, seconds for all three) of impedance.py's least squares."""
    from impedance.models.circuits import CustomCircuit
    from impedance.models.circuits.fitting import calculateCircuitLength

    names = CustomCircuit(circuit, initial_guess=[1.0] * calculateCircuitLength(circuit)).get_param_names()[0]
    r0 = max(float(z.real.min()), 1e-3)
    span = max(float(z.real.max()) - r0, 1e-3)
    best, started = np.inf, time.perf_counter()
    for q in (1e-6, 1e-5, 1e-4):
        guess = [1e-6 if n.startswith("L") else r0 if n == "R0" else span / 2 if n.startswith("R") else
                 q if n.endswith("_0") else 0.8 for n in names]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = CustomCircuit(circuit, initial_guess=guess).fit(f, z, weight_by_modulus=True)
            except (RuntimeError, ValueError):
                continue
        r = (model.predict(f) - z) / np.abs(z)
        best = min(best, float(np.sqrt(np.mean(np.r_[r.real, r.imag] ** 2))))
    return best, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--only", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, metavar="N", help="only the first N spectra of each file")
    parser.add_argument("--method", default="auto", choices=("auto", "laplace", "smc", "nuts"))
    parser.add_argument("--cache", type=Path, help="impedance.py's results, kept between runs (JSON)")
    args = parser.parse_args()
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else {}
    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    settings = EISSettings(sampler=SamplerSettings(seed=args.seed, target_accept=0.95), method=args.method)
    for key in args.only:
        name, circuit, fmax = CASES[key]
        spectra = [_window(s, None, fmax) for s in load_spectra(str(Path(args.folder) / name))][:args.first]
        print(f"\n## {name}, {circuit}" + (f", fmax {fmax:g} Hz" if fmax else "") + f": {len(spectra)} spectra")
        print("spectrum | wall s | CPU s | method | gate | lin-KK | nassb rms | impedance.py rms | impedance.py s")
        times, cpus, passed, theirs_better, methods = [], [], [], 0, Counter()
        for s in spectra:
            started, cpu = time.perf_counter(), time.process_time()
            fit = fit_spectrum(s, circuit, settings)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            times.append(seconds)
            cpus.append(cpu)
            methods[fit.method.split(" (")[0]] += 1
            key_ = f"{s.name} {circuit} {fmax}"
            if key_ not in cache:
                cache[key_] = impedance_py(circuit, s.frequency, s.z)
                if args.cache:
                    args.cache.write_text(json.dumps(cache))
            theirs, their_s = cache[key_]
            theirs_better += fit.least_squares.rms > theirs * (1 + LSQ_TOLERANCE)
            if fit.kk["ok"]:
                passed.append(fit.ok)
            kk = f"{'ok' if fit.kk['ok'] else 'FAILS'} {fit.kk['rms']:.3%}"
            print(f"{s.name} | {seconds:.1f} | {cpu:.1f} | {fit.method} | {'ok' if fit.ok else 'FAILS'} | {kk} | "
                  f"{fit.least_squares.rms:.4%} | {theirs:.4%} | {their_s:.1f}", flush=True)
        print(f"wall median {statistics.median(times):.1f} s, max {max(times):.1f} s; CPU median "
              f"{statistics.median(cpus):.1f} s, max {max(cpus):.1f} s; "
              + ", ".join(f"{k} {v}" for k, v in methods.most_common())
              + f"; gate ok on {sum(passed)} of the {len(passed)} whose lin-KK passes ({len(spectra) - len(passed)} "
              f"fail lin-KK); least squares worse than impedance.py's on {theirs_better}")


if __name__ == "__main__":
    main()
