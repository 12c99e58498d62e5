"""A design search run in memory and written to its storage in batches (design/batch.py): the
storage holds every trial as a trial run on it would be, workers on one study share no trial,
one worker leads, and the refinement never runs a point the study has evaluated."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from nassb.design.batch import _rdb_backend, write_trials
from nassb.design.workers import LEAD_ATTR, claim_lead, confirm_lead, keep_lead, this_worker, worker_seed

LIMITS = {"P_fracture", "P_short", "ohmic_drop", "retention"}


def _postgres_url() -> str | None:
    url = os.environ.get("NASSB_TEST_POSTGRES")
    if not url and os.environ.get("CI"):
        pytest.fail("CI must provide NASSB_TEST_POSTGRES (.ci/run starts the server)")
    return url


def _storages(tmp_path, name: str) -> list[str]:
    url = _postgres_url()
    return [f"sqlite:///{tmp_path / (name + '.db')}", *([url] if url else [])]


def _synthetic_trials(directions: int = 1) -> list:
    """SYNTHETIC: finished in-memory trials with parameters, constraints, attributes and an
    infinite value, as a design trial carries them."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    memory = optuna.create_study(directions=["maximize"] * directions, sampler=optuna.samplers.RandomSampler(seed=3))

    def objective(trial):
        x = trial.suggest_float("x", 0.01, 10.0, log=True)
        y = trial.suggest_float("y", -1.0, 1.0)
        trial.set_user_attr("design", {"x": x, "y": y})
        trial.set_user_attr("feasible", y < 0.5)
        trial.set_constraint("P_short", y - 0.5)
        value = math.inf if trial.number == 2 else x * y
        return (value, -x) if directions > 1 else value

    memory.optimize(objective, n_trials=7)
    return memory.get_trials(deepcopy=False)


def _fields(t) -> tuple:
    return (t.number, t.state, t.params, t.distributions, t.values, t.user_attrs, t.system_attrs, t.constraints,
            t.datetime_start, t.datetime_complete)


@pytest.mark.parametrize("directions", [1, 2])
def test_a_batch_is_stored_as_optuna_stores_each_trial(tmp_path, directions):
    import optuna

    trials = _synthetic_trials(directions)
    for i, url in enumerate(_storages(tmp_path, f"b{directions}")):
        storage = optuna.storages.RDBStorage(url)
        ours = optuna.create_study(study_name=f"ours-{directions}-{os.getpid()}-{i}", storage=storage,
                                   directions=["maximize"] * directions)
        theirs = optuna.create_study(study_name=f"theirs-{directions}-{os.getpid()}-{i}", storage=url,
                                     directions=["maximize"] * directions)
        ours.add_trials(trials[:2])              # trials already there: the batch numbers on from them
        assert _rdb_backend(storage) is storage  # the bulk insert, not Optuna's trial-by-trial path
        write_trials(ours, trials[2:], storage)
        theirs.add_trials(trials)
        assert [_fields(t) for t in ours.get_trials()] == [_fields(t) for t in theirs.get_trials()]
        assert ours.get_trials()[2].values[0] == math.inf
        write_trials(ours, [])                   # nothing to write: nothing written
        assert len(ours.get_trials()) == len(trials)
    memory = optuna.create_study(directions=["maximize"] * directions)  # not a database: Optuna's own path
    write_trials(memory, trials)
    assert [_fields(t)[:8] for t in memory.get_trials()] == [_fields(t)[:8] for t in trials]


