"""The PyMC model of one or many spectra fitted with one circuit.

Spectra are stacked point by point (``index`` says which spectrum a point belongs to), so a
batch of any lengths is one model, one compilation and one NUTS run.  Per spectrum s the priors
are (nassb.inference.eis.coordinates):

* ln R, ln C, ln L, ln W and a CPE's ln Q outside an arc ~ N(the spectrum's own scale, 3);
* arcs: ln tau flat over the measured window and two decades each side, with steep normal walls
  beyond (the stated assumption of nassb.inference.eis.coordinates), ordered left to right;
  Q = tau^n / R;
* n ~ U(0, 1);
* noise proportional to |Z|: Z'/|Z| ~ N(Z'_model/|Z|, eps_s), the same for Z'', with
  eps_s ~ HalfNormal(0.05) learned.

The sampler does not move in these coordinates directly but in whitened ones,
theta_s = theta_hat_s + L_s u_s, where theta_hat_s and L_s L_s^T are the least-squares point and
its (prior-regularised) covariance.  This is an affine change of variables: the posterior is
exactly the one the priors and the likelihood define, but NUTS sees a nearly isotropic target,
so that strongly correlated resistances (R0 and R1 along an unresolved arc) cost a few leapfrog
steps instead of hundreds, and a diagonal mass matrix adapts per spectrum in a batch.

One spectrum on its own (what a batch does spectrum by spectrum when its posterior needs NUTS) is
the same model with one spectrum.  :func:`spectrum_model` keeps one such model per circuit and
process and swaps the next spectrum's numbers in with ``pm.set_data``: the graph is built once,
and PyTensor's compile cache (its compiledir, shared across processes) serves the compiled
code.

In a multi-temperature joint fit (``arrhenius``) the named resistances are not free per spectrum
but follow Eq. 4, ln R_s = ln R_ref + E_A / k_B (1/T_s - 1/T_ref), with ln R_ref ~ N(scale, 3) and
E_A ~ N(0.3 eV, 0.5 eV): the activation energies come straight from the spectra.  The other
coordinates are whitened with their conditional least-squares covariance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..cell import BOLTZMANN_EV
from .coordinates import LOG_SD, Layout, Scales
from .leastsq import LeastSquares, covariance_factor
from .spectrum import Spectrum

if TYPE_CHECKING:
    import pymc as pm

NOISE_SCALE = 0.05         # HalfNormal scale of the relative noise (5 % of |Z|)
ENERGY_PRIOR = (0.3, 0.5)  # eV: mean and sd of an activation energy in a joint fit


def build_model(spectra: list[Spectrum], layout: Layout, starts: list[LeastSquares], *,
                arrhenius: tuple[str, ...] = (), reference_temperature: float | None = None):
    """The PyMC model; the circuit's parameters are deterministics with dims ``spectrum``."""
    import pymc as pm
    import pytensor.tensor as pt

    scales = [Scales.of(s) for s in spectra]
    index = np.concatenate([np.full(len(s), i) for i, s in enumerate(spectra)])
    omega = np.concatenate([s.omega for s in spectra])
    z = np.concatenate([s.z for s in spectra])
    absz = np.abs(z)
    circuit = layout.circuit
    names = layout.coordinates
    shared = [names.index(f"log[{n}]") for n in arrhenius]
    free = [i for i in range(len(names)) if i not in shared]
    centre, scale = _whitening(starts, free)
    coords = {"spectrum": [s.name for s in spectra], "coordinate": [names[i] for i in free]}
    prior_centres, window = layout.prior_constants(scales)
    with pm.Model(coords=coords) as pmodel:
        # Every number that comes from the data is a pm.Data (a shared variable), not a constant
        # of the graph: two spectra fitted with one circuit then compile to the same graph, and
        # PyTensor's compile cache serves the second.
        centre, scale = pm.Data("whitening_centre", centre), pm.Data("whitening_scale", scale)
        prior_centres, window = pm.Data("prior_centres", prior_centres), pm.Data("tau_window", window)
        omega, index = pm.Data("omega", omega), pm.Data("point_spectrum", index)
        u = pm.Flat("u", dims=("spectrum", "coordinate"), initval=np.zeros((len(spectra), len(free))))
        moved = centre + (scale * u[:, None, :]).sum(axis=-1)
        parts: list[Any] = [None] * len(names)  # every slot is filled with a tensor below
        for j, i in enumerate(free):
            parts[i] = moved[:, j]
        if arrhenius:
            if reference_temperature is None:
                raise ValueError("a joint Arrhenius fit needs its reference_temperature")
            temperature = np.array([s.temperature for s in spectra], dtype=float)
            lever = (1.0 / temperature - 1.0 / reference_temperature) / BOLTZMANN_EV
            lever_data = pm.Data("arrhenius_lever", lever)
            for name, i in zip(arrhenius, shared):
                parts[i] = _arrhenius(name, lever, lever_data, np.array([st.theta[i] for st in starts]), scales,
                                      circuit)
        theta = pt.stack(parts, axis=-1)
        pm.Potential("prior", pt.sum(layout.log_prior(theta, prior_centres, window, xp=pt, skip=arrhenius)))
        logs, log_tau, exponents, _ = layout.unpack(theta, xp=pt)
        values = layout.values(logs, log_tau, exponents, xp=pt)
        for p in circuit.parameters:
            values[p.name] = pm.Deterministic(p.name, values[p.name], dims="spectrum")
        noise = pm.HalfNormal("noise", sigma=NOISE_SCALE, dims="spectrum",
                              initval=np.clip([st.rms for st in starts], 1e-3, 0.5))
        per_point = {name: value[index] for name, value in values.items()}
        re_, im_ = circuit.impedance(per_point, omega, xp=pt)
        absz_data = pm.Data("abs_z", absz)
        pm.Normal("z_real", mu=re_ / absz_data, sigma=noise[index], observed=pm.Data("z_real_scaled", z.real / absz))
        pm.Normal("z_imag", mu=im_ / absz_data, sigma=noise[index], observed=pm.Data("z_imag_scaled", z.imag / absz))
    return pmodel


