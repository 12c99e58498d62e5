"""Posterior predictive of the risk models: vectorised over calibrated draws, milliseconds for
thousands of draws, so the design search can call it for every trial."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from ...priors.risk import LAB_SCALES, LAB_SHIFTS, PARAMETERS, lab_value
from . import forms, registry

POSTERIOR_FILE = "risk-posterior.nc"


class RiskScore:
    """Per-draw risk quantities of one design (arrays of equal length, or broadcastable), by
    name as attributes (``score.R_cell``) and :meth:`as_dict`: every output of every declared
    risk (:mod:`~nassb.inference.risk.registry`) in its order.

    ``R_cell`` = ``R_separator`` + ``R_interface`` + ``R_cathode`` + ``R_contact`` +
    ``R_formation`` (ohm cm^2, after formation); ``retention`` counts the first-cycle loss.
    """

    def __init__(self, values: dict[str, np.ndarray]):
        self._values = dict(values)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def units(self) -> dict[str, str]:
        """Each quantity's canonical unit (from the vocabulary)."""
        return {name: registry.unit(name) for name in self._values}

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(self._values)


class RiskModel:
    """Calibrated draws of every risk parameter, and the forms evaluated on them.

    Parameters
    ----------
    draws : dict[str, numpy.ndarray]
        Parameter name (``"fracture.strength"``) -> 1-d array of posterior draws; lab offsets
        (``"lab.strength"``, ``"lab.ccd"``, ``"lab.contact"``) where the calibration had a lab's
        cells with the paper's: the model then predicts for that lab.
    fingerprint : str, optional
        Identifies the draws (default: a hash of them).
    observed_range : dict, optional
        Card path -> (low, high) over the observed cells (:meth:`observed_range`).
    lab : str
        The lab whose cells the draws were calibrated on ("" for the seed paper's alone).
    """

    def __init__(self, draws: dict[str, np.ndarray], fingerprint: str = "", observed_range: dict | None = None,
                 lab: str = ""):
        sizes = {np.size(v) for v in draws.values()}
        if len(sizes) != 1:
            raise ValueError("every parameter needs the same number of draws")
        self.draws = {k: np.asarray(v, dtype=float).ravel() for k, v in draws.items()}
        self.size = sizes.pop()
        self.fingerprint = fingerprint or hashlib.sha256(
            b"".join(self.draws[k].tobytes() for k in sorted(self.draws))).hexdigest()[:16]
        self.range = {k: (float(v[0]), float(v[1])) for k, v in (observed_range or {}).items()}
        self.lab = lab
        # The parameters a lab's offsets move, as the lab's cells have them (the paper's own draws
        # where there is no lab).
        self._scaled = {target: lab_value(self.draws, target) for target in (*LAB_SCALES.values(), *LAB_SHIFTS.values())
                        if target in self.draws}

    @classmethod
    def from_idata(cls, idata, observed_range: dict | None = None, lab: str = "") -> RiskModel:
        names = [n for n in idata.posterior.data_vars if "." in n]
        return cls({n: np.asarray(idata.posterior[n]).ravel() for n in names}, observed_range=observed_range, lab=lab)

    @classmethod
    def load(cls, path: str | Path | None = None) -> RiskModel:
        """The calibrated draws shipped with nassb, or written by ``calibrate_risks(...).to_netcdf``.

        Raises
        ------
        DataError
            (one line) for a file that is not a nassb risk posterior, or one calibrated on other
            priors or other forms than today's (stale: recalibrate).  A posterior calibrated on
            the paper's observations as they were before an edit loads with a warning.
        """
        import xarray as xr

        from ...priors import DataError, warn
        from .fingerprints import POSTERIOR_FORMAT, current_observations_sha256, current_priors_sha256
        from .forms import FORMS_VERSION

        shipped = resources.files("nassb.priors") / "data" / POSTERIOR_FILE
        source = Path(path) if path is not None else Path(str(shipped))
        try:
            with xr.open_dataset(source, engine="h5netcdf", group="posterior") as ds:
                draws = {str(n): ds[n].values.ravel() for n in ds.data_vars if "." in str(n)}
                attrs = dict(ds.attrs)
        except (OSError, ValueError, KeyError) as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DataError(f"not a nassb risk posterior: {first}", file=str(source)) from None
        if str(attrs.get("nassb_risk_posterior", "")) != POSTERIOR_FORMAT:
            raise DataError("not a nassb risk posterior (written by calibrate_risks / nassb risk-calibrate)",
                            file=str(source))
        missing = [f"{m}.{k}" for m, keys in PARAMETERS.items() for k in keys if f"{m}.{k}" not in draws]
        if missing:
            raise DataError(f"not a nassb risk posterior: missing {', '.join(missing)}", file=str(source))
        for key, current, what in (("forms_version", FORMS_VERSION, "risk forms"),
                                   ("priors_sha256", current_priors_sha256(), "risk priors")):
            if attrs.get(key) != current:
                raise DataError(f"stale risk posterior: calibrated on other {what} than this nassb's; "
                                "recalibrate (nassb risk-calibrate)", file=str(source))
        if int(attrs.get("with_paper", 1)) and attrs.get("observations_sha256") != current_observations_sha256():
            warn("calibrated on the seed paper's observations as they were before an edit; recalibrate to use "
                 "today's", file=str(source))
        try:
            observed = json.loads(str(attrs.get("observed_range", "{}")))
        except ValueError:
            raise DataError("not a nassb risk posterior: unreadable observed_range", file=str(source)) from None
        return cls(draws, observed_range=observed, lab=str(attrs.get("lab", "")))

    def p(self, name: str) -> np.ndarray:
        return self.draws[name]

    def observed_range(self) -> dict[str, tuple[float, float]]:
        """(low, high) over the observed cells the draws were calibrated on, by card path:
        ``separator.thickness`` (um), ``cell.pressure`` (MPa), ``cathode.theoretical_capacity``
        (mAh/cm^2), ``anode.reservoir_thickness`` (um) and ``current`` (mA/cm^2).  A design
        outside them is an extrapolation of the risk models.  Empty for draws without a record."""
        return dict(self.range)

    def fracture(self, pressure, thickness, area, selected_shard=False):
        """P(separator cracks) per draw; pressure MPa, thickness um, area cm^2.

        ``selected_shard``: the separator is a selected planar shard (the seed paper's 1 MPa
        cells), whose span is ``fracture.selection_factor`` of a tape as cast.
        """
        d = self.draws
        selection = np.where(np.asarray(selected_shard, dtype=bool), d["fracture.selection_factor"], 1.0)
        return forms.fracture_probability(pressure, thickness, area, self._scaled["fracture.strength"],
                                          d["fracture.weibull_modulus"], d["fracture.span_reference"],
                                          d["fracture.span_exponent"], selection)

    def critical_current(self, pressure, reservoir, thickness, capacity):
        """Characteristic critical current density (mA/cm^2) per draw."""
        d = self.draws
        lab = self._scaled
        return forms.critical_current(pressure, reservoir, thickness, capacity, lab["short.ccd_reference"],
                                      lab["short.pressure_exponent"], lab["short.reservoir_exponent"],
                                      lab["short.thickness_exponent"], d["short.capacity_exponent"])

    def short(self, current, cycles, pressure, reservoir, thickness, capacity, formation_cycles=0.0,
              formation_current=None):
        """P(short within ``cycles``) per draw; current mA/cm^2, capacity mAh/cm^2 per cycle.

        ``cycles`` run at ``current`` after ``formation_cycles`` at ``formation_current``.
        """
        lab = self._scaled
        ccd = self.critical_current(pressure, reservoir, thickness, capacity)
        return forms.short_probability(current, cycles, ccd, lab["short.ccd_modulus"], lab["short.cycle_exponent"],
                                       formation_cycles=formation_cycles, formation_current=formation_current)

    def resistance_parts(self, r_separator, r_interface, cathode_thickness, porosity, pressure) -> dict:
        """The cell's area resistance after formation and its parts (ohm cm^2) per draw:
        ``R_separator``, ``R_interface`` (given), ``R_cathode`` (the porous cathode before
        formation), ``R_formation`` (what formation changed), ``R_contact`` and ``R_cell``."""
        d = self.draws
        r_ion = forms.ionic_resistance(cathode_thickness, porosity, d["rate.liquid_conductivity"],
                                       d["rate.macmullin"], d["rate.bruggeman"])
        r_el = forms.electronic_resistance(cathode_thickness, porosity, d["rate.electronic_conductivity"])
        r_ct = forms.charge_transfer_resistance(cathode_thickness, porosity, d["rate.charge_transfer"])
        cathode = forms.transmission_line(r_ion, r_el, r_ct)
        factor = forms.formation_factor(pressure, d["rate.formation_reference"], d["rate.formation_exponent"])
        formation = forms.transmission_line(r_ion, r_el, r_ct * factor) - cathode
        contact = forms.contact_resistance(pressure, self._scaled["rate.contact_reference"], d["rate.contact_exponent"])
        return {"R_separator": r_separator, "R_interface": r_interface, "R_cathode": cathode, "R_contact": contact,
                "R_formation": formation,
                "R_cell": r_separator + r_interface + cathode + contact + formation}

    def resistance(self, r_separator, r_interface, cathode_thickness, porosity, pressure):
        """Cell area resistance (ohm cm^2) after formation, per draw."""
        return self.resistance_parts(r_separator, r_interface, cathode_thickness, porosity, pressure)["R_cell"]

    def retention(self, cycles, capacity, reservoir_capacity):
        """Discharge capacity of cycle ``cycles`` over the cathode's, from the sodium inventory (the
        first-cycle loss included) and the fade, per draw; reservoir in mAh/cm^2."""
        d = self.draws
        return forms.retention(cycles, d["inventory.loss"], capacity, reservoir_capacity, d["inventory.first_loss"],
                               d["inventory.fade"])

    def score(self, *, pressure, separator_thickness, area, current, cycles, reservoir_thickness,
              swelling, capacity, cathode_thickness, porosity, r_separator, r_interface,
              selected_shard=False, formation_cycles=0.0, formation_current=None) -> RiskScore:
        """Every risk of one design, per draw (arguments may be per-draw arrays or scalars): each
        declared risk's outputs (:data:`~nassb.inference.risk.registry.RISKS`) in order.

        Parameters
        ----------
        pressure : MPa
        separator_thickness : um
        area : cm^2 (the electrode area the stack pressure loads)
        current : mA/cm^2, the cycling current density
        cycles : the cycles at ``current`` the short circuit and the retention look ahead
        reservoir_thickness : um of sodium in excess; ``swelling`` (um per mAh/cm^2) turns it
            into a reservoir capacity
        capacity : mAh/cm^2 cycled per cycle (the delivered capacity)
        cathode_thickness : um; porosity : 1
        r_separator, r_interface : ohm cm^2 at the cell temperature (from the card)
        selected_shard : bool, the separator is a selected planar shard (default: a tape as cast)
        formation_cycles, formation_current : cycles at mA/cm^2 before ``cycles`` (default none)

        Returns
        -------
        RiskScore
            ``ohmic_drop`` is ``current`` times ``R_cell`` (V).
        """
        inputs = {"pressure": pressure, "separator_thickness": separator_thickness, "area": area, "current": current,
                  "cycles": cycles, "reservoir_thickness": reservoir_thickness, "swelling": swelling,
                  "capacity": capacity, "cathode_thickness": cathode_thickness, "porosity": porosity,
                  "r_separator": r_separator, "r_interface": r_interface, "selected_shard": selected_shard,
                  "formation_cycles": formation_cycles, "formation_current": formation_current}
        return RiskScore(registry.evaluate(self, inputs))

    def most_informative(self, values: np.ndarray, model: str) -> tuple[str, float]:
        """The parameter of ``model`` whose uncertainty drives ``values`` most.

        Measured by the squared rank correlation over the posterior draws: a first-order guide
        to which experiment would narrow the prediction most.
        """
        ranks = _ranks(values)
        best, best_r2 = "", -1.0
        for name, draws in self.draws.items():
            if not name.startswith(model + "."):
                continue
            r = np.corrcoef(ranks, _ranks(draws))[0, 1]
            r2 = 0.0 if not np.isfinite(r) else float(r * r)
            if r2 > best_r2:
                best, best_r2 = name, r2
        return best, best_r2


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(x.size)
    return ranks


def load_risk_model(posterior=None) -> RiskModel:
    """Calibrated risk draws from a file, a calibration result, a RiskModel, or (None) the
    calibration shipped with nassb.

    Parameters
    ----------
    posterior : str, Path, CalibrationResult or RiskModel, optional
        A file written by ``calibrate_risks(...).to_netcdf``, a calibration result, or a model
        (returned as it is); None for the shipped calibration on the seed paper's cells.

    Returns
    -------
    RiskModel
    """
    if posterior is None or isinstance(posterior, (str, Path)):
        return RiskModel.load(posterior)
    if isinstance(posterior, RiskModel):
        return posterior
    if hasattr(posterior, "risk_model"):
        return posterior.risk_model()
    raise TypeError(f"expected a posterior file, a CalibrationResult or a RiskModel, got {type(posterior).__name__}")
