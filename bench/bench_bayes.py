"""Bayesian commands: cold and warm wall time, PyMC's NUTS against nutpie.

``--method bayes`` and ``nassb fit arrhenius`` build a PyMC model and sample it with NUTS. The
first run on a machine pays for compiling the model (PyTensor generates and compiles C code; nutpie
JIT-compiles the logp with numba); PyTensor keeps its compiled modules in its compiledir, so later
runs of the same model reuse them. This script measures what a user waits for, the whole command
as a subprocess (interpreter start and imports included):

* **cold**: a fresh, empty PyTensor compiledir (``PYTENSOR_FLAGS=compiledir=...``) and an empty
  numba cache (``NUMBA_CACHE_DIR``), both in a temporary directory, so ``~/.pytensor`` is never
  read or touched;
* **warm**: the same command again ``--repeat`` times with the caches the cold run left.

Each command runs with ``--sampler pymc`` and ``--sampler nutpie`` (each sampler has its own
caches), same seed, default settings (4 chains x 1000 draws after 1000 tuning steps). Warm runs
alternate between the samplers, so a change in background load hits both alike. The script prints
every run as it finishes (with the 1-minute load average before it, to spot a busy machine), then a
table: cold time, warm median, the posterior mean and sd of one quantity (E_V_real for propagate,
activation_energy for the fit) so one sees that both samplers agree, the smallest bulk ESS from the
diagnostics, and that ESS per second of warm wall time. It also records the CPU time (user + system)
of each command and its child processes: on a shared machine that is steadier than the wall time.

Run from the repository root (takes several minutes)::

    .venv/bin/python bench/bench_bayes.py [--repeat 3] [--only fit]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NASSB = str(Path(sys.executable).with_name("nassb"))
SAMPLERS = ("pymc", "nutpie")
# label -> (command arguments after ``nassb``, the quantity whose posterior is shown)
COMMANDS = {
    "propagate paper-cell-1": (["propagate", "paper-cell-1", "--method", "bayes"], "E_V_real"),
    "propagate example-cell-1-synthetic": (["propagate", "example-cell-1-synthetic", "--method", "bayes"],
                                           "E_V_real"),
    "fit arrhenius": (["fit", "arrhenius", "priors/data/synthetic/nzsp-conductivity.csv"], "activation_energy"),
}


def run_once(args: list[str], sampler: str, seed: int, cache: Path) -> dict:
    """Run ``nassb ARGS --sampler S --seed N --json`` with its caches under ``cache``; time and parse it."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache / "numba"))
    flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith("compiledir=")]
    env["PYTENSOR_FLAGS"] = ",".join([*flags, f"compiledir={cache / 'pytensor'}"])
    cmd = [NASSB, *args, "--sampler", sampler, "--seed", str(seed), "--json"]
    load = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    return {"wall": wall, "cpu": cpu, "load": load, "out": json.loads(proc.stdout)}


def summary(label: str, quantity: str, sampler: str, runs: list[dict]) -> dict:
    out = runs[0]["out"]
    q, diag = out["quantities"][quantity], out["diagnostics"]
    nan = float("nan")
    warm = statistics.median(r["wall"] for r in runs[1:]) if len(runs) > 1 else nan
    warm_cpu = statistics.median(r["cpu"] for r in runs[1:]) if len(runs) > 1 else nan
    return {"command": label, "sampler": sampler, "cold": runs[0]["wall"], "warm": warm,
            "cold_cpu": runs[0]["cpu"], "warm_cpu": warm_cpu,
            "quantity": quantity, "mean": q["mean"], "sd": q["sd"], "unit": q["unit"],
            "ess": diag["min_ess_bulk"], "ess_per_s": diag["min_ess_bulk"] / warm, "ok": diag["ok"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per command and sampler (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", metavar="TEXT", help="only the commands whose label contains TEXT")
    parser.add_argument("--samplers", nargs="+", choices=SAMPLERS, default=list(SAMPLERS))
    opts = parser.parse_args()

    rows = []
    for label, (args, quantity) in COMMANDS.items():
        if opts.only and opts.only not in label:
            continue
        with tempfile.TemporaryDirectory(prefix="bench_bayes_") as tmp:
            runs: dict[str, list[dict]] = {s: [] for s in opts.samplers}
            for rnd in range(opts.repeat + 1):
                for s in opts.samplers:
                    r = run_once(args, s, opts.seed, Path(tmp) / s)
                    runs[s].append(r)
                    print(f"{label:36} {s:6} {'cold' if rnd == 0 else f'warm {rnd}':7} {r['wall']:7.1f} s"
                          f"  cpu {r['cpu']:6.1f} s  (load {r['load']:.2f})", flush=True)
            rows += [summary(label, quantity, s, runs[s]) for s in opts.samplers]

    print(f"\n{'command':36} {'sampler':7} {'cold s':>7} {'warm s':>7} {'cpu c/w s':>11}"
          f"  {'quantity (mean ± sd)':34}"
          f" {'min ESS':>7} {'ESS/s':>6}")
    for r in rows:
        q = f"{r['quantity']} {r['mean']:.4g} ± {r['sd']:.3g} {r['unit']}"
        print(f"{r['command']:36} {r['sampler']:7} {r['cold']:7.1f} {r['warm']:7.1f}"
              f" {r['cold_cpu']:5.0f}/{r['warm_cpu']:<5.0f}  {q:34}"
              f" {r['ess']:7.0f} {r['ess_per_s']:6.0f}{'' if r['ok'] else '  (fails the gate)'}")


if __name__ == "__main__":
    main()
