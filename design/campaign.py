"""A lab campaign: propose a batch of cells, record what the built cells did, recalibrate, again.

Everything lives in one Optuna storage (a SQLite file by default, a PostgreSQL URL for a lab with
several people or machines), nothing beside it:

* the campaign is an Optuna study whose user attributes hold the card, the design settings of
  :func:`~nassb.design.run.run_design` and ``nassb_campaign = 1``;
* a proposal is a trial asked when proposed (state RUNNING, committed at once, so a killed
  command loses nothing) and told when a built cell answers it; its user attributes hold its
  round, its name (``r2-p3``), its design, its predicted quantities and the card text written;
* a record is one study attribute per recorded cell, ``nassb_record_<uuid4>``: the raw TOML text
  of the observations-file entry (priors/lab.py) and the text of every file it names, its SHA-256,
  the round and the proposal it answers.  Two people recording at once write distinct keys;
* every recalibration is one study attribute ``nassb_posterior_<uuid4>``: the draws (compressed
  float32 npz, base64), the records it covers, how it was obtained and a per-parameter summary.
  The current posterior is the one that covers the most records; records it does not cover yet
  (a record killed before its recalibration, or two recorded at once) are folded in by the next
  recalibration.

A recalibration reweights the current posterior by the likelihood of the cells it does not
cover (:func:`nassb.inference.risk.likelihood.log_likelihood`), Pareto-smoothed (PSIS): accepted
when k-hat < 0.7, the effective sample size >= 400 and the distinct draws >= 400, then resampled
to equal-weight draws and moved apart by a Liu-West kernel that keeps their mean and covariance
(so that reweighting after reweighting does not collapse onto a few draws).  Otherwise NUTS
(:func:`~nassb.inference.risk.calibrate.calibrate_risks`) recalibrates on the paper's cells and
every record.  The first lab cells bring the lab-level offsets (``lab.strength``, ``lab.ccd``,
``lab.contact``) that the paper's posterior has no draws of: the reweighting draws them from
their priors (priors/data/risk.toml), several per paper draw, so that the weights target the
posterior of the paper and the lab together.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import json
import math
import re
import tempfile
import tomllib
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from ..inference.result import Result
from ..priors import CardError, CellCard, OptionError, load_card
from ..priors.lab import ObservedCells, load_observed_cells
from ..priors.secrets import mask_url
from ..priors.tomlfile import read_toml
from ..priors.vocabulary import term
from . import campaign_records as records_
from . import campaign_tables
from . import extrapolation
from ..priors.display.campaign import calibration_words
from .calibration import WIDEN, calibration, round_calibration
from .acquisition import expected_gains
from .acquisition import explore as explore_batch
from .decision import DEFAULTS, KEYS, Decision
from .recalibration import (K_HAT_LIMIT, LAB_DRAWS_PER_DRAW, LIU_WEST_A, MIN_DISTINCT, MIN_ESS,  # noqa: F401
                            gate_words, reweight, temper, temper_words, widen)
from .recalibration import liu_west as _liu_west  # noqa: F401
from .score import DesignScorer
from .space import DesignSpace
from .study import (
    QUANTITY_OF,
    SearchSettings,
    constraints,
    describe,
    describe_design,
    make_objective,
    make_sampler,
    make_scorer,
    objective_value,
    rate_words,
)

DEFAULT_STORAGE = "sqlite:///nassb-campaign.db"
FLAG = "nassb_campaign"
RECORD_PREFIX = records_.RECORD_PREFIX
POSTERIOR_PREFIX = "nassb_posterior_"
RECALIBRATIONS = ("auto", "smc", "reweight", "nuts")
DIVERSITY = 0.15
"""Proposals of one batch differ by at least this fraction of a variable's range (log-scaled
where the search is), and from every proposal still being built."""
SEARCH_TRIALS = 200
EXPLORE = 1
"""Cells of a batch chosen for their expected gain rather than as the next best (at most k - 1)."""
RESUMED = "the stored records"
"""The ``file`` of what :meth:`Campaign.resume` returns (it records no file of its own)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- results ----------------------------------------------------------------------------------

class _CampaignResult(Result):
    """A campaign's result: no draws of its own (they stay in the storage); it is its JSON
    document, which is what its NetCDF file keeps and loads back from."""

    idata = None
    diagnostics = None


class ProposalResult(_CampaignResult):
    """One round's proposals: ``{"round", "proposals": [{"name", "card", "design", "quantities"}]}``.

    Each proposal also gives its ``objective`` (the settings' quantile of the energy), whether it
    is ``feasible`` under the current posterior, the limits that bind it and what lies beyond the
    calibrated range (``extrapolated``).
    """

    kind = "campaign-proposal"

    def __init__(self, campaign: str, round_: int, proposals: list[dict], posterior: dict, notes: list[str]):
        self.campaign, self.round, self.proposals, self.posterior, self.notes = (campaign, round_, proposals,
                                                                                 posterior, notes)

    @property
    def title(self) -> str:
        return f"campaign {self.campaign}: round {self.round} proposals"

    def summary(self) -> dict[str, dict]:
        """The predicted quantities of the first (best) proposal."""
        return dict(self.proposals[0]["quantities"]) if self.proposals else {}

    @property
    def warnings(self) -> list[str]:
        return list(self.notes)

    def to_json(self) -> dict:
        return {"campaign": self.campaign, "round": self.round, "proposals": self.proposals,
                "posterior": self.posterior, "warnings": self.warnings}

    def to_dataframe(self):
        """One row per proposal: name, card file, trial, each layer to build (``cathode.thickness
        [um]``, ...), the objective and each predicted quantity's mean and 95 % interval."""
        return campaign_tables.proposals_frame(self.proposals, round_=self.round, kind=self.kind, title=self.title)

    @classmethod
    def _from_netcdf(cls, document: dict, groups, idata) -> ProposalResult:
        return cls(document["campaign"], document["round"], document["proposals"], document["posterior"],
                   document.get("warnings", []))

    def plot(self, **kwargs):
        """The predicted energies of each proposal: mean and 95 % interval, the first on top."""
        from ..priors.display.intervals import interval_chart

        names = [n for n in ("E_V_rate", "E_m_rate") if any(n in p["quantities"] for p in self.proposals)]
        if not names:
            raise NotImplementedError("a round without proposals has no figure")
        panels = {n: [(p["name"], p["quantities"][n]) for p in self.proposals if n in p["quantities"]]
                  for n in names}
        units = {n: panels[n][0][1]["unit"] for n in names}
        return interval_chart(panels, units, title=self.title, as_figure=True, **kwargs)


