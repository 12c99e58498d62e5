"""Campaigns against SYNTHETIC true labs whose laws differ from nassb's, against random designs.

Each lab (tests/design/simlab_labs.py: four kinds of laws, each seeded) runs one campaign of
``--rounds`` rounds of ``--batch`` cells (propose with ``--trials`` trials, build in the lab,
record with ``--recalibration``) and ``--repeats`` random campaigns of designs that look feasible
under the shipped posterior.  Printed per round, over the labs: the median best truly feasible
cell built so far (campaign, random), the share of built cells truly breaking a limit, the Brier
score of the proposals' P_short and P_fracture against what the cells did (and what the true
probabilities score), the mean predicted and true P_short, the share of built cells whose true
R_cell (and energy) lay in the proposal's 95 % interval, the median predicted over true R_cell
and the seconds of each record.  Then the done-when of the campaign issue: after the last round
the median best at least 10 % above the random median, and R_cell coverage of at least 85 %.
Run from the repository root:

    .venv/bin/python bench/bench_campaign_truth.py [--labs 3] [--trials 60] [--recalibration reweight]
        [--limit-confidence 0.9] [--hold every|combined|file] [--optimum]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.design.simlab import labs, run_campaign, summarise, true_optimum


def table(rows: list[dict]) -> str:
    head = ("round  best  random  viol  rand-viol  Brier-short (truth)  Brier-frac (truth)  P_short pred/true  "
            "R-cov  R-cov-all  E-cov  R pred/true  record s (max)  method")
    lines = [head]
    for r in rows:
        lines.append(f"{r['round']:>5}  {r['best']:>4.0f}  {r['random_best']:>6.0f}  {r['violations']:>4.2f}  "
                     f"{r['random_violations']:>9.2f}  {r['brier_P_short']:>11.3f} ({r['brier_P_short_truth']:.3f})  "
                     f"{r['brier_P_fracture']:>10.3f} ({r['brier_P_fracture_truth']:.3f})  "
                     f"{r['predicted_P_short']:>8.2f}/{r['true_P_short']:.2f}  {r['coverage_R_cell']:>5.2f}  "
                     f"{r['coverage_R_cell_so_far']:>9.2f}  {r['coverage_energy']:>5.2f}  {r['r_ratio']:>11.2f}  "
                     f"{r['record_s']:>8.1f} ({r['record_s_max']:.1f})  {','.join(r['methods'])}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="seed of the labs and the campaigns")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=200, help="random campaigns per lab")
    parser.add_argument("--recalibration", default="auto", choices=("auto", "smc", "reweight", "nuts"))
    parser.add_argument("--limit-confidence", type=float, default=None)
    parser.add_argument("--hold", default=None, choices=("every", "combined", "file"),
                        help="how the limits are held across the readings (default: the decision's)")
    parser.add_argument("--optimum", action="store_true", help="also each lab's true optimum (Sobol + polish)")
    args = parser.parse_args()
    options = {} if args.limit_confidence is None else {"limit_confidence": args.limit_confidence}
    if args.hold is not None:
        options["hold"] = args.hold
    tracks = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nassb-truth-") as folder:
        for i, lab in enumerate(labs(args.labs, args.seed)):
            began = time.perf_counter()
            track = run_campaign(lab, Path(folder) / f"lab{i}", args.rounds, args.batch, seed=args.seed * 100 + i,
                                 trials=args.trials, recalibration=args.recalibration, repeats=args.repeats,
                                 **options)
            tracks.append(track)
            optimum = f", true optimum {true_optimum(lab, points=1024, polish=2)[0]:.0f}" if args.optimum else ""
            print(f"{track['lab']}: best {[round(r['best']) for r in track['rounds']]}, random median "
                  f"{[round(r['best']) for r in track['random']]}, violations "
                  f"{[round(r['violations'], 2) for r in track['rounds']]}{optimum} "
                  f"({time.perf_counter() - began:.0f} s)", flush=True)
    rows = summarise(tracks)
    print()
    print(f"{args.labs} labs, {args.rounds} rounds of {args.batch} cells, {args.trials} trials, "
          f"recalibration {args.recalibration}, {options or 'default decision'}; "
          f"{time.perf_counter() - start:.0f} s in all")
    print(table(rows))
    last = rows[-1]
    gain = last["best"] / last["random_best"] - 1 if last["random_best"] > 0 else float("nan")
    print(f"\ndone when: median best {last['best']:.0f} vs random {last['random_best']:.0f} ({gain:+.0%}, "
          "needs >= +10 %): "
          f"{'met' if gain >= 0.1 else 'NOT met'}; R_cell coverage {last['coverage_R_cell_so_far']:.0%} of the "
          f"built cells (needs >= 85 %): {'met' if last['coverage_R_cell_so_far'] >= 0.85 else 'NOT met'}; "
          f"violations {last['violations']:.2f} vs random {last['random_violations']:.2f}")


if __name__ == "__main__":
    main()
