"""The workers of a study: which one leads, and the trials of workers that died.

Several workers may share a study.  One leads (:func:`claim_lead`): it alone runs the decision's
deterministic optimum and the local refinement (batch.py); a worker that does not lead mixes its
seed with its identity (:func:`worker_seed`).

Trials now reach the storage finished (batch.py), but a worker of an earlier version killed
mid-trial (``kill -9``, a lost machine) left its trial RUNNING.  Optuna's
heartbeat marks it failed once its last heartbeat is older than the grace period (study.py's
``GRACE_S``), but only when a later trial starts: a worker that resumes at once and finishes
within the grace period left it RUNNING for good.  So each trial records the worker that runs it
(machine, process id and the process's start time), and a worker opening the study fails at once
the RUNNING trials of processes on its own machine that no longer run; trials of other machines
wait for their heartbeat's grace period, as before.  A campaign's storage has no heartbeat and
never calls this: its proposals stay RUNNING for the weeks a cell takes to build.
"""

from __future__ import annotations

import functools
import os
import socket
import warnings
from pathlib import Path

from ..priors.files import pid_alive
from .study_store import LEAD_ATTR, WORKER_ATTR, lead_claim, set_lead_claim, worker_of  # noqa: F401 - the keys as before


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), to tell a reused pid from
    the process that had it; None where the system does not say."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of proc(5), counted after the name


@functools.lru_cache(maxsize=1)
def _machine() -> str:
    """This machine as its processes see each other: host name, boot and process namespace (two
    containers of one host do not see each other's process ids)."""
    parts = [socket.gethostname()]
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip())
    except OSError:
        parts.append("")
    try:
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        parts.append("")
    return "|".join(parts)


def this_worker() -> dict:
    """What a trial records about the process that runs it."""
    return {"machine": _machine(), "pid": os.getpid(), "started": _process_start(os.getpid())}


def _gone(worker: dict) -> bool:
    """Whether the process a trial recorded has stopped (only decidable on the same machine)."""
    if worker.get("machine") != _machine() or not isinstance(worker.get("pid"), int):
        return False
    pid = worker["pid"]
    if pid == os.getpid():
        return False
    alive = pid_alive(pid)
    if alive is not True:
        return alive is False
    # alive: the same process, or another one that reuses its id since
    started = worker.get("started")
    return started is not None and _process_start(pid) not in (None, started)


def fail_dead_trials(study) -> list[int]:
    """Mark failed the RUNNING trials whose worker is gone; returns the numbers of those of this
    machine (those of others fail through their heartbeat).

    A trial of this machine whose process no longer runs fails at once; one of another machine
    fails when its heartbeat is older than the grace period (Optuna's ``fail_stale_trials``).
    """
    import optuna

    running = optuna.trial.TrialState.RUNNING
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(running,)):
        worker = worker_of(trial)
        if isinstance(worker, dict) and _gone(worker):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
            failed.append(trial.number)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    return failed


# -- one worker leads: the deterministic optimum and the local refinement ------------------------

LEASE_S = 120.0   # another machine's lead that has not written for this long is taken as gone
SETTLE_S = 0.25   # a claim is confirmed this long after it was made


def _lead_held_by_other(claim, me: dict) -> bool:
    """Whether a recorded lead claim belongs to another worker that still runs."""
    import time

    if not isinstance(claim, dict) or claim.get("done") or not isinstance(claim.get("worker"), dict):
        return False
    worker = claim["worker"]
    if worker == me or _gone(worker):
        return False
    if worker.get("machine") == _machine():
        return True  # alive on this machine
    return time.time() - float(claim.get("at", 0.0)) < LEASE_S


def claim_lead(study, me: dict) -> float | None:
    """Claim the study's lead for this worker unless another live worker holds it; the time of
    the claim, or None.  A claim holds once :func:`confirm_lead` still finds it."""
    import time

    if _lead_held_by_other(lead_claim(study), me):
        return None
    now = time.time()
    set_lead_claim(study, {"worker": me, "at": now, "done": False})
    return now


def confirm_lead(study, me: dict, claimed: float | None) -> bool:
    """Whether this worker's claim still stands ``SETTLE_S`` after it was made.

    Two workers that claim together each write their claim; the last write stands and the other
    worker finds it here.  (Two claims can both stand only if one worker stalled for longer than
    ``SETTLE_S`` between reading and writing the claim.)
    """
    import time

    if claimed is None:
        return False
    time.sleep(max(0.0, claimed + SETTLE_S - time.time()))
    claim = lead_claim(study)
    return isinstance(claim, dict) and claim.get("worker") == me and not claim.get("done")


def keep_lead(study, me: dict, *, done: bool = False) -> None:
    """Renew this worker's lead (each batch), or give it up (``done``) at the end of its run."""
    import time

    claim = lead_claim(study)
    if isinstance(claim, dict) and claim.get("worker") == me:  # not taken over meanwhile
        set_lead_claim(study, {"worker": me, "at": time.time(), "done": done})


def worker_seed(seed: int | None, me: dict) -> int | None:
    """The seed of a worker that does not lead: the given seed mixed with the worker's identity,
    so two workers given one seed do not draw the same trials (None stays None)."""
    import hashlib

    if seed is None:
        return None
    text = f"{seed}|{me.get('machine')}|{me.get('pid')}|{me.get('started')}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
