"""How impedance fits are laid out in a NetCDF file (:mod:`.results`): the spectra's draws along
``spectrum`` in raw units, the spectra's data and the settings a loaded fit needs to report, plot
and predict again, and the fits made back from them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..diagnostics import Diagnostics
from .checks import Inductive, Misfit
from .circuit import Circuit
from .expressions import parse_all_derived
from .leastsq import LeastSquares
from .settings import EISSettings
from .spectrum import Spectrum
from .units import area_factor

if TYPE_CHECKING:
    from .spectrum_fit import SpectrumFit


def stacked_idata(fits: list[SpectrumFit], joint: dict, seed: int | None = None):
    """The spectra's draws along ``spectrum`` (and a joint fit's shared ones), raw units."""
    from ..diagnostics import import_arviz
    from ..result import stamp

    names = list(fits[0].posterior)
    shapes = {np.shape(f.posterior[names[0]]) for f in fits}
    if len(shapes) > 1:  # never from fit_spectra: every method gives chains x draws
        size = min(int(np.prod(s)) for s in shapes)
        posterior = {n: np.stack([np.asarray(f.posterior[n]).ravel()[:size][None, :] for f in fits], axis=-1)
                     for n in names}
    else:
        posterior = {n: np.stack([np.asarray(f.posterior[n]) for f in fits], axis=-1) for n in names}
    posterior.update({k: np.asarray(v) for k, v in joint.items()})
    attrs = {"circuit": fits[0].circuit.text, "area_cm2": fits[0].area or 0.0,
             "units": "raw, as the spectra: ohm (or ohm*cm^2 for area-normalised files), F, H, F*s^(n-1); "
                      "summary.json holds the area-normalised values",
             "methods": json.dumps({f.name: f.method for f in fits})}
    if seed is not None:
        attrs["seed"] = int(seed)
    idata = import_arviz().from_dict(posterior=posterior, dims={n: ["spectrum"] for n in names},
                                     coords={"spectrum": [f.name for f in fits]}, attrs=attrs)
    return stamp(idata)


def spectra_dataset(fits: list[SpectrumFit], circuit: Circuit, settings, seed: int,
                     joint_diagnostics: Diagnostics | None = None) -> xr.Dataset:
    """The data and settings a loaded fit needs to report, plot and predict again."""
    index = np.concatenate([np.full(len(f.spectrum), s) for s, f in enumerate(fits)])
    ls = [f.least_squares for f in fits]
    data = {
        "frequency": ("point", np.concatenate([f.spectrum.frequency for f in fits])),
        "z_real": ("point", np.concatenate([f.spectrum.z.real for f in fits])),
        "z_imag": ("point", np.concatenate([f.spectrum.z.imag for f in fits])),
        "point_spectrum": ("point", index),
        "ls_theta": (("spectrum", "coordinate"), np.array([st.theta for st in ls])),
        "ls_scale": (("spectrum", "coordinate", "coordinate_2"), np.array([st.scale for st in ls])),
        "ls_starts": ("spectrum", np.array([st.starts for st in ls], dtype=np.int64)),
        "seed": ("spectrum", np.array([f.seed for f in fits], dtype=np.int64)),
        "seconds": ("spectrum", np.array([f.seconds for f in fits], dtype=float)),
    }
    attrs = {"circuit": circuit.text, "area": settings.area or 0.0, "derive": json.dumps(list(settings.derive)),
             "arrhenius": json.dumps(list(settings.arrhenius)), "reference_temperature": settings.reference_temperature,
             "kk": int(bool(settings.kk)), "seed": int(seed), "method": settings.method,
             "units": json.dumps([f.spectrum.unit for f in fits]),
             "notes": json.dumps([list(f.spectrum.notes) for f in fits])}
    if joint_diagnostics is not None:
        attrs["joint_diagnostics"] = json.dumps(joint_diagnostics.to_json())
    return xr.Dataset(data, coords={"spectrum": [f.name for f in fits]}, attrs=attrs)


def fits_from_netcdf(docs: list[dict], data: xr.Dataset, idata, fit: type[SpectrumFit]) -> list[SpectrumFit]:
    """The fits of a NetCDF file: ``fit`` (SpectrumFit) made again from their documents, the
    spectra's data and the draws."""
    attrs = data.attrs
    circuit = Circuit(str(attrs["circuit"]))
    area = float(attrs["area"]) or None
    derive = tuple(json.loads(str(attrs["derive"])))
    settings = EISSettings(area=area, derive=derive, arrhenius=tuple(json.loads(str(attrs["arrhenius"]))),
                           reference_temperature=float(attrs["reference_temperature"]), kk=bool(int(attrs["kk"])),
                           method=str(attrs.get("method", "auto")))
    derived = parse_all_derived(derive, circuit.names)
    units = json.loads(str(attrs["units"]))
    notes = json.loads(str(attrs.get("notes", "[]"))) or [[] for _ in docs]
    post = idata.posterior
    point = np.asarray(data["point_spectrum"])
    fits = []
    for s, doc in enumerate(docs):
        mask = point == s
        spectrum = Spectrum(np.asarray(data["frequency"])[mask],
                            np.asarray(data["z_real"])[mask] + 1j * np.asarray(data["z_imag"])[mask],
                            source=str(doc["file"]), name=str(doc["spectrum"]), unit=units[s],
                            temperature=doc.get("temperature"), cycle=doc.get("cycle"), notes=tuple(notes[s]))
        posterior = {p.name: np.asarray(post[p.name].isel(spectrum=s)) for p in circuit.parameters}
        posterior["noise"] = np.asarray(post["noise"].isel(spectrum=s))
        raw_ls = {p.name: doc["least_squares"][p.name] / area_factor(p.kind, area) for p in circuit.parameters}
        ls = LeastSquares(raw_ls, np.asarray(data["ls_theta"])[s], np.asarray(data["ls_scale"])[s],
                          float(doc["least_squares_rms"]), int(np.asarray(data["ls_starts"])[s]))
        checks = doc.get("checks") or {}
        misfit = Misfit(**checks["misfit"]) if checks.get("misfit") else None
        inductive = Inductive(**checks["inductive"]) if checks.get("inductive") else None
        diagnostics = Diagnostics.from_json(doc["diagnostics"])
        # the identifiability warnings as the fit gave them (not recomputed from the draws)
        kk = doc.get("kramers_kronig")
        named = {kk["warning"]} if kk and kk.get("warning") else set()
        if misfit is not None:
            named.add(misfit.sentence(spectrum.name))
        if inductive is not None:
            named.add(inductive.sentence(spectrum.name))
        diag = {w if w.startswith(spectrum.name + ":") else f"{spectrum.name}: {w}" for w in diagnostics.warnings()}
        identifiability = [w for w in doc.get("warnings", []) if w not in named and w not in diag]
        fits.append(fit(circuit, spectrum, settings, posterior, ls, derived, diagnostics,
                                int(np.asarray(data["seed"])[s]), kk=kk, misfit=misfit,
                                inductive=inductive, joint=doc.get("joint"),
                                seconds=float(np.asarray(data["seconds"])[s]), identifiability=identifiability))
    return fits
