"""What a lab campaign keeps in its Optuna storage, and how (:mod:`nassb.design.campaign`): this
module alone spells the keys of a campaign's study and trial attributes and encodes their
values; every other module reads and writes them through its functions.  (A design study's
attributes are :mod:`.study_store`'s.)

Everything lives in one Optuna storage (a SQLite file by default, a PostgreSQL URL for a lab with
several people or machines), nothing beside it:

* the campaign is an Optuna study whose user attributes hold the card, the design settings of
  :func:`~nassb.design.run.run_design` and ``nassb_campaign = 1``;
* a proposal is a trial asked when proposed (state RUNNING, committed at once, so a killed
  command loses nothing) and told when a built cell answers it; its user attributes hold its
  round, its name (``r2-p3``), its design, its predicted quantities and the card text written;
* a record is one study attribute per recorded cell, under ``nassb_record_<SHA-256 of its entry
  and the files it names>`` (:func:`store_records`; what it holds: :mod:`.campaign_records`);
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

from ..priors import CardError, OptionError

DEFAULT_STORAGE = "sqlite:///nassb-campaign.db"
FLAG = "nassb_campaign"
POSTERIOR_PREFIX = "nassb_posterior_"
RECORD_PREFIX = "nassb_record_"
_CARD, _CARD_SHA256, _SETTINGS, _CREATED = "nassb_card", "nassb_card_sha256", "nassb_campaign_settings", "nassb_created"


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


# -- the campaign's study attributes ----------------------------------------------------------

def mark_campaign(study, card: str, card_sha256: str, settings: dict) -> None:
    """Write what makes ``study`` a campaign: its card (as given), the card's hash, its
    settings, when it started, and the flag last (a campaign is complete once flagged)."""
    study.set_user_attr(_CARD, card)
    study.set_user_attr(_CARD_SHA256, card_sha256)
    study.set_user_attr(_SETTINGS, settings)
    study.set_user_attr(_CREATED, now())
    study.set_user_attr(FLAG, 1)


def campaign_of(study) -> dict | None:
    """The card, its hash and the settings of a campaign's study (None: the study is no campaign)."""
    attrs = study.user_attrs
    if attrs.get(FLAG) != 1:
        return None
    return {"card": attrs[_CARD], "card_sha256": attrs[_CARD_SHA256], "settings": dict(attrs[_SETTINGS])}


def card_of(study) -> str:
    """The card a campaign started from, as given (a built-in name or a path)."""
    return study.user_attrs[_CARD]


def record_key(digest: str) -> str:
    """The storage key of the record whose entry and files hash to ``digest``."""
    return f"{RECORD_PREFIX}{digest}"


def stored_records(study) -> list[dict]:
    """Every record of the campaign, each with its ``key``, in the order recorded."""
    recs = [{**v, "key": k} for k, v in study.user_attrs.items() if k.startswith(RECORD_PREFIX)]
    return sorted(recs, key=lambda r: (r.get("recorded", ""), r["key"]))


def store_records(storage, study, rows: list[dict], label: str) -> None:
    """Insert every row as a study user attribute in one transaction, under its ``key``
    (:func:`record_key`), in ``storage`` (the RDBStorage the campaign opened).

    A key the storage holds already (the same cells recorded meanwhile by another process) is
    refused by the unique ``(study_id, key)`` of Optuna's ``study_user_attributes`` table, which
    Optuna's own ``set_user_attr`` (an upsert) would overwrite instead: nothing of this file is
    stored and the CardError names the entry.
    """
    import json

    import sqlalchemy.exc
    from optuna.storages._rdb import models
    from sqlalchemy.orm import Session

    study_id = storage.get_study_id_from_name(study.study_name)
    try:
        with Session(storage.engine) as session, session.begin():
            for row in rows:
                session.add(models.StudyUserAttributeModel(study_id=study_id, key=row["key"],
                                                           value_json=json.dumps(row)))
    except sqlalchemy.exc.IntegrityError:
        held = set(study.user_attrs)
        where = next((i for i, row in enumerate(rows) if row["key"] in held), 0)
        raise CardError("this cell was recorded in the campaign by another command at the same moment",
                        file=label, field=f"cells[{rows[where].get('index', where)}]") from None


def stored_posteriors(study) -> list[dict]:
    """Every recalibration's posterior without its draws, each with its ``key``, the one that
    covers the most records last."""
    out = [{k: v for k, v in value.items() if k != "draws"} | {"key": key}
           for key, value in study.user_attrs.items() if key.startswith(POSTERIOR_PREFIX)]
    return sorted(out, key=lambda p: (len(p["records"]), p["created"], p["key"]))


def posterior_draws(study, key: str) -> dict[str, np.ndarray]:
    """The draws of the posterior stored under ``key``."""
    return decode_draws(study.user_attrs[key]["draws"])


def store_posterior(study, entry: dict, draws: dict[str, np.ndarray]) -> str:
    """Store a recalibration's posterior (``entry`` and its draws) under a new key; the key."""
    import uuid

    key = f"{POSTERIOR_PREFIX}{uuid.uuid4().hex}"
    study.set_user_attr(key, {**entry, "draws": encode_draws(draws)})
    return key


# -- a proposal's trial attributes ------------------------------------------------------------

def name_proposal(trial, design: dict, *, round_: int, quantities: dict, card_toml: str, card_file: str,
                  objective: Any, posterior: str, exploration: Any, expected_gain: Any, name: str) -> None:
    """Write a proposal's attributes on its trial, the name last (a proposal is complete once named)."""
    trial.set_user_attr("design", design)
    attrs: list[tuple[str, Any]] = [
        ("round", round_), ("quantities", quantities), ("card_toml", card_toml), ("card_file", card_file),
        ("objective", objective), ("posterior", posterior), ("exploration", exploration),
        ("expected_gain", expected_gain), ("proposed", now()), ("name", name)]
    for key, value in attrs:
        trial.set_user_attr(key, value)


def proposal_of(trial) -> dict | None:
    """A proposal's attributes (None: asked, but killed before it was named)."""
    a = trial.user_attrs
    if "name" not in a:
        return None
    return {"name": a["name"], "round": a["round"], "design_values": a["design"], "card_toml": a.get("card_toml", ""),
            "quantities": a.get("quantities", {}), "card_file": a.get("card_file", ""), "outcome": a.get("outcome"),
            "exploration": bool(a.get("exploration", False)), "expected_gain": a.get("expected_gain")}


def tell_attrs(storage, study, number: int, *, constraints: dict, outcome: dict, built: dict) -> None:
    """Write what a built cell said of the proposal of trial ``number`` (its constraint values,
    its outcome, its built design) through ``storage``'s public API: the trial was asked by
    another process, so this one holds no Trial of it."""
    trial_id = storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study.study_name),
                                                               number)
    storage.set_trial_user_attr(trial_id, "constraints", constraints)
    storage.set_trial_user_attr(trial_id, "outcome", outcome)
    storage.set_trial_user_attr(trial_id, "built", built)


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
