"""Design search against the brute-force optimum: the regret of each search strategy, and speed.

The scoring model is cheap (one design over all 4000 calibrated draws in about a millisecond),
so the true constrained optimum of the default search (q0.05 of E_V at U - jR, paper-cell-1,
each design at C/10 of its own delivered capacity, 100 cycles, default limits) can be found by
scipy's differential evolution on the same scores, polished by a local search.  Then each
search strategy runs ``--trials`` trials in memory for each of ``--seeds`` seeds; from each
history we take the best feasible objective after 50/100/200 trials and its regret
``1 - best/optimum``.  The strategies:

    random        Optuna RandomSampler
    tpe           TPE as ``nassb design`` made it before (multivariate, constant liar, 10 start-up trials)
    tpe-s30/s50   the same with 30 or 50 random start-up trials
    gp            Optuna GPSampler (constraints from the trials, deterministic objective; needs
                  torch, the gp extra; minutes a run, so not in the default list)
    X+refineN     strategy X for trials - N trials, then N trials of local refinement
                  (nassb.design.refine: scipy COBYQA from the best feasible trial, each
                  evaluation a trial of the study)

The deterministic optimum that ``nassb design``, ``campaign propose`` and ``next-experiment``
start from (``best_design``: a Sobol look and COBYQA from its best points) is measured against
the same optimum.  Then the speed: one ``DesignScorer.score`` call, the prior-sensitivity reweighting, and TPE
trials in memory and in SQLite (opened as the CLI opens it).  Last, the storage: the cost per trial of
SQLite (and PostgreSQL, ``--postgres URL``) trial by trial (as ``nassb design`` ran before) and in
memory with batched writes (``nassb.design.batch``, as it runs now) against the in-memory search;
and one ``nassb design`` process of N trials against two of N/2 on one study (wall and CPU time,
duplicated trials), with ``--before-python`` an interpreter whose nassb is an earlier version.
Run from the repository root:

    .venv/bin/python bench/bench_design.py [--seeds 5] [--trials 200] [--strategies tpe,tpe+refine100,gp]
    .venv/bin/python bench/bench_design.py --storage-only [--postgres URL] [--rounds 3]
                                           [--workers-trials 200,1000] [--before-python PATH]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
from scipy.optimize import differential_evolution

from nassb.design import design_space
from nassb.design.optimum import best_design
from nassb.design.refine import refine
from nassb.design.study import SearchSettings, constraints, make_objective, make_scorer, objective_value, open_study
from nassb.inference.risk import RiskModel
from nassb.priors import load_card

CARD, CYCLES = "paper-cell-1", 100
CHECKPOINTS = (50, 100, 200, 500)
PENALTY = 1e4  # above any E_V (Wh/l): an infeasible design always scores worse than a feasible one
STRATEGIES = ("random", "tpe", "tpe-s30", "tpe+refine50", "tpe+refine100")  # gp: add it, it takes minutes a run


def penalised(space, scorer, settings):
    """The function DE minimises: -q0.05(E_V_rate) if feasible, else PENALTY + the sum of the
    violations (each relative to its limit, held as the settings hold them: under every reading by
    default, nassb.design.study.constraints); and the map from DE's coordinates to a design."""
    variables = [v for v in space if not v.fixed]
    bounds = [(math.log(v.low), math.log(v.high)) if v.log else (v.low, v.high) for v in variables]
    def design_of(x):
        d = {v.name: v.low for v in space if v.fixed}
        d.update({v.name: (math.exp(xi) if v.log else xi) for v, xi in zip(variables, x, strict=True)})
        return d

    def f(x):
        values = scorer.score(design_of(x))
        viol = constraints(values, settings)
        excess = sum(max(val, 0.0) for val in viol.values())
        if excess > 0:
            return PENALTY + excess
        return -objective_value(values, settings.objective, settings.quantile)

    return f, bounds, design_of


def brute_force(space, scorer, settings, seed: int, maxiter: int, popsize: int):
    """Differential evolution, feasibility first, then a study-free COBYQA polish of its best."""
    f, bounds, design_of = penalised(space, scorer, settings)
    t = time.perf_counter()
    res = differential_evolution(f, bounds, seed=seed, maxiter=maxiter, popsize=popsize, tol=1e-8,
                                 polish=False, init="sobol")
    # Polish: a local search in the penalised function cannot leave the feasible set.
    from scipy.optimize import minimize

    lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    polished = minimize(lambda u: f(lo + np.clip(u, 0, 1) * (hi - lo)), (res.x - lo) / (hi - lo), method="Nelder-Mead",
                        options={"xatol": 1e-7, "fatol": 1e-9, "maxfev": 3000})
    x = res.x if polished.fun >= res.fun else lo + np.clip(polished.x, 0, 1) * (hi - lo)
    best = min(res.fun, polished.fun)
    wall = time.perf_counter() - t
    return {"value": -best, "design": design_of(x), "nfev": res.nfev + polished.nfev, "wall": wall,
            "de_value": -res.fun, "converged": bool(res.success), "feasible": best < PENALTY}