MODEL_CACHE_SIZE = 8  # circuits whose one-spectrum model a process keeps
_MODELS: dict[str, pm.Model] = {}


def spectrum_model(spectrum: Spectrum, layout: Layout, start: LeastSquares):
    """The PyMC model of one spectrum: built once per circuit, then given each spectrum's data."""
    import pymc as pm

    key = layout.circuit.text
    pmodel = _MODELS.get(key)
    if pmodel is None:
        pmodel = build_model([spectrum], layout, [start])
        if len(_MODELS) >= MODEL_CACHE_SIZE:
            _MODELS.pop(next(iter(_MODELS)))
        _MODELS[key] = pmodel
        return pmodel
    centre, scale = _whitening([start], list(range(len(layout.coordinates))))
    prior_centres, window = layout.prior_constants([Scales.of(spectrum)])
    absz = np.abs(spectrum.z)
    pm.set_data({"whitening_centre": centre, "whitening_scale": scale, "prior_centres": prior_centres,
                 "tau_window": window, "omega": spectrum.omega, "point_spectrum": np.zeros(len(spectrum), dtype=int),
                 "abs_z": absz, "z_real_scaled": spectrum.z.real / absz, "z_imag_scaled": spectrum.z.imag / absz},
                model=pmodel)
    pmodel.set_initval(pmodel["noise"], np.clip([start.rms], 1e-3, 0.5))
    return pmodel


def _whitening(starts: list[LeastSquares], free: list[int]):
    """theta_hat and the Cholesky factor per spectrum, restricted to the free coordinates
    (conditional covariance: the inverse of the precision's free block)."""
    centre = np.array([st.theta[free] for st in starts])
    if len(free) == len(starts[0].theta):
        return centre, np.array([st.scale for st in starts])
    factors = []
    for st in starts:
        precision = np.linalg.pinv(st.scale @ st.scale.T)[np.ix_(free, free)]
        factors.append(covariance_factor(np.linalg.pinv(precision)))
    return centre, np.array(factors)


def _arrhenius(name: str, lever: np.ndarray, lever_data, start: np.ndarray, scales: list[Scales], circuit):
    """ln R_s of a resistance that follows Eq. 4 across the spectra's temperatures."""
    import pymc as pm
    import pytensor.tensor as pt

    centre = float(np.mean([sc.log_centre(circuit.parameter(name).kind) for sc in scales]))
    slope, intercept = np.polyfit(lever, start, 1) if np.ptp(lever) > 0 else (ENERGY_PRIOR[0], float(start.mean()))
    log_ref = pm.Normal(f"log_{name}_ref", mu=centre, sigma=LOG_SD, initval=float(intercept))
    energy = pm.Normal(f"E_A_{name}", mu=ENERGY_PRIOR[0], sigma=ENERGY_PRIOR[1], initval=float(slope))
    pm.Deterministic(f"{name}_ref", pt.exp(log_ref))
    return log_ref + energy * lever_data
