"""The Optuna study: storage (SQLite by default, PostgreSQL for many workers), the objective and
constraints of a trial, and distinct proposals from the finished trials.

A worker runs its trials in memory and writes them to the storage in batches (batch.py), so a
killed worker loses the trials since its last batch.  A worker opening the study marks failed a
trial an earlier version's dead worker left running (workers.py: at once for a process of its own
machine, after the heartbeat's grace period for another machine's).  The study remembers the
settings it was created with and refuses a worker with others.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..priors import OptionError
from ..priors.secrets import mask_url
from ..priors.vocabulary import term
from . import extrapolation, study_store
from .decision import Limits, SearchSettings, hold_suffix, rate_name
from .score import DesignScorer, built_interval, summarise
from .space import DesignSpace
from .workers import fail_dead_trials, this_worker

SAMPLERS = ("tpe", "random", "gp")
BASELINES = ("paper-cell-1", "paper-cell-2", "paper-roadmap-1-activation", "paper-roadmap-2-porosity",
             "paper-roadmap-3-no-reservoir")
SECOND_OBJECTIVES = {"P_short": "minimize", "E_m": "maximize", "E_V": "maximize"}
# An objective option and the design quantity it maximises: the energy at the cycling current.
QUANTITY_OF = {"E_V": "E_V_rate", "E_m": "E_m_rate", "P_short": "P_short"}
ACTIVE_MARGIN = 0.2  # a limit within this (relative) of binding limits the design (Limits.active's margin)
HEARTBEAT_S = 10
GRACE_S = 30


def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)


class _OptionalSpeedups(logging.Filter):
    """Drops Optuna's note that the optional greenlet package would speed up the GP sampler."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "greenlet" not in record.getMessage()


def make_sampler(name: str, seed: int | None, multi: bool):
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise OptionError("the GP sampler needs torch: pip install 'nassb[gp]'", field="--sampler") from None
        if multi:
            raise OptionError("the GP sampler takes one objective; drop --pareto", field="--sampler")
        # Optuna notes, once on import, that the optional greenlet would speed its GP up.
        logging.getLogger("optuna._gp.batched_lbfgsb").addFilter(_OptionalSpeedups())
        # The scores are deterministic (common random numbers): no noise for the GP to learn.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.GPSampler(seed=seed, deterministic_objective=True)
    raise OptionError(f"'{name}' is not a sampler; must be one of {', '.join(SAMPLERS)}", field="--sampler")


def open_study(url: str, name: str, settings: SearchSettings, sampler: str, seed: int | None, card: str = ""):
    """Create or load the study; refuse one created with other settings (nothing is written).

    A new study records its settings and the card it searches, so a report can rebuild them.
    """
    import optuna

    _quiet_optuna()
    storage = _storage(url)
    fingerprint = settings.fingerprint()
    directions: list = ["maximize"] + ([SECOND_OBJECTIVES[settings.pareto]] if settings.pareto else [])
    sampler_ = make_sampler(sampler, seed, bool(settings.pareto))
    try:
        study = optuna.create_study(study_name=name, storage=storage, directions=directions, sampler=sampler_)
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler_)
        study_store.remember_storage(study, storage)
        _check_settings(study, name, fingerprint)
        fail_dead_trials(study)  # a killed worker's trial: failed, not RUNNING for good
        return study
    study_store.remember_storage(study, storage)
    # Created here: record what it searches (a worker that loads it meanwhile waits for this).
    study_store.mark_study(study, description=describe(settings), card=card, search=settings_to_dict(settings),
                           fingerprint=fingerprint)
    return study


