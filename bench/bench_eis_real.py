"""Impedance fits of real instrument exports: nassb's default fit per spectrum against
impedance.py's least squares (same circuit, the same |Z| weighting).

The files are public example files of two projects, read from local copies, not committed here:
yadg's test files (https://github.com/dgbowl/yadg, tests/test_x_eclab, GPL-3.0) and
impedance.py's (https://github.com/ECSHackWeek/impedance.py, data/, MIT).  Per spectrum: the
wall time of nassb's whole fit (lin-KK, least squares, checks, posterior; ``jobs=1``) and its CPU
time (the machine is shared: the CPU time is what the fit itself costs), the method that made
its posterior with its k-hat / ESS / R-hat, its gate, the lin-KK verdict, nassb's least-squares
rms; and impedance.py 1.7.1's ``CustomCircuit.fit(f, Z, weight_by_modulus=True)``: the best rms
of its initial guesses and the time of all of them.  Three fixed guesses: R0 the smallest Z', the
other resistors half the real span, CPE Q (and C) 1e-6, 1e-5 and 1e-4 with n 0.8, L 1e-6 H, a
Warburg's Z0 half the span and its tau 1/(2 pi f_min).  On impedance.py's files three more,
scaled to the spectrum (those fixed values suit only spectra of some ohms and kHz): the arcs'
Q or C set so that their corner frequencies lie across the window, a quarter of its width apart
from start to start, and L Z''/omega at the highest frequency.  Per case, a closing line: the
median and largest times, the methods, how many spectra pass their gate of those whose lin-KK
check passes (the issue's done-when: all of them, each under 10 s), and on how many nassb's
least-squares rms is above impedance.py's by more than 0.1 %.

yadg's (cases ``yadg``): ``peis.issue_149.mpt``, ``vsp_peis_with.mpt`` (up to 1e5 Hz, where its
inductive leads stop), ``geis.mpt``, ``geis.issue_149.mpt`` and BioLogic's example ``peis.mpt``,
all from ``tests/test_x_eclab``.  impedance.py's (cases ``impedance.py``, the circuits and
windows in IMPEDANCE_PY_CASES): ``exampleData.csv`` (twice: the tutorial's circuit without the
inductive points, and a CPE circuit with a lead inductance), ``exampleDataParstat.txt``,
``exampleDataAutolab.txt``, ``exampleDataBioLogic.mpt``, ``exampleDataCHInstruments.txt``,
``exampleDataGamry.DTA``, ``exampleDataPowersuite.txt``, ``exampleDataVersaStudio.par``,
``exampleDataZPlot.z``, ``exampleDataZPlot_noComments.z`` and the dummy cells
``Circuit{1,2,3}_EIS_{1,2}.z``.  Not here: ``exampleDataBioLogic_MissingFreq.mpt`` (no frequency
column), ``exampleDataGamryABORT.DTA`` and the older ``Chalco-in-buffer-50mV.DTA`` (the same
spectrum as ``exampleDataGamry.DTA``).  Nothing here downloads them.

Run from the repository root, with yadg's files in DIR and impedance.py's in IMPDIR (either or
both; without --only, every case whose folder is given)::

    .venv/bin/python bench/bench_eis_real.py [DIR] [--impedance-py IMPDIR]
        [--only yadg | impedance.py | peis vsp vsp-tail geis geis149 example | exampledata-docs exampledata
                parstat autolab biologic chi gamry powersuite versastudio zplot zplot-nc circuit1 circuit2 circuit3]
        [--seed 1] [--first N] [--method auto|laplace|smc|nuts] [--cache FILE]

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
# impedance.py's data/ folder; a file name may be a glob (both repeats of a dummy cell)
IMPEDANCE_PY_CASES = {  # key: (file, circuit, fmax)
    # impedance.py's own tutorial: its circuit, the inductive points (above 1.26 kHz) left out
    "exampledata-docs": ("exampleData.csv", "R0-p(R1,C1)-p(R2-Wo1,C2)", 1.3e3),
    # the same cell with a lead inductance to 4 kHz, where Z' starts to rise again, and the diffusion tail as a CPE
    "exampledata": ("exampleData.csv", "L0-R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", 4e3),
    "parstat": ("exampleDataParstat.txt", "L0-R0-p(R1,CPE1)-p(R2,CPE2)", 2.6e3),  # above 2.6 kHz Z' jumps about
    "autolab": ("exampleDataAutolab.txt", "L0-R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", 6e3),  # Z' rises again above 6 kHz
    "biologic": ("exampleDataBioLogic.mpt", "R0-p(R1,CPE1)", None),  # one arc, noisy above 3 Hz
    "chi": ("exampleDataCHInstruments.txt", "R0-p(R1,CPE1)-CPE2", 5e4),  # noise of either sign above 50 kHz
    "gamry": ("exampleDataGamry.DTA", "R0-p(R1,CPE1)-p(R2,CPE2)", None),
    "powersuite": ("exampleDataPowersuite.txt", "R0-p(R1,CPE1)-p(R2,CPE2)", 4e5),  # Z' < 0 at 1-2 MHz
    # two small arcs (-Z'' level at 5-6 ohm from 10 kHz to 1 kHz) before the large one: two arcs miss by 2 %
    "versastudio": ("exampleDataVersaStudio.par", "L0-R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)", None),
    # the dummy cell of Circuit2_EIS_1.z down to 3 kHz (its arc not closed): a CPE's n would reach 1
    "zplot": ("exampleDataZPlot.z", "R0-p(R1,C1)", None),
    "zplot-nc": ("exampleDataZPlot_noComments.z", "R0-p(R1,CPE1)-CPE2", None),
    "circuit1": ("Circuit1_EIS_*.z", "L0-R0-p(R1,CPE1)", None),
    "circuit2": ("Circuit2_EIS_*.z", "R0-p(R1,C1)", None),  # an ideal semicircle: a CPE's n would reach 1
    "circuit3": ("Circuit3_EIS_*.z", "L0-R0-p(R1,CPE1)", None),
}
GROUPS = {"yadg": list(CASES), "impedance.py": list(IMPEDANCE_PY_CASES)}


def _guess(name: str, r0: float, span: float, q: float, tau: float) -> float:
    """The fixed initial value of impedance.py's parameter ``name`` (its own names: ``CPE1_0``, ``Wo1_1``)."""
    if name.startswith(("Wo", "Ws", "G")):  # a finite Warburg's or a Gerischer's resistance, then its time constant
        return span / 2 if name.endswith("_0") else tau
    if name.startswith("W"):  # a semi-infinite Warburg's coefficient, ohm s^-1/2
        return span / 2
    if name.startswith("C") and not name.startswith("CPE"):
        return q
    return (1e-6 if name.startswith("L") else r0 if name == "R0" else span / 2 if name.startswith("R") else
            q if name.endswith("_0") else 0.8)


