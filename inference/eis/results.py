"""The results of impedance fits: one spectrum's posterior, and the fit of several.

:class:`SpectrumFit` (:mod:`.spectrum_fit`) is one spectrum's fit: its posterior draws, least squares, lin-KK check,
misfit and inductive checks, its own :class:`~nassb.inference.diagnostics.Diagnostics` (the
method that made its draws among them) and warnings.  It evaluates itself: :meth:`~SpectrumFit.predict`
gives the circuit's impedance over its posterior, :meth:`~SpectrumFit.band` the 95 % band of |Z|
and phase, :meth:`~SpectrumFit.residuals` the data's residuals; the reports only lay these out.

:class:`EISFit` holds the fits of a call: one spectrum, a batch (each spectrum fitted on its
own, so each posterior is the one it gets alone) or a joint Arrhenius fit (one model over all
spectra on purpose: their resistances share Eq. 4).  Its diagnostics gate fails when any
spectrum's does, and its text and JSON say which and why.

Parameter draws are kept in the fit's raw units (the spectrum's: ohm, F, ...); everything a
result reports (``draws()``, ``summary()``, ``to_json()``, ``predict()``) is area-normalised when
an area was given.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from ...priors import OptionError
from ..diagnostics import Diagnostics
from ..result import Result
from .circuit import Circuit
from .coordinates import window_assumption
from .leastsq import LeastSquares
from .fit_files import fits_from_netcdf, spectra_dataset, stacked_idata
from .spectrum import Spectrum
from .spectrum_fit import PROBABILITY, SpectrumFit
from .units import area_factor, summarise_draws

# -- several spectra ------------------------------------------------------------------------------

class EISFit(Result):
    """The fit of one spectrum, a batch of spectra each fitted on its own, or a joint fit.

    Parameters
    ----------
    fits : list of SpectrumFit
    circuit : Circuit
    settings : EISSettings
    derived : list of Derived
    seed : int
        The call's seed; each spectrum's own seed derives from it and its data.
    joint_posterior : dict, optional
        A joint fit's shared quantities (``R_A_ref``, ``E_A_R_A``) -> draws (chain, draw), raw.
    joint_diagnostics : Diagnostics, optional
        The joint run's (one NUTS run over all spectra).
    idata : arviz.InferenceData, optional
        The joint run's draws; for a batch it is assembled from the spectra's when asked for.
    failed : dict, optional
        What could not be fitted or read (a spectrum's name or a file) -> why, in one line; left
        out of ``fits`` (``fit_eis(..., keep_going=True)``).
    """

    kind = "eis"

    def __init__(self, fits: list[SpectrumFit], circuit: Circuit, settings, derived: list, seed: int, *,
                 joint_posterior: dict | None = None, joint_diagnostics: Diagnostics | None = None, idata=None,
                 failed: dict[str, str] | None = None):
        self.fits = list(fits)
        self.failed = dict(failed or {})
        self.circuit = circuit
        self.settings = settings
        self.derived = list(derived)
        self.seed = seed
        self.joint_posterior = joint_posterior
        self.joint_diagnostics = joint_diagnostics
        self._idata = idata
        self._doc = None

    # -- the spectra ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.fits)

    def __iter__(self):
        return iter(self.fits)

    def spectrum(self, which: int | str) -> SpectrumFit:
        """One spectrum's fit, by position or by name."""
        if isinstance(which, str):
            for f in self.fits:
                if f.spectrum.name == which:
                    return f
            raise KeyError(f"no spectrum named {which!r}; the fit has {', '.join(f.name for f in self.fits)}")
        return self.fits[which]

    @property
    def spectra(self) -> list[Spectrum]:
        return [f.spectrum for f in self.fits]

    @property
    def least_squares(self) -> list[LeastSquares]:
        return [f.least_squares for f in self.fits]

    @property
    def kk(self) -> list:
        return [f.kk for f in self.fits if f.kk is not None]

    @property
    def joint(self) -> str | None:
        return "arrhenius" if self.settings.arrhenius else None

    @property
    def title(self) -> str:
        names = ", ".join(s.name for s in self.spectra[:3]) + (" ..." if len(self.spectra) > 3 else "")
        return f"{self.circuit.text} ({names})"

    @property
    def idata(self):  # an attribute of Result, built here when asked for
        """The draws: a joint run's InferenceData, or the spectra's posteriors stacked along
        ``spectrum`` (raw units)."""
        if self._idata is None:
            self._idata = stacked_idata(self.fits, self.joint_posterior or {}, seed=self.seed)
        return self._idata

    def units(self) -> dict[str, str]:
        return self.fits[0].units()

    def draws(self, s: int = 0) -> dict[str, np.ndarray]:
        """Spectrum ``s``'s posterior draws of every parameter and derived quantity (flat)."""
        return self.fits[s].draws()

    def least_squares_values(self, s: int = 0) -> dict[str, float]:
        return self.fits[s].least_squares_values()

    def joint_draws(self) -> dict[str, np.ndarray]:
        """A joint fit's shared quantities: R_ref at the reference temperature and E_A (eV)."""
        out: dict[str, np.ndarray] = {}
        if self.joint_posterior is None:
            return out
        for name in self.settings.arrhenius:
            kind = self.circuit.parameter(name).kind
            out[f"{name}_ref"] = np.asarray(self.joint_posterior[f"{name}_ref"]).ravel() * area_factor(
                kind, self.settings.area)
            out[f"E_A_{name}"] = np.asarray(self.joint_posterior[f"E_A_{name}"]).ravel()
        return out

    def predict(self, frequency=None, *, spectrum: int | str = 0, draws: int | None = None, seed: int = 0):
        """:meth:`SpectrumFit.predict` of one spectrum (by position or name)."""
        return self.spectrum(spectrum).predict(frequency, draws=draws, seed=seed)

    def band(self, frequency=None, *, spectrum: int | str = 0, probability: float = PROBABILITY):
        """:meth:`SpectrumFit.band` of one spectrum (by position or name)."""
        return self.spectrum(spectrum).band(frequency, probability)

    # -- the gate ---------------------------------------------------------------------------
    @property
    def failing(self) -> dict[str, list[str]]:
        """The spectra that fail their gate, by name, with the reasons."""
        return {f.name: f.diagnostics.warnings() for f in self.fits if not f.ok}

    @property
    def diagnostics(self) -> Diagnostics:  # type: ignore[override]  # an attribute of Result, worked out here
        """One spectrum's diagnostics; for a batch, one summary of all (the worst numbers, every
        spectrum's problems named); for a joint fit, the joint run's with the spectra's problems."""
        if self.joint_diagnostics is not None:
            problems = [p for f in self.fits for p in f.diagnostics.problems
                        if p not in self.joint_diagnostics.problems]
            return self.joint_diagnostics.with_problems(*dict.fromkeys(problems))
        if len(self.fits) == 1:
            return self.fits[0].diagnostics
        return _batch_diagnostics(self.fits)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.fits) and (self.joint_diagnostics is None or self.joint_diagnostics.ok)

    @property
    def warnings(self) -> list[str]:
        """Every spectrum's warnings (each names its spectrum), and a joint run's, once each."""
        out = [w for f in self.fits for w in f.warnings]
        if self.joint_diagnostics is not None:
            out.extend(self.joint_diagnostics.warnings())
        return list(dict.fromkeys(out))

    @property
    def assumption(self) -> str:
        """The arcs' stated prior in words (each spectrum's JSON gives its own bounds)."""
        return window_assumption()

    @property
    def methods(self) -> dict[str, int]:
        """How many spectra each method fitted (``{"Laplace + PSIS": 68, "NUTS (PyMC)": 2}``)."""
        out: dict[str, int] = {}
        for f in self.fits:
            key = f.method.split(" (k-hat")[0]
            out[key] = out.get(key, 0) + 1
        return out

    # -- the document -----------------------------------------------------------------------
    def summary(self) -> dict[str, dict]:
        """Parameters and derived quantities; for several spectra keyed ``SPECTRUM/NAME``."""
        if len(self.fits) == 1:
            return self.fits[0].summary()
        out = {f"{f.name}/{k}": v for f in self.fits for k, v in f.summary().items()}
        if self.joint_posterior is not None:
            out.update(self._joint_summary())
        return out

    def to_dataframe(self):
        """Every spectrum's parameters and derived quantities, one row each, indexed by
        ``(spectrum, quantity)``: ``mean``, ``sd``, ``ci95_low``, ``ci95_high``, ``unit`` (and
        ``median``, ``note`` for a heavy tail); a joint fit's shared quantities under spectrum
        ``joint``."""
        import pandas as pd

        from ..frames import summary_row

        rows = [{"spectrum": f.name, "quantity": k, **summary_row(v)}
                for f in self.fits for k, v in f.summary().items()]
        if self.joint_posterior is not None:
            rows += [{"spectrum": "joint", "quantity": k, **summary_row(v)} for k, v in self._joint_summary().items()]
        df = pd.DataFrame(rows).set_index(["spectrum", "quantity"])
        df.attrs.update(kind=self.kind, circuit=self.circuit.text, units="column 'unit' (each row in its own unit)")
        return df

    def _joint_summary(self) -> dict[str, dict]:
        units = self.units()
        return {name: summarise_draws(values, "eV" if name.startswith("E_A_") else units[name[:-4]])
                for name, values in self.joint_draws().items()}

    def to_json(self):
        """One object for one spectrum, a list for several; a joint fit wraps them with its shared
        parameters."""
        if self._doc is None:
            self._doc = self._document()
        return self._doc

    def _document(self):
        spectra = [f.to_json() for f in self.fits]
        if self.joint_posterior is None:
            return spectra[0] if len(spectra) == 1 else spectra
        joint = self._joint_summary()
        draws = self.joint_draws()
        names = list(draws)
        return {
            "circuit": self.circuit.text,
            "joint": "arrhenius",
            "note": joint_note(self.settings.arrhenius, len(self.fits)),
            "reference_temperature": self.settings.reference_temperature,
            "parameters": joint,
            "covariance": {"names": names, "matrix": np.atleast_2d(np.cov(np.vstack([draws[n] for n in names])))
                           .tolist()},
            "diagnostics": self.diagnostics.to_json(),
            "warnings": self.warnings,
            "spectra": spectra,
        }

    def plot(self, kind: str = "nyquist", *, spectrum: int | str | None = None, **kwargs):
        """``"nyquist"``: every spectrum's data and posterior draws (the first six); ``"bode"``:
        one spectrum's (``spectrum``, default the first) Bode plot with its band."""
        from ...priors.display import figures

        if kind == "bode" or spectrum is not None:
            return self.spectrum(spectrum or 0).plot(kind, **kwargs)
        if kind != "nyquist":
            raise OptionError(f"'{kind}' is not a figure of an impedance fit; must be one of nyquist, bode",
                              field="kind")
        first = self.fits[0]
        unit = "Ω cm²" if first.z_factor != 1.0 or first.spectrum.unit != "ohm" else "Ω"
        return figures.nyquist([f.nyquist_curve() for f in self.fits[:6]], unit, as_figure=True, **kwargs)

    # -- persistence -----------------------------------------------------------------------
    def _netcdf_groups(self) -> dict[str, xr.Dataset]:
        return {"spectra": spectra_dataset(self.fits, self.circuit, self.settings, self.seed,
                                            self.joint_diagnostics)}

    @classmethod
    def _from_netcdf(cls, document, groups: dict[str, xr.Dataset], idata) -> EISFit:
        data = groups["spectra"]
        if isinstance(document, dict) and "spectra" in document:
            docs = document["spectra"]
        else:
            docs = document if isinstance(document, list) else [document]
        fits = fits_from_netcdf(docs, data, idata, SpectrumFit)
        settings, derived = fits[0].settings, fits[0].derived
        joint_posterior = joint_diagnostics = None
        if isinstance(document, dict) and document.get("joint"):
            post = idata.posterior
            joint_posterior = {}
            for name in settings.arrhenius:
                for key in (f"{name}_ref", f"E_A_{name}"):
                    joint_posterior[key] = np.asarray(post[key])
            joint_diagnostics = Diagnostics.from_json(json.loads(str(data.attrs["joint_diagnostics"])))
        return cls(fits, Circuit(str(data.attrs["circuit"])), settings, derived, int(data.attrs["seed"]),
                   joint_posterior=joint_posterior, joint_diagnostics=joint_diagnostics, idata=idata)


