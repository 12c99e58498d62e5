"""Value of information: ``next_experiment`` over the ten default candidate experiments and the
4000 calibrated draws, and where its time goes.

Times, in one process: the whole call (``nassb next-experiment`` without the start-up of
Python), its parts (the in-memory design search that proposes candidate designs, scoring the
candidates, the preposterior analysis of each experiment) and, per experiment, the seconds per
simulated outcome (simulate, reweight all draws, choose again).  Nothing is re-sampled per outcome.
Run from the repository root:

    .venv/bin/python bench/bench_voi.py [--outcomes 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
from nassb.design import ranking
from nassb.design.voi import value_of_information
from nassb.inference.risk import RiskModel
from nassb.priors import load_card


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    risk = RiskModel.load()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {risk.size} draws, "
          f"{args.outcomes} outcomes per experiment")

    ranking.next_experiment(posterior=risk, outcomes=5)   # warm: imports, cached card moments
    walls = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = ranking.next_experiment(posterior=risk, outcomes=args.outcomes, seed=0)
        walls.append(time.perf_counter() - start)
    print(f"next_experiment, {len(result.values)} experiments: median {statistics.median(walls):.2f} s "
          f"(of {', '.join(f'{w:.2f}' for w in walls)})")

    card = load_card("paper-cell-1")
    decision = ranking._decision_settings({})
    start = time.perf_counter()
    settings, scorer = ranking._search_settings(card, risk, decision)
    t_scorer = time.perf_counter() - start
    start = time.perf_counter()
    designs = ranking.search_designs(card, scorer, settings, risk) + ranking._paper_cells(scorer, settings, risk)
    t_search = time.perf_counter() - start
    start = time.perf_counter()
    scored = ranking._score_candidates(designs, card, scorer, settings, risk)
    problem = ranking.decision_problem(scored, settings)
    experiments = ranking.default_experiments(scored, problem, settings.cycles)
    t_score = time.perf_counter() - start
    print(f"  scorer {t_scorer:.2f} s, search ({ranking.SEARCH_TRIALS} trials) and paper cells {t_search:.2f} s, "
          f"scoring {len(designs)} candidates and building the experiments {t_score:.2f} s")
    total = 0.0
    for e in experiments:
        start = time.perf_counter()
        value_of_information(problem, e, risk.draws, outcomes=args.outcomes, seed=0, judged="after")
        spent = time.perf_counter() - start
        total += spent
        print(f"  {e.name:60s} {spent:6.2f} s  {1e3 * spent / args.outcomes:6.2f} ms per outcome")
    print(f"  preposterior analysis of all {len(experiments)}: {total:.2f} s")


if __name__ == "__main__":
    main()
