"""Posterior-predictive cost of the risk models: what one design-search trial pays.

Times ``RiskModel.score`` for one design over all calibrated draws (4000), against the same
forms written out by hand in numpy on the same arrays (the anchor), and a batch of 100 designs
broadcast at once.  Run from the repository root:

    .venv/bin/python bench/bench_risk.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from nassb.inference.risk import RiskModel

DESIGN = {"pressure": 1.0, "separator_thickness": 110.0, "area": 0.503, "current": 0.5, "cycles": 70.0,
          "reservoir_thickness": 36.0, "swelling": 8.86, "capacity": 1.11, "cathode_thickness": 100.0,
          "porosity": 0.63, "r_separator": 6.9, "r_interface": 1.5}


def by_hand(d: dict, x: dict) -> dict:
    """The four forms written out plainly (same equations as inference/risk/forms.py)."""
    span = d["fracture.span_reference"] * (x["separator_thickness"] / 100.0) ** (-d["fracture.span_exponent"])
    stress = 3 * (3 + 0.26) / 8 * x["pressure"] * (span / x["separator_thickness"]) ** 2
    frac = 1 - np.exp(-x["area"] * (stress / d["fracture.strength"]) ** d["fracture.weibull_modulus"])
    ccd = (d["short.ccd_reference"] * x["pressure"] ** d["short.pressure_exponent"]
           * ((x["reservoir_thickness"] + 5) / 41) ** d["short.reservoir_exponent"]
           * (x["separator_thickness"] / 100) ** d["short.thickness_exponent"]
           * x["capacity"] ** (-d["short.capacity_exponent"]))
    short = 1 - np.exp(-(x["current"] / ccd) ** d["short.ccd_modulus"] * x["cycles"] ** d["short.cycle_exponent"])
    t, p = x["cathode_thickness"], x["porosity"]
    r_ion = (t * 1e-4 * d["rate.macmullin"] * (p / 0.63) ** (-d["rate.bruggeman"])
             / (d["rate.liquid_conductivity"] * 1e-3))
    r_el = t * 1e-4 / (d["rate.electronic_conductivity"] * 1e-3 * ((1 - p) / 0.37) ** 1.5)
    r_ct = d["rate.charge_transfer"] * (100 / t) * (0.37 / (1 - p))

    def line(ct):
        nu = np.sqrt((r_ion + r_el) / ct)
        return (r_ion * r_el / (r_ion + r_el) * (1 + 2 / (nu * np.sinh(nu)))
                + (r_ion ** 2 + r_el ** 2) / (r_ion + r_el) / (nu * np.tanh(nu)))

    factor = d["rate.formation_reference"] * x["pressure"] ** (-d["rate.formation_exponent"])
    r_cell = (x["r_separator"] + x["r_interface"] + line(r_ct * factor)
              + d["rate.contact_reference"] * x["pressure"] ** (-d["rate.contact_exponent"]))
    q1, q, f = d["inventory.first_loss"], d["inventory.loss"], d["inventory.fade"]
    reservoir = x["reservoir_thickness"] / x["swelling"]
    first = np.minimum(1, 1 - q1 + reservoir / x["capacity"])
    left = np.maximum(reservoir - q1 * x["capacity"], 0)
    keep = first * (1 - q) ** np.maximum(x["cycles"] - 1 - left / (q * x["capacity"]), 0) * (1 - f) ** (x["cycles"] - 1)
    return {"P_fracture": frac, "P_short": short, "R_cell": r_cell, "retention": keep}


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    risk = RiskModel.load()
    nassb = median_ms(lambda: risk.score(**DESIGN), args.repeat)
    hand = median_ms(lambda: by_hand(risk.draws, DESIGN), args.repeat)
    batch = dict(DESIGN, pressure=np.linspace(0.05, 2.0, 100)[:, None])
    batched = median_ms(lambda: risk.score(**batch), max(args.repeat // 5, 3))
    ours, theirs = risk.score(**DESIGN), by_hand(risk.draws, DESIGN)
    worst = max(float(np.max(np.abs(getattr(ours, k) - theirs[k]) / np.maximum(np.abs(theirs[k]), 1e-300)))
                for k in theirs)
    # (the RiskScore also carries R_cell's parts: the cathode before formation is a second
    # transmission line, which the hand version does not need)
    print(f"draws: {risk.size}")
    print(f"one design, nassb RiskModel.score : {nassb:7.3f} ms")
    print(f"one design, numpy by hand         : {hand:7.3f} ms   (ratio {nassb / hand:.2f})")
    print(f"100 designs broadcast at once     : {batched:7.3f} ms   ({batched / 100:.3f} ms per design)")
    print(f"largest relative difference nassb vs hand: {worst:.1e}")


if __name__ == "__main__":
    main()
