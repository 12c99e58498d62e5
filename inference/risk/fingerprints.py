"""What a calibrated risk posterior was calibrated on: the declared version of the forms and the
likelihood (:data:`.forms.FORMS_VERSION`), SHA-256 fingerprints of the risk priors as read (not
their file's comments and sources), the seed paper's observations and a lab's file, and the
version of the posterior file's layout.  :func:`~.calibrate.save_posterior` stores them with the draws,
and :meth:`~.predict.RiskModel.load` refuses a file whose inputs have changed since."""

from __future__ import annotations

import hashlib
import json
import tomllib
from importlib import resources

from ...priors.lab import ObservedCells
from .forms import FORMS_VERSION

POSTERIOR_FORMAT = "1"
"""Version of the posterior file's layout (attribute ``nassb_risk_posterior``)."""


def _sha(*texts: bytes) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text)
    return h.hexdigest()


def input_fingerprints(lab: ObservedCells | None = None, with_paper: bool = True) -> dict[str, str | int]:
    """SHA-256 of what a calibration depends on.

    ``priors_sha256`` (priors/data/risk.toml as read), ``forms_version`` (the forms and the likelihood),
    ``observations_sha256`` (the paper's observations; empty without them), ``lab_sha256`` (the
    lab's file and every file it names; empty without one) and ``with_paper`` (1 or 0).  Stored
    with the posterior, so a stale calibration (inputs changed since) can be detected.
    """
    return {
        "priors_sha256": current_priors_sha256(),
        "forms_version": FORMS_VERSION,
        "observations_sha256": current_observations_sha256() if with_paper else "",
        "lab_sha256": lab.sha256 if lab is not None else "",
        "with_paper": int(with_paper),
    }


# Fields of risk.toml that describe and do not enter a calibration.
_WORDS = ("source", "experiment")
# Tables of risk.toml that the paper's calibration does not read: the lab offsets (a lab's cells
# bring them; their priors enter a campaign's recalibration, which stores its own draws).
_NOT_CALIBRATED = ("lab",)


def _canonical(value):
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items()) if k not in _WORDS}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def current_priors_sha256() -> str:
    """SHA-256 of the risk priors a calibration reads (priors/data/risk.toml as parsed, without
    its sources, its comments and the lab offsets' table): an edit of the words keeps a
    posterior, a changed value or distribution makes it stale."""
    raw = tomllib.loads((resources.files("nassb.priors") / "data" / "risk.toml").read_text("utf-8"))
    used = {k: v for k, v in raw.items() if k not in _NOT_CALIBRATED}
    return _sha(json.dumps(_canonical(used), sort_keys=True, default=str).encode())


def current_observations_sha256() -> str:
    return _sha((resources.files("nassb.priors") / "data" / "risk-observations.toml").read_bytes())