def _storage(url: str, wait_s: float = 120.0, *, heartbeat: bool = True):
    """Optuna's RDB storage for ``url``.

    Workers that start together on a new database race to create its tables.  On PostgreSQL the
    loser sees a duplicate-key error; on SQLite it sees ``table ... already exists`` or ``database
    is locked`` (SQLite's schema is not created in one transaction).  Either way it retries, for
    up to ``wait_s`` seconds (s): the tables are there by then.  Error messages show the URL with
    its password masked.  ``heartbeat`` False: no heartbeats (a campaign's proposal stays running
    for weeks while its cell is built).
    """
    import random
    import time

    import optuna
    import sqlalchemy.exc

    shown = mask_url(url)
    if url.startswith("sqlite"):
        _write_ahead_file(url)
    deadline = time.monotonic() + wait_s
    attempt = 0
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if heartbeat:
                    storage = optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S,
                                                         engine_kwargs=_engine_options(url))
                else:
                    storage = optuna.storages.RDBStorage(url, engine_kwargs=_engine_options(url))
            if url.startswith("sqlite"):
                _write_ahead(storage.engine)
            return storage
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
            # optuna wraps a failed commit in StorageInternalError; the database's error is its cause
            cause = err.__cause__ if isinstance(err, optuna.exceptions.StorageInternalError) else err
            if _disk_full(cause):
                raise OptionError(f"no space left on device: cannot write the storage {shown!r}",
                                  field="--storage") from None
            if not _creation_race(cause):
                raise OptionError(f"cannot open the storage {shown!r}: {_first_line(cause or err)}",
                                  field="--storage") from None
            if time.monotonic() > deadline:
                raise OptionError(f"cannot create the study tables in {shown!r}: other workers keep "
                                  "colliding; start again", field="--storage") from None
            attempt += 1
            time.sleep(min(0.05 * 2 ** attempt, 2.0) * (0.5 + random.random()))
        except (ValueError, ImportError) as err:
            raise OptionError(f"cannot open the storage {shown!r}: {_first_line(err)}", field="--storage") from None


@contextlib.contextmanager
def storage_errors(url: str, study=None):
    """Around a running search: a database error (a full disk, a lost connection) becomes one
    OptionError naming the storage (masked), with how many finished trials it kept."""
    import optuna
    import sqlalchemy.exc

    try:
        yield
    except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as err:
        cause = err.__cause__ if isinstance(err, optuna.exceptions.StorageInternalError) else err
        kept = ""
        if study is not None:
            try:
                kept = f"; its {len(finished(study))} finished trials are kept, rerun to resume"
            except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError):
                kept = ""
        what = "no space left on device" if _disk_full(cause) else _first_line(cause or err)
        raise OptionError(f"the search stopped: {what} writing {mask_url(url)!r}{kept}", field="storage") from None


def _write_ahead_file(url: str) -> None:
    """Put a SQLite file in write-ahead-log mode before any table is made (the mode is stored in
    the file): workers that create the tables together then read while another one writes."""
    import sqlite3

    import sqlalchemy

    try:
        path = sqlalchemy.engine.make_url(url).database
    except sqlalchemy.exc.ArgumentError:
        return  # RDBStorage reports the malformed URL
    if not path or path == ":memory:" or not Path(path).parent.is_dir():
        return
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=60)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error:
        return  # RDBStorage meets the same problem and reports it


def _engine_options(url: str) -> dict:
    """SQLite waits up to a minute for a lock held by another worker (its default is 5 s); a
    server that does not answer is given up after 20 s (storage.py)."""
    from .storage import _connect_timeout

    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else _connect_timeout(url)


def _creation_race(err) -> bool:
    """Whether a database error is another worker creating the same tables at the same time."""
    import sqlalchemy.exc

    if err is None:
        return False
    if isinstance(err, sqlalchemy.exc.IntegrityError):  # a duplicate key: the other worker's row
        return True
    if not isinstance(err, (sqlalchemy.exc.ProgrammingError, sqlalchemy.exc.OperationalError)):
        return False
    text = str(getattr(err, "orig", err)).lower()
    return "already exists" in text or "database is locked" in text or "duplicate" in text


def _disk_full(err) -> bool:
    """Whether a database error is a full disk (SQLite: "database or disk is full")."""
    text = str(getattr(err, "orig", err)).lower()
    return err is not None and ("disk is full" in text or "no space left on device" in text)


def _first_line(err) -> str:
    """The first line of a database error, its secrets masked (drivers quote the URL)."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return mask_url(first)


def _write_ahead(engine) -> None:
    """SQLite in write-ahead-log mode with normal syncing: a committed trial survives a killed
    process (not a power cut), and each trial costs about a quarter less (bench/README.md)."""
    import sqlalchemy

    @sqlalchemy.event.listens_for(engine, "connect")
    def pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # connections opened before the listener was attached


def _check_settings(study, name: str, fingerprint: str, wait_s: float = 60.0) -> None:
    """Refuse a study made with other settings; wait briefly for a study another worker is
    creating at this very moment to record its settings."""
    import time

    deadline = time.monotonic() + wait_s
    while study_store.fingerprint_of(study) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    theirs = study_store.fingerprint_of(study)
    if theirs != fingerprint:
        described = study_store.description_of(study, "?")
        raise OptionError(f"study {name!r} exists with other settings ({described}); "
                          "choose another --study or the same settings", field="--study")


def make_scorer(card, risk, settings: SearchSettings) -> DesignScorer:
    """The scorer of a study's settings for ``card`` (the readings of its draws are computed when
    a design's limits are first held under them, :func:`nassb.design.readings.held_indices`)."""
    return DesignScorer(card, risk, cycles=settings.cycles, c_rate=settings.c_rate, current=settings.current)


