"""Design search against the brute-force optimum: regret of TPE and random search, and speed.

The scoring model is cheap (one design over all 4000 calibrated draws in a few ms), so the true
constrained optimum of the default search (q0.05 of E_V, paper-cell-1, 0.214 mA/cm^2, 100
cycles, default limits) can be found by scipy's differential evolution on the same scores.
Then TPE (as ``nassb design`` makes it) and RandomSampler run ``--trials`` trials each, in
memory, for each of ``--seeds`` seeds; from each history we take the best feasible objective
after 100/200/500 trials, its regret ``1 - best/optimum`` and the number of trials needed to
reach 99 % of the optimum.  Last, the speed: one ``DesignScorer.score`` call, and 1000 TPE
trials in memory and in SQLite (opened as the CLI opens it).  Run from the repository root:

    .venv/bin/python bench/bench_design.py [--seeds 3] [--trials 500] [--de-maxiter 300]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
from scipy.optimize import differential_evolution

from nassb.design import DesignScorer, SearchSettings, design_space
from nassb.design.study import make_objective, objective_value, open_study
from nassb.inference.risk import RiskModel
from nassb.priors import load_card

CARD, CURRENT, CYCLES = "paper-cell-1", 0.214, 100
CHECKPOINTS = (100, 200, 500)
PENALTY = 1e4  # above any E_V (Wh/l): an infeasible design always scores worse than a feasible one


def brute_force(space, scorer, settings, seed: int, maxiter: int, popsize: int):
    """Differential evolution, feasibility first: minimise -q0.05(E_V) if feasible, else
    PENALTY + the sum of the violations (each relative to its limit)."""
    variables = [v for v in space if not v.fixed]
    bounds = [(math.log(v.low), math.log(v.high)) if v.log else (v.low, v.high) for v in variables]
    lim = settings.limits
    scale = {"P_fracture": lim.max_fracture, "P_short": lim.max_short, "ohmic_drop": lim.max_drop,
             "retention": 1.0 - lim.min_retention}

    def design_of(x):
        d = {v.name: v.low for v in space if v.fixed}
        d.update({v.name: (math.exp(xi) if v.log else xi) for v, xi in zip(variables, x)})
        return d

    def f(x):
        values = scorer.score(design_of(x))
        viol = lim.violations({k: float(v.mean()) for k, v in values.items()})
        excess = sum(max(val, 0.0) / scale[k] for k, val in viol.items())
        if excess > 0:
            return PENALTY + excess
        return -objective_value(values, settings.objective, settings.quantile)

    t = time.perf_counter()
    res = differential_evolution(f, bounds, seed=seed, maxiter=maxiter, popsize=popsize, tol=1e-8,
                                 polish=False, init="sobol")
    wall = time.perf_counter() - t
    return {"value": -res.fun, "design": design_of(res.x), "nfev": res.nfev, "wall": wall,
            "converged": bool(res.success), "feasible": res.fun < PENALTY}


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


def run_sampler(name: str, seed: int, n: int, objective) -> tuple[np.ndarray, float]:
    sampler = (optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True) if name == "TPE"
               else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    t = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return history(study), time.perf_counter() - t


def fmt_design(d: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in d.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="Optuna seeds per sampler")
    parser.add_argument("--trials", type=int, default=500, help="trials per Optuna run")
    parser.add_argument("--de-maxiter", type=int, default=300, help="differential evolution generations")
    parser.add_argument("--de-popsize", type=int, default=15, help="differential evolution population multiplier")
    parser.add_argument("--speed-trials", type=int, default=1000, help="trials for the speed runs")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    card = load_card(CARD)
    space, risk = design_space(card), RiskModel.load()
    scorer = DesignScorer(card, risk, current=CURRENT, cycles=CYCLES)
    settings = SearchSettings(card.sha256, current=CURRENT, cycles=CYCLES, space=())
    objective = make_objective(space, scorer, settings)
    print(f"{CARD}, {CURRENT} mA/cm^2, {CYCLES} cycles, {risk.size} draws, objective q0.05 E_V (Wh/l)")

    # 1. The brute-force optimum, from two DE seeds.
    runs = [brute_force(space, scorer, settings, s, args.de_maxiter, args.de_popsize) for s in (1, 2)]
    for s, r in zip((1, 2), runs):
        print(f"DE seed {s}: {r['value']:.3f} Wh/l, feasible {r['feasible']}, converged {r['converged']}, "
              f"{r['nfev']} evaluations, {r['wall']:.1f} s\n    {fmt_design(r['design'])}")
    best = max(runs, key=lambda r: r["value"])
    opt = best["value"]
    spread = abs(runs[0]["value"] - runs[1]["value"]) / opt
    print(f"optimum {opt:.3f} Wh/l; the two seeds differ by {100 * spread:.3f} % "
          f"({'agree' if spread <= 0.005 else 'DISAGREE'} within 0.5 %)")
    means = {k: float(v.mean()) for k, v in scorer.score(best["design"]).items()}
    print("  violations at the optimum (<= 0 feasible):",
          ", ".join(f"{k} {v:+.4g}" for k, v in settings.limits.violations(means).items()))

    # 2. Regret of TPE and random search.
    checkpoints = [c for c in CHECKPOINTS if c <= args.trials]
    print(f"\n{'sampler':8} {'seed':>4} " + " ".join(f"{'regret@' + str(c):>11}" for c in checkpoints)
          + f" {'to 99 %':>8} {'wall s':>7}")
    summary: dict[str, dict[str, list]] = {}
    for name in ("TPE", "Random"):
        for seed in range(args.seeds):
            h, wall = run_sampler(name, seed, args.trials, objective)
            cells, regrets = [], []
            for c in checkpoints:
                b = h[c - 1]
                r = 1 - b / opt if np.isfinite(b) else 1.0  # no feasible design yet: 100 %
                regrets.append(r)
                cells.append(f"{100 * r:10.2f}%" if np.isfinite(b) else f"{'none feas.':>11}")
            hit = np.nonzero(np.nan_to_num(h, nan=-np.inf) >= 0.99 * opt)[0]
            reach = int(hit[0]) + 1 if hit.size else None
            print(f"{name:8} {seed:>4} " + " ".join(cells) + f" {reach if reach else 'no':>8} {wall:7.1f}")
            s = summary.setdefault(name, {"regret": [], "reach": []})
            s["regret"].append(regrets)
            s["reach"].append(reach)
    for name, s in summary.items():
        r = np.array(s["regret"], dtype=float)
        med = np.median(r, axis=0)
        worst = np.max(r, axis=0)
        reached = [x for x in s["reach"] if x]
        print(f"{name}: median regret " + ", ".join(f"@{c} {100 * m:.2f} %" for c, m in zip(checkpoints, med))
              + "; worst " + ", ".join(f"{100 * w:.2f} %" for w in worst)
              + f"; reached 99 % in {len(reached)}/{len(s['reach'])} runs"
              + (f" (median {statistics.median(reached):g} trials)" if reached else ""))

    if args.skip_speed:
        return
    # 3. Speed.
    design = {"capacity": 2.5, "porosity": 0.4, "separator_thickness": 80.0, "reservoir_thickness": 20.0,
              "pressure": 1.0}
    scorer.score(design)
    times = []
    for _ in range(300):
        t = time.perf_counter()
        scorer.score(design)
        times.append(time.perf_counter() - t)
    print(f"\nscore(): median {1e3 * statistics.median(times):.2f} ms over 300 calls ({risk.size} draws)")
    h, wall = run_sampler("TPE", 0, args.speed_trials, objective)
    print(f"{args.speed_trials} TPE trials, in memory: {wall:.1f} s ({1e3 * wall / args.speed_trials:.1f} ms/trial); "
          f"regret after them {100 * (1 - h[-1] / opt):.2f} %")
    # SQLite opened as the CLI opens it (heartbeats on); on disk, and in RAM (/dev/shm) to separate
    # the cost of the disk's syncs from that of SQLAlchemy.
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


if __name__ == "__main__":
    main()