def joint_note(arrhenius, spectra: int) -> str:
    """What a joint fit is, in one sentence."""
    return (f"one model over all {spectra} spectra on purpose: {', '.join(arrhenius)} follow Eq. 4 across the "
            "spectra's temperatures, so their posteriors (and the diagnostics) are joint, not per spectrum")


def _batch_diagnostics(fits: list[SpectrumFit]) -> Diagnostics:
    """One Diagnostics for a batch: the worst numbers over the spectra, each problem named."""
    ds = [f.diagnostics for f in fits]
    counts: dict[str, int] = {}
    for f in fits:
        key = f.method.split(" (k-hat")[0]
        counts[key] = counts.get(key, 0) + 1
    method = "each spectrum on its own: " + ", ".join(f"{n} x {m}" for m, n in counts.items())

    def worst(values, pick):
        values = [v for v in values if v is not None and np.isfinite(v)]
        return pick(values) if values else None

    failing = tuple(f"{f.name}/{q}" for f in fits for q in f.diagnostics.failing)
    problems = tuple(p if p.startswith(f.name + ":") else f"{f.name}: {p}"
                     for f in fits for p in f.diagnostics.problems)
    divergent = [f"{f.name}: {f.diagnostics.divergences} divergent transitions"
                 for f in fits if f.diagnostics.divergences]
    return Diagnostics(method=method, chains=ds[0].chains, draws_per_chain=ds[0].draws_per_chain,
                       max_rhat=worst([d.max_rhat for d in ds], max),
                       min_ess_bulk=worst([d.min_ess_bulk for d in ds], min),
                       min_ess_tail=worst([d.min_ess_tail for d in ds], min),
                       divergences=sum(d.divergences for d in ds), failing=failing, problems=problems,
                       notes=tuple(divergent))