def history(study) -> np.ndarray:
    """Best feasible objective so far after each trial (nan before the first feasible one)."""
    best, out = -np.inf, []
    for t in sorted(study.trials, key=lambda t: t.number):
        if t.state == optuna.trial.TrialState.COMPLETE and t.user_attrs.get("feasible"):
            best = max(best, t.value)
        out.append(best)
    out = np.array(out)
    out[~np.isfinite(out)] = np.nan
    return out


def sampler_of(name: str, seed: int):
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name.startswith("tpe"):
        startup = int(name.split("-s")[1]) if "-s" in name else 10
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=startup)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, deterministic_objective=True)
    raise ValueError(name)


def run_strategy(strategy: str, seed: int, n: int, space, objective) -> tuple[np.ndarray, float]:
    base, _, tail = strategy.partition("+refine")
    local = int(tail) if tail else 0
    study = optuna.create_study(direction="maximize", sampler=sampler_of(base, seed))
    t = time.perf_counter()
    study.optimize(objective, n_trials=n - local)
    ran = refine(study, space, objective, local) if local else 0
    if n - local + ran < n:  # no feasible start, or the local search converged early: the sampler goes on
        study.optimize(objective, n_trials=n - (n - local + ran))
    return history(study), time.perf_counter() - t


def fmt_design(d: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in d.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="Optuna seeds per strategy")
    parser.add_argument("--trials", type=int, default=200, help="trials per run")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated strategies")
    parser.add_argument("--de-maxiter", type=int, default=200, help="differential evolution generations")
    parser.add_argument("--de-popsize", type=int, default=15, help="differential evolution population multiplier")
    parser.add_argument("--de-seeds", type=int, default=2, help="differential evolution seeds")
    parser.add_argument("--optimum", type=float, help="a known optimum (Wh/l): skip differential evolution")
    parser.add_argument("--speed-trials", type=int, default=300, help="trials for the speed runs")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--storage-only", action="store_true",
                        help="only the storage cost per trial and the workers (sections 5 and 6)")
    parser.add_argument("--postgres", help="a PostgreSQL URL for the storage cost (e.g. postgresql://u@host:port/db)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the in-memory and batched runs (section 5)")
    parser.add_argument("--workers-trials", default="200",
                        help="trials of the one-worker runs, comma-separated (section 6): each against two of half")
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--before-python", help="a Python whose nassb is the earlier version, for its workers")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    card = load_card(CARD)
    space, risk = design_space(card), RiskModel.load()
    settings = SearchSettings(card.sha256, cycles=CYCLES, risk=risk.fingerprint)
    scorer = make_scorer(card, risk, settings)
    objective = make_objective(space, scorer, settings)
    print(f"{CARD}, {scorer.rate_text}, {CYCLES} cycles, {risk.size} draws, objective q0.05 E_V_rate (Wh/l); "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"optuna {optuna.__version__}")

    if args.storage_only:
        storage_cost(args, space, scorer, settings, objective)
        if not args.skip_workers:
            workers(args)
        return

    # 1. The brute-force optimum.
    runs = [] if args.optimum else [brute_force(space, scorer, settings, s, args.de_maxiter, args.de_popsize)
                                    for s in range(1, args.de_seeds + 1)]
    if args.optimum:
        runs = [{"value": args.optimum, "design": None}]
        print(f"optimum given: {args.optimum:.3f} Wh/l")
    for s, r in enumerate(runs if not args.optimum else [], 1):
        print(f"DE seed {s}: {r['value']:.3f} Wh/l (DE {r['de_value']:.3f}, polished), feasible {r['feasible']}, "
              f"{r['nfev']} evaluations, {r['wall']:.1f} s\n    {fmt_design(r['design'])}")
    best = max(runs, key=lambda r: r["value"])
    opt = best["value"]
    spread = (max(r["value"] for r in runs) - min(r["value"] for r in runs)) / opt
    if best["design"] is not None:
        print(f"optimum {opt:.3f} Wh/l; the DE seeds differ by {100 * spread:.3f} %")
        print("  violations at the optimum (<= 0 feasible):",
              ", ".join(f"{k} {v:+.4g}" for k, v in constraints(scorer.score(best["design"]), settings).items()))
        on_bounds = [v.name for v in space if not v.fixed and min(abs(best["design"][v.name] - v.low),
                                                                  abs(best["design"][v.name] - v.high))
                     <= 1e-3 * (v.high - v.low)]
        print("  on a bound:", ", ".join(on_bounds) or "none")

    # 2. The deterministic optimum every command starts from (nassb.design.optimum.best_design).
    t = time.perf_counter()
    found = best_design(scorer, space, settings)
    wall = time.perf_counter() - t
    print(f"\nbest_design: {found.value:.3f} Wh/l, regret {100 * (1 - found.value / opt):.3f} % against the optimum, "
          f"{found.evaluations} evaluations, {wall:.1f} s\n    {fmt_design(found.design or {})}")

    # 3. Regret of each strategy.
    checkpoints = [c for c in CHECKPOINTS if c <= args.trials]
    print(f"\n{'strategy':18} {'seed':>4} " + " ".join(f"{'regret@' + str(c):>11}" for c in checkpoints)
          + f" {'wall s':>7}")
    summary: dict[str, list] = {}
    for name in args.strategies.split(","):
        for seed in range(args.seeds):
            h, wall = run_strategy(name, seed, args.trials, space, objective)
            regrets = [1 - h[c - 1] / opt if np.isfinite(h[c - 1]) else 1.0 for c in checkpoints]
            cells = [f"{100 * r:10.2f}%" if np.isfinite(h[c - 1]) else f"{'none feas.':>11}"
                     for r, c in zip(regrets, checkpoints, strict=True)]
            print(f"{name:18} {seed:>4} " + " ".join(cells) + f" {wall:7.1f}", flush=True)
            summary.setdefault(name, []).append([*regrets, wall])
    print(f"\n{'strategy':18} " + " ".join(f"{'median@' + str(c):>10} {'range':>15}" for c in checkpoints)
          + f" {'wall s':>7}")
    for name, rows in summary.items():
        r = np.array(rows, dtype=float)
        cells = [f"{100 * np.median(r[:, i]):9.2f}% {100 * r[:, i].min():6.2f}-{100 * r[:, i].max():6.2f}%"
                 for i in range(len(checkpoints))]
        print(f"{name:18} " + " ".join(cells) + f" {np.median(r[:, -1]):7.1f}")

    if args.skip_speed:
        return
    # 4. Speed.
    from nassb.design.sensitivity import reweighting

    design = {"cathode.theoretical_capacity": 2.5, "cathode.porosity": 0.4, "separator.thickness": 80.0,
              "anode.reservoir_thickness": 20.0, "cell.pressure": 1.0}
    scorer.score(design)
    times = []
    for _ in range(300):
        t = time.perf_counter()
        scorer.score(design)
        times.append(time.perf_counter() - t)
    print(f"\nscore(): median {1e3 * statistics.median(times):.2f} ms over 300 calls ({risk.size} draws)")
    t = time.perf_counter()
    reweighting(risk)
    print(f"prior-sensitivity reweighting (PSIS, once per result): {time.perf_counter() - t:.2f} s")
    study = optuna.create_study(direction="maximize", sampler=sampler_of("tpe", 0))
    t = time.perf_counter()
    study.optimize(objective, n_trials=args.speed_trials)
    wall = time.perf_counter() - t
    print(f"{args.speed_trials} TPE trials, in memory: {wall:.1f} s ({1e3 * wall / args.speed_trials:.1f} ms/trial)")
    for where in (None, "/dev/shm"):
        if where and not Path(where).is_dir():
            continue
        with tempfile.TemporaryDirectory(dir=where) as tmp:
            study = open_study(f"sqlite:///{Path(tmp) / 'bench.db'}", "bench", settings, "tpe", 0)
            t = time.perf_counter()
            study.optimize(objective, n_trials=args.speed_trials)
            wall = time.perf_counter() - t
        print(f"{args.speed_trials} TPE trials, SQLite in {where or tempfile.gettempdir()} (open_study, as the CLI): "
              f"{wall:.1f} s ({1e3 * wall / args.speed_trials:.0f} ms/trial)")
    storage_cost(args, space, scorer, settings, objective)
    if not args.skip_workers:
        workers(args)


