"""What a calibrated risk posterior was calibrated on: SHA-256 fingerprints of the risk priors,
the forms and likelihood, the seed paper's observations and a lab's file, and the version of
the posterior file's layout.  :func:`~.calibrate.save_posterior` stores them with the draws,
and :meth:`~.predict.RiskModel.load` refuses a file whose inputs have changed since."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from ...priors.lab import ObservedCells
from . import forms, likelihood

POSTERIOR_FORMAT = "1"
"""Version of the posterior file's layout (attribute ``nassb_risk_posterior``)."""


def _sha(*texts: bytes) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text)
    return h.hexdigest()


def input_fingerprints(lab: ObservedCells | None = None, with_paper: bool = True) -> dict[str, str | int]:
    """SHA-256 of what a calibration depends on.

    ``priors_sha256`` (priors/data/risk.toml), ``forms_sha256`` (the forms and the likelihood),
    ``observations_sha256`` (the paper's observations; empty without them), ``lab_sha256`` (the
    lab's file and every file it names; empty without one) and ``with_paper`` (1 or 0).  Stored
    with the posterior, so a stale calibration (inputs changed since) can be detected.
    """
    return {
        "priors_sha256": current_priors_sha256(),
        "forms_sha256": current_forms_sha256(),
        "observations_sha256": current_observations_sha256() if with_paper else "",
        "lab_sha256": lab.sha256 if lab is not None else "",
        "with_paper": int(with_paper),
    }


def current_forms_sha256() -> str:
    """SHA-256 of the risk forms and the likelihood (what a posterior's draws mean)."""
    return _sha(Path(forms.__file__).read_bytes(), Path(likelihood.__file__).read_bytes())


def current_priors_sha256() -> str:
    return _sha((resources.files("nassb.priors") / "data" / "risk.toml").read_bytes())


def current_observations_sha256() -> str:
    return _sha((resources.files("nassb.priors") / "data" / "risk-observations.toml").read_bytes())