class RecordResult(_CampaignResult):
    """What a record added: the cells, the proposals they answer, and the recalibration."""

    kind = "campaign-record"

    def __init__(self, campaign: str, file: str, cells: list[dict], posterior: dict, notes: list[str]):
        self.campaign, self.file, self.cells, self.posterior, self.notes = campaign, file, cells, posterior, notes

    @property
    def title(self) -> str:
        if self.file == RESUMED:
            return f"campaign {self.campaign}: resumed {len(self.cells)} stored record(s)"
        return f"campaign {self.campaign}: recorded {len(self.cells)} cell(s) from {self.file}"

    @property
    def method(self) -> str:
        return self.posterior.get("method", "")

    def summary(self) -> dict[str, dict]:
        """Each risk parameter of the recalibrated posterior: mean, sd, unit, 95 % interval."""
        return dict(self.posterior.get("parameters", {}))

    @property
    def warnings(self) -> list[str]:
        return list(self.notes)

    def to_json(self) -> dict:
        return {"campaign": self.campaign, "file": self.file, "cells": self.cells, "posterior": self.posterior,
                "warnings": self.warnings}

    def to_dataframe(self):
        """One row per recorded cell: name, round, the proposal it answers, its record key, the
        objective as built, the outcome and each built layer (``separator.thickness [um]``)."""
        return campaign_tables.cells_frame(self.cells, kind=self.kind, title=self.title,
                                           method=self.method)

    @classmethod
    def _from_netcdf(cls, document: dict, groups, idata) -> RecordResult:
        return cls(document["campaign"], document["file"], document["cells"], document["posterior"],
                   document.get("warnings", []))


class StatusResult(_CampaignResult):
    """``{"rounds": [{"round", "proposed", "recorded"}], "recorded": N, "best": {...}}``, the
    posteriors round by round (each parameter's mean and 95 % interval) and every proposal."""

    kind = "campaign-status"

    def __init__(self, document: dict, notes: list[str]):
        self.document, self.notes = document, notes

    @property
    def title(self) -> str:
        return f"campaign {self.document['campaign']}"

    @property
    def best(self) -> dict | None:
        return self.document.get("best")

    def summary(self) -> dict[str, dict]:
        """The predicted quantities of the current best cell (empty when none is feasible)."""
        return dict(self.best["quantities"]) if self.best else {}

    @property
    def warnings(self) -> list[str]:
        return list(self.notes)

    def to_json(self) -> dict:
        return {**self.document, "warnings": self.warnings}

    def to_dataframe(self, table: str = "proposals"):
        """A table of the campaign as a DataFrame.

        Parameters
        ----------
        table : {"proposals", "records", "rounds", "posteriors"}
            proposals (default): one row per proposal (round, open, design with units, objective,
            outcome, the records answering it); records: one row per stored record and whether the
            posterior covers it yet; rounds: proposed, recorded and open per round; posteriors:
            each risk parameter's mean, sd and 95 % interval per recalibration (NaN mean and sd
            for a heavy tail, with its median).
        """
        return campaign_tables.status_frame(self.document, table, kind=self.kind, title=self.title)

    @classmethod
    def _from_netcdf(cls, document: dict, groups, idata) -> StatusResult:
        document = dict(document)
        return cls(document, document.pop("warnings", []))

    def plot(self, **kwargs):
        """Every risk parameter's posterior mean and 95 % interval from the paper's posterior
        through each recalibration (the figure of the campaign report)."""
        from ..priors.display.figures import parameter_rounds

        posteriors = self.document.get("posteriors", [])
        if not posteriors:
            raise NotImplementedError("a campaign without a posterior has no figure")
        return parameter_rounds(posteriors, sorted(posteriors[-1]["parameters"]), as_figure=True, **kwargs)


# -- draws in the storage ---------------------------------------------------------------------

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


# -- the raw text of one observations-file entry ------------------------------------------------

def _entries(text: str, label: str, raw: dict) -> tuple[str, list[str]]:
    """The preamble (before the first ``[[cells]]``) and each entry's raw text, from its
    ``[[cells]]`` header to the next; checked against the parsed file ``raw``."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip().split("#")[0].strip() == "[[cells]]"]
    parsed = raw.get("cells", [])
    preamble = "".join(lines[:starts[0]]) if starts else text
    pieces = ["".join(lines[a:b]) for a, b in zip(starts, [*starts[1:], len(lines)])]
    if len(pieces) != len(parsed) or any(tomllib.loads(p).get("cells", [None])[0] != e for p, e in zip(pieces, parsed)):
        raise CardError("each [[cells]] entry must be written as a [[cells]] table with its [cells.*] sub-tables "
                        "(the campaign stores each entry's text as written)", file=label, field="cells")
    return preamble, pieces


def _named_files(entry: dict, folder: Path, label: str = "", where: str = "") -> dict[str, str]:
    """The files an entry names relative to its own (base card, capacities, fit): name -> text.

    The campaign stores them with the record, so only files in the observations file's folder
    (or below it) can be named: one outside it is refused, naming the field, before anything is
    stored (a record whose file later moved could not be read again)."""
    from ..priors.card import _is_builtin

    names = []
    base = entry.get("base")
    if isinstance(base, str) and not _is_builtin(base):
        names.append((base, "base"))
    outcome = entry.get("outcome", {})
    if isinstance(outcome, dict):
        if isinstance(outcome.get("capacities"), str):
            names.append((outcome["capacities"], "outcome.capacities"))
        for key in ("resistance", "resistance_before"):
            value = outcome.get(key)
            if isinstance(value, dict) and isinstance(value.get("fit"), str):
                names.append((value["fit"], f"outcome.{key}.fit"))
    out = {}
    for name, field in names:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise CardError(f"{name!r} is outside the observations file's folder; the campaign keeps the files an "
                            "entry names with its record, so copy it beside the file (or below it)",
                            file=label or None, field=f"{where}.{field}" if where else field)
        path = folder / name
        if path.is_file():
            out[name] = path.read_text("utf-8")
    return out


def _parse_records(records: list[dict]) -> ObservedCells | None:
    """The recorded cells, parsed again from their stored text (in a scratch folder)."""
    total = None
    for rec in records:
        with tempfile.TemporaryDirectory(prefix="nassb-record-") as folder:
            root = Path(folder)
            for name, text in rec.get("files", {}).items():
                target = root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, "utf-8")
            path = root / "record.toml"
            path.write_text(rec["preamble"] + rec["toml"], "utf-8")
            answered = rec.get("proposal")
            cards = ({answered: root / records_.proposal_file(answered)}
                     if answered and records_.proposal_file(answered) in rec.get("files", {}) else {})
            cells = load_observed_cells(path, paper=False, proposal_cards=cards)
            cells = ObservedCells(cells.cells, f"record {rec.get('key', rec['name'])}", rec["sha256"], cells.lab)
        total = cells if total is None else total + cells
    return total


# -- the campaign ---------------------------------------------------------------------------------

def _fixed_sampler(values: dict[str, float]):
    """An Optuna sampler that returns given values: a proposal is asked with its design."""
    import optuna

    class Fixed(optuna.samplers.BaseSampler):
        def infer_relative_search_space(self, study, trial):
            return {}

        def sample_relative(self, study, trial, search_space):
            return {}

        def sample_independent(self, study, trial, param_name, param_distribution):
            return values[param_name]

    return Fixed()


def _storage_guarded(method):
    """A campaign method whose database errors (a locked or full storage, a lost server) are one
    OptionError naming the storage, as a design search's are (:func:`.study.storage_errors`)."""
    import functools

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        from .study import storage_errors

        with storage_errors(self._url):
            return method(self, *args, **kwargs)

    return guarded