def storage_cost(args, space, scorer, settings, objective) -> None:
    """5. The cost per trial of a storage against the in-memory search: trial by trial on the
    storage (as nassb design ran before) and in memory with batched writes (nassb.design.batch).
    The in-memory and batched runs alternate over ``--rounds`` rounds (medians: the machine's load
    varies); the trial-by-trial runs, ten times slower, run once."""
    from nassb.design.batch import search

    n = args.speed_trials
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"SQLite": f"sqlite:///{Path(tmp) / 'cost.db'}"}
        if args.postgres:
            urls["PostgreSQL"] = args.postgres
        tag = f"{int(time.time())}"

        def timed(label: str, how: str, round_: int) -> float:
            if label == "memory":
                study = optuna.create_study(direction="maximize", sampler=sampler_of("tpe", 0))
                t = time.perf_counter()
                study.optimize(objective, n_trials=n)
                return (time.perf_counter() - t) / n
            stored = open_study(urls[label], f"cost-{tag}-{how[0]}-{round_}", settings, "tpe", 0)
            t = time.perf_counter()
            if how == "batched":
                assert search(stored, objective, space, trials=n, local=0, sampler="tpe", seed=0).written == n
            else:
                stored.optimize(objective, n_trials=n)
            wall = (time.perf_counter() - t) / n
            assert len(stored.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) == n
            return wall

        runs: dict[tuple[str, str], list[float]] = {}
        for round_ in range(args.rounds):
            for label in ("memory", *urls):
                for how in (("",) if label == "memory" else ("batched", "trial by trial") if round_ == 0
                            else ("batched",)):
                    runs.setdefault((label, how), []).append(timed(label, how, round_))
        memory = statistics.median(runs[("memory", "")])
        print(f"\n{n} TPE trials (seed 0), median of {args.rounds} rounds; load {os.getloadavg()[0]:.1f}")
        print(f"  in memory                 : {1e3 * memory:6.2f} ms/trial "
              f"({', '.join(f'{1e3 * w:.2f}' for w in runs[('memory', '')])})")
        for (label, how), walls in runs.items():
            if label != "memory":
                wall = statistics.median(walls)
                print(f"  {label:10} {how:14}: {1e3 * wall:6.2f} ms/trial, {wall / memory:5.2f} x in memory "
                      f"({', '.join(f'{1e3 * w:.2f}' for w in walls)})", flush=True)


