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

A recalibration (:mod:`.campaign_recalibrate`, whose docstring tells how) checks the posterior
against the new cells, widens it where they surprise it, and folds them in: PSIS reweighting,
tempered SMC, or NUTS where their gates fail, the first two moved by Metropolis steps.
The pieces live beside this module: the storage (:mod:`.campaign_store`), the records
(:mod:`.campaign_records`), the batch (:mod:`.campaign_propose`), the cards (:mod:`.campaign_cards`),
the status (:mod:`.campaign_status`) and the results (:mod:`.campaign_results`).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..priors import CardError, CellCard, OptionError, load_card
from ..priors.secrets import mask_url
from ..priors.vocabulary import term
from . import campaign_propose as propose_
from . import campaign_records as records_
from . import campaign_store as store
from . import extrapolation
from .campaign_cards import proposal_card, write_cards
from .campaign_recalibrate import recalibrate
from .campaign_results import RESUMED, ProposalResult, RecordResult, StatusResult
from .campaign_status import status_document
from .campaign_store import (DEFAULT_STORAGE, FLAG, POSTERIOR_PREFIX, decode_draws, encode_draws,  # noqa: F401
                             ask_fixed, list_campaigns, now, open_storage, parameter_summary, shipped_risk,
                             storage_guarded)
from .decision import DEFAULTS, KEYS, Decision
from .recalibration import (K_HAT_LIMIT, LAB_DRAWS_PER_DRAW, LIU_WEST_A, MIN_DISTINCT, MIN_ESS,  # noqa: F401
                            reweight)  # the recalibration's gate and kernel, imported from here as before
from .recalibration import liu_west as _liu_west  # noqa: F401
from .score import DesignScorer
from .space import DesignSpace
from .study import (
    QUANTITY_OF,
    SearchSettings,
    describe,
    describe_design,
    make_scorer,
    objective_value,
)