def baselines(settings: SearchSettings, risk, *, ranges: dict | None = None, reweighting=None,
              leave=None) -> dict[str, dict]:
    """The paper's cells and roadmap steps scored on the footing of a study's settings."""
    from ..priors import load_card

    out = {}
    for name in BASELINES:
        card = load_card(name)
        scorer = make_scorer(card, risk, settings)
        out[name] = describe_design(scorer, settings, scorer.design_of_card(card), ranges=ranges,
                                    reweighting=reweighting, leave=leave)
    return out


def settings_of(study) -> SearchSettings:
    """The settings a study was created with (for reports and further workers)."""
    search = study_store.search_of(study)
    if search is None:
        raise KeyError("the study holds no design settings (it was not made by nassb design)")
    return settings_from_dict(search)


def settings_to_dict(settings: SearchSettings) -> dict:
    """The settings as plain JSON values (what a study stores, and a result's document)."""
    return json.loads(json.dumps(asdict(settings), default=str))


def settings_from_dict(raw: dict) -> SearchSettings:
    raw = dict(raw)
    if "c_rate" not in raw:  # a study made before designs were cycled at their own rate
        raw["c_rate"] = None
    # A study made before the readings held its limits under the observations file's reading.
    raw["limits"] = Limits(**{"hold": "file", **raw["limits"]})
    raw["space"] = tuple(tuple(v) for v in raw["space"])
    return SearchSettings(**raw)


def load_existing(url: str, name: str):
    """An existing study (for reports); refuses a missing one or one nassb did not create."""
    import optuna

    from .storage import reading_errors, reading_storage

    _quiet_optuna()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise OptionError(f"no such study file {url[len('sqlite:///'):]!r}", field="--storage")
    storage = reading_storage(url)
    try:
        with reading_errors(url), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise OptionError(f"no study {name!r} in {mask_url(url)}", field="--study") from None
    if study_store.search_of(study) is None:
        raise OptionError(f"study {name!r} was not made by nassb design", field="--study")
    return study


def rate_words(settings: SearchSettings) -> str:
    """The cycling condition of a study: ``C/10 of each design's own capacity`` or ``0.2 mA/cm^2``."""
    if settings.c_rate is None:
        return f"{settings.current:g} mA/cm^2"
    return f"{rate_name(settings.c_rate)} of each design's own capacity"


def describe(settings: SearchSettings) -> str:
    target = "mean" if settings.quantile is None else f"q{settings.quantile:g}"
    pareto = f" vs {settings.pareto}" if settings.pareto else ""
    data = ", within the calibrated range" if settings.within_data else ""
    chance = ("" if settings.limits.confidence is None
              else f", limits held with probability {settings.limits.confidence:g}")
    return (f"{target} {settings.objective}{pareto}, {rate_words(settings)}, {settings.cycles} cycles{data}{chance}"
            f"{hold_suffix(settings.limits)}")


def objective_value(values: dict[str, np.ndarray], name: str, quantile: float | None) -> float:
    """The mean (``quantile`` None) or a quantile of the quantity an objective option names."""
    v = values[QUANTITY_OF.get(name, name)]
    return float(v.mean() if quantile is None else np.quantile(v, quantile))


def constraints(values: dict[str, np.ndarray], settings: SearchSettings,
                ranges: dict | None = None) -> dict[str, float]:
    """The constraint values of a scored design (<= 0 feasible): the limits, and for a search
    within the data the cycling current's distance outside the calibrated currents.

    The limits are held as ``settings.limits.hold`` says: under every reading of the paper the
    draws represent (each limit's worst value over the readings), on the readings combined, or
    under the observations file's reading alone (:func:`nassb.design.readings.held_indices`)."""
    from ..inference.risk.registry import limited_names
    from .readings import held_indices

    limits = settings.limits
    judged = {k: np.asarray(values[k]) for k in limited_names()}  # only what the limits read
    out: dict[str, float] = {}
    for index in held_indices(settings.risk, limits.hold):
        under = judged if index is None else {k: v[index] for k, v in judged.items()}
        for key, value in limits.violations(limits.judged(under)).items():
            out[key] = max(out.get(key, -np.inf), value)
    if settings.within_data and ranges:
        out["current_range"] = extrapolation.current_excess(float(np.mean(values["current"])), ranges)
    return out


