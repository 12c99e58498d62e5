"""The one result protocol, and the result of propagating a card (gum, mc, bayes).

Every computation of nassb returns a :class:`Result`:

* ``summary()``: each reported quantity as ``{"mean", "sd", "unit", "ci95": [lo, hi]}``
  (:func:`nassb.inference.statistics.summarise`, the one implementation);
* ``to_json()``: the JSON document the command line prints with ``--json``;
* ``to_netcdf(path)`` and ``Result.from_netcdf(path)``: a saved result loads back, as the class
  it was, with its draws;
* ``idata``: the draws as arviz InferenceData where there are draws (Monte Carlo as one chain);
* ``diagnostics``: one :class:`~nassb.inference.diagnostics.Diagnostics` (or None where nothing
  was sampled), with ``.ok``, ``.failing`` and ``.warnings()``;
* ``warnings``: what a user must read beside the numbers;
* ``plot()``: the result's main figure; ``repr`` and ``_repr_html_`` for notebooks.

Display (``repr``, ``_repr_html_``, ``plot``) is delegated at call time to the display layer,
:mod:`nassb.priors.display`, which only lays out what the result computed.

A NetCDF file of a result holds the arviz groups of its draws, the result's own groups
(``summary``, ``draws``, ...), and in its root attributes the result's class, the nassb
version and its JSON document.
"""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from ..priors.files import atomic_target
from ..priors.jsonio import json_text
from ..priors.vocabulary import term
from .diagnostics import Diagnostics
from .netcdf import (  # noqa: F401  (the helpers results are built with, imported from here too)
    add_covariance,
    dataset_summary,
    draws_idata,
    nassb_version,
    netcdf_bytes,
    netcdf_safe,
    stamp,
    summary_dataset,
    write_draws,
)

_ARVIZ_GROUPS = ("posterior", "sample_stats", "observed_data", "constant_data", "prior", "prior_predictive",
                 "posterior_predictive", "log_likelihood", "predictions")