def test_the_lead_is_held_by_one_live_worker_at_a_time(tmp_path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'lead.db'}")
    me = this_worker()
    other = {**me, "pid": me["pid"] + 1, "started": "elsewhere"}  # another worker's identity
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = {**me, "pid": sleeper.pid, "started": None}
        study.set_user_attr(LEAD_ATTR, {"worker": alive, "at": 0.0, "done": False})
        assert claim_lead(study, me) is None                 # another live worker of this machine leads
        far = {**me, "machine": "another-host||"}
        study.set_user_attr(LEAD_ATTR, {"worker": far, "at": 0.0, "done": False})
        claimed = claim_lead(study, me)                      # another machine's lead, silent for long: gone
        assert claimed is not None and confirm_lead(study, me, claimed)
        assert claim_lead(study, alive) is None             # mine now
        study.set_user_attr(LEAD_ATTR, {"worker": alive, "at": 0.0, "done": False})  # taken over meanwhile
        keep_lead(study, me)                                 # a renewal does not take it back
        assert study.user_attrs[LEAD_ATTR]["worker"] == alive and not confirm_lead(study, me, claimed)
        study.set_user_attr(LEAD_ATTR, {"worker": alive, "at": 0.0, "done": True})
        assert claim_lead(study, me) is not None            # a lead that is done is free
    finally:
        sleeper.kill()
        sleeper.wait()
    assert worker_seed(None, me) is None
    assert worker_seed(1, me) == worker_seed(1, dict(me)) != worker_seed(1, other)
    assert worker_seed(1, me) not in (1, worker_seed(2, me))


def test_the_refinement_does_not_run_a_point_the_study_has_evaluated():
    import optuna

    from nassb.design.refine import refine

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space, objective = _peak()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial({"x": 0.3, "y": 1.0})  # the peak: every refinement from it starts there
    study.optimize(objective, n_trials=1)
    assert refine(study, space, objective, 12) == 12
    first = len(study.trials)
    again = refine(study, space, objective, 12)  # the same start: its first 12 points are known
    params = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(params) == len(set(params)) == first + again
    assert again <= 12


def _peak():
    """SYNTHETIC: a two-variable space and an objective with its peak at (0.3, 1)."""
    from nassb.design.space import DesignSpace, Variable

    space = DesignSpace((Variable("x", "1", 0.0, 1.0), Variable("y", "1", 0.1, 10.0, log=True)))

    def objective(trial):
        design = {v.name: trial.suggest_float(v.name, v.low, v.high, log=v.log) for v in space}
        trial.set_user_attr("design", design)
        trial.set_user_attr("feasible", design["x"] < 0.9)
        trial.set_constraint("c", design["x"] - 0.9)
        return -((design["x"] - 0.3) ** 2) - math.log(design["y"]) ** 2

    return space, objective


def test_a_worker_that_joins_a_led_study_neither_runs_the_optimum_nor_refines(tmp_path, monkeypatch):
    import optuna

    from nassb.design import batch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space, objective = _peak()
    url = f"sqlite:///{tmp_path / 'led.db'}"
    first_worker, second_worker = ({**this_worker(), "started": name} for name in ("first", "second"))
    identities = iter([first_worker, second_worker])
    monkeypatch.setattr(batch, "this_worker", lambda: next(identities))
    runs = {}

    def optimum():  # the second worker runs all its trials while the first computes its optimum
        second = optuna.create_study(study_name="led", storage=url, load_if_exists=True, direction="maximize")
        runs["second"] = batch.search(second, objective, space, trials=30, local=10, sampler="tpe", seed=1,
                                      first=lambda: {"x": 0.3, "y": 1.0}, batch=7)
        return {"x": 0.3, "y": 1.0}

    first = optuna.create_study(study_name="led", storage=url, direction="maximize")
    runs["first"] = batch.search(first, objective, space, trials=30, local=10, sampler="tpe", seed=1, first=optimum,
                                 batch=7)
    assert runs["first"].lead and not runs["second"].lead
    assert runs["first"].refined == 10 and runs["second"].refined == 0
    assert runs["first"].written == runs["second"].written == 30
    trials = _stored(url, "led")
    second_trials, first_trials = trials[:30], trials[30:]  # the second wrote all of its trials first
    assert first_trials[0].params == {"x": 0.3, "y": 1.0}   # the optimum, once, by the lead
    assert {"x": 0.3, "y": 1.0} not in [t.params for t in second_trials]
    params = [tuple(sorted(t.params.items())) for t in trials]
    assert len(trials) == 60 and len(set(params)) == 60
    assert first.user_attrs[LEAD_ATTR] == {**first.user_attrs[LEAD_ATTR], "worker": first_worker, "done": True}


