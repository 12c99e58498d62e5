"""First-order propagation: ``propagate_gum`` against the ``uncertainties`` package.

For paper-cell-1 and paper-cell-2 this

* propagates with ``propagate_gum(model)`` (complex-step sensitivities, budget, xarray result);
* propagates with ``uncertainties``: one ``ufloat`` per uncertain input at
  ``model.inputs[name].moments()``, pushed through the same equations by calling
  ``model.evaluate`` with ufloat inputs and ``umath.exp`` as the ``exp`` of its ``xp`` namespace
  (numpy's ``np.exp`` does not accept ufloats); linear propagation with automatic derivatives;
* checks that the mean and the standard uncertainty of every output agree to 1e-9 relative;
* times both with ``timeit`` (``--repeat`` rounds of an auto-ranged number of calls) and prints
  the median time per call and the ratio nassb / uncertainties; then, to show where the time
  goes, ``moments()`` of all inputs alone, and both propagations from precomputed moments
  (``sensitivities(model, point)``, the complex-step core of ``propagate_gum``).

Both timed paths start from the card's inputs (``moments()`` included): ``propagate_gum(model)``
alone, and the ufloat path down to the mean and standard uncertainty of every output.

Run from the repository root::

    .venv/bin/python bench/bench_gum.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from functools import partial
from types import SimpleNamespace

import uncertainties
from uncertainties import ufloat, umath

from nassb.inference import CellModel, propagate_gum, sensitivities
from nassb.priors import load_card

CELLS = ("paper-cell-1", "paper-cell-2")
RTOL = 1e-9
UMATH = SimpleNamespace(exp=umath.exp)   # the ``xp`` namespace: evaluate only needs ``exp``


def input_moments(model: CellModel) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation of every input (scipy for a truncated normal)."""
    return {name: prior.moments() for name, prior in model.inputs.items()}


def with_uncertainties(model: CellModel, moments: dict | None = None) -> dict[str, tuple[float, float]]:
    """Output -> (value, standard uncertainty) by the ``uncertainties`` package.

    ``moments`` (from :func:`input_moments`) may be given to time the propagation alone.
    """
    moments = input_moments(model) if moments is None else moments
    x = {name: mean for name, (mean, _) in moments.items()}
    for name in model.uncertain:
        x[name] = ufloat(*moments[name], tag=name)
    y = model.evaluate(x, xp=UMATH)
    # Outputs no uncertain input reaches (C_theo, utilisation) stay floats; these accept both.
    return {k: (uncertainties.nominal_value(v), uncertainties.std_dev(v)) for k, v in y.items()}


def with_nassb(model: CellModel) -> dict[str, tuple[float, float]]:
    """Output -> (value, standard uncertainty) by ``propagate_gum``."""
    r = propagate_gum(model)
    return {k: (r[k]["mean"], r[k]["sd"]) for k in model.outputs}


def per_call(fn, repeat: int) -> float:
    """Median seconds per call of ``fn()`` over ``repeat`` timeit rounds."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    return statistics.median(t / number for t in timer.repeat(repeat, number))


def _read_outputs(result, names) -> list:
    """Every output of a result read by name: the cost of looking values up."""
    return [result[name] for name in names]


def relative(a: float, b: float) -> float:
    """|a - b| relative to the larger magnitude; 0 when equal (also for two zeros)."""
    return abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    failures = 0
    for cell in CELLS:
        model = CellModel(load_card(cell))
        ours, theirs = with_nassb(model), with_uncertainties(model)
        print(f"{cell}: {len(model.uncertain)} uncertain inputs, {len(model.outputs)} outputs")
        print(f"  {'output':14s} {'mean':>14s} {'u':>12s} {'rel. diff mean':>15s} {'rel. diff u':>12s}")
        for name in model.outputs:
            (m1, u1), (m2, u2) = ours[name], theirs[name]
            dm, du = relative(m1, m2), relative(u1, u2)
            ok = dm <= RTOL and du <= RTOL
            failures += not ok
            print(f"  {name:14s} {m1:14.8g} {u1:12.6g} {dm:15.1e} {du:12.1e}{'' if ok else '   MISMATCH'}")

        t_nassb = per_call(partial(propagate_gum, model), args.repeat)
        t_unc = per_call(partial(with_uncertainties, model), args.repeat)
        moments = input_moments(model)
        point = {name: mean for name, (mean, _) in moments.items()}
        t_moments = per_call(partial(input_moments, model), args.repeat)
        t_sens = per_call(partial(sensitivities, model, point), args.repeat)
        t_unc_core = per_call(partial(with_uncertainties, model, moments), args.repeat)
        result = propagate_gum(model)
        t_read = per_call(partial(_read_outputs, result, model.outputs), args.repeat)
        print(f"  time per call (median of {args.repeat} timeit rounds):")
        print(f"    propagate_gum   {t_nassb * 1e6:8.0f} us")
        print(f"    uncertainties   {t_unc * 1e6:8.0f} us")
        print(f"    ratio nassb/uncertainties {t_nassb / t_unc:.2f}")
        print(f"  parts: moments() of all inputs {t_moments * 1e6:.0f} us; without it, "
              f"sensitivities() {t_sens * 1e6:.0f} us, uncertainties {t_unc_core * 1e6:.0f} us")
        print(f"  (not timed above: reading all {len(model.outputs)} summaries of the result, "
              f"result[name], costs {t_read * 1e6:.0f} us)\n")

    print("all means and standard uncertainties agree to 1e-9 relative" if not failures
          else f"{failures} outputs differ by more than {RTOL:g} relative")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
