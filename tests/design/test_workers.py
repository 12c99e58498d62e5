"""A design worker killed mid-trial (kill -9) in an earlier version left its trial RUNNING: the
study resumed by another worker marks it failed at once, and nassb studies counts finished,
running and failed trials apart.  (A killed run of this version: tests/design/test_batch.py.)"""

from __future__ import annotations

import os
import subprocess
import sys


from nassb.design.workers import WORKER_ATTR, _gone, fail_dead_trials, this_worker


def _states(storage: str, study: str) -> dict[str, list[int]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    out: dict[str, list[int]] = {}
    for t in trials:
        out.setdefault(t.state.name, []).append(t.number)
    return out


def test_a_dead_workers_running_trial_is_failed_when_the_study_resumes(nassb, tmp_path):
    # Trials run in memory now and reach the storage finished; a study written by an earlier
    # version may still hold a RUNNING trial of a worker killed mid-trial.
    import optuna

    storage, study = f"sqlite:///{tmp_path / 'killed.db'}", "killed"
    assert nassb("design", "--storage", storage, "--study", study, "--trials", "3", "--refine", "0", "--seed", "1",
                 "--json").code == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    left = optuna.load_study(study_name=study, storage=storage).ask()
    left.set_user_attr(WORKER_ATTR, {**this_worker(), "pid": int(dead.stdout)})
    run = nassb("design", "--storage", storage, "--study", study, "--trials", "2", "--refine", "0", "--seed", "2",
                "--json")
    assert run.code == 0, run.err
    after = _states(storage, study)
    assert "RUNNING" not in after and after["FAIL"] == [left.number]   # at once, not after the 30 s grace period
    assert len(after["COMPLETE"]) == 5 and run.json()["n_trials"] == 5
    listed = nassb("studies", "--storage", storage, "--json").json()["studies"]
    assert [(s["trials"], s["running"], s["failed"]) for s in listed] == [(5, 0, 1)]


def test_a_live_workers_trial_is_left_running(tmp_path):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'live.db'}")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine, theirs, gone, elsewhere = (study.ask() for _ in range(4))
        mine.set_user_attr(WORKER_ATTR, this_worker())
        alive = {**this_worker(), "pid": sleeper.pid, "started": None}
        theirs.set_user_attr(WORKER_ATTR, alive)
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
        gone.set_user_attr(WORKER_ATTR, {**this_worker(), "pid": int(dead.stdout)})
        elsewhere.set_user_attr(WORKER_ATTR, {**this_worker(), "machine": "another-host||", "pid": int(dead.stdout)})
        assert not _gone(alive) and not _gone(this_worker())
        assert fail_dead_trials(study) == [gone.number]
        running = {t.number for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))}
        assert running == {mine.number, theirs.number, elsewhere.number}  # another machine: its heartbeat decides
    finally:
        sleeper.kill()
        sleeper.wait()
    assert os.getpid() == this_worker()["pid"]
