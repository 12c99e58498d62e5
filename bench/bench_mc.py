"""Monte Carlo throughput: ``propagate_mc`` against plain numpy on the same cell.

For paper-cell-1 this times

* ``nassb``: ``propagate_mc(model, draws=N, seed=s)``, the whole call (draws, the cell model,
  the finiteness check, mean, sd, symmetric and shortest 95 % intervals, the first-order check
  and the xarray result);
* ``hand``: the same input distributions and the same stack equations written out below with
  numpy, and per output the mean, sd (ddof=1) and the 2.5 / 97.5 percentiles.

Both run alternately in one process, ``--repeat`` times after one untimed warm-up each; the
medians and the ratio nassb / hand are printed.  The requirement is a ratio of at most 1.5.
The two means of every output are compared in units of their combined Monte Carlo standard
error (the two runs use different seeds, so they agree only to within that error).

Run from the repository root::

    .venv/bin/python bench/bench_mc.py [--draws 1000000] [--repeat 7] [--plain-draws]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from nassb.inference import CellModel, propagate_mc
from nassb.priors import load_card

CELL = "paper-cell-1"

# paper-cell-1 and the built-in materials, in canonical units (um, g/cm^3, mAh/cm^2, mS/cm,
# eV, ohm cm^2, K).  Uncertain inputs as (mean, sd); check_constants() compares them with the card.
# The plating term is a relative deviation of the plated layer (3.3 um of the 19.0 um plated at
# the delivered capacity); conductivity and interface resistance are lognormal with that mean and sd.
U = 3.4                     # cell.voltage, V
T = 303.15                  # cell.temperature, K
T_REF = 303.15              # nzsp-tape.reference_temperature, K
RHO_NA = 0.968              # sodium.density
Q_NA = 1166.0               # sodium.specific_capacity, mAh/g
C_THEO = 2.52               # cathode.theoretical_capacity
C_REAL = 2.14               # cathode.delivered_capacity
UNCERTAIN = {
    "anode.reservoir_thickness": (36.0, 5.0),
    "anode.plating": (0.0, 3.3 / (2.14 / (1166.0 * 0.968 * 1e-4))),
    "separator.thickness": (50.0, 4.0),
    "nzsp-tape.density": (3.3, 0.1),
    "cathode.thickness": (200.0, 10.0),
    "nvp-composite.density": (3.05, 0.08),
    "cathode.porosity": (0.63, 0.03),
    "naclo4-ecpc.density": (1.38, 0.02),
    "nzsp-tape.conductivity": (1.6, 0.3),
    "nzsp-tape.activation_energy": (0.28, 0.01),
    "nzsp-tape.interface_resistance": (1.5, 0.6),
    "nzsp-tape.interface_activation_energy": (0.41, 0.04),
}
LOGNORMAL = ("nzsp-tape.conductivity", "nzsp-tape.interface_resistance")
BOLTZMANN_EV = 8.617333262e-5


def bounded_normal(rng, mean, sd, n, low=0.0):
    """Normal draws redrawn until above ``low``: nassb's truncation at a card's lower bound."""
    x = rng.normal(mean, sd, n)
    bad = np.flatnonzero(x <= low)
    while bad.size:
        x[bad] = rng.normal(mean, sd, bad.size)
        bad = bad[x[bad] <= low]
    return x


def lognormal(rng, mean, sd, n):
    """Lognormal draws with this mean and sd (the card's lognormal quantities)."""
    sigma2 = np.log1p((sd / mean) ** 2)
    return rng.lognormal(np.log(mean) - 0.5 * sigma2, np.sqrt(sigma2), n)


def hand(draws: int, seed: int, plain: bool = False) -> dict[str, tuple[float, float, float, float]]:
    """The paper-cell-1 Monte Carlo in plain numpy: output -> (mean, sd, p2.5, p97.5)."""
    rng = np.random.default_rng(seed)
    p = UNCERTAIN
    draw = {name: rng.normal(mean, sd, draws) for name, (mean, sd) in p.items()}
    # nassb draws conductivity (1.6 ± 0.3) and interface resistance (1.5 ± 0.6) lognormal with
    # that mean and sd.  Drawing them normal instead (--plain-draws) is as much work, but the
    # interface resistance then has 0.6 % of its draws below 0 and another shape: R_interface's
    # interval moves.
    if not plain:
        for name in LOGNORMAL:
            draw[name] = lognormal(rng, *p[name], draws)
    draw["anode.plating"] = bounded_normal(rng, *p["anode.plating"], draws, low=-1.0)

    reservoir, plating = draw["anode.reservoir_thickness"], draw["anode.plating"]
    d_sep, rho_sep = draw["separator.thickness"], draw["nzsp-tape.density"]
    d_cat, rho_cat = draw["cathode.thickness"], draw["nvp-composite.density"]
    porosity, rho_liq = draw["cathode.porosity"], draw["naclo4-ecpc.density"]

    swelling = 1.0 / (Q_NA * RHO_NA * 1e-4)                      # um per mAh/cm^2
    cathode_mass = d_cat * (rho_cat * (1.0 - porosity) + rho_liq * porosity)
    out: dict[str, object] = {}
    for state, capacity in (("theo", C_THEO), ("real", C_REAL)):
        d_anode = reservoir + swelling * capacity * (1.0 + plating)
        mass = (RHO_NA * d_anode + rho_sep * d_sep + cathode_mass) * 1e-4    # g/cm^2
        out[f"E_V_{state}"] = U * capacity / ((d_anode + d_sep + d_cat) * 1e-4)   # Wh/l
        out[f"E_m_{state}"] = U * capacity / mass                               # Wh/kg
        out[f"d_anode_{state}"] = d_anode
    out["porosity"] = porosity
    out["C_theo"] = C_THEO
    out["utilisation"] = C_REAL / C_THEO
    arrhenius = 1.0 / T - 1.0 / T_REF
    out["R_separator"] = (d_sep * 1e-4 / (draw["nzsp-tape.conductivity"] * 1e-3)
                          * np.exp(draw["nzsp-tape.activation_energy"] / BOLTZMANN_EV * arrhenius))
    out["R_interface"] = (draw["nzsp-tape.interface_resistance"]
                          * np.exp(draw["nzsp-tape.interface_activation_energy"] / BOLTZMANN_EV * arrhenius))

    stats = {}
    for name, y in out.items():
        if np.ndim(y) == 0:
            stats[name] = (float(y), 0.0, float(y), float(y))
        else:
            low, high = np.percentile(y, [2.5, 97.5])
            stats[name] = (float(y.mean()), float(y.std(ddof=1)), float(low), float(high))
    return stats


def check_constants(model: CellModel) -> None:
    """Fail loudly if the numbers written above no longer match the card."""
    fixed = {"cell.voltage": U, "cell.temperature": T, "nzsp-tape.reference_temperature": T_REF,
             "sodium.density": RHO_NA, "sodium.specific_capacity": Q_NA,
             "cathode.theoretical_capacity": C_THEO, "cathode.delivered_capacity": C_REAL}
    assert sorted(model.uncertain) == sorted(UNCERTAIN), model.uncertain
    for name, (mean, sd) in UNCERTAIN.items():
        prior = model.inputs[name]
        dist = "lognormal" if name in LOGNORMAL else "normal"
        assert prior.dist == dist and np.isclose(prior.value, mean) and np.isclose(prior.sd, sd, rtol=1e-4), name
    for name, value in fixed.items():
        assert np.isclose(model.inputs[name].value, value), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plain-draws", action="store_true",
                        help="hand version: do not truncate conductivity and interface resistance at 0")
    args = parser.parse_args()

    model = CellModel(load_card(CELL))
    check_constants(model)
    propagate_mc(model, draws=args.draws, seed=0)          # warm-up (imports, first allocations)
    hand(args.draws, 0, args.plain_draws)

    times = {"nassb": [], "hand": []}
    for rep in range(args.repeat):
        # Alternate which goes first so that neither always runs on a warm cache.
        order = ("nassb", "hand") if rep % 2 == 0 else ("hand", "nassb")
        for which in order:
            start = time.perf_counter()
            if which == "nassb":
                result = propagate_mc(model, draws=args.draws, seed=rep + 1)
            else:
                manual = hand(args.draws, 1000 + rep, args.plain_draws)
            times[which].append(time.perf_counter() - start)

    t_nassb, t_hand = statistics.median(times["nassb"]), statistics.median(times["hand"])
    ratio = t_nassb / t_hand
    print(f"{CELL}, {args.draws:,} draws, {args.repeat} repetitions (median, min..max)")
    for which, t in times.items():
        print(f"  {which:6s} {statistics.median(t) * 1e3:8.1f} ms   ({min(t) * 1e3:.1f} .. {max(t) * 1e3:.1f})")
    print(f"  ratio nassb/hand {ratio:.2f}   (requirement <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")

    # Means of the last repetition, in units of their combined standard error.
    print(f"\n{'output':14s} {'mean nassb':>12s} {'mean hand':>12s} {'z':>6s} "
          f"{'sd nassb':>10s} {'sd hand':>10s} {'ci95 nassb':>21s} {'p2.5..p97.5 hand':>21s}")
    worst = 0.0
    for name in model.outputs:
        r = result[name]
        m, s, lo, hi = manual[name]
        se = np.hypot(r["sd"], s) / np.sqrt(args.draws)
        z = (r["mean"] - m) / se if se > 0 else 0.0
        worst = max(worst, abs(z))
        print(f"{name:14s} {r['mean']:12.5g} {m:12.5g} {z:6.2f} {r['sd']:10.4g} {s:10.4g} "
              f"{r['ci95'][0]:10.4g}..{r['ci95'][1]:<9.4g} {lo:10.4g}..{hi:<9.4g}")
    print(f"largest |z| = {worst:.2f} over {len(model.outputs)} outputs "
          f"({'consistent' if worst < 4 else 'MEANS DIFFER'} at |z| < 4)")


if __name__ == "__main__":
    main()