class Campaign:
    """A lab campaign in an Optuna storage (see the module docstring).

    Use :meth:`start` for a new campaign and :meth:`open` for an existing one.

    Attributes
    ----------
    name : str
    storage : str
        The storage URL, password masked.
    card : CellCard
        The card whose materials and uncertainties every proposal shares.
    """

    def __init__(self, name: str, storage: str, study, card: CellCard, settings: dict):
        self.name, self._url, self.study, self.card = name, storage, study, card
        self._settings = settings
        self.storage = mask_url(storage)
        self._risk_cache: tuple[str, object] | None = None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def start(cls, name: str, card: CellCard | str | Path = "paper-cell-1", storage: str = DEFAULT_STORAGE, *,
              decision: Decision | dict | None = None, **settings) -> Campaign:
        """Start a campaign named ``name`` in ``storage``.

        Parameters
        ----------
        name : str
            Letters, digits, ``.``, ``_`` and ``-``.
        card : CellCard, str or Path
            The card whose materials and uncertainties the proposals share (built-in name or path).
        storage : str
            Optuna storage: ``sqlite:///FILE`` (default ``sqlite:///nassb-campaign.db``) or
            ``postgresql://...``.
        decision : Decision or dict, optional
            The design decision (:class:`nassb.design.decision.Decision`), as for
            :func:`nassb.design.run.run_design`; keyword ``settings`` make one or override its own.
        objective, quantile, max_fracture, max_short, max_drop, min_retention, cycles, c_rate, current, within_data
            As :func:`nassb.design.run.run_design`: the energy (Wh/L or Wh/kg) maximised at its
            ``quantile``, the limits (probabilities; ohmic drop in V; retention a fraction), the
            target cycles, a C-rate (1/h) or a current density (mA/cm^2).
        limit_confidence : float, optional
            Hold the limits with this posterior probability (a chance constraint, e.g. 0.9)
            instead of on the posterior means: cells built on a limit of the means break it
            about half the time; the simulated campaign (tests/design/test_campaign_simulated.py)
            compares the two.
        """
        import optuna

        from .run import _check_storage

        if not isinstance(name, str) or not _NAME.match(name):
            raise OptionError(f"a campaign name is letters, digits, '.', '_' and '-', got {name!r}", field="name")
        chosen = Decision.of(decision, **settings)
        _check_storage(storage)
        card = card if isinstance(card, CellCard) else load_card(card)
        stored = chosen.settings()  # the keyword settings, as campaigns have always stored them
        op = chosen.operating
        # the card must be scorable
        DesignScorer(card, _shipped_risk(), cycles=op.cycles, c_rate=op.c_rate, current=op.current)
        origin = str(Path(card.origin).resolve()) if Path(card.origin).is_file() else card.origin
        from .study import _quiet_optuna

        _quiet_optuna()
        storage_ = _open_storage(storage)
        try:
            study = optuna.create_study(study_name=name, storage=storage_, direction="maximize")
        except optuna.exceptions.DuplicatedStudyError:
            raise OptionError(f"a campaign or study {name!r} exists in {mask_url(storage)}; open it or choose "
                              "another name", field="name") from None
        study.set_user_attr("nassb_card", origin)
        study.set_user_attr("nassb_card_sha256", card.sha256)
        study.set_user_attr("nassb_campaign_settings", stored)
        study.set_user_attr("nassb_created", _now())
        study.set_user_attr(FLAG, 1)  # last: a campaign is complete once flagged
        return cls(name, storage, study, card, stored)

    @classmethod
    def open(cls, name: str, storage: str = DEFAULT_STORAGE) -> Campaign:
        """An existing campaign; an unknown name or a study that is not a campaign is an OptionError."""
        import optuna

        if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).is_file():
            raise OptionError(f"no such campaign file {storage[len('sqlite:///'):]!r}", field="storage")
        storage_ = _open_storage(storage)
        try:
            study = optuna.load_study(study_name=name, storage=storage_)
        except KeyError:
            raise OptionError(f"no campaign {name!r} in {mask_url(storage)}", field="name") from None
        attrs = study.user_attrs
        if attrs.get(FLAG) != 1:
            raise OptionError(f"{name!r} in {mask_url(storage)} is not a campaign (nassb campaign start makes one)",
                              field="name")
        card = load_card(attrs["nassb_card"])
        if card.sha256 != attrs["nassb_card_sha256"]:
            raise OptionError(f"the card {attrs['nassb_card']} changed since the campaign started", field="name")
        return cls(name, storage, study, card, dict(attrs["nassb_campaign_settings"]))

    # -- what the value-of-information engine reads ----------------------------------------------
    def design_settings(self) -> dict:
        """The :func:`~nassb.design.run.run_design` keyword settings the campaign was started with
        (``current`` in mA/cm^2, or None)."""
        return {k: self._settings.get(k, DEFAULTS[k]) for k in KEYS}

    @property
    def decision(self) -> Decision:
        """The design decision the campaign was started with."""
        return Decision.make(**self.design_settings())

    def search_settings(self, risk=None) -> SearchSettings:
        return self.decision.search_settings(self.card.sha256, getattr(risk, "fingerprint", ""))

    def risk_model(self):
        """The current posterior (paper + every record it covers) as a :class:`RiskModel`."""
        entry = self._current_posterior()
        if entry is None:
            return _shipped_risk()
        if self._risk_cache is None or self._risk_cache[0] != entry["key"]:
            from ..inference.risk.predict import RiskModel

            draws = decode_draws(self.study.user_attrs[entry["key"]]["draws"])
            ranges = {k: tuple(v) for k, v in entry.get("observed_range", {}).items()}
            self._risk_cache = (entry["key"], RiskModel(draws, fingerprint=entry["fingerprint"],
                                                        observed_range=ranges, lab=entry.get("lab", "")))
        return self._risk_cache[1]

    def candidate_designs(self, top: int = 5) -> list[dict]:
        """The open proposals and the best recorded cells (up to ``top``, by the objective under
        the current posterior): each ``{"name", "design": {card path: value}}``."""
        scorer, settings, _ = self._scorer()
        out = [{"name": p["name"], "design": dict(p["design_values"])} for p in self._proposals() if p["open"]]
        built = self._built_designs(scorer)
        built.sort(key=lambda b: -objective_value(scorer.score(b["design"]), settings.objective, settings.quantile))
        return out + built[:top]

    # -- reading the storage -------------------------------------------------------------------
    def _records(self) -> list[dict]:
        attrs = self.study.user_attrs
        recs = [{**v, "key": k} for k, v in attrs.items() if k.startswith(RECORD_PREFIX)]
        return sorted(recs, key=lambda r: (r.get("recorded", ""), r["key"]))

    def _posteriors(self) -> list[dict]:
        attrs = self.study.user_attrs
        out = [{k: v for k, v in value.items() if k != "draws"} | {"key": key}
               for key, value in attrs.items() if key.startswith(POSTERIOR_PREFIX)]
        return sorted(out, key=lambda p: (len(p["records"]), p["created"], p["key"]))

    def _current_posterior(self) -> dict | None:
        posts = self._posteriors()
        return posts[-1] if posts else None

    def _proposals(self) -> list[dict]:
        import optuna

        out = []
        for t in self.study.get_trials(deepcopy=False):
            a = t.user_attrs
            if "name" not in a:
                continue  # asked, but killed before it was named: nothing was written for it
            out.append({"number": t.number, "name": a["name"], "round": a["round"], "design_values": a["design"],
                        "card_toml": a.get("card_toml", ""),
                        "quantities": a.get("quantities", {}), "card_file": a.get("card_file", ""),
                        "open": t.state == optuna.trial.TrialState.RUNNING,
                        "value": t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
                        "outcome": a.get("outcome"), "exploration": bool(a.get("exploration", False)),
                        "expected_gain": a.get("expected_gain")})
        return out

    def _scorer(self, risk=None):
        risk = risk if risk is not None else self.risk_model()
        settings = self.search_settings(risk)
        scorer = make_scorer(self.card, risk, settings)
        ranges = extrapolation.calibrated_range(risk)
        return scorer, settings, ranges

    def _space(self, scorer: DesignScorer, settings: SearchSettings, ranges: dict) -> DesignSpace:
        from .run import search_space

        return search_space(self.card, scorer, settings, ranges)

    def _built_designs(self, scorer: DesignScorer) -> list[dict]:
        """The recorded cells that neither cracked nor shorted, as designs (their built layers)."""
        cells = _parse_records(self._records())
        out: list[dict] = []
        for cell in cells or ():
            if cell.outcome.cracked or cell.outcome.short is not None:
                continue  # a cell that cracked or shorted is data, not a candidate to build again
            try:
                out.append({"name": cell.name, "design": scorer.design_of_card(cell.card)})
            except CardError:
                continue  # a record without what a design needs (a pressure) is data, not a candidate
        return out

    # -- propose -------------------------------------------------------------------------------
    @_storage_guarded
    def propose(self, k: int, out: str | Path | None = None, *, trials: int = SEARCH_TRIALS, seed: int | None = None,
                diversity: float = DIVERSITY, explore: int = EXPLORE, progress: bool = False) -> ProposalResult:
        """Choose ``k`` distinct feasible cells to build this round, ask one trial for each, and
        write one ready-to-use card file per proposal into ``out`` (a folder; default: none).

        The current posterior scores an in-memory search (``trials`` Optuna trials, TPE, with the
        design's local refinement), the same objective and limits as
        :func:`~nassb.design.run.run_design`.  The batch is chosen jointly: best first, each next
        one at least ``diversity`` (a fraction of a variable's range) from those chosen and from
        every proposal still being built.

        ``explore`` of the ``k`` cells (default 1, at most k - 1: the best cell is always built)
        are chosen instead for their expected gain (:mod:`nassb.design.acquisition`): the expected
        improvement of the batch's best truly feasible cell if the posterior's draws are the
        possible truths, among the search's designs that meet the limits.  They are labelled
        ``exploration`` with their ``expected_gain``; every proposal carries its expected gain
        in turn.  ``explore=0`` builds the best cells alone.
        """
        import optuna

        from .leave_out import leave_out
        from .readings import readings_of
        from .refine import refine as refine_best
        from .run import refine_budget
        from .study import _quiet_optuna

        for label, value, minimum in (("k", k, 1), ("trials", trials, 10)):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise OptionError(f"must be a whole number >= {minimum}, got {value!r}", field=label)
        if not (isinstance(diversity, (int, float)) and 0 <= diversity < 1):
            raise OptionError(f"must lie in [0, 1), got {diversity!r}", field="diversity")
        if isinstance(explore, bool) or not isinstance(explore, int) or explore < 0:
            raise OptionError(f"must be a whole number >= 0, got {explore!r}", field="explore")
        folder = Path(out) if out is not None else None
        if folder is not None and folder.exists() and not folder.is_dir():
            raise OptionError(f"{folder} exists and is not a folder", field="out")
        notes: list[str] = []
        pending = self._pending_records()
        if pending:
            self.resume(progress=progress)  # and the proposals they answer told
            notes.append(f"{len(pending)} record(s) not yet in the posterior were folded in first")
        risk = self.risk_model()
        scorer, settings, ranges = self._scorer(risk)
        space = self._space(scorer, settings, ranges)
        _quiet_optuna()
        search = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed, False))
        objective = make_objective(space, scorer, settings, ranges)
        local = refine_budget(None, trials, None)
        search.optimize(objective, n_trials=trials - local, show_progress_bar=progress)
        if local:
            ran = refine_best(search, space, objective, local)
            if ran < local:
                search.optimize(objective, n_trials=local - ran)
        feasible = [t for t in search.trials if t.state == optuna.trial.TrialState.COMPLETE
                    and t.user_attrs.get("feasible")]
        feasible.sort(key=lambda t: -(t.value if t.value is not None else -math.inf))
        # The search's best distinct designs.  Not the decision's deterministic optimum
        # (nassb.design.optimum), which nassb design and next-experiment name first: it sits exactly
        # on the limits of a posterior that is still overconfident, and in the simulated campaigns
        # (tests/design/test_campaign_simulated.py) a chance-constrained campaign that built it
        # first broke the true limits in 25 % of its last batch against 4 % without it.
        candidates = [t.user_attrs["design"] for t in feasible]
        building = [p["design_values"] for p in self._proposals() if p["open"]]
        exploring = min(explore, k - 1)

        def far_enough(design: dict, batch: list[dict]) -> bool:
            return all(space.distance(design, c) >= diversity for c in batch + building)

        chosen: list[dict] = []
        for d in candidates:
            if far_enough(d, chosen):
                chosen.append(d)
            if len(chosen) == k - exploring:
                break
        gains = expected_gains(scorer, settings, chosen)
        explored = explore_batch(scorer, settings, chosen, candidates, exploring, far_enough) if chosen else []
        labels = [False] * len(chosen) + [True] * len(explored)
        gains += [g for _, g in explored]
        chosen += [d for d, _ in explored]
        if exploring and len(explored) < exploring:
            notes.append(f"{len(explored)} of {exploring} exploration cell(s) found: no other feasible design "
                         f"{diversity:g} apart from the batch promises a gain")
        for d in candidates:  # fill what exploration left open with the next best
            if len(chosen) == k:
                break
            if far_enough(d, chosen):
                gains.append(expected_gains(scorer, settings, [*chosen, d])[-1])
                chosen.append(d)
                labels.append(False)
        if len(chosen) < k:
            notes.append(f"only {len(chosen)} of {k} distinct feasible designs found (diversity {diversity:g}); "
                         "run more trials or relax the limits")
        round_ = 1 + max((p["round"] for p in self._proposals()), default=0)
        posterior = self._current_posterior()
        described = []
        leave = leave_out(risk)
        readings = readings_of(risk)
        unit = term(QUANTITY_OF[settings.objective]).unit
        for i, design in enumerate(chosen):
            name = f"r{round_}-p{i + 1}"
            entry = describe_design(scorer, settings, design, ranges=ranges, leave=leave, readings=readings,
                                    exploration=labels[i], expected_gain={"value": gains[i], "unit": unit})
            text = self.card_text(name, design, scorer, entry)
            described.append((name, design, entry, text))
        if folder is not None:  # the cards on disk first: nothing is asked that no file backs
            _write_cards(folder, [(f"{name}.toml", text) for name, _, _, text in described])
        proposals: list[dict] = []
        try:
            for name, design, entry, text in described:
                proposals.append(self._commit_proposal(name, design, entry, text, space, round_, posterior, folder))
        except BaseException:
            for name, *_ in described[len(proposals):]:  # cards that no committed proposal backs
                if folder is not None:
                    (folder / f"{name}.toml").unlink(missing_ok=True)
            raise
        return ProposalResult(self.name, round_, proposals, self._posterior_json(posterior), notes)

    def _commit_proposal(self, name: str, design: dict, entry: dict, text: str, space: DesignSpace, round_: int,
                         posterior: dict | None, folder: Path | None) -> dict:
        """Ask the proposal's trial (RUNNING, committed at once) and name it; its JSON entry."""
        file = f"{name}.toml"
        trial = self._ask(design, space)
        self.study._storage.set_trial_user_attr(trial._trial_id, "design", design)
        attrs: list[tuple[str, Any]] = [
            ("round", round_), ("quantities", entry["quantities"]), ("card_toml", text), ("card_file", file),
            ("objective", entry["objective"]), ("posterior", posterior["key"] if posterior else "shipped"),
            ("exploration", entry["exploration"]), ("expected_gain", entry["expected_gain"]),
            ("proposed", _now()), ("name", name)]  # the name last: a proposal is complete once named
        for key, value in attrs:
            trial.set_user_attr(key, value)
        return {"name": name, "card": str(folder / file) if folder is not None else file,
                "trial": trial.number, "design": entry["design"], "quantities": entry["quantities"],
                "objective": entry["objective"], "current": entry["current"],
                "feasible": entry["feasible"], "active_constraints": entry["active_constraints"],
                "extrapolated": entry.get("extrapolated", []), "extrapolated_by": entry.get("extrapolated_by", {}),
                "leave_out": entry.get("leave_out", {}), "rests_on": entry.get("rests_on", []),
                "exploration": entry["exploration"], "expected_gain": entry["expected_gain"],
                "readings": entry.get("readings", {}), "binding_reading": entry.get("binding_reading")}

    def _ask(self, design: dict, space: DesignSpace):
        """A RUNNING trial with the design's values, committed at once."""
        import optuna

        from .study import _quiet_optuna

        _quiet_optuna()
        study = optuna.load_study(study_name=self.name, storage=self.study._storage,
                                  sampler=_fixed_sampler(design))
        float_distribution = optuna.distributions.FloatDistribution
        distributions: dict[str, optuna.distributions.BaseDistribution] = {
            v.name: float_distribution(v.low, v.high, log=v.log and not v.fixed) for v in space}
        return study.ask(distributions)

    def card_text(self, name: str, design: dict, scorer: DesignScorer, entry: dict | None = None) -> str:
        """The card file of a proposal: the campaign's card as ``base`` and the layers to build
        (cathode thickness, porosity or loading, capacity, separator, reservoir, pressure)."""
        from ..inference import cell as eq

        layers = scorer.layers(design)
        model = scorer.model
        base = self.study.user_attrs["nassb_card"]
        lines = [f"# Proposal {name} of the nassb campaign {self.name}: the cell to build.",
                 f"# Settings: {describe(self.search_settings())}."]
        if entry is not None:
            q = entry["quantities"]
            energy = QUANTITY_OF[self._settings["objective"]]
            lines.append(f"# Predicted (posterior mean): {energy} {q[energy]['mean']:.4g} {q[energy]['unit']}, "
                         f"P_fracture {q['P_fracture']['mean']:.3f}, P_short {q['P_short']['mean']:.3f}, "
                         f"ohmic drop {q['ohmic_drop']['mean']:.3f} V, retention {q['retention']['mean']:.3f}.")
        lines += ["# Record what was built and what happened in an observations file whose [[cells]] entry",
                  f"# names this file as base = \"{name}.toml\" (measured layers override it).", "",
                  f"base = {json.dumps(base)}", "", "[cell]", f"name = {json.dumps(name)}",
                  f"pressure = \"{design['cell.pressure']:.6g} MPa\"", "", "[anode]",
                  f"reservoir_thickness = \"{design['anode.reservoir_thickness']:.6g} um\"", "", "[separator]",
                  f"thickness = \"{design['separator.thickness']:.6g} um\"", "", "[cathode]",
                  f"thickness = \"{layers['cathode.thickness']:.6g} um\""]
        capacity, porosity = design["cathode.theoretical_capacity"], design["cathode.porosity"]
        if model.derived_porosity or model.derived_capacity:
            loading = eq.loading_for_porosity(porosity, scorer.solid_density, layers["cathode.thickness"])
            lines.append(f"loading = \"{float(loading):.6g} mg/cm^2\"")
        if not model.derived_porosity:
            lines.append(f"porosity = \"{porosity:.6g}\"")
        if not model.derived_capacity:
            lines.append(f"theoretical_capacity = \"{capacity:.6g} mAh/cm^2\"")
        if model.has_delivered:
            delivered = capacity * float(np.mean(scorer.utilisation))
            lines.append(f"delivered_capacity = \"{delivered:.6g} mAh/cm^2\"  # expected at the card's "
                         "utilisation; give the measured one")
        return "\n".join(lines) + "\n"

    # -- record --------------------------------------------------------------------------------
    @_storage_guarded
    def record(self, observations: str | Path, *, recalibration: str = "auto", nuts: dict | None = None,
               seed: int | None = None, progress: bool = False) -> RecordResult:
        """Store the cells of an observations file (priors/lab.py), recalibrate, and tell the
        proposals they answer.

        Parameters
        ----------
        observations : str or Path
            An observations file; each ``[[cells]]`` entry answers the proposal it names
            (``proposal = "r1-p2"``), else the one whose card file it names as ``base``
            (``base = "r1-p2.toml"``), else the one whose name it takes (``name = "r1-p2"``).
            A built cell may differ from its proposal: its own layers (the entry's overrides) count.
        recalibration : {"auto", "smc", "reweight", "nuts"}
            auto: PSIS reweighting where its gate passes, else sequential Monte Carlo (the new
            cells' likelihood tempered in steps, :func:`~nassb.design.recalibration.temper`;
            seconds), NUTS only where that fails its own gate too; smc: sequential Monte Carlo
            only; reweight: reweighting only (warned when the gate fails); nuts: NUTS always.

            Before the new cells enter, what the posterior predicted for them is scored
            (:func:`~nassb.design.calibration.calibration`: Brier and log scores, interval
            coverage, PIT); where they are less probable than its own predictive allows, the
            posterior is widened first (:func:`~nassb.design.recalibration.widen`) and the
            result says so.
        nuts : dict, optional
            NUTS settings for :func:`~nassb.inference.risk.calibrate.calibrate_risks` (draws,
            tune, chains).
        seed : int, optional
            Seed of the reweighting's lab-offset draws and resampling, and of NUTS; by default
            drawn from the campaign and the records, so the same record chooses the same way.
        progress : bool
            Say on standard error what is done (stored, reweighted, the gate and why, NUTS and
            about how long it takes) and show NUTS's progress bar.

        The same cells recorded twice (one after the other, or by two processes at the same
        moment) are stored once: the second is a CardError naming the entry.
        """
        if recalibration not in RECALIBRATIONS:
            raise OptionError(f"'{recalibration}' is not a recalibration; must be one of {', '.join(RECALIBRATIONS)}",
                              field="recalibration")
        path = Path(observations)
        label = str(observations)
        raw, text = read_toml(path, what="observations file")
        proposals = {p["name"]: p for p in self._proposals()}
        with tempfile.TemporaryDirectory(prefix="nassb-proposals-") as scratch:
            cards = records_.proposal_cards(raw.get("cells", []) if isinstance(raw.get("cells"), list) else [],
                                            proposals, Path(scratch))
            cells = load_observed_cells(path, paper=False, proposal_cards=cards)  # every mistake named
        preamble, pieces = _entries(text, label, raw)
        preamble = "\n".join(line for line in preamble.splitlines() if not line.strip().startswith("#")) + "\n"
        pending = {r["sha256"] for r in self._pending_records()}
        existing = {r["sha256"] for r in self._records()}
        by_file = {p["card_file"]: p for p in proposals.values() if p["card_file"]}
        rows = []
        for i, (cell, piece, entry) in enumerate(zip(cells, pieces, raw["cells"])):
            files = _named_files(entry, path.parent, label, f"cells[{i}]")
            base, named = entry.get("base"), entry.get("proposal")
            if named is not None and named not in proposals:
                raise CardError(f"no proposal {named!r} in the campaign; its proposals: "
                                f"{', '.join(proposals) or 'none yet'}", file=label, field=f"cells[{i}].proposal")
            if base is None and named is not None:
                files[records_.proposal_file(named)] = proposals[named]["card_toml"]
            digest = _sha(piece + json.dumps(files, sort_keys=True))
            if digest in existing:
                hint = (f"; it is not yet in the posterior: 'nassb campaign recalibrate {self.name}' folds it in"
                        if digest in pending else "")
                raise CardError(f"this cell is recorded already in the campaign{hint}", file=label,
                                field=f"cells[{i}]")
            answered = (proposals.get(named) if named is not None else None) or (
                by_file.get(Path(base).name) if isinstance(base, str) else None) or proposals.get(cell.name)
            round_ = answered["round"] if answered else max((p["round"] for p in proposals.values()), default=0)
            rows.append({"preamble": preamble, "toml": piece, "files": files, "sha256": digest, "round": round_,
                         "proposal": answered["name"] if answered else None, "name": cell.name, "count": cell.count,
                         "file": label, "where": cell.where, "recorded": _now(), "index": i,
                         "key": records_.record_key(digest)})
        _parse_records(rows)  # the stored text reads back on its own: checked before anything is stored
        records_.store_records(self.study, rows, label)  # all at once, each key once: the storage refuses a twin
        notes = []
        for row in rows:
            if row["proposal"] is None:
                notes.append(f"{row['name']} answers no proposal of the campaign (name it as a proposal's card file "
                             "in base, or give it the proposal's name); it informs the risks all the same")
        records_.say(progress, f"stored {len(rows)} record(s) of {label}; recalibrating")
        posterior = self.recalibrate(recalibration=recalibration, nuts=nuts, seed=seed, progress=progress)
        notes.extend(posterior.pop("notes", []))
        told = self._tell(rows)
        cells_json = [{"name": r["name"], "where": r["where"], "count": r["count"], "round": r["round"],
                       "proposal": r["proposal"], "record": r["key"], **told.get(r["key"], {})} for r in rows]
        return RecordResult(self.name, label, cells_json, posterior, notes)

    @_storage_guarded
    def resume(self, *, recalibration: str = "auto", nuts: dict | None = None, seed: int | None = None,
               progress: bool = False) -> RecordResult:
        """Finish what a killed ``record`` left: fold the stored records the posterior does not
        cover yet into a new posterior, and tell the open proposals that stored records answer."""
        if recalibration not in RECALIBRATIONS:
            raise OptionError(f"'{recalibration}' is not a recalibration; must be one of {', '.join(RECALIBRATIONS)}",
                              field="recalibration")
        pending = self._pending_records()
        records_.say(progress, f"{len(pending)} stored record(s) not yet in the posterior"
                     + ("; recalibrating" if pending else ""))
        posterior = self.recalibrate(recalibration=recalibration, nuts=nuts, seed=seed, progress=progress)
        notes = posterior.pop("notes", [])
        open_ = {p["name"] for p in self._proposals() if p["open"]}
        rows = [r for r in self._records() if r["key"] in {p["key"] for p in pending} or r.get("proposal") in open_]
        told = self._tell(rows)
        if not pending and not told:
            notes.append("nothing to resume: every stored record is in the posterior and its proposal told")
        cells_json = [{"name": r["name"], "where": r["where"], "count": r.get("count", 1), "round": r["round"],
                       "proposal": r["proposal"], "record": r["key"], **told.get(r["key"], {})} for r in rows]
        return RecordResult(self.name, RESUMED, cells_json, posterior, notes)

    def _pending_records(self) -> list[dict]:
        current = self._current_posterior()
        covered = set(current["records"]) if current else set()
        return [r for r in self._records() if r["key"] not in covered]

    def _tell(self, rows: list[dict]) -> dict[str, dict]:
        """Tell the proposals the rows answer: the objective of the built cell under the new
        posterior; the constraint values and the outcome as user attributes."""
        import optuna

        scorer, settings, ranges = self._scorer()
        open_ = {p["name"]: p for p in self._proposals() if p["open"]}
        out = {}
        for row in rows:
            cells = _parse_records([row])
            assert cells is not None  # one record, one or more cells
            cell = next(iter(cells))
            try:
                design = scorer.design_of_card(cell.card)
            except CardError:
                continue
            values = scorer.score(design)
            value = objective_value(values, settings.objective, settings.quantile)
            violations = constraints(values, settings, ranges)
            o = cell.outcome
            outcome = {"cracked": o.cracked, "cycles": o.cycles,
                       "short_cycle": list(o.short) if o.short else None}
            out[row["key"]] = {"built": {k: {"value": float(v), "unit": term(k).unit} for k, v in design.items()},
                               "objective": value, "outcome": outcome}
            p = open_.get(row["proposal"] or "")
            if p is None:
                continue
            trial_id = self.study._storage.get_trial_id_from_study_id_trial_number(self.study._study_id, p["number"])
            self.study._storage.set_trial_user_attr(trial_id, "constraints", violations)
            self.study._storage.set_trial_user_attr(trial_id, "outcome", outcome)
            self.study._storage.set_trial_user_attr(trial_id, "built", design)
            try:
                self.study.tell(p["number"], value if math.isfinite(value) else None,
                                state=None if math.isfinite(value) else optuna.trial.TrialState.FAIL)
            except (RuntimeError, ValueError):
                continue  # told meanwhile by another record of the same proposal
            del open_[p["name"]]
        return out

    # -- recalibrate -----------------------------------------------------------------------------
    def recalibrate(self, *, recalibration: str = "auto", nuts: dict | None = None, seed: int | None = None,
                    progress: bool = False) -> dict:
        """Fold every record the current posterior does not cover into a new posterior (stored)."""
        from ..inference.risk.calibrate import calibrate_risks, observed_range
        from ..priors.risk import load_risk_observations

        records = self._records()
        current = self._current_posterior()
        covered = set(current["records"]) if current else set()
        new = [r for r in records if r["key"] not in covered]
        if not new:
            return {**self._posterior_json(current), "notes": []}
        notes: list[str] = []
        if seed is None:  # the campaign's own: the same records choose and draw the same way
            seed = records_.recalibration_seed(self.name, new)
        rng = np.random.default_rng(seed)
        # The draws of the posterior that `covered` describes, not whatever is current by now (a
        # posterior stored meanwhile by another process may cover some of `new` already).
        prior_draws = (decode_draws(self.study.user_attrs[current["key"]]["draws"]) if current
                       else _shipped_risk().draws)
        all_cells = _parse_records(records)
        new_cells = _parse_records(new)
        assert all_cells is not None and new_cells is not None  # there are new records
        # What the posterior predicted for the new cells before they enter it (design/calibration.py);
        # where they surprise it, it is widened first: it was overconfident about this lab.
        check = calibration(prior_draws, new_cells, float(self.decision.operating.cycles), rng)
        for line in calibration_words(check):
            records_.say(progress, line)
        if check["surprise"]["surprised"]:
            prior_draws = widen(prior_draws, WIDEN)
            notes.append(f"the new cells were less probable under the posterior than its own predictive allows "
                         f"({_surprise_words(check)}): its spread was widened {WIDEN:g} times (a power "
                         f"{1 / WIDEN ** 2:.2f} of it) before they entered")
        check["widened"] = WIDEN if check["surprise"]["surprised"] else 1.0
        check["rounds"] = sorted({r["round"] for r in new})
        method, gate = "nuts", dict[str, Any]()
        draws = None
        if recalibration == "nuts":
            reason = "NUTS asked for (recalibration='nuts')"
        else:
            if recalibration in ("auto", "reweight"):
                records_.say(progress, f"reweighting the posterior by {int(sum(c.count for c in new_cells))} new "
                                       "cell(s) (PSIS)")
                draws, gate = reweight(prior_draws, new_cells, rng)
                accepted, reason = gate_words(gate)
                method = "reweighting"
                if not accepted and recalibration == "reweight":
                    notes.append(f"the reweighting fails its gate (k-hat {gate['k_hat']:.2f}, ESS {gate['ess']:.0f}, "
                                 f"{gate['distinct']} distinct draws): recalibrate with sequential Monte Carlo "
                                 "(recalibration='smc') or NUTS (recalibration='nuts')")
            if recalibration == "smc" or (recalibration == "auto" and not accepted):
                records_.say(progress, (f"{reason}; " if recalibration == "auto" else "")
                             + "sequential Monte Carlo from the posterior (tempered likelihood, Liu-West moves)")
                draws, gate = temper(prior_draws, new_cells, rng,
                                     progress=(lambda line: records_.say(True, line)) if progress else None)
                accepted, reason = temper_words(gate)
                method = "smc"
                if not accepted and recalibration == "auto":
                    draws = None
                elif not accepted:
                    notes.append(f"{reason}: recalibrate with NUTS (recalibration='nuts')")
        if draws is None:
            settings = dict(nuts or {})
            lab_cells = int(sum(c.count for c in all_cells))
            estimate = records_.nuts_estimate_s(lab_cells, settings)
            records_.say(progress, f"{reason}; NUTS on the paper's cells and {lab_cells} lab cell(s), "
                                   f"{records_.duration_words(estimate)} (a rough estimate from the 2-core benchmark)")
            result = calibrate_risks(observations=all_cells, with_paper=True, seed=seed, progress=progress, **settings)
            draws = result.risk_model().draws
            gate = {"diagnostics": result.diagnostics.to_json(), "nuts_estimate_s": round(estimate)}
            notes.extend(result.warnings)
            method = "nuts"
        else:
            records_.say(progress, f"{reason}; kept")
        gate = {**gate, "reason": reason, "seed": seed}
        from ..inference.risk.predict import RiskModel

        cells = load_risk_observations() + all_cells
        ranges = observed_range(cells)
        model = RiskModel(draws)
        entry = {"records": sorted(r["key"] for r in records), "method": method, "gate": gate, "calibration": check,
                 "fingerprint": model.fingerprint, "observed_range": ranges, "lab": self.name,
                 "parameters": parameter_summary(draws), "created": _now(),
                 "cells": int(sum(c.count for c in all_cells)),
                 "rounds": sorted({r["round"] for r in records}), "draws": encode_draws(draws)}
        key = f"{POSTERIOR_PREFIX}{uuid.uuid4().hex}"
        self.study.set_user_attr(key, entry)
        self._risk_cache = None
        return {**self._posterior_json({**entry, "key": key}), "notes": notes}

    def _posterior_json(self, entry: dict | None) -> dict:
        if entry is None:
            shipped = _shipped_risk()
            return {"key": "shipped", "method": "shipped", "records": [], "fingerprint": shipped.fingerprint,
                    "parameters": parameter_summary(shipped.draws)}
        keep = ("key", "method", "gate", "fingerprint", "records", "parameters", "created", "cells", "rounds",
                "calibration")
        return {k: entry[k] for k in keep if k in entry}

    # -- status ----------------------------------------------------------------------------------
    @_storage_guarded
    def status(self) -> StatusResult:
        """Rounds, proposals and outcomes, the posterior after each recalibration, and the best
        cell (recorded or proposed, feasible, highest objective under the current posterior)."""
        proposals = self._proposals()
        records = self._records()
        rounds = sorted({p["round"] for p in proposals} | {r["round"] for r in records})
        checks = [p["calibration"] for p in self._posteriors() if p.get("calibration")]
        table = [{"round": r, "proposed": sum(1 for p in proposals if p["round"] == r),
                  "recorded": sum(1 for x in records if x["round"] == r),
                  "open": sum(1 for p in proposals if p["round"] == r and p["open"]),
                  "calibration": round_calibration([c for c in checks if r in c.get("rounds", [])]) or None}
                 for r in rounds]
        scorer, settings, ranges = self._scorer()
        candidates = [("proposed", p["name"], p["design_values"]) for p in proposals if p["open"]]
        candidates += [("recorded", b["name"], b["design"]) for b in self._built_designs(scorer)]
        best = None
        for source, name, design in candidates:
            entry = describe_design(scorer, settings, design, ranges=ranges)
            if entry["feasible"] and (best is None or entry["objective"] > best["objective"]):
                best = {"name": name, "source": source, **entry}
        notes = []
        if candidates and best is None:
            notes.append("no recorded or proposed cell meets the limits under the current posterior")
        pending = self._pending_records()
        waiting = {r["key"] for r in pending}
        if pending:
            notes.append(f"{len(pending)} record(s) are not yet in the posterior: "
                         f"{', '.join(r['name'] for r in pending)} ('nassb campaign recalibrate {self.name}' or the "
                         "next propose or record folds them in)")
        shipped = self._posterior_json(None)
        posteriors = [{"index": 0, "method": "shipped", "records": 0, "rounds": [], "fingerprint":
                       shipped["fingerprint"], "parameters": shipped["parameters"]}]
        for i, p in enumerate(self._posteriors()):
            posteriors.append({"index": i + 1, "method": p["method"], "records": len(p["records"]),
                               "rounds": p.get("rounds", []), "created": p["created"],
                               "fingerprint": p["fingerprint"], "parameters": p["parameters"]})
        document = {"campaign": self.name, "storage": self.storage, "card": self.study.user_attrs["nassb_card"],
                    "settings": {**self.design_settings(), "description": describe(settings),
                                 "rate": rate_words(settings)},
                    "rounds": table, "recorded": len(records),
                    "cells": int(sum(r.get("count", 1) for r in records)), "best": best,
                    "proposals": [{k: v for k, v in p.items() if k not in ("number", "card_toml")}
                                  | {"trial": p["number"]} for p in proposals],
                    "records": [{k: r.get(k) for k in ("key", "name", "round", "proposal", "file", "where", "count",
                                                       "recorded")} | {"in_posterior": r["key"] not in waiting}
                                for r in records],
                    "pending": [r["name"] for r in pending],
                    "posteriors": posteriors}
        return StatusResult(document, notes)