RECORD_PREFIX = records_.RECORD_PREFIX
RECALIBRATIONS = ("auto", "smc", "reweight", "nuts")
DIVERSITY = 0.15
"""Proposals of one batch differ by at least this fraction of a variable's range (log-scaled
where the search is), and from every proposal still being built."""
SEARCH_TRIALS = 200
EXPLORE = 1
"""Cells of a batch chosen for their expected gain rather than as the next best (at most k - 1)."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


# -- the campaign ---------------------------------------------------------------------------------

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

    def __init__(self, name: str, storage: str, study, card: CellCard, settings: dict, *, optuna_storage=None):
        self.name, self._url, self.study, self.card = name, storage, study, card
        # the RDBStorage the study was opened with: Optuna's public storage API, for the trials
        # this process did not ask and the records' one transaction (:mod:`.campaign_store`)
        self.optuna_storage = optuna_storage if optuna_storage is not None else open_storage(storage)
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
        DesignScorer(card, shipped_risk(), cycles=op.cycles, c_rate=op.c_rate, current=op.current)
        origin = str(Path(card.origin).resolve()) if Path(card.origin).is_file() else card.origin
        from .study import _quiet_optuna

        _quiet_optuna()
        storage_ = open_storage(storage)
        try:
            study = optuna.create_study(study_name=name, storage=storage_, direction="maximize")
        except optuna.exceptions.DuplicatedStudyError:
            raise OptionError(f"a campaign or study {name!r} exists in {mask_url(storage)}; open it or choose "
                              "another name", field="name") from None
        store.mark_campaign(study, origin, card.sha256, stored)
        return cls(name, storage, study, card, stored, optuna_storage=storage_)

    @classmethod
    def open(cls, name: str, storage: str = DEFAULT_STORAGE) -> Campaign:
        """An existing campaign; an unknown name or a study that is not a campaign is an OptionError."""
        import optuna

        if storage.startswith("sqlite:///") and not Path(storage[len("sqlite:///"):]).is_file():
            raise OptionError(f"no such campaign file {storage[len('sqlite:///'):]!r}", field="storage")
        storage_ = open_storage(storage)
        try:
            study = optuna.load_study(study_name=name, storage=storage_)
        except KeyError:
            raise OptionError(f"no campaign {name!r} in {mask_url(storage)}", field="name") from None
        attrs = store.campaign_of(study)
        if attrs is None:
            raise OptionError(f"{name!r} in {mask_url(storage)} is not a campaign (nassb campaign start makes one)",
                              field="name")
        card = load_card(attrs["card"])
        if card.sha256 != attrs["card_sha256"]:
            raise OptionError(f"the card {attrs['card']} changed since the campaign started", field="name")
        return cls(name, storage, study, card, attrs["settings"], optuna_storage=storage_)

    # -- what the value-of-information engine reads ----------------------------------------------
    def design_settings(self) -> dict:
        """The :func:`~nassb.design.run.run_design` keyword settings the campaign was started with
        (``current`` in mA/cm^2, or None)."""
        # A campaign started before the readings held its limits under the observations file's reading.
        stored = {"hold": "file", **self._settings}
        return {k: stored.get(k, DEFAULTS[k]) for k in KEYS}

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
            return shipped_risk()
        if self._risk_cache is None or self._risk_cache[0] != entry["key"]:
            from ..inference.risk.predict import RiskModel

            draws = store.posterior_draws(self.study, entry["key"])
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
        return store.stored_records(self.study)

    def _posteriors(self) -> list[dict]:
        return store.stored_posteriors(self.study)

    def _current_posterior(self) -> dict | None:
        posts = self._posteriors()
        return posts[-1] if posts else None

    def _proposals(self) -> list[dict]:
        import optuna

        out = []
        for t in self.study.get_trials(deepcopy=False):
            a = store.proposal_of(t)
            if a is None:
                continue  # asked, but killed before it was named: nothing was written for it
            out.append({"number": t.number, "name": a["name"], "round": a["round"], "design_values": a["design_values"],
                        "card_toml": a["card_toml"], "quantities": a["quantities"], "card_file": a["card_file"],
                        "open": t.state == optuna.trial.TrialState.RUNNING,
                        "value": t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
                        "outcome": a["outcome"], "exploration": a["exploration"], "expected_gain": a["expected_gain"]})
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
        cells = records_.parse_records(self._records())
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
    @storage_guarded
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
        from .leave_out import leave_out
        from .readings import readings_of

        folder = propose_.checked_options(k, out, trials, diversity, explore)
        notes: list[str] = []
        pending = self._pending_records()
        if pending:
            self.resume(progress=progress)  # and the proposals they answer told
            notes.append(f"{len(pending)} record(s) not yet in the posterior were folded in first")
        risk = self.risk_model()
        scorer, settings, ranges = self._scorer(risk)
        space = self._space(scorer, settings, ranges)
        candidates = propose_.search(space, scorer, settings, ranges, trials, seed, progress)
        building = [p["design_values"] for p in self._proposals() if p["open"]]
        chosen, labels, gains = propose_.batch(scorer, settings, space, candidates, building, k, diversity, explore,
                                               notes)
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
            write_cards(folder, [(f"{name}.toml", text) for name, _, _, text in described])
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
        store.name_proposal(trial, design, round_=round_, quantities=entry["quantities"], card_toml=text,
                            card_file=file, objective=entry["objective"],
                            posterior=posterior["key"] if posterior else "shipped", exploration=entry["exploration"],
                            expected_gain=entry["expected_gain"], name=name)
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
        return ask_fixed(self.study, design, space)

    def card_text(self, name: str, design: dict, scorer: DesignScorer, entry: dict | None = None) -> str:
        """The card file of a proposal: the campaign's card as ``base`` and the layers to build
        (cathode thickness, porosity or loading, capacity, separator, reservoir, pressure)."""
        return proposal_card(name, design, scorer, entry, campaign=self.name,
                             base=store.card_of(self.study), settings=describe(self.search_settings()),
                             energy=QUANTITY_OF[self._settings["objective"]])

    # -- record --------------------------------------------------------------------------------
    @storage_guarded
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
        label = str(observations)
        rows = records_.record_rows(Path(observations), label, {p["name"]: p for p in self._proposals()},
                                    existing={r["sha256"] for r in self._records()},
                                    pending={r["sha256"] for r in self._pending_records()}, campaign=self.name)
        records_.parse_records(rows)  # the stored text reads back on its own: checked before anything is stored
        # all at once, each key once: the storage refuses a twin
        store.store_records(self.optuna_storage, self.study, rows, label)
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

    @storage_guarded
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
        """Tell the proposals the rows answer (:func:`~nassb.design.campaign_records.tell`)."""
        return records_.tell(self, rows)

    # -- recalibrate -----------------------------------------------------------------------------
    def recalibrate(self, *, recalibration: str = "auto", nuts: dict | None = None, seed: int | None = None,
                    progress: bool = False) -> dict:
        """Fold every record the current posterior does not cover into a new posterior (stored);
        :func:`~nassb.design.campaign_recalibrate.recalibrate`."""
        return recalibrate(self, recalibration=recalibration, nuts=nuts, seed=seed, progress=progress)

    def _posterior_json(self, entry: dict | None) -> dict:
        if entry is None:
            shipped = shipped_risk()
            return {"key": "shipped", "method": "shipped", "records": [], "fingerprint": shipped.fingerprint,
                    "parameters": parameter_summary(shipped.draws)}
        keep = ("key", "method", "gate", "fingerprint", "records", "parameters", "created", "cells", "rounds",
                "calibration")
        return {k: entry[k] for k in keep if k in entry}

    # -- status ----------------------------------------------------------------------------------
    @storage_guarded
    def status(self) -> StatusResult:
        """Rounds, proposals and outcomes, the posterior after each recalibration, and the best
        cell (recorded or proposed, feasible, highest objective under the current posterior)."""
        document, notes = status_document(self)
        return StatusResult(document, notes)


__all__ = [
    "DEFAULT_STORAGE",
    "Campaign",
    "ProposalResult",
    "RecordResult",
    "StatusResult",
    "list_campaigns",
    "reweight",
]