class Result:
    """What every nassb computation returns (see the module docstring for the protocol)."""

    kind: ClassVar[str] = "result"
    # Set by every subclass (None where there are no draws, or nothing was sampled).
    idata: Any
    diagnostics: Diagnostics | None

    # -- the protocol ------------------------------------------------------------------------
    @property
    def title(self) -> str:
        """A one-line name of what this result is about."""
        return self.kind

    def summary(self) -> dict[str, dict]:
        """Every reported quantity by name: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``."""
        raise NotImplementedError

    def to_json(self) -> dict:
        """The JSON document of this result (what ``--json`` prints)."""
        raise NotImplementedError

    def to_dataframe(self):
        """The result's table as a pandas DataFrame (what ``--csv`` writes).

        By default the summary, one row per quantity: columns ``mean``, ``sd``, ``ci95_low``,
        ``ci95_high`` and ``unit`` (``median`` and ``note`` where a heavy tail leaves no mean or
        sd, NaN there); results with a table of their own (proposals, trials, records, spectra,
        experiments) return that.  ``df.attrs`` names the result.
        """
        from .frames import summary_frame

        return summary_frame(self.summary(), kind=self.kind, title=self.title)

    @property
    def warnings(self) -> list[str]:
        """What a reader must know beside the numbers (failed diagnostics included)."""
        diagnostics = getattr(self, "diagnostics", None)
        return list(diagnostics.warnings()) if diagnostics is not None else []

    @property
    def ok(self) -> bool:
        """Whether the result passes its diagnostics gate (True where nothing was sampled)."""
        diagnostics = getattr(self, "diagnostics", None)
        return diagnostics is None or diagnostics.ok

    def plot(self, **kwargs):
        """The result's main figure (a matplotlib Figure)."""
        raise NotImplementedError(f"{type(self).__name__} has no figure")

    def __getitem__(self, name: str) -> dict:
        """The summary of one quantity: ``{"mean", "sd", "unit", "ci95": [lo, hi]}``."""
        return self.summary()[name]

    def unit(self, name: str) -> str:
        """Canonical unit of a reported quantity."""
        return self[name]["unit"]

    # -- persistence -------------------------------------------------------------------------
    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        """The result's own data besides its draws and document (name -> Dataset)."""
        return {}

    @classmethod
    def _from_netcdf(cls, document: dict, groups: dict[str, xr.Dataset], idata) -> Result:
        raise NotImplementedError(f"{cls.__name__} cannot be loaded from NetCDF")

    def to_netcdf(self, path: str | Path) -> Path:
        """Write the result (document, draws, own groups) to one NetCDF file, atomically.

        The file is built in memory and written in one piece: HDF5 that meets a full disk while
        writing leaves objects that fail again when collected (h5py errors on stderr, then a
        crash at exit); a plain write of the finished bytes fails once, with an OSError.
        """
        data = self.netcdf_bytes()
        with atomic_target(path) as tmp:
            tmp.write_bytes(data)
        return Path(path)

    def netcdf_bytes(self) -> bytes:
        """The NetCDF file of :meth:`to_netcdf` as bytes: the draws' groups as arviz writes them
        (compressed), the result's own groups and its document in the root's attributes."""
        import h5netcdf

        buffer = io.BytesIO()
        if not write_draws(buffer, stamp(getattr(self, "idata", None))):
            xr.Dataset().to_netcdf(buffer, engine="h5netcdf", mode="w")
        for name, ds in self._netcdf_groups().items():  # each group appended to the file just begun
            netcdf_safe(ds).to_netcdf(buffer, engine="h5netcdf", mode="a", group=name)
        with h5netcdf.File(buffer, "a") as handle:
            handle.attrs["nassb_result"] = f"{type(self).__module__}:{type(self).__qualname__}"
            handle.attrs["nassb_version"] = nassb_version()
            handle.attrs["nassb_document"] = json_text(self.to_json())
        return buffer.getvalue()

    @staticmethod
    def from_netcdf(path: str | Path) -> Result:
        """Load a result written by :meth:`to_netcdf`, as the class it was written from."""
        import h5netcdf

        from ..priors import DataError

        path = Path(path)
        try:
            with h5netcdf.File(path, "r") as handle:
                kind = str(handle.attrs.get("nassb_result", ""))
                document = json.loads(str(handle.attrs.get("nassb_document", "null")))
                names = list(handle.groups)
        except (OSError, ValueError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DataError(f"cannot read as a nassb result: {first}", file=str(path)) from None
        if not kind or ":" not in kind:
            raise DataError("not a result written by nassb (no nassb_result attribute)", file=str(path))
        module, _, qualname = kind.partition(":")
        cls = getattr(importlib.import_module(module), qualname)
        groups = {name: xr.open_dataset(path, engine="h5netcdf", group=name).load() for name in names}
        idata = None
        arviz_groups = {g: ds for g, ds in groups.items() if g in _ARVIZ_GROUPS}
        if arviz_groups:
            from .diagnostics import import_arviz

            idata = import_arviz().InferenceData(**arviz_groups)
        own = {g: ds for g, ds in groups.items() if g not in _ARVIZ_GROUPS}
        return cls._from_netcdf(document, own, idata)

    # -- notebooks ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        from ..priors.display.text import result_text

        return result_text(self)

    def _repr_html_(self) -> str:
        from ..priors.display.html import result_html

        return result_html(self)


class PropagationResult(Result):
    """The outcome of propagating a card's uncertainties (``gum``, ``mc`` or ``bayes``).

    Parameters
    ----------
    dataset : xarray.Dataset
        Summaries along ``quantity`` (``mean``, ``sd``, ``ci95_low``, ``ci95_high``, coordinate
        ``unit``); gum adds the budget along ``(quantity, input)``, mc the shortest interval and
        the JCGM 101 section 8 check.  ``attrs`` carry the cell, the method and its settings.
    idata : arviz.InferenceData, optional
        Draws: the posterior (bayes) or the Monte Carlo draws as one chain (mc, when kept).
    diagnostics : Diagnostics, optional
    model : CellModel, optional
        The card's model, for :meth:`band`.
    inputs : dict, optional
        Draws of the card's inputs (Monte Carlo), for :meth:`band`.
    """

    kind = "propagation"

    def __init__(self, dataset: xr.Dataset, *, idata=None, diagnostics: Diagnostics | None = None,
                 model=None, inputs: dict | None = None, notes: list[str] | tuple[str, ...] = ()):
        self.dataset = dataset
        self.idata = idata
        self.diagnostics = diagnostics
        self.model = model
        self.inputs = inputs
        self.notes = list(notes) or json.loads(str(dataset.attrs.get("notes", "[]")))
        dataset.attrs["notes"] = json.dumps(self.notes)

    @property
    def method(self) -> str:
        return str(self.dataset.attrs["method"])

    @property
    def cell(self) -> str:
        return str(self.dataset.attrs.get("cell", ""))

    @property
    def title(self) -> str:
        return self.cell

    @property
    def seed(self) -> int | None:
        seed = self.dataset.attrs.get("seed")
        return None if seed is None or seed == "" else int(seed)

    @property
    def quantities(self) -> list[str]:
        return [str(q) for q in self.dataset["quantity"].values]

    def summary(self) -> dict[str, dict]:
        return dataset_summary(self.dataset)

    def to_dataframe(self):
        """Each reported quantity: ``mean``, ``sd``, ``ci95_low``, ``ci95_high``, ``unit`` (and
        ``median``, ``note`` for a heavy tail); ``attrs``: the cell and the method."""
        from .frames import summary_frame

        return summary_frame(self.summary(), kind=self.kind, title=self.title, cell=self.cell, method=self.method)

    def draws(self, quantity: str) -> np.ndarray:
        """The draws of one quantity (Monte Carlo or posterior), flattened."""
        if self.idata is None or quantity not in self.idata.posterior:
            raise KeyError(f"no draws of {quantity!r} in this {self.method} result")
        return np.asarray(self.idata.posterior[quantity]).ravel()

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

    def first_order_check(self, quantity: str) -> dict:
        """JCGM 101 section 8: does the first-order 95 % interval match the Monte Carlo one?"""
        row = self.dataset.sel(quantity=quantity)
        return {
            "adequate": bool(row["first_order_adequate"]),
            "d_low": float(row["first_order_d_low"]),
            "d_high": float(row["first_order_d_high"]),
            "tolerance": float(row["first_order_tolerance"]),
        }

    @property
    def conventions(self) -> dict:
        """The conventions the numbers rest on (voltage, stack mass, plated layer), each named;
        ``conventions["text"]`` is the line a table prints."""
        return json.loads(str(self.dataset.attrs.get("conventions", "{}")))

    def covariance(self) -> xr.DataArray:
        """Joint covariance of the reported quantities that vary (JCGM 102): from the
        sensitivities (gum) or from the draws (mc, bayes), along ``(row, column)``, in the
        product of the two quantities' units.  A quantity without a variance is left out."""
        if "covariance" not in self.dataset:
            raise KeyError(f"this {self.method} result carries no covariance")
        return self.dataset["covariance"]

    def correlation(self) -> xr.DataArray:
        """The correlation matrix of :meth:`covariance` (1 on the diagonal)."""
        cov = self.covariance()
        sd = np.sqrt(np.diag(cov.values))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov.values / np.outer(sd, sd)
        return cov.copy(data=corr)

    def band(self, quantity: str, *, temperature, probability: float = 0.95) -> np.ndarray:
        """Lower end, median and upper end of ``quantity`` against ``temperature`` (K).

        Evaluated on the result's draws of the card's inputs (Monte Carlo), so the band carries
        every input's uncertainty; returns an array of shape (3, len(temperature)).
        """
        if self.model is None or self.inputs is None:
            raise ValueError("this result kept no input draws; propagate with method='mc', keep_draws=True")
        tail = 100 * (1 - probability) / 2
        rows = [np.asarray(self.model.evaluate({**self.inputs, "cell.temperature": float(t)})[quantity])
                for t in np.atleast_1d(temperature)]
        return np.percentile(np.vstack(rows), [tail, 50, 100 - tail], axis=1)

    def to_json(self) -> dict:
        """The JSON document of the command line (design.md contract) plus method details."""
        attrs = self.dataset.attrs
        out: dict[str, Any] = {key: attrs[key] for key in ("cell", "method", "card") if key in attrs}
        out["quantities"] = self.summary()
        if self.conventions:
            out["conventions"] = self.conventions
        if "covariance" in self.dataset:
            cov = self.covariance()
            out["covariance"] = {"names": [str(n) for n in cov["row"].values],
                                 "units": [self[str(n)]["unit"] for n in cov["row"].values],
                                 "matrix": cov.values.tolist(), "correlation": self.correlation().values.tolist()}
            if self.dataset.attrs.get("covariance_note"):
                out["covariance"]["note"] = str(self.dataset.attrs["covariance_note"])
        if "contribution" in self.dataset:
            out["budget"] = {q: self.budget(q) for q in self.quantities}
        if self.method == "mc":
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
        if self.method == "bayes":
            out["seed"] = self.seed
            out["observations"] = int(attrs.get("observations", 0))
        if self.diagnostics is not None:
            out["diagnostics"] = self.diagnostics.to_json()
        if self.warnings:
            out["warnings"] = self.warnings
        return out

    @property
    def warnings(self) -> list[str]:
        out = super().warnings
        if self.diagnostics is not None:
            out.extend(self.diagnostics.notes)
        return out + self.notes

    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        return {"summary": self.dataset}

    @classmethod
    def _from_netcdf(cls, document: dict, groups: dict[str, xr.Dataset], idata) -> PropagationResult:
        dataset = groups["summary"]
        dataset.attrs = dict(dataset.attrs)
        if "converged" in dataset.attrs:
            dataset.attrs["converged"] = bool(dataset.attrs["converged"])
        for name in ("first_order_adequate",):
            if name in dataset:
                dataset[name] = dataset[name].astype(bool)
        diagnostics = (Diagnostics.from_json(document["diagnostics"])
                       if isinstance(document, dict) and document.get("diagnostics") else None)
        return cls(dataset, idata=idata, diagnostics=diagnostics)

    def plot(self, **kwargs):
        """gum: the uncertainty budget of the energy density; mc and bayes: its distribution."""
        from ..priors.display import figures

        target = next((q for q in ("E_V_real", "E_V_theo") if q in self.quantities), self.quantities[0])
        if self.method == "gum":
            return figures.budget_chart([e for e in self.budget(target) if e["share"] > 0], target,
                                        term(target).unit_text, as_figure=True, **kwargs)
        names: list[str] = [n for n in ("E_V_real", "E_m_real") if n in self.quantities] or \
            [n for n in ("E_V_theo", "E_m_theo") if n in self.quantities]
        return figures.densities({n: self.draws(n) for n in names}, None, names,
                                 {n: term(n).unit_text for n in names}, as_figure=True, **kwargs)


def load_result(path: str | Path) -> Result:
    """Load any result written by ``to_netcdf`` (or ``--out``), as the class it was.

    Parameters
    ----------
    path : str or Path
        A ``result.nc`` file.

    Returns
    -------
    Result
        A :class:`PropagationResult`, an ``EISFit``, an ``ArrheniusFit``, ... with its draws.
    """
    return Result.from_netcdf(path)