def make_objective(space: DesignSpace, scorer: DesignScorer, settings: SearchSettings, ranges: dict | None = None):
    """The function Optuna calls for each trial."""

    worker = this_worker()

    def objective(trial):
        study_store.set_worker(trial, worker)  # so a resumed study can fail it if this process dies
        design = {v.name: (v.low if v.fixed else trial.suggest_float(v.name, v.low, v.high, log=v.log))
                  for v in space}
        values = scorer.score(design)
        means = {k: float(v.mean()) for k, v in values.items()}
        violations = constraints(values, settings, ranges)
        for key, value in violations.items():
            trial.set_constraint(key, value)
        study_store.set_design(trial, design)
        study_store.set_means(trial, means)
        study_store.set_feasible(trial, all(v <= 0 for v in violations.values()))
        first = objective_value(values, settings.objective, settings.quantile)
        if settings.pareto:
            second = objective_value(values, settings.pareto,
                                     None if settings.pareto == "P_short" else settings.quantile)
            return first, second
        return first

    return objective


def finished(study) -> list:
    import optuna

    return [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]


def proposals(study, space: DesignSpace, scorer: DesignScorer, settings: SearchSettings, top: int = 5,
              min_distance: float = 0.1, *, ranges: dict | None = None, reweighting=None,
              leave=None, readings=None) -> list[dict]:
    """The best feasible designs that differ from each other by at least ``min_distance`` (of a
    variable's range); for a Pareto study, the feasible front."""
    trials = [t for t in finished(study) if study_store.feasible_of(t)]
    if settings.pareto:
        front = {t.number for t in study.best_trials}
        trials = [t for t in trials if t.number in front]
    trials.sort(key=lambda t: -t.values[0])
    chosen: list = []
    for t in trials:
        design = study_store.design_of(t)
        if all(space.distance(design, study_store.design_of(c)) >= min_distance for c in chosen):
            chosen.append(t)
        if len(chosen) >= top and not settings.pareto:
            break
    return [describe_design(scorer, settings, study_store.design_of(t), rank=i + 1, trial=t.number, ranges=ranges,
                            reweighting=reweighting, leave=leave, readings=readings)
            for i, t in enumerate(chosen)]


def describe_design(scorer: DesignScorer, settings: SearchSettings, design: dict, *, ranges: dict | None = None,
                    reweighting=None, leave=None, readings=None, **extra) -> dict:
    """A design with its predicted quantities, the constraints that limit it, the variables that
    leave the calibrated range (``extrapolated``) and, given a reweighting, its prior sensitivity."""
    from .sensitivity import shifts

    from ..inference.risk.registry import limited_names

    values = scorer.score(design)
    held = constraints(values, settings, ranges)
    summary = summarise(values)
    current = summary.pop("current")
    if "R_cell" in summary:  # what a built cell's resistance should fall in, beside the design's posterior
        summary["R_cell"]["built95"] = built_interval(values["R_cell"])
    shown = {**design, **scorer.layers(design)}
    out = {
        **extra,
        "design": {k: {"value": float(v), "unit": term(k).unit} for k, v in shown.items()},
        "current": current,
        "objective": objective_value(values, settings.objective, settings.quantile),
        "quantities": summary,
        "feasible": all(v <= 0 for v in held.values()),
        # what limits it, under the readings its limits are held under (the worst of them)
        "active_constraints": [k for k in limited_names() if held[k] > -ACTIVE_MARGIN],
    }
    if ranges is not None:
        at = {**shown, "current": current["mean"]}
        out["extrapolated"] = extrapolation.outside(at, ranges)
        out["extrapolated_by"] = extrapolation.how_far(at, ranges)
    if reweighting is not None:
        out["prior_sensitivity"] = shifts(values, reweighting, QUANTITY_OF[settings.objective], settings.quantile,
                                          settings.limits)
    if leave is not None:
        from .leave_out import resting_on, shifts as left_out

        out["leave_out"] = left_out(values, leave, QUANTITY_OF[settings.objective], settings.quantile,
                                    settings.limits)
        out["rests_on"] = resting_on(out["leave_out"]) if out["feasible"] else []
    if readings is not None:
        from .readings import design_readings

        out["readings"], out["binding_reading"] = design_readings(values, settings, readings)
    return out
