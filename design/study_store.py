"""What a design study (:func:`~nassb.design.run.run_design`) keeps in its Optuna storage: this
module alone spells the keys of a design study's study and trial attributes; every other module
reads and writes them through its functions.  (A lab campaign's are :mod:`.campaign_store`'s.)

Study attributes, written by whoever creates the study, the fingerprint last (a worker that
loads the study meanwhile waits for it): the settings' description, the card searched, the
settings themselves (``nassb_search``, what marks a study nassb made) and their fingerprint
(``nassb_settings``: a worker of other settings is refused); the risk posterior file a search
was given (``nassb_posterior``); the lead worker's claim (``nassb_lead``, :mod:`.workers`).

Trial attributes: the worker that runs it (``nassb_worker``), its design (card path -> value),
the predicted means of its quantities and whether it meets every limit (``feasible``).  Each
reader takes anything that carries ``user_attrs``: a study, a study summary, a trial.
"""

from __future__ import annotations

import weakref
from typing import Any

WORKER_ATTR = "nassb_worker"
LEAD_ATTR = "nassb_lead"
_DESCRIPTION, _CARD, _SEARCH, _FINGERPRINT, _POSTERIOR = (
    "nassb_description", "nassb_card", "nassb_search", "nassb_settings", "nassb_posterior")
_DESIGN, _MEANS, _FEASIBLE = "design", "means", "feasible"


_STORAGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # study -> the storage it was opened with


def remember_storage(study, storage) -> None:
    """Keep the storage object a study was opened with (Optuna offers no public way back from a
    study to its storage), for the batched trial writes of :mod:`.batch`."""
    _STORAGES[study] = storage


def storage_of(study):
    """The storage object :func:`remember_storage` kept for ``study``, or None."""
    return _STORAGES.get(study)


# -- the study's attributes ---------------------------------------------------------------------

def mark_study(study, *, description: str, card: str, search: dict, fingerprint: str) -> None:
    """Record what a new study searches, its settings' fingerprint last."""
    study.set_user_attr(_DESCRIPTION, description)
    study.set_user_attr(_CARD, card)
    study.set_user_attr(_SEARCH, search)
    study.set_user_attr(_FINGERPRINT, fingerprint)


def fingerprint_of(study) -> str | None:
    """The fingerprint of the settings the study was made with (None: not written yet)."""
    return study.user_attrs.get(_FINGERPRINT)


def description_of(study, default: str = "") -> str:
    return study.user_attrs.get(_DESCRIPTION, default)


def card_of(study, default: str | None = None) -> str:
    """The card the study searches (a KeyError where it has none and no default is given)."""
    return study.user_attrs[_CARD] if default is None else study.user_attrs.get(_CARD, default)


def search_of(study) -> dict | None:
    """The settings the study was made with, as stored (None: a study nassb did not make)."""
    return study.user_attrs.get(_SEARCH)


def posterior_file_of(study) -> str | None:
    """The risk posterior file a search of the study was given, if any."""
    return study.user_attrs.get(_POSTERIOR)


def set_posterior_file(study, path: str) -> None:
    study.set_user_attr(_POSTERIOR, path)


def lead_claim(study) -> Any:
    """The lead worker's claim as written (:mod:`.workers` reads it)."""
    return study.user_attrs.get(LEAD_ATTR)


def set_lead_claim(study, claim: dict) -> None:
    study.set_user_attr(LEAD_ATTR, claim)


# -- a trial's attributes -----------------------------------------------------------------------

def set_worker(trial, worker: dict) -> None:
    """Record the worker that runs ``trial`` (so a resumed study can fail it if that process dies)."""
    trial.set_user_attr(WORKER_ATTR, worker)


def worker_of(trial) -> Any:
    return trial.user_attrs.get(WORKER_ATTR)


def set_design(trial, design: dict) -> None:
    trial.set_user_attr(_DESIGN, design)


def set_means(trial, means: dict) -> None:
    trial.set_user_attr(_MEANS, means)


def set_feasible(trial, feasible: bool) -> None:
    trial.set_user_attr(_FEASIBLE, feasible)


def design_of(trial, default: dict | None = None) -> dict:
    """The trial's design, card path -> value (``default`` where it wrote none; a KeyError
    where no default is given)."""
    return trial.user_attrs[_DESIGN] if default is None else trial.user_attrs.get(_DESIGN, default)


def has_design(trial) -> bool:
    return _DESIGN in trial.user_attrs


def means_of(trial, default: dict | None = None) -> dict:
    """The predicted means of the trial's quantities (``default`` where it wrote none; a
    KeyError where no default is given)."""
    return trial.user_attrs[_MEANS] if default is None else trial.user_attrs.get(_MEANS, default)


def feasible_of(trial) -> bool | None:
    """Whether the trial's design meets every limit (None: the trial wrote nothing)."""
    return trial.user_attrs.get(_FEASIBLE)
