"""Coverage of the default fit's 95 % intervals on SYNTHETIC spectra shaped like yadg's
vsp_peis_with: a nearly flat fast arc beyond the window, a slow arc at its other edge.

For each chosen cycle of ``vsp_peis_with.mpt`` (yadg's test file, not committed: pass its
path), the posterior mode of the real spectrum with the issue's circuit
``L0-R0-p(R1,CPE1)-p(R2,CPE2)`` above 100 kHz cut is taken as a truth, with each arc's time
constant brought at least one decade inside the assumed range (the real modes sit on its bound,
where no interval can hold the truth at its stated rate).  From it, ``--seeds`` spectra are
computed at the real spectrum's frequencies with independent Gaussian noise of sd 0.2 % of |Z|
on Z' and Z'' (about what the real spectra's residuals show), and each is fitted with the
default settings (``auto``, lin-KK off: the spectra are synthetic).  Printed: per fit its
method and the parameters whose 95 % interval misses the truth; in all, the fits accepted, and
the share of the accepted fits' intervals that hold the truth, per parameter.

The truths are a handful of real posteriors' modes, not draws from the fit's prior: a coverage
study where the fast methods are hardest pressed, not a full simulation-based calibration.
Misses cluster (the parameters of one arc move together), so a few datasets whose noise pulls
the posterior away from the truth move the share by several per cent.

Run from the repository root::

    .venv/bin/python bench/bench_eis_vsp_coverage.py PATH/vsp_peis_with.mpt [--cycles 4 10 13 21 25 30] [--seeds 4]
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
from collections import Counter

import numpy as np
from nassb.inference.eis.api import _window, load_spectra
from nassb.inference.eis.circuit import Circuit
from nassb.inference.eis.coordinates import Layout
from nassb.inference.eis.fit import EISSettings, fit_spectrum
from nassb.inference.eis.laplace import LogPosterior, find_mode
from nassb.inference.eis.leastsq import fit_least_squares
from nassb.inference.eis.spectrum import Spectrum
from nassb.inference.sampling import SamplerSettings

CIRCUIT = "L0-R0-p(R1,CPE1)-p(R2,CPE2)"
NOISE = 0.002  # relative sd of the synthetic noise on Z' and Z''


def truth_of(spectrum: Spectrum, layout: Layout) -> dict:
    """The real spectrum's posterior mode, each arc's ln tau brought a decade inside the assumed range."""
    post = LogPosterior(spectrum, layout)
    mode = find_mode(post, fit_least_squares(spectrum, layout).theta)
    logs, log_tau, exponents, _ = layout.unpack(mode.x[:-1])
    mid, half = post.window[0]
    decade = math.log(10.0)
    log_tau = [min(max(float(log_tau[0]), mid - half - decade), mid + half),
               min(max(float(log_tau[1]), mid - half), mid + half + decade)]
    return {k: float(v) for k, v in layout.values(logs, log_tau, exponents).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="yadg's vsp_peis_with.mpt")
    parser.add_argument("--cycles", type=int, nargs="+", default=[4, 10, 13, 21, 25, 30])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    circuit, layout = Circuit(CIRCUIT), Layout.of(Circuit(CIRCUIT))
    spectra = load_spectra(args.file)
    print(f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; SYNTHETIC spectra at vsp_peis_with's modes, noise {NOISE:.1%} of |Z|")
    accepted = fits = held = total = 0
    misses: Counter = Counter()
    methods: Counter = Counter()
    seconds = []
    for cycle in args.cycles:
        real = _window(spectra[cycle - 1], None, 1e5)
        truth = truth_of(real, layout)
        clean = circuit.complex_impedance(truth, real.omega)
        for seed in range(1, args.seeds + 1):
            rng = np.random.default_rng(1000 * cycle + seed)
            noisy = clean + NOISE * np.abs(clean) * (rng.standard_normal(clean.size)
                                                     + 1j * rng.standard_normal(clean.size))
            spectrum = Spectrum(frequency=real.frequency, z=noisy, source=f"synthetic-vsp-{cycle}-{seed}",
                                name=f"cycle {cycle}, seed {seed}", notes=("SYNTHETIC",))
            fit = fit_spectrum(spectrum, CIRCUIT, EISSettings(sampler=SamplerSettings(seed=seed), kk=False))
            draws = fit.draws()
            outside = [k for k, v in truth.items()
                       if not np.quantile(draws[k], 0.025) <= v <= np.quantile(draws[k], 0.975)]
            fits += 1
            seconds.append(fit.seconds)
            ok = fit.ok
            methods[fit.diagnostics.method.split(" (")[0]] += 1
            if ok:
                accepted += 1
                held += len(truth) - len(outside)
                total += len(truth)
                misses.update(outside)
            print(f"cycle {cycle:2d} seed {seed}: {fit.diagnostics.method}, {fit.seconds:.1f} s; "
                  f"{'accepted' if ok else 'NOT accepted'}; outside: {', '.join(outside) or '-'}", flush=True)
    print(f"\n{accepted} of {fits} fits accepted ({', '.join(f'{k} {v}' for k, v in methods.items())}); "
          f"time median {np.median(seconds):.1f} s, max {max(seconds):.1f} s")
    print(f"coverage of the accepted fits' 95 % intervals: {held} of {total} = {held / max(total, 1):.1%}")
    per = {k: 1 - misses[k] / max(accepted, 1) for k in layout.circuit.names}
    print("per parameter: " + ", ".join(f"{k} {v:.0%}" for k, v in per.items()))


if __name__ == "__main__":
    main()
