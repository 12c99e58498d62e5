"""A design search run in memory and recorded in the study's storage in batches.

Scoring a design costs about a millisecond and Optuna's sampler a few more, but a trial run on a
database storage costs some twenty round trips (its suggestions, constraints, attributes, the
final tell and the heartbeat): 90-160 ms on SQLite and 300-400 ms on PostgreSQL, far more than the
search itself.  So a worker searches in an in-memory study and copies its finished trials into
the storage every :data:`BATCH_TRIALS` trials or :data:`BATCH_SECONDS` seconds, each batch in one
transaction (:func:`write_trials`).  The storage holds every trial with the same parameters,
values, constraints and attributes as before; a killed worker loses the trials since its last
batch (nothing is left running).  Before each batch the worker reads the trials other workers
wrote since, so their samplers learn from each other.

Several workers may share one study.  One of them leads (:func:`nassb.design.workers.claim_lead`):
it alone enqueues the decision's deterministic optimum and runs the local refinement, both
deterministic, which two workers would otherwise repeat trial for trial; it keeps the given seed,
while the others mix theirs with their identity (:func:`nassb.design.workers.worker_seed`) and give
all their trials to the sampler.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .space import DesignSpace
from .workers import claim_lead, confirm_lead, keep_lead, this_worker, worker_seed

BATCH_TRIALS = 50
BATCH_SECONDS = 2.0
SCHEMA = "v3.2.0.a"  # Optuna's RDB schema (optuna 3.2 to 5.x) that write_trials writes directly


def write_trials(study, trials: Sequence, storage=None) -> None:
    """Copy finished trials (FrozenTrial, e.g. from an in-memory study) into ``study``'s storage.

    ``storage`` is the storage object the study was opened with (default: the one
    :func:`nassb.design.study.open_study` kept for it, :func:`~.study_store.storage_of`).  On a
    database storage of Optuna's schema :data:`SCHEMA` the whole batch is one transaction of bulk
    inserts, numbered as Optuna numbers trials (the study's row locked while they are made);
    elsewhere, or with no storage object known, each trial is added with ``study.add_trials``, one
    transaction each (about ten times slower: bench/README.md).  Both store the same trials
    (tests/design/test_batch.py).
    """
    from .study_store import storage_of

    if not trials:
        return
    backend = _rdb_backend(storage if storage is not None else storage_of(study))
    if backend is None:
        study.add_trials(list(trials))
        return
    _insert(backend, backend.get_study_id_from_name(study.study_name), list(trials))


_CHECKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # storage -> its schema is SCHEMA


def _rdb_backend(storage):
    """``storage`` where it is an RDBStorage of the schema :func:`_insert` writes, else None."""
    import optuna

    if not isinstance(storage, optuna.storages.RDBStorage):
        return None
    if storage not in _CHECKED:
        try:
            _CHECKED[storage] = storage.get_current_version() == SCHEMA
        except Exception:  # noqa: BLE001 - an unknown storage layout: the slow, public path
            _CHECKED[storage] = False
    return storage if _CHECKED[storage] else None


def _insert(backend, study_id: int, trials: list) -> None:
    """One transaction: the trials (Optuna's own rows, which convert their times), then their
    values, parameters and attributes, one bulk insert per table."""
    import json

    import sqlalchemy
    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(backend.scoped_session) as session:
        # Optuna's own trial creation locks the study's row too: numbers stay unique and ordered.
        models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
        rows = []
        for t in trials:
            row = models.TrialModel(study_id=study_id, number=None, state=t.state)
            row.datetime_start, row.datetime_complete = t.datetime_start, t.datetime_complete
            rows.append(row)
        session.add_all(rows)
        session.flush()  # the trials' ids, in the order added
        first = min(r.trial_id for r in rows)
        before = session.execute(sqlalchemy.select(sqlalchemy.func.count(models.TrialModel.trial_id)).where(
            models.TrialModel.study_id == study_id, models.TrialModel.trial_id < first)).scalar_one()
        children: dict = {models.TrialValueModel: [], models.TrialParamModel: [], models.TrialUserAttributeModel: [],
                          models.TrialSystemAttributeModel: []}
        for number, (row, t) in enumerate(sorted(zip(rows, trials, strict=True), key=lambda p: p[0].trial_id),
                                          start=before):
            row.number = number
            for objective, value in enumerate(t.values or ()):
                stored, kind = models.TrialValueModel.value_to_stored_repr(value)
                children[models.TrialValueModel].append(
                    {"trial_id": row.trial_id, "objective": objective, "value": stored, "value_type": kind})
            for name, value in t.params.items():
                distribution = t.distributions[name]
                children[models.TrialParamModel].append(
                    {"trial_id": row.trial_id, "param_name": name, "param_value": distribution.to_internal_repr(value),
                     "distribution_json": distribution_to_json(distribution)})
            for model, attrs in ((models.TrialUserAttributeModel, t.user_attrs),
                                 (models.TrialSystemAttributeModel, t.system_attrs)):
                children[model] += [{"trial_id": row.trial_id, "key": key, "value_json": json.dumps(value)}
                                    for key, value in attrs.items()]
        session.flush()  # the numbers
        for model, values in children.items():
            if values:  # one statement per table (executemany)
                session.execute(sqlalchemy.insert(model.__table__), values)


def _key(params: dict, names: Sequence[str]) -> tuple:
    return tuple(params.get(n) for n in names)


class Recorder:
    """Writes an in-memory study's finished trials to the storage study in batches (an Optuna
    callback), and reads into memory the trials other workers wrote."""

    def __init__(self, stored, memory, names: Sequence[str], *, lead: Callable[[], None] | None = None,
                 batch: int = BATCH_TRIALS, seconds: float = BATCH_SECONDS):
        self.stored, self.memory, self.names = stored, memory, tuple(names)
        self.batch, self.seconds, self.lead = batch, seconds, lead
        self.pending: list = []
        self.keys: set[tuple] = set()     # parameters of every trial in memory
        self.read: set[int] = set()       # numbers of the stored trials looked at
        self.written = 0
        self.last = time.monotonic()

    def __call__(self, _study, trial) -> None:
        self.keys.add(_key(trial.params, self.names))
        if trial.state.is_finished():
            self.pending.append(trial)
        if len(self.pending) >= self.batch or time.monotonic() - self.last >= self.seconds:
            self.flush()

    def has(self, design: dict) -> bool:
        return _key(design, self.names) in self.keys

    def flush(self) -> None:
        """Write the pending trials (one transaction), renew the lead, read the others' trials."""
        pending, self.pending = self.pending, []
        write_trials(self.stored, [t for t in pending if t.state.name == "COMPLETE"])
        self.written += sum(1 for t in pending if t.state.name == "COMPLETE")
        if self.lead is not None:
            self.lead()
        self.sync()
        self.last = time.monotonic()

    def sync(self) -> int:
        """Add to memory the complete stored trials not there yet (other workers'); their count."""
        import optuna

        new = []
        for t in self.stored.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if t.number in self.read:
                continue
            self.read.add(t.number)
            key = _key(t.params, self.names)
            if key not in self.keys:
                self.keys.add(key)
                new.append(t)
        if new:
            self.memory.add_trials(new)
        return len(new)


@dataclass(frozen=True)
class SearchRun:
    """What one worker's batched search did: trials run and written, and whether it led."""

    trials: int
    written: int
    lead: bool
    refined: int


def search(stored, objective, space: DesignSpace, *, trials: int, local: int, sampler: str, seed: int | None,
           first: Callable[[], dict | None] | None = None, progress: bool = False,
           batch: int = BATCH_TRIALS, seconds: float = BATCH_SECONDS) -> SearchRun:
    """Run ``trials`` trials of a design study in memory, recorded in ``stored`` in batches.

    Parameters
    ----------
    stored : optuna.Study
        The study on its storage (:func:`nassb.design.study.open_study`).
    objective : callable
        The trial's objective (:func:`nassb.design.study.make_objective`).
    space : DesignSpace
    trials : int
        Trials this worker runs.
    local : int
        Of them, trials of local refinement (:mod:`nassb.design.refine`) at the end, if this worker
        leads; another worker gives them to the sampler.
    sampler, seed
        The sampler (:func:`nassb.design.study.make_sampler`) and its seed.
    first : callable, optional
        Gives the design to run first (the deterministic optimum) if this worker leads; skipped
        when the study has it already.
    progress : bool
        A progress bar over the trials.
    batch, seconds
        A batch is written after this many finished trials or seconds, whichever comes first.
    """
    import optuna

    from .refine import refine
    from .study import make_sampler

    me = this_worker()
    names = [v.name for v in space if not v.fixed]
    memory = optuna.create_study(directions=stored.directions)
    claimed = claim_lead(stored, me)
    lead = False
    recorder = Recorder(stored, memory, names, batch=batch, seconds=seconds)
    refined = ran = 0
    try:
        design = first() if first is not None and claimed is not None else None
        lead = confirm_lead(stored, me, claimed)
        if lead:
            recorder.lead = lambda: keep_lead(stored, me)
        memory.sampler = make_sampler(sampler, seed if lead else worker_seed(seed, me), len(stored.directions) > 1)
        recorder.sync()
        if lead and design is not None and not recorder.has(design):
            memory.enqueue_trial(design)
        sampled = trials - (local if lead else 0)
        memory.optimize(objective, n_trials=sampled, callbacks=[recorder], show_progress_bar=progress)
        ran = sampled
        if lead and local:
            recorder.flush()  # and read the others' trials: the refinement starts from the best of all
            refined = refine(memory, space, objective, local, callbacks=[recorder])
            ran += refined
            if refined < local:  # no feasible start yet, or the local search converged: the sampler goes on
                memory.optimize(objective, n_trials=local - refined, callbacks=[recorder])
                ran = trials
    finally:
        recorder.flush()
        if lead:
            keep_lead(stored, me, done=True)
    return SearchRun(ran, recorder.written, lead, refined)
