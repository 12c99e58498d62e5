"""Impedance fits: nassb's least squares and posteriors against impedance.py.

Every part runs in one process on synthetic spectra whose truth is known (the circuits and true
values of priors/examples/make_synthetic_spectra.py, with fresh noise of the same kind:
independent Gaussian on Z' and Z'' with sd 0.5 % of |Z|, one fixed seed per spectrum):

1. **Accuracy and honest intervals.** ``--spectra`` noisy copies of the paper's Fig. 5 spectrum
   (``R_A-p(R_B,CPE_B)-p(R_C,CPE_C)``, 30 degC truth) and ``--unresolved`` copies of the
   non-identifiable one (``R0-p(R1,CPE1)-p(R2,CPE2)``, arc 1 peaking at 10 MHz, above the 1 MHz
   sweep) are each fitted three ways:

   * impedance.py ``CustomCircuit(...).fit(f, Z)``, all spectra from one initial guess (the truth
     times 1.5 and 0.7 in turn, CPE exponents 0.9), 95 % interval = value +- 1.96 ``conf_`` (the
     covariance diagonal); a sum's sd is sqrt(sd1^2 + sd2^2), the diagonal only, as labs do;
   * nassb ``fit_least_squares`` (a point, no interval);
   * nassb ``fit_spectra`` on all spectra of the case at once: each spectrum on its own, by
     Laplace + PSIS where its diagnostics accept it and NUTS elsewhere; posterior mean and the
     equal-tailed 95 % interval of the draws.

   Per method and resistance (and a sum, and all parameters together): median |relative error|
   of the estimate, coverage (the share of spectra whose 95 % interval holds the truth), the
   median interval width / truth and how many intervals reach below 0; with 10 spectra or fewer,
   every spectrum's estimate and interval.  Wall times per spectrum, and which method each
   spectrum's posterior came from.

2. **A batch of many spectra.** ``--batch`` spectra of cell 2's Fig. 7 circuit
   ``R0-p(R_DL,CPE_DL)-p(R_CT,CPE_CT)-p(R_LE,CPE_LE)-CPE_CC``, R_LE growing with cycle number as in
   the generator's cycling file, fitted in one ``fit_spectra`` call, then ``--separate`` of them
   alone (their draws must be the batch's: each spectrum's seed derives from the call's seed and
   its data), ``--nuts`` of them with NUTS (the same posterior by another method: means, sds and
   interval ends compared in units of the NUTS sd), and all with impedance.py.  Wall times,
   coverage, the methods and the diagnostics.

3. **Cold start.** ``--cold`` fresh processes each fit the Fig. 5 spectrum once: the wall time of
   the whole process (``import nassb`` included) and of the fit alone.

``import pymc`` is done (and timed) once at the start, so that the NUTS fits below do not pay for
it; the Laplace path never imports it.  The fit times include the lin-KK check, the least-squares
starts, the checks and the posterior (for NUTS: building the model, compiling it, PyTensor's
compiledir cache applying, and sampling).  The machine, software versions and load averages are
printed, since this machine is shared.

Run from the repository root::

    .venv/bin/python bench/bench_eis.py [--spectra 20] [--unresolved 2] [--batch 70] [--separate 3]
                                        [--nuts 1] [--cold 3] [--draws 1000] [--tune 1000] [--chains 4]
                                        [--seed 1] [--weighting modulus|none]
                                        [--skip fig5 unresolved batch cold]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.coordinates import Layout
from nassb.inference.eis.fit import EISSettings, fit_spectra
from nassb.inference.eis.leastsq import fit_least_squares
from nassb.inference.eis.spectrum import Spectrum
from nassb.inference.sampling import SamplerSettings

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "priors" / "examples" / "make_synthetic_spectra.py"
BENCH_SEED = 20261126
# seed keys of the bench's spectra (the generator's own files use keys below 100)
KEY_FIG5, KEY_UNRESOLVED, KEY_BATCH = 1000, 2000, 3000
T_REF_K = 303.15
GUESS_FACTORS = (1.5, 0.7)
GUESS_N = 0.9
Z95 = 1.959964


def load_generator():
    spec = importlib.util.spec_from_file_location("make_synthetic_spectra", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- the machine ------------------------------------------------------------------------------
def machine() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    versions = []
    for name in ("nassb", "numpy", "scipy", "pymc", "pytensor", "arviz", "impedance"):
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return [f"date: {datetime.datetime.now().isoformat(timespec='seconds')}",
            f"machine: {cpu}, {os.cpu_count()} cores, {ram} RAM, {platform.system()} {platform.release()}",
            f"python {platform.python_version()}; " + ", ".join(versions)]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


# -- spectra and the impedance.py translation -------------------------------------------------
def make_spectra(gen, circuit: str, truths: list[dict], key0: int, f_min: float, label: str,
                 cycles: list[int] | None = None) -> list[Spectrum]:
    out = []
    for i, truth in enumerate(truths):
        cycle = None if cycles is None else cycles[i]
        synthetic = gen.SyntheticSpectrum(circuit, truth, 30.0, 1e6, f_min, key0 + i, cycle=cycle)
        f, z = synthetic.noisy()
        out.append(Spectrum(f, z, source="bench_eis", name=f"{label}-{i + 1}", temperature=T_REF_K, cycle=cycle))
    return out


def impedance_py_circuit(circuit: Circuit) -> str:
    """The same circuit with impedance.py's element labels (R0, CPE1, ...): its parser drops
    digits and underscores from a label to find the element type, so R_A would read as 'RA'."""
    text = circuit.text
    for k, element in enumerate(sorted(circuit.elements, key=lambda e: -len(e.name))):
        text = text.replace(element.name, f"@{k}@")
    for k, element in enumerate(sorted(circuit.elements, key=lambda e: -len(e.name))):
        text = text.replace(f"@{k}@", f"{element.kind}{circuit.elements.index(element)}")
    return text


def initial_guess(circuit: Circuit, truth: dict) -> list[float]:
    """The truth times 1.5 and 0.7 in turn; CPE exponents 0.9.  Same for every spectrum."""
    guess, k = [], 0
    for p in circuit.parameters:
        if p.kind == "n":
            guess.append(GUESS_N)
        else:
            guess.append(truth[p.name] * GUESS_FACTORS[k % 2])
            k += 1
    return guess


def fit_impedance_py(circuit: Circuit, spectra: list[Spectrum], guess: list[float], weighting: bool) -> list[dict]:
    """One impedance.py fit per spectrum: values, 1-sigma (conf_) and wall time, by nassb name."""
    from impedance.models.circuits import CustomCircuit

    text = impedance_py_circuit(circuit)
    out = []
    for s in spectra:
        model = CustomCircuit(text, initial_guess=list(guess))
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                model.fit(s.frequency, s.z, weight_by_modulus=weighting)
            values = dict(zip(circuit.names, map(float, model.parameters_)))
            sds = dict(zip(circuit.names, map(float, model.conf_)))
            error = None
        except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError) as err:  # a failed fit is a result
            values = {n: float("nan") for n in circuit.names}
            sds = dict(values)
            error = f"{type(err).__name__}: {err}"
        out.append({"values": values, "sd": sds, "time": time.perf_counter() - start, "error": error})
    return out


def fit_nassb_ls(circuit: Circuit, spectra: list[Spectrum]) -> list[dict]:
    layout = Layout.of(circuit)
    out = []
    for s in spectra:
        start = time.perf_counter()
        ls = fit_least_squares(s, layout)
        out.append({"values": dict(ls.values), "time": time.perf_counter() - start, "rms": ls.rms})
    return out


def fit_nassb_bayes(circuit: Circuit, spectra: list[Spectrum], sampler: SamplerSettings, method: str = "auto") -> dict:
    start = time.perf_counter()
    fit = fit_spectra(spectra, circuit, EISSettings(sampler=sampler, method=method))
    wall = time.perf_counter() - start
    return {"fit": fit, "time": wall, "seconds": [f.seconds for f in fit.fits],
            "methods": [f.method for f in fit.fits], "draws": [f.draws() for f in fit.fits]}


# -- scoring ----------------------------------------------------------------------------------
def intervals_impedance_py(result: dict, quantity: tuple[str, ...]) -> tuple[float, float, float]:
    """(estimate, low, high) of a parameter or a sum, sd of a sum from the diagonal only."""
    value = sum(result["values"][n] for n in quantity)
    sd = float(np.sqrt(sum(result["sd"][n] ** 2 for n in quantity)))
    return value, value - Z95 * sd, value + Z95 * sd


def intervals_bayes(draws: dict, quantity: tuple[str, ...]) -> tuple[float, float, float]:
    values = sum(draws[n] for n in quantity)
    low, high = np.quantile(values, [0.025, 0.975])
    return float(values.mean()), float(low), float(high)


def score(truths: list[dict], quantities: list[tuple[str, ...]], estimates) -> dict:
    """Per quantity: median |rel error|, covered count, counted spectra, median width / truth, and
    how many intervals reach below 0.

    ``estimates(s, quantity)`` gives (estimate, low, high); low/high None for a point estimate.
    """
    out = {}
    for q in quantities:
        errors, covered, widths, counted, negative = [], 0, [], 0, 0
        for s, truth in enumerate(truths):
            true = sum(truth[n] for n in q)
            value, low, high = estimates(s, q)
            if not np.isfinite(value):
                continue
            counted += 1
            errors.append(abs(value - true) / true)
            if low is not None:
                covered += int(low <= true <= high)
                negative += int(low < 0)
                widths.append((high - low) / true)
        out["+".join(q)] = {"error": float(np.median(errors)) if errors else float("nan"),
                            "covered": covered if widths else None, "n": counted, "negative": negative,
                            "width": float(np.median(widths)) if widths else float("nan")}
    return out


def print_accuracy(title: str, n: int, rows: list[tuple[str, dict]]) -> None:
    print(f"\n{title}")
    print(f"{'method':22} {'quantity':10} {'median |rel err|':>16} {'95% coverage':>14}"
          f" {'median width/truth':>19} {'low < 0':>8}")
    for method, scores in rows:
        for q, r in scores.items():
            share = 100 * (r["covered"] or 0) / max(r["n"], 1)
            cover = "-" if r["covered"] is None else f"{r['covered']}/{r['n']} ({share:.0f} %)"
            width = "-" if r["covered"] is None else f"{100 * r['width']:.2f} %"
            negative = "-" if r["covered"] is None else str(r["negative"])
            failed = f"  ({n - r['n']} failed)" if r["n"] < n else ""
            print(f"{method:22} {q:10} {100 * r['error']:15.3f} % {cover:>14} {width:>19} {negative:>8}{failed}")


def print_per_spectrum(truths: list[dict], quantities, methods) -> None:
    """Estimate [95 % interval] of every quantity, spectrum by spectrum (few spectra only)."""
    print("  per spectrum: estimate [95 % interval], * = interval misses the truth")
    for q in quantities:
        true = sum(truths[0][n] for n in q)
        print(f"  {'+'.join(q)} (truth {true:.4g})")
        for method, estimates in methods:
            cells = []
            for s in range(len(truths)):
                value, low, high = estimates(s, q)
                if low is None:
                    cells.append(f"{value:.4g}")
                else:
                    miss = "" if low <= true <= high else "*"
                    cells.append(f"{value:.4g} [{low:.4g}, {high:.4g}]{miss}")
            print(f"    {method:20} " + "; ".join(cells))


def print_diagnostics(label: str, fit) -> None:
    """Methods, the gate spectrum by spectrum, and the warnings."""
    print(f"{label}: " + ", ".join(f"{n} x {m}" for m, n in fit.methods.items())
          + f"; {sum(f.ok for f in fit.fits)} of {len(fit.fits)} pass the gate")
    k_hats = [float(f.method.split("k-hat ")[1].split(",")[0]) for f in fit.fits if "k-hat" in f.method]
    if k_hats:
        ess = [f.diagnostics.min_ess_bulk for f in fit.fits if "k-hat" in f.method]
        print(f"  Laplace + PSIS: k-hat median {np.median(k_hats):.2f}, max {max(k_hats):.2f}; "
              f"ESS median {np.median(ess):.0f}, min {min(ess):.0f}")
    for f in fit.fits:
        d = f.diagnostics
        if f.method.startswith("NUTS"):
            print(f"  {f.name}: NUTS, max R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}, "
                  f"divergences {d.divergences}, {f.seconds:.1f} s, gate {'passed' if f.ok else 'FAILED'}")
        elif not f.ok:
            print(f"  {f.name}: FAILED: {'; '.join(d.warnings())[:300]}")
    warned = [f for f in fit.fits if f.warnings]
    if warned:
        print(f"  warnings on {len(warned)} of {len(fit.fits)} spectra; the first: {warned[0].warnings[0][:240]}")


def accuracy_case(gen, title: str, circuit_text: str, truth: dict, n: int, key0: int, quantities, opts,
                  sampler: SamplerSettings) -> list[tuple]:
    circuit = Circuit(circuit_text)
    truths = [truth] * n
    spectra = make_spectra(gen, circuit_text, truths, key0, 1.0, title.split()[0])
    guess = initial_guess(circuit, truth)
    print(f"\n== {title}: {circuit_text}, {n} spectra, {len(spectra[0])} frequencies each (1 MHz .. 1 Hz)")
    print("truth: " + ", ".join(f"{k} = {v:.6g}" for k, v in truth.items()))
    print(f"impedance.py circuit {impedance_py_circuit(circuit)!r}, initial guess "
          + ", ".join(f"{name} = {g:.4g}" for name, g in zip(circuit.names, guess))
          + f", weight_by_modulus={opts.weighting == 'modulus'}")

    print(f"impedance.py and least squares: {load()}", flush=True)
    imp = fit_impedance_py(circuit, spectra, guess, opts.weighting == "modulus")
    for k, r in enumerate(imp):
        if r["error"]:
            print(f"  impedance.py failed on spectrum {k + 1}: {r['error']}")
    ls = fit_nassb_ls(circuit, spectra)
    print(f"Bayes batch starts: {load()}", flush=True)
    bayes = fit_nassb_bayes(circuit, spectra, sampler)
    print(f"Bayes batch done:   {load()}", flush=True)

    def est_imp(s, q):
        return intervals_impedance_py(imp[s], q)

    def est_ls(s, q):
        return sum(ls[s]["values"][n] for n in q), None, None

    def est_bayes(s, q):
        return intervals_bayes(bayes["draws"][s], q)

    rows = [("impedance.py", score(truths, quantities, est_imp)),
            ("nassb least squares", score(truths, quantities, est_ls)),
            ("nassb Bayes (batch)", score(truths, quantities, est_bayes))]
    every = all_coverage(truths, circuit, bayes["draws"])
    print(f"  every parameter ({len(circuit.names)} per spectrum): nassb Bayes 95 % intervals cover "
          f"{every[0]}/{every[1]} ({100 * every[0] / every[1]:.1f} %)")
    print_accuracy(f"{title}: accuracy and 95 % intervals over {n} spectra", n, rows)
    if n <= 10:
        print_per_spectrum(truths, quantities, [("impedance.py", est_imp), ("nassb least squares", est_ls),
                                                ("nassb Bayes (batch)", est_bayes)])
    sums = [q for q in quantities if len(q) > 1]
    if sums:
        print("  (impedance.py sums: sd = sqrt(sd1^2 + sd2^2) from conf_, the covariance diagonal only)")
    from scipy.stats import binom

    print(f"  (with {n} spectra, intervals of true 95 % coverage cover {int(binom.ppf(0.025, n, 0.95))}-{n} of "
          "them in 97.5 % of benches)")

    imp_t = [r["time"] for r in imp]
    ls_t = [r["time"] for r in ls]
    print(f"\n{title}: wall time")
    print(f"{'method':22} {'total s':>9} {'per spectrum s':>15}")
    print(f"{'impedance.py':22} {sum(imp_t):9.2f} {np.median(imp_t):15.3f}  (median)")
    print(f"{'nassb least squares':22} {sum(ls_t):9.2f} {np.median(ls_t):15.3f}  (median)")
    print(f"{'nassb Bayes (batch)':22} {bayes['time']:9.2f} {np.median(bayes['seconds']):15.3f}  (median per "
          f"spectrum: lin-KK + least squares + checks + posterior; max {max(bayes['seconds']):.1f} s)")
    print_diagnostics(f"{title} Bayes batch", bayes["fit"])
    return rows


def all_coverage(truths: list[dict], circuit: Circuit, draws: list[dict]) -> tuple[int, int]:
    """(covered, counted) over every parameter of every spectrum: equal-tailed 95 % intervals."""
    covered = counted = 0
    for truth, d in zip(truths, draws):
        for name in circuit.names:
            low, high = np.quantile(d[name], [0.025, 0.975])
            covered += int(low <= truth[name] <= high)
            counted += 1
    return covered, counted


def compare(a: dict, b: dict, names, ess: float) -> dict:
    """Largest |mean difference| in Monte Carlo standard errors, largest |sd ratio - 1| and largest
    interval-end difference in sds of ``b``, over ``names``."""
    z, sd_ratio, ends = 0.0, 0.0, 0.0
    for n in names:
        sd = float(np.std(b[n]))
        z = max(z, abs(float(np.mean(a[n]) - np.mean(b[n]))) / (sd * np.sqrt(2 / ess)))
        sd_ratio = max(sd_ratio, abs(float(np.std(a[n])) / sd - 1))
        ends = max(ends, float(np.max(np.abs(np.quantile(a[n], [0.025, 0.975]) - np.quantile(b[n], [0.025, 0.975]))))
                   / sd)
    return {"z": z, "sd": sd_ratio, "ends": ends}


# -- part 2 -----------------------------------------------------------------------------------
def batch_case(gen, opts, sampler: SamplerSettings) -> None:
    circuit_text = gen.FULL_CELL
    circuit = Circuit(circuit_text)
    n = opts.batch
    base = gen._full_cell(gen.CELLS[2])
    cycles = [round(70 * (i + 1) / n) for i in range(n)]
    rng = np.random.default_rng([BENCH_SEED, KEY_BATCH])
    truths = [gen._cycled(base, c, rng) for c in cycles]
    spectra = make_spectra(gen, circuit_text, truths, KEY_BATCH, 0.1, "cell2", cycles)
    print(f"\n== Batch: cell 2 (Fig. 7) {circuit_text}, {n} spectra of {len(spectra[0])} frequencies "
          f"(1 MHz .. 0.1 Hz), cycles {cycles[0]}..{cycles[-1]}, R_LE {truths[0]['R_LE']:.4g} .. "
          f"{truths[-1]['R_LE']:.4g} ohm")
    print(f"impedance.py: {load()}", flush=True)
    guess = initial_guess(circuit, base)
    imp = fit_impedance_py(circuit, spectra, guess, opts.weighting == "modulus")
    for k in [k for k, r in enumerate(imp) if r["error"]]:
        print(f"  impedance.py failed on spectrum {k + 1}: {imp[k]['error']}")
    ls = fit_nassb_ls(circuit, spectra)

    print(f"nassb batch starts: {load()}", flush=True)
    bayes = fit_nassb_bayes(circuit, spectra, sampler)
    print(f"nassb batch done in {bayes['time']:.1f} s: {load()}", flush=True)

    picks = sorted({round(i) for i in np.linspace(0, n - 1, min(opts.separate, n))})
    alone_t = []
    for k in picks:
        r = fit_nassb_bayes(circuit, [spectra[k]], sampler)
        alone_t.append(r["time"])
        same = max(float(np.max(np.abs(r["draws"][0][name] - bayes["draws"][k][name]))) for name in circuit.names)
        print(f"  spectrum {k + 1} (cycle {cycles[k]}) fitted alone: {r['time']:.2f} s, {r['methods'][0]}; "
              f"largest difference of its draws from the batch's: {same:.3g}", flush=True)
    for k in picks[:opts.nuts]:
        r = fit_nassb_bayes(circuit, [spectra[k]], sampler, method="nuts")
        d = r["fit"].fits[0].diagnostics
        ess = min(d.min_ess_bulk, bayes["fit"].fits[k].diagnostics.min_ess_bulk)
        c = compare(bayes["draws"][k], r["draws"][0], circuit.names, ess)
        print(f"  spectrum {k + 1} with NUTS: {r['time']:.1f} s (R-hat {d.max_rhat:.3f}, ESS {d.min_ess_bulk:.0f}, "
              f"{d.divergences} divergences); batch posterior against NUTS over all {len(circuit.names)} "
              f"parameters: means within {c['z']:.2f} Monte Carlo standard errors, sds within {100 * c['sd']:.1f} %, "
              f"interval ends within {c['ends']:.2f} sd  [{load()}]", flush=True)

    quantities = [("R0",), ("R_CT",), ("R_LE",)]
    rows = [("impedance.py", score(truths, quantities, lambda s, q: intervals_impedance_py(imp[s], q))),
            ("nassb Bayes (batch)", score(truths, quantities, lambda s, q: intervals_bayes(bayes["draws"][s], q)))]
    print_accuracy(f"Batch: accuracy over {n} spectra", n, rows)
    every = all_coverage(truths, circuit, bayes["draws"])
    print(f"  every parameter ({len(circuit.names)} per spectrum): nassb Bayes 95 % intervals cover "
          f"{every[0]}/{every[1]} ({100 * every[0] / every[1]:.1f} %)")

    imp_t = [r["time"] for r in imp]
    ls_t = [r["time"] for r in ls]
    print(f"\nBatch: wall time for {n} spectra")
    print(f"{'method':36} {'total s':>9} {'per spectrum s':>15}")
    print(f"{'nassb fit_spectra, one batch call':36} {bayes['time']:9.1f} {np.median(bayes['seconds']):15.2f}"
          f"  (median; max {max(bayes['seconds']):.1f} s)")
    print(f"{'nassb least squares':36} {sum(ls_t):9.1f} {np.median(ls_t):15.3f}  (median)")
    print(f"{'impedance.py, one fit per spectrum':36} {sum(imp_t):9.1f} {np.median(imp_t):15.3f}  (median)")
    if alone_t:
        print(f"{'nassb, a spectrum fitted alone':36} {'':9} {np.median(alone_t):15.2f}  (median of {len(alone_t)})")
    print_diagnostics("Batch", bayes["fit"])


def cold_case(opts) -> None:
    """Fresh processes, each fitting the Fig. 5 spectrum once."""
    script = ("import time; t = time.perf_counter(); import nassb; i = time.perf_counter() - t; "
              "t = time.perf_counter(); f = nassb.fit_eis('priors/data/synthetic/eis/na-nzsp-na-30C.csv', "
              "'R_A-p(R_B,CPE_B)-p(R_C,CPE_C)', area=0.503, seed=1); f.to_json(); "
              "print(i, time.perf_counter() - t, f.fits[0].method)")
    print(f"\n== Cold start: {opts.cold} fresh processes, each fitting na-nzsp-na-30C.csv once  [{load()}]")
    walls, fits = [], []
    for _ in range(opts.cold):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
        walls.append(time.perf_counter() - start)
        imported, fitted, method = out.stdout.split(maxsplit=2)
        fits.append(float(fitted))
        print(f"  process {walls[-1]:.2f} s (import nassb {float(imported):.2f} s, fit + JSON {float(fitted):.2f} s), "
              f"{method.strip()}", flush=True)
    print(f"cold: median process {np.median(walls):.2f} s, median first fit {np.median(fits):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--spectra", type=int, default=20, help="Fig. 5 spectra (default 20)")
    parser.add_argument("--unresolved", type=int, default=2, help="unresolved-arc spectra (default 2; NUTS)")
    parser.add_argument("--batch", type=int, default=70, help="cell-2 spectra in the batch (default 70)")
    parser.add_argument("--separate", type=int, default=3,
                        help="batch spectra fitted again alone and compared (default 3)")
    parser.add_argument("--nuts", type=int, default=1, help="of those, fitted with NUTS too (default 1)")
    parser.add_argument("--cold", type=int, default=3, help="fresh processes for the cold start (default 3)")
    parser.add_argument("--draws", type=int, default=1000, help="draws per chain (default 1000)")
    parser.add_argument("--tune", type=int, default=1000, help="NUTS tuning steps per chain (default 1000)")
    parser.add_argument("--chains", type=int, default=4, help="chains (default 4)")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    parser.add_argument("--weighting", choices=("modulus", "none"), default="modulus",
                        help="impedance.py residual weights: 1/|Z| (weight_by_modulus, matches the noise; "
                             "default) or none (its default)")
    parser.add_argument("--skip", nargs="*", choices=("fig5", "unresolved", "batch", "cold"), default=[],
                        help="parts to leave out")
    opts = parser.parse_args()

    print("bench_eis.py " + " ".join(sys.argv[1:]))
    for line in machine():
        print(line)
    print(load())
    sampler = SamplerSettings(draws=opts.draws, tune=opts.tune, chains=opts.chains, seed=opts.seed)
    print(f"posterior draws per spectrum: {sampler.chains} x {sampler.draws}; NUTS: {sampler.tune} tuning steps, "
          f"target_accept 0.95, seed {sampler.seed}")
    if "cold" not in opts.skip and opts.cold > 0:
        cold_case(opts)  # first, before this process has warmed any cache of its own
    start = time.perf_counter()
    import pymc  # noqa: F401  (timed once here, so no NUTS fit below pays for it)
    print(f"import pymc: {time.perf_counter() - start:.1f} s (not counted in the fit times)", flush=True)
    gen = load_generator()
    sym = gen._symmetric(gen.T_REF_C)
    unresolved = gen.paper_spectra()["nzsp-unresolved-arc.csv"][0].truth
    t0 = time.perf_counter()

    if "fig5" not in opts.skip and opts.spectra > 0:
        accuracy_case(gen, "Fig5", gen.SYMMETRIC, sym, opts.spectra, KEY_FIG5,
                      [("R_A",), ("R_B",), ("R_C",), ("R_A", "R_B")], opts, sampler)
    if "unresolved" not in opts.skip and opts.unresolved > 0:
        accuracy_case(gen, "Unresolved (arc 1 at 10 MHz)", gen.UNRESOLVED, unresolved, opts.unresolved,
                      KEY_UNRESOLVED, [("R0",), ("R1",), ("R2",), ("R0", "R1")], opts, sampler)
    if "batch" not in opts.skip and opts.batch > 0:
        batch_case(gen, opts, sampler)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; {load()}")


if __name__ == "__main__":
    main()