def _worker_runs(python: str, url: str, study: str, runs: list[tuple[int, int]]) -> tuple[float, float]:
    """Start one ``nassb design`` process per (trials, seed) on one study together; the wall time
    until the last ends, and their CPU time (user + system)."""
    import resource
    import subprocess

    args = [python, "-m", "nassb.reports.cli", "design", "--storage", url, "--study", study, "--json"]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    procs = [subprocess.Popen([*args, "--trials", str(n), "--seed", str(seed)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for n, seed in runs]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"a worker failed: {err.strip().splitlines()[-1] if err.strip() else p.returncode}")
    wall = time.perf_counter() - t
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (now.ru_utime - used.ru_utime) + (now.ru_stime - used.ru_stime)


def workers(args) -> None:
    """6. One worker of N trials against two of N/2 on one SQLite study (whole nassb design
    processes, their start-up and result included, so the 1 x N run is the time of an N-trial
    design): wall and CPU time, trials stored and duplicated parameters."""
    import sys

    pythons = {"now": sys.executable, **({"before": args.before_python} if args.before_python else {})}
    print("\nworkers on one SQLite study, nassb design processes (start-up and the result included)")
    for n in (int(x) for x in str(args.workers_trials).split(",")):
        for version, python in pythons.items():
            for runs in ([(n, 1)], [(n // 2, 1), (n // 2, 2)]):
                load = os.getloadavg()[0]
                with tempfile.TemporaryDirectory() as tmp:
                    url = f"sqlite:///{Path(tmp) / 'workers.db'}"
                    wall, cpu = _worker_runs(python, url, "w", runs)
                    trials = optuna.load_study(study_name="w", storage=url).get_trials(deepcopy=False)
                    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
                    keys = [tuple(sorted(t.params.items())) for t in complete]
                print(f"  {version:6} {len(runs)} x {runs[0][0]:4}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
                      f"{len(complete)} trials, {len(keys) - len(set(keys))} duplicated (load {load:.1f})", flush=True)

if __name__ == "__main__":
    main()