def _surprise_words(check: dict) -> str:
    s = check["surprise"]
    return ", ".join(f"{what} {p:.3f}" for what, p in (("events", s["events"]), ("intervals", s["intervals"]))
                     if p is not None) + " probable or less"


def _shipped_risk():
    from ..inference.risk.predict import RiskModel

    return RiskModel.load()


def _open_storage(url: str):
    from .study import _storage

    return _storage(url, heartbeat=False)


def _write_text(path: Path, text: str) -> None:
    from ..priors.files import atomic_target

    with atomic_target(path) as tmp:
        Path(tmp).write_text(text, "utf-8")


def _write_cards(folder: Path, cards: list[tuple[str, str]]) -> None:
    """Write the proposal cards (file name, text) into ``folder``, all or none: a file of that
    name there already, a full disk or no permission is one OptionError naming the folder or the
    file, and what was written (the folder too, where this made it) is removed again."""
    import errno
    import shutil

    taken = [folder / name for name, _ in cards if (folder / name).exists()]
    if taken:
        raise OptionError(f"{taken[0]} exists: choose an empty folder", field="out")
    top = None if folder.exists() else folder  # the first folder this makes, removed on failure
    while top is not None and not top.parent.exists():
        top = top.parent
    written: list[Path] = []
    where = folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in cards:
            where = folder / name
            _write_text(where, text)
            written.append(where)
    except OSError as err:
        for path in written:
            path.unlink(missing_ok=True)
        if top is not None:
            shutil.rmtree(top, ignore_errors=True)
        if err.errno == errno.ENOSPC:
            raise OptionError(f"no space left on the device of {where}: no proposal was made", field="out") from None
        raise OptionError(f"cannot write {where}: {err.strerror or err}; no proposal was made", field="out") from None


def list_campaigns(storage: str = DEFAULT_STORAGE) -> list[str]:
    """The campaigns in a storage, by name."""
    import warnings

    import optuna

    if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).is_file():
        raise OptionError(f"no such campaign file {storage[len('sqlite:///'):]!r}", field="storage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summaries = optuna.get_all_study_summaries(storage=_open_storage(storage), include_best_trial=False)
    return [s.study_name for s in summaries if s.user_attrs.get(FLAG) == 1]


__all__ = [
    "DEFAULT_STORAGE",
    "Campaign",
    "ProposalResult",
    "RecordResult",
    "StatusResult",
    "list_campaigns",
    "reweight",
]