# -- whole runs -----------------------------------------------------------------------------------

def _stored(url: str, study: str) -> list:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=study, storage=url).get_trials(deepcopy=False)


def test_a_batched_run_stores_every_trial_with_its_constraints(tmp_path):
    import optuna

    from nassb.design.run import run_design

    url = f"sqlite:///{tmp_path / 'run.db'}"
    result = run_design(trials=45, storage=url, study="s", seed=4, top=3)
    trials = _stored(url, "s")
    assert sorted(t.number for t in trials) == list(range(45))
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    for t in trials:
        assert set(t.constraints) == LIMITS
        assert {"design", "means", "feasible", "nassb_worker"} <= set(t.user_attrs)
        assert t.user_attrs["feasible"] == all(v <= 0 for v in t.constraints.values())
    assert result.n_trials == 45 and result.n_feasible == sum(t.user_attrs["feasible"] for t in trials)
    # the deterministic optimum is the first trial; no later trial beats it by much
    assert trials[0].user_attrs["feasible"]
    assert trials[0].values[0] <= result.best["objective"] < trials[0].values[0] * 1.001
    assert optuna.load_study(study_name="s", storage=url).user_attrs[LEAD_ATTR]["done"]  # the lead given up


def _workers(url: str, study: str, runs: list[tuple[int, int]]) -> list[tuple[int, str]]:
    args = [sys.executable, "-m", "nassb.reports.cli", "design", "--storage", url, "--study", study, "--json"]
    procs = [subprocess.Popen([*args, "--trials", str(n), "--seed", str(seed)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for n, seed in runs]
    return [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_with_one_seed_share_no_trial_and_one_refines(tmp_path, backend):
    url = f"sqlite:///{tmp_path / 'two.db'}" if backend == "sqlite" else _postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server (set NASSB_TEST_POSTGRES)")
    study = f"two-{os.getpid()}-{tmp_path.name}"
    done = _workers(url, study, [(50, 1), (50, 1)])  # one seed for both: the worker that follows mixes its own
    assert [code for code, _ in done] == [0, 0], [err for _, err in done]
    trials = _stored(url, study)
    assert len(trials) == 100 and all(t.state.name == "COMPLETE" for t in trials)
    params = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(params)) == len(params)                # no trial twice
    pids = {t.user_attrs["nassb_worker"]["pid"] for t in trials}
    assert len(pids) == 2                                   # both workers ran trials
    # the optimum is run once, by the worker that leads
    lead = {t.user_attrs["nassb_worker"]["pid"] for t in trials if t.number == 0}
    assert len(lead) == 1


def test_a_killed_run_keeps_the_trials_of_its_last_batch_and_resumes(tmp_path, nassb):
    import signal
    import time

    url, study = f"sqlite:///{tmp_path / 'killed.db'}", "killed"
    args = [sys.executable, "-m", "nassb.reports.cli", "design", "--storage", url, "--study", study,
            "--trials", "5000", "--refine", "0", "--seed", "1", "--json"]
    worker = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        while worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                if len(_stored(url, study)) >= 60:  # two batches at least
                    break
            except Exception:  # noqa: BLE001 - the study is not created yet
                continue
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL, worker.stderr.read() if worker.stderr else ""
    kept = _stored(url, study)
    assert 60 <= len(kept) < 5000
    assert all(t.state.name == "COMPLETE" and set(t.constraints) == LIMITS for t in kept)  # nothing half written
    assert sorted(t.number for t in kept) == list(range(len(kept)))
    run = nassb("design", "--storage", url, "--study", study, "--trials", "2", "--refine", "0", "--seed", "2",
                "--json")
    assert run.code == 0, run.err
    assert run.json()["n_trials"] == len(kept) + 2
    listed = nassb("studies", "--storage", url, "--json").json()["studies"]
    assert [(s["trials"], s["running"], s["failed"]) for s in listed] == [(len(kept) + 2, 0, 0)]
