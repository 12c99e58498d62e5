"""What a lab campaign keeps in its Optuna storage, and how (:mod:`nassb.design.campaign`).

Everything lives in one Optuna storage (a SQLite file by default, a PostgreSQL URL for a lab with
several people or machines), nothing beside it:

* the campaign is an Optuna study whose user attributes hold the card, the design settings of
  :func:`~nassb.design.run.run_design` and ``nassb_campaign = 1``;
* a proposal is a trial asked when proposed (state RUNNING, committed at once, so a killed
  command loses nothing) and told when a built cell answers it; its user attributes hold its
  round, its name (``r2-p3``), its design, its predicted quantities and the card text written;
* a record is one study attribute per recorded cell (:mod:`.campaign_records`);
* every recalibration is one study attribute ``nassb_posterior_<uuid4>``: the draws (compressed
  float32 npz, base64, :func:`encode_draws`), the records it covers, how it was obtained and a
  per-parameter summary (:func:`parameter_summary`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
from pathlib import Path
from typing import Any

import numpy as np

from ..priors import OptionError

DEFAULT_STORAGE = "sqlite:///nassb-campaign.db"
FLAG = "nassb_campaign"
POSTERIOR_PREFIX = "nassb_posterior_"


def now() -> str:
    """The time stamp of what a campaign stores (UTC, to the second)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def shipped_risk():
    """The risk posterior shipped with nassb (the paper's cells): a campaign's first posterior."""
    from ..inference.risk.predict import RiskModel

    return RiskModel.load()


def encode_draws(draws: dict[str, np.ndarray]) -> str:
    """Posterior draws as base64 text of a compressed float32 npz (a few hundred kB)."""
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {k: np.asarray(v, dtype=np.float32) for k, v in draws.items()}
    np.savez_compressed(buffer, **arrays)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_draws(text: str) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(base64.b64decode(text))) as npz:
        return {k: np.asarray(npz[k], dtype=float) for k in npz.files}


def parameter_summary(draws: dict[str, np.ndarray]) -> dict[str, dict]:
    """Each parameter's mean, sd, unit and 95 % interval."""
    from ..inference.statistics import summarise
    from ..priors.risk import LAB_PARAMETERS, PARAMETERS

    units = {f"{m}.{k}": (spec.unit or "1") for m, specs in PARAMETERS.items() for k, spec in specs.items()}
    units.update({f"lab.{k}": (spec.unit or "1") for k, spec in LAB_PARAMETERS.items()})
    return {n: summarise(np.asarray(v), units.get(n, "1")) for n, v in sorted(draws.items())}


def open_storage(url: str):
    """The Optuna storage of a campaign (no heartbeat: a proposal stays RUNNING for weeks)."""
    from .study import _storage

    return _storage(url, heartbeat=False)


def list_campaigns(storage: str = DEFAULT_STORAGE) -> list[str]:
    """The campaigns in a storage, by name."""
    import warnings

    import optuna

    if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).is_file():
        raise OptionError(f"no such campaign file {storage[len('sqlite:///'):]!r}", field="storage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summaries = optuna.get_all_study_summaries(storage=open_storage(storage), include_best_trial=False)
    return [s.study_name for s in summaries if s.user_attrs.get(FLAG) == 1]


def ask_fixed(study, design: dict, space):
    """A RUNNING trial of ``study`` with ``design``'s values, committed at once: asked through
    Optuna's own sampler of given values, the study's own sampler back after."""
    import warnings

    import optuna

    from .study import _quiet_optuna

    _quiet_optuna()
    distributions: dict[str, optuna.distributions.BaseDistribution] = {
        v.name: optuna.distributions.FloatDistribution(v.low, v.high, log=v.log and not v.fixed) for v in space}
    sampler = study.sampler
    with warnings.catch_warnings():  # PartialFixedSampler is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.sampler = optuna.samplers.PartialFixedSampler(design, optuna.samplers.RandomSampler())
        try:
            return study.ask(distributions)
        finally:
            study.sampler = sampler


def storage_guarded(method):
    """A campaign method whose database errors (a locked or full storage, a lost server) are one
    OptionError naming the storage, as a design search's are (:func:`.study.storage_errors`)."""
    import functools

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        from .study import storage_errors

        with storage_errors(self._url):
            return method(self, *args, **kwargs)

    return guarded
