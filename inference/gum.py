"""First-order propagation (GUM, JCGM 100) with exact derivatives and the uncertainty budget.

Sensitivity coefficients come from complex-step differentiation: for an analytic f,
df/dx = Im f(x + i h) / h with no subtractive cancellation, so h = 1e-20 gives derivatives
exact to rounding (Squire & Trapp, SIAM Review 40, 1998).  All inputs are perturbed in one
vectorised call of the cell model.  Inputs from a card are independent; correlations between
derived quantities (porosity derived from the loading and the thickness) are carried by the
model itself.  The outputs share inputs, so they are correlated: their joint covariance
(JCGM 102, 6.2) is C diag(u^2) C^T with C the sensitivity matrix.
"""

from __future__ import annotations

import json

import numpy as np

from .model import CellModel
from .result import PropagationResult, add_covariance, summary_dataset

_STEP = 1e-20
COVERAGE_95 = 1.959963984540054
"""Coverage factor of a 95 % interval for a normal distribution (first order, infinite dof)."""


def sensitivities(model: CellModel, at: dict[str, float] | None = None) -> tuple[dict, dict]:
    """Output values and their derivatives with respect to every uncertain input.

    Returns
    -------
    values : dict[str, float]
        Each output at ``at`` (default: the inputs' means).
    derivatives : dict[str, numpy.ndarray]
        Each output's partial derivatives, ordered as ``model.uncertain``.
    """
    point = dict(model.nominal() if at is None else at)
    names = model.uncertain
    n = len(names)
    x: dict[str, object] = dict(point)
    for i, name in enumerate(names):
        column = np.full(n + 1, point[name], dtype=complex)
        column[i + 1] += 1j * _STEP
        x[name] = column
    y = model.evaluate(x)
    values, derivatives = {}, {}
    for key, out in y.items():
        out = np.broadcast_to(np.asarray(out, dtype=complex), (n + 1,))
        values[key] = float(out[0].real)
        derivatives[key] = out[1:].imag / _STEP
    return values, derivatives


def propagate_gum(model: CellModel) -> PropagationResult:
    """First-order propagation of a card's input uncertainties to every output.

    The result's dataset carries ``sensitivity``, ``contribution`` (``|c_i|`` u(x_i), in the
    output's unit) and ``share`` (u_i(y)^2 / u_c(y)^2) along ``(quantity, input)``, and a 95 %
    interval y ± 1.96 u_c(y).
    """
    names = model.uncertain
    moments = [model.inputs[name].moments() for name in names]
    point = model.nominal()
    values, derivatives = sensitivities(model, point)
    u_in = np.array([sd for _, sd in moments])
    quantities = list(model.outputs)
    c = np.array([derivatives[q] for q in quantities]).reshape(len(quantities), len(names))
    contribution = np.abs(c) * u_in
    variance = (contribution ** 2).sum(axis=1)
    u = np.sqrt(variance)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(variance[:, None] > 0, contribution ** 2 / variance[:, None], 0.0)
    y = np.array([values[q] for q in quantities])
    summaries = [{"mean": float(y[i]), "sd": float(u[i]), "unit": model.outputs[q],
                  "ci95": [float(y[i] - COVERAGE_95 * u[i]), float(y[i] + COVERAGE_95 * u[i])]}
                 for i, q in enumerate(quantities)]
    ds = summary_dataset(
        quantities, summaries,
        attrs={"cell": model.card.name, "card": model.card.origin, "card_sha256": model.card.sha256,
               "method": "gum", "coverage_factor": COVERAGE_95, "conventions": json.dumps(model.conventions())},
    )
    joint = [i for i, q in enumerate(quantities) if u[i] > 0]
    ds = add_covariance(ds, [quantities[i] for i in joint], (c[joint] * u_in ** 2) @ c[joint].T)
    ds = ds.assign_coords(
        input=names,
        input_unit=("input", [model.inputs[n].unit or "1" for n in names]),
    )
    ds["input_value"] = ("input", np.array([m for m, _ in moments]))
    ds["input_sd"] = ("input", u_in)
    ds["sensitivity"] = (("quantity", "input"), c)
    ds["contribution"] = (("quantity", "input"), contribution)
    ds["share"] = (("quantity", "input"), share)
    return PropagationResult(ds, model=model, notes=validity_notes(model, summaries))


def validity_notes(model: CellModel, summaries: list[dict]) -> list[str]:
    """Where first order cannot be trusted: an output without a variance, or a first-order
    interval that reaches beyond what the quantity can be (an area resistance below 0)."""
    from ..priors.vocabulary import term

    notes = []
    for output, reason in model.singularities().items():
        notes.append(f"first order is not valid for {output}: {reason}; quote the Monte Carlo interval (method 'mc')")
    for s, output in zip(summaries, model.outputs):
        t = term(output)
        low, high = s["ci95"]
        if low < t.low or high > t.high:
            side = f"below {t.low:g}" if low < t.low else f"above {t.high:g}"
            notes.append(f"the first-order interval of {output} [{low:.3g}, {high:.3g}] reaches {side}, which "
                         f"{output} cannot; quote the Monte Carlo interval (method 'mc')")
    return notes
