"""Wall time of one campaign round: record four built cells + recalibrate + propose four.

The recalibration by PSIS reweighting (the default where its gate passes) against one by NUTS
(run once, short: ``--nuts-draws`` and ``--nuts-tune`` per chain, ``--nuts-chains`` chains).  The
built cells are SYNTHETIC: each round-1 proposal built as proposed, with invented outcomes (one
cracked, one shorted, two cycled with a resistance).  Run from the repository root:

    .venv/bin/python bench/bench_campaign.py [--trials 200] [--nuts-draws 300] [--nuts-tune 300] [--nuts-chains 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nassb.design.campaign import Campaign

OUTCOMES = ('cracked = true\n',
            'current = "0.2 mA/cm^2"\nshort_cycle = 37\n',
            'current = "0.2 mA/cm^2"\ncycles = 100\nresistance = "160 ± 15 ohm*cm^2"\n',
            'current = "0.2 mA/cm^2"\ncycles = 100\nresistance = "210 ± 20 ohm*cm^2"\n')


def observations(folder: Path, proposals: list[dict]) -> Path:
    """A SYNTHETIC observations file: each proposal built as proposed, with an invented outcome."""
    lines = ["# SYNTHETIC: invented outcomes for bench/bench_campaign.py", ""]
    for p, outcome in zip(proposals, OUTCOMES):
        lines += ["[[cells]]", f'base = "{p["name"]}.toml"', f'name = "built-{p["name"]}"',
                  'source = "SYNTHETIC: invented"', "[cells.outcome]", outcome]
    path = folder / "round1.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def one_round(folder: Path, name: str, recalibration: str, trials: int, nuts: dict) -> dict[str, float]:
    storage = f"sqlite:///{folder / 'bench.db'}"
    campaign = Campaign.start(name, storage=storage)
    cards = folder / name
    first = campaign.propose(4, out=cards, trials=trials, seed=1)
    path = observations(cards, first.proposals)
    start = time.perf_counter()
    record = campaign.record(path, recalibration=recalibration, nuts=nuts, seed=2)
    recorded = time.perf_counter()
    campaign.propose(4, out=folder / f"{name}-2", trials=trials, seed=3)
    proposed = time.perf_counter()
    gate = record.posterior.get("gate", {})
    detail = (f"k-hat {gate['k_hat']:.2f}, ESS {gate['ess']:.0f}, {gate['distinct']} distinct" if "k_hat" in gate
              else "; ".join(record.warnings) or "no warnings")
    return {"method": record.method, "record": recorded - start, "propose": proposed - recorded,
            "round": proposed - start, "detail": detail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--nuts-draws", type=int, default=300)
    parser.add_argument("--nuts-tune", type=int, default=300)
    parser.add_argument("--nuts-chains", type=int, default=2)
    args = parser.parse_args()
    nuts = {"draws": args.nuts_draws, "tune": args.nuts_tune, "chains": args.nuts_chains}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, how in (("reweight", "reweight"), ("nuts", "nuts")):
            t = one_round(folder, name, how, args.trials, nuts)
            print(f"{name}: record + recalibrate {t['record']:.1f} s ({t['method']}; {t['detail']}), "
                  f"propose 4 {t['propose']:.1f} s, round {t['round']:.1f} s")


if __name__ == "__main__":
    main()