def _scaled_guesses(names: list[str], f: np.ndarray, z: np.ndarray, r0: float, span: float) -> list[list[float]]:
    """Three more starts whose capacitances and CPE Q put the arcs' corner frequencies across the
    window (the first element at its top), each arc's resistance half the real span, L Z''/omega at the top."""
    charges = [n for n in names if n.startswith("C") and (n.endswith("_0") or not n.startswith("CPE"))]
    top, bottom = np.log10(f.max()), np.log10(f.min())
    omega = 2 * np.pi * float(f.max())
    inductance = max(float(z.imag[np.argmax(f)]) / omega, 1e-12)
    tau = 1 / (2 * np.pi * float(f.min()))
    starts = []
    for shift in (-0.25, 0.0, 0.25):
        guess = []
        for n in names:
            if n in charges:
                exponent = 1.0 if not n.startswith("CPE") else 0.8
                corner = 10 ** (top - (charges.index(n) + 0.5 + shift) / len(charges) * (top - bottom))
                guess.append(1 / (span / 2 * (2 * np.pi * corner) ** exponent))
            elif n.startswith("L"):
                guess.append(inductance)
            else:
                guess.append(_guess(n, r0, span, 1e-5, tau))
        starts.append(guess)
    return starts


def impedance_py(circuit: str, f: np.ndarray, z: np.ndarray, scaled: bool = False) -> tuple[float, float]:
    """(best rms of its starts, seconds for all of them) of impedance.py's least squares: three
    fixed starts, and with ``scaled`` three more scaled to the spectrum."""
    from impedance.models.circuits import CustomCircuit
    from impedance.models.circuits.fitting import calculateCircuitLength

    names = CustomCircuit(circuit, initial_guess=[1.0] * calculateCircuitLength(circuit)).get_param_names()[0]
    r0 = max(float(z.real.min()), 1e-3)
    span = max(float(z.real.max()) - r0, 1e-3)
    tau = 1 / (2 * np.pi * float(f.min()))
    starts = [[_guess(n, r0, span, q, tau) for n in names] for q in (1e-6, 1e-5, 1e-4)]
    if scaled:
        starts += _scaled_guesses(names, f, z, r0, span)
    best, started = np.inf, time.perf_counter()
    for guess in starts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = CustomCircuit(circuit, initial_guess=guess).fit(f, z, weight_by_modulus=True)
            except (RuntimeError, ValueError):
                continue
        r = (model.predict(f) - z) / np.abs(z)
        best = min(best, float(np.sqrt(np.mean(np.r_[r.real, r.imag] ** 2))))
    return best, time.perf_counter() - started


def _chosen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[tuple[str, Path, bool]]:
    """(key, folder, whether impedance.py's starts are scaled) of every case to run: those --only
    names (keys or groups), else those whose folder is given."""
    folders = {"yadg": args.folder, "impedance.py": args.impedance_py}
    if not any(folders.values()):
        parser.error("give the folder of yadg's files, --impedance-py DIR, or both")
    names = args.only or [group for group, folder in folders.items() if folder]
    keys = list(dict.fromkeys(k for name in names for k in GROUPS.get(name, [name])))
    chosen = []
    for key in keys:
        group = "yadg" if key in CASES else "impedance.py"
        if not folders[group]:
            parser.error(f"case {key!r} needs " + ("the folder of yadg's files" if group == "yadg" else
                                                   "--impedance-py DIR"))
        chosen.append((key, Path(folders[group]), group == "impedance.py"))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", help="yadg's test files (tests/test_x_eclab)")
    parser.add_argument("--impedance-py", metavar="DIR", help="impedance.py's example files (its data/ folder)")
    parser.add_argument("--only", nargs="+", choices=[*CASES, *IMPEDANCE_PY_CASES, *GROUPS])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first", type=int, metavar="N", help="only the first N spectra of each file")
    parser.add_argument("--method", default="auto", choices=("auto", "laplace", "smc", "nuts"))
    parser.add_argument("--cache", type=Path, help="impedance.py's results, kept between runs (JSON)")
    args = parser.parse_args()
    chosen = _chosen(parser, args)
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else {}
    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    settings = EISSettings(sampler=SamplerSettings(seed=args.seed, target_accept=0.95), method=args.method)
    for key, folder, scaled in chosen:
        name, circuit, fmax = CASES[key] if key in CASES else IMPEDANCE_PY_CASES[key]
        spectra = [_window(s, None, fmax) for s in load_spectra(str(folder / name))][:args.first]
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
                cache[key_] = impedance_py(circuit, s.frequency, s.z, scaled)
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
