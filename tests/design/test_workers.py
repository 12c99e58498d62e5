"""A design worker killed mid-trial (kill -9): the study resumed by another worker marks its
trial failed at once, and nassb studies counts finished, running and failed trials apart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from nassb.design.workers import WORKER_ATTR, _gone, fail_dead_trials, this_worker


def _states(storage: str, study: str) -> dict[str, list[int]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    out: dict[str, list[int]] = {}
    for t in trials:
        out.setdefault(t.state.name, []).append(t.number)
    return out


def _claimed(storage: str, study: str) -> bool:
    """Whether every RUNNING trial of the study carries the worker that runs it."""
    import optuna

    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    return all(WORKER_ATTR in t.user_attrs for t in trials if t.state.name == "RUNNING")


def _kill_mid_trial(storage: str, study: str, timeout_s: float = 240.0) -> list[int]:
    """Start a worker, kill it (-9) while a trial of it runs after two finished; the numbers of
    the trials it left RUNNING."""
    args = [sys.executable, "-m", "nassb.reports.cli", "design", "--storage", storage, "--study", study,
            "--trials", "500", "--refine", "0", "--seed", "1", "--json"]
    worker = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
            try:
                states = _states(storage, study)
            except Exception:  # noqa: BLE001 - the study is not created yet
                continue
            # inside the objective: the trial carries its worker (killed between Optuna's creating the
            # trial and the objective's first line, a trial waits for the heartbeat's grace period)
            if len(states.get("COMPLETE", [])) >= 2 and states.get("RUNNING") and _claimed(storage, study):
                worker.send_signal(signal.SIGKILL)
                break
    finally:
        if worker.poll() is None and time.monotonic() >= deadline:
            worker.kill()
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL, worker.stderr.read() if worker.stderr else ""
    return _states(storage, study).get("RUNNING", [])


def test_a_killed_workers_trial_is_failed_when_the_study_resumes(nassb, tmp_path):
    storage, study = f"sqlite:///{tmp_path / 'killed.db'}", "killed"
    for _attempt in range(3):  # killed between two trials (rare): nothing RUNNING, try again
        left = _kill_mid_trial(storage, study)
        if left:
            break
    else:
        pytest.skip("the worker was never killed inside a trial")
    before = _states(storage, study)
    run = nassb("design", "--storage", storage, "--study", study, "--trials", "2", "--refine", "0", "--seed", "2",
                "--json")
    assert run.code == 0, run.err
    after = _states(storage, study)
    assert "RUNNING" not in after                      # at once, not after the 30 s grace period
    assert set(left) <= set(after["FAIL"])
    complete = len(before.get("COMPLETE", [])) + 2
    assert len(after["COMPLETE"]) == complete and run.json()["n_trials"] == complete
    listed = nassb("studies", "--storage", storage, "--json").json()["studies"]
    assert [(s["trials"], s["running"], s["failed"]) for s in listed] == [(complete, 0, len(after["FAIL"]))]


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
