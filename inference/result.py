"""One result object for every way of propagating: an xarray Dataset plus, for Monte Carlo, the
draws.

``result.dataset`` holds, along the dimension ``quantity``: ``mean``, ``sd``, ``ci95_low``,
``ci95_high`` and the coordinate ``unit``; first order adds the budget along ``(quantity,
input)``; Monte Carlo adds the shortest interval and the JCGM 101 section 8 check.  The JSON
contract (``to_json``) and NetCDF (``to_netcdf``) are written from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..priors.files import atomic_target


class PropagationResult:
    """The outcome of propagating a card's uncertainties.

    Parameters
    ----------
    dataset : xarray.Dataset
        Summary statistics along ``quantity`` (see module docstring); ``attrs`` carry the cell,
        the method and the settings (seed, draws, ...).
    draws : xarray.Dataset, optional
        Monte Carlo draws of every output along ``draw``.
    """

    def __init__(self, dataset: xr.Dataset, draws: xr.Dataset | None = None, *, idata=None,
                 extras: dict | None = None):
        self.dataset = dataset
        self.draws = draws
        self.idata = idata
        self.extras = dict(extras or {})

    @property
    def diagnostics(self) -> dict | None:
        """Sampler diagnostics of a Bayesian result (None for gum and mc)."""
        return self.extras.get("diagnostics")

    @property
    def method(self) -> str:
        return self.dataset.attrs["method"]

    @property
    def cell(self) -> str:
        return self.dataset.attrs.get("cell") or self.dataset.attrs.get("file", "")

    @property
    def quantities(self) -> list[str]:
        return [str(q) for q in self.dataset["quantity"].values]

    def __getitem__(self, quantity: str) -> dict:
        """Summary of one quantity: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``."""
        row = self.dataset.sel(quantity=quantity)
        return {
            "mean": float(row["mean"]),
            "sd": float(row["sd"]),
            "unit": str(row["unit"].values),
            "ci95": [float(row["ci95_low"]), float(row["ci95_high"])],
        }

    def summary(self) -> dict[str, dict]:
        """Every quantity's summary, by name (read from the arrays at once, not per label)."""
        ds = self.dataset
        columns = [ds[k].values for k in ("mean", "sd", "ci95_low", "ci95_high")]
        units = ds["unit"].values
        return {
            str(q): {"mean": float(columns[0][i]), "sd": float(columns[1][i]), "unit": str(units[i]),
                     "ci95": [float(columns[2][i]), float(columns[3][i])]}
            for i, q in enumerate(ds["quantity"].values)
        }

    def budget(self, quantity: str) -> list[dict]:
        """First-order uncertainty budget of one quantity, largest contribution first.

        Each entry: ``input``, ``value``, ``sd``, ``unit`` (of the input), ``sensitivity``,
        ``contribution`` (u_i(y), in the quantity's unit) and ``share`` (of the variance).
        """
        if "contribution" not in self.dataset:
            return []
        row = self.dataset.sel(quantity=quantity)
        entries = [
            {
                "input": str(name),
                "value": float(row["input_value"].sel(input=name)),
                "sd": float(row["input_sd"].sel(input=name)),
                "unit": str(row["input_unit"].sel(input=name).values),
                "sensitivity": float(row["sensitivity"].sel(input=name)),
                "contribution": float(row["contribution"].sel(input=name)),
                "share": float(row["share"].sel(input=name)),
            }
            for name in self.dataset["input"].values
        ]
        return sorted(entries, key=lambda e: -e["contribution"])

    def to_json(self) -> dict:
        """The JSON document of the command line (design.md contract) plus method details."""
        attrs = self.dataset.attrs
        out = {key: attrs[key] for key in ("cell", "method", "card", "file") if key in attrs}
        out["quantities"] = self.summary()
        if "contribution" in self.dataset:
            out["budget"] = {q: self.budget(q) for q in self.quantities}
        if self.method == "mc":
            attrs = self.dataset.attrs
            out["monte_carlo"] = {
                "draws": int(attrs["draws"]),
                "seed": int(attrs["seed"]),
                "significant_digits": int(attrs["significant_digits"]) if attrs["significant_digits"] else None,
                "converged": bool(attrs["converged"]),
                "rejected_draws": int(attrs.get("rejected_draws", 0)),
                "shortest_ci95": {q: [float(self.dataset["shortest_low"].sel(quantity=q)),
                                      float(self.dataset["shortest_high"].sel(quantity=q))]
                                  for q in self.quantities},
                "first_order_check": {q: self.first_order_check(q) for q in self.quantities},
            }
        out.update(self.extras)
        return out

    def first_order_check(self, quantity: str) -> dict:
        """JCGM 101 section 8: does the first-order 95 % interval match the Monte Carlo one?"""
        row = self.dataset.sel(quantity=quantity)
        return {
            "adequate": bool(row["first_order_adequate"]),
            "d_low": float(row["first_order_d_low"]),
            "d_high": float(row["first_order_d_high"]),
            "tolerance": float(row["first_order_tolerance"]),
        }

    def to_netcdf(self, path: str | Path, *, include_draws: bool = False) -> Path:
        """Write the summary (and optionally the draws, as group ``draws``) atomically.

        A Bayesian result writes its arviz InferenceData instead (posterior, sample_stats,
        observed_data), with the summary as the group ``summary``.
        """
        with atomic_target(path) as tmp:
            if self.idata is not None:
                self.idata.to_netcdf(str(tmp), engine="h5netcdf")
                _netcdf_safe(self.dataset).to_netcdf(tmp, engine="h5netcdf", mode="a", group="summary")
            else:
                _netcdf_safe(self.dataset).to_netcdf(tmp, engine="h5netcdf", mode="w")
                if include_draws and self.draws is not None:
                    self.draws.to_netcdf(tmp, engine="h5netcdf", mode="a", group="draws")
        return Path(path)


def _netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """NetCDF attributes cannot hold booleans or None: store them as ints and strings."""
    out = ds.copy()
    out.attrs = {k: (int(v) if isinstance(v, (bool, np.bool_)) else ("" if v is None else v))
                 for k, v in ds.attrs.items()}
    for name in out.data_vars:
        if out[name].dtype == bool:
            out[name] = out[name].astype("i1")
    return out


def summary_dataset(quantities: list[str], units: list[str], mean, sd, low, high, attrs: dict) -> xr.Dataset:
    """Build the common part of every result along the ``quantity`` dimension."""
    coords = {"quantity": quantities, "unit": ("quantity", units)}
    data = {
        "mean": ("quantity", np.asarray(mean, dtype=float)),
        "sd": ("quantity", np.asarray(sd, dtype=float)),
        "ci95_low": ("quantity", np.asarray(low, dtype=float)),
        "ci95_high": ("quantity", np.asarray(high, dtype=float)),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)
