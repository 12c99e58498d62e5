"""How a result's numbers are laid out in xarray and NetCDF (:mod:`.result`): the provenance
stamp, the draws written as arviz writes them, a Dataset of summaries along ``quantity`` with
their joint covariance, and Monte Carlo draws as an InferenceData of one chain."""

from __future__ import annotations

import io
from typing import Any, Literal

import numpy as np
import xarray as xr


def nassb_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nassb")
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown"


def stamp(idata) -> Any:
    """Mark every group of an InferenceData with the library and its version (provenance)."""
    if idata is None:
        return idata
    attrs = {"nassb_version": nassb_version(), "created_by": "nassb"}
    for group in idata.groups():
        idata[group].attrs.update(attrs)
    return idata


def write_draws(buffer: io.BytesIO, idata) -> bool:
    """Write an InferenceData's groups into ``buffer`` (a new in-memory NetCDF file) as arviz
    writes them to a file, compressed; False where there was nothing to write."""
    if idata is None:
        return False
    mode: Literal["w", "a"] = "w"
    if idata.attrs:
        xr.Dataset(attrs=idata.attrs).to_netcdf(buffer, mode=mode, engine="h5netcdf")
        mode = "a"
    for group in idata.groups():
        ds = idata[group]
        encoding = {name: {"zlib": True} for name, v in ds.variables.items() if v.dtype.kind in "biufcS"}
        ds.to_netcdf(buffer, mode=mode, engine="h5netcdf", group=group, encoding=encoding)
        mode = "a"
    return mode == "a"


def netcdf_bytes(data) -> bytes:
    """An xarray Dataset (or DataArray) or an arviz InferenceData as the bytes of a NetCDF file.

    Built in memory so that the file is written in one plain write: HDF5 writing straight to a
    disk that fills leaves objects that fail again when collected (h5py errors, then a crash at
    exit), where a plain write fails once, with an OSError.
    """
    if isinstance(data, (xr.Dataset, xr.DataArray)) or not hasattr(data, "groups"):  # xarray's bytes, no path
        return bytes(data.to_netcdf(engine="h5netcdf"))
    buffer = io.BytesIO()
    if not write_draws(buffer, data):
        xr.Dataset().to_netcdf(buffer, engine="h5netcdf", mode="w")
    return buffer.getvalue()


def netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """NetCDF attributes cannot hold booleans or None: store them as ints and strings."""
    out = ds.copy()
    out.attrs = {k: (int(v) if isinstance(v, (bool, np.bool_)) else ("" if v is None else v))
                 for k, v in ds.attrs.items()}
    for name in out.data_vars:
        if out[name].dtype == bool:
            out[name] = out[name].astype("i1")
    return out


def summary_dataset(quantities: list[str], summaries: list[dict], attrs: dict) -> xr.Dataset:
    """A Dataset along ``quantity`` of summaries (:func:`~nassb.inference.statistics.summarise`).

    A missing mean or sd (a heavy tail) is stored as NaN, with the ``median`` and the ``note``.
    """
    def column(key):
        return np.array([np.nan if s.get(key) is None else s[key] for s in summaries], dtype=float)

    coords = {"quantity": quantities, "unit": ("quantity", [s["unit"] for s in summaries])}
    data = {
        "mean": ("quantity", column("mean")),
        "sd": ("quantity", column("sd")),
        "ci95_low": ("quantity", np.array([s["ci95"][0] for s in summaries], dtype=float)),
        "ci95_high": ("quantity", np.array([s["ci95"][1] for s in summaries], dtype=float)),
    }
    if any(s.get("note") for s in summaries):
        data["median"] = ("quantity", column("median"))
        data["note"] = ("quantity", np.array([str(s.get("note") or "") for s in summaries], dtype=object))
    return xr.Dataset(data, coords=coords, attrs=attrs)


def add_covariance(ds: xr.Dataset, names: list[str], matrix: np.ndarray, note: str = "") -> xr.Dataset:
    """``ds`` with the joint covariance of the quantities ``names`` (JCGM 102), along
    ``(row, column)``, in the product of their units."""
    ds = ds.assign_coords(row=list(names), column=list(names))
    ds["covariance"] = (("row", "column"), np.asarray(matrix, dtype=float).reshape(len(names), len(names)))
    ds.attrs["covariance_note"] = note
    return ds


def dataset_summary(ds: xr.Dataset) -> dict[str, dict]:
    """The summaries of a :func:`summary_dataset`, by quantity (read from the arrays at once)."""
    columns = [ds[k].values for k in ("mean", "sd", "ci95_low", "ci95_high")]
    units = ds["unit"].values
    notes = ds["note"].values if "note" in ds else None
    out = {}
    for i, q in enumerate(ds["quantity"].values):
        mean, sd = float(columns[0][i]), float(columns[1][i])
        entry: dict = {"mean": mean if np.isfinite(mean) else None, "sd": sd if np.isfinite(sd) else None,
                       "unit": str(units[i]), "ci95": [float(columns[2][i]), float(columns[3][i])]}
        if notes is not None and str(notes[i]):
            entry.update(median=float(ds["median"].values[i]), note=str(notes[i]))
        out[str(q)] = entry
    return out


def draws_idata(draws: dict[str, np.ndarray], attrs: dict | None = None):
    """Monte Carlo (or posterior-predictive) draws as an InferenceData of one chain."""
    from .diagnostics import import_arviz

    az = import_arviz()
    data = {name: np.asarray(v, dtype=float)[None, :] for name, v in draws.items()}
    idata = az.from_dict(posterior=data, attrs=attrs or {})
    return stamp(idata)
